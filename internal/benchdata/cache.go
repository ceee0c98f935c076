package benchdata

import (
	"os"
	"path/filepath"
	"sync"
)

var cacheMu sync.Mutex

// Cached returns the path and size of a benchmark input in
// $TMPDIR/hallmark-bench, writing it with gen first if it is not there.
// The writers produce files atomically, so a file with the name is whole.
// Names carry the generator's layout version, so stale inputs are not reused.
func Cached(name string, gen func(path string) (int64, error)) (string, int64, bool, error) {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	dir := filepath.Join(os.TempDir(), "hallmark-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, false, err
	}
	path := filepath.Join(dir, name)
	if st, err := os.Stat(path); err == nil {
		return path, st.Size(), false, nil
	}
	size, err := gen(path)
	return path, size, true, err
}
