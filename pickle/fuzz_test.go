package pickle

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func addCorpus(f *testing.F) {
	var files []string
	for _, pat := range []string{"benign/*.pkl", "malicious/*.pkl", "opcodes/*.pkl"} {
		m, _ := filepath.Glob(filepath.Join(corpus, pat))
		files = append(files, m...)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil || len(data) > 1<<20 {
			continue
		}
		f.Add(data)
	}
	f.Add([]byte("cos\nsystem\n(S'echo x'\ntR."))
	f.Add([]byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93."))
}

// FuzzDecoder: any input decodes to opcodes or a clean error, with offsets
// that only move forward and never past the input.
func FuzzDecoder(f *testing.F) {
	addCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := NewDecoder(bytes.NewReader(data), 0, 1<<10)
		last := int64(-1)
		for i := 0; i < 1<<20; i++ {
			op, err := dec.Next()
			if err != nil {
				if err != io.EOF {
					if _, ok := err.(*DecodeError); !ok {
						t.Fatalf("non-DecodeError %T: %v", err, err)
					}
				}
				return
			}
			if op.Pos <= last || op.End <= op.Pos || op.End > int64(len(data)) {
				t.Fatalf("bad offsets: pos %d end %d after %d (len %d)", op.Pos, op.End, last, len(data))
			}
			if len(op.Str) > 2<<10 || len(op.Str2) > 2<<10 {
				t.Fatalf("operand of %d bytes kept beyond the cap", len(op.Str))
			}
			last = op.Pos
		}
	})
}

// FuzzScan: the machine never panics, holds to its caps, and is
// deterministic.
func FuzzScan(f *testing.F) {
	addCorpus(f)
	lim := Limits{MaxOperand: 1 << 12, MaxStack: 1 << 10, MaxMemo: 1 << 10, MaxFindings: 64, MaxNestedBytes: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		opt := Options{Limits: lim, ReaderAt: bytes.NewReader(data), Size: int64(len(data))}
		a := Scan(bytes.NewReader(data), opt)
		b := Scan(bytes.NewReader(data), opt)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("two scans of the same input differ")
		}
		if len(a.Findings) > lim.MaxFindings+1 {
			t.Fatalf("%d findings, cap %d", len(a.Findings), lim.MaxFindings)
		}
		if a.End > int64(len(data)) {
			t.Fatalf("end %d past input %d", a.End, len(data))
		}
	})
}
