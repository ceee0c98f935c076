package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/source"
)

type containerCase struct {
	File   string `json:"file"`
	Kind   string `json:"kind"`
	Trick  string `json:"trick"`
	Min    string `json:"expect_min_severity"`
	Expect string `json:"expect"`
	Note   string `json:"note"`
}

func diskFile(t *testing.T, path string) source.File {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return source.File{Path: filepath.Base(path), Size: st.Size(), Open: func() (source.Reader, error) { return os.Open(path) }}
}

func describeFile(res FileResult) string {
	var b strings.Builder
	for _, f := range res.Findings {
		fmt.Fprintf(&b, "\n  %s %s [%s] @%d %s | %s", f.Severity, f.Rule, f.Member, f.Offset, f.Message, f.Evidence)
	}
	return b.String()
}

// Every container trick of the P2 corpus is flagged, and every benign twin
// made by the real libraries stays below medium.
func TestContainerCorpus(t *testing.T) { corpus(t, "../testdata/containers") }

// The P4 corpora: every attack on the other model formats is flagged and
// every benign twin stays below medium, through the whole engine.
func TestFormatCorpora(t *testing.T) {
	for _, dir := range []string{"safetensors", "gguf", "onnx", "tf", "hdf5", "keras", "templates-ssti", "polyglots"} {
		t.Run(dir, func(t *testing.T) { corpus(t, "../testdata/"+dir) })
	}
}

func corpus(t *testing.T, dir string) {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []containerCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	e := New(Config{})
	for _, c := range cases {
		t.Run(c.File, func(t *testing.T) {
			res := e.File(context.Background(), diskFile(t, filepath.Join(dir, c.File)), c.File)
			if res.Error != "" {
				t.Fatalf("error: %s", res.Error)
			}
			want, err := ParseSeverity(c.Min)
			if err != nil {
				t.Fatal(err)
			}
			if c.Kind == "benign" {
				if res.Max() > want {
					t.Errorf("benign %s (%s) flagged at %s:%s", c.Trick, c.Note, res.Max(), describeFile(res))
				}
				if !res.Scanned && (res.Format != FormatUnknown || hintedFormat(c.File) != "") {
					t.Errorf("benign %s not scanned (format %s)", c.Trick, res.Format)
				}
				return
			}
			if res.Max() < want {
				t.Errorf("%s (%s): max %s, want ≥ %s:%s", c.Trick, c.Note, res.Max(), want, describeFile(res))
				return
			}
			for _, f := range res.Findings {
				if f.Severity >= want && strings.Contains(strings.ToLower(f.Rule+" "+f.Global+" "+f.Message+" "+f.Evidence), strings.ToLower(c.Expect)) {
					return
				}
			}
			t.Errorf("%s (%s): no finding ≥ %s mentions %q:%s", c.Trick, c.Note, want, c.Expect, describeFile(res))
		})
	}
}
