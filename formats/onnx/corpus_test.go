package onnx

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

const corpusDir = "../../testdata/onnx"

type manifestEntry struct {
	File              string `json:"file"`
	Kind              string `json:"kind"`
	Trick             string `json:"trick"`
	ExpectMinSeverity string `json:"expect_min_severity"`
	Expect            string `json:"expect"`
	Note              string `json:"note"`
}

func readManifest(t testing.TB) []manifestEntry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m []manifestEntry
	dec := json.NewDecoder(bytes.NewReader(data))
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

func scanFile(t testing.TB, path string) Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Scan(bytes.NewReader(data), int64(len(data)), Limits{})
}

// TestCorpus runs every fixture of testdata/onnx/manifest.json: malicious
// files must raise a finding at or above their level whose rule or message
// holds the expected text; benign files must stay at or below theirs.
func TestCorpus(t *testing.T) {
	entries := readManifest(t)
	if len(entries) == 0 {
		t.Fatal("empty manifest")
	}
	for _, e := range entries {
		t.Run(e.File, func(t *testing.T) {
			lvl := parseLevel(e.ExpectMinSeverity)
			if lvl == 0 {
				t.Fatalf("bad severity %q", e.ExpectMinSeverity)
			}
			path := filepath.Join(corpusDir, e.File)
			if !strings.HasSuffix(e.File, ".onnx") {
				// Not an ONNX file (external weights): only check it is not taken for one.
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if Looks(data) {
					t.Fatal("Looks claims a non-ONNX fixture")
				}
				return
			}
			rep := scanFile(t, path)
			switch e.Kind {
			case "malicious":
				for _, f := range rep.Findings {
					if f.Level >= lvl && (strings.Contains(f.Rule, e.Expect) || strings.Contains(f.Message, e.Expect)) {
						return
					}
				}
				t.Fatalf("no finding >= %s matching %q; got %+v", lvl, e.Expect, rep.Findings)
			case "benign":
				for _, f := range rep.Findings {
					if f.Level > lvl {
						t.Errorf("benign file has %s finding %s: %s (%s)", f.Level, f.Rule, f.Message, f.Where)
					}
				}
				if !rep.Complete {
					t.Error("benign file not completely scanned")
				}
				if !Looks(mustRead(t, path)) {
					t.Error("Looks does not recognise a benign model")
				}
			default:
				t.Fatalf("bad kind %q", e.Kind)
			}
		})
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
