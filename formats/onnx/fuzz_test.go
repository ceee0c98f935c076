package onnx

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
	"google.golang.org/protobuf/encoding/protowire"
)

func documented(rule string) bool {
	for _, d := range Rules {
		if d.ID == rule {
			return d.Short != "" && d.Help != ""
		}
	}
	return false
}

func checkInvariants(t *testing.T, data []byte, r Report, lim Limits) {
	t.Helper()
	if !r.Complete && len(r.Findings) == 0 {
		t.Fatal("Complete=false without a finding")
	}
	for _, f := range r.Findings {
		if f.Rule == "" || f.Level < finding.Info || f.Level > finding.Critical || f.Message == "" || !documented(f.Rule) {
			t.Fatalf("bad finding %+v", f)
		}
		if f.Offset < -1 || f.Offset > int64(len(data)) {
			t.Fatalf("offset %d outside the file (%d bytes): %+v", f.Offset, len(data), f)
		}
	}
	lim = lim.withDefaults()
	if len(r.ExternalData) > lim.MaxExternal || len(r.Inputs) > lim.MaxNames || len(r.Outputs) > lim.MaxNames || len(r.Metadata) > lim.MaxMetadata {
		t.Fatalf("a fact grew past its cap: %d ext, %d in, %d out, %d metadata", len(r.ExternalData), len(r.Inputs), len(r.Outputs), len(r.Metadata))
	}
	if r.Nodes < 0 || r.Initializers < 0 || r.Parameters < 0 {
		t.Fatalf("negative count: %+v", r)
	}
}

// FuzzONNX: Scan and Looks never panic and keep their invariants, with
// default and with tiny limits.
func FuzzONNX(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.onnx"))
	more, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*", "*.onnx"))
	for _, p := range append(files, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Add(model(extTensor("w", "a/../../x")))
	f.Add(model(sub(1, st(7, "ai.onnx.contrib"), sub(5, st(1, "g"), sub(6, sub(1, st(4, "If"), sub(5, sub(6, st(2, "x"))))))), st(4, "PyOp")))
	f.Add(model(sub(5, vi(1, 1<<62), vi(1, 1<<62), vi(2, 1), by(9, make([]byte, 3)))))
	f.Add(append(msg(vi(1, 8)), 0x3a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f))
	f.Add(msg(vi(1, 8), raw([]byte{0xfb, 0x07, 0x0b, 0x0c, 0xfc, 0x07}), sub(7)))
	f.Fuzz(func(t *testing.T, data []byte) {
		Looks(data)
		r := Scan(bytes.NewReader(data), int64(len(data)), Limits{})
		checkInvariants(t, data, r, Limits{})
		small := Limits{MaxGraphDepth: 2, MaxNodes: 5, MaxTensors: 5, MaxExternal: 1, MaxNames: 1, MaxMetadata: 1,
			MaxMetadataValue: 4, MaxTextBytes: 8, MaxStringBytes: 8, MaxExternalKeys: 1, MaxFunctions: 1}
		r = Scan(bytes.NewReader(data), int64(len(data)), small)
		checkInvariants(t, data, r, small)
	})
}

// writeLargeModel writes an ONNX model of n initializers of chunk bytes of
// raw_data each (plus a MatMul chain), without holding it in memory.
func writeLargeModel(tb testing.TB, path string, n, chunk int) int64 {
	tb.Helper()
	payload := make([]byte, chunk)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	elems := chunk / 4
	tensorHead := func(i int) []byte {
		return msg(vi(1, uint64(elems)), vi(2, 1), st(8, "layer"+strconv.Itoa(i)+".weight"))
	}
	tensorLen := func(i int) int {
		return len(tensorHead(i)) + protowire.SizeTag(9) + protowire.SizeBytes(chunk)
	}
	var graphHead []byte
	for i := 0; i < n; i++ {
		graphHead = sub(1, st(1, "h"+strconv.Itoa(i)), st(1, "layer"+strconv.Itoa(i)+".weight"), st(2, "h"+strconv.Itoa(i+1)), st(4, "Mul"))(graphHead)
	}
	graphHead = st(2, "large")(graphHead)
	graphLen := len(graphHead)
	for i := 0; i < n; i++ {
		graphLen += protowire.SizeTag(5) + protowire.SizeBytes(tensorLen(i))
	}
	fh, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(fh, 1<<20)
	w.Write(msg(vi(1, 8), st(2, "hallmark-bench"), sub(8, vi(2, 17))))
	w.Write(protowire.AppendVarint(protowire.AppendTag(nil, 7, protowire.BytesType), uint64(graphLen)))
	w.Write(graphHead)
	for i := 0; i < n; i++ {
		w.Write(protowire.AppendVarint(protowire.AppendTag(nil, 5, protowire.BytesType), uint64(tensorLen(i))))
		w.Write(tensorHead(i))
		w.Write(protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.BytesType), uint64(chunk)))
		w.Write(payload)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	st, err := fh.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	fh.Close()
	return st.Size()
}

// BenchmarkONNXLarge scans a 218 MB model whose weights are inline
// raw_data: the bytes skipped are never read, so throughput is in GB/s and
// memory per scan stays at a few hundred KB whatever the model size.
func BenchmarkONNXLarge(b *testing.B) {
	path := filepath.Join(b.TempDir(), "large.onnx")
	size := writeLargeModel(b, path, 52, 4<<20)
	fh, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	b.SetBytes(size)
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := Scan(fh, size, Limits{})
		if !r.Complete || r.Initializers != 52 || r.Parameters != 52<<20 {
			b.Fatalf("complete=%v init=%d params=%d findings=%+v", r.Complete, r.Initializers, r.Parameters, r.Findings)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N), "alloc-bytes/scan")
	b.ReportMetric(float64(size)/1e6, "model-MB")
}

// The memory a scan allocates does not grow with the model: 4x the weights,
// same allocation (within slack for names).
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 80 MB")
	}
	dir := t.TempDir()
	alloc := func(n int) uint64 {
		path := filepath.Join(dir, "m"+strconv.Itoa(n)+".onnx")
		size := writeLargeModel(t, path, 4, n)
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		r := Scan(fh, size, Limits{})
		runtime.ReadMemStats(&b)
		if !r.Complete {
			t.Fatalf("%+v", r.Findings)
		}
		return b.TotalAlloc - a.TotalAlloc
	}
	small, large := alloc(4<<20), alloc(16<<20)
	if large > small+4096 || large > 1<<20 {
		t.Fatalf("allocation grew with the model: %d bytes for 16 MB, %d for 64 MB", small, large)
	}
}

// BenchmarkONNXManyNodes walks 200,000 small nodes (names, inputs, an
// attribute each): the per-field cost of the walker.
func BenchmarkONNXManyNodes(b *testing.B) {
	var nodes []fld
	for i := 0; i < 200_000; i++ {
		n := strconv.Itoa(i)
		nodes = append(nodes, sub(1, st(1, "t"+n), st(1, "w"+n), st(2, "t"+strconv.Itoa(i+1)), st(3, "node_"+n), st(4, "Add"),
			sub(5, st(1, "axis"), vi(3, 1), vi(20, 2))))
	}
	data := model(nodes...)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := Scan(bytes.NewReader(data), int64(len(data)), Limits{})
		if r.Nodes != 200_000 || !r.Complete {
			b.Fatalf("nodes=%d complete=%v", r.Nodes, r.Complete)
		}
	}
}
