package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

const corpusDir = "../../testdata/safetensors"

// file frames a header the way the crate does (space padding to 8) and
// appends data.
func file(header string, data []byte) []byte {
	h := []byte(header)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(len(h)))
	return append(append(b[:], h...), data...)
}

func scanBytes(b []byte) Report {
	return Scan(bytes.NewReader(b), int64(len(b)), Limits{})
}

func has(r Report, rule string, lvl finding.Level) bool {
	for _, f := range r.Findings {
		if f.Rule == rule && f.Level == lvl {
			return true
		}
	}
	return false
}

func dump(r Report) string {
	var sb strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&sb, "\n  %s %s @%d [%s] %s", f.Level, f.Rule, f.Offset, f.Where, f.Message)
	}
	return sb.String()
}

const w4 = `{"dtype":"F32","shape":[4],"data_offsets":[0,16]}`

func TestScanRules(t *testing.T) {
	z16 := make([]byte, 16)
	tests := []struct {
		name   string
		in     []byte
		rule   string // "" means: no findings at all
		level  finding.Level
		incomp bool // Complete must be false
		absent string
	}{
		{"valid", file(`{"w":`+w4+`}`, z16), "", 0, false, ""},
		{"valid metadata first", file(`{"__metadata__":{"format":"pt"},"w":`+w4+`}`, z16), "", 0, false, ""},
		{"empty header object", file(`{}`, nil), "", 0, false, ""},
		{"scalar", file(`{"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}`, make([]byte, 8)), "", 0, false, ""},
		{"zero-size tensor", file(`{"e":{"dtype":"F32","shape":[0,7],"data_offsets":[16,16]},"w":`+w4+`}`, z16), "", 0, false, ""},
		{"F4 whole bytes", file(`{"q":{"dtype":"F4","shape":[2,3],"data_offsets":[0,3]}}`, make([]byte, 3)), "", 0, false, ""},
		{"null metadata", file(`{"__metadata__":null,"w":`+w4+`}`, z16), "", 0, false, ""},
		{"too small", []byte{1, 2, 3}, RuleMalformed, finding.High, true, ""},
		{"header 2^63", append([]byte{0, 0, 0, 0, 0, 0, 0, 0x80}, file(`{}`, nil)[8:]...), RuleHeaderTooLarge, finding.High, true, ""},
		{"header past EOF", append([]byte{0, 1, 0, 0, 0, 0, 0, 0}, '{', '}'), RuleHeaderBounds, finding.High, true, ""},
		{"empty header", []byte{0, 0, 0, 0, 0, 0, 0, 0}, RuleBadJSON, finding.High, true, ""},
		{"not json", file(`{"w":`, nil), RuleBadJSON, finding.High, true, ""},
		{"array header", file(`[1]`, nil), RuleNotObject, finding.High, true, ""},
		{"string header", file(`"x"`, nil), RuleNotObject, finding.High, true, ""},
		{"leading space", file(` {"w":`+w4+`}`, z16), RuleHeaderStart, finding.Low, false, ""},
		{"trailing garbage", file(`{"w":`+w4+`}xyz`, z16), RuleTrailingJSON, finding.High, false, ""},
		{"trailing newline", file(`{"w":`+w4+"}\n", z16), RuleTrailingJSON, finding.Low, false, ""},
		{"bad utf8 key", file("{\"w\xc3\":"+w4+"}", z16), RuleBadUTF8, finding.High, false, ""},
		{"bad utf8 metadata", file("{\"__metadata__\":{\"a\":\"\xed\xa0\x80\"},\"w\":"+w4+"}", z16), RuleBadUTF8, finding.High, false, ""},
		{"lone high surrogate", file(`{"w\ud83d":`+w4+`}`, z16), RuleBadUTF8, finding.High, false, ""},
		{"lone low surrogate", file(`{"w\udc00":`+w4+`}`, z16), RuleBadUTF8, finding.High, false, ""},
		{"duplicate tensor", file(`{"w":`+w4+`,"w":`+w4+`}`, z16), RuleDuplicateKey, finding.High, false, ""},
		{"duplicate metadata", file(`{"__metadata__":{},"__metadata__":{},"w":`+w4+`}`, z16), RuleDuplicateKey, finding.High, false, ""},
		{"duplicate metadata key", file(`{"__metadata__":{"a":"1","a":"2"},"w":`+w4+`}`, z16), RuleDuplicateKey, finding.High, false, ""},
		{"duplicate shape", file(`{"w":{"dtype":"F32","shape":[4],"shape":[4],"data_offsets":[0,16]}}`, z16), RuleDuplicateKey, finding.High, false, ""},
		{"duplicate nested key", file(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"x":[{"a":{"b":1,"b":2}}]}}`, z16), RuleDuplicateKey, finding.High, false, ""},
		{"nested keys distinct", file(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"x":[{"a":{"a":1,"b":[{"a":2}]},"b":"a"}]}}`, z16), RuleUnknownField, finding.Low, false, RuleDuplicateKey},
		{"entry not object", file(`{"w":[1,2]}`, nil), RuleBadEntry, finding.High, false, ""},
		{"missing dtype", file(`{"w":{"shape":[4],"data_offsets":[0,16]}}`, z16), RuleBadEntry, finding.High, false, ""},
		{"dtype number", file(`{"w":{"dtype":5,"shape":[4],"data_offsets":[0,16]}}`, z16), RuleBadEntry, finding.High, false, ""},
		{"shape float", file(`{"w":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}}`, z16), RuleBadEntry, finding.High, false, ""},
		{"shape exponent", file(`{"w":{"dtype":"F32","shape":[4e0],"data_offsets":[0,16]}}`, z16), RuleBadEntry, finding.High, false, ""},
		{"shape negative", file(`{"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}`, z16), RuleBadEntry, finding.High, false, ""},
		{"shape too big", file(`{"w":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,16]}}`, z16), RuleBadEntry, finding.High, false, ""},
		{"offsets three", file(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16,32]}}`, z16), RuleBadEntry, finding.High, false, ""},
		{"offsets reversed", file(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[16,0]}}`, z16), RuleBadEntry, finding.High, false, ""},
		{"unknown field", file(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"x":{"y":[1,{"z":2}]}}}`, z16), RuleUnknownField, finding.Low, false, ""},
		{"unknown dtype", file(`{"w":{"dtype":"F128","shape":[4],"data_offsets":[0,16]}}`, z16), RuleUnknownDtype, finding.High, false, ""},
		{"shape overflow", file(`{"w":{"dtype":"F32","shape":[4294967296,4294967296,2],"data_offsets":[0,16]}}`, z16), RuleShapeOverflow, finding.High, false, ""},
		{"overflow then zero", file(`{"w":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}`, nil), RuleShapeOverflow, finding.High, false, ""},
		{"bits overflow", file(`{"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,16]}}`, z16), RuleShapeOverflow, finding.High, false, ""},
		{"size mismatch", file(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}`, z16), RuleSizeMismatch, finding.High, false, ""},
		{"sub-byte not whole", file(`{"w":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}`, make([]byte, 2)), RuleSizeMismatch, finding.High, false, ""},
		{"out of bounds", file(`{"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}`, z16), RuleOutOfBounds, finding.High, false, ""},
		{"overlap", file(`{"a":`+w4+`,"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}`, make([]byte, 24)), RuleOverlap, finding.High, false, ""},
		{"empty inside another", file(`{"a":`+w4+`,"e":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}`, z16), RuleOverlap, finding.Low, false, ""},
		{"gap at start", file(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}`, make([]byte, 24)), RuleGap, finding.Medium, false, ""},
		{"trailing data", file(`{"w":`+w4+`}`, make([]byte, 20)), RuleTrailingData, finding.Medium, false, ""},
		{"metadata array", file(`{"__metadata__":["a"],"w":`+w4+`}`, z16), RuleBadMetadata, finding.High, false, ""},
		{"metadata number value", file(`{"__metadata__":{"a":1},"w":`+w4+`}`, z16), RuleBadMetadata, finding.High, false, ""},
		{"deep nesting", file(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"x":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+`}}`, z16), RuleBadJSON, finding.High, false, ""},
		{"nesting 128", file(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"x":`+strings.Repeat("[", 126)+strings.Repeat("]", 126)+`}}`, z16), RuleBadJSON, finding.High, false, ""},
		{"nesting 127", file(`{"__metadata__":{},"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"x":`+strings.Repeat("[", 125)+strings.Repeat("]", 125)+`}}`, z16), RuleUnknownField, finding.Low, false, RuleBadJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scanBytes(tc.in)
			if tc.rule == "" {
				if len(r.Findings) != 0 || !r.Complete {
					t.Fatalf("want no findings, complete; got complete=%v%s", r.Complete, dump(r))
				}
				return
			}
			if !has(r, tc.rule, tc.level) {
				t.Fatalf("want %s at %s; got%s", tc.rule, tc.level, dump(r))
			}
			if tc.incomp && r.Complete {
				t.Fatalf("want Complete=false")
			}
			for _, f := range r.Findings {
				if f.Rule == tc.absent {
					t.Fatalf("unexpected %s%s", tc.absent, dump(r))
				}
			}
		})
	}
}

func TestFacts(t *testing.T) {
	hdr := `{"__metadata__":{"format":"pt","note":"` + strings.Repeat("x", 3000) + `"},` +
		`"b":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},` +
		`"a":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},` +
		`"s":{"dtype":"I64","shape":[],"data_offsets":[20,28]}}`
	b := file(hdr, make([]byte, 28))
	r := scanBytes(b)
	if len(r.Findings) != 0 || !r.Complete {
		t.Fatalf("unexpected findings%s", dump(r))
	}
	if r.Tensors != 3 || r.Parameters != 9 {
		t.Errorf("tensors %d params %d, want 3 and 9", r.Tensors, r.Parameters)
	}
	if !reflect.DeepEqual(r.Dtypes, []string{"BF16", "F32", "I64"}) {
		t.Errorf("dtypes %v", r.Dtypes)
	}
	if r.Metadata["format"] != "pt" || len(r.Metadata["note"]) > 1024+len("…") || !strings.HasPrefix(r.Metadata["note"], "xxx") {
		t.Errorf("metadata %q… (%d bytes)", r.Metadata["format"], len(r.Metadata["note"]))
	}
	if want := int64(len(b) - 8 - 28); r.HeaderSize != want {
		t.Errorf("header size %d, want %d", r.HeaderSize, want)
	}
}

func TestMetadataCap(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(`{"__metadata__":{`)
	for i := 0; i < 100; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `"k%d":"v"`, i)
	}
	sb.WriteString(`}}`)
	r := scanBytes(file(sb.String(), nil))
	if len(r.Metadata) != 64 || len(r.Findings) != 0 {
		t.Fatalf("kept %d metadata entries, want 64%s", len(r.Metadata), dump(r))
	}
}

func TestTensorCap(t *testing.T) {
	hdr := `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"c":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}`
	b := file(hdr, make([]byte, 3))
	r := Scan(bytes.NewReader(b), int64(len(b)), Limits{MaxTensors: 2})
	if r.Complete || !has(r, RuleLimit, finding.Medium) || r.Tensors != 3 {
		t.Fatalf("complete=%v tensors=%d%s", r.Complete, r.Tensors, dump(r))
	}
}

// guardReader fails the test if anything past the header is read.
type guardReader struct {
	t     *testing.T
	head  []byte
	limit int64
}

func (g *guardReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > g.limit {
		g.t.Errorf("read [%d,%d) beyond the header end %d", off, off+int64(len(p)), g.limit)
	}
	if off >= int64(len(g.head)) {
		return 0, io.EOF
	}
	n := copy(p, g.head[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func TestNeverReadsTensorData(t *testing.T) {
	// A 1 TiB "file" whose header describes one big tensor.
	const size = 1 << 40
	hdr := file(`{"w":{"dtype":"U8","shape":[1099511627000],"data_offsets":[0,1099511627000]}}`, nil)
	data := int64(size) - int64(len(hdr))
	hdr = file(fmt.Sprintf(`{"w":{"dtype":"U8","shape":[%d],"data_offsets":[0,%d]}}`, data, data), nil)
	if int64(len(hdr))+data != size {
		t.Fatalf("header length changed: %d", len(hdr))
	}
	r := Scan(&guardReader{t: t, head: hdr, limit: int64(len(hdr))}, size, Limits{})
	if len(r.Findings) != 0 || r.Parameters != data {
		t.Fatalf("params %d%s", r.Parameters, dump(r))
	}
}

func TestHugeHeaderLengthIsCheap(t *testing.T) {
	b := append([]byte{0, 0, 0, 0, 0, 0, 0, 0x80}, []byte(`{}      `)...)
	ra := bytes.NewReader(b)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	allocs := testing.AllocsPerRun(100, func() {
		r := Scan(ra, int64(len(b)), Limits{})
		if !has(r, RuleHeaderTooLarge, finding.High) || r.Complete {
			t.Fatal("no header-too-large finding")
		}
	})
	runtime.ReadMemStats(&after)
	perRun := (after.TotalAlloc - before.TotalAlloc) / 101
	if allocs > 30 || perRun > 64<<10 {
		t.Fatalf("%v allocations, %d bytes per scan of a 2^63 header length", allocs, perRun)
	}
	// The same for a length just under the cap but past the end of the file.
	binary.LittleEndian.PutUint64(b, 99_999_999)
	r := Scan(bytes.NewReader(b), int64(len(b)), Limits{})
	if !has(r, RuleHeaderBounds, finding.High) {
		t.Fatalf("want %s%s", RuleHeaderBounds, dump(r))
	}
}

func TestRulesDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Rules {
		if seen[d.ID] || !strings.HasPrefix(d.ID, "safetensors/") || d.Short == "" || len(d.Help) < 80 {
			t.Errorf("bad or duplicate doc %q", d.ID)
		}
		seen[d.ID] = true
	}
	if len(seen) != 20 {
		t.Errorf("%d rules documented", len(seen))
	}
}

type manifestEntry struct {
	File     string `json:"file"`
	Kind     string `json:"kind"`
	Trick    string `json:"trick"`
	Severity string `json:"expect_min_severity"`
	Expect   string `json:"expect"`
	Note     string `json:"note"`
}

func readManifest(t testing.TB) []manifestEntry {
	b, err := os.ReadFile(filepath.Join(corpusDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m []manifestEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func parseLevel(s string) finding.Level {
	for l := finding.Info; l <= finding.Critical; l++ {
		if l.String() == s {
			return l
		}
	}
	return 0
}

func TestCorpus(t *testing.T) {
	m := readManifest(t)
	if len(m) < 20 {
		t.Fatalf("manifest lists %d files", len(m))
	}
	listed := map[string]bool{}
	for _, e := range m {
		listed[e.File] = true
		t.Run(e.File, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(corpusDir, e.File))
			if err != nil {
				t.Fatal(err)
			}
			lvl := parseLevel(e.Severity)
			if lvl == 0 || e.Trick == "" || e.Note == "" {
				t.Fatalf("bad manifest entry %+v", e)
			}
			r := scanBytes(b)
			switch e.Kind {
			case "benign":
				for _, f := range r.Findings {
					if f.Level > lvl {
						t.Errorf("benign file: %s %s: %s", f.Level, f.Rule, f.Message)
					}
				}
				if !r.Complete {
					t.Error("benign file: incomplete")
				}
			case "malicious":
				ok := false
				for _, f := range r.Findings {
					if f.Level >= lvl && (strings.Contains(f.Rule, e.Expect) || strings.Contains(f.Message, e.Expect)) {
						ok = true
					}
				}
				if !ok || e.Expect == "" {
					t.Errorf("want %q at >= %s; got%s", e.Expect, e.Severity, dump(r))
				}
			default:
				t.Errorf("kind %q", e.Kind)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.safetensors"))
	for _, f := range files {
		rel, _ := filepath.Rel(corpusDir, f)
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("%s is not in the manifest", rel)
		}
	}
}

func TestLimitsDefaults(t *testing.T) {
	if got := (Limits{}).withDefaults(); got != DefaultLimits() {
		t.Fatalf("zero Limits give %+v", got)
	}
	if DefaultLimits().MaxHeader != 100_000_000 {
		t.Fatal("MaxHeader must mirror the crate's MAX_HEADER_SIZE")
	}
	_ = math.MaxInt64
}

// eofAtEnd is a ReaderAt that, like some files, returns io.EOF together
// with a read that reaches the end exactly.
type eofAtEnd struct{ b []byte }

func (e eofAtEnd) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(e.b)) {
		return 0, io.EOF
	}
	n := copy(p, e.b[off:])
	if off+int64(n) == int64(len(e.b)) {
		return n, io.EOF
	}
	return n, nil
}

func TestEOFWithFullRead(t *testing.T) {
	for _, b := range [][]byte{file(`{}`, nil), file(`{"w":`+w4+`}`, make([]byte, 16))} {
		r := Scan(eofAtEnd{b}, int64(len(b)), Limits{})
		if len(r.Findings) != 0 || !r.Complete {
			t.Fatalf("findings%s", dump(r))
		}
	}
}
