package jinja

import (
	"strconv"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

type analysis struct {
	src      string // as given
	norm     string // after newline normalisation
	m        srcMap
	lim      Limits
	list     finding.List
	seen     map[string]bool
	accessed map[string]bool // dunder names reported by RuleDunder
	limits   map[string]bool
	complete bool
	tokens   int
	steps    int // work units the interpreter used (for tests)
}

func newAnalysis(src string, lim Limits) *analysis {
	return &analysis{
		src:      src,
		lim:      lim,
		list:     finding.List{PerRule: lim.MaxFindings},
		seen:     map[string]bool{},
		accessed: map[string]bool{},
		limits:   map[string]bool{},
		complete: true,
	}
}

func quote(s string) string { return strconv.Quote(finding.Shorten(s, 80)) }

// orig converts a normalised offset into one in the caller's text.
func (a *analysis) orig(off int) int64 {
	if off < 0 {
		off = 0
	}
	if off > len(a.norm) {
		off = len(a.norm)
	}
	o := a.m.orig(off)
	if o > int64(len(a.src)) {
		o = int64(len(a.src))
	}
	return o
}

func (a *analysis) evidence(sp span) string {
	lo, hi := a.orig(sp.off), a.orig(sp.end)
	if hi < lo {
		hi = lo
	}
	if hi-lo > 200 {
		hi = lo + 200
	}
	if hi > int64(len(a.src)) {
		hi = int64(len(a.src))
	}
	return finding.Shorten(strings.ToValidUTF8(a.src[lo:hi], "\uFFFD"), 120)
}

// add records a finding once per (rule, offset, detail).
func (a *analysis) add(rule string, lvl finding.Level, sp span, detail, msg string) {
	a.addOrig(rule, lvl, a.orig(sp.off), a.evidence(sp), detail, msg)
}

func (a *analysis) addOrig(rule string, lvl finding.Level, off int64, evidence, detail, msg string) {
	k := rule + "\x00" + strconv.FormatInt(off, 10) + "\x00" + detail
	if a.seen[k] {
		return
	}
	a.seen[k] = true
	a.list.Add(finding.Finding{Rule: rule, Level: lvl, Offset: off, Message: msg, Evidence: evidence})
}

func (a *analysis) limitAt(off int, what string) {
	a.complete = false
	if a.limits[what] {
		return
	}
	a.limits[what] = true
	var o int64
	if a.norm != "" {
		o = a.orig(off)
	}
	ev := ""
	if off >= 0 && a.norm != "" {
		ev = a.evidence(span{off, off + 40})
	}
	a.list.Add(finding.Finding{Rule: RuleLimit, Level: finding.High, Offset: o, Evidence: ev,
		Message: "template analysis stopped at the " + what + " limit: the rest of the template was not fully checked"})
}

func (a *analysis) report() Report {
	var out []finding.Finding
	for _, f := range a.list.Findings {
		// A dunder string that the analysis also saw used as an attribute
		// is already reported, at critical, by RuleDunder.
		if f.Rule == RuleDunderStr {
			if n := dunderFromMsg(f.Message); n != "" && a.accessed[n] {
				continue
			}
		}
		out = append(out, f)
	}
	return Report{Findings: out, Complete: a.complete, Tokens: a.tokens, Dropped: a.list.Dropped}
}

// dunderFromMsg extracts the quoted name from a RuleDunderStr message.
func dunderFromMsg(msg string) string {
	i := strings.IndexByte(msg, '"')
	if i < 0 {
		return ""
	}
	s, err := strconv.QuotedPrefix(msg[i:])
	if err != nil {
		return ""
	}
	u, err := strconv.Unquote(s)
	if err != nil {
		return ""
	}
	return u
}
