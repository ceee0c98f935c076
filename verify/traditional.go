package verify

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// verifyKey is model_signing's key method: the bundle's publicKey.hint (if
// any) must name our key, and the DSSE signature must verify over the
// standard PAE or, for v0.2 signatures, the buggy one (with the curve's
// hash).
func (v *Verifier) verifyKey(sig *Signature, res *Result) error {
	m := sig.Material
	if m.Kind != MaterialPublicKey {
		return fail(ErrWrongMethod, fmt.Sprintf("the bundle carries %s, not a public key; verify it with %s", m.Kind, methodFor(m.Kind)))
	}
	if m.KeyHint != "" && !strings.EqualFold(m.KeyHint, v.c.keyHint) {
		return fail(ErrWrongKey, fmt.Sprintf("the bundle was signed with the key whose hint is %s, the given key's is %s", truncate(m.KeyHint, 80), v.c.keyHint))
	}
	if len(m.KeyRawBytes) > 0 {
		// Pre-v1.1 bundles carry the PEM itself; model_signing ignores it,
		// but when it parses it names the signing key.
		if other, err := ParsePublicKey(m.KeyRawBytes); err == nil && !sameKey(v.c.key, other) {
			return fail(ErrWrongKey, fmt.Sprintf("the bundle was signed with the key %s, the given key is %s", KeyFingerprint(other), KeyFingerprint(v.c.key)))
		}
	}
	legacy, ok := verifyDSSE(v.c.key, sig.PayloadType, sig.Payload, sig.Sig, 0)
	if !ok {
		return fail(ErrBadSignature, fmt.Sprintf("the DSSE signature does not verify with the key %s (wrong key, or the payload was changed)", KeyFingerprint(v.c.key)))
	}
	res.KeyFingerprint = KeyFingerprint(v.c.key)
	res.LegacyPAE = legacy
	return nil
}

// verifyCertificate is model_signing's certificate method: the leaf chains
// to one of the given anchors through the bundle's intermediates at the
// leaf's notBefore, it may sign (KeyUsage digitalSignature or EKU
// codeSigning), and the DSSE signature verifies with its key (v0.2
// fallback with SHA-256).
func (v *Verifier) verifyCertificate(sig *Signature, res *Result) error {
	m := sig.Material
	if m.Kind != MaterialCertificateChain {
		return fail(ErrWrongMethod, fmt.Sprintf("the bundle carries %s, not an x509CertificateChain; verify it with %s", m.Kind, methodFor(m.Kind)))
	}
	if len(m.Certificates) == 0 {
		return fail(ErrMalformedBundle, "x509CertificateChain has no certificates")
	}
	leaf := m.Certificates[0]
	inter := x509.NewCertPool()
	for _, c := range m.Certificates[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         v.c.roots,
		Intermediates: inter,
		CurrentTime:   leaf.NotBefore,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return failErr(ErrUntrustedChain, fmt.Sprintf("leaf %q issued by %q does not chain to the given anchors", truncate(leaf.Subject.String(), 200), truncate(leaf.Issuer.String(), 200)), err)
	}
	if !canSign(leaf) {
		return fail(ErrKeyUsage, fmt.Sprintf("leaf %q has neither KeyUsage digitalSignature nor ExtKeyUsage codeSigning", truncate(leaf.Subject.String(), 200)))
	}
	if err := checkKeyType(leaf.PublicKey); err != nil {
		return failErr(ErrBadSignature, "leaf key", err)
	}
	legacy, ok := verifyDSSE(leaf.PublicKey, sig.PayloadType, sig.Payload, sig.Sig, crypto.SHA256)
	if !ok {
		return fail(ErrBadSignature, fmt.Sprintf("the DSSE signature does not verify with the leaf's key %s (the payload was changed, or the chain is not the signer's)", KeyFingerprint(leaf.PublicKey)))
	}
	res.Certificate = leaf
	res.Identity = certIdentity(leaf)
	res.Issuer = leaf.Issuer.String()
	res.KeyFingerprint = KeyFingerprint(leaf.PublicKey)
	res.LegacyPAE = legacy
	return nil
}

func canSign(c *x509.Certificate) bool {
	if c.KeyUsage&x509.KeyUsageDigitalSignature != 0 {
		return true
	}
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageCodeSigning {
			return true
		}
	}
	return false
}

// certIdentity is the leaf's first SAN (e-mail, URI, DNS name), else its
// subject DN.
func certIdentity(c *x509.Certificate) string {
	switch {
	case len(c.EmailAddresses) > 0:
		return c.EmailAddresses[0]
	case len(c.URIs) > 0:
		return c.URIs[0].String()
	case len(c.DNSNames) > 0:
		return c.DNSNames[0]
	}
	return c.Subject.String()
}

func methodFor(k MaterialKind) string {
	switch k {
	case MaterialPublicKey:
		return "--key"
	case MaterialCertificateChain:
		return "--certificate-chain"
	case MaterialCertificate:
		return "--identity and --issuer (keyless)"
	}
	return "another method"
}

var errNotFromParse = errors.New("verify: signature was not built by ParseBundle")
