package scan

import (
	"fmt"
	"strings"

	"github.com/hallmarkdev/hallmark/pickle"
)

// Severity orders findings: info < low < medium < high < critical.
type Severity int

const (
	Info Severity = iota + 1
	Low
	Medium
	High
	Critical
	// Never is a threshold above every severity (--fail-on none).
	Never
)

var severityNames = []string{"", "info", "low", "medium", "high", "critical", "none"}

func (s Severity) String() string {
	if s >= Info && s <= Never {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity parses a severity name; "none" gives Never.
func ParseSeverity(v string) (Severity, error) {
	for i, n := range severityNames {
		if i > 0 && strings.EqualFold(v, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, low, medium, high, critical or none)", v)
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

func fromLevel(l pickle.Level) Severity { return Severity(l) }
