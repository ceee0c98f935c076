package harbor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/scan"
)

// RuleDocs is where a rule is documented: a link is RuleDocs + the GitHub
// anchor of a heading naming the rule id.
const RuleDocs = "https://github.com/hallmarkdev/hallmark/blob/main/docs/rules.md#"

// Caps on what a report carries. Harbor stores every item in a database row
// keyed by (id, package, version) with a b-tree index, whose entries must
// stay under about 2.7 kB.
const (
	maxItems         = 5000
	maxPackageLen    = 1024
	maxDescription   = 8 << 10
	maxOccurrences   = 50 // listed in vendor_attributes of a merged item
	maxDescribed     = 20 // described in the description of a merged item
	maxAttributeText = 512
)

// Rule ids of items that stand for no scan finding.
const (
	// RuleScanError: a file or target that could not be read (it was not
	// scanned, so it is not known to be clean).
	RuleScanError = "hallmark/scan-error"
	// RuleTruncated: items left out beyond the report's cap.
	RuleTruncated = "hallmark/truncated"
	// RuleGate: hallmark's policy gate failed for a reason other than
	// findings (signature, formats, limits, an expired suppression).
	RuleGate = "policy/gate"
	// RuleRefused: the policy refused the artifact before reading it.
	RuleRefused = "policy/refused"
)

// Report maps a finished scan to Harbor's vulnerability report.
//
//   - One item per rule and file: id = the rule id as it is (so Harbor's
//     CVE allowlist can accept a rule), package = the file's path inside the
//     artifact, with "!member" when the finding is inside a container file
//     (hallmark's notation), version = "sha256:" and the first 12 hex digits
//     of the file's SHA-256 (the scanned bytes; empty if not hashed). Harbor
//     keeps one row per (id, package, version), so several findings of one
//     rule in one file are merged into one item: the highest severity, every
//     occurrence described (up to 20) and listed in vendor_attributes.
//   - Severity: critical, high, medium, low as they are; info is Negligible.
//   - Suppressed findings are left out: Harbor's "prevent vulnerable
//     artifacts" policy would count them.
//   - A file that could not be read is a RuleScanError item of severity
//     Unknown; a failed policy gate (Result.Gate) for a reason findings do
//     not explain is one RuleGate item, and a refused target one RuleRefused
//     item, both Critical so that any Harbor threshold blocks the artifact.
//   - Severity of the report is the highest of its items, left out if none.
//   - At most 5000 items, the most severe first, then a RuleTruncated item.
func Report(job *Job, req ScanRequest, info Info) HarborVulnerabilityReport {
	rep := HarborVulnerabilityReport{
		GeneratedAt:     generatedAt(job),
		Artifact:        req.Artifact,
		Scanner:         info.scanner(),
		Vulnerabilities: []VulnerabilityItem{},
	}
	if job == nil || job.Result == nil {
		return rep
	}
	res := job.Result
	var items []*group
	byKey := map[string]*group{}
	add := func(g *group) *group {
		k := g.id + "\x00" + g.pkg + "\x00" + g.version
		if old, ok := byKey[k]; ok {
			return old
		}
		byKey[k] = g
		items = append(items, g)
		return g
	}
	subject := packageName(artifactName(req, res), "")
	for _, t := range res.Targets {
		if t.Error != "" {
			g := add(&group{id: RuleScanError, pkg: subject, version: shortDigest(t.Digest)})
			g.note(SeverityUnknown, "hallmark could not read the artifact, so nothing was scanned: "+t.Error)
		}
		if t.Refused != "" && res.Gate == nil {
			g := add(&group{id: RuleRefused, pkg: subject, version: shortDigest(t.Digest)})
			g.note(SeverityCritical, "the policy refused the artifact before reading it: "+t.Refused)
		}
		for i := range t.Files {
			fr := &t.Files[i]
			name := fr.Name
			if name == "" {
				name = fr.Path
			}
			version := ""
			if fr.SHA256 != "" {
				version = shortDigest("sha256:" + fr.SHA256)
			}
			if fr.Error != "" {
				g := add(&group{id: RuleScanError, pkg: packageName(name, ""), version: version, path: name, sha: fr.SHA256})
				g.note(SeverityUnknown, "hallmark could not read this file, so it was not scanned (it is not known to be clean): "+fr.Error)
			}
			for _, f := range fr.Findings {
				if f.Suppressed != "" {
					continue
				}
				g := add(&group{id: f.Rule, pkg: packageName(name, f.Member), version: version, path: name, member: f.Member, sha: fr.SHA256, rule: true})
				g.add(f)
			}
		}
	}
	if why := gateFailure(res); why != "" {
		digest := ""
		if len(res.Targets) > 0 {
			digest = res.Targets[0].Digest
		}
		g := add(&group{id: RuleGate, pkg: subject, version: shortDigest(digest)})
		g.note(SeverityCritical, "hallmark's policy gate failed: "+why)
	}

	out := make([]VulnerabilityItem, 0, min(len(items), maxItems+1))
	for _, g := range items {
		out = append(out, g.item())
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity.rank() != b.Severity.rank() {
			return a.Severity.rank() > b.Severity.rank()
		}
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		return a.ID < b.ID
	})
	if len(out) > maxItems {
		left := len(out) - maxItems
		out = append(out[:maxItems], VulnerabilityItem{
			ID:          RuleTruncated,
			Package:     subject,
			Severity:    SeverityUnknown,
			Description: fmt.Sprintf("%d more items were left out of this report (at most %d are reported); the least severe were dropped. Run hallmark scan for all of them.", left, maxItems),
		})
	}
	for _, it := range out {
		if it.Severity.rank() > rep.Severity.rank() || rep.Severity == "" {
			rep.Severity = it.Severity
		}
	}
	rep.Vulnerabilities = out
	return rep
}

// SBOMReport wraps the scan's CycloneDX BOM in Harbor's SBOM report.
func SBOMReport(job *Job, req ScanRequest, info Info) (HarborSBOMReport, error) {
	rep := HarborSBOMReport{GeneratedAt: generatedAt(job), Artifact: req.Artifact, Scanner: info.scanner(), MediaType: MediaTypeCycloneDX}
	if job == nil || len(job.BOM) == 0 {
		return rep, errors.New("no SBOM was made for this scan (was the sbom capability enabled?)")
	}
	b := bytes.TrimSpace(job.BOM)
	if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
		return rep, errors.New("the scan's SBOM is not a JSON object")
	}
	rep.SBOM = json.RawMessage(b)
	return rep, nil
}

func generatedAt(job *Job) time.Time {
	if job != nil && !job.Finished.IsZero() {
		return job.Finished.UTC()
	}
	return time.Now().UTC()
}

// group is one report item in the making: every finding of one rule in one
// file (or member).
type group struct {
	id, pkg, version  string
	path, member, sha string
	rule              bool // a scan rule (documented, linked), not one of ours
	sev               Severity
	count             int // occurrences (findings carry counts)
	findings          int
	described         int
	desc              strings.Builder
	occ               []map[string]any
	category          string
}

// note sets a synthetic item's severity and text.
func (g *group) note(sev Severity, text string) {
	g.sev = sev
	g.count++
	if g.desc.Len() > 0 {
		g.desc.WriteString("\n")
	}
	g.desc.WriteString(text)
}

func (g *group) add(f scan.Finding) {
	if s := severityOf(f.Severity); s.rank() > g.sev.rank() || g.sev == "" {
		g.sev = s
	}
	g.count += max(f.Count, 1)
	g.findings++
	if g.findings == 1 {
		g.category = f.Category
	}
	if len(g.occ) < maxOccurrences {
		o := map[string]any{}
		if f.Location != "" {
			o["location"] = shorten(clean(f.Location, true), maxAttributeText)
		}
		if f.Offset >= 0 {
			o["offset"] = f.Offset
		}
		if f.Global != "" {
			o["global"] = shorten(clean(f.Global, true), maxAttributeText)
		}
		if f.Count > 1 {
			o["count"] = f.Count
		}
		g.occ = append(g.occ, o)
	}
	// Each finding's text is capped and the description stops in time for
	// its head and tail to fit maxDescription.
	if g.described < maxDescribed && g.desc.Len() < maxDescription-3<<10 {
		g.described++
		if g.desc.Len() > 0 {
			g.desc.WriteString("\n\n")
		}
		g.desc.WriteString(shorten(f.Message, 1024))
		var where []string
		if f.Location != "" {
			where = append(where, shorten(f.Location, 256))
		}
		if f.Offset >= 0 {
			where = append(where, fmt.Sprintf("offset %d", f.Offset))
		}
		if len(where) > 0 {
			g.desc.WriteString(" (" + strings.Join(where, ", ") + ")")
		}
		if f.Evidence != "" {
			g.desc.WriteString("\nEvidence: " + shorten(f.Evidence, 1024))
		}
	}
}

func (g *group) item() VulnerabilityItem {
	it := VulnerabilityItem{
		ID:       shorten(clean(g.id, true), 128),
		Package:  g.pkg,
		Version:  g.version,
		Severity: g.sev,
	}
	if it.Severity == "" {
		it.Severity = SeverityUnknown
	}
	desc := g.desc.String()
	if g.rule && g.findings > 1 {
		desc = fmt.Sprintf("%d findings of %s here:\n\n", g.count, g.id) + desc
		if g.findings > g.described {
			desc += fmt.Sprintf("\n\n(%d more are not described here)", g.findings-g.described)
		}
	}
	it.Description = shorten(clean(desc, false), maxDescription)
	attrs := map[string]any{"rule": it.ID}
	if g.path != "" {
		attrs["path"] = shorten(clean(g.path, true), maxPackageLen)
	}
	if g.member != "" {
		attrs["member"] = shorten(clean(g.member, true), maxPackageLen)
	}
	if g.sha != "" {
		attrs["sha256"] = shorten(clean(g.sha, true), 64)
	}
	if g.rule {
		it.Links = []string{RuleDocs + anchor(g.id)}
		it.CweIDs = cwes(g.id)
		if g.findings == 1 {
			for k, v := range g.occ[0] {
				attrs[k] = v
			}
			if g.category != "" {
				attrs["category"] = shorten(clean(g.category, true), maxAttributeText)
			}
		} else {
			attrs["occurrences"] = g.occ
			attrs["count"] = g.count
		}
	}
	it.VendorAttributes = attrs
	return it
}

// severityOf maps hallmark's severities to the spec's scale.
func severityOf(s scan.Severity) Severity {
	switch s {
	case scan.Critical:
		return SeverityCritical
	case scan.High:
		return SeverityHigh
	case scan.Medium:
		return SeverityMedium
	case scan.Low:
		return SeverityLow
	case scan.Info:
		return SeverityNegligible
	}
	return SeverityUnknown
}

// gateFailure says why the policy gate failed, if it did for a reason the
// findings in the report do not already show: the gate lists one reason
// for all findings at or above the threshold, so a failed gate with more
// reasons than that failed for something else (see gate.Check).
func gateFailure(res *audit.Result) string {
	g := res.Gate
	if g == nil || g.Verdict != "fail" || len(g.Reasons) == 0 {
		return ""
	}
	explained := 0
	if res.FailOn > 0 && maxFinding(res) >= res.FailOn {
		explained = 1
	}
	if len(g.Reasons) <= explained {
		return ""
	}
	return strings.Join(g.Reasons, "; ")
}

func maxFinding(res *audit.Result) scan.Severity {
	var m scan.Severity
	for _, t := range res.Targets {
		for i := range t.Files {
			m = max(m, t.Files[i].Max())
		}
	}
	return m
}

// artifactName names the artifact for items about all of it.
func artifactName(req ScanRequest, res *audit.Result) string {
	if req.Artifact.Repository != "" {
		return req.Artifact.Repository
	}
	if len(res.Targets) > 0 {
		if r := res.Targets[0].Repository; r != "" {
			return r
		}
		return res.Targets[0].Target
	}
	return ""
}

// packageName is a finding's place: the file, and the member inside it.
func packageName(name, member string) string {
	if member != "" {
		name += "!" + member
	}
	return shorten(clean(name, true), maxPackageLen)
}

// shortDigest shortens "alg:hex" to "alg:" and 12 hex digits.
func shortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok {
		return ""
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return shorten(clean(alg+":"+hex, true), 80)
}

// anchor is GitHub's anchor for a heading that reads id: lower case, only
// letters, digits, '-' and '_' kept ("pickle/dangerous-call" →
// "pickledangerous-call").
func anchor(id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(id) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// cwes are the weaknesses a rule is an instance of, where that is clear.
func cwes(rule string) []string {
	switch rule {
	case "pickle/dangerous-call", "pickle/dangerous-global", "pickle/unknown-call", "pickle/unknown-global",
		"pickle/dunder-access", "pickle/indirect-call", "pickle/dynamic-global", "pickle/unresolved-call",
		"pickle/build-on-global", "pickle/ext-opcode", "numpy/object-array", "keras/archive-pickle",
		"keras/torch-module-wrapper":
		return []string{"CWE-502"} // deserialization of untrusted data
	case "keras/lambda":
		return []string{"CWE-502", "CWE-94"}
	case "template/dangerous-attribute", "template/dangerous-call", "template/dunder-access", "template/dunder-string",
		"template/sensitive-global":
		return []string{"CWE-1336"} // template injection
	case "container/unsafe-path", "oci/unsafe-path", "keras/archive-path", "onnx/external-data-path", "tf/asset-path":
		return []string{"CWE-22"} // path traversal
	case "tar/link", "onnx/external-data-link":
		return []string{"CWE-59"} // link following
	case "container/bomb":
		return []string{"CWE-409"} // decompression bomb
	}
	return nil
}

// clean makes an untrusted string safe to show and to store: invalid UTF-8,
// NUL and other control characters (line breaks too if oneLine), and the
// bidirectional overrides that can make text read differently than it is,
// become U+FFFD. (Harbor stores the text in PostgreSQL, which refuses NUL.)
func clean(s string, oneLine bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			if oneLine {
				return '\uFFFD'
			}
			return r
		case r < 0x20, r >= 0x7f && r < 0xa0,
			r == 0x061c, r == 0x200e, r == 0x200f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return '\uFFFD'
		}
		return r
	}, s)
}

// shorten cuts s to at most n bytes on a rune boundary, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := max(n-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
