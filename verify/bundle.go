package verify

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/hallmarkdev/hallmark/verify/manifest"
)

// Media and payload types an OMS signature uses.
const (
	// BundleMediaType is the only bundle version OMS writes (every
	// model_signing release, the Go ports, hallmark).
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// bundleMediaTypeAlias is the older spelling of the same version,
	// which sigstore-go also accepts.
	bundleMediaTypeAlias = "application/vnd.dev.sigstore.bundle+json;version=0.3"

	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = manifest.PayloadType // application/vnd.in-toto+json
)

// MaxBundleSize caps the bundle JSON ParseBundle accepts (64 MiB: a shard
// manifest of a multi-terabyte model is a few MiB).
const MaxBundleSize = 64 << 20

// MaterialKind says which verification material a bundle carries; it
// decides which methods can verify it.
type MaterialKind string

const (
	MaterialPublicKey        MaterialKind = "publicKey"            // key method
	MaterialCertificate      MaterialKind = "certificate"          // keyless (Fulcio leaf)
	MaterialCertificateChain MaterialKind = "x509CertificateChain" // certificate method
)

// Material is the bundle's verificationMaterial.
type Material struct {
	Kind MaterialKind

	// publicKey: hint (model_signing ≥ v1.1: hex SHA-256 of the PEM SPKI)
	// and, in older bundles, rawBytes (the PEM text) and keyDetails.
	KeyHint     string
	KeyRawBytes []byte
	KeyDetails  string

	// certificate / x509CertificateChain: leaf first.
	Certificates []*x509.Certificate

	// Counts of what a keyless verification will check.
	TlogEntries       int
	RFC3161Timestamps int
}

// Signature is a parsed OMS signature (model.sig): the bundle's material,
// the DSSE envelope, and the statement it signs. ParseBundle has checked
// its structure and the statement (types, one subject, root digest); none
// of the cryptography has been checked yet. The statement fields are for
// reading (the caller hashes the model with Options); Verify reads the
// statement from Payload again and trusts only that.
type Signature struct {
	MediaType string
	Material  Material

	// The DSSE envelope.
	PayloadType string
	Payload     []byte // the statement JSON, exactly the signed bytes
	Sig         []byte // the DSSE signature
	KeyID       string // unauthenticated hint; "" when null or absent

	// The statement.
	PredicateType string
	SubjectName   string              // informational only; "" for the v0.2 predicate
	RootDigest    []byte              // subject sha256 (checked against Resources); nil for the v0.2 predicate
	Resources     []manifest.Resource // in payload order
	Options       manifest.Options    // predicate.serialization (Method, Hash, ShardSize, AllowSymlinks, IgnorePaths)

	raw []byte // the bundle JSON, re-read by sigstore-go for keyless verification
}

// bundleJSON is the subset of the Sigstore bundle an OMS signature uses.
// encoding/json ignores unknown fields, so the pre-v1.1 publicKey.rawBytes
// and keyDetails, and future additions, do not break parsing.
type bundleJSON struct {
	MediaType            *string         `json:"mediaType"`
	VerificationMaterial *materialJSON   `json:"verificationMaterial"`
	DSSEEnvelope         *envelopeJSON   `json:"dsseEnvelope"`
	MessageSignature     json.RawMessage `json:"messageSignature"`
}

type materialJSON struct {
	PublicKey *struct {
		Hint       string `json:"hint"`
		RawBytes   string `json:"rawBytes"`
		KeyDetails string `json:"keyDetails"`
	} `json:"publicKey"`
	Certificate *struct {
		RawBytes string `json:"rawBytes"`
	} `json:"certificate"`
	X509CertificateChain *struct {
		Certificates []struct {
			RawBytes string `json:"rawBytes"`
		} `json:"certificates"`
	} `json:"x509CertificateChain"`
	TlogEntries               []json.RawMessage `json:"tlogEntries"`
	TimestampVerificationData *struct {
		RFC3161Timestamps []json.RawMessage `json:"rfc3161Timestamps"`
	} `json:"timestampVerificationData"`
}

type envelopeJSON struct {
	Payload     *string `json:"payload"`
	PayloadType *string `json:"payloadType"`
	Signatures  []struct {
		Sig   *string `json:"sig"`
		KeyID *string `json:"keyid"`
	} `json:"signatures"`
}

// ParseBundle parses an OMS signature: a Sigstore bundle v0.3 JSON whose
// content is a DSSE envelope over an in-toto statement with the OMS
// predicate (https://model_signing/signature/v1.0, or the v0.2
// https://model_signing/Digests/v0.1).
//
// It accepts every variant model_signing and the Go ports write: keyid
// null, "" or absent; publicKey.hint or publicKey.rawBytes+keyDetails;
// tlogEntries empty or absent; shard_size as a JSON float. It is strict
// about the media type, the payload type, the statement type, the predicate
// type, the subject (exactly one, for v1.0) and the root digest (SHA-256
// over the raw resource digests in payload order). Errors wrap
// ErrVerification.
func ParseBundle(data []byte) (*Signature, error) {
	if len(data) > MaxBundleSize {
		return nil, fail(ErrMalformedBundle, fmt.Sprintf("bundle is %d bytes, more than the %d allowed", len(data), MaxBundleSize))
	}
	var b bundleJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&b); err != nil {
		return nil, failErr(ErrMalformedBundle, "not a JSON bundle", err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, fail(ErrMalformedBundle, "trailing data after the bundle JSON")
	}

	if b.MediaType == nil {
		return nil, fail(ErrMediaType, "bundle has no mediaType")
	}
	if *b.MediaType != BundleMediaType && *b.MediaType != bundleMediaTypeAlias {
		return nil, fail(ErrMediaType, fmt.Sprintf("%q, want %q", truncate(*b.MediaType, 100), BundleMediaType))
	}
	s := &Signature{MediaType: *b.MediaType, raw: data}

	if b.MessageSignature != nil && string(b.MessageSignature) != "null" {
		return nil, fail(ErrMalformedBundle, "bundle carries a messageSignature; an OMS signature is a DSSE envelope")
	}
	if b.VerificationMaterial == nil {
		return nil, fail(ErrMalformedBundle, "bundle has no verificationMaterial")
	}
	m, err := parseMaterial(b.VerificationMaterial)
	if err != nil {
		return nil, err
	}
	s.Material = m

	if err := parseEnvelope(b.DSSEEnvelope, s); err != nil {
		return nil, err
	}
	if err := parseStatement(s.Payload, s); err != nil {
		return nil, err
	}
	return s, nil
}

func parseMaterial(vm *materialJSON) (Material, error) {
	var m Material
	n := 0
	if vm.PublicKey != nil {
		n++
		m.Kind = MaterialPublicKey
		m.KeyHint = vm.PublicKey.Hint
		m.KeyDetails = vm.PublicKey.KeyDetails
		if vm.PublicKey.RawBytes != "" {
			raw, err := decodeB64(vm.PublicKey.RawBytes)
			if err != nil {
				return m, failErr(ErrMalformedBundle, "publicKey.rawBytes", err)
			}
			m.KeyRawBytes = raw
		}
	}
	if vm.Certificate != nil {
		n++
		m.Kind = MaterialCertificate
		c, err := parseCertB64(vm.Certificate.RawBytes)
		if err != nil {
			return m, failErr(ErrMalformedBundle, "certificate.rawBytes", err)
		}
		m.Certificates = []*x509.Certificate{c}
	}
	if vm.X509CertificateChain != nil {
		n++
		m.Kind = MaterialCertificateChain
		if len(vm.X509CertificateChain.Certificates) == 0 {
			return m, fail(ErrMalformedBundle, "x509CertificateChain has no certificates")
		}
		for i, raw := range vm.X509CertificateChain.Certificates {
			c, err := parseCertB64(raw.RawBytes)
			if err != nil {
				return m, failErr(ErrMalformedBundle, fmt.Sprintf("x509CertificateChain.certificates[%d]", i), err)
			}
			m.Certificates = append(m.Certificates, c)
		}
	}
	switch n {
	case 0:
		return m, fail(ErrMalformedBundle, "verificationMaterial has no publicKey, certificate or x509CertificateChain")
	case 1:
	default:
		return m, fail(ErrMalformedBundle, "verificationMaterial has more than one of publicKey, certificate, x509CertificateChain")
	}
	m.TlogEntries = len(vm.TlogEntries)
	if vm.TimestampVerificationData != nil {
		m.RFC3161Timestamps = len(vm.TimestampVerificationData.RFC3161Timestamps)
	}
	return m, nil
}

func parseCertB64(s string) (*x509.Certificate, error) {
	if s == "" {
		return nil, fmt.Errorf("empty")
	}
	der, err := decodeB64(s)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func parseEnvelope(env *envelopeJSON, s *Signature) error {
	if env == nil {
		return fail(ErrMalformedBundle, "bundle has no dsseEnvelope")
	}
	if env.PayloadType == nil {
		return fail(ErrPayloadType, "envelope has no payloadType")
	}
	s.PayloadType = *env.PayloadType
	if s.PayloadType != PayloadType {
		return fail(ErrPayloadType, fmt.Sprintf("%q, want %q", truncate(s.PayloadType, 100), PayloadType))
	}
	if env.Payload == nil || *env.Payload == "" {
		return fail(ErrMalformedBundle, "envelope has no payload")
	}
	p, err := decodeB64(*env.Payload)
	if err != nil {
		return failErr(ErrMalformedBundle, "envelope payload", err)
	}
	s.Payload = p
	if len(env.Signatures) != 1 {
		return fail(ErrMalformedBundle, fmt.Sprintf("envelope has %d signatures, want exactly 1", len(env.Signatures)))
	}
	sig := env.Signatures[0]
	if sig.Sig == nil || *sig.Sig == "" {
		return fail(ErrMalformedBundle, "envelope signature is empty")
	}
	if s.Sig, err = decodeB64(*sig.Sig); err != nil {
		return failErr(ErrMalformedBundle, "envelope signature", err)
	}
	if sig.KeyID != nil {
		s.KeyID = *sig.KeyID
	}
	return nil
}

// decodeB64 accepts what protojson accepts for bytes fields: standard or
// URL-safe alphabet, padded or not.
func decodeB64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("invalid base64")
}
