package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/scan"
)

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
)

var sevColor = map[scan.Severity]string{
	scan.Critical: "\x1b[1;31m", scan.High: "\x1b[31m", scan.Medium: "\x1b[33m", scan.Low: "\x1b[36m", scan.Info: "\x1b[2m",
}

func writeText(w io.Writer, res *audit.Result, opt Options) error {
	bw := bufio.NewWriter(w)
	c := func(code, s string) string {
		if !opt.Color || code == "" {
			return s
		}
		return code + s + ansiReset
	}
	for _, t := range res.Targets {
		if t.Digest != "" {
			// OCI: say exactly what was read.
			var parts []string
			for _, kv := range [][2]string{{"registry", t.Registry}, {"repository", t.Repository}, {"digest", t.Digest}, {"family", t.Family}} {
				if kv[1] != "" {
					parts = append(parts, kv[0]+" "+kv[1])
				}
			}
			fmt.Fprintf(bw, "%s  %s\n\n", c(ansiBold, t.Target), c(ansiDim, strings.Join(parts, "  ")))
		}
		if t.Error != "" {
			fmt.Fprintf(bw, "%s\n  %s\n\n", c(ansiBold, t.Target), c(sevColor[scan.High], "error: "+t.Error))
		}
		if t.Refused != "" {
			fmt.Fprintf(bw, "%s\n  %s\n\n", c(ansiBold, t.Target), c(sevColor[scan.Critical], "refused by the policy, not read: "+t.Refused))
		}
		for _, f := range t.Files {
			fmt.Fprintf(bw, "%s  %s  %s\n", c(ansiBold, f.Path), describeFile(&f), c(sevColor[f.Max()], strings.ToUpper(f.Verdict)))
			if f.Error != "" {
				fmt.Fprintf(bw, "  %s\n", c(sevColor[scan.High], "error: "+f.Error))
			}
			for _, fd := range f.Findings {
				loc := ""
				if fd.Offset >= 0 {
					loc = fmt.Sprintf(" @%d", fd.Offset)
				}
				count := ""
				if fd.Count > 1 {
					count = fmt.Sprintf(" (×%d)", fd.Count)
				}
				if fd.Location != "" {
					loc = " at " + fd.Location + loc
				}
				if fd.Member != "" {
					loc = " in " + fd.Member + loc
				}
				if fd.Suppressed != "" {
					fmt.Fprintf(bw, "  %-8s %s%s  %s%s\n", c(ansiDim, "("+fd.Severity.String()+")"), fd.Rule, c(ansiDim, loc), fd.Message, count)
					fmt.Fprintf(bw, "           %s\n", c(ansiDim, "suppressed by the policy: "+fd.Suppressed))
					continue
				}
				fmt.Fprintf(bw, "  %-8s %s%s  %s%s\n", c(sevColor[fd.Severity], fd.Severity.String()), fd.Rule, c(ansiDim, loc), fd.Message, count)
				if fd.Evidence != "" {
					fmt.Fprintf(bw, "           %s\n", c(ansiDim, fd.Evidence))
				}
			}
			fmt.Fprintln(bw)
		}
	}
	s := res.Summary
	var counts []string
	for _, sev := range []scan.Severity{scan.Critical, scan.High, scan.Medium, scan.Low, scan.Info} {
		if n := s.Findings[sev.String()]; n > 0 {
			counts = append(counts, c(sevColor[sev], fmt.Sprintf("%d %s", n, sev)))
		}
	}
	if len(counts) == 0 {
		counts = []string{"none"}
	}
	if s.Suppressed > 0 {
		counts = append(counts, fmt.Sprintf("%d suppressed", s.Suppressed))
	}
	if g := res.Gate; g != nil {
		writeGate(bw, g, c)
	}
	verdict := strings.ToUpper(res.Verdict)
	switch res.Verdict {
	case "fail":
		verdict = c(sevColor[scan.Critical], verdict)
	case "pass":
		verdict = c("\x1b[1;32m", verdict)
	}
	fmt.Fprintf(bw, "%d files (%d scanned, %d not scanned), %s in %.2fs; findings: %s; fail-on %s: %s\n",
		s.Files, s.Scanned, s.NotScanned, humanBytes(s.Bytes), s.Seconds, strings.Join(counts, ", "), res.FailOn, verdict)
	return bw.Flush()
}

func describeFile(f *scan.FileResult) string {
	parts := []string{f.Format}
	if fc := f.Facts; fc != nil {
		if fc.PickleProtocol > 0 || fc.Format == scan.FormatPickle {
			parts = append(parts, fmt.Sprintf("protocol %d", fc.PickleProtocol))
		}
		if fc.Framework != "" && fc.Framework != f.Format {
			parts = append(parts, fc.Framework)
		}
		if fc.Architecture != "" {
			parts = append(parts, fc.Architecture)
		}
		if fc.Quantization != "" {
			parts = append(parts, fc.Quantization)
		}
		if fc.Parameters > 0 {
			parts = append(parts, humanCount(fc.Parameters)+" parameters")
		}
	}
	parts = append(parts, humanBytes(f.Size))
	return strings.Join(parts, ", ")
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprintf("%d", n)
}

// writeGate prints what `hallmark check` decided beyond the findings.
func writeGate(w io.Writer, g *audit.Gate, c func(code, s string) string) {
	if sig := g.Signature; sig != nil {
		switch {
		case sig.Verified:
			who := sig.Key
			if sig.Identity != "" {
				who = sig.Identity
				if sig.Issuer != "" {
					who += " (issuer " + sig.Issuer + ")"
				}
			}
			fmt.Fprintf(w, "signature: verified: %s %s, %s", sig.Format, sig.Method, who)
			if sig.Ref != "" {
				fmt.Fprintf(w, "; %s", sig.Ref)
			}
			fmt.Fprintln(w)
		case sig.Found && sig.Error == "":
			fmt.Fprintf(w, "signature: present (%s), not checked: no key or identity configured\n", sig.Ref)
		case !sig.Found:
			fmt.Fprintf(w, "signature: none found%s\n", map[bool]string{true: " (required)", false: ""}[sig.Required])
		default:
			fmt.Fprintf(w, "signature: %s\n", c(sevColor[scan.Critical], "NOT verified: "+sig.Error))
		}
	}
	for _, r := range g.Reasons {
		fmt.Fprintf(w, "gate: %s\n", c(sevColor[scan.Critical], r))
	}
	for _, r := range g.Warnings {
		fmt.Fprintf(w, "warning: %s\n", r)
	}
}
