package verify

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmarkdev/hallmark/verify/manifest"
)

// Method is how a signature is verified.
type Method string

// The three OMS verification methods.
const (
	MethodKey         Method = "key"         // a public key (--key)
	MethodCertificate Method = "certificate" // an X.509 chain to given anchors (--certificate-chain)
	MethodKeyless     Method = "sigstore"    // Sigstore keyless: Fulcio, Rekor, an identity (--identity)
)

// TrustPolicy says which signer is trusted; NewVerifier requires exactly
// one (WithPublicKey, WithCertificateChain or WithIdentity).
type TrustPolicy func(*config) error

// VerifierOption adjusts a verifier.
type VerifierOption func(*config) error

// ArtifactPolicy says what the signature must cover; Verify requires one
// (WithResources or, explicitly, WithoutArtifactUnsafe).
type ArtifactPolicy func(*artifactConfig) error

// Identity is the keyless signer policy: the certificate's subject
// alternative name and its OIDC issuer. Each is matched exactly or by a
// regular expression anchored at both ends (^(?:re)$); give at least one
// of the two for each, and when both are given both must match.
type Identity struct {
	Subject       string // exact SAN (e-mail, URI), --identity
	SubjectRegexp string // --identity-regexp
	Issuer        string // exact OIDC issuer, --issuer
	IssuerRegexp  string // --issuer-regexp
}

type config struct {
	method Method
	set    int

	// key
	key     crypto.PublicKey
	keyHint string

	// certificate
	roots *x509.CertPool

	// keyless
	identity  Identity
	subjectRE *regexp.Regexp
	issuerRE  *regexp.Regexp
	trusted   root.TrustedMaterial
}

type artifactConfig struct {
	set    bool
	unsafe bool
	local  []manifest.Resource
}

// WithPublicKey trusts one public key (PEM, text before the block allowed,
// or DER): ECDSA P-256/P-384/P-521 or Ed25519.
func WithPublicKey(data []byte) TrustPolicy {
	return func(c *config) error {
		pub, err := ParsePublicKey(data)
		if err != nil {
			return err
		}
		hint, err := KeyHint(pub)
		if err != nil {
			return fmt.Errorf("public key: %w", err)
		}
		c.method, c.key, c.keyHint = MethodKey, pub, hint
		c.set++
		return nil
	}
}

// WithCertificateChain trusts every certificate in the given PEM files as
// an anchor, as model_signing does with --certificate-chain. The bundle's
// leaf must chain to one of them (intermediates from the bundle), checked
// at the leaf's notBefore.
func WithCertificateChain(pemFiles ...[]byte) TrustPolicy {
	return func(c *config) error {
		if len(pemFiles) == 0 {
			return errors.New("certificate chain: no trust anchors given")
		}
		pool := x509.NewCertPool()
		for i, f := range pemFiles {
			certs, err := ParseCertificates(f)
			if err != nil {
				return fmt.Errorf("certificate chain file %d: %w", i+1, err)
			}
			for _, cert := range certs {
				pool.AddCert(cert)
			}
		}
		c.method, c.roots = MethodCertificate, pool
		c.set++
		return nil
	}
}

// WithIdentity trusts a Sigstore keyless signer: a Fulcio certificate for
// this identity, a Rekor entry and a timestamp, all checked against the
// trusted root (the embedded public-good root unless WithTrustedRoot or
// WithTrustedMaterial is given).
func WithIdentity(id Identity) TrustPolicy {
	return func(c *config) error {
		if id.Subject == "" && id.SubjectRegexp == "" {
			return errors.New("keyless: give an identity (exact or regexp)")
		}
		if id.Issuer == "" && id.IssuerRegexp == "" {
			return errors.New("keyless: give an issuer (exact or regexp)")
		}
		var err error
		if id.SubjectRegexp != "" {
			if c.subjectRE, err = anchored(id.SubjectRegexp); err != nil {
				return fmt.Errorf("identity regexp: %w", err)
			}
		}
		if id.IssuerRegexp != "" {
			if c.issuerRE, err = anchored(id.IssuerRegexp); err != nil {
				return fmt.Errorf("issuer regexp: %w", err)
			}
		}
		c.method, c.identity = MethodKeyless, id
		c.set++
		return nil
	}
}

func anchored(re string) (*regexp.Regexp, error) { return regexp.Compile("^(?:" + re + ")$") }

// WithTrustedRoot replaces the embedded Sigstore root for keyless
// verification: a trusted_root.json, or a ClientTrustConfig JSON that
// carries one.
func WithTrustedRoot(data []byte) VerifierOption {
	return func(c *config) error {
		tr, err := ParseTrustedRoot(data)
		if err != nil {
			return err
		}
		c.trusted = tr
		return nil
	}
}

// WithTrustedMaterial replaces the embedded Sigstore root for keyless
// verification with any sigstore-go trusted material.
func WithTrustedMaterial(tm root.TrustedMaterial) VerifierOption {
	return func(c *config) error {
		if tm == nil {
			return errors.New("trusted material is nil")
		}
		c.trusted = tm
		return nil
	}
}

// WithResources binds the signature to the model: local is the manifest
// computed from the files on disk (with the signature's Options, see
// Signature.Options). The signed resources must equal it as a set (name,
// algorithm, digest); a single-file model named "." on one side matches
// any single name on the other.
func WithResources(local []manifest.Resource) ArtifactPolicy {
	return func(a *artifactConfig) error {
		a.set, a.local = true, local
		return nil
	}
}

// WithoutArtifactUnsafe verifies the signature and the statement without
// comparing the signed resources to a model; the caller must compare
// Result.Resources itself.
func WithoutArtifactUnsafe() ArtifactPolicy {
	return func(a *artifactConfig) error {
		a.set, a.unsafe = true, true
		return nil
	}
}

// Verifier verifies OMS signatures with one trust policy.
type Verifier struct {
	c config
}

// NewVerifier builds a verifier for one method. Its errors are
// configuration errors (they do not wrap ErrVerification).
func NewVerifier(trust TrustPolicy, opts ...VerifierOption) (*Verifier, error) {
	if trust == nil {
		return nil, errors.New("verify: no trust policy (WithPublicKey, WithCertificateChain or WithIdentity)")
	}
	v := &Verifier{}
	if err := trust(&v.c); err != nil {
		return nil, err
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&v.c); err != nil {
			return nil, err
		}
	}
	if v.c.set != 1 {
		return nil, errors.New("verify: exactly one trust policy")
	}
	if v.c.trusted != nil && v.c.method != MethodKeyless {
		return nil, errors.New("verify: a trusted root applies to keyless (--identity) verification only")
	}
	if v.c.method == MethodKeyless && v.c.trusted == nil {
		tr, err := DefaultTrustedRoot()
		if err != nil {
			return nil, err
		}
		v.c.trusted = tr
	}
	return v, nil
}

// Method is the verifier's method.
func (v *Verifier) Method() Method { return v.c.method }

// Timestamp is a verified time at which the signature existed.
type Timestamp struct {
	Kind string // "Tlog" (integrated time) or "TimestampAuthority" (RFC 3161)
	URI  string
	Time time.Time
}

// Result is a verified signature.
type Result struct {
	Method Method
	// Identity: keyless, the certificate's SAN; certificate method, the
	// leaf's first SAN, else its subject DN; key method, "".
	Identity string
	// Issuer: keyless, the OIDC issuer; certificate method, the leaf's
	// issuer DN; key method, "".
	Issuer string
	// KeyFingerprint: "sha256:<hex>" of the signing key's DER SPKI.
	KeyFingerprint string
	Certificate    *x509.Certificate // the leaf (certificate and keyless methods)
	Timestamps     []Timestamp       // keyless: the verified timestamps

	SubjectName   string
	RootDigest    string // "sha256:<hex>"; "" for the v0.2 predicate
	PredicateType string
	Resources     []manifest.Resource // the signed resources, payload order
	Options       manifest.Options    // the signed serialization
	LegacyPAE     bool                // signed over model_signing v0.2's PAE
	// ArtifactChecked is false when Verify ran WithoutArtifactUnsafe.
	ArtifactChecked bool
}

// VerifyBundle parses bundle JSON and verifies it (ParseBundle + Verify).
func (v *Verifier) VerifyBundle(data []byte, artifact ArtifactPolicy) (*Result, error) {
	sig, err := ParseBundle(data)
	if err != nil {
		return nil, err
	}
	return v.Verify(sig, artifact)
}

// Verify checks a parsed signature with the verifier's trust policy and
// then the artifact policy. Every failure wraps ErrVerification and one
// cause (ErrWrongKey, ErrUntrustedChain, ErrWrongIdentity, …).
func (v *Verifier) Verify(sig *Signature, artifact ArtifactPolicy) (*Result, error) {
	if sig == nil {
		return nil, errors.New("verify: nil signature")
	}
	var a artifactConfig
	if artifact == nil {
		return nil, errors.New("verify: no artifact policy (WithResources or WithoutArtifactUnsafe)")
	}
	if err := artifact(&a); err != nil {
		return nil, err
	}
	if !a.set {
		return nil, errors.New("verify: no artifact policy (WithResources or WithoutArtifactUnsafe)")
	}

	// What is signed is sig.Payload: read the statement from it again
	// rather than trusting the exported fields.
	if sig.PayloadType != PayloadType {
		return nil, fail(ErrPayloadType, fmt.Sprintf("%q, want %q", truncate(sig.PayloadType, 100), PayloadType))
	}
	var st Signature
	if err := parseStatement(sig.Payload, &st); err != nil {
		return nil, err
	}
	checked := *sig
	checked.PredicateType, checked.SubjectName, checked.RootDigest = st.PredicateType, st.SubjectName, st.RootDigest
	checked.Resources, checked.Options = st.Resources, st.Options
	sig = &checked

	res := &Result{
		Method:        v.c.method,
		SubjectName:   sig.SubjectName,
		PredicateType: sig.PredicateType,
		Resources:     sig.Resources,
		Options:       sig.Options,
	}
	if sig.RootDigest != nil {
		res.RootDigest = fmt.Sprintf("sha256:%x", sig.RootDigest)
	}
	var err error
	switch v.c.method {
	case MethodKey:
		err = v.verifyKey(sig, res)
	case MethodCertificate:
		err = v.verifyCertificate(sig, res)
	case MethodKeyless:
		err = v.verifyKeyless(sig, res)
	default:
		err = errors.New("verify: verifier not built by NewVerifier")
	}
	if err != nil {
		return nil, err
	}
	if !a.unsafe {
		if d := compareResources(sig.Resources, a.local); !d.Empty() {
			return nil, &Error{Kind: ErrResourceMismatch, Detail: describeDiff(d), Diff: d}
		}
		res.ArtifactChecked = true
	}
	return res, nil
}
