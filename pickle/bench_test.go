package pickle_test

// Throughput benchmarks of the pickle engine on large benign pickles. See
// BENCHMARKS.md for how to run them and the figures measured.
//
//	go test -run '^$' -bench . -benchmem ./pickle
//	HALLMARK_BENCH_LARGE=1 go test -run '^$' -bench BigBytes -benchtime 3x ./pickle
//
// Inputs are generated once by internal/benchdata into a cache directory
// under os.TempDir() (never into the repository) and reused across runs.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/hallmarkdev/hallmark/internal/benchdata"
	"github.com/hallmarkdev/hallmark/pickle"
)

const (
	// floatListN is the "list of ~11 million floats":
	// 99,035,604 bytes (94.4 MiB) at protocol 4.
	floatListN = 11_000_000
	// floatList10MiBN gives a file of about 10 MiB (10,486,6xx bytes).
	floatList10MiBN = 1_165_000
	bigBytesN       = 1 << 30
	bigBytes64MiBN  = 64 << 20

	// largeEnv must be "1" for the benchmarks whose input is 1 GiB.
	largeEnv = "HALLMARK_BENCH_LARGE"
	// layout is bumped whenever benchdata's output changes, so that stale
	// cached inputs are not reused.
	layout = "v1"
)

// benchInput returns the path and size of a cached input (see
// benchdata.Cached), generating it first if it is not there.
func benchInput(b *testing.B, name string, gen func(path string) (int64, error)) (string, int64) {
	b.Helper()
	path, size, made, err := benchdata.Cached(name+"-"+layout+".pkl", gen)
	if err != nil {
		b.Fatal(err)
	}
	if made {
		b.Logf("generated %s", path)
	}
	return path, size
}

func floatListInput(b *testing.B, n int) (string, int64) {
	return benchInput(b, fmt.Sprintf("floatlist-n%d-p4", n), func(path string) (int64, error) {
		return benchdata.WriteFloatList(path, n, 4)
	})
}

func bigBytesInput(b *testing.B, n int64) (string, int64) {
	return benchInput(b, fmt.Sprintf("bigbytes-n%d-p4", n), func(path string) (int64, error) {
		return benchdata.WriteBigBytes(path, n, 4)
	})
}

// benchScan scans the file at path b.N times from an *os.File, as the
// engine does (the file is also the ReaderAt), and checks each report.
func benchScan(b *testing.B, path string, size int64) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	var rep *pickle.Report
	for i := 0; i < b.N; i++ {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			b.Fatal(err)
		}
		rep = pickle.Scan(f, pickle.Options{ReaderAt: f, Size: size})
	}
	b.StopTimer()
	if rep.Streams != 1 || !rep.Complete || rep.Degraded || rep.End != size || rep.Max() >= pickle.LevelMedium {
		b.Fatalf("unexpected report: streams=%d complete=%v degraded=%v end=%d/%d max=%v findings=%+v",
			rep.Streams, rep.Complete, rep.Degraded, rep.End, size, rep.Max(), rep.Findings)
	}
	b.ReportMetric(float64(rep.Opcodes), "opcodes/op")
}

// BenchmarkFloatList: an opcode-heavy pickle, pickle.dumps of a list of 11
// million floats at protocol 4 (~94 MiB, ~11 million opcodes).
func BenchmarkFloatList(b *testing.B) {
	path, size := floatListInput(b, floatListN)
	benchScan(b, path, size)
}

// BenchmarkFloatList10MiB: the same layout at about a tenth of the size.
func BenchmarkFloatList10MiB(b *testing.B) {
	path, size := floatListInput(b, floatList10MiBN)
	benchScan(b, path, size)
}

// BenchmarkBigBytes: pickle.dumps(b'x' * 2**30, protocol=4), a 1 GiB file
// that is one operand. Only with HALLMARK_BENCH_LARGE=1.
func BenchmarkBigBytes(b *testing.B) {
	if os.Getenv(largeEnv) != "1" {
		b.Skipf("1 GiB input: set %s=1 to run", largeEnv)
	}
	path, size := bigBytesInput(b, bigBytesN)
	benchScan(b, path, size)
}

// BenchmarkBigBytes64MiB: the same layout with a 64 MiB operand.
func BenchmarkBigBytes64MiB(b *testing.B) {
	path, size := bigBytesInput(b, bigBytes64MiBN)
	benchScan(b, path, size)
}

// TestBenchdataMatchesCPython checks, on small inputs only, that the
// generator writes what CPython 3.11's pickle.dumps writes. The digests were
// taken with
//
//	python3 -c 'import pickle,hashlib; print(hashlib.sha256(pickle.dumps([float(i) for i in range(N)], protocol=P)).hexdigest())'
//	python3 -c 'import pickle,hashlib; print(hashlib.sha256(pickle.dumps(b"x"*N, protocol=P)).hexdigest())'
func TestBenchdataMatchesCPython(t *testing.T) {
	cases := []struct {
		floats bool
		n      int
		proto  int
		sha256 string
	}{
		{true, 0, 4, "ec0a6ccf9debf1c16781445c4b9106080d00478b0559469336db7c7b7b9711c8"},
		{true, 1, 4, "9e267837a05b6187a6731c7cc560712505cbaf5f386e2b550cbb41f78997a9db"},
		{true, 3000, 4, "1cbc9fc54048f1a28ca6efa723daf2331413e838150e5230c982004ea3cfa9ac"},
		{true, 3000, 2, "69a3fada26ad02d4cd02deb4fae5d3c8a2218318919865c43c063ff2123b7212"},
		{true, 20000, 4, "206df71f9a2dd0a973e92705dde2e06e0f737189bdbcc29247015eaf0b0307d5"},
		{true, 20000, 2, "172a31c53ffb462e482340d4dff1b4e0daafb3b34228c8efbea4a34d9af3b6d7"},
		{true, 250007, 5, "8cf5197f92edbe63bdbb91e44fac6afa168ba64682602834cb2d205c465130e2"},
		{false, 10, 4, "5c82b1b5b5f71c0bc58cd95a839f4d72eb982d86d49977393828a2eaa0b71dba"},
		{false, 100, 3, "1e4f6afe52627ce6c3abf9667af1570d9658a01d3891b7724e0e69be49a58a22"},
		{false, 65535, 4, "2dfbbb1cdfb47d5f1e4bf2abadba1deedb817ecf714a562d1242e9d8a5272136"},
		{false, 65536, 4, "544be91b4957507bbbcd6eda6cc9a2804fbea9daf84e1454a4ac0dcfc596f1e4"},
		{false, 100000, 4, "9ad30e7b1c8941eabd47d181c478325844f2db338b3f28a132d79933d850ae26"},
		{false, 100000, 3, "c642a2c23ae3cf6928b70324e18ac8a64be0b8c33b56e6b1f43cfb50f6ce78ff"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		var err error
		what := fmt.Sprintf("pickle.dumps(b'x'*%d, protocol=%d)", c.n, c.proto)
		if c.floats {
			what = fmt.Sprintf("pickle.dumps([float(i) for i in range(%d)], protocol=%d)", c.n, c.proto)
			err = benchdata.FloatList(&buf, c.n, c.proto)
		} else {
			err = benchdata.BigBytes(&buf, int64(c.n), c.proto)
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		sum := sha256.Sum256(buf.Bytes())
		if got := hex.EncodeToString(sum[:]); got != c.sha256 {
			t.Errorf("%s: sha256 %s, CPython's is %s", what, got, c.sha256)
		}
		rep := pickle.Scan(bytes.NewReader(buf.Bytes()), pickle.Options{ReaderAt: bytes.NewReader(buf.Bytes()), Size: int64(buf.Len())})
		if rep.Streams != 1 || !rep.Complete || len(rep.Findings) != 0 {
			t.Errorf("%s: streams=%d complete=%v findings=%+v", what, rep.Streams, rep.Complete, rep.Findings)
		}
	}
	// The exact layouts, for reading.
	var buf bytes.Buffer
	if err := benchdata.FloatList(&buf, 3, 4); err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(buf.Bytes()), "80049520000000000000005d9428470000000000000000473ff0000000000000474000000000000000652e"; got != want {
		t.Errorf("FloatList(3, 4) = %s, want %s", got, want)
	}
	buf.Reset()
	if err := benchdata.BigBytes(&buf, 10, 4); err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(buf.Bytes()), "8004950e00000000000000430a78787878787878787878942e"; got != want {
		t.Errorf("BigBytes(10, 4) = %s, want %s", got, want)
	}
}
