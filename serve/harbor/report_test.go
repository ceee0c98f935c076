package harbor

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/scan"
)

// validReport checks a report against both versions of the schema.
func validReport(t *testing.T, rep HarborVulnerabilityReport) []byte {
	t.Helper()
	b, err := marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, sp := range specs(t) {
		if err := sp.validate("HarborVulnerabilityReport", b); err != nil {
			t.Fatalf("spec v%s: %v\n%s", sp.version, err, b)
		}
	}
	return b
}

func item(t *testing.T, rep HarborVulnerabilityReport, id, pkg string) VulnerabilityItem {
	t.Helper()
	for _, it := range rep.Vulnerabilities {
		if it.ID == id && it.Package == pkg {
			return it
		}
	}
	t.Fatalf("no item %s %s in %+v", id, pkg, rep.Vulnerabilities)
	return VulnerabilityItem{}
}

func TestReportMapping(t *testing.T) {
	sha2 := strings.Repeat("f", 64)
	res := &audit.Result{FailOn: scan.Medium, Targets: []*audit.TargetResult{{
		Target: "oci://h/library/llama@" + digestA, Repository: "library/llama", Digest: digestA,
		Files: []scan.FileResult{
			{Name: "model.pkl", SHA256: sha, Findings: []scan.Finding{
				{Rule: "pickle/dangerous-call", Severity: scan.Critical, Offset: 42, Message: "calls posix.system", Evidence: "posix.system('id')", Global: "posix.system", Count: 1},
				{Rule: "pickle/dangerous-call", Severity: scan.High, Offset: 99, Location: "stream 2", Message: "calls builtins.eval", Global: "builtins.eval", Count: 3},
				{Rule: "pickle/unknown-global", Severity: scan.Medium, Offset: 7, Message: "imports mylib.X", Count: 1},
				{Rule: "pickle/unknown-global", Severity: scan.Medium, Offset: 8, Message: "imports mylib.Y", Suppressed: "reviewed in #12", Count: 1},
			}},
			{Name: "README.md", SHA256: sha2, Findings: []scan.Finding{{Rule: "file/not-scanned", Severity: scan.Info, Offset: -1, Message: "not a model format", Count: 1}}},
			{Name: "layer.tar", SHA256: sha2, Findings: []scan.Finding{
				{Rule: "pickle/dangerous-global", Severity: scan.High, Member: "inner/evil.pkl", Offset: 3, Message: "imports os.system", Category: "process", Count: 1},
				{Rule: "template/dunder-access", Severity: scan.Low, Member: "tok/tokenizer_config.json", Location: "chat_template", Offset: -1, Message: "reaches __class__", Count: 1},
			}},
			{Name: "broken.bin", Error: "broken.bin: read: input/output error"},
			{Name: "clean.safetensors", SHA256: sha2, Findings: []scan.Finding{}},
		},
	}}}
	req := ScanRequest{Artifact: Artifact{Repository: "library/llama", Digest: digestA, MimeType: MimeOCIManifest}}
	fin := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rep := Report(&Job{Done: true, Result: res, Finished: fin}, req, Info{Name: "n", Vendor: "v", Version: "1"})
	validReport(t, rep)

	if rep.Severity != SeverityCritical || rep.Artifact != req.Artifact || !rep.GeneratedAt.Equal(fin) {
		t.Errorf("report %+v", rep)
	}
	// Two findings of one rule in one file: one item, the highest severity,
	// both described and listed; the suppressed finding is gone.
	dc := item(t, rep, "pickle/dangerous-call", "model.pkl")
	if dc.Severity != SeverityCritical || dc.Version != "sha256:0123456789ab" || !strings.Contains(dc.Description, "calls posix.system (offset 42)\nEvidence: posix.system('id')") ||
		!strings.Contains(dc.Description, "calls builtins.eval (stream 2, offset 99)") || !strings.HasPrefix(dc.Description, "4 findings of pickle/dangerous-call here") {
		t.Errorf("merged item %+v", dc)
	}
	if !reflect.DeepEqual(dc.CweIDs, []string{"CWE-502"}) || !reflect.DeepEqual(dc.Links, []string{RuleDocs + "pickledangerous-call"}) {
		t.Errorf("links/cwe %v %v", dc.Links, dc.CweIDs)
	}
	occ, _ := dc.VendorAttributes["occurrences"].([]map[string]any)
	if len(occ) != 2 || occ[1]["count"] != 3 || occ[0]["global"] != "posix.system" || dc.VendorAttributes["count"] != 4 || dc.VendorAttributes["sha256"] != sha {
		t.Errorf("vendor attributes %+v", dc.VendorAttributes)
	}
	ug := item(t, rep, "pickle/unknown-global", "model.pkl")
	if ug.Severity != SeverityMedium || strings.Contains(ug.Description, "mylib.Y") || ug.VendorAttributes["offset"] != int64(7) {
		t.Errorf("suppressed finding reported: %+v", ug)
	}
	// Info is Negligible; no offset when there is none.
	ns := item(t, rep, "file/not-scanned", "README.md")
	if ns.Severity != SeverityNegligible || ns.VendorAttributes["offset"] != nil || ns.Version != "sha256:ffffffffffff" || ns.CweIDs != nil {
		t.Errorf("info %+v", ns)
	}
	// Members of a container file.
	dg := item(t, rep, "pickle/dangerous-global", "layer.tar!inner/evil.pkl")
	if dg.VendorAttributes["member"] != "inner/evil.pkl" || dg.VendorAttributes["path"] != "layer.tar" || dg.VendorAttributes["category"] != "process" {
		t.Errorf("member %+v", dg)
	}
	td := item(t, rep, "template/dunder-access", "layer.tar!tok/tokenizer_config.json")
	if td.Severity != SeverityLow || td.VendorAttributes["location"] != "chat_template" || !reflect.DeepEqual(td.CweIDs, []string{"CWE-1336"}) {
		t.Errorf("template %+v", td)
	}
	// A file that could not be read is not silently clean.
	se := item(t, rep, RuleScanError, "broken.bin")
	if se.Severity != SeverityUnknown || !strings.Contains(se.Description, "input/output error") || se.Links != nil {
		t.Errorf("scan error %+v", se)
	}
	if len(rep.Vulnerabilities) != 6 {
		t.Errorf("%d items", len(rep.Vulnerabilities))
	}
	// Most severe first; (id, package, version) unique, as Harbor keys rows.
	seen := map[string]bool{}
	for i, it := range rep.Vulnerabilities {
		if i > 0 && it.Severity.rank() > rep.Vulnerabilities[i-1].Severity.rank() {
			t.Error("not sorted by severity")
		}
		k := it.ID + "|" + it.Package + "|" + it.Version
		if seen[k] {
			t.Errorf("duplicate row %s", k)
		}
		seen[k] = true
	}
	// Deterministic.
	again := Report(&Job{Done: true, Result: res, Finished: fin}, req, Info{Name: "n", Vendor: "v", Version: "1"})
	a, _ := marshal(rep)
	b, _ := marshal(again)
	if string(a) != string(b) {
		t.Error("two reports of one result differ")
	}
}

func TestReportEmptyAndPolicy(t *testing.T) {
	req := ScanRequest{Artifact: Artifact{Repository: "library/m", Digest: digestA}}
	clean := &audit.Result{FailOn: scan.Medium, Targets: []*audit.TargetResult{{Repository: "library/m", Digest: digestA,
		Files: []scan.FileResult{{Name: "w.safetensors", SHA256: sha, Findings: []scan.Finding{}}}}}}
	rep := Report(&Job{Done: true, Result: clean}, req, Info{})
	b := validReport(t, rep)
	if rep.Severity != "" || len(rep.Vulnerabilities) != 0 || !strings.Contains(string(b), `"vulnerabilities":[]`) || strings.Contains(string(b), `"severity"`) {
		t.Errorf("clean report %s", b)
	}
	if rep := Report(nil, req, Info{}); len(rep.Vulnerabilities) != 0 {
		t.Error("nil job")
	}

	// The gate failed for a signature: one Critical item that says why.
	clean.Gate = &audit.Gate{Verdict: "fail", Reasons: []string{"unsigned: no signature found"}}
	rep = Report(&Job{Done: true, Result: clean}, req, Info{})
	validReport(t, rep)
	g := item(t, rep, RuleGate, "library/m")
	if g.Severity != SeverityCritical || rep.Severity != SeverityCritical || !strings.Contains(g.Description, "unsigned: no signature found") || g.Version != "sha256:6c3c624b58db" {
		t.Errorf("gate %+v", g)
	}
	// The gate failed for findings only: they are the items, nothing added.
	withFinding := &audit.Result{FailOn: scan.Medium, Gate: &audit.Gate{Verdict: "fail", Reasons: []string{"1 finding(s) at or above medium, first: x"}},
		Targets: []*audit.TargetResult{{Files: []scan.FileResult{{Name: "m.pkl", Findings: []scan.Finding{{Rule: "pickle/unknown-global", Severity: scan.Medium, Message: "m"}}}}}}}
	rep = Report(&Job{Done: true, Result: withFinding}, req, Info{})
	if len(rep.Vulnerabilities) != 1 || rep.Severity != SeverityMedium {
		t.Errorf("findings-only gate %+v", rep.Vulnerabilities)
	}
	// Findings and a signature failure: the gate item too.
	withFinding.Gate.Reasons = append(withFinding.Gate.Reasons, "signature does not verify: bad key")
	rep = Report(&Job{Done: true, Result: withFinding}, req, Info{})
	if len(rep.Vulnerabilities) != 2 || rep.Vulnerabilities[0].ID != RuleGate {
		t.Errorf("gate + findings %+v", rep.Vulnerabilities)
	}
	// Refused by a size limit, without a gate.
	refused := &audit.Result{Targets: []*audit.TargetResult{{Refused: "the model is 9 GiB, more than 4 GiB", Files: []scan.FileResult{}}}}
	rep = Report(&Job{Done: true, Result: refused}, req, Info{})
	validReport(t, rep)
	if r := item(t, rep, RuleRefused, "library/m"); r.Severity != SeverityCritical || !strings.Contains(r.Description, "9 GiB") {
		t.Errorf("refused %+v", r)
	}
}

// Untrusted strings are cleaned and capped; counts are capped.
func TestReportHostileStrings(t *testing.T) {
	long := strings.Repeat("ä", 5000)
	evil := "a\x00b\x1b[2Jc\u202edcba\u2066\r\ne"
	var fs []scan.Finding
	for i := range 30 {
		fs = append(fs, scan.Finding{Rule: "pickle/unknown-call", Severity: scan.Medium, Offset: int64(i), Message: evil + long, Evidence: "\xff\xfe" + long, Location: long, Global: long, Count: 1})
	}
	res := &audit.Result{Targets: []*audit.TargetResult{{Files: []scan.FileResult{{Name: evil + long, SHA256: sha, Findings: fs}}}}}
	rep := Report(&Job{Done: true, Result: res}, ScanRequest{}, Info{})
	b := validReport(t, rep)
	if len(rep.Vulnerabilities) != 1 {
		t.Fatalf("%d items", len(rep.Vulnerabilities))
	}
	it := rep.Vulnerabilities[0]
	if len(it.Package) > maxPackageLen || len(it.Description) > maxDescription {
		t.Errorf("package %d bytes, description %d", len(it.Package), len(it.Description))
	}
	if strings.ContainsAny(it.Package, "\x00\x1b\u202e\u2066\r\n") || strings.ContainsAny(it.Description, "\x00\x1b\u202e\u2066\r") {
		t.Error("control characters kept")
	}
	if !strings.HasSuffix(it.Description, "more are not described here)") {
		t.Errorf("description tail %q", it.Description[len(it.Description)-200:])
	}
	occ := it.VendorAttributes["occurrences"].([]map[string]any)
	if len(occ) != 30 || len(occ[0]["location"].(string)) > maxAttributeText {
		t.Errorf("occurrences %d", len(occ))
	}
	if strings.Contains(string(b), `\u0000`) {
		t.Error("NUL in the JSON (PostgreSQL refuses it)")
	}

	// Item count cap.
	var files []scan.FileResult
	for i := range maxItems + 7 {
		sev := scan.Low
		if i%1000 == 0 {
			sev = scan.Critical
		}
		files = append(files, scan.FileResult{Name: fmt.Sprintf("f%05d.pkl", i), Findings: []scan.Finding{{Rule: "pickle/unknown-global", Severity: sev, Message: "m"}}})
	}
	rep = Report(&Job{Done: true, Result: &audit.Result{Targets: []*audit.TargetResult{{Files: files}}}}, ScanRequest{}, Info{})
	validReport(t, rep)
	n := len(rep.Vulnerabilities)
	if n != maxItems+1 || rep.Vulnerabilities[n-1].ID != RuleTruncated || !strings.Contains(rep.Vulnerabilities[n-1].Description, "7 more") {
		t.Fatalf("%d items, last %+v", n, rep.Vulnerabilities[n-1])
	}
	crit := 0
	for _, it := range rep.Vulnerabilities {
		if it.Severity == SeverityCritical {
			crit++
		}
	}
	if crit != 6 || rep.Severity != SeverityCritical {
		t.Errorf("the most severe were not kept: %d", crit)
	}
}

func TestSeverityMapping(t *testing.T) {
	for s, want := range map[scan.Severity]Severity{scan.Critical: SeverityCritical, scan.High: SeverityHigh, scan.Medium: SeverityMedium,
		scan.Low: SeverityLow, scan.Info: SeverityNegligible, 0: SeverityUnknown, scan.Never: SeverityUnknown} {
		if got := severityOf(s); got != want {
			t.Errorf("%v: %s, want %s", s, got, want)
		}
	}
	if anchor("pickle/dangerous-call") != "pickledangerous-call" || anchor("hf/python-host-access") != "hfpython-host-access" {
		t.Error("anchor")
	}
	if shorten("äää", 4) != "…" || shorten("abcdef", 5) != "ab…" || shorten("abc", 3) != "abc" {
		t.Errorf("shorten %q %q", shorten("äää", 4), shorten("abcdef", 5))
	}
}

// A real scan through the real engine: a hostile pickle, a benign one and a
// README, reported to Harbor and served by the handler.
func TestReportRealScan(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "../../testdata/pickles/malicious/b3_inst_os_system_p2.pkl", filepath.Join(dir, "model.pkl"))
	copyFile(t, "../../testdata/pickles/benign/joblib_dict_p4.pkl", filepath.Join(dir, "extra.pkl"))
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("# a model\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := audit.Run(context.Background(), []string{dir}, audit.Config{Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	h := Handler(f, Info{Name: "hallmark", Vendor: "hallmarkdev", Version: "test"})
	id := submit(t, h, harborRequest())
	f.set(id, func(j *Job) { j.Done, j.Result, j.Finished = true, res, time.Now() })
	rec := serve(h, "GET", "/api/v1/scan/"+id+"/report", MimeVulnReport, nil)
	conform(t, "/scan/{scan_request_id}/report", "GET", rec)
	var rep HarborVulnerabilityReport
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil || rec.Code != 200 {
		t.Fatalf("%d %v", rec.Code, err)
	}
	if rep.Severity != SeverityCritical {
		t.Errorf("severity %s", rep.Severity)
	}
	var found bool
	for _, it := range rep.Vulnerabilities {
		if it.Package == "extra.pkl" && it.Severity.rank() > SeverityNegligible.rank() {
			t.Errorf("benign pickle reported: %+v", it)
		}
		if it.Package == "model.pkl" && it.Severity == SeverityCritical && strings.HasPrefix(it.ID, "pickle/") && strings.Contains(strings.ToLower(it.Description), "system") {
			found = true
			if !strings.HasPrefix(it.Version, "sha256:") || len(it.Version) != len("sha256:")+12 || it.VendorAttributes["rule"] != it.ID {
				t.Errorf("item %+v", it)
			}
		}
	}
	if !found {
		t.Errorf("os.system not reported: %s", rec.Body)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
