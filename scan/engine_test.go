package scan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"github.com/hallmarkdev/hallmark/internal/limits"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hallmarkdev/hallmark/source"
)

// memReader is a source.Reader over bytes; it counts what is read.
type memReader struct {
	*bytes.Reader
	read   *atomic.Int64 // bytes returned by Read and ReadAt
	closed *atomic.Bool
}

func (m memReader) Read(p []byte) (int, error) {
	n, err := m.Reader.Read(p)
	m.read.Add(int64(n))
	return n, err
}

func (m memReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := m.Reader.ReadAt(p, off)
	m.read.Add(int64(n))
	return n, err
}

func (m memReader) Close() error { m.closed.Store(true); return nil }

// memFile is a source.File whose Open returns a reader over b.
type memFile struct {
	source.File
	read   atomic.Int64
	closed atomic.Bool
	opens  atomic.Int32
}

func newMemFile(name string, b []byte) *memFile {
	m := &memFile{}
	m.File = source.File{Path: name, Size: int64(len(b)), Open: func() (source.Reader, error) {
		m.opens.Add(1)
		return memReader{Reader: bytes.NewReader(b), read: &m.read, closed: &m.closed}, nil
	}}
	return m
}

func scanBytes(t *testing.T, e *Engine, name string, b []byte) FileResult {
	t.Helper()
	mf := newMemFile(name, b)
	res := e.File(context.Background(), mf.File, name)
	if !mf.closed.Load() {
		t.Errorf("%s: reader not closed", name)
	}
	return res
}

func fixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "pickles", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tarHeader() []byte {
	h := make([]byte, 1024)
	copy(h, "model/weights.bin")
	copy(h[257:], "ustar\x0000")
	return h
}

func safetensorsHeader() []byte {
	hdr := `{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	b = append(b, hdr...)
	return append(b, 0, 0, 0x80, 0x3f)
}

var sniffTable = []struct {
	name     string
	head     []byte
	complete bool
	want     string
}{
	{"zip local header", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), false, FormatZip},
	{"zip empty archive", []byte("PK\x05\x06" + strings.Repeat("\x00", 18)), true, FormatZip},
	{"gzip", []byte{0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03}, false, FormatGzip},
	{"bzip2", []byte("BZh91AY&SY"), false, FormatBzip2},
	{"bzip2 bad level", []byte("BZh0xxxxxx"), true, FormatUnknown},
	{"bzip2 magic only", []byte("BZh"), true, FormatUnknown},
	{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0x00, 0x00, 0x04}, false, FormatXz},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x00}, false, FormatZstd},
	{"lz4 frame", []byte{0x04, 0x22, 0x4d, 0x18, 0x64, 0x40}, false, FormatLz4},
	{"7z", []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04}, false, Format7z},
	{"numpy", []byte("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }"), false, FormatNumpy},
	{"gguf", []byte("GGUF\x03\x00\x00\x00\x00\x00\x00\x00"), false, FormatGGUF},
	{"hdf5", []byte("\x89HDF\r\n\x1a\n\x00\x00\x00\x00"), false, FormatHDF5},
	{"tar ustar at 257", tarHeader(), false, FormatTar},
	{"ustar too short", tarHeader()[:261], true, FormatUnknown},
	{"safetensors", safetensorsHeader(), true, FormatSafetensors},
	{"safetensors zero length", append(make([]byte, 8), "{}xx"...), true, FormatUnknown},
	{"pickle protocol 0 without PROTO", []byte("(dp0\nVa\np1\nI1\ns."), true, FormatPickle},
	{"pickle protocol 0 GLOBAL", []byte("cos\nsystem\n(S'echo hallmark-test-marker'\ntR."), true, FormatPickle},
	{"pickle protocol 1 without PROTO", []byte("}q\x00X\x01\x00\x00\x00aq\x01K\x01s."), true, FormatPickle},
	{"pickle protocol 2", []byte("\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s."), true, FormatPickle},
	{"pickle protocol 4 framed", []byte("\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s."), true, FormatPickle},
	{"plain text", []byte("Hello world"), true, FormatUnknown},
	{"plain text window", []byte(strings.Repeat("Hello world. ", 100)), false, FormatUnknown},
	{"json object", []byte(`{"a": 1}`), true, FormatJSON},
	{"json array", []byte(`[1, 2]`), true, FormatUnknown},
	{"json whose ninth byte opens a list", []byte(`{"stop":["<|eot_id|>"]}`), true, FormatJSON},
	{"hdf5 after a user block", append(make([]byte, 512), "\x89HDF\r\n\x1a\n\x00"...), true, FormatHDF5},
	{"safetensors huge header length", append([]byte{0, 0, 0, 0, 0, 0, 0, 0x80}, `{"a":{}}`...), true, FormatSafetensors},
	{"safetensors padded", append([]byte{9, 0, 0, 0, 0, 0, 0, 0}, ` {"a":1}`...), true, FormatSafetensors},
	{"safetensors whose length starts like gzip", append([]byte{0x1f, 0x8b, 0, 0, 0, 0, 0, 0}, `{"a":{"dtype":"F32"}}`...), true, FormatSafetensors},
	{"json array", []byte(`[1, 2, 3]`), true, FormatUnknown},
	{"markdown", []byte("# Model card\n\nThis is a model.\n"), true, FormatUnknown},
	{"empty file", []byte{}, true, FormatUnknown},
	{"empty window", []byte{}, false, FormatUnknown},
	{"single NUL", []byte{0}, true, FormatUnknown},
	{"PROTO then garbage", []byte{0x80, 0x02, 0xff, 0xff}, true, FormatUnknown},
}

func TestSniff(t *testing.T) {
	for _, tt := range sniffTable {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := Sniff(tt.head, sizeFor(tt.head, tt.complete)); got != tt.want {
				t.Errorf("Sniff(%q, %v) = %q, want %q", truncate(tt.head), tt.complete, got, tt.want)
			}
		})
	}
}

func truncate(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// Every fixture pickle is sniffed as a pickle, and the name never matters.
func TestSniffFixtures(t *testing.T) {
	for _, dir := range []string{"benign", "malicious"} {
		names, err := filepath.Glob(filepath.Join("..", "testdata", "pickles", dir, "*.pkl"))
		if err != nil || len(names) == 0 {
			t.Fatalf("no fixtures in %s: %v", dir, err)
		}
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			head := b[:min(len(b), 64<<10)]
			if got, _ := Sniff(head, int64(len(b))); got != FormatPickle {
				t.Errorf("%s: Sniff = %q", n, got)
			}
		}
	}
}

func TestEngineSHA256(t *testing.T) {
	e := New(Config{})
	big := append([]byte("\x80\x04\x8e"), binary.LittleEndian.AppendUint64(nil, 2<<20)...)
	big = append(big, bytes.Repeat([]byte{0xab}, 2<<20)...)
	big = append(big, '.')
	cases := []struct {
		name   string
		data   []byte
		format string
	}{
		{"benign.pkl", fixture(t, "benign/sklearn_logreg_p4.pkl"), FormatPickle},
		{"p0.pkl", fixture(t, "benign/stdlib_ordereddict_p0.pkl"), FormatPickle},
		{"evil.pkl", fixture(t, "malicious/g_os_system_p2.pkl"), FormatPickle},
		{"stacked.pkl", fixture(t, "malicious/b9_stacked_streams_p2.pkl"), FormatPickle},
		{"trailing.pkl", fixture(t, "malicious/b9_nullifai_garbage_p2.pkl"), FormatPickle},
		{"big-operand.pkl", big, FormatPickle},
		{"README.md", []byte("# hello\n"), FormatUnknown},
		{"weights.bin", bytes.Repeat([]byte("\x00\x01\x02\x03 tensor bytes "), 10000), FormatUnknown},
		{"empty", []byte{}, FormatUnknown},
		{"archive.zip", append([]byte("PK\x03\x04"), bytes.Repeat([]byte{7}, 100<<10)...), FormatZip},
		{"data.npy", []byte("\x93NUMPY\x01\x00v\x00{}"), FormatNumpy},
		{"model.safetensors", safetensorsHeader(), FormatSafetensors},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mf := newMemFile(c.name, c.data)
			res := e.File(context.Background(), mf.File, c.name)
			if res.Error != "" {
				t.Fatalf("Error: %s", res.Error)
			}
			if res.Format != c.format {
				t.Errorf("Format = %q, want %q", res.Format, c.format)
			}
			sum := sha256.Sum256(c.data)
			if want := hex.EncodeToString(sum[:]); res.SHA256 != want {
				t.Errorf("SHA256 = %s, want %s", res.SHA256, want)
			}
			if res.Size != int64(len(c.data)) || res.Path != c.name {
				t.Errorf("Size, Path = %d, %q", res.Size, res.Path)
			}
			if mf.opens.Load() != 1 || !mf.closed.Load() {
				t.Errorf("opened %d times, closed %v", mf.opens.Load(), mf.closed.Load())
			}
			// One pass: the sniff window plus the body, never the body twice.
			// Archives are read at offsets (directory, member heads) and
			// streamed once more for the hash.
			size := int64(len(c.data))
			limit := size + min(size, 64<<10)
			if c.format == FormatPickle {
				limit += min(size, 65557) // the zip-polyglot check reads the tail of pickles with trailing bytes
			}
			if c.format == FormatZip {
				limit = 2*size + 2*min(size, 64<<10) + 65557
			}
			if c.format == FormatSafetensors {
				limit += size // the header is read at its offset, then hashed with the rest
			}
			// Every file's tail is checked for a zip directory (zipfile
			// reads archives behind any prefix), and powers of two for an
			// HDF5 superblock after a user block.
			limit += min(size, 65557) + 64*8
			if mf.read.Load() > limit {
				t.Errorf("read %d bytes of a %d-byte file (more than one pass)", mf.read.Load(), size)
			}
		})
	}
}

func findingsOf(res FileResult, rule string) []Finding {
	var out []Finding
	for _, f := range res.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func TestEngineExtensionMismatch(t *testing.T) {
	e := New(Config{})
	b := fixture(t, "benign/numpy_0d_p2.pkl")
	for _, name := range []string{"model.json", "dir/CONFIG.JSON", "weights.safetensors", "notes.txt", "tokenizer.model"} {
		res := scanBytes(t, e, name, b)
		if res.Format != FormatPickle || !res.Scanned {
			t.Errorf("%s: Format %q, Scanned %v", name, res.Format, res.Scanned)
		}
		fs := findingsOf(res, RuleExtensionMismatch)
		if len(fs) != 1 || fs[0].Severity != Medium || fs[0].Path != name {
			t.Errorf("%s: extension findings %+v", name, fs)
		}
		// A pickle named .safetensors is also read as what its name
		// promises, and the safetensors parser refuses it: unsafe.
		want := "suspicious"
		if parserHint(name) != "" {
			want = "unsafe"
		}
		if res.Verdict != want {
			t.Errorf("%s: Verdict %q, want %q", name, res.Verdict, want)
		}
	}
	for _, name := range []string{"model.pkl", "pytorch_model.bin", "data.pickle", "noext", "archive/data.pkl", "model.joblib"} {
		res := scanBytes(t, e, name, b)
		if fs := findingsOf(res, RuleExtensionMismatch); len(fs) != 0 {
			t.Errorf("%s: unexpected %+v", name, fs)
		}
		if res.Verdict != "clean" {
			t.Errorf("%s: Verdict %q", name, res.Verdict)
		}
	}
	// The finding is about pickles: a JSON file named .json is fine.
	res := scanBytes(t, e, "config.json", []byte(`{"a": 1}`))
	if fs := findingsOf(res, RuleExtensionMismatch); len(fs) != 0 {
		t.Errorf("config.json: %+v", fs)
	}
}

// A container that cannot be read fails closed: never clean.
func TestEngineContainer(t *testing.T) {
	e := New(Config{})
	for _, c := range []struct{ name, head, format string }{
		{"model.zip", "PK\x03\x04rest", FormatZip},
		{"pytorch_model.bin", "PK\x03\x04rest", FormatZip},
		{"x.tar.gz", "\x1f\x8b\x08\x00rest", FormatGzip},
		{"arr.npy", "\x93NUMPY\x01\x00rest", FormatNumpy},
	} {
		res := scanBytes(t, e, c.name, []byte(c.head))
		if res.Format != c.format || res.Max() < High {
			t.Errorf("%s: Format %q, max %v, findings %+v", c.name, res.Format, res.Max(), res.Findings)
		}
		if res.Verdict == "clean" || res.Complete {
			t.Errorf("%s: Verdict %q Complete %v", c.name, res.Verdict, res.Complete)
		}
	}
}

func TestEngineNotScanned(t *testing.T) {
	e := New(Config{})
	for _, c := range []struct{ name, data string }{
		{"README.md", "Hello world"},
		{"empty.txt", ""},
		{"weights.bin", "\x00\x01\x02\x03"},
	} {
		res := scanBytes(t, e, c.name, []byte(c.data))
		fs := findingsOf(res, RuleNotScanned)
		if len(fs) != 1 || fs[0].Severity != Info || len(res.Findings) != 1 {
			t.Errorf("%s: findings %+v", c.name, res.Findings)
		}
		if res.Verdict != "not-scanned" || res.Scanned || res.Complete || res.Facts != nil {
			t.Errorf("%s: Verdict %q Scanned %v Complete %v", c.name, res.Verdict, res.Scanned, res.Complete)
		}
	}
}

func TestEngineBenignPickle(t *testing.T) {
	e := New(Config{})
	for _, name := range []string{"benign/sklearn_logreg_p4.pkl", "benign/numpy_0d_p0.pkl", "benign/torch_state_dict.data.pkl", "benign/stdlib_ordereddict_p5.pkl"} {
		res := scanBytes(t, e, "model.pkl", fixture(t, name))
		if res.Format != FormatPickle || !res.Scanned || !res.Complete {
			t.Errorf("%s: Format %q Scanned %v Complete %v", name, res.Format, res.Scanned, res.Complete)
		}
		if res.Verdict != "clean" || res.Max() >= Medium || res.Error != "" {
			t.Errorf("%s: Verdict %q, findings %+v, error %q", name, res.Verdict, res.Findings, res.Error)
		}
		if res.Facts == nil || res.Facts.Format != FormatPickle {
			t.Errorf("%s: Facts %+v", name, res.Facts)
		}
	}
	res := scanBytes(t, e, "model.pkl", fixture(t, "benign/sklearn_logreg_p4.pkl"))
	if res.Facts.Framework != "scikit-learn" || res.Facts.PickleProtocol != 4 {
		t.Errorf("Facts %+v", res.Facts)
	}
}

func TestEngineMaliciousPickle(t *testing.T) {
	e := New(Config{})
	res := scanBytes(t, e, "evil.pkl", fixture(t, "malicious/g_os_system_p2.pkl"))
	if res.Verdict != "malicious" || res.Max() != Critical {
		t.Fatalf("Verdict %q, findings %+v", res.Verdict, res.Findings)
	}
	if f := res.Findings[0]; f.Path != "evil.pkl" || !strings.Contains(f.Evidence, "os.system") || f.Count < 1 {
		t.Errorf("first finding %+v", f)
	}
	// Findings are ordered by severity, highest first.
	res = scanBytes(t, e, "evil.json", fixture(t, "malicious/g_os_system_p2.pkl"))
	for i := 1; i < len(res.Findings); i++ {
		if res.Findings[i].Severity > res.Findings[i-1].Severity {
			t.Errorf("findings not ordered: %+v", res.Findings)
		}
	}
}

func TestEngineOverrides(t *testing.T) {
	b := fixture(t, "malicious/g_sleepy_unknown_function_p2.pkl")
	res := scanBytes(t, New(Config{}), "m.pkl", b)
	if res.Verdict != "suspicious" || res.Max() != Medium {
		t.Fatalf("without override: %q %+v", res.Verdict, res.Findings)
	}
	res = scanBytes(t, New(Config{Overrides: map[string]Severity{"pickle/unknown-call": Low}}), "m.pkl", b)
	if res.Verdict != "clean" || res.Max() != Low {
		t.Errorf("with override: %q %+v", res.Verdict, res.Findings)
	}
	res = scanBytes(t, New(Config{Overrides: map[string]Severity{RuleNotScanned: High}}), "README.md", []byte("hi"))
	if res.Verdict != "unsafe" {
		t.Errorf("not-scanned raised to high: %q", res.Verdict)
	}
}

func TestEngineCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	mf := newMemFile("w.bin", bytes.Repeat([]byte("x"), 1<<20))
	res := New(Config{}).File(ctx, mf.File, "w.bin")
	if res.Error == "" || res.SHA256 != "" {
		t.Errorf("cancelled scan: Error %q SHA256 %q", res.Error, res.SHA256)
	}
}

// errFile fails to open, or fails reads after n bytes.
func errFile(name string, openErr error, data []byte, failAfter int64) source.File {
	return source.File{Path: name, Size: int64(len(data)), Open: func() (source.Reader, error) {
		if openErr != nil {
			return nil, openErr
		}
		return failingReader{bytes.NewReader(data), failAfter}, nil
	}}
}

type failingReader struct {
	*bytes.Reader
	after int64
}

var errDisk = errors.New("simulated I/O error")

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) <= f.after {
		return f.Reader.ReadAt(p, off)
	}
	n := min(max(0, f.after-off), int64(len(p)))
	m, _ := f.Reader.ReadAt(p[:n], off)
	return m, errDisk
}

func (failingReader) Close() error { return nil }

func TestEngineErrors(t *testing.T) {
	e := New(Config{})
	res := e.File(context.Background(), errFile("gone.pkl", errDisk, nil, 0), "gone.pkl")
	if !strings.Contains(res.Error, "gone.pkl") || !strings.Contains(res.Error, errDisk.Error()) {
		t.Errorf("open error: %q", res.Error)
	}
	data := bytes.Repeat([]byte("x"), 200<<10)
	res = e.File(context.Background(), errFile("w.bin", nil, data, 100<<10), "w.bin")
	if !strings.Contains(res.Error, errDisk.Error()) || res.SHA256 != "" {
		t.Errorf("read error: Error %q SHA256 %q", res.Error, res.SHA256)
	}
	res = e.File(context.Background(), errFile("head.bin", nil, data, 10), "head.bin")
	if !strings.Contains(res.Error, errDisk.Error()) {
		t.Errorf("sniff read error: Error %q", res.Error)
	}
}

func TestEngineErrorVerdict(t *testing.T) {
	e := New(Config{})
	res := e.File(context.Background(), errFile("gone.pkl", errDisk, nil, 0), "gone.pkl")
	if res.Verdict != "error" {
		t.Errorf("open error: Verdict %q, want error", res.Verdict)
	}
	data := bytes.Repeat([]byte("x"), 200<<10)
	res = e.File(context.Background(), errFile("w.bin", nil, data, 100<<10), "w.bin")
	if res.Verdict != "error" {
		t.Errorf("read error: Verdict %q, want error", res.Verdict)
	}
}

// Files that CPython's unpickler loads (and whose loading calls os.system)
// but that the engine does not scan as pickles.
func TestEngineUnscannedPickles(t *testing.T) {
	call := "cos\nsystem\n(S'echo hallmark-test-marker'\ntR."
	big := append([]byte("X"), binary.LittleEndian.AppendUint32(nil, 70000)...)
	big = append(big, bytes.Repeat([]byte("a"), 70000)...)
	cases := map[string][]byte{
		// BINFLOAT 'G' + 8 bytes "GUF\x03\0\0\0\0", POP, then the call.
		"gguf magic": []byte("GGUF\x03\x00\x00\x00\x00" + "0" + call),
		// SHORT_BINUNICODE of 8 bytes whose first 8 file bytes read as a
		// small little-endian header length followed by '{'.
		"safetensors header": []byte("\x8c\x08A\x05\x00\x00\x00\x00{A" + "0" + call),
		// BINUNICODE longer than the 64 KiB sniff window, no PROTO.
		"long first operand": append(big, "0"+call...),
		// STRING with a 70000-byte text operand, no PROTO.
		"long first text operand": []byte("S'" + strings.Repeat("a", 70000) + "'\n0" + call),
		// No PROTO, STACK_GLOBAL, REDUCE and no STOP: the call runs, then
		// the unpickler reports the missing STOP.
		"no PROTO no STOP": []byte("\x8c\x02os\x8c\x06system\x93\x8c\x1aecho hallmark-test-marker\x85R"),
	}
	e := New(Config{})
	for name, b := range cases {
		res := scanBytes(t, e, "model.pkl", b)
		if !res.Scanned || res.Max() < Critical {
			t.Errorf("%s: Format %q Scanned %v Verdict %q: a pickle that calls os.system passes", name, res.Format, res.Scanned, res.Verdict)
		}
	}
}

// sizeFor is a file size for a sniff window: the window itself when it is
// the whole file, else something larger.
func sizeFor(head []byte, complete bool) int64 {
	if complete {
		return int64(len(head))
	}
	return int64(len(head)) + 1<<20
}

// A file named like a parsed format whose content matches no signature is
// handed to that format's parser, which says precisely what is wrong.
func TestEngineNameHintedParsers(t *testing.T) {
	e := New(Config{})
	for _, c := range []struct{ name, data, format, rule string }{
		{"model.safetensors", "not a header at all", FormatSafetensors, "safetensors/"},
		{"model.gguf", "GGML\x03\x00\x00\x00junk", FormatGGUF, "gguf/"},
		{"model.onnx", "\xff\xff\xff\xff junk", FormatONNX, "onnx/malformed"},
		{"weights.h5", "not hdf5", FormatHDF5, "hdf5/"},
		{"saved_model.pb", "\xff\xff\xff\xff", FormatTF, "tf/malformed"},
		{"model.pt", "junk that is nothing", FormatUnknown, RuleUnrecognised},
	} {
		res := scanBytes(t, e, c.name, []byte(c.data))
		ok := false
		for _, f := range res.Findings {
			if strings.HasPrefix(f.Rule, c.rule) && f.Severity >= High {
				ok = true
			}
		}
		if res.Format != c.format || !ok || res.Verdict == "clean" {
			t.Errorf("%s: format %s verdict %s:%s", c.name, res.Format, res.Verdict, describeFile(res))
		}
	}
	// Raw tensor bytes under a neutral name stay "not scanned".
	if res := scanBytes(t, e, "weights.bin", []byte("\x00\x01\x02")); res.Max() > Info {
		t.Errorf("weights.bin flagged:%s", describeFile(res))
	}
}

// A JSON file beyond the in-memory cap (a big tokenizer.json) is streamed:
// its chat template is still analysed and its size is no finding.
func TestEngineBigJSONStreamed(t *testing.T) {
	lim := limits.Default()
	lim.MaxInMemory = 1 << 10
	e := New(Config{Limits: lim})
	big := `{"model": {"vocab": {"` + strings.Repeat("a", 4<<10) + `": 1}}, "chat_template": "{{ cycler.__init__.__globals__ }}"}`
	res := scanBytes(t, e, "tokenizer_config.json", []byte(big))
	if res.Max() != Critical || len(findingsOf(res, "hf/too-large")) != 0 {
		t.Errorf("streamed JSON:%s", describeFile(res))
	}
	res = scanBytes(t, e, "tokenizer.json", []byte(strings.Replace(big, "cycler.__init__.__globals__", "messages", 1)))
	if res.Max() > Info || !res.Complete {
		t.Errorf("benign big JSON:%s", describeFile(res))
	}
}
