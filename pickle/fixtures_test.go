package pickle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const corpus = "../testdata/pickles"

func scanFile(t *testing.T, path string) *Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Scan(bytes.NewReader(data), Options{ReaderAt: bytes.NewReader(data), Size: int64(len(data))})
}

func describe(rep *Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "\n  %s %s @%d %s | %s | %s", f.Level, f.Rule, f.Offset, f.Global, f.Message, f.Evidence)
	}
	return b.String()
}

// Benign files written by the real libraries must raise nothing at medium or above.
func TestBenignCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpus, "benign", "*.pkl"))
	if len(files) < 50 {
		t.Fatalf("benign corpus has %d files; regenerate it (testdata/README.md)", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			rep := scanFile(t, f)
			if rep.Max() >= LevelMedium {
				t.Errorf("benign file flagged at %s:%s", rep.Max(), describe(rep))
			}
			if rep.Streams == 0 {
				t.Errorf("no complete pickle stream decoded:%s", describe(rep))
			}
		})
	}
}

type maliciousCase struct {
	File        string `json:"file"`
	Family      string `json:"family"`
	Protocol    int    `json:"protocol"`
	MinSeverity string `json:"min_severity"`
	Expect      string `json:"expect"`
	Note        string `json:"note"`
}

func parseLevel(s string) Level {
	for l := LevelInfo; l <= LevelCritical; l++ {
		if l.String() == s {
			return l
		}
	}
	return 0
}

// Every technique family of scanners.md §6.B and §6.C is flagged at the
// severity the manifest asks, with evidence naming what it does.
func TestMaliciousCorpus(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(corpus, "malicious", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []maliciousCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 50 {
		t.Fatalf("malicious manifest has %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.File, func(t *testing.T) {
			rep := scanFile(t, filepath.Join(corpus, "malicious", c.File))
			want := parseLevel(c.MinSeverity)
			if want == 0 {
				t.Fatalf("bad min_severity %q", c.MinSeverity)
			}
			if rep.Max() < want {
				t.Errorf("%s (%s): max level %s, want ≥ %s:%s", c.Family, c.Note, rep.Max(), want, describe(rep))
				return
			}
			found := false
			for _, f := range rep.Findings {
				if f.Level >= want && strings.Contains(strings.ToLower(f.Rule+" "+f.Global+" "+f.Message+" "+f.Evidence), strings.ToLower(c.Expect)) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s (%s): no finding ≥ %s mentions %q:%s", c.Family, c.Note, want, c.Expect, describe(rep))
			}
		})
	}
}
