package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/internal/version"
	"github.com/hallmarkdev/hallmark/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// result scans a fixed set of fixtures and pins what varies between runs.
func result(t *testing.T) *audit.Result {
	t.Helper()
	targets := []string{
		"../examples/sample-model",
		"../testdata/pickles/malicious/g_os_system_p2.pkl",
		"../testdata/pickles/malicious/b2_dotted_pathlib_p4.pkl",
		"../testdata/pickles/malicious/b9_nullifai_truncated_p2.pkl",
	}
	res, err := audit.Run(context.Background(), targets, audit.Config{Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	res.Tool = version.Info{Version: "test", Commit: "0000000"}
	res.Started = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	res.Summary.Seconds = 0
	return res
}

func render(t *testing.T, format string, res *audit.Result) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Write(&buf, format, res, report.Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	res := result(t)
	for _, format := range report.Formats() {
		t.Run(format, func(t *testing.T) {
			got := render(t, format, res)
			path := filepath.Join("testdata", "golden."+format)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./report -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s output differs from %s (run go test ./report -update and review the diff)\n%s", format, path, got)
			}
		})
	}
}

// The JSON report validates against the documented schema.
func TestJSONSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile("schema/report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(render(t, "json", result(t))))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Fatalf("report does not match its schema: %v", err)
	}
}

// The SARIF output is valid against the official SARIF 2.1.0 schema (the one
// go-sarif embeds; no network).
func TestSARIFSchema(t *testing.T) {
	out := render(t, "sarif", result(t))
	rep, err := sarif.FromBytes(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Validate(); err != nil {
		t.Fatalf("SARIF invalid: %v", err)
	}
	// Every result names a rule that the run declares, with help text.
	var doc struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID   string `json:"id"`
						Help struct {
							Text string `json:"text"`
						} `json:"help"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID string `json:"ruleId"`
				Level  string `json:"level"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	rules := map[string]bool{}
	for _, r := range doc.Runs[0].Tool.Driver.Rules {
		if r.Help.Text == "" || strings.HasPrefix(r.Help.Text, r.ID) {
			t.Errorf("rule %s has no help text", r.ID)
		}
		rules[r.ID] = true
	}
	errors := 0
	for _, r := range doc.Runs[0].Results {
		if !rules[r.RuleID] {
			t.Errorf("result for undeclared rule %s", r.RuleID)
		}
		if r.Level == "error" {
			errors++
		}
	}
	if errors == 0 {
		t.Error("no error-level results for the malicious fixtures")
	}
}

var ruleConst = regexp.MustCompile(`(?m)^\s*Rule\w*\s*=\s*"([a-z0-9]+/[a-z0-9-]+)"`)

// Every rule id the code can emit has a catalogue entry.
func TestRuleCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range report.Rules {
		if seen[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		seen[r.ID] = true
	}
	for _, dir := range []string{"../pickle", "../scan"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, _ := os.ReadFile(f)
			for _, m := range ruleConst.FindAllStringSubmatch(string(src), -1) {
				if !seen[m[1]] {
					t.Errorf("%s: rule %s has no entry in report.Rules", f, m[1])
				}
			}
		}
	}
}

// An OCI target's provenance fields validate against the schema and head
// its section of the text report.
func TestOCITarget(t *testing.T) {
	res := result(t)
	res.Targets = append(res.Targets, &audit.TargetResult{
		Target: "oci://127.0.0.1:5000/models/m:v1", Kind: "oci:modelpack", Registry: "127.0.0.1:5000", Repository: "models/m",
		Digest: "sha256:" + strings.Repeat("0", 64), Family: "modelpack", Files: res.Targets[1].Files,
	})
	c := jsonschema.NewCompiler()
	sch, err := c.Compile("schema/report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(render(t, "json", res)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Fatalf("OCI report does not match its schema: %v", err)
	}
	want := "oci://127.0.0.1:5000/models/m:v1  registry 127.0.0.1:5000  repository models/m  digest sha256:" + strings.Repeat("0", 64) + "  family modelpack\n"
	if text := string(render(t, "text", res)); !strings.Contains(text, want) {
		t.Fatalf("text report lacks the OCI header %q:\n%s", want, text)
	}
}
