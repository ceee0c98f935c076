// Package pb walks protobuf messages stored in a file without decoding them
// into memory. ONNX models reach 2 GB with their weights inline and
// TensorFlow SavedModels can be large too, so the format parsers visit a
// message region [off, end) field by field: a scalar field gives its value,
// a length-delimited field gives only its (offset, length), and the caller
// decides whether to recurse into it as a sub-message, read a small value
// with a cap, or skip it. Reads go through one buffered window over the
// io.ReaderAt, so walking millions of small fields costs few system calls
// and memory stays at the window size whatever the file size.
//
// Every length is checked against the enclosing region before it is used.
// Groups (wire types 3 and 4, unused by ONNX and TensorFlow but accepted by
// protobuf runtimes as unknown fields) are skipped with a nesting cap.
// Recursion into sub-messages is the caller's, and the caller bounds it.
package pb

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// WindowSize is the size of the read window.
const WindowSize = 64 << 10

// maxGroupNesting bounds nested groups inside a skipped group.
const maxGroupNesting = 64

// Error is a malformed-input or read error at a file offset.
type Error struct {
	Off int64
	Msg string
	Err error // the underlying read error, if any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("protobuf: %s at offset %d: %v", e.Msg, e.Off, e.Err)
	}
	return fmt.Sprintf("protobuf: %s at offset %d", e.Msg, e.Off)
}

func (e *Error) Unwrap() error { return e.Err }

// IsReadError tells an I/O failure from malformed content.
func IsReadError(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Err != nil
}

func errAt(off int64, format string, args ...any) error {
	return &Error{Off: off, Msg: fmt.Sprintf(format, args...)}
}

// Field is one field of a message. For BytesType (LEN) fields Start and Len
// locate the value; the value itself is not read.
type Field struct {
	Num    protowire.Number
	Type   protowire.Type
	Offset int64  // offset of the tag
	Value  uint64 // VarintType, Fixed32Type, Fixed64Type
	Start  int64  // BytesType and StartGroupType: first byte of the value
	Len    int64  // BytesType and StartGroupType: length of the value
}

// End is the offset just after the field's value.
func (f Field) End() int64 {
	switch f.Type {
	case protowire.BytesType:
		return f.Start + f.Len
	case protowire.StartGroupType:
		return f.Start + f.Len // includes the end-group tag
	}
	return f.Start
}

// IsLen reports whether f is a length-delimited field (string, bytes,
// sub-message or packed scalars).
func (f Field) IsLen() bool { return f.Type == protowire.BytesType }

// Reader reads fields from an io.ReaderAt of a known size through a window.
type Reader struct {
	ra     io.ReaderAt
	size   int64
	buf    []byte
	bufOff int64 // file offset of buf[0]
	reads  int64
}

// NewReader returns a Reader over ra, whose length is size.
func NewReader(ra io.ReaderAt, size int64) *Reader {
	if size < 0 {
		size = 0
	}
	return &Reader{ra: ra, size: size}
}

// Size is the length of the underlying file.
func (r *Reader) Size() int64 { return r.size }

// Reads is how many ReadAt calls the Reader made (for tests and benchmarks).
func (r *Reader) Reads() int64 { return r.reads }

// window returns the bytes at [off, off+n) (n ≤ WindowSize, off+n ≤ size),
// refilling the window when they are not all in it. The slice may extend
// beyond n, up to the window's end.
func (r *Reader) window(off int64, n int) ([]byte, error) {
	if off >= r.bufOff && off+int64(n) <= r.bufOff+int64(len(r.buf)) {
		return r.buf[off-r.bufOff:], nil
	}
	want := int64(WindowSize)
	if rem := r.size - off; rem < want {
		want = rem
	}
	if want < int64(n) || off < 0 {
		return nil, errAt(off, "read beyond end of file")
	}
	if cap(r.buf) < WindowSize {
		r.buf = make([]byte, WindowSize)
	}
	r.buf = r.buf[:want]
	r.reads++
	m, err := r.ra.ReadAt(r.buf, off)
	if m < int(want) {
		r.buf = r.buf[:0]
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, &Error{Off: off + int64(m), Msg: "read failed", Err: err}
	}
	r.bufOff = off
	return r.buf, nil
}

// Iter walks the fields of one message region.
type Iter struct {
	r        *Reader
	pos, end int64
	f        Field
	err      error
}

// Fields returns an iterator over the fields in [off, end). A region that
// does not fit in the file is an error on the first Next.
func (r *Reader) Fields(off, end int64) Iter {
	it := Iter{r: r, pos: off, end: end}
	if off < 0 || end < off || end > r.size {
		it.err = errAt(off, "message region [%d, %d) outside the file (size %d)", off, end, r.size)
		it.pos = end
	}
	return it
}

// Field is the current field, valid after Next returned true.
func (it *Iter) Field() Field { return it.f }

// Err is the error that stopped the walk, or nil at a clean end.
func (it *Iter) Err() error { return it.err }

// Pos is the offset of the next field.
func (it *Iter) Pos() int64 { return it.pos }

// Next advances to the next field. It returns false at the end of the
// region or on an error (see Err).
func (it *Iter) Next() bool {
	if it.err != nil || it.pos >= it.end {
		return false
	}
	f, err := it.r.readField(it.pos, it.end)
	if err != nil {
		it.err = err
		it.pos = it.end
		return false
	}
	it.f = f
	it.pos = f.End()
	return true
}

// readField decodes the field whose tag is at pos, within [pos, end).
func (r *Reader) readField(pos, end int64) (Field, error) {
	head := end - pos
	if head > 20 {
		head = 20 // a tag (≤5 bytes) and a varint (≤10 bytes) fit in 20
	}
	b, err := r.window(pos, int(head))
	if err != nil {
		return Field{}, err
	}
	if int64(len(b)) > end-pos {
		b = b[:end-pos]
	}
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return Field{}, errAt(pos, "bad field tag: %v", protowire.ParseError(n))
	}
	f := Field{Num: num, Type: typ, Offset: pos}
	b = b[n:]
	p := pos + int64(n)
	switch typ {
	case protowire.VarintType:
		v, m := protowire.ConsumeVarint(b)
		if m < 0 {
			return Field{}, errAt(p, "bad varint in field %d: %v", num, protowire.ParseError(m))
		}
		f.Value, f.Start = v, p+int64(m)
	case protowire.Fixed32Type:
		v, m := protowire.ConsumeFixed32(b)
		if m < 0 {
			return Field{}, errAt(p, "truncated fixed32 in field %d", num)
		}
		f.Value, f.Start = uint64(v), p+int64(m)
	case protowire.Fixed64Type:
		v, m := protowire.ConsumeFixed64(b)
		if m < 0 {
			return Field{}, errAt(p, "truncated fixed64 in field %d", num)
		}
		f.Value, f.Start = v, p+int64(m)
	case protowire.BytesType:
		v, m := protowire.ConsumeVarint(b)
		if m < 0 {
			return Field{}, errAt(p, "bad length in field %d: %v", num, protowire.ParseError(m))
		}
		start := p + int64(m)
		if v > uint64(end-start) {
			return Field{}, errAt(p, "field %d declares %d bytes but only %d remain in its message", num, v, end-start)
		}
		f.Start, f.Len = start, int64(v)
	case protowire.StartGroupType:
		gend, err := r.skipGroup(p, end, num)
		if err != nil {
			return Field{}, err
		}
		f.Start, f.Len = p, gend-p
	case protowire.EndGroupType:
		return Field{}, errAt(pos, "end-group tag for field %d without a start", num)
	default:
		return Field{}, errAt(pos, "reserved wire type %d in field %d", typ, num)
	}
	return f, nil
}

// skipGroup finds the end of the group opened by field num, whose content
// starts at pos; it returns the offset after the matching end-group tag.
// Nested groups are tracked on a small explicit stack, never by recursion.
func (r *Reader) skipGroup(pos, end int64, num protowire.Number) (int64, error) {
	stack := []protowire.Number{num}
	for pos < end {
		f, err := r.readFieldNoGroup(pos, end)
		if err != nil {
			return 0, err
		}
		switch f.Type {
		case protowire.StartGroupType:
			if len(stack) >= maxGroupNesting {
				return 0, errAt(pos, "groups nested more than %d deep", maxGroupNesting)
			}
			stack = append(stack, f.Num)
		case protowire.EndGroupType:
			if f.Num != stack[len(stack)-1] {
				return 0, errAt(pos, "end-group tag %d does not match start-group %d", f.Num, stack[len(stack)-1])
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return f.Start, nil
			}
		}
		pos = f.Start + f.Len
	}
	return 0, errAt(pos, "group %d not closed before the end of its message", num)
}

// readFieldNoGroup reads one field for skipGroup: group tags come back as
// bare tags (Start after the tag, Len 0) instead of being skipped.
func (r *Reader) readFieldNoGroup(pos, end int64) (Field, error) {
	head := end - pos
	if head > 20 {
		head = 20
	}
	b, err := r.window(pos, int(head))
	if err != nil {
		return Field{}, err
	}
	if int64(len(b)) > end-pos {
		b = b[:end-pos]
	}
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return Field{}, errAt(pos, "bad field tag: %v", protowire.ParseError(n))
	}
	if typ == protowire.StartGroupType || typ == protowire.EndGroupType {
		return Field{Num: num, Type: typ, Offset: pos, Start: pos + int64(n)}, nil
	}
	f, err := r.readField(pos, end)
	if err != nil {
		return Field{}, err
	}
	if f.Type != protowire.BytesType {
		f.Len = 0
	}
	return f, nil
}

// Bytes reads the value of a length-delimited field, at most max bytes of
// it; truncated says whether the value was longer.
func (r *Reader) Bytes(f Field, max int) (b []byte, truncated bool, err error) {
	if f.Type != protowire.BytesType {
		return nil, false, errAt(f.Offset, "field %d is not length-delimited", f.Num)
	}
	return r.ReadRange(f.Start, f.Len, max)
}

// ReadRange reads [off, off+n) but at most max bytes.
func (r *Reader) ReadRange(off, n int64, max int) (b []byte, truncated bool, err error) {
	if max < 0 {
		max = 0
	}
	if n < 0 || off < 0 || off > r.size || n > r.size-off {
		return nil, false, errAt(off, "range of %d bytes beyond end of file", n)
	}
	if n > int64(max) {
		n, truncated = int64(max), true
	}
	if n == 0 {
		return []byte{}, truncated, nil
	}
	if n <= WindowSize {
		w, err := r.window(off, int(n))
		if err != nil {
			return nil, false, err
		}
		out := make([]byte, n)
		copy(out, w)
		return out, truncated, nil
	}
	out := make([]byte, n)
	r.reads++
	m, err := r.ra.ReadAt(out, off)
	if int64(m) < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, &Error{Off: off + int64(m), Msg: "read failed", Err: err}
	}
	return out, truncated, nil
}

// String reads a string field, at most max bytes; see Bytes.
func (r *Reader) String(f Field, max int) (string, bool, error) {
	if f.Type == protowire.BytesType && f.Len <= int64(max) && f.Len <= WindowSize && f.Start >= 0 && f.Len <= r.size-f.Start {
		if f.Len == 0 {
			return "", false, nil
		}
		// Straight from the window: one allocation, not two.
		w, err := r.window(f.Start, int(f.Len))
		if err != nil {
			return "", false, err
		}
		return string(w[:f.Len]), false, nil
	}
	b, t, err := r.Bytes(f, max)
	return string(b), t, err
}

// Varints calls fn for each varint packed in the length-delimited field f
// until fn returns false.
func (r *Reader) Varints(f Field, fn func(v uint64) bool) error {
	if f.Type != protowire.BytesType {
		return errAt(f.Offset, "field %d is not length-delimited", f.Num)
	}
	pos, end := f.Start, f.Start+f.Len
	for pos < end {
		head := end - pos
		if head > 10 {
			head = 10
		}
		b, err := r.window(pos, int(head))
		if err != nil {
			return err
		}
		if int64(len(b)) > end-pos {
			b = b[:end-pos]
		}
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return errAt(pos, "bad packed varint in field %d: %v", f.Num, protowire.ParseError(n))
		}
		pos += int64(n)
		if !fn(v) {
			return nil
		}
	}
	return nil
}

// Printable reports whether b is valid UTF-8 without control characters
// (tab excepted): what a name or identifier looks like, and what a nested
// message's tag bytes rarely look like.
func Printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// Describe turns a walk error into a finding's offset and message: read
// failures say the file was not fully checked, malformed content that the
// format cannot be parsed.
func Describe(err error, format string) (off int64, msg string) {
	off = -1
	var pe *Error
	if errors.As(err, &pe) {
		off = pe.Off
	}
	if IsReadError(err) {
		return off, "the file could not be read (" + err.Error() + "); it was not fully checked"
	}
	return off, "the " + format + " protobuf cannot be parsed (" + err.Error() + "); a model that cannot be read cannot be vouched for"
}

// Climbs reports whether a relative path leaves its folder through ".."
// segments ('/' and '\' both separate, as Windows runtimes honour either).
// With lastOpen, the last segment may continue in an unknown suffix and is
// not counted.
func Climbs(p string, lastOpen bool) bool {
	depth := 0
	segs := strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' })
	for i, seg := range segs {
		if lastOpen && i == len(segs)-1 {
			break
		}
		switch seg {
		case ".":
		case "..":
			if depth--; depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}
