package keras

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

func seedConfigs(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(corpusDir, "configs", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed configs: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzAnalyseConfig(f *testing.F) {
	seedConfigs(f)
	for _, s := range []string{
		``, `{}`, `[]`, `"x"`, `null`, `{"class_name": "Lambda"}`, `{"class_name": "Lambda", "config": {"function": "4wAA", "function_type": "lambda"}}`,
		`{"class_name": "__lambda__", "config": {"value": ["4wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", null, null]}}`,
		`{"module": "os", "class_name": "function", "config": "system"}`, `{"module": "builtins", "class_name": "function", "config": "eval"}`,
		`{"class_name": "TFOpLambda", "config": {"function": "io.write_file"}}`, `{"class_name": "TorchModuleWrapper", "config": {"module": "gAJ9cQAu"}}`,
		`{"a": NaN, "b": -Infinity, "c": 1e5, "a": 2}`, `{"a": "\ud800\udc00\ud800"}`, "\xff\xfe{\x00}\x00", "\x00{\x00}", "\xef\xbb\xbf{}",
		strings.Repeat("[", 300), strings.Repeat(`{"a":`, 300), `{"class_name": "Sequential", "config": [{"class_name": "Lambda"}]}`,
		`{"class_name": "Bidirectional", "config": {"layer": {"class_name": "X>Y"}, "backward_layer": {"class_name": "__main__"}}}`,
	} {
		f.Add([]byte(s))
	}
	small := Limits{MaxDepth: 16, MaxNodes: 200, MaxCodeBytes: 64, MaxMarshalObjects: 50, MaxMarshalDepth: 8, MaxListed: 3, MaxEmbeddedBytes: 16}
	docs := map[string]bool{}
	for _, d := range Rules {
		docs[d.ID] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range []Limits{{}, small} {
			r := AnalyseConfig(data, "config.json", lim)
			checkInvariants(t, r, lim.withDefaults(), docs)
		}
		// Parity with a strict JSON parser: valid UTF-8 JSON objects must parse.
		if json.Valid(data) && utf8.Valid(data) && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) && nesting(data) <= 200 {
			r := AnalyseConfig(data, "", Limits{MaxNodes: 1 << 30})
			for _, fd := range r.Findings {
				if fd.Rule == RuleMalformed || fd.Rule == RuleEncoding {
					t.Fatalf("valid JSON reported %s: %s", fd.Rule, fd.Message)
				}
			}
		}
	})
}

func nesting(b []byte) int {
	d, m := 0, 0
	for _, c := range b {
		switch c {
		case '{', '[':
			d++
			m = max(m, d)
		case '}', ']':
			d--
		}
	}
	return m
}

func checkInvariants(t *testing.T, r Report, lim Limits, docs map[string]bool) {
	t.Helper()
	high := false
	for _, f := range r.Findings {
		if f.Rule == "" || !docs[f.Rule] || f.Level < finding.Info || f.Level > finding.Critical || f.Message == "" ||
			strings.ContainsAny(f.Message, "\n\r") || f.Offset != -1 {
			t.Fatalf("bad finding %+v", f)
		}
		high = high || f.Level >= finding.High
	}
	if !r.Complete && !high {
		t.Fatalf("incomplete report without a high finding: %+v", r.Findings)
	}
	if len(r.LayerClasses) > lim.MaxListed || len(r.CustomObjects) > lim.MaxListed ||
		!slices.IsSorted(r.LayerClasses) || !slices.IsSorted(r.CustomObjects) || r.Layers < 0 || r.Lambdas < 0 {
		t.Fatalf("bad facts %+v", r)
	}
	total := 0
	for _, e := range r.Embedded {
		total += len(e.Data)
	}
	if total > lim.MaxEmbeddedBytes {
		t.Fatalf("embedded %d > cap", total)
	}
}

func FuzzMarshal(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0xe3})
	for _, lay := range codeLayouts {
		inner := mCode(lay, mTuple([]byte{'N'}, mShort("x")), mTuple(mShort("popen")))
		f.Add(mCode(lay, mTuple([]byte{'N'}, inner), mTuple(mShort("system"))))
	}
	if raw, ok := pyBase64Decode(lambdaB64); ok {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ci := analyseMarshal(b, 2000, 32)
		if ci.parsed && !ci.isCode {
			t.Fatal("parsed but not code")
		}
		if len(ci.names) > 256 || len(ci.strs) > 256 {
			t.Fatal("uncapped names")
		}
		_ = ci.dangerous()
		_ = codeEvidence(ci)
	})
}
