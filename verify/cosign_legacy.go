package verify

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// LegacySignature is one layer of a cosign (v2) signature image, the
// sha256-<hex>.sig or .att tag: its payload and its annotations.
type LegacySignature struct {
	// Payload: the simple-signing JSON (.sig) or the DSSE envelope JSON (.att).
	Payload []byte
	// Signature: annotation dev.cosignproject.cosign/signature (base64);
	// empty for attestations.
	Signature string
	// Certificate and Chain: annotations dev.sigstore.cosign/certificate
	// and /chain (PEM).
	Certificate, Chain []byte
	// RekorBundle: annotation dev.sigstore.cosign/bundle (JSON with the
	// SignedEntryTimestamp and the entry).
	RekorBundle []byte
}

// simpleSigning is the payload cosign signs.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

// rekorBundle is cosign's dev.sigstore.cosign/bundle annotation.
type rekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

// VerifySimpleSigning verifies a legacy cosign signature (simple-signing
// payload and its detached signature) over the image: the payload's
// docker-manifest-digest must be the image digest. Key: the signature with
// the key (ECDSA, RSA, Ed25519; as cosign verify --key, the transparency
// log is not required); certificate chain: the certificate annotation
// chains to the anchors (intermediates from the chain annotation);
// keyless: the Fulcio certificate, the Rekor entry in the bundle
// annotation (hashedrekord with a signed entry timestamp) and the identity
// policy, through sigstore-go.
func (v *Verifier) VerifySimpleSigning(s LegacySignature, img Image) (*ImageResult, error) {
	d, err := img.digestBytes()
	if err != nil {
		return nil, err
	}
	var p simpleSigning
	if err := json.Unmarshal(s.Payload, &p); err != nil {
		return nil, failErr(ErrMalformedStatement, "the simple-signing payload is not JSON", err)
	}
	if p.Critical.Type != SimpleSigningType && p.Critical.Type != "atomic container signature" {
		return nil, fail(ErrStatementType, fmt.Sprintf("critical.type %q, want %q", truncate(p.Critical.Type, 100), SimpleSigningType))
	}
	if got := p.Critical.Image.DockerManifestDigest; got != "sha256:"+hex.EncodeToString(d) {
		return nil, fail(ErrDigestMismatch, fmt.Sprintf("the payload names %q, not %s", truncate(got, 80), img.Digest))
	}
	sig, err := decodeB64(strings.TrimSpace(s.Signature))
	if err != nil || len(sig) == 0 {
		return nil, fail(ErrMalformedBundle, "no base64 signature in dev.cosignproject.cosign/signature")
	}
	res := &ImageResult{Method: v.c.method, Kind: ImageSimpleSigning, DockerReference: p.Critical.Identity.DockerReference}
	content := &signedContent{kind: ImageSimpleSigning, message: s.Payload, sig: sig}
	switch v.c.method {
	case MethodKey:
		return res, v.imageKey(content, res)
	case MethodCertificate, MethodKeyless:
		if len(s.Certificate) == 0 {
			return nil, fail(ErrWrongMethod, "the signature has no certificate; verify it with --key")
		}
		certs, err := ParseCertificates(s.Certificate)
		if err != nil {
			return nil, failErr(ErrMalformedBundle, "dev.sigstore.cosign/certificate", err)
		}
		if len(s.Chain) > 0 {
			chain, err := ParseCertificates(s.Chain)
			if err != nil {
				return nil, failErr(ErrMalformedBundle, "dev.sigstore.cosign/chain", err)
			}
			certs = append(certs[:1], chain...)
		}
		if v.c.method == MethodCertificate {
			return res, v.imageChain(certs, content, res)
		}
		tle, err := legacyTlogEntry(s.RekorBundle)
		if err != nil {
			return nil, err
		}
		digest := sha256.Sum256(s.Payload)
		// The same evidence as a Sigstore bundle v0.1 (what sigstore-go's
		// docs do for cosign signatures): certificate, hashedrekord entry
		// with its SET, message signature over the payload.
		pb := &protobundle.Bundle{
			MediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
			VerificationMaterial: &protobundle.VerificationMaterial{
				Content: &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
					Certificates: []*protocommon.X509Certificate{{RawBytes: certs[0].Raw}},
				}},
				TlogEntries: []*protorekor.TransparencyLogEntry{tle},
			},
			Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
				MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest[:]},
				Signature:     sig,
			}},
		}
		b, err := bundle.NewBundle(pb)
		if err != nil {
			return nil, failErr(ErrMalformedBundle, "the legacy signature as a Sigstore bundle", err)
		}
		return res, v.imageKeylessLegacy(b, bytes.NewReader(s.Payload), certs[0], res)
	}
	return nil, fmt.Errorf("verify: verifier not built by NewVerifier")
}

// VerifyAttestation verifies a legacy cosign attestation (a layer of the
// sha256-<hex>.att image: a DSSE envelope over an in-toto statement whose
// subject must be the image digest). Key and certificate chain as for
// .sig; keyless: the Fulcio certificate and the Rekor entry of the
// annotations (a dsse or intoto entry with its signed entry timestamp)
// rebuilt as a v0.1 bundle that sigstore-go checks with the identity
// policy, as for .sig.
func (v *Verifier) VerifyAttestation(s LegacySignature, img Image) (*ImageResult, error) {
	d, err := img.digestBytes()
	if err != nil {
		return nil, err
	}
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			Sig string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(s.Payload, &env); err != nil {
		return nil, failErr(ErrMalformedBundle, "the attestation is not a DSSE envelope", err)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, failErr(ErrMalformedBundle, "envelope payload", err)
	}
	var sigs [][]byte
	for _, sg := range env.Signatures {
		b, err := decodeB64(sg.Sig)
		if err != nil {
			return nil, failErr(ErrMalformedBundle, "envelope signature", err)
		}
		sigs = append(sigs, b)
	}
	content, err := envelopeContent(env.PayloadType, payload, sigs, d, ImageAttestation)
	if err != nil {
		return nil, err
	}
	res := &ImageResult{Method: v.c.method, Kind: ImageAttestation, PredicateType: content.predicateType}
	switch v.c.method {
	case MethodKey:
		return res, v.imageKey(content, res)
	case MethodCertificate:
		certs, err := ParseCertificates(append(append([]byte{}, s.Certificate...), s.Chain...))
		if err != nil {
			return nil, fail(ErrWrongMethod, "the attestation has no certificate; verify it with --key")
		}
		return res, v.imageChain(certs, content, res)
	case MethodKeyless:
		if len(s.Certificate) == 0 {
			return nil, fail(ErrWrongMethod, "the attestation has no certificate (dev.sigstore.cosign/certificate); verify it with --key")
		}
		certs, err := ParseCertificates(s.Certificate)
		if err != nil {
			return nil, failErr(ErrMalformedBundle, "dev.sigstore.cosign/certificate", err)
		}
		tle, err := legacyTlogEntry(s.RekorBundle)
		if err != nil {
			return nil, err
		}
		// The same evidence as a Sigstore bundle v0.1: the Fulcio
		// certificate, the Rekor entry (dsse or intoto) with its SET, and
		// the envelope; sigstore-go checks the entry against the envelope
		// and the statement's subject against the manifest digest.
		pb := &protobundle.Bundle{
			MediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
			VerificationMaterial: &protobundle.VerificationMaterial{
				Content: &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
					Certificates: []*protocommon.X509Certificate{{RawBytes: certs[0].Raw}},
				}},
				TlogEntries: []*protorekor.TransparencyLogEntry{tle},
			},
			Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
				Payload: payload, PayloadType: env.PayloadType, Signatures: []*protodsse.Signature{{Sig: sigs[0]}},
			}},
		}
		b, err := bundle.NewBundle(pb)
		if err != nil {
			return nil, failErr(ErrMalformedBundle, "the legacy attestation as a Sigstore bundle", err)
		}
		return res, v.imageKeyless(b, sgverify.WithArtifactDigest("sha256", d), certs[0], res)
	}
	return nil, errors.New("verify: verifier not built by NewVerifier")
}

// legacyTlogEntry turns cosign's dev.sigstore.cosign/bundle annotation
// (the Rekor entry body, its coordinates and its signed entry timestamp)
// into a bundle tlog entry; the kind and version are the body's own.
func legacyTlogEntry(annotation []byte) (*protorekor.TransparencyLogEntry, error) {
	if len(annotation) == 0 {
		return nil, fail(ErrNoTlogEntry, "the signature has no Rekor bundle (dev.sigstore.cosign/bundle)")
	}
	var rb rekorBundle
	if err := json.Unmarshal(annotation, &rb); err != nil {
		return nil, failErr(ErrMalformedBundle, "dev.sigstore.cosign/bundle", err)
	}
	body, err := decodeB64(rb.Payload.Body)
	if err != nil {
		return nil, failErr(ErrMalformedBundle, "dev.sigstore.cosign/bundle body", err)
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil {
		return nil, failErr(ErrMalformedBundle, "dev.sigstore.cosign/bundle logID", err)
	}
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kv); err != nil || kv.Kind == "" || kv.APIVersion == "" {
		return nil, fail(ErrMalformedBundle, "dev.sigstore.cosign/bundle: the entry body names no kind and apiVersion")
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: body,
	}, nil
}

// imageKeylessLegacy is imageKeyless for a bundle made from legacy
// annotations: the message signature is over the payload bytes.
func (v *Verifier) imageKeylessLegacy(b *bundle.Bundle, payload *bytes.Reader, leaf *x509.Certificate, res *ImageResult) error {
	return v.imageKeyless(b, sgverify.WithArtifact(payload), leaf, res)
}
