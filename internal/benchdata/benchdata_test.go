package benchdata_test

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/internal/benchdata"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestTorchCheckpointMatchesTorch pins the PyTorch generator. The legacy
// digests are torch 1.13's own output, taken with
//
//	sd = collections.OrderedDict()
//	for k in range(N): sd[f"layers.{k}.weight"] = torch.full((NUMEL,), float(k))
//	torch.save(sd, "archive.pt")   # the archive's folder is the base name
//
// and cover SETITEM (one tensor), an empty storage, storages written in
// string order ("10" before "2"), memo indices past 255 (LONG_BINPUT and
// LONG_BINGET) and BININT sizes. The 4 GiB legacy checkpoint of the
// benchmarks (64 × 16,777,216) was compared with torch 1.13's whole
// output too and is identical (BENCHMARKS.md). The current layout is
// pinned to the generator's own output, which python's zipfile lists and
// torch.load loads (TestTorchCheckpointLoads).
func TestTorchCheckpointMatchesTorch(t *testing.T) {
	cases := []struct {
		t      benchdata.Torch
		size   int
		sha256 string
	}{
		{benchdata.Torch{Tensors: 1, Numel: 0, Legacy: true}, 683, "092da476bc83932104bb5e23aa3e22e1a51bc985599cb54e3ebbbaabb6eb0701"},
		{benchdata.Torch{Tensors: 1, Numel: 4, Legacy: true}, 747, "0691c4d4d1d1b3c4c72e04714f94a3b8170b38c07b2158448060659a2c320fa4"},
		{benchdata.Torch{Tensors: 3, Numel: 16, Legacy: true}, 1379, "c761c19d88506451b85cd14db7a65610634ff2c4b3aef189d0a57e918d82a99c"},
		{benchdata.Torch{Tensors: 12, Numel: 5, Legacy: true}, 3649, "cdecb27881179e66fe815526e71ec99652f962d0b468c36d3681aff5178564f9"},
		{benchdata.Torch{Tensors: 40, Numel: 300, Legacy: true}, 57325, "35e6ba39e94d97bd39669da8674e007adf29fbeac2a90f270f0060600b921371"},
		{benchdata.Torch{Tensors: 2, Numel: 70000, Legacy: true}, 560999, "c1bab1c47fa49fe068a85fce9262331ee263472925b4a97000c748b60117b137"},
		// The current writer's records; not torch's bytes (see
		// TorchCheckpoint on .data/serialization_id).
		{benchdata.Torch{Tensors: 12, Numel: 5}, 4479, "c27bbecade48302b317bb105bfa29a6c3b9424f27f50f6e055df963619468d06"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		if err := benchdata.TorchCheckpoint(&buf, c.t); err != nil {
			t.Fatalf("%+v: %v", c.t, err)
		}
		if buf.Len() != c.size || sum(buf.Bytes()) != c.sha256 {
			t.Errorf("%+v: %d bytes, sha256 %s; want %d bytes, %s", c.t, buf.Len(), sum(buf.Bytes()), c.size, c.sha256)
		}
	}
}

// TestTorchCheckpointAligned checks the layout with Go's zip reader: every
// member stored, data at a multiple of 64, the current writer's records in
// order.
func TestTorchCheckpointAligned(t *testing.T) {
	var buf bytes.Buffer
	if err := benchdata.TorchCheckpoint(&buf, benchdata.Torch{Tensors: 11, Numel: 1000}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// Walk the local headers: signature, name, extra, data.
	var names []string
	for off := 0; bytes.HasPrefix(b[off:], []byte("PK\x03\x04")); {
		le := func(i int) int { return int(b[off+i]) | int(b[off+i+1])<<8 }
		nameLen, extraLen := le(26), le(28)
		name := string(b[off+30 : off+30+nameLen])
		extra := b[off+30+nameLen : off+30+nameLen+extraLen]
		data := off + 30 + nameLen + extraLen
		if data%64 != 0 || !bytes.HasPrefix(extra, []byte("FB")) || le(8) != 0 {
			t.Errorf("%s: data at %d, extra %q, method %d", name, data, extra[:min(4, len(extra))], le(8))
		}
		names = append(names, name)
		// The descriptor follows the data; find it by the central size.
		i := bytes.Index(b[data:], []byte("PK\x07\x08"))
		off = data + i + 16
	}
	want := []string{"archive/data.pkl", "archive/.format_version", "archive/.storage_alignment", "archive/byteorder"}
	for k := range 11 {
		want = append(want, fmt.Sprintf("archive/data/%d", k))
	}
	want = append(want, "archive/version", "archive/.data/serialization_id")
	if !slices.Equal(names, want) {
		t.Errorf("members %q, want %q", names, want)
	}
}

// TestTorchCheckpointLoads lists and loads a small checkpoint with
// Python's zipfile and torch.load, when a python3 with torch is installed.
func TestTorchCheckpointLoads(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python")
	}
	py := ""
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(name); err == nil && exec.Command(p, "-c", "import torch").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		t.Skip("no python3 with torch")
	}
	path := filepath.Join(t.TempDir(), "ckpt.pt")
	if _, err := benchdata.WriteTorchCheckpoint(path, benchdata.Torch{Tensors: 12, Numel: 300}); err != nil {
		t.Fatal(err)
	}
	script := `
import json, sys, zipfile, torch
p = sys.argv[1]
names = zipfile.ZipFile(p).namelist()
sd = torch.load(p)
ok = all(str(v.dtype) == "torch.float32" and tuple(v.shape) == (300,) and bool((v == k).all())
         for k, v in enumerate(sd.values()))
print(json.dumps({"names": names, "type": type(sd).__name__, "keys": list(sd.keys()), "ok": ok}))
`
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var got struct {
		Names []string
		Type  string
		Keys  []string
		OK    bool
	}
	if err := json.Unmarshal(out[bytes.LastIndexByte(bytes.TrimSpace(out), '\n')+1:], &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Type != "OrderedDict" || len(got.Keys) != 12 || got.Keys[11] != "layers.11.weight" || !got.OK || len(got.Names) != 18 {
		t.Errorf("torch.load: %+v", got)
	}
}

// TestJoblibMatchesJoblib pins the joblib generator to what joblib 1.2.0
// (numpy 1.24, CPython 3.11) hands zlib, taken with
//
//	i = np.arange(N, dtype=np.uint64)
//	a = ((i * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(11)).astype(np.float64) * 2.0**-53
//	joblib.dump({'a': a}, "j.joblib", compress=('zlib', 3))
//	hashlib.sha256(zlib.decompress(open("j.joblib", "rb").read())).hexdigest()
//
// and checks that the compressed file is one zlib stream with joblib's
// header (78 5e) that decompresses to it.
func TestJoblibMatchesJoblib(t *testing.T) {
	cases := []struct {
		n      int64
		size   int
		sha256 string
	}{
		{0, 226, "b77fe68b1cacc73f1aa909eb9ba81f70c02c456ce51460ffda763a31f88cb3de"},
		{1, 234, "1e67afc31fdb85770e12d1cfc5fa7711c7d9cf92c94cbc17c7fbb01da2807077"},
		{3, 250, "5a4b1b26885016c2308d90ef144612f3075c338424e389a4a661ae186eba297e"},
		{255, 2266, "d1f56809bf2926619e720d95927944bc2d324adf57d11f57a93106c5fabdda5d"},
		{256, 2274, "b0f2f7b9124862e57dbc03b56d5d045b222897606e82887a014c1f232228db92"},
		{1000, 8226, "da876f532c3210ad2316de54ceb7e6db1fe228b2458195562c67f87c0f8bc198"},
		{65536, 524530, "a4684ca7a5b30f4664eccc7aa3618dbb374ea0577c55f9eb664acbc7d8f14e59"},
		{300007, 2400298, "04d5e416844204ea6984b8a838927f3037ea51841b9e88796bbb222edf827a63"},
	}
	for _, c := range cases {
		var raw, z bytes.Buffer
		if err := benchdata.JoblibPickle(&raw, c.n); err != nil {
			t.Fatal(err)
		}
		if raw.Len() != c.size || sum(raw.Bytes()) != c.sha256 {
			t.Errorf("n=%d: %d bytes, sha256 %s; joblib's: %d bytes, %s", c.n, raw.Len(), sum(raw.Bytes()), c.size, c.sha256)
		}
		if err := benchdata.JoblibZlib(&z, c.n); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(z.Bytes(), []byte{0x78, 0x5e}) {
			t.Errorf("n=%d: zlib header % x, joblib's is 78 5e", c.n, z.Bytes()[:2])
		}
		zr, err := zlib.NewReader(bytes.NewReader(z.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(out, raw.Bytes()) {
			t.Errorf("n=%d: zlib stream does not decompress to the pickle (err %v)", c.n, err)
		}
	}
	// The exact layout of the smallest, for reading.
	var raw bytes.Buffer
	if err := benchdata.JoblibPickle(&raw, 1); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw.String(), "\x80\x04\x95\xd1\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94\x8c\x13joblib.numpy_pickle") ||
		!strings.HasSuffix(raw.String(), "numpy_array_alignment_bytes\x94K\x10ub\x03\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00s.") {
		t.Errorf("JoblibPickle(1) = %q", raw.String())
	}
}

func TestWeylFloat64(t *testing.T) {
	// numpy's values for i = 0..4 and 2^27-1.
	for i, want := range map[uint64]float64{0: 0, 1: 0.6180339887498948, 2: 0.2360679774997897, 3: 0.8541019662496845, 4: 0.4721359549995794, 1<<27 - 1: 0.17875445800810574} {
		if got := benchdata.WeylFloat64(i); got != want {
			t.Errorf("WeylFloat64(%d) = %v, want %v", i, got, want)
		}
	}
}
