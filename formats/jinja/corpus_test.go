package jinja

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

const (
	realDir = "../../testdata/chat-templates"
	sstiDir = "../../testdata/templates-ssti"
)

func realTemplates(tb testing.TB) map[string]string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(realDir, "*.jinja"))
	if err != nil || len(files) != 258 {
		tb.Fatalf("want the 258 real chat templates, found %d (%v)", len(files), err)
	}
	out := make(map[string]string, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(f)] = string(b)
	}
	return out
}

// Every real chat template parses, is analysed completely and raises
// nothing at medium or above. Today none raises anything at all; a low or
// info finding would have to be listed here on purpose.
func TestRealTemplates(t *testing.T) {
	allowedLow := map[string]bool{}
	for name, src := range realTemplates(t) {
		r := Analyse(src, Limits{})
		if !r.Complete {
			t.Errorf("%s: analysis incomplete: %+v", name, r.Findings)
		}
		for _, f := range r.Findings {
			if f.Level >= finding.Medium || !allowedLow[name] {
				t.Errorf("%s: %s %s at %d: %s (%q)", name, f.Level, f.Rule, f.Offset, f.Message, f.Evidence)
			}
		}
		if r.Tokens == 0 {
			t.Errorf("%s: no tokens", name)
		}
	}
}

type manifestEntry struct {
	File              string `json:"file"`
	Kind              string `json:"kind"`
	Trick             string `json:"trick"`
	ExpectMinSeverity string `json:"expect_min_severity"`
	Expect            string `json:"expect"`
	Note              string `json:"note"`
}

func parseLevel(tb testing.TB, s string) finding.Level {
	for l := finding.Info; l <= finding.Critical; l++ {
		if l.String() == s {
			return l
		}
	}
	tb.Fatalf("bad level %q", s)
	return 0
}

func TestSSTIManifest(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(sstiDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []manifestEntry
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		t.Fatal(err)
	}
	mal := 0
	for _, e := range entries {
		if e.Trick == "" || e.Note == "" {
			t.Errorf("%s: trick and note are required", e.File)
		}
		src, err := os.ReadFile(filepath.Join(sstiDir, e.File))
		if err != nil {
			t.Fatal(err)
		}
		r := Analyse(string(src), Limits{})
		lvl := parseLevel(t, e.ExpectMinSeverity)
		switch e.Kind {
		case "malicious":
			mal++
			ok := false
			for _, f := range r.Findings {
				if f.Level >= lvl && (strings.Contains(f.Rule, e.Expect) || strings.Contains(f.Message, e.Expect)) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s (%s): want %q at >= %s, got %+v", e.File, e.Trick, e.Expect, lvl, r.Findings)
			}
		case "benign":
			if m := maxLevel(r); m > lvl || !r.Complete {
				t.Errorf("%s: benign twin raised %s (complete=%v): %+v", e.File, m, r.Complete, r.Findings)
			}
		default:
			t.Errorf("%s: bad kind %q", e.File, e.Kind)
		}
	}
	if mal < 20 {
		t.Errorf("only %d malicious fixtures", mal)
	}
	// every fixture file is in the manifest
	files, _ := filepath.Glob(filepath.Join(sstiDir, "*", "*.jinja"))
	if len(files) != len(entries) {
		t.Errorf("%d fixture files, %d manifest entries", len(files), len(entries))
	}
}

func BenchmarkAnalyseCorpus(b *testing.B) {
	tpls := realTemplates(b)
	var total int64
	for _, s := range tpls {
		total += int64(len(s))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, s := range tpls {
			Analyse(s, Limits{})
		}
	}
}
