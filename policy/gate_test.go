package policy_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/policy"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseGateKeys(t *testing.T) {
	abs, err := filepath.Abs("testdata/keys/release.pub")
	if err != nil {
		t.Fatal(err)
	}
	key := readTestdata(t, "keys/release.pub")
	root := readTestdata(t, "ca/root.pem")
	trusted := readTestdata(t, "sigstore/trusted_root.json")
	manySigners := "version: 1\nsignature:\n  any-of:\n" + strings.Repeat("    - key: keys/release.pub\n", 65)
	longChain := "version: 1\nsignature:\n  any-of:\n    - certificate-chain: [" + strings.TrimSuffix(strings.Repeat("ca/root.pem,", 17), ",") + "]\n"

	tests := []struct {
		name string
		doc  string
		dir  string // "" is Parse
		// wantErr is a substring of the error; "" means success.
		wantErr string
		check   func(t *testing.T, p *policy.Policy)
	}{
		// signature
		{name: "no signature section", doc: "version: 1\n", check: func(t *testing.T, p *policy.Policy) {
			if p.Signature.Required || p.Signature.AnyOf != nil {
				t.Errorf("Signature = %+v, want zero", p.Signature)
			}
		}},
		{name: "key", dir: "testdata", doc: "version: 1\nsignature:\n  required: true\n  any-of:\n    - key: keys/release.pub\n", check: func(t *testing.T, p *policy.Policy) {
			s := p.Signature
			if !s.Required || len(s.AnyOf) != 1 {
				t.Fatalf("Signature = %+v", s)
			}
			g := s.AnyOf[0]
			if g.Method() != "key" || !bytes.Equal(g.Key, key) || g.KeyFile != "keys/release.pub" || g.Source != "signature.any-of[0]" {
				t.Errorf("signer = %+v (method %s)", g, g.Method())
			}
			if g.String() != "key keys/release.pub" {
				t.Errorf("String() = %q", g.String())
			}
			if g.CertificateChain != nil || g.TrustedRoot != nil || g.Identity != "" || g.Issuer != "" {
				t.Errorf("other methods set: %+v", g)
			}
		}},
		{name: "key json", dir: "testdata", doc: `{"version": 1, "signature": {"required": true, "any-of": [{"key": "keys/release.pub"}]}}`, check: func(t *testing.T, p *policy.Policy) {
			if !bytes.Equal(p.Signature.AnyOf[0].Key, key) {
				t.Error("key not loaded")
			}
		}},
		{name: "absolute key with Parse", doc: "version: 1\nsignature:\n  any-of:\n    - key: " + abs + "\n", check: func(t *testing.T, p *policy.Policy) {
			if p.Signature.Required || !bytes.Equal(p.Signature.AnyOf[0].Key, key) {
				t.Errorf("Signature = %+v", p.Signature)
			}
		}},
		{name: "certificate chain", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - certificate-chain: [ca/root.pem, ./ca/../ca/root.pem]\n", check: func(t *testing.T, p *policy.Policy) {
			g := p.Signature.AnyOf[0]
			if g.Method() != "certificate" || len(g.CertificateChain) != 2 || !bytes.Equal(g.CertificateChain[1], root) || g.Key != nil {
				t.Errorf("signer = %+v", g)
			}
			if g.String() != "certificate chain ca/root.pem, ./ca/../ca/root.pem" {
				t.Errorf("String() = %q", g.String())
			}
		}},
		{name: "keyless exact", doc: "version: 1\nsignature:\n  any-of:\n    - identity: https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main\n      issuer: https://token.actions.githubusercontent.com\n", check: func(t *testing.T, p *policy.Policy) {
			g := p.Signature.AnyOf[0]
			if g.Method() != "keyless" || g.Identity != "https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main" || g.Issuer != "https://token.actions.githubusercontent.com" || g.IdentityRegexp != "" || g.IssuerRegexp != "" || g.TrustedRoot != nil {
				t.Errorf("signer = %+v", g)
			}
			if want := "keyless identity=https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main issuer=https://token.actions.githubusercontent.com"; g.String() != want {
				t.Errorf("String() = %q, want %q", g.String(), want)
			}
		}},
		{name: "keyless regexp with trusted root", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - identity-regexp: '^https://github\\.com/acme/'\n      issuer-regexp: '^https://token\\.actions\\.githubusercontent\\.com$'\n      trusted-root: sigstore/trusted_root.json\n", check: func(t *testing.T, p *policy.Policy) {
			g := p.Signature.AnyOf[0]
			if g.Method() != "keyless" || g.IdentityRegexp != `^https://github\.com/acme/` || g.IssuerRegexp != `^https://token\.actions\.githubusercontent\.com$` || !bytes.Equal(g.TrustedRoot, trusted) || g.TrustedRootFile != "sigstore/trusted_root.json" {
				t.Errorf("signer = %+v", g)
			}
			if want := `keyless identity-regexp=^https://github\.com/acme/ issuer-regexp=^https://token\.actions\.githubusercontent\.com$ trusted-root=sigstore/trusted_root.json`; g.String() != want {
				t.Errorf("String() = %q, want %q", g.String(), want)
			}
		}},
		{name: "keyless mixed exact and regexp", doc: "version: 1\nsignature:\n  any-of:\n    - identity: a@example.com\n      issuer-regexp: 'example'\n", check: func(t *testing.T, p *policy.Policy) {
			g := p.Signature.AnyOf[0]
			if g.Identity != "a@example.com" || g.IssuerRegexp != "example" {
				t.Errorf("signer = %+v", g)
			}
		}},
		{name: "String is one line", doc: "version: 1\nsignature:\n  any-of:\n    - identity: \"a\\nb\"\n      issuer: x\n", check: func(t *testing.T, p *policy.Policy) {
			if s := p.Signature.AnyOf[0].String(); strings.Contains(s, "\n") || !strings.Contains(s, `"a\nb"`) {
				t.Errorf("String() = %q", s)
			}
		}},
		{name: "sources are numbered", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - key: keys/release.pub\n    - identity: a\n      issuer: b\n", check: func(t *testing.T, p *policy.Policy) {
			if p.Signature.AnyOf[1].Source != "signature.any-of[1]" || p.Signature.AnyOf[1].Method() != "keyless" {
				t.Errorf("AnyOf = %+v", p.Signature.AnyOf)
			}
		}},
		{name: "not required, no signers", doc: "version: 1\nsignature:\n  required: false\n"},
		{name: "required, no signers", doc: "version: 1\nsignature:\n  required: true\n  any-of: []\n", wantErr: "signature.any-of: required is true but no signer is listed"},
		{name: "required not a bool", doc: "version: 1\nsignature:\n  required: maybe\n", wantErr: "bool"},
		{name: "relative key with Parse", doc: "version: 1\nsignature:\n  any-of:\n    - key: keys/release.pub\n", wantErr: "signature.any-of[0].key: keys/release.pub is relative, but the policy has no directory"},
		{name: "missing key file", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - key: keys/release.pub\n    - key: keys/x.pub\n", wantErr: "signature.any-of[1].key: open keys/x.pub: no such file or directory"},
		{name: "missing chain file", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - certificate-chain: [ca/root.pem, ca/nope.pem]\n", wantErr: "signature.any-of[0].certificate-chain[1]: open ca/nope.pem: no such file"},
		{name: "missing trusted root", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - identity: a\n      issuer: b\n      trusted-root: nope.json\n", wantErr: "signature.any-of[0].trusted-root: open nope.json: no such file"},
		{name: "key is a directory", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - key: keys\n", wantErr: "signature.any-of[0].key: keys: not a regular file"},
		{name: "key not PEM", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - key: sigstore/trusted_root.json\n", wantErr: "signature.any-of[0].key: not PEM"},
		{name: "chain not PEM", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - certificate-chain: [ca/root.pem, minimal.yaml]\n", wantErr: "signature.any-of[0].certificate-chain[1]: not PEM"},
		{name: "trusted root not JSON", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - identity: a\n      issuer: b\n      trusted-root: keys/release.pub\n", wantErr: "signature.any-of[0].trusted-root: keys/release.pub is not a JSON object"},
		{name: "trusted root JSON array", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - identity: a\n      issuer: b\n      trusted-root: bad/array.json\n", wantErr: "is not a JSON object"},
		{name: "empty key path", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - key: \"\"\n", wantErr: "signature.any-of[0].key: empty path"},
		{name: "empty chain path", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - certificate-chain: [\"\"]\n", wantErr: "signature.any-of[0].certificate-chain[0]: empty path"},
		{name: "empty chain", doc: "version: 1\nsignature:\n  any-of:\n    - certificate-chain: []\n", wantErr: "signature.any-of[0].certificate-chain: empty"},
		{name: "empty identity", doc: "version: 1\nsignature:\n  any-of:\n    - identity: \"\"\n      issuer: b\n", wantErr: "signature.any-of[0].identity: empty"},
		{name: "empty issuer regexp", doc: "version: 1\nsignature:\n  any-of:\n    - identity: a\n      issuer-regexp: \"\"\n", wantErr: "signature.any-of[0].issuer-regexp: empty"},
		{name: "bad identity regexp", doc: "version: 1\nsignature:\n  any-of:\n    - identity-regexp: '(a'\n      issuer: b\n", wantErr: "signature.any-of[0].identity-regexp: error parsing regexp"},
		{name: "bad issuer regexp", doc: "version: 1\nsignature:\n  any-of:\n    - identity: a\n      issuer-regexp: '[z-a]'\n", wantErr: "signature.any-of[0].issuer-regexp: error parsing regexp"},
		{name: "issuer and issuer-regexp", doc: "version: 1\nsignature:\n  any-of:\n    - identity: a\n      issuer: b\n      issuer-regexp: c\n", wantErr: "signature.any-of[0]: issuer and issuer-regexp: give one of them"},
		{name: "issuer alone", doc: "version: 1\nsignature:\n  any-of:\n    - issuer: b\n", wantErr: "signature.any-of[0]: identity or identity-regexp is missing"},
		{name: "trusted root alone", doc: "version: 1\nsignature:\n  any-of:\n    - trusted-root: t.json\n", wantErr: "signature.any-of[0]: trusted-root needs identity and issuer"},
		{name: "trusted root with chain", dir: "testdata", doc: "version: 1\nsignature:\n  any-of:\n    - certificate-chain: [ca/root.pem]\n      trusted-root: sigstore/trusted_root.json\n", wantErr: "signature.any-of[0].trusted-root: only for keyless"},
		{name: "three methods", doc: "version: 1\nsignature:\n  any-of:\n    - key: k\n      certificate-chain: [c]\n      identity: a\n      issuer: b\n", wantErr: "key and certificate-chain and identity/issuer: give exactly one method"},
		{name: "unknown signer key", doc: "version: 1\nsignature:\n  any-of:\n    - kye: k\n", wantErr: `"kye"`},
		{name: "too many signers", dir: "testdata", doc: manySigners, wantErr: "signature.any-of: more than 64 entries"},
		{name: "chain too long", dir: "testdata", doc: longChain, wantErr: "certificate-chain: more than 16 files"},

		// formats
		{name: "formats as written", doc: "version: 1\nformats:\n  deny: [pickle-based, archives]\n  allow: [safetensors, gguf, json, text]\n", check: func(t *testing.T, p *policy.Policy) {
			if fmt.Sprint(p.Formats.Deny) != "[pickle-based archives]" || fmt.Sprint(p.Formats.Allow) != "[safetensors gguf json text]" {
				t.Errorf("Formats = %+v", p.Formats)
			}
		}},
		{name: "every format name", doc: "version: 1\nformats:\n  deny: [pickle, pytorch, joblib, numpy, zip, tar, gzip, bzip2, xz, zstd, lz4, 7z, zlib, lzma, safetensors, gguf, onnx, tensorflow, hdf5, keras, json, python, jinja, text, unknown, pickle-based, archives]\n"},
		{name: "no formats section", doc: "version: 1\n", check: func(t *testing.T, p *policy.Policy) {
			if p.Formats.Allow != nil || p.Formats.Deny != nil || p.Formats.Check([]string{"pickle"}) != "" {
				t.Errorf("Formats = %+v", p.Formats)
			}
		}},
		{name: "unknown format in allow", doc: "version: 1\nformats:\n  allow: [safetensor]\n", wantErr: `formats.allow[0]: unknown format "safetensor"`},
		{name: "format wrong case", doc: "version: 1\nformats:\n  deny: [Pickle]\n", wantErr: `formats.deny[0]: unknown format "Pickle"`},
		{name: "empty allow", doc: `{"version": 1, "formats": {"allow": []}}`, wantErr: "formats.allow: empty"},
		{name: "empty deny is fine", doc: `{"version": 1, "formats": {"deny": []}}`},
		{name: "unknown formats key", doc: "version: 1\nformats:\n  block: [pickle]\n", wantErr: `"block"`},

		// suppress
		{name: "suppressions", doc: "version: 1\nsuppress:\n  - rule: pickle/unknown-global\n    path: \"legacy/*.pkl\"\n    reason: \"reviewed by security, ticket SEC-123\"\n    expires: 2027-01-31\n  - rule: hf/python-code\n    reason: ours\n  - rule: zip/trailing-data\n    reason: r\n    expires: \"2026-12-01T12:00:00+02:00\"\n", check: func(t *testing.T, p *policy.Policy) {
			if len(p.Suppress) != 3 {
				t.Fatalf("Suppress = %+v", p.Suppress)
			}
			s := p.Suppress[0]
			if s.Rule != "pickle/unknown-global" || s.Path != "legacy/*.pkl" || s.Reason != "reviewed by security, ticket SEC-123" || s.Source != "suppress[0]" {
				t.Errorf("Suppress[0] = %+v", s)
			}
			if want := time.Date(2027, 1, 31, 23, 59, 59, 999999999, time.UTC); !s.Expires.Equal(want) {
				t.Errorf("Expires = %v, want %v", s.Expires, want)
			}
			if s := p.Suppress[1]; s.Path != "" || !s.Expires.IsZero() || s.Source != "suppress[1]" {
				t.Errorf("Suppress[1] = %+v", s)
			}
			if want := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC); !p.Suppress[2].Expires.Equal(want) {
				t.Errorf("Suppress[2].Expires = %v, want %v", p.Suppress[2].Expires, want)
			}
		}},
		{name: "expired suppression loads", doc: "version: 1\nsuppress:\n  - rule: hf/python-code\n    reason: old\n    expires: 2001-01-01\n", check: func(t *testing.T, p *policy.Policy) {
			if !p.Suppress[0].Expired(time.Now()) {
				t.Error("not expired")
			}
		}},
		{name: "far future suppression loads", doc: "version: 1\nsuppress:\n  - rule: hf/python-code\n    reason: later\n    expires: 2099-01-01\n"},
		{name: "suppress unknown rule", doc: "version: 1\nsuppress:\n  - rule: pickle/nope\n    reason: r\n", wantErr: `suppress[0].rule: unknown rule id "pickle/nope"`},
		{name: "suppress rule missing", doc: "version: 1\nsuppress:\n  - reason: r\n", wantErr: "suppress[0].rule: missing"},
		{name: "suppress bad glob", doc: "version: 1\nsuppress:\n  - rule: hf/python-code\n    path: \"a/[b\"\n    reason: r\n", wantErr: `suppress[0].path: "a/[b" is not a valid pattern`},
		{name: "suppress bad glob escape", doc: "version: 1\nsuppress:\n  - rule: hf/python-code\n    path: \"x\\\\\"\n    reason: r\n", wantErr: "suppress[0].path"},
		{name: "suppress reason missing", doc: "version: 1\nsuppress:\n  - rule: hf/python-code\n", wantErr: "suppress[0].reason: missing"},
		{name: "suppress bad date", doc: "version: 1\nsuppress:\n  - rule: hf/python-code\n    reason: r\n    expires: 2027-02-30\n", wantErr: `suppress[0].expires: "2027-02-30" is neither a date`},
		{name: "suppress date as number", doc: "version: 1\nsuppress:\n  - rule: hf/python-code\n    reason: r\n    expires: 20270101\n", wantErr: "suppress"},
		{name: "suppress unknown key", doc: "version: 1\nsuppress:\n  - rule: hf/python-code\n    reason: r\n    until: 2027-01-01\n", wantErr: `"until"`},

		// limits
		{name: "limits", doc: "version: 1\nlimits:\n  max-file-size: 20GiB\n  max-total-size: 200GiB\n  max-files: 10000\n", check: func(t *testing.T, p *policy.Policy) {
			if want := (policy.SizeLimits{MaxFileSize: 20 << 30, MaxTotalSize: 200 << 30, MaxFiles: 10000}); p.Limits != want {
				t.Errorf("Limits = %+v, want %+v", p.Limits, want)
			}
		}},
		{name: "limits as numbers", doc: `{"version": 1, "limits": {"max-file-size": 1073741824, "max-total-size": 1e12, "max-files": 5}}`, check: func(t *testing.T, p *policy.Policy) {
			if want := (policy.SizeLimits{MaxFileSize: 1 << 30, MaxTotalSize: 1e12, MaxFiles: 5}); p.Limits != want {
				t.Errorf("Limits = %+v, want %+v", p.Limits, want)
			}
		}},
		{name: "limits decimal units", doc: "version: 1\nlimits:\n  max-file-size: 512 MB\n  max-total-size: 2TB\n", check: func(t *testing.T, p *policy.Policy) {
			if p.Limits.MaxFileSize != 512e6 || p.Limits.MaxTotalSize != 2e12 || p.Limits.MaxFiles != 0 {
				t.Errorf("Limits = %+v", p.Limits)
			}
		}},
		{name: "limits unset", doc: "version: 1\nlimits: {}\n", check: func(t *testing.T, p *policy.Policy) {
			if p.Limits != (policy.SizeLimits{}) {
				t.Errorf("Limits = %+v", p.Limits)
			}
		}},
		{name: "max-file-size zero", doc: "version: 1\nlimits:\n  max-file-size: 0\n", wantErr: "limits.max-file-size: must be at least 1 byte"},
		{name: "max-total-size zero string", doc: "version: 1\nlimits:\n  max-total-size: 0GiB\n", wantErr: "limits.max-total-size: must be at least 1 byte"},
		{name: "max-file-size negative", doc: "version: 1\nlimits:\n  max-file-size: -5\n", wantErr: "limits.max-file-size: must be at least 1 byte"},
		{name: "max-file-size bad unit", doc: "version: 1\nlimits:\n  max-file-size: 20PB\n", wantErr: `limits.max-file-size: "20PB" is not a size`},
		{name: "max-file-size fraction number", doc: `{"version": 1, "limits": {"max-file-size": 1.5}}`, wantErr: "limits.max-file-size: 1.5 is not a whole number"},
		{name: "max-file-size overflow", doc: "version: 1\nlimits:\n  max-file-size: 9000000TiB\n", wantErr: `limits.max-file-size: "9000000TiB" is too large`},
		{name: "max-file-size bool", doc: "version: 1\nlimits:\n  max-file-size: true\n", wantErr: "limits.max-file-size"},
		{name: "max-files zero", doc: "version: 1\nlimits:\n  max-files: 0\n", wantErr: "limits.max-files: must be at least 1"},
		{name: "max-files string", doc: "version: 1\nlimits:\n  max-files: \"10\"\n", wantErr: "limits.max-files"},
		{name: "max-files fraction", doc: `{"version": 1, "limits": {"max-files": 2.5}}`, wantErr: "limits.max-files: 2.5 is not a whole number"},
		{name: "unknown limits key", doc: "version: 1\nlimits:\n  max-size: 1GiB\n", wantErr: `"max-size"`},

		// the document itself
		{name: "$schema is ignored", doc: `{"$schema": "./policy.schema.json", "version": 1}`},
		{name: "document too large", doc: "version: 1\n#" + strings.Repeat("x", policy.MaxPolicySize), wantErr: "larger than 4 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *policy.Policy
			var err error
			if tt.dir == "" {
				p, err = policy.Parse([]byte(tt.doc))
			} else {
				p, err = policy.ParseIn([]byte(tt.doc), tt.dir)
			}
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("succeeded, want error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tt.wantErr)
				}
				if p != nil {
					t.Errorf("returned a policy with an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(p.Digest) {
				t.Errorf("Digest = %q", p.Digest)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

// A referenced file over the cap is refused, by its key path.
func TestReferencedFileCap(t *testing.T) {
	dir := t.TempDir()
	big := append([]byte("-----BEGIN PUBLIC KEY-----\n"), bytes.Repeat([]byte("A"), policy.MaxReferencedFile)...)
	if err := os.WriteFile(filepath.Join(dir, "big.pub"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := policy.ParseIn([]byte("version: 1\nsignature:\n  any-of:\n    - key: big.pub\n"), dir)
	if err == nil || !strings.Contains(err.Error(), "signature.any-of[0].key: big.pub: larger than 1 MiB") {
		t.Errorf("err = %v", err)
	}
	// Exactly at the cap is fine.
	if err := os.WriteFile(filepath.Join(dir, "ok.pub"), big[:policy.MaxReferencedFile], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := policy.ParseIn([]byte("version: 1\nsignature:\n  any-of:\n    - key: ok.pub\n"), dir); err != nil {
		t.Errorf("file at the cap: %v", err)
	}
}

// Load names the policy file, then the key path, then the problem.
func TestLoadErrorNamesKeyPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	doc := "version: 1\nsignature:\n  required: true\n  any-of:\n    - identity: a\n      issuer: b\n    - key: keys/x.pub\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := policy.Load(path)
	want := "policy " + path + ": signature.any-of[1].key: open keys/x.pub: no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("Load error\n got %v\nwant %s", err, want)
	}
	// Relative to the policy's folder, not the working directory.
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", "x.pub"), readTestdata(t, "keys/release.pub"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Signature.AnyOf[1].Method() != "key" || p.Signature.AnyOf[1].KeyFile != "keys/x.pub" {
		t.Errorf("AnyOf = %+v", p.Signature.AnyOf)
	}
}

func TestLoadRefusesNonRegular(t *testing.T) {
	if _, err := policy.Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Load(dir) = %v", err)
	}
}

// The digest covers the policy and every file it loaded.
func TestDigest(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	load := func() string {
		t.Helper()
		p, err := policy.Load(filepath.Join(dir, "p.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		return p.Digest
	}
	write("p.yaml", "version: 1\nsignature:\n  any-of:\n    - key: a.pub\n")
	write("a.pub", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
	d1 := load()
	if d1 != load() {
		t.Fatal("digest not stable")
	}
	write("a.pub", "-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----\n")
	d2 := load()
	if d2 == d1 {
		t.Error("digest unchanged after the key file changed")
	}
	write("p.yaml", "version: 1\nsignature:\n  any-of:\n    - key: a.pub\n# comment\n")
	if d3 := load(); d3 == d2 || d3 == d1 {
		t.Error("digest unchanged after the policy changed")
	}
	// A policy without files: Parse and Load agree, and differ from another policy.
	write("q.yaml", "version: 1\nfail-on: high\n")
	q, err := policy.Load(filepath.Join(dir, "q.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pq, err := policy.Parse([]byte("version: 1\nfail-on: high\n"))
	if err != nil {
		t.Fatal(err)
	}
	pr, err := policy.Parse([]byte("version: 1\nfail-on: low\n"))
	if err != nil {
		t.Fatal(err)
	}
	if q.Digest != pq.Digest || pq.Digest == pr.Digest {
		t.Errorf("digests: load %s parse %s other %s", q.Digest, pq.Digest, pr.Digest)
	}
}
