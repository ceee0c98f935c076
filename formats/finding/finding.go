// Package finding is the result type the format parsers under formats/
// share: what a parser reports about one file, before the scan engine
// attaches the file's path and member.
package finding

import "fmt"

// Level is a finding's severity, ordered info < low < medium < high < critical.
// The values match pickle.Level and scan.Severity.
type Level uint8

const (
	Info Level = iota + 1
	Low
	Medium
	High
	Critical
)

func (l Level) String() string {
	switch l {
	case Info:
		return "info"
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	case Critical:
		return "critical"
	}
	return "unknown"
}

// Finding is one thing a parser reports.
type Finding struct {
	Rule     string // stable id, "<format>/<what>"; part of JSON, SARIF and policy files: never rename
	Level    Level
	Offset   int64  // byte offset in the file, or -1
	Where    string // logical location: tensor name, metadata key, node path, layer path…
	Message  string // one line, says what is wrong and why it matters
	Evidence string // the offending bytes or value, shortened
}

// Doc documents one rule id for SARIF and the README.
type Doc struct {
	ID    string
	Short string
	Help  string
}

// List collects findings, keeping at most PerRule of each rule and counting
// the rest, so a hostile file cannot grow the report without bound.
type List struct {
	Findings []Finding
	PerRule  int // 0: 16
	counts   map[string]int
	Dropped  int
}

// Add records f unless its rule already has PerRule findings.
func (l *List) Add(f Finding) {
	if l.counts == nil {
		l.counts = map[string]int{}
	}
	n := l.PerRule
	if n == 0 {
		n = 16
	}
	l.counts[f.Rule]++
	if l.counts[f.Rule] > n {
		l.Dropped++
		return
	}
	l.Findings = append(l.Findings, f)
}

// Addf records a finding built from a format string.
func (l *List) Addf(rule string, level Level, offset int64, where, format string, args ...any) {
	l.Add(Finding{Rule: rule, Level: level, Offset: offset, Where: where, Message: fmt.Sprintf(format, args...)})
}

// Shorten cuts s to at most n bytes (on a rune boundary) for evidence.
func Shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
