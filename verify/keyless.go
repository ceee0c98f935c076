package verify

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"
)

// verifyKeyless runs sigstore-go over the bundle: Fulcio chain, a verified
// Rekor entry (required), an observer timestamp (integrated time with a
// SET, or RFC 3161; required), SCTs when the trusted root lists CT logs,
// the identity policy, and the artifact digest bound to the statement
// subject (the root digest).
func (v *Verifier) verifyKeyless(sig *Signature, res *Result) error {
	m := sig.Material
	if m.Kind != MaterialCertificate {
		return fail(ErrWrongMethod, fmt.Sprintf("the bundle carries %s, not a Sigstore certificate; verify it with %s", m.Kind, methodFor(m.Kind)))
	}
	if sig.raw == nil || len(m.Certificates) == 0 {
		return errNotFromParse
	}
	if m.TlogEntries == 0 {
		return fail(ErrNoTlogEntry, "the bundle has no transparency-log entry")
	}

	// sigstore-go reads the same bytes with its own (strict protojson)
	// parser; both readings must agree on what is verified.
	pb := new(protobundle.Bundle)
	if err := protojson.Unmarshal(sig.raw, pb); err != nil {
		return failErr(ErrMalformedBundle, "Sigstore bundle", err)
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return failErr(ErrMalformedBundle, "Sigstore bundle", err)
	}
	env := pb.GetDsseEnvelope()
	cert := pb.GetVerificationMaterial().GetCertificate()
	if env == nil || cert == nil || len(env.GetSignatures()) != 1 ||
		env.GetPayloadType() != sig.PayloadType || !bytes.Equal(env.GetPayload(), sig.Payload) ||
		!bytes.Equal(env.GetSignatures()[0].GetSig(), sig.Sig) || !bytes.Equal(cert.GetRawBytes(), m.Certificates[0].Raw) {
		return fail(ErrMalformedBundle, "the bundle reads differently to the Sigstore parser")
	}

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
	var art sgverify.ArtifactPolicyOption
	if sig.RootDigest != nil {
		art = sgverify.WithArtifactDigest("sha256", sig.RootDigest)
	} else {
		// v0.2 predicate: every subject is a file.
		ds := make([]sgverify.ArtifactDigest, 0, len(sig.Resources))
		for _, r := range sig.Resources {
			d, _ := hex.DecodeString(r.Digest)
			ds = append(ds, sgverify.ArtifactDigest{Algorithm: "sha256", Digest: d})
		}
		art = sgverify.WithArtifactDigests(ds)
	}

	vr, err := sv.Verify(b, sgverify.NewPolicy(art, sgverify.WithCertificateIdentity(id)))
	if err != nil {
		return v.keylessError(err, m)
	}
	leaf := m.Certificates[0]
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

func reString(re *regexp.Regexp) string {
	if re == nil {
		return ""
	}
	return re.String()
}

// keylessError names the cause of a sigstore-go failure. sigstore-go
// v1.3.0 reports each stage with a fixed prefix; the tests pin them.
func (v *Verifier) keylessError(err error, m Material) error {
	err = tidy(err)
	msg := err.Error()
	stage := func(prefix string) bool { return strings.HasPrefix(msg, prefix) }
	var noID *sgverify.ErrNoMatchingCertificateIdentity
	switch {
	case errors.As(err, &noID) || stage("failed to verify certificate identity"):
		return v.identityError(m)
	case stage("failed to verify log inclusion"):
		switch {
		case strings.Contains(msg, "integrated time outside certificate validity"):
			return failErr(ErrCertificateValidity, "the certificate was not valid at the log's integrated time", err)
		case strings.Contains(msg, "does not match"):
			return failErr(ErrTlogMismatch, "the logged entry is not this signature", err)
		case strings.Contains(msg, "not enough verified log entries"):
			return failErr(ErrNoTlogEntry, "no entry from a transparency log in the trusted root verifies", err)
		}
		return failErr(ErrNoTlogEntry, "the transparency-log entry does not verify", err)
	case stage("failed to verify timestamps"):
		return failErr(ErrNoTimestamp, "neither a signed entry timestamp nor an RFC 3161 timestamp verifies", err)
	case stage("failed to verify leaf certificate"):
		return failErr(ErrUntrustedChain, "the certificate does not chain to a Fulcio CA of the trusted root at the verified signing time", err)
	case stage("failed to verify signed certificate timestamp"):
		return failErr(ErrUntrustedChain, "the certificate has no valid SCT from a CT log of the trusted root", err)
	case stage("failed to summarize certificate"):
		return failErr(ErrMalformedBundle, "the certificate is not a Fulcio certificate", err)
	case stage("failed to verify signature"):
		if strings.Contains(msg, "artifact digest") {
			return failErr(ErrRootDigest, "the statement subject is not the model's root digest", err)
		}
		return failErr(ErrBadSignature, "the DSSE signature does not verify with the certificate's key", err)
	}
	return failErr(ErrBadSignature, "Sigstore verification", err)
}

// identityError says whether the SAN, the issuer or both differ from the
// policy.
func (v *Verifier) identityError(m Material) error {
	sum, err := certificate.SummarizeCertificate(m.Certificates[0])
	if err != nil {
		return failErr(ErrMalformedBundle, "the certificate is not a Fulcio certificate", err)
	}
	id := v.c.identity
	sanOK := (id.Subject == "" || id.Subject == sum.SubjectAlternativeName) &&
		(v.c.subjectRE == nil || v.c.subjectRE.MatchString(sum.SubjectAlternativeName))
	issOK := (id.Issuer == "" || id.Issuer == sum.Issuer) &&
		(v.c.issuerRE == nil || v.c.issuerRE.MatchString(sum.Issuer))
	want := func(exact string, re *regexp.Regexp) string {
		var w []string
		if exact != "" {
			w = append(w, fmt.Sprintf("%q", exact))
		}
		if s := reString(re); s != "" {
			w = append(w, "/"+s+"/")
		}
		return strings.Join(w, " and ")
	}
	switch {
	case !sanOK && !issOK:
		return fail(ErrWrongIdentity, fmt.Sprintf("signed by %q (issuer %q), want %s (issuer %s)",
			truncate(sum.SubjectAlternativeName, 200), truncate(sum.Issuer, 200), want(id.Subject, v.c.subjectRE), want(id.Issuer, v.c.issuerRE)))
	case !sanOK:
		return fail(ErrWrongIdentity, fmt.Sprintf("signed by %q, want %s", truncate(sum.SubjectAlternativeName, 200), want(id.Subject, v.c.subjectRE)))
	case !issOK:
		return fail(ErrWrongIssuer, fmt.Sprintf("identity issued by %q, want %s", truncate(sum.Issuer, 200), want(id.Issuer, v.c.issuerRE)))
	}
	return fail(ErrWrongIdentity, fmt.Sprintf("certificate %q (issuer %q) does not match the policy", truncate(sum.SubjectAlternativeName, 200), truncate(sum.Issuer, 200)))
}

// tidied is a sigstore-go error with its message cleaned of a formatting
// artefact (errors.Join of nothing printed through %w).
type tidied struct {
	msg string
	err error
}

func (e *tidied) Error() string { return e.msg }
func (e *tidied) Unwrap() error { return e.err }

func tidy(err error) error {
	msg := strings.ReplaceAll(err.Error(), "; error: %!w(<nil>)", "")
	if msg == err.Error() {
		return err
	}
	return &tidied{msg: msg, err: err}
}
