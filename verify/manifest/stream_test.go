package manifest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestHashReaderMatchesCompute: hashing a stream gives the resources
// Compute gives for the same file on disk, for every hash and both
// methods (shard sizes that divide the file and that do not; an empty
// file).
func TestHashReaderMatchesCompute(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 100) // 1600 bytes
	for _, size := range []int{0, 1, 1600, 1601} {
		dir := t.TempDir()
		content := bytes.Repeat([]byte{'x'}, size)
		if size > 1 {
			content = data[:min(size, len(data))]
			if size > len(data) {
				content = append(append([]byte{}, data...), 'z')
			}
		}
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "sub", "f.bin"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{HashSHA256, HashBLAKE2b, HashBLAKE3} {
			for _, o := range []Options{{Method: MethodFiles, Hash: h}, {Method: MethodShards, Hash: h, ShardSize: 400}, {Method: MethodShards, Hash: h, ShardSize: 333}} {
				want, err := Compute(context.Background(), dir, o)
				if err != nil {
					t.Fatal(err)
				}
				got, n, err := HashReader(context.Background(), o, "sub/f.bin", bytes.NewReader(content))
				if err != nil {
					t.Fatal(err)
				}
				if n != int64(len(content)) || !reflect.DeepEqual(got, want.Resources) && !(len(got) == 0 && len(want.Resources) == 0) {
					t.Errorf("size %d %+v: got %v (%d bytes), want %v", size, o, got, n, want.Resources)
				}
			}
		}
	}
	if _, _, err := HashReader(context.Background(), Options{Method: MethodFiles, Hash: HashSHA256}, "../x", bytes.NewReader(nil)); err == nil {
		t.Error("../x accepted")
	}
}
