package report_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/report"
)

// rulesDoc is docs/rules.md: every rule id with its help, grouped by
// family. SARIF help and Harbor report links point at its headings.
func rulesDoc() []byte {
	var b bytes.Buffer
	b.WriteString("# hallmark rules\n\n")
	b.WriteString("Every rule id hallmark reports, grouped by family. Rule ids are a stable contract: policies\n")
	b.WriteString("(`severity`, `suppress`), SARIF and Harbor reports name them. This page is generated from\n")
	b.WriteString("`report/rules.go` by `go test ./report -update`; a test fails when it is out of date.\n")
	rules := slices.Clone(report.Rules)
	slices.SortStableFunc(rules, func(a, b report.RuleDoc) int { return strings.Compare(a.ID, b.ID) })
	family := ""
	for _, r := range rules {
		f, _, _ := strings.Cut(r.ID, "/")
		if f != family {
			family = f
			fmt.Fprintf(&b, "\n## %s\n", f)
		}
		fmt.Fprintf(&b, "\n### %s\n\n**%s.** %s\n", r.ID, strings.TrimSuffix(r.Short, "."), r.Help)
	}
	return b.Bytes()
}

func TestRulesDoc(t *testing.T) {
	p := filepath.Join("..", "docs", "rules.md")
	want := rulesDoc()
	if *update {
		if err := os.WriteFile(p, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("docs/rules.md is out of date: run go test ./report -update")
	}
}
