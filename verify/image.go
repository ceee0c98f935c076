package verify

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"
)

// Signatures over OCI manifests (cosign): Sigstore bundles attached as
// referrers (cosign v3), legacy simple-signing signatures under the
// sha256-<hex>.sig tag, and in-toto attestations under sha256-<hex>.att.
// What they sign is the manifest digest, not the model files.

// Kinds of image signature, as ImageResult.Kind names them.
const (
	ImageBundleMessage = "sigstore-bundle (message signature)"
	ImageBundleDSSE    = "sigstore-bundle (DSSE)"
	ImageSimpleSigning = "cosign simple-signing"
	ImageAttestation   = "cosign attestation (DSSE)"
)

// SimpleSigningType is critical.type of a cosign simple-signing payload.
const SimpleSigningType = "cosign container image signature"

// Causes specific to image signatures (they wrap ErrVerification like the
// others).
var (
	// ErrDigestMismatch: the signature is valid for another manifest.
	ErrDigestMismatch = errors.New("signature is over another manifest digest")
	// ErrUnsupported: hallmark cannot check this kind of signature with
	// this method; it is never reported as verified.
	ErrUnsupported = errors.New("unsupported signature")
)

// Image is the manifest a signature must cover.
type Image struct {
	Digest   string // "sha256:<hex>"
	Manifest []byte // the manifest bytes (checked against Digest by the caller)
}

func (img Image) digestBytes() ([]byte, error) {
	h, ok := strings.CutPrefix(img.Digest, "sha256:")
	if !ok {
		return nil, fmt.Errorf("verify: manifest digest %q is not sha256", img.Digest)
	}
	d, err := hex.DecodeString(h)
	if err != nil || len(d) != sha256.Size {
		return nil, fmt.Errorf("verify: manifest digest %q is not sha256", img.Digest)
	}
	if img.Manifest != nil {
		if sum := sha256.Sum256(img.Manifest); !bytes.Equal(sum[:], d) {
			return nil, fmt.Errorf("verify: the manifest bytes do not hash to %s", img.Digest)
		}
	}
	return d, nil
}

// ImageResult is a verified image signature.
type ImageResult struct {
	Method         Method
	Kind           string // ImageBundleMessage, ImageBundleDSSE, ImageSimpleSigning, ImageAttestation
	Identity       string // keyless: SAN; certificate method: the leaf's first SAN or subject
	Issuer         string // keyless: OIDC issuer; certificate method: the leaf's issuer DN
	KeyFingerprint string // "sha256:<hex>" of the signing key's DER SPKI
	Certificate    *x509.Certificate
	Timestamps     []Timestamp
	PredicateType  string // DSSE: the statement's predicate type
	// DockerReference is critical.identity.docker-reference of a
	// simple-signing payload (informational: cosign does not check it).
	DockerReference string
}

// WithCosignKey trusts one public key for cosign signatures (PEM or DER):
// ECDSA, Ed25519 or RSA (2048 bits or more). OMS signatures are
// verified as with WithPublicKey, and never with an RSA key.
func WithCosignKey(data []byte) TrustPolicy {
	return func(c *config) error {
		pub, err := ParsePublicKey(data)
		if err != nil {
			var rerr error
			if pub, rerr = parseRSAPublicKey(data); rerr != nil {
				return err
			}
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

func parseRSAPublicKey(data []byte) (crypto.PublicKey, error) {
	der := data
	if blk, _ := pem.Decode(data); blk != nil {
		der = blk.Bytes
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("not an RSA key")
	}
	if rk.N.BitLen() < 2048 {
		return nil, fmt.Errorf("RSA key of %d bits: want 2048 or more", rk.N.BitLen())
	}
	return rk, nil
}

// verifyAnyHash checks sig over msg the ways cosign signs: ECDSA (ASN.1)
// with SHA-256 or the curve's hash, RSA PKCS #1 v1.5 or PSS with SHA-256,
// Ed25519 over the bytes.
func verifyAnyHash(pub crypto.PublicKey, msg, sig []byte) bool {
	sum := sha256.Sum256(msg)
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if ecdsa.VerifyASN1(k, sum[:], sig) {
			return true
		}
		if h, err := curveHash(k.Curve); err == nil && h != crypto.SHA256 {
			return verifyRaw(k, h, msg, sig)
		}
	case ed25519.PublicKey:
		return verifyRaw(k, 0, msg, sig)
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) == nil ||
			rsa.VerifyPSS(k, crypto.SHA256, sum[:], sig, nil) == nil
	}
	return false
}

// signedContent is what an image signature signs, read (not yet trusted)
// from a bundle or an envelope.
type signedContent struct {
	kind          string
	message       []byte // the bytes the signature is over
	sig           []byte
	predicateType string
}

// statementSubjects checks that an in-toto statement names the digest.
func statementSubjects(payload []byte, d []byte) (string, error) {
	var st struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return "", failErr(ErrMalformedStatement, "the DSSE payload is not an in-toto statement", err)
	}
	if !strings.HasPrefix(st.Type, "https://in-toto.io/Statement/") {
		return "", fail(ErrStatementType, fmt.Sprintf("%q, want an in-toto statement", truncate(st.Type, 100)))
	}
	want := hex.EncodeToString(d)
	var got []string
	for _, s := range st.Subject {
		if strings.EqualFold(s.Digest["sha256"], want) {
			return st.PredicateType, nil
		}
		if g := s.Digest["sha256"]; g != "" && len(got) < 3 {
			got = append(got, "sha256:"+truncate(g, 64))
		}
	}
	return "", fail(ErrDigestMismatch, fmt.Sprintf("the statement's subjects are %v, not sha256:%s", got, want))
}

func envelopeContent(payloadType string, payload []byte, sigs [][]byte, d []byte, kind string) (*signedContent, error) {
	if payloadType != PayloadType {
		return nil, fail(ErrPayloadType, fmt.Sprintf("%q, want %q", truncate(payloadType, 100), PayloadType))
	}
	if len(sigs) != 1 {
		return nil, fail(ErrMalformedBundle, fmt.Sprintf("the envelope has %d signatures, want exactly 1", len(sigs)))
	}
	pt, err := statementSubjects(payload, d)
	if err != nil {
		return nil, err
	}
	return &signedContent{kind: kind, message: pae(payloadType, payload), sig: sigs[0], predicateType: pt}, nil
}

// bundleContent reads what a cosign bundle signs and checks that it names
// the image digest.
func bundleContent(pb *protobundle.Bundle, img Image, d []byte) (*signedContent, error) {
	if ms := pb.GetMessageSignature(); ms != nil {
		if md := ms.GetMessageDigest(); md != nil {
			if md.GetAlgorithm() != protocommon.HashAlgorithm_SHA2_256 {
				return nil, fail(ErrUnsupported, fmt.Sprintf("message digest algorithm %s", md.GetAlgorithm()))
			}
			if !bytes.Equal(md.GetDigest(), d) {
				return nil, fail(ErrDigestMismatch, fmt.Sprintf("the bundle signs sha256:%x, not %s", md.GetDigest(), img.Digest))
			}
		}
		if img.Manifest == nil {
			return nil, fail(ErrUnsupported, "a message signature needs the manifest bytes")
		}
		return &signedContent{kind: ImageBundleMessage, message: img.Manifest, sig: ms.GetSignature()}, nil
	}
	env := pb.GetDsseEnvelope()
	if env == nil {
		return nil, fail(ErrMalformedBundle, "the bundle has neither a message signature nor a DSSE envelope")
	}
	var sigs [][]byte
	for _, s := range env.GetSignatures() {
		sigs = append(sigs, s.GetSig())
	}
	return envelopeContent(env.GetPayloadType(), env.GetPayload(), sigs, d, ImageBundleDSSE)
}

// VerifyImageBundle verifies a Sigstore bundle (cosign v3, attached as an
// OCI referrer) over the image: a message signature over the manifest
// bytes, or a DSSE envelope whose in-toto statement names the manifest
// digest as a subject. Key: the signature with the key (the
// transparency log is not consulted, as for OMS key signatures);
// certificate chain: the leaf chains to the anchors; keyless: sigstore-go
// with a transparency-log entry, an observer timestamp and the identity
// policy, against the trusted root.
func (v *Verifier) VerifyImageBundle(data []byte, img Image) (*ImageResult, error) {
	d, err := img.digestBytes()
	if err != nil {
		return nil, err
	}
	if len(data) > MaxBundleSize {
		return nil, fail(ErrMalformedBundle, fmt.Sprintf("bundle is %d bytes, more than the %d allowed", len(data), MaxBundleSize))
	}
	pb := new(protobundle.Bundle)
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, pb); err != nil {
		return nil, failErr(ErrMalformedBundle, "Sigstore bundle", err)
	}
	content, err := bundleContent(pb, img, d)
	if err != nil {
		return nil, err
	}
	res := &ImageResult{Method: v.c.method, Kind: content.kind, PredicateType: content.predicateType}
	vm := pb.GetVerificationMaterial()
	var certs []*x509.Certificate
	if c := vm.GetCertificate(); c != nil {
		cert, err := x509.ParseCertificate(c.GetRawBytes())
		if err != nil {
			return nil, failErr(ErrMalformedBundle, "certificate", err)
		}
		certs = []*x509.Certificate{cert}
	}
	for i, c := range vm.GetX509CertificateChain().GetCertificates() {
		cert, err := x509.ParseCertificate(c.GetRawBytes())
		if err != nil {
			return nil, failErr(ErrMalformedBundle, fmt.Sprintf("x509CertificateChain.certificates[%d]", i), err)
		}
		certs = append(certs, cert)
	}

	switch v.c.method {
	case MethodKey:
		if vm.GetPublicKey() == nil {
			return nil, fail(ErrWrongMethod, "the bundle carries a certificate, not a public key; verify it with --identity and --issuer (keyless) or --certificate-chain")
		}
		return res, v.imageKey(content, res)
	case MethodCertificate:
		if len(certs) == 0 {
			return nil, fail(ErrWrongMethod, "the bundle carries a public key, not a certificate; verify it with --key")
		}
		return res, v.imageChain(certs, content, res)
	case MethodKeyless:
		if len(certs) == 0 {
			return nil, fail(ErrWrongMethod, "the bundle carries a public key, not a certificate; verify it with --key")
		}
		if len(vm.GetTlogEntries()) == 0 {
			return nil, fail(ErrNoTlogEntry, "the bundle has no transparency-log entry")
		}
		b, err := bundle.NewBundle(pb)
		if err != nil {
			return nil, failErr(ErrMalformedBundle, "Sigstore bundle", err)
		}
		var art sgverify.ArtifactPolicyOption
		if content.kind == ImageBundleMessage {
			art = sgverify.WithArtifact(bytes.NewReader(img.Manifest))
		} else {
			art = sgverify.WithArtifactDigest("sha256", d)
		}
		return res, v.imageKeyless(b, art, certs[0], res)
	}
	return nil, errors.New("verify: verifier not built by NewVerifier")
}

func (v *Verifier) imageKey(content *signedContent, res *ImageResult) error {
	if !verifyAnyHash(v.c.key, content.message, content.sig) {
		return fail(ErrBadSignature, fmt.Sprintf("the signature does not verify with the key %s (wrong key, or the signed content was changed)", KeyFingerprint(v.c.key)))
	}
	res.KeyFingerprint = KeyFingerprint(v.c.key)
	return nil
}

// imageChain is the certificate method for image signatures: the leaf
// chains to the anchors through the other certificates at its notBefore.
func (v *Verifier) imageChain(certs []*x509.Certificate, content *signedContent, res *ImageResult) error {
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: v.c.roots, Intermediates: inter, CurrentTime: leaf.NotBefore, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return failErr(ErrUntrustedChain, fmt.Sprintf("leaf %q issued by %q does not chain to the given anchors", truncate(leaf.Subject.String(), 200), truncate(leaf.Issuer.String(), 200)), err)
	}
	if !canSign(leaf) {
		return fail(ErrKeyUsage, fmt.Sprintf("leaf %q has neither KeyUsage digitalSignature nor ExtKeyUsage codeSigning", truncate(leaf.Subject.String(), 200)))
	}
	if !verifyAnyHash(leaf.PublicKey, content.message, content.sig) {
		return fail(ErrBadSignature, fmt.Sprintf("the signature does not verify with the leaf's key %s", KeyFingerprint(leaf.PublicKey)))
	}
	res.Certificate, res.Identity, res.Issuer = leaf, certIdentity(leaf), leaf.Issuer.String()
	res.KeyFingerprint = KeyFingerprint(leaf.PublicKey)
	return nil
}

// imageKeyless runs sigstore-go as verifyKeyless does for OMS bundles.
func (v *Verifier) imageKeyless(b *bundle.Bundle, art sgverify.ArtifactPolicyOption, leaf *x509.Certificate, res *ImageResult) error {
	vopts := []sgverify.VerifierOption{
		sgverify.WithTransparencyLog(1),
		sgverify.WithObserverTimestamps(1),
		sgverify.WithoutStatementPredicate(),
	}
	if len(v.c.trusted.CTLogs()) > 0 {
		vopts = append(vopts, sgverify.WithSignedCertificateTimestamps(1))
	}
	sv, err := sgverify.NewVerifier(v.c.trusted, vopts...)
	if err != nil {
		return fmt.Errorf("verify: keyless verifier: %w", err)
	}
	id, err := sgverify.NewShortCertificateIdentity(v.c.identity.Issuer, reString(v.c.issuerRE), v.c.identity.Subject, reString(v.c.subjectRE))
	if err != nil {
		return fmt.Errorf("verify: identity policy: %w", err)
	}
	vr, err := sv.Verify(b, sgverify.NewPolicy(art, sgverify.WithCertificateIdentity(id)))
	if err != nil {
		e := v.keylessError(err, Material{Kind: MaterialCertificate, Certificates: []*x509.Certificate{leaf}})
		var ve *Error
		if errors.As(e, &ve) && ve.Kind == ErrRootDigest {
			ve.Kind, ve.Detail = ErrDigestMismatch, "the signature does not cover this manifest"
		}
		return e
	}
	res.Certificate = leaf
	res.KeyFingerprint = KeyFingerprint(leaf.PublicKey)
	if vr.Signature != nil && vr.Signature.Certificate != nil {
		res.Identity = vr.Signature.Certificate.SubjectAlternativeName
		res.Issuer = vr.Signature.Certificate.Issuer
	}
	for _, ts := range vr.VerifiedTimestamps {
		res.Timestamps = append(res.Timestamps, Timestamp{Kind: ts.Type, URI: ts.URI, Time: ts.Timestamp})
	}
	return nil
}
