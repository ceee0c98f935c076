package report

import (
	"fmt"
	"io"
	"sort"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/scan"
)

// GitHub code scanning reads security-severity as a CVSS-like score.
var securitySeverity = map[scan.Severity]string{
	scan.Critical: "9.5", scan.High: "8.0", scan.Medium: "5.5", scan.Low: "3.0", scan.Info: "0.0",
}

func sarifLevel(s scan.Severity) string {
	switch {
	case s >= scan.High:
		return "error"
	case s == scan.Medium:
		return "warning"
	case s == scan.Low:
		return "note"
	}
	return "none"
}

func writeSARIF(w io.Writer, res *audit.Result) error {
	rep := sarif.NewReport()
	run := sarif.NewRunWithInformationURI("hallmark", "https://github.com/hallmarkdev/hallmark")
	drv := run.Tool.Driver
	v := res.Tool.Version
	drv.Version = &v
	drv.SemanticVersion = nil
	props := sarif.NewPropertyBag().Add("rulesVersion", res.RulesVersion)
	drv.Properties = props

	findings := res.Findings()
	// One rule per rule id seen, at the highest severity it was seen with.
	ruleSev := map[string]scan.Severity{}
	for _, f := range findings {
		if f.Severity > ruleSev[f.Rule] {
			ruleSev[f.Rule] = f.Severity
		}
	}
	ids := make([]string, 0, len(ruleSev))
	for id := range ruleSev {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		doc := ruleDoc(id)
		rule := run.AddRule(id)
		name := id
		rule.Name = &name
		rule.ShortDescription = sarif.NewMultiformatMessageString().WithText(doc.Short)
		rule.FullDescription = sarif.NewMultiformatMessageString().WithText(doc.Help)
		rule.Help = sarif.NewMultiformatMessageString().WithText(doc.Help).WithMarkdown(doc.Help)
		rule.DefaultConfiguration = sarif.NewReportingConfiguration().WithLevel(sarifLevel(ruleSev[id]))
		rule.Properties = sarif.NewPropertyBag().Add("security-severity", securitySeverity[ruleSev[id]]).AddTag("security")
	}
	for _, f := range findings {
		r := run.CreateResultForRule(f.Rule)
		r.WithLevel(sarifLevel(f.Severity))
		msg := f.Message
		if f.Evidence != "" {
			msg += ": " + f.Evidence
		}
		r.WithMessage(sarif.NewTextMessage(msg))
		loc := sarif.NewPhysicalLocation().WithArtifactLocation(sarif.NewSimpleArtifactLocation(f.Path))
		if f.Location != "" {
			msg += " (at " + f.Location + ")"
			r.WithMessage(sarif.NewTextMessage(msg))
		}
		if f.Member != "" {
			msg += " (in " + f.Member + ")"
			r.WithMessage(sarif.NewTextMessage(msg))
		}
		if f.Offset >= 0 {
			loc.WithRegion(sarif.NewRegion().WithByteOffset(int(f.Offset)).WithByteLength(1))
		}
		r.AddLocation(sarif.NewLocationWithPhysicalLocation(loc))
		p := sarif.NewPropertyBag().Add("severity", f.Severity.String())
		if f.Global != "" {
			p.Add("global", f.Global)
		}
		if f.Count > 1 {
			p.Add("count", f.Count)
		}
		r.WithProperties(p)
		if f.Suppressed != "" {
			// A policy suppression: code-scanning UIs show it as dismissed.
			r.AddSuppression(sarif.NewSuppression().WithKind("external").WithStatus("accepted").WithJustification(f.Suppressed))
		}
		r.WithPartialFingerprints(map[string]string{"hallmark/v1": fmt.Sprintf("%s:%s:%s:%d", f.Rule, f.Path, f.Global, f.Offset)})
	}
	rep.AddRun(run)
	return rep.PrettyWrite(w)
}
