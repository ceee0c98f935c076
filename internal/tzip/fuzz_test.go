package tzip

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// fuzzLimits are small so that a run stays fast and the caps are exercised.
var fuzzLimits = Limits{
	MaxEntries:    64,
	MaxMemberSize: 1 << 20,
	MaxRatio:      50,
	MaxTotal:      4 << 20,
	MaxNameBytes:  16 << 10,
	MaxIssues:     16,
}

// FuzzOpen: Open and reading every member never panic, stay within the
// caps and terminate.
func FuzzOpen(f *testing.F) {
	m := testArchives()
	for _, n := range sortedNames(m) {
		f.Add(m[n])
	}
	// Every file of the shared corpus that starts like a zip.
	_ = filepath.WalkDir(filepath.Join("..", "..", "testdata"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.HasPrefix(b, []byte("PK")) && len(b) <= 8<<20 {
			f.Add(b)
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc

		a, err := Open(bytes.NewReader(data), int64(len(data)), fuzzLimits)
		if err != nil {
			if a != nil {
				t.Fatal("archive and error")
			}
			return
		}
		if len(a.Entries) > fuzzLimits.MaxEntries {
			t.Fatalf("%d entries > MaxEntries", len(a.Entries))
		}
		perKind := map[string]int{}
		for _, is := range a.Issues {
			perKind[is.Kind]++
			if perKind[is.Kind] > fuzzLimits.MaxIssues+1 {
				t.Fatalf("more than %d %s issues", fuzzLimits.MaxIssues+1, is.Kind)
			}
		}
		for i := range a.Entries {
			e := &a.Entries[i]
			if e.DataOffset > int64(len(data)) {
				t.Fatalf("%q: DataOffset %d beyond %d", e.Name, e.DataOffset, len(data))
			}
			if r := a.Raw(e); r.Size() < 0 || r.Size() > int64(len(data)) {
				t.Fatalf("%q: Raw size %d", e.Name, r.Size())
			}
			mr, err := a.Open(e)
			if err != nil {
				continue
			}
			n, _ := io.Copy(io.Discard, mr)
			if n > fuzzLimits.MaxMemberSize {
				t.Fatalf("%q: %d bytes > MaxMemberSize", e.Name, n)
			}
		}
		if a.BytesRead() > fuzzLimits.MaxTotal {
			t.Fatalf("read %d bytes > MaxTotal", a.BytesRead())
		}

		runtime.ReadMemStats(&ms)
		// Per entry: a flate reader, a 64 KiB buffer and a copy buffer; the
		// rest scales with the input.
		if alloc := ms.TotalAlloc - before; alloc > 32<<20+uint64(64*len(data)) {
			t.Fatalf("allocated %d bytes for a %d-byte input", alloc, len(data))
		}
	})
}
