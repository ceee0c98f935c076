// Package policy reads a policy file (YAML or JSON): the severity
// threshold, extra allowed and denied pickle globals, and per-rule severity
// overrides. Unknown keys are an error, so a typo never weakens a gate.
package policy

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/hallmarkdev/hallmark/pickle"
	"github.com/hallmarkdev/hallmark/report"
	"github.com/hallmarkdev/hallmark/scan"
)

// File is the policy file's content.
type File struct {
	// Version must be 1.
	Version int `json:"version"`
	// FailOn is the default --fail-on threshold.
	FailOn string `json:"fail-on,omitempty"`
	Pickle struct {
		// Allow lists "module:qualname" globals to treat as safe. They never
		// override an exact deny rule.
		Allow []string `json:"allow,omitempty"`
		// Deny lists "module:qualname" or "module:*" globals to treat as dangerous.
		Deny []string `json:"deny,omitempty"`
	} `json:"pickle,omitempty"`
	// Severity maps rule ids to the severity to report them at.
	Severity map[string]string `json:"severity,omitempty"`
}

// Policy is a parsed, validated policy file.
type Policy struct {
	FailOn    scan.Severity // 0 when the file does not set it
	Pickle    *pickle.Policy
	Overrides map[string]scan.Severity
}

// Load reads and validates a policy file.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, nil
}

// Parse validates a policy document.
func Parse(data []byte) (*Policy, error) {
	var f File
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, err
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("version: want 1, got %d", f.Version)
	}
	p := &Policy{Overrides: map[string]scan.Severity{}}
	if f.FailOn != "" {
		s, err := scan.ParseSeverity(f.FailOn)
		if err != nil {
			return nil, fmt.Errorf("fail-on: %w", err)
		}
		p.FailOn = s
	}
	var allow, deny []pickle.Global
	for _, s := range f.Pickle.Allow {
		g, err := pickle.ParseGlobal(s)
		if err != nil || g.Name == "*" {
			return nil, fmt.Errorf("pickle.allow: %q is not of the form module:qualname", s)
		}
		allow = append(allow, g)
	}
	for _, s := range f.Pickle.Deny {
		g, err := pickle.ParseGlobal(s)
		if err != nil {
			return nil, fmt.Errorf("pickle.deny: %w", err)
		}
		deny = append(deny, g)
	}
	p.Pickle = pickle.Default().Extend(allow, deny)
	for rule, sev := range f.Severity {
		if !knownRule(rule) {
			return nil, fmt.Errorf("severity: unknown rule id %q", rule)
		}
		s, err := scan.ParseSeverity(sev)
		if err != nil || s == scan.Never {
			return nil, fmt.Errorf("severity.%s: %q is not a severity", rule, sev)
		}
		p.Overrides[rule] = s
	}
	return p, nil
}

func knownRule(id string) bool {
	for _, r := range report.Rules {
		if r.ID == id {
			return true
		}
	}
	return false
}
