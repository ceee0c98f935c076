package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/scan"
)

type repoCase struct {
	File   string `json:"file"`
	Kind   string `json:"kind"`
	Trick  string `json:"trick"`
	Min    string `json:"expect_min_severity"`
	Expect string `json:"expect"`
	Note   string `json:"note"`
}

func describe(res *Result) string {
	var b strings.Builder
	for _, f := range res.Findings() {
		fmt.Fprintf(&b, "\n  %s %s %s [%s] %s | %s", f.Severity, f.Rule, f.Path, f.Location, f.Message, f.Evidence)
	}
	return b.String()
}

// Hugging Face repositories are judged as folders: custom code named by
// auto_map, the Python files themselves, chat templates in every place a
// repository keeps them.
func TestHFRepositories(t *testing.T) {
	dir := "../testdata/hf"
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []repoCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.File, func(t *testing.T) {
			res, err := Run(context.Background(), []string{filepath.Join(dir, c.File)}, Config{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := scan.ParseSeverity(c.Min)
			if err != nil {
				t.Fatal(err)
			}
			if c.Kind == "benign" {
				if res.max() > want || res.Summary.Incomplete > 0 {
					t.Errorf("benign %s flagged at %s (incomplete %d):%s", c.Trick, res.max(), res.Summary.Incomplete, describe(res))
				}
				return
			}
			for _, f := range res.Findings() {
				if f.Severity >= want && strings.Contains(strings.ToLower(f.Rule+" "+f.Message+" "+f.Evidence), strings.ToLower(c.Expect)) {
					return
				}
			}
			t.Errorf("%s: no finding ≥ %s mentions %q:%s", c.Trick, want, c.Expect, describe(res))
		})
	}
}

// The remote-code finding lists the Python files the folder holds.
func TestRemoteCodeListsFiles(t *testing.T) {
	res, err := Run(context.Background(), []string{"../testdata/hf/malicious/remote-code"}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings() {
		if f.Rule == "hf/remote-code" {
			if !strings.Contains(f.Evidence, "modeling_tiny.py") || !strings.Contains(f.Evidence, "configuration_tiny.py") {
				t.Errorf("evidence %q does not list the code files", f.Evidence)
			}
			return
		}
	}
	t.Errorf("no hf/remote-code finding:%s", describe(res))
}
