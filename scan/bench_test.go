package scan_test

// Benchmarks of the engine on large benign containers (issue P2): a
// PyTorch zip checkpoint and a zlib-compressed joblib file. See
// BENCHMARKS.md for how to run them and the figures measured.
//
//	go test -run '^$' -bench . -benchmem ./scan
//	HALLMARK_BENCH_LARGE=1 go test -run '^$' -bench 'TorchZip4GiB|JoblibZlib1GiB' -benchtime 3x ./scan
//
// Inputs are generated once by internal/benchdata into a cache directory
// under os.TempDir() (never into the repository) and reused across runs.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hallmarkdev/hallmark/internal/benchdata"
	"github.com/hallmarkdev/hallmark/scan"
	"github.com/hallmarkdev/hallmark/source"
	"github.com/hallmarkdev/hallmark/source/disk"
)

const (
	// largeEnv must be "1" for the benchmarks whose input is 1 GiB or more.
	largeEnv = "HALLMARK_BENCH_LARGE"
	// layout is bumped whenever benchdata's output for these inputs
	// changes, so that stale cached inputs are not reused.
	layout = "v1"

	// The 4 GiB checkpoint: 64 float32 tensors of 64 MiB (16,777,216
	// elements), 4,294,985,987 bytes; the quick one has the same 64
	// members at 4 MiB each (no zip64).
	torchTensors    = 64
	torchNumel4GiB  = 16 << 20
	torchNumel256Mi = 1 << 20
	// The joblib arrays: 2^27 float64 (1 GiB) and 2^23 (64 MiB).
	joblibN1GiB  = 1 << 27
	joblibN64MiB = 1 << 23
)

// benchInput returns the path and size of a cached input (see
// benchdata.Cached), generating it first if it is not there.
func benchInput(b *testing.B, name string, gen func(path string) (int64, error)) (string, int64) {
	b.Helper()
	path, size, made, err := benchdata.Cached(name, gen)
	if err != nil {
		b.Fatal(err)
	}
	if made {
		b.Logf("generated %s", path)
	}
	return path, size
}

func torchInput(b *testing.B, numel int64) (string, int64) {
	return benchInput(b, fmt.Sprintf("torch-t%d-n%d-%s.pt", torchTensors, numel, layout), func(path string) (int64, error) {
		return benchdata.WriteTorchCheckpoint(path, benchdata.Torch{Tensors: torchTensors, Numel: numel})
	})
}

func joblibInput(b *testing.B, n int64) (string, int64) {
	return benchInput(b, fmt.Sprintf("joblib-zlib3-n%d-%s.joblib", n, layout), func(path string) (int64, error) {
		return benchdata.WriteJoblibZlib(path, n)
	})
}

// diskFile opens path the way `hallmark scan PATH` does.
func diskFile(tb testing.TB, path string) source.File {
	tb.Helper()
	a, err := disk.Open(context.Background(), path, 1)
	if err != nil {
		tb.Fatal(err)
	}
	if len(a.Files) != 1 {
		tb.Fatalf("%s: %d files", path, len(a.Files))
	}
	return a.Files[0]
}

// checkClean fails unless res is a complete, clean scan of the format want.
func checkClean(tb testing.TB, res scan.FileResult, want string, hashed bool) {
	tb.Helper()
	if res.Error != "" || !res.Scanned || !res.Complete || res.Format != want || res.Max() >= scan.Medium || (res.SHA256 != "") != hashed {
		tb.Fatalf("unexpected result: format=%s scanned=%v complete=%v verdict=%s sha256=%q error=%q findings=%+v",
			res.Format, res.Scanned, res.Complete, res.Verdict, res.SHA256, res.Error, res.Findings)
	}
}

// benchScan scans the file at path b.N times with a fresh engine, as
// `hallmark scan [--no-hash]` does, and checks every result.
func benchScan(b *testing.B, path string, size int64, format string) {
	for _, v := range []struct {
		name   string
		noHash bool
	}{{"no-hash", true}, {"sha256", false}} {
		b.Run(v.name, func(b *testing.B) {
			f := diskFile(b, path)
			e := scan.New(scan.Config{NoHash: v.noHash})
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			var res scan.FileResult
			for b.Loop() {
				res = e.File(context.Background(), f, path)
			}
			b.StopTimer()
			checkClean(b, res, format, !v.noHash)
			if res.Facts != nil {
				b.ReportMetric(float64(res.Facts.Members), "members/op")
			}
		})
	}
}

// BenchmarkTorchZip4GiB: torch.save of a state dict of 64 float32 tensors
// of 64 MiB, 4 GiB in all (zip64). Only with HALLMARK_BENCH_LARGE=1.
func BenchmarkTorchZip4GiB(b *testing.B) {
	if os.Getenv(largeEnv) != "1" {
		b.Skipf("4 GiB input: set %s=1 to run", largeEnv)
	}
	path, size := torchInput(b, torchNumel4GiB)
	benchScan(b, path, size, scan.FormatZip)
}

// BenchmarkTorchZip256MiB: the same 64 members at 4 MiB each.
func BenchmarkTorchZip256MiB(b *testing.B) {
	path, size := torchInput(b, torchNumel256Mi)
	benchScan(b, path, size, scan.FormatZip)
}

// BenchmarkJoblibZlib1GiB: joblib.dump({'a': 1 GiB float64 array},
// compress=('zlib', 3)). Only with HALLMARK_BENCH_LARGE=1. SetBytes is the
// file's size; the engine inflates the whole array (1 GiB) to reach the end
// of the pickle.
func BenchmarkJoblibZlib1GiB(b *testing.B) {
	if os.Getenv(largeEnv) != "1" {
		b.Skipf("1 GiB input: set %s=1 to run", largeEnv)
	}
	path, size := joblibInput(b, joblibN1GiB)
	benchScan(b, path, size, scan.FormatZlib)
}

// BenchmarkJoblibZlib64MiB: the same layout with a 64 MiB array.
func BenchmarkJoblibZlib64MiB(b *testing.B) {
	path, size := joblibInput(b, joblibN64MiB)
	benchScan(b, path, size, scan.FormatZlib)
}

// TestBenchInputsClean scans small versions of the benchmark inputs: the
// engine must find them complete and clean, or the benchmarks would time a
// different path (and fail at the end).
func TestBenchInputsClean(t *testing.T) {
	dir := t.TempDir()
	e := scan.New(scan.Config{})
	for _, c := range []struct {
		name   string
		format string
		gen    func(path string) (int64, error)
	}{
		{"torch.pt", scan.FormatZip, func(p string) (int64, error) {
			return benchdata.WriteTorchCheckpoint(p, benchdata.Torch{Tensors: torchTensors, Numel: 1000})
		}},
		{"torch-legacy.pt", scan.FormatZip, func(p string) (int64, error) {
			return benchdata.WriteTorchCheckpoint(p, benchdata.Torch{Tensors: 12, Numel: 1000, Legacy: true})
		}},
		{"model.joblib", scan.FormatZlib, func(p string) (int64, error) { return benchdata.WriteJoblibZlib(p, 100_000) }},
	} {
		path := filepath.Join(dir, c.name)
		if _, err := c.gen(path); err != nil {
			t.Fatal(err)
		}
		res := e.File(context.Background(), diskFile(t, path), c.name)
		checkClean(t, res, c.format, true)
		if want := map[string]string{scan.FormatZip: "pytorch", scan.FormatZlib: "joblib"}[c.format]; res.Facts.Framework != want {
			t.Errorf("%s: framework %q, want %q", c.name, res.Facts.Framework, want)
		}
	}
	// The joblib array's bytes look random: deflate must not shrink them
	// anywhere near the engine's 1000:1 bomb ratio.
	var z bytes.Buffer
	if err := benchdata.JoblibZlib(&z, 1<<20); err != nil {
		t.Fatal(err)
	}
	if ratio := float64(8<<20) / float64(z.Len()); ratio > 2 {
		t.Errorf("joblib array compresses %.1f:1", ratio)
	}
}
