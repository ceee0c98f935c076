package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// Signature is what the gate requires of signatures. The zero value
// requires nothing.
type Signature struct {
	// Required makes the gate fail when no signature verifies against one
	// of AnyOf.
	Required bool
	AnyOf    []Signer
}

// Signer is one way a signature may verify: a public key, a certificate
// chain, or a keyless (Sigstore) identity. Exactly one method is set.
type Signer struct {
	Key              []byte   // PEM public key (not parsed here; verify/ does that)
	CertificateChain [][]byte // PEM trust anchors, one file each

	// Keyless: exactly one of Identity/IdentityRegexp and one of
	// Issuer/IssuerRegexp. The regexps are Go syntax, unanchored unless
	// they say ^ and $.
	Identity, IdentityRegexp, Issuer, IssuerRegexp string
	TrustedRoot                                    []byte // optional Sigstore trusted_root.json

	// The files as the policy wrote them, for messages.
	KeyFile               string
	CertificateChainFiles []string
	TrustedRootFile       string

	Source string // "signature.any-of[0]", for messages
}

// Method is "key", "certificate" or "keyless".
func (s Signer) Method() string {
	switch {
	case s.Key != nil:
		return "key"
	case s.CertificateChain != nil:
		return "certificate"
	default:
		return "keyless"
	}
}

// String describes the signer on one line, by the names the policy gave:
// "key keys/release.pub", "certificate chain ca/root.pem",
// "keyless identity=… issuer=…".
func (s Signer) String() string {
	switch s.Method() {
	case "key":
		return "key " + oneLine(s.KeyFile)
	case "certificate":
		names := make([]string, len(s.CertificateChainFiles))
		for i, n := range s.CertificateChainFiles {
			names[i] = oneLine(n)
		}
		return "certificate chain " + strings.Join(names, ", ")
	}
	var b strings.Builder
	b.WriteString("keyless")
	if s.Identity != "" {
		b.WriteString(" identity=" + oneLine(s.Identity))
	} else {
		b.WriteString(" identity-regexp=" + oneLine(s.IdentityRegexp))
	}
	if s.Issuer != "" {
		b.WriteString(" issuer=" + oneLine(s.Issuer))
	} else {
		b.WriteString(" issuer-regexp=" + oneLine(s.IssuerRegexp))
	}
	if s.TrustedRootFile != "" {
		b.WriteString(" trusted-root=" + oneLine(s.TrustedRootFile))
	}
	return b.String()
}

// oneLine keeps a policy value printable on one line and of bounded length.
func oneLine(v string) string {
	v = finding.Shorten(v, 200)
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' }) {
		return strconv.Quote(v)
	}
	return v
}

func parseSignature(in *FileSignature, ld *loader) (Signature, error) {
	var out Signature
	if in == nil {
		return out, nil
	}
	out.Required = in.Required
	if in.Required && len(in.AnyOf) == 0 {
		return out, errors.New("signature.any-of: required is true but no signer is listed")
	}
	if len(in.AnyOf) > maxSigners {
		return out, fmt.Errorf("signature.any-of: more than %d entries", maxSigners)
	}
	for i, e := range in.AnyOf {
		s, err := parseSigner(e, fmt.Sprintf("signature.any-of[%d]", i), ld)
		if err != nil {
			return Signature{}, err
		}
		out.AnyOf = append(out.AnyOf, s)
	}
	return out, nil
}

func parseSigner(e FileSigner, src string, ld *loader) (Signer, error) {
	s := Signer{Source: src}
	var methods []string
	if e.Key != nil {
		methods = append(methods, "key")
	}
	if e.CertificateChain != nil {
		methods = append(methods, "certificate-chain")
	}
	keyless := e.Identity != nil || e.IdentityRegexp != nil || e.Issuer != nil || e.IssuerRegexp != nil
	if keyless {
		methods = append(methods, "identity/issuer")
	}
	switch {
	case len(methods) == 0:
		if e.TrustedRoot != nil {
			return s, fmt.Errorf("%s: trusted-root needs identity and issuer", src)
		}
		return s, fmt.Errorf("%s: no method: give key, certificate-chain, or identity and issuer", src)
	case len(methods) > 1:
		return s, fmt.Errorf("%s: %s: give exactly one method per entry (list them as separate entries)", src, strings.Join(methods, " and "))
	}
	if !keyless && e.TrustedRoot != nil {
		return s, fmt.Errorf("%s.trusted-root: only for keyless entries (identity and issuer)", src)
	}
	switch {
	case e.Key != nil:
		b, err := ld.load(src+".key", *e.Key)
		if err != nil {
			return s, err
		}
		if err := checkPEM(src+".key", b); err != nil {
			return s, err
		}
		s.Key, s.KeyFile = b, *e.Key
	case e.CertificateChain != nil:
		if len(e.CertificateChain) == 0 {
			return s, fmt.Errorf("%s.certificate-chain: empty", src)
		}
		if len(e.CertificateChain) > maxChain {
			return s, fmt.Errorf("%s.certificate-chain: more than %d files", src, maxChain)
		}
		for j, name := range e.CertificateChain {
			key := fmt.Sprintf("%s.certificate-chain[%d]", src, j)
			b, err := ld.load(key, name)
			if err != nil {
				return s, err
			}
			if err := checkPEM(key, b); err != nil {
				return s, err
			}
			s.CertificateChain = append(s.CertificateChain, b)
			s.CertificateChainFiles = append(s.CertificateChainFiles, name)
		}
	default:
		var err error
		if s.Identity, s.IdentityRegexp, err = oneOf(src, "identity", e.Identity, e.IdentityRegexp); err != nil {
			return s, err
		}
		if s.Issuer, s.IssuerRegexp, err = oneOf(src, "issuer", e.Issuer, e.IssuerRegexp); err != nil {
			return s, err
		}
		if e.TrustedRoot != nil {
			b, err := ld.load(src+".trusted-root", *e.TrustedRoot)
			if err != nil {
				return s, err
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
				return s, fmt.Errorf("%s.trusted-root: %s is not a JSON object (a Sigstore trusted_root.json)", src, oneLine(*e.TrustedRoot))
			}
			s.TrustedRoot, s.TrustedRootFile = b, *e.TrustedRoot
		}
	}
	return s, nil
}

// oneOf reads the exact/regexp pair of a keyless field: exactly one is set,
// non-empty, and a regexp compiles.
func oneOf(src, name string, exact, re *string) (string, string, error) {
	switch {
	case exact != nil && re != nil:
		return "", "", fmt.Errorf("%s: %s and %s-regexp: give one of them", src, name, name)
	case exact == nil && re == nil:
		return "", "", fmt.Errorf("%s: %s or %s-regexp is missing", src, name, name)
	case exact != nil:
		if *exact == "" {
			return "", "", fmt.Errorf("%s.%s: empty", src, name)
		}
		return *exact, "", nil
	}
	if *re == "" {
		return "", "", fmt.Errorf("%s.%s-regexp: empty", src, name)
	}
	if _, err := regexp.Compile(*re); err != nil {
		return "", "", fmt.Errorf("%s.%s-regexp: %w", src, name, err)
	}
	return "", *re, nil
}

// checkPEM is a sanity check only (a wrong file named as a key): verify/
// parses the PEM.
func checkPEM(key string, b []byte) error {
	if !bytes.Contains(b, []byte("-----BEGIN")) {
		return fmt.Errorf("%s: not PEM (no -----BEGIN line)", key)
	}
	return nil
}

// loader reads the files a policy names, relative to the policy's
// directory, and remembers them for the digest.
type loader struct {
	dir    string
	total  int64
	loaded []loadedFile
}

type loadedFile struct {
	key  string // "signature.any-of[0].key"
	data []byte
}

func (ld *loader) load(key, name string) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("%s: empty path", key)
	}
	if strings.ContainsRune(name, 0) {
		return nil, fmt.Errorf("%s: %s is not a path", key, oneLine(name))
	}
	p := filepath.FromSlash(name)
	if !filepath.IsAbs(p) {
		if ld.dir == "" {
			return nil, fmt.Errorf("%s: %s is relative, but the policy has no directory to resolve it against (use policy.Load or policy.ParseIn)", key, oneLine(name))
		}
		p = filepath.Join(ld.dir, p)
	}
	b, err := readCapped(p, MaxReferencedFile)
	if err != nil {
		// Name the file as the policy wrote it, not as joined: that is what
		// the author can find and fix.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: open %s: %w", key, oneLine(name), pe.Err)
		}
		return nil, fmt.Errorf("%s: %s: %s", key, oneLine(name), strings.TrimPrefix(err.Error(), p+": "))
	}
	ld.total += int64(len(b))
	if ld.total > maxReferencedTotal {
		return nil, fmt.Errorf("%s: the files the policy names exceed %d MiB together", key, maxReferencedTotal>>20)
	}
	ld.loaded = append(ld.loaded, loadedFile{key: key, data: b})
	return b, nil
}
