package tzip

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

func open(t *testing.T, b []byte, lim Limits) *Archive {
	t.Helper()
	a, err := Open(bytes.NewReader(b), int64(len(b)), lim)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return a
}

// read reads a member fully and returns its bytes and the final error
// (nil at a clean EOF).
func read(t *testing.T, a *Archive, e *Entry) ([]byte, error) {
	t.Helper()
	m, err := a.Open(e)
	if err != nil {
		t.Fatalf("Open(%q): %v", e.Name, err)
	}
	return io.ReadAll(m)
}

func kinds(a *Archive) map[string]int {
	k := map[string]int{}
	for _, is := range a.IssueList() {
		k[is.Kind]++
	}
	return k
}

func wantKinds(t *testing.T, a *Archive, want ...string) {
	t.Helper()
	got := kinds(a)
	for _, w := range want {
		if got[w] == 0 {
			t.Errorf("no %s issue; issues: %v", w, a.IssueList())
		}
	}
}

func wantOnly(t *testing.T, a *Archive, want ...string) {
	t.Helper()
	wantKinds(t, a, want...)
	ok := map[string]bool{}
	for _, w := range want {
		ok[w] = true
	}
	for _, is := range a.IssueList() {
		if !ok[is.Kind] {
			t.Errorf("unexpected issue %v", is)
		}
	}
}

func entry(t *testing.T, a *Archive, name string, inCentral bool) *Entry {
	t.Helper()
	for i := range a.Entries {
		if e := &a.Entries[i]; e.Name == name && e.InCentral == inCentral {
			return e
		}
	}
	t.Fatalf("no entry %q (InCentral=%v) in %+v", name, inCentral, a.Entries)
	return nil
}

var pk = []byte("\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.")

func TestCleanArchivesMatchArchiveZip(t *testing.T) {
	files := []file{
		{"archive/data.pkl", pk, zip.Deflate},
		{"archive/data/0", bytes.Repeat([]byte("tensor"), 1000), zip.Store},
		{"archive/version", []byte("3\n"), zip.Deflate},
		{"empty", nil, zip.Store},
	}
	for name, b := range map[string][]byte{"descriptor": zipOf(files...), "raw": rawZipOf(files...)} {
		t.Run(name, func(t *testing.T) {
			a := open(t, b, Limits{})
			if is := a.IssueList(); len(is) != 0 {
				t.Fatalf("issues on a clean archive: %v", is)
			}
			if !a.Central || a.Prefix != 0 || a.BaseOffset != 0 || len(a.Entries) != len(files) {
				t.Fatalf("Central=%v Prefix=%d Base=%d entries=%d", a.Central, a.Prefix, a.BaseOffset, len(a.Entries))
			}
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			for i, zf := range zr.File {
				e := &a.Entries[i]
				do, _ := zf.DataOffset()
				if e.Name != zf.Name || e.LocalName != zf.Name || e.Index != i || !e.InCentral || e.DataOffset != do ||
					e.CompressedSize != int64(zf.CompressedSize64) || e.UncompressedSize != int64(zf.UncompressedSize64) || e.CRC32 != zf.CRC32 {
					t.Errorf("entry %d = %+v; archive/zip says %+v (data at %d)", i, e, zf.FileHeader, do)
				}
				got, err := read(t, a, e)
				if err != nil || !bytes.Equal(got, files[i].data) {
					t.Errorf("%s: read %d bytes, %v", e.Name, len(got), err)
				}
				raw, _ := io.ReadAll(a.Raw(e))
				if e.Method == zip.Store && !bytes.Equal(raw, files[i].data) {
					t.Errorf("%s: Raw of a stored member differs", e.Name)
				}
			}
			if is := a.IssueList(); len(is) != 0 {
				t.Fatalf("issues after reading: %v", is)
			}
			if a.BytesRead() == 0 {
				t.Error("BytesRead = 0")
			}
		})
	}
}

// CVE-2025-10156: a corrupted CRC must not cost the bytes.
func TestCRCCorruptedKeepsBytes(t *testing.T) {
	b := rawZipOf(file{"data.pkl", pk, zip.Store}, file{"z.pkl", pk, zip.Deflate})
	for _, r := range records(b) {
		put32(b, r.off+16, 0xdeadbeef)      // central
		put32(b, r.localOff+14, 0xdeadbeef) // local
	}
	a := open(t, b, Limits{})
	for i := range a.Entries {
		got, err := read(t, a, &a.Entries[i])
		if err != nil || !bytes.Equal(got, pk) {
			t.Fatalf("%s: %q, %v", a.Entries[i].Name, got, err)
		}
		if len(a.IssuesFor(a.Entries[i].Name)) != 1 {
			t.Errorf("%s: issues %v", a.Entries[i].Name, a.IssuesFor(a.Entries[i].Name))
		}
	}
	wantOnly(t, a, IssueCRCMismatch)
	// Reading again does not repeat the issue.
	_, _ = read(t, a, &a.Entries[0])
	if n := kinds(a)[IssueCRCMismatch]; n != 2 {
		t.Errorf("%d crc issues after a second read, want 2", n)
	}
}

// CVE-2025-1945: flag bits on a stored member; PyTorch reads it anyway.
func TestFlagBits(t *testing.T) {
	for _, tc := range []struct {
		name           string
		central, local uint16
	}{
		{"encrypted", 0x1, 0x1},
		{"patched", 0x20, 0x20},
		{"strong", 0x40, 0x40},
		{"local-only-bit", 0, 0x1},
		{"central-only-bit", 0x1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := rawZipOf(file{"archive/data.pkl", pk, zip.Store})
			r := records(b)[0]
			put16(b, r.off+8, tc.central)
			put16(b, r.localOff+6, tc.local)
			a := open(t, b, Limits{})
			e := &a.Entries[0]
			if e.Flags != tc.central || e.LocalFlags != tc.local || e.Encrypted() != ((tc.central|tc.local)&1 != 0) {
				t.Errorf("flags %04x/%04x Encrypted=%v", e.Flags, e.LocalFlags, e.Encrypted())
			}
			got, err := read(t, a, e)
			if err != nil || !bytes.Equal(got, pk) {
				t.Fatalf("read %q, %v", got, err)
			}
			wantOnly(t, a, IssueFlagBits)
		})
	}
}

// CVE-2025-1944: the local header names the member differently.
func TestNameMismatch(t *testing.T) {
	b := rawZipOf(file{"archive/data.pkl", pk, zip.Store})
	r := records(b)[0]
	copy(b[r.localOff+30:], "archive/evil.pkl")
	a := open(t, b, Limits{})
	if len(a.Entries) != 1 {
		t.Fatalf("%d entries", len(a.Entries))
	}
	e := &a.Entries[0]
	if e.Name != "archive/data.pkl" || e.LocalName != "archive/evil.pkl" {
		t.Errorf("Name %q LocalName %q", e.Name, e.LocalName)
	}
	if got, err := read(t, a, e); err != nil || !bytes.Equal(got, pk) {
		t.Errorf("read %q, %v", got, err)
	}
	wantOnly(t, a, IssueNameMismatch)
}

// Python's getinfo returns the last of two same-named entries; both must be
// listed and readable.
func TestDuplicateNames(t *testing.T) {
	for _, order := range []string{"malicious-first", "malicious-last"} {
		t.Run(order, func(t *testing.T) {
			x, y := pk, []byte("benign")
			if order == "malicious-last" {
				x, y = y, x
			}
			a := open(t, zipOf(file{"archive/data.pkl", x, zip.Deflate}, file{"archive/data.pkl", y, zip.Store}), Limits{})
			if len(a.Entries) != 2 {
				t.Fatalf("%d entries", len(a.Entries))
			}
			got0, err0 := read(t, a, &a.Entries[0])
			got1, err1 := read(t, a, &a.Entries[1])
			if err0 != nil || err1 != nil || !bytes.Equal(got0, x) || !bytes.Equal(got1, y) {
				t.Errorf("read %q %v / %q %v", got0, err0, got1, err1)
			}
			wantOnly(t, a, IssueDuplicateName)
		})
	}
}

// A6: a pickle before a zip (a polyglot), with and without the writer
// accounting for it in the offsets.
func TestPrefixData(t *testing.T) {
	files := []file{{"archive/data.pkl", []byte("inner"), zip.Deflate}, {"archive/x", []byte("x"), zip.Store}}
	for name, tc := range map[string]struct {
		b    []byte
		base int64
	}{
		"unadjusted": {append(append([]byte(nil), pk...), rawZipOf(files...)...), int64(len(pk))},
		"adjusted":   {append(append([]byte(nil), pk...), zipAt(int64(len(pk)), "", files...)...), 0},
		"empty-zip":  {append(append([]byte(nil), pk...), zipOf()...), int64(len(pk))},
	} {
		t.Run(name, func(t *testing.T) {
			a := open(t, tc.b, Limits{})
			if a.Prefix != int64(len(pk)) || a.BaseOffset != tc.base {
				t.Errorf("Prefix %d BaseOffset %d", a.Prefix, a.BaseOffset)
			}
			for i := range a.Entries {
				got, err := read(t, a, &a.Entries[i])
				if err != nil || !bytes.Equal(got, files[i].data) {
					t.Errorf("%s: %q %v", a.Entries[i].Name, got, err)
				}
			}
			wantOnly(t, a, IssuePrefixData)
		})
	}
}

func TestTrailingDataAndComment(t *testing.T) {
	files := []file{{"a", []byte("aaa"), zip.Deflate}}
	a := open(t, append(rawZipOf(files...), "junk after the end"...), Limits{})
	wantOnly(t, a, IssueTrailingData)
	if got, err := read(t, a, &a.Entries[0]); err != nil || string(got) != "aaa" {
		t.Errorf("read %q %v", got, err)
	}
	a = open(t, zipAt(0, "a real comment", files...), Limits{})
	if len(a.IssueList()) != 0 || a.Comment != "a real comment" {
		t.Errorf("comment %q issues %v", a.Comment, a.IssueList())
	}
}

// A central record removed: the walk of local headers still finds the
// member, whichever way its size is recorded.
func TestLocalOnlyEntry(t *testing.T) {
	for name, b := range map[string][]byte{
		"descriptor-deflate": zipOf(file{"a", []byte("aaa"), zip.Deflate}, file{"b", pk, zip.Deflate}, file{"c", []byte("ccc"), zip.Store}),
		"descriptor-stored":  zipOf(file{"a", []byte("aaa"), zip.Store}, file{"b", pk, zip.Store}, file{"c", []byte("ccc"), zip.Deflate}),
		"raw":                rawZipOf(file{"a", []byte("aaa"), zip.Store}, file{"b", pk, zip.Deflate}, file{"c", []byte("ccc"), zip.Store}),
	} {
		t.Run(name, func(t *testing.T) {
			a := open(t, dropCentral(b, 1), Limits{})
			if len(a.Entries) != 3 {
				t.Fatalf("%d entries: %+v", len(a.Entries), a.Entries)
			}
			e := entry(t, a, "b", false)
			if e.Index != -1 || e.CompressedSize < 0 {
				t.Errorf("entry %+v", e)
			}
			if got, err := read(t, a, e); err != nil || !bytes.Equal(got, pk) {
				t.Errorf("read %q %v", got, err)
			}
			for _, n := range []string{"a", "c"} {
				e := entry(t, a, n, true)
				if got, err := read(t, a, e); err != nil || string(got) != strings.Repeat(n, 3) {
					t.Errorf("%s: read %q %v", n, got, err)
				}
			}
			wantOnly(t, a, IssueLocalOnly)
		})
	}
}

// PyTorch-style: a second member with the same name that only the local
// headers show.
func TestLocalOnlySameName(t *testing.T) {
	b := dropCentral(rawZipOf(file{"archive/data.pkl", []byte("benign"), zip.Store}, file{"archive/data.pkl", pk, zip.Deflate}), 1)
	a := open(t, b, Limits{})
	c := entry(t, a, "archive/data.pkl", true)
	l := entry(t, a, "archive/data.pkl", false)
	gc, _ := read(t, a, c)
	gl, err := read(t, a, l)
	if string(gc) != "benign" || !bytes.Equal(gl, pk) || err != nil {
		t.Errorf("central %q local %q %v", gc, gl, err)
	}
	wantOnly(t, a, IssueLocalOnly)
	if is := a.IssuesFor("archive/data.pkl"); len(is) != 1 || !strings.Contains(is[0].Message, "same name") {
		t.Errorf("issues %v", is)
	}
}

func TestZip64(t *testing.T) {
	ab := []craftEntry{{name: "a", data: []byte("hello"), zip64: true}, {name: "b", data: []byte("world"), zip64: true}}
	t.Run("consistent", func(t *testing.T) {
		a := open(t, craft(ab, craftOpts{zip64End: true}), Limits{})
		if !a.Zip64 || len(a.Entries) != 2 || len(a.IssueList()) != 0 {
			t.Fatalf("Zip64 %v entries %d issues %v", a.Zip64, len(a.Entries), a.IssueList())
		}
		for i, want := range []string{"hello", "world"} {
			e := &a.Entries[i]
			if got, err := read(t, a, e); err != nil || string(got) != want || !e.Zip64 {
				t.Errorf("%s: %q %v zip64=%v", e.Name, got, err, e.Zip64)
			}
		}
		// archive/zip agrees.
		b := craft(ab, craftOpts{zip64End: true})
		if zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err != nil || len(zr.File) != 2 {
			t.Errorf("archive/zip: %v", err)
		}
	})
	t.Run("count-disagrees", func(t *testing.T) {
		a := open(t, craft(ab, craftOpts{zip64End: true, count32: ptr[uint16](1)}), Limits{})
		wantOnly(t, a, IssueZip64)
		if len(a.Entries) != 2 {
			t.Errorf("%d entries", len(a.Entries))
		}
	})
	t.Run("zip64-count-wrong", func(t *testing.T) {
		a := open(t, craft(ab, craftOpts{zip64End: true, count64: ptr[uint64](7)}), Limits{})
		wantOnly(t, a, IssueZip64)
	})
	t.Run("extra-too-short", func(t *testing.T) {
		e := []craftEntry{{name: "a", data: []byte("hello"), zip64: true, zip64Extra: []byte{5, 0, 0, 0, 0, 0, 0, 0}}}
		a := open(t, craft(e, craftOpts{}), Limits{})
		wantKinds(t, a, IssueZip64)
	})
	t.Run("no-extra", func(t *testing.T) {
		e := []craftEntry{{name: "a", data: []byte("hello"), zip64: true, zip64Extra: []byte{}}}
		b := craft(e, craftOpts{})
		// Change the zip64 extra's id so there is no zip64 field at all.
		r := records(b)[0]
		b[r.off+46+r.nameLen] = 0x99
		a := open(t, b, Limits{})
		wantKinds(t, a, IssueZip64)
	})
	t.Run("sentinel-without-locator", func(t *testing.T) {
		a := open(t, craft(ab[:1], craftOpts{zip64End: true, noLoc: true}), Limits{})
		wantKinds(t, a, IssueZip64)
	})
	t.Run("32-bit-view-differs", func(t *testing.T) {
		// The 32-bit end record points at the second central record only
		// (Go reads that); the zip64 record at the whole directory (miniz,
		// Python read that).
		b := craft(ab, craftOpts{zip64End: true})
		first := bytes.Index(b, []byte("PK\x01\x02"))
		second := first + 1 + bytes.Index(b[first+1:], []byte("PK\x01\x02"))
		b = craft(ab, craftOpts{zip64End: true, count32: ptr[uint16](1), size32: ptr(uint32(second - first)), offset32: ptr(uint32(second))})
		a := open(t, b, Limits{})
		wantOnly(t, a, IssueZip64)
		if len(a.Entries) != 2 || !a.Zip64 {
			t.Errorf("%d entries: %+v", len(a.Entries), a.Entries)
		}
	})
}

var (
	zerosOnce sync.Once
	zerosZip  []byte
)

// bombZip is a 64 MiB member of zeros (about 64 KiB compressed), built once.
func bombZip() []byte {
	zerosOnce.Do(func() {
		zerosZip = rawZipOf(file{"zeros", make([]byte, 64<<20), zip.Deflate}, file{"small", []byte("small"), zip.Store})
	})
	return zerosZip
}

func TestBomb(t *testing.T) {
	b := bombZip()
	t.Run("ratio", func(t *testing.T) {
		a := open(t, b, Limits{})
		m, _ := a.Open(&a.Entries[0])
		n, err := io.Copy(io.Discard, m)
		if !errors.Is(err, ErrBomb) || n <= 1<<20 || n > 2<<20 {
			t.Fatalf("copied %d, %v", n, err)
		}
		if _, err := m.Read(make([]byte, 10)); !errors.Is(err, ErrBomb) {
			t.Errorf("error not sticky: %v", err)
		}
		wantOnly(t, a, IssueBomb)
		// The other member is unaffected.
		if got, err := read(t, a, &a.Entries[1]); err != nil || string(got) != "small" {
			t.Errorf("read %q %v", got, err)
		}
	})
	t.Run("member-size", func(t *testing.T) {
		a := open(t, b, Limits{MaxRatio: 1 << 40, MaxMemberSize: 3 << 20})
		m, _ := a.Open(&a.Entries[0])
		n, err := io.Copy(io.Discard, m)
		if !errors.Is(err, ErrMemberTooLarge) || n != 3<<20 {
			t.Fatalf("copied %d, %v", n, err)
		}
		wantOnly(t, a, IssueBomb)
		// A member exactly at the cap is fine.
		a = open(t, b, Limits{MaxRatio: 1 << 40, MaxMemberSize: 64 << 20})
		m, _ = a.Open(&a.Entries[0])
		if n, err := io.Copy(io.Discard, m); err != nil || n != 64<<20 {
			t.Fatalf("copied %d, %v", n, err)
		}
	})
	t.Run("total", func(t *testing.T) {
		a := open(t, rawZipOf(file{"x", make([]byte, 600<<10), zip.Store}, file{"y", make([]byte, 600<<10), zip.Store}), Limits{MaxTotal: 1 << 20})
		if _, err := read(t, a, &a.Entries[0]); err != nil {
			t.Fatal(err)
		}
		n, err := read(t, a, &a.Entries[1])
		if !errors.Is(err, ErrTotalTooLarge) || len(n) != (1<<20)-(600<<10) || a.BytesRead() != 1<<20 {
			t.Fatalf("second member: %d bytes, %v; total %d", len(n), err, a.BytesRead())
		}
		wantOnly(t, a, IssueBomb)
	})
}

func TestUnsupportedMethod(t *testing.T) {
	a := open(t, testArchives()["unsupported"], Limits{})
	e := &a.Entries[0]
	if _, err := a.Open(e); !errors.Is(err, ErrMethod) {
		t.Errorf("Open: %v", err)
	}
	raw, _ := io.ReadAll(a.Raw(e))
	if string(raw) != "BZh9" {
		t.Errorf("Raw %q", raw)
	}
	wantOnly(t, a, IssueMethod)
}

func TestUnsafePaths(t *testing.T) {
	for _, name := range []string{"/etc/passwd", "../x", "a/../../x", `a\b`, `C:x`, "c:/windows", "a\x00b.pkl", "..", `..\x`} {
		a := open(t, zipOf(file{name, []byte("x"), zip.Store}), Limits{})
		wantOnly(t, a, IssueUnsafePath)
	}
	for _, name := range []string{"archive/data.pkl", "a..b/c", "..foo", "foo..", "x/.../y", "\xff\xfe.pkl", ""} {
		a := open(t, zipOf(file{name, []byte("x"), zip.Store}), Limits{})
		if is := a.IssueList(); len(is) != 0 {
			t.Errorf("%q: %v", name, is)
		}
		if a.Entries[0].Name != name {
			t.Errorf("name %q kept as %q", name, a.Entries[0].Name)
		}
	}
}

// Two central entries pointing at the same local header; a member whose
// declared size covers the central directory.
func TestOverlap(t *testing.T) {
	b := rawZipOf(file{"aaa", []byte("first"), zip.Store}, file{"bbb", []byte("second"), zip.Store})
	rs := records(b)
	dup := recBytes(b, rs[0])
	copy(dup[46:], "ccc")
	a := open(t, withCentral(b, [][]byte{recBytes(b, rs[0]), recBytes(b, rs[1]), dup}), Limits{})
	wantOnly(t, a, IssueOverlap, IssueNameMismatch)
	if is := a.IssuesFor("ccc"); len(is) != 2 {
		t.Errorf("issues for ccc: %v", is)
	}
	for _, n := range []string{"aaa", "ccc"} {
		if got, err := read(t, a, entry(t, a, n, true)); err != nil || string(got) != "first" {
			t.Errorf("%s: %q %v", n, got, err)
		}
	}

	b = rawZipOf(file{"aaa", []byte("first"), zip.Store})
	r := records(b)[0]
	n := uint32(len(b) - r.localOff - 30 - 3)
	for _, off := range []int{r.off + 20, r.off + 24, r.localOff + 18, r.localOff + 22} {
		put32(b, off, n)
	}
	a = open(t, b, Limits{})
	got, err := read(t, a, &a.Entries[0])
	if err != nil || len(got) != int(n) {
		t.Errorf("read %d %v", len(got), err)
	}
	wantOnly(t, a, IssueOverlap, IssueCRCMismatch)
}

func TestTruncated(t *testing.T) {
	t.Run("no-central-directory", func(t *testing.T) {
		for _, method := range []uint16{zip.Store, zip.Deflate} {
			data := make([]byte, 5000)
			r := rand.New(rand.NewPCG(5, 6))
			for i := range data {
				data[i] = byte(r.Uint32()) // incompressible, so the cut lands in the data
			}
			b := rawZipOf(file{"a", []byte("aaa"), zip.Store}, file{"b", data, method})
			cut := b[:records(b)[1].localOff+30+1+100]
			a := open(t, cut, Limits{})
			if a.Central || len(a.Entries) != 2 {
				t.Fatalf("Central %v, %d entries", a.Central, len(a.Entries))
			}
			if got, err := read(t, a, &a.Entries[0]); err != nil || string(got) != "aaa" {
				t.Errorf("a: %q %v", got, err)
			}
			got, err := read(t, a, &a.Entries[1])
			if !errors.Is(err, io.ErrUnexpectedEOF) || !bytes.HasPrefix(data, got) || (method == zip.Store && len(got) != 100) {
				t.Errorf("b: %d bytes, %v", len(got), err)
			}
			wantOnly(t, a, IssueCentralDir, IssueLocalOnly, IssueTruncated)
		}
	})
	t.Run("cut-at-every-length", func(t *testing.T) {
		b := zipOf(file{"a", pk, zip.Deflate}, file{"b", []byte("bbbb"), zip.Store})
		for n := range len(b) {
			a, err := Open(bytes.NewReader(b[:n]), int64(n), Limits{})
			if err != nil {
				if n >= 30+1 {
					t.Errorf("cut at %d: %v", n, err)
				}
				continue
			}
			for i := range a.Entries {
				if m, err := a.Open(&a.Entries[i]); err == nil {
					_, _ = io.Copy(io.Discard, m)
				}
			}
		}
	})
}

func TestEmptyArchive(t *testing.T) {
	a := open(t, zipOf(), Limits{})
	if len(a.Entries) != 0 || len(a.IssueList()) != 0 || !a.Central {
		t.Errorf("entries %d issues %v", len(a.Entries), a.IssueList())
	}
}

func TestGarbage(t *testing.T) {
	rnd := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	for _, b := range [][]byte{nil, []byte("hello"), rnd, []byte("PK\x03\x04"), []byte("PK\x05\x06"), bytes.Repeat([]byte("PK\x01\x02"), 100)} {
		if a, err := Open(bytes.NewReader(b), int64(len(b)), Limits{}); !errors.Is(err, ErrNotZip) || a != nil {
			t.Errorf("%.16q: %v", b, err)
		}
	}
}

// An end record in the comment of another: loaders use the last one; the
// other archive's members are listed too.
func TestMultipleEOCD(t *testing.T) {
	a := open(t, testArchives()["hidden"], Limits{})
	evil := entry(t, a, "evil.pkl", true)
	benign := entry(t, a, "benign", false)
	if got, err := read(t, a, evil); err != nil || !bytes.Equal(got, pk) {
		t.Errorf("evil: %q %v", got, err)
	}
	if got, err := read(t, a, benign); err != nil || string(got) != "ok" {
		t.Errorf("benign: %q %v", got, err)
	}
	wantKinds(t, a, IssueMultipleEOCD)

	// A bare end record (no entries) in the comment.
	b := zipOf(file{"a", []byte("aaa"), zip.Store})
	fake := make([]byte, 22)
	put32(fake, 0, sigEnd)
	put16(b, len(b)-2, 22)
	a = open(t, append(b, fake...), Limits{})
	wantKinds(t, a, IssueMultipleEOCD)
	if e := entry(t, a, "a", false); e == nil {
		t.Error("real entry not listed")
	}
}

// Two archives back to back: miniz and Go read the first copy's directory
// (stated offsets), Python the second (offsets shifted by the first copy).
// Both copies are listed.
func TestConcatenatedArchives(t *testing.T) {
	z := func(s string) []byte { return zipOf(file{"a", []byte(s), zip.Store}) }
	z64 := func(s string) []byte {
		return craft([]craftEntry{{name: "a", data: []byte(s), zip64: true}}, craftOpts{zip64End: true})
	}
	for name, tc := range map[string]struct {
		one, two []byte
		kind     string
	}{
		"zip":   {z("first copy"), z("other copy"), IssueCentralDir},
		"zip64": {z64("first copy"), z64("other copy"), IssueZip64},
	} {
		t.Run(name, func(t *testing.T) {
			a := open(t, append(append([]byte(nil), tc.one...), tc.two...), Limits{})
			first, second := entry(t, a, "a", true), entry(t, a, "a", false)
			g1, _ := read(t, a, first)
			g2, err := read(t, a, second)
			if string(g1) != "first copy" || string(g2) != "other copy" || err != nil {
				t.Errorf("read %q / %q %v", g1, g2, err)
			}
			wantOnly(t, a, IssueMultipleEOCD, tc.kind)
		})
	}
}

func TestSizeMismatch(t *testing.T) {
	b := rawZipOf(file{"a", []byte("hello world"), zip.Store})
	r := records(b)[0]
	put32(b, r.localOff+18, 5)
	put32(b, r.localOff+22, 5)
	a := open(t, b, Limits{})
	wantKinds(t, a, IssueSizeMismatch)
	if got, err := read(t, a, &a.Entries[0]); err != nil || string(got) != "hello world" {
		t.Errorf("read %q %v", got, err)
	}

	// A data descriptor that disagrees with the central directory.
	b = zipOf(file{"a", []byte("hello world"), zip.Deflate})
	i := bytes.Index(b, []byte("PK\x07\x08"))
	put32(b, i+12, 99)
	wantKinds(t, open(t, b, Limits{}), IssueSizeMismatch)
}

func TestGap(t *testing.T) {
	a := open(t, testArchives()["gap"], Limits{})
	wantOnly(t, a, IssueGap)
	if got, err := read(t, a, &a.Entries[1]); err != nil || string(got) != "world" {
		t.Errorf("read %q %v", got, err)
	}
}

func TestLimits(t *testing.T) {
	var files []file
	for i := range 50 {
		files = append(files, file{strings.Repeat("n", i+1), []byte("x"), zip.Store})
	}
	b := zipOf(files...)
	a := open(t, b, Limits{MaxEntries: 10})
	if len(a.Entries) != 10 || kinds(a)[IssueTooManyEntries] != 1 {
		t.Errorf("%d entries, issues %v", len(a.Entries), a.IssueList())
	}
	a = open(t, b, Limits{MaxNameBytes: 100})
	if len(a.Entries) >= 50 || kinds(a)[IssueTooManyEntries] != 1 {
		t.Errorf("%d entries, issues %v", len(a.Entries), a.IssueList())
	}
	// The walk obeys MaxEntries too.
	a = open(t, dropCentral(b, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), Limits{MaxEntries: 45})
	if len(a.Entries) != 45 || kinds(a)[IssueTooManyEntries] != 1 {
		t.Errorf("%d entries, issues %v", len(a.Entries), a.IssueList())
	}
	// Issues per kind.
	files = files[:0]
	for i := range 10 {
		files = append(files, file{"/abs" + strings.Repeat("x", i), []byte("x"), zip.Store})
	}
	a = open(t, zipOf(files...), Limits{MaxIssues: 3})
	if n := kinds(a)[IssueUnsafePath]; n != 4 {
		t.Errorf("%d unsafe-path issues, want 3 + 1", n)
	}
}

func TestConcurrentReads(t *testing.T) {
	var files []file
	for i := range 16 {
		files = append(files, file{string(rune('a' + i)), bytes.Repeat([]byte{byte(i)}, 100000), uint16(i%2) * zip.Deflate})
	}
	b := rawZipOf(files...)
	put32(b, records(b)[3].off+16, 1) // one CRC issue recorded concurrently
	a := open(t, b, Limits{})
	var wg sync.WaitGroup
	for i := range a.Entries {
		wg.Go(func() {
			m, err := a.Open(&a.Entries[i])
			if err != nil {
				t.Error(err)
				return
			}
			if n, err := io.Copy(io.Discard, m); n != 100000 || err != nil {
				t.Error(n, err)
			}
		})
	}
	wg.Wait()
	if a.BytesRead() != 16*100000 || kinds(a)[IssueCRCMismatch] != 1 {
		t.Errorf("BytesRead %d, issues %v", a.BytesRead(), a.IssueList())
	}
}

func BenchmarkReadDeflate(b *testing.B) {
	data := make([]byte, 32<<20)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = byte(r.IntN(16)) // compressible
	}
	z := rawZipOf(file{"x", data, zip.Deflate})
	b.Run("tzip", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			a, _ := Open(bytes.NewReader(z), int64(len(z)), Limits{})
			m, _ := a.Open(&a.Entries[0])
			_, _ = io.Copy(io.Discard, m)
		}
	})
	b.Run("archive-zip", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			zr, _ := zip.NewReader(bytes.NewReader(z), int64(len(z)))
			rc, _ := zr.File[0].Open()
			_, _ = io.Copy(io.Discard, rc)
		}
	})
}
