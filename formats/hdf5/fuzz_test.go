package hdf5

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzHDF5 feeds Scan, and Open/Walk/RootAttributes directly, with mutated
// fixtures. Nothing may panic or hang, and the report must be consistent.
func FuzzHDF5(f *testing.F) {
	for _, dir := range []string{"benign", "malicious"} {
		ents, err := os.ReadDir(filepath.Join(fixtures, dir))
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(fixtures, dir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	sig := []byte("\x89HDF\r\n\x1a\n")
	f.Add([]byte{})
	f.Add(sig)
	f.Add(append(append([]byte{}, sig...), 2, 8, 8, 0))
	f.Add(append(append([]byte{}, sig...), 0, 0, 0, 0, 0, 8, 8, 0, 4, 0, 16, 0))
	f.Add(append(make([]byte, 512), sig...))

	// Small caps keep each run fast; they are caps, so the invariants hold.
	lim := Limits{MaxMetadataBytes: 4 << 20, MaxObjects: 4096, MaxAttribute: 1 << 20, MaxHeapBytes: 4 << 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep := Scan(bytes.NewReader(b), int64(len(b)), lim)
		checkInvariants(t, "fuzz", rep)
		if rep.SuperblockVersion < 0 && rep.Complete {
			t.Fatal("complete without a superblock")
		}
		file, err := Open(bytes.NewReader(b), int64(len(b)), lim)
		if err != nil {
			return
		}
		seen := map[uint64]bool{}
		_ = file.Walk(func(o *Object) error {
			if seen[o.Addr] {
				t.Fatalf("object %#x visited twice", o.Addr)
			}
			seen[o.Addr] = true
			if o.Path == "" || o.Kind == "" {
				t.Fatalf("object without path or kind: %+v", o)
			}
			return nil
		})
		_, _ = file.RootAttributes()
	})
}
