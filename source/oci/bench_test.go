package oci_test

// BenchmarkPullScan pulls and scans a ModelPack artifact (one raw
// model.safetensors layer of pseudo-random bytes behind a valid header,
// plus a small config layer) from a local docker-registry, against a
// plain pull of the same artifact into an OCI layout (what
// `crane pull --format oci` does). Both start from a cold cache each
// iteration. The 2 GiB size of issue P5 runs only with
// HALLMARK_BENCH_LARGE=1; otherwise 64 MiB. See BENCHMARKS.md, "OCI pulls
// (issue P5)", for the end-to-end commands with peak RSS.
//
//	HALLMARK_BENCH_LARGE=1 go test -run '^$' -bench PullScan -benchtime 3x ./source/oci
//
// HALLMARK_BENCH_REGISTRY=host:port uses a registry that is already
// running (and leaves the artifact there, as
// host:port/bench/modelpack-<size>:v1, for the CLI measurements) instead
// of starting one.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/internal/benchdata"
	"github.com/hallmarkdev/hallmark/scan"
	"github.com/hallmarkdev/hallmark/source/oci"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
)

// writeSafetensors writes a safetensors file of exactly size bytes: one
// U8 tensor of pseudo-random bytes (ChaCha8, fixed seed).
func writeSafetensors(path string, size int64) (int64, error) {
	hdr := func(n int64) []byte {
		return fmt.Appendf(nil, `{"weight":{"dtype":"U8","shape":[%d],"data_offsets":[0,%d]}}`, n, n)
	}
	n := size - 8 - int64(len(hdr(size)))
	h := hdr(n)
	for len(h)%8 != 0 || 8+int64(len(h))+n != size {
		if 8+int64(len(h))+n > size {
			n--
			h = hdr(n)
			continue
		}
		h = append(h, ' ')
	}
	tmp := path + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp)
	w := bufio.NewWriterSize(f, 1<<20)
	binary.Write(w, binary.LittleEndian, uint64(len(h)))
	w.Write(h)
	rng := rand.NewChaCha8([32]byte{'h', 'a', 'l', 'l', 'm', 'a', 'r', 'k'})
	buf := make([]byte, 1<<20)
	for left := n; left > 0; {
		k := min(int64(len(buf)), left)
		rng.Read(buf[:k])
		if _, err := w.Write(buf[:k]); err != nil {
			f.Close()
			return 0, err
		}
		left -= k
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	return size, os.Rename(tmp, path)
}

// fileLayer is a raw layer read from a file, never held in memory.
type fileLayer struct {
	path string
	hash v1.Hash
	size int64
}

func newFileLayer(path string) (*fileLayer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, err
	}
	return &fileLayer{path: path, size: n, hash: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}}, nil
}

func (l *fileLayer) Digest() (v1.Hash, error)             { return l.hash, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)             { return l.hash, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)   { return os.Open(l.path) }
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) { return os.Open(l.path) }
func (l *fileLayer) Size() (int64, error)                 { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error)  { return ocitest.ModelPackRaw, nil }

func BenchmarkPullScan(b *testing.B) {
	size, label := int64(64<<20), "64m"
	if os.Getenv("HALLMARK_BENCH_LARGE") == "1" {
		size, label = 2<<30, "2g"
	}
	path, _, _, err := benchdata.Cached(fmt.Sprintf("modelpack-%s-v1.safetensors", label), func(p string) (int64, error) { return writeSafetensors(p, size) })
	if err != nil {
		b.Fatal(err)
	}
	host := os.Getenv("HALLMARK_BENCH_REGISTRY")
	if host == "" {
		host = ocitest.StartDistribution(b).Host
	}
	b.Setenv("DOCKER_CONFIG", b.TempDir())
	ref := fmt.Sprintf("%s/bench/modelpack-%s:v1", host, label)
	fl, err := newFileLayer(path)
	if err != nil {
		b.Fatal(err)
	}
	cfgLayer := static.NewLayer([]byte(`{"architectures":["LlamaForCausalLM"],"model_type":"llama"}`), "application/vnd.cncf.model.weight.config.v1.raw")
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), ocitest.ModelPackConfig)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: fl, MediaType: ocitest.ModelPackRaw, Annotations: map[string]string{"org.cncf.model.filepath": "model.safetensors"}},
		mutate.Addendum{Layer: cfgLayer, MediaType: "application/vnd.cncf.model.weight.config.v1.raw", Annotations: map[string]string{"org.cncf.model.filepath": "config.json"}})
	if err != nil {
		b.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		b.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		b.Fatal(err)
	}
	b.Logf("pushed oci://%s (%d bytes)", ref, size)

	fresh := func(b *testing.B) string {
		b.StopTimer()
		d, err := os.MkdirTemp("", "hallmark-bench-pull-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(d) })
		b.StartTimer()
		return d
	}
	b.Run("hallmark", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			dir := fresh(b)
			res, err := audit.Run(context.Background(), []string{"oci://" + ref}, audit.Config{OCI: oci.Config{CacheDir: dir}})
			if err != nil {
				b.Fatal(err)
			}
			tr := res.Targets[0]
			if tr.Error != "" || res.Incomplete() || len(tr.Files) != 2 {
				b.Fatalf("pull+scan: %q incomplete %v files %d", tr.Error, res.Incomplete(), len(tr.Files))
			}
			for _, f := range tr.Files {
				if f.Max() >= scan.Medium || f.Error != "" {
					b.Fatalf("%s: %s %v", f.Path, f.Error, f.Findings)
				}
			}
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})
	b.Run("crane-pull-oci", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			dir := filepath.Join(fresh(b), "layout")
			pulled, err := remote.Image(r)
			if err != nil {
				b.Fatal(err)
			}
			p, err := layout.Write(dir, empty.Index)
			if err != nil {
				b.Fatal(err)
			}
			if err := p.AppendImage(pulled); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})
}
