package policy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/pickle"
	"github.com/hallmarkdev/hallmark/policy"
	"github.com/hallmarkdev/hallmark/scan"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		// wantErr is a substring of the error; "" means success.
		wantErr   string
		failOn    scan.Severity
		overrides map[string]scan.Severity
	}{
		{name: "minimal yaml", doc: "version: 1\n"},
		{name: "minimal json", doc: `{"version": 1}`},
		{
			name: "full yaml",
			doc: `version: 1
fail-on: high
pickle:
  allow: ["mylib.models:MyClassifier"]
  deny: ["pandas:read_csv", "somepkg:*"]
severity:
  pickle/unknown-global: medium
`,
			failOn:    scan.High,
			overrides: map[string]scan.Severity{"pickle/unknown-global": scan.Medium},
		},
		{
			name:      "full json",
			doc:       `{"version": 1, "fail-on": "low", "pickle": {"allow": ["a.b:C"], "deny": ["x:*"]}, "severity": {"pickle/unknown-call": "info", "file/link-outside-root": "critical"}}`,
			failOn:    scan.Low,
			overrides: map[string]scan.Severity{"pickle/unknown-call": scan.Info, "file/link-outside-root": scan.Critical},
		},
		{name: "fail-on none", doc: "version: 1\nfail-on: none\n", failOn: scan.Never},
		{name: "fail-on any case", doc: "version: 1\nfail-on: CRITICAL\n", failOn: scan.Critical},
		{name: "fail-on unset is zero", doc: "version: 1\npickle:\n  allow: []\n", failOn: 0},
		{name: "severity any case", doc: "version: 1\nseverity:\n  pickle/unknown-call: Low\n", overrides: map[string]scan.Severity{"pickle/unknown-call": scan.Low}},

		// version
		{name: "empty document", doc: "", wantErr: "version: want 1, got 0"},
		{name: "version missing", doc: "fail-on: high\n", wantErr: "version: want 1, got 0"},
		{name: "version 2", doc: "version: 2\n", wantErr: "version: want 1, got 2"},
		{name: "version 0", doc: "version: 0\n", wantErr: "version: want 1, got 0"},
		{name: "version string", doc: "version: one\n", wantErr: "version"},

		// unknown keys, at every level
		{name: "unknown top-level key", doc: "version: 1\nfailon: high\n", wantErr: `"failon"`},
		{name: "unknown top-level key json", doc: `{"version": 1, "allow": ["a:b"]}`, wantErr: `"allow"`},
		{name: "unknown nested key", doc: "version: 1\npickle:\n  alow: [\"a:b\"]\n", wantErr: `"alow"`},
		{name: "unknown nested key json", doc: `{"version": 1, "pickle": {"denny": ["a:b"]}}`, wantErr: `"denny"`},
		{name: "duplicate key", doc: "version: 1\nversion: 1\n", wantErr: `key "version" already set`},
		{name: "not a document", doc: "version: [1\n", wantErr: "yaml"},

		// globals
		{name: "deny without colon", doc: "version: 1\npickle:\n  deny: [\"os.system\"]\n", wantErr: `"os.system" is not of the form module:qualname`},
		{name: "allow without colon", doc: "version: 1\npickle:\n  allow: [\"os.system\"]\n", wantErr: `pickle.allow: "os.system"`},
		{name: "allow module wildcard", doc: "version: 1\npickle:\n  allow: [\"a:*\"]\n", wantErr: `pickle.allow: "a:*"`},
		{name: "allow empty module", doc: "version: 1\npickle:\n  allow: [\":x\"]\n", wantErr: "pickle.allow"},
		{name: "deny empty name", doc: "version: 1\npickle:\n  deny: [\"os:\"]\n", wantErr: "pickle.deny"},
		{name: "deny with space", doc: "version: 1\npickle:\n  deny: [\"os: system\"]\n", wantErr: "pickle.deny"},
		{name: "deny module wildcard ok", doc: "version: 1\npickle:\n  deny: [\"somepkg:*\"]\n"},

		// severities
		{name: "unknown rule id", doc: "version: 1\nseverity:\n  pickle/nope: low\n", wantErr: `unknown rule id "pickle/nope"`},
		{name: "bad severity", doc: "version: 1\nseverity:\n  pickle/unknown-call: extreme\n", wantErr: `severity.pickle/unknown-call: "extreme" is not a severity`},
		{name: "severity none", doc: "version: 1\nseverity:\n  pickle/unknown-call: none\n", wantErr: `"none" is not a severity`},
		{name: "severity empty", doc: "version: 1\nseverity:\n  pickle/unknown-call: \"\"\n", wantErr: "is not a severity"},
		{name: "bad fail-on", doc: "version: 1\nfail-on: sometimes\n", wantErr: `fail-on: unknown severity "sometimes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := policy.Parse([]byte(tt.doc))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Parse succeeded, want error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tt.wantErr)
				}
				if p != nil {
					t.Errorf("Parse returned a policy with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if p.Pickle == nil {
				t.Fatal("Policy.Pickle is nil")
			}
			if p.FailOn != tt.failOn {
				t.Errorf("FailOn = %v, want %v", p.FailOn, tt.failOn)
			}
			if len(p.Overrides) != len(tt.overrides) {
				t.Errorf("Overrides = %v, want %v", p.Overrides, tt.overrides)
			}
			for k, v := range tt.overrides {
				if p.Overrides[k] != v {
					t.Errorf("Overrides[%s] = %v, want %v", k, p.Overrides[k], v)
				}
			}
		})
	}
}

func classify(t *testing.T, doc, module, name string) pickle.Class {
	t.Helper()
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p.Pickle.Classify(pickle.Global{Module: module, Name: name})
}

func TestAllowedGlobal(t *testing.T) {
	g := pickle.Global{Module: "mylib", Name: "patch_weights"}
	if v := pickle.Default().Classify(g).Verdict; v != pickle.Unknown {
		t.Fatalf("built-in policy: %v is %v, want Unknown", g, v)
	}
	for _, doc := range []string{
		"version: 1\npickle:\n  allow: [\"mylib:patch_weights\"]\n",
		`{"version": 1, "pickle": {"allow": ["mylib:patch_weights"]}}`,
	} {
		if c := classify(t, doc, "mylib", "patch_weights"); c.Verdict != pickle.Allowed {
			t.Errorf("%q: mylib.patch_weights is %+v, want Allowed", doc, c)
		}
		// The allow entry is exact: neither the module nor a sibling.
		if c := classify(t, doc, "mylib", "other"); c.Verdict != pickle.Unknown {
			t.Errorf("%q: mylib.other is %+v, want Unknown", doc, c)
		}
		if c := classify(t, doc, "mylib.sub", "patch_weights"); c.Verdict != pickle.Unknown {
			t.Errorf("%q: mylib.sub.patch_weights is %+v, want Unknown", doc, c)
		}
	}
	// Parsing a policy never changes the built-in one.
	if v := pickle.Default().Classify(g).Verdict; v != pickle.Unknown {
		t.Errorf("built-in policy changed by Parse: %v is %v", g, v)
	}
}

func TestAllowNeverOverridesExactDeny(t *testing.T) {
	// builtins eval is an exact entry of the built-in deny list.
	if c := classify(t, "version: 1\npickle:\n  allow: [\"builtins:eval\"]\n", "builtins", "eval"); c.Verdict != pickle.Denied {
		t.Errorf("allow builtins:eval: %+v, want Denied", c)
	}
	// An exact deny from the policy file itself beats its own allow.
	doc := "version: 1\npickle:\n  allow: [\"mylib:thing\"]\n  deny: [\"mylib:thing\"]\n"
	if c := classify(t, doc, "mylib", "thing"); c.Verdict != pickle.Denied {
		t.Errorf("allow+deny mylib:thing: %+v, want Denied", c)
	}
}

func TestAllowDoesNotUnlockDeniedModule(t *testing.T) {
	if c := classify(t, "version: 1\npickle:\n  allow: [\"os:system\"]\n", "os", "system"); c.Verdict != pickle.Denied {
		t.Errorf("allow os:system: %+v, want Denied", c)
	}
	if c := classify(t, "version: 1\npickle:\n  allow: [\"subprocess:Popen\"]\n", "subprocess", "Popen"); c.Verdict != pickle.Denied {
		t.Errorf("allow subprocess:Popen: %+v, want Denied", c)
	}
	doc := "version: 1\npickle:\n  allow: [\"mylib.sub:thing\"]\n  deny: [\"mylib:*\"]\n"
	if c := classify(t, doc, "mylib.sub", "thing"); c.Verdict != pickle.Denied {
		t.Errorf("deny mylib:* + allow mylib.sub:thing: %+v, want Denied", c)
	}
}

func TestDenyModuleWildcard(t *testing.T) {
	doc := "version: 1\npickle:\n  deny: [\"mylib:*\"]\n"
	for _, g := range []pickle.Global{
		{Module: "mylib", Name: "patch_weights"},
		{Module: "mylib.sub", Name: "thing"},
		{Module: "mylib.sub.deeper", Name: "Class.method"},
	} {
		if c := classify(t, doc, g.Module, g.Name); c.Verdict != pickle.Denied {
			t.Errorf("deny mylib:*: %v is %+v, want Denied", g, c)
		}
	}
	// Only the module and its submodules: not a module that shares a prefix.
	if c := classify(t, doc, "mylibrary", "thing"); c.Verdict == pickle.Denied {
		t.Errorf("deny mylib:*: mylibrary.thing is Denied")
	}
	// An exact deny.
	doc = "version: 1\npickle:\n  deny: [\"pandas:read_csv\"]\n"
	if c := classify(t, doc, "pandas", "read_csv"); c.Verdict != pickle.Denied {
		t.Errorf("deny pandas:read_csv: %+v", c)
	}
	if c := classify(t, doc, "pandas", "DataFrame"); c.Verdict == pickle.Denied {
		t.Errorf("deny pandas:read_csv denies pandas.DataFrame")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(good, []byte("version: 1\nfail-on: low\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if p.FailOn != scan.Low {
		t.Errorf("FailOn = %v", p.FailOn)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nbogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := policy.Load(bad); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("Load(bad) = %v, want an error naming the file and the key", err)
	}
	missing := filepath.Join(dir, "missing.yaml")
	if _, err := policy.Load(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(missing) = %v", err)
	}
}
