package pb

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func walkAll(t testing.TB, data []byte) ([]Field, error) {
	r := NewReader(bytes.NewReader(data), int64(len(data)))
	it := r.Fields(0, int64(len(data)))
	var out []Field
	for it.Next() {
		out = append(out, it.Field())
	}
	return out, it.Err()
}

func TestWalkScalarsAndLen(t *testing.T) {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 300)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, "hello")
	b = protowire.AppendTag(b, 3, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, 7)
	b = protowire.AppendTag(b, 4, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 1<<40)
	fs, err := walkAll(t, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 4 || fs[0].Value != 300 || fs[1].Len != 5 || fs[2].Value != 7 || fs[3].Value != 1<<40 {
		t.Fatalf("fields = %+v", fs)
	}
	r := NewReader(bytes.NewReader(b), int64(len(b)))
	s, trunc, err := r.String(fs[1], 3)
	if err != nil || s != "hel" || !trunc {
		t.Fatalf("String = %q %v %v", s, trunc, err)
	}
	s, trunc, err = r.String(fs[1], 10)
	if err != nil || s != "hello" || trunc {
		t.Fatalf("String = %q %v %v", s, trunc, err)
	}
}

func TestWalkErrors(t *testing.T) {
	huge := protowire.AppendTag(nil, 2, protowire.BytesType)
	huge = protowire.AppendVarint(huge, 1<<63)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"length beyond message", append(protowire.AppendTag(nil, 2, protowire.BytesType), 10, 'a'), "declares 10 bytes"},
		{"2^63 length", huge, "declares 9223372036854775808 bytes"},
		{"truncated varint", append(protowire.AppendTag(nil, 1, protowire.VarintType), 0x80), "bad varint"},
		{"field zero", []byte{0x00, 0x01}, "bad field tag"},
		{"reserved wire type", []byte{0x0e}, "reserved wire type"},
		{"stray end group", []byte{0x0c}, "end-group"},
		{"unclosed group", []byte{0x0b, 0x08, 0x01}, "not closed"},
		{"mismatched group", []byte{0x0b, 0x14}, "does not match"},
		{"truncated fixed32", []byte{0x0d, 1, 2}, "truncated fixed32"},
		{"truncated fixed64", []byte{0x09, 1, 2, 3}, "truncated fixed64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := walkAll(t, tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) || IsReadError(err) {
				t.Fatalf("not a malformed-content *Error: %#v", err)
			}
		})
	}
}

func TestGroupsSkipped(t *testing.T) {
	// field 1 group { field 2 varint, field 3 group { } }, then field 4 varint
	b := []byte{0x0b, 0x10, 0x05, 0x1b, 0x1c, 0x0c, 0x20, 0x07}
	fs, err := walkAll(t, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].Type != protowire.StartGroupType || fs[1].Num != 4 || fs[1].Value != 7 {
		t.Fatalf("fields = %+v", fs)
	}
	deep := bytes.Repeat([]byte{0x0b}, 100)
	deep = append(deep, bytes.Repeat([]byte{0x0c}, 100)...)
	if _, err := walkAll(t, deep); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("deep groups: err = %v", err)
	}
}

func TestRegionOutsideFile(t *testing.T) {
	r := NewReader(bytes.NewReader([]byte{8, 1}), 2)
	it := r.Fields(0, 10)
	if it.Next() || it.Err() == nil {
		t.Fatal("region beyond file accepted")
	}
}

// Fields that straddle the 64 KiB window boundary must decode correctly, and
// a big skipped field must not be read.
func TestWindowBoundaryAndSkip(t *testing.T) {
	var b []byte
	for len(b) < 3*WindowSize {
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		b = protowire.AppendString(b, "0123456789abc")
		b = protowire.AppendTag(b, 6, protowire.VarintType)
		b = protowire.AppendVarint(b, 1<<62)
	}
	fs, err := walkAll(t, b)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(b), int64(len(b)))
	for _, f := range fs {
		switch f.Num {
		case 5:
			s, _, err := r.String(f, 100)
			if err != nil || s != "0123456789abc" {
				t.Fatalf("at %d: %q %v", f.Offset, s, err)
			}
		case 6:
			if f.Value != 1<<62 {
				t.Fatalf("at %d: %d", f.Offset, f.Value)
			}
		}
	}

	// A 10 MB bytes field is skipped with a handful of reads.
	big := protowire.AppendTag(nil, 9, protowire.BytesType)
	big = protowire.AppendVarint(big, 10<<20)
	big = append(big, make([]byte, 10<<20)...)
	big = protowire.AppendTag(big, 1, protowire.VarintType)
	big = protowire.AppendVarint(big, 42)
	cr := &countingReader{r: bytes.NewReader(big)}
	r = NewReader(cr, int64(len(big)))
	it := r.Fields(0, int64(len(big)))
	n := 0
	for it.Next() {
		n++
	}
	if it.Err() != nil || n != 2 || cr.bytes > 2*WindowSize {
		t.Fatalf("n=%d err=%v bytes read=%d", n, it.Err(), cr.bytes)
	}
}

type countingReader struct {
	r     io.ReaderAt
	bytes int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.bytes += int64(n)
	return n, err
}

type failingReader struct{}

func (failingReader) ReadAt(p []byte, off int64) (int, error) { return 0, errors.New("disk on fire") }

func TestReadError(t *testing.T) {
	r := NewReader(failingReader{}, 100)
	it := r.Fields(0, 100)
	if it.Next() || !IsReadError(it.Err()) {
		t.Fatalf("err = %v", it.Err())
	}
}

func TestVarints(t *testing.T) {
	var packed []byte
	for _, v := range []uint64{1, 300, 1 << 50} {
		packed = protowire.AppendVarint(packed, v)
	}
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, packed)
	fs, err := walkAll(t, b)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(b), int64(len(b)))
	var got []uint64
	if err := r.Varints(fs[0], func(v uint64) bool { got = append(got, v); return true }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2] != 1<<50 {
		t.Fatalf("got %v", got)
	}
	bad := append(protowire.AppendTag(nil, 1, protowire.BytesType), 1, 0x80)
	fs, _ = walkAll(t, bad)
	r = NewReader(bytes.NewReader(bad), int64(len(bad)))
	if err := r.Varints(fs[0], func(uint64) bool { return true }); err == nil {
		t.Fatal("truncated packed varint accepted")
	}
}

func TestPrintable(t *testing.T) {
	for s, want := range map[string]bool{"pytorch": true, "tf2onnx 1.9": true, "\n\x05hello": false, "\xff": false, "": true} {
		if Printable([]byte(s)) != want {
			t.Errorf("Printable(%q) != %v", s, want)
		}
	}
}

// FuzzWalk walks every length-delimited field as a message, recursively to a
// fixed depth: it must never panic, and every field must lie in its region.
func FuzzWalk(f *testing.F) {
	f.Add([]byte{0x08, 0x07, 0x12, 0x03, 'a', 'b', 'c'})
	f.Add([]byte{0x0b, 0x10, 0x05, 0x1b, 0x1c, 0x0c, 0x20, 0x07})
	f.Add([]byte{0x3a, 0x04, 0x0a, 0x02, 0x08, 0x01})
	f.Add(append([]byte{0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 'x'))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), int64(len(data)))
		var walk func(off, end int64, depth int)
		walk = func(off, end int64, depth int) {
			it := r.Fields(off, end)
			for it.Next() {
				fl := it.Field()
				if fl.Offset < off || fl.End() > end || fl.End() <= fl.Offset {
					t.Fatalf("field %+v outside [%d,%d)", fl, off, end)
				}
				if fl.IsLen() && depth < 8 {
					if _, _, err := r.Bytes(fl, 64); err != nil {
						t.Fatalf("Bytes: %v", err)
					}
					walk(fl.Start, fl.End(), depth+1)
				}
			}
		}
		walk(0, int64(len(data)), 0)
	})
}
