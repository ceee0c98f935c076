package tfgraph

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

const corpusDir = "../../testdata/tf"

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

func scanPath(t testing.TB, path string) Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Scan(bytes.NewReader(data), int64(len(data)), Limits{})
}

// TestCorpus runs every fixture of testdata/tf/manifest.json through Scan
// (kind decided by content, as the engine does).
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
			rep := scanPath(t, filepath.Join(corpusDir, e.File))
			switch e.Kind {
			case "malicious":
				if strings.HasPrefix(e.Expect, "keras/") {
					// The Keras analyser (wired by the integrator) judges the
					// JSON; this package must hand it over whole.
					for _, md := range rep.KerasMetadata {
						if strings.Contains(md, `"class_name": "Lambda"`) && json.Valid([]byte(md)) {
							return
						}
					}
					t.Fatalf("no Lambda metadata JSON returned; got %d documents", len(rep.KerasMetadata))
				}
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
				if !rep.Complete || rep.Kind == "" {
					t.Errorf("benign file: complete=%v kind=%q", rep.Complete, rep.Kind)
				}
			default:
				t.Fatalf("bad kind %q", e.Kind)
			}
		})
	}
}
