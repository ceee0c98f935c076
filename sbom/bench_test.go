package sbom_test

// BenchmarkBOM times a BOM of a Hugging Face-style folder with four
// safetensors shards (the card, configs and tokenizer config of
// testdata/bom/hf-model beside them) and counts the bytes the process
// read (/proc/self/io rchar): "reads/byte" near 1.00 means every byte was
// read once, the scan's SHA-256 serving the BOM. BenchmarkSHA256 is the
// floor: one SHA-256 pass over the same files. 4 × 1 GiB with
// HALLMARK_BENCH_LARGE=1, else 4 × 16 MiB. See BENCHMARKS.md.
//
//	HALLMARK_BENCH_LARGE=1 go test -run '^$' -bench . -benchtime 3x ./sbom

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/sbom"
)

func benchShard() int64 {
	if os.Getenv("HALLMARK_BENCH_LARGE") == "1" {
		return 1 << 30
	}
	return 16 << 20
}

// benchFolder writes (once, under $TMPDIR/hallmark-bench) the folder:
// four shards of one BF16 tensor each, zeros (sparse on disk; SHA-256
// costs the same as for real weights), and the small files.
func benchFolder(b *testing.B) (string, int64) {
	shard := benchShard()
	dir := filepath.Join(os.TempDir(), "hallmark-bench", fmt.Sprintf("bom-folder-v2-%d", shard))
	var total int64
	done := dir + ".done" // outside the folder: not part of the model
	if _, err := os.Stat(done); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		src := filepath.Join("..", "testdata", "bom", "hf-model")
		for _, n := range []string{"README.md", "config.json", "generation_config.json", "tokenizer_config.json", "special_tokens_map.json"} {
			data, err := os.ReadFile(filepath.Join(src, n))
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		for i := 1; i <= 4; i++ {
			name := fmt.Sprintf("model-%05d-of-00004.safetensors", i)
			if err := writeShard(filepath.Join(dir, name), shard, i); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		info, _ := e.Info()
		total += info.Size()
	}
	return dir, total
}

func writeShard(path string, size int64, i int) error {
	var h []byte
	n := int64(0)
	for pad := 0; ; pad++ {
		n = size - 8 - int64(len(h))
		if n%2 != 0 {
			n--
		}
		h = fmt.Appendf(nil, `{"model.layers.%d.weight":{"dtype":"BF16","shape":[%d],"data_offsets":[0,%d]}}`, i, n/2, n)
		h = append(h, bytes.Repeat([]byte{' '}, pad)...)
		if 8+int64(len(h))+n == size {
			break
		}
		if pad > 64 {
			return fmt.Errorf("cannot lay out %d bytes", size)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := binary.Write(f, binary.LittleEndian, uint64(len(h))); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(h); err != nil {
		f.Close()
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// rchar is the bytes this process has read through read(2)/pread(2).
func rchar(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Skip("no /proc/self/io")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	b.Skip("no rchar in /proc/self/io")
	return 0
}

func BenchmarkBOM(b *testing.B) {
	dir, size := benchFolder(b)
	b.SetBytes(size)
	var read int64
	b.ResetTimer()
	for range b.N {
		r0 := rchar(b)
		res, err := audit.Run(context.Background(), []string{dir}, audit.Config{})
		if err != nil {
			b.Fatal(err)
		}
		bom, err := sbom.Build(res, sbom.Options{Timestamp: time.Unix(0, 0)})
		if err != nil {
			b.Fatal(err)
		}
		if err := sbom.Encode(io.Discard, bom, sbom.FormatJSON, sbom.Spec16); err != nil {
			b.Fatal(err)
		}
		read += rchar(b) - r0
	}
	b.ReportMetric(float64(read)/float64(b.N)/float64(size), "reads/byte")
}

func BenchmarkSHA256(b *testing.B) {
	dir, size := benchFolder(b)
	b.SetBytes(size)
	entries, _ := os.ReadDir(dir)
	buf := make([]byte, 1<<20)
	b.ResetTimer()
	for range b.N {
		for _, e := range entries {
			f, err := os.Open(filepath.Join(dir, e.Name()))
			if err != nil {
				b.Fatal(err)
			}
			h := sha256.New()
			if _, err := io.CopyBuffer(h, f, buf); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	}
}
