package policy_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/policy"
	"github.com/hallmarkdev/hallmark/report"
	"github.com/hallmarkdev/hallmark/scan"
)

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// FuzzParse: any bytes either fail to parse or give a policy that keeps
// every promise Parse makes; nothing panics.
func FuzzParse(f *testing.F) {
	for _, pat := range []string{"testdata/*.yaml", "testdata/*.json", "testdata/invalid/*.yaml"} {
		paths, err := filepath.Glob(pat)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	known := map[string]bool{}
	for _, r := range report.Rules {
		known[r.ID] = true
	}
	probes := [][]string{nil, {"pickle"}, {"zip", "pytorch", "pickle-based"}, {"json"}, {"numpy", "pickle-based"}, {"tar", "safetensors"}, {"link"}, {"archives"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Files resolve against testdata, so the seeds' references load.
		p, err := policy.ParseIn(data, "testdata")
		if err != nil {
			if p != nil {
				t.Fatal("a policy and an error")
			}
			if len(err.Error()) > 4096 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		if p.Pickle == nil || p.Overrides == nil {
			t.Fatal("Pickle or Overrides is nil")
		}
		if p.FailOn != 0 && (p.FailOn < scan.Info || p.FailOn > scan.Never) {
			t.Fatalf("FailOn = %v", p.FailOn)
		}
		for rule, s := range p.Overrides {
			if !known[rule] || s < scan.Info || s > scan.Critical {
				t.Fatalf("override %s = %v", rule, s)
			}
		}
		if !digestRE.MatchString(p.Digest) {
			t.Fatalf("Digest = %q", p.Digest)
		}
		checkSignature(t, p.Signature)
		for _, formats := range probes {
			if r := p.Formats.Check(formats); strings.Contains(r, "\n") {
				t.Fatalf("Check(%q) = %q", formats, r)
			}
		}
		if p.Formats.Allow != nil && len(p.Formats.Allow) == 0 {
			t.Fatal("empty allow list accepted")
		}
		if len(p.Formats.Deny) > 0 {
			// A denied format is never let through by Check.
			d := p.Formats.Deny[0]
			if r := p.Formats.Check([]string{d}); r == "" {
				t.Fatalf("deny %s: Check([%s]) passes", d, d)
			}
		}
		for _, s := range p.Suppress {
			if !known[s.Rule] || strings.TrimSpace(s.Reason) == "" || !strings.HasPrefix(s.Source, "suppress[") {
				t.Fatalf("suppression %+v", s)
			}
			if s.Path == "" && !s.Matches(s.Rule, "any/file") {
				t.Fatalf("suppression without path does not match: %+v", s)
			}
			if s.Matches(s.Rule+"x", "any/file") {
				t.Fatalf("suppression matches another rule: %+v", s)
			}
			if !s.Expires.IsZero() && !s.Expired(s.Expires.Add(time.Nanosecond)) {
				t.Fatalf("not expired after its expiry: %+v", s)
			}
		}
		if p.Limits.MaxFileSize < 0 || p.Limits.MaxTotalSize < 0 || p.Limits.MaxFiles < 0 {
			t.Fatalf("Limits = %+v", p.Limits)
		}
		// Parsing is deterministic.
		q, err := policy.ParseIn(data, "testdata")
		if err != nil || q.Digest != p.Digest {
			t.Fatalf("second parse: %v, digest %s vs %s", err, q.Digest, p.Digest)
		}
	})
}

func checkSignature(t *testing.T, s policy.Signature) {
	t.Helper()
	if s.Required && len(s.AnyOf) == 0 {
		t.Fatal("required with no signer")
	}
	for i, g := range s.AnyOf {
		if strings.Contains(g.String(), "\n") || len(g.String()) > 4096 {
			t.Fatalf("String() = %q", g.String())
		}
		if !strings.HasPrefix(g.Source, "signature.any-of[") {
			t.Fatalf("signer %d: Source %q", i, g.Source)
		}
		keyless := g.Identity != "" || g.IdentityRegexp != "" || g.Issuer != "" || g.IssuerRegexp != ""
		switch g.Method() {
		case "key":
			if !bytes.Contains(g.Key, []byte("-----BEGIN")) || g.CertificateChain != nil || keyless || g.TrustedRoot != nil {
				t.Fatalf("key signer %+v", g)
			}
		case "certificate":
			if len(g.CertificateChain) == 0 || len(g.CertificateChain) != len(g.CertificateChainFiles) || keyless || g.TrustedRoot != nil {
				t.Fatalf("certificate signer %+v", g)
			}
			for _, c := range g.CertificateChain {
				if !bytes.Contains(c, []byte("-----BEGIN")) {
					t.Fatalf("certificate signer %+v", g)
				}
			}
		case "keyless":
			if (g.Identity == "") == (g.IdentityRegexp == "") || (g.Issuer == "") == (g.IssuerRegexp == "") {
				t.Fatalf("keyless signer %+v", g)
			}
			for _, re := range []string{g.IdentityRegexp, g.IssuerRegexp} {
				if _, err := regexp.Compile(re); err != nil {
					t.Fatalf("regexp %q: %v", re, err)
				}
			}
		default:
			t.Fatalf("Method() = %q", g.Method())
		}
	}
}
