package scan

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hallmarkdev/hallmark/internal/limits"
)

// FuzzFile runs the whole engine (sniffing, tar, zip, 7z, compressed
// streams, numpy headers, joblib framing, pickles, and the format parsers
// of formats/) over arbitrary bytes:
// no panic, no hang, a verdict always, the same result twice.
func FuzzFile(f *testing.F) {
	for _, pat := range []string{"../testdata/containers/*/*", "../testdata/pickles/benign/*.pkl",
		"../testdata/safetensors/*/*", "../testdata/gguf/*/*", "../testdata/onnx/*/*", "../testdata/tf/*/*/*",
		"../testdata/hdf5/*/*", "../testdata/keras/*/*", "../testdata/hf/*/*/*.json", "../testdata/templates-ssti/malicious/*"} {
		files, _ := filepath.Glob(pat)
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil && len(data) < 256<<10 {
				f.Add(data)
			}
		}
	}
	lim := limits.Default()
	lim.MaxInflated = 64 << 20
	lim.MaxInMemory = 4 << 20
	lim.MaxMembers = 256
	e := New(Config{Limits: lim})
	f.Fuzz(func(t *testing.T, data []byte) {
		a := e.File(context.Background(), newMemFile("f", data).File, "f")
		if a.Verdict == "" {
			t.Fatalf("no verdict: %+v", a)
		}
		b := e.File(context.Background(), newMemFile("f", data).File, "f")
		if len(a.Findings) != len(b.Findings) || a.SHA256 != b.SHA256 || a.Format != b.Format {
			t.Fatalf("two scans differ: %d vs %d findings", len(a.Findings), len(b.Findings))
		}
	})
}

// FuzzNumpyHeader: the .npy header parser never panics on any literal.
func FuzzNumpyHeader(f *testing.F) {
	for _, s := range []string{
		"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }",
		"{'descr': [('a', '<i4'), ('b', '|O')], 'fortran_order': False, 'shape': (1,), }",
		"{'descr': [('t', [('x', '<f8', (2,))])], 'fortran_order': True, 'shape': (), }",
		"{\"descr\": \"|O\", 'shape': (10L,)}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseLiteral(s)
		if err != nil {
			return
		}
		if d, ok := v.(map[string]any); ok {
			hasObject(d["descr"], 0)
		}
	})
}
