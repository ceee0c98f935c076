// Package verifytest makes signatures at test time: cosign-style Sigstore
// bundles and legacy simple-signing signatures with a test key, and
// keyless ones from a fake Sigstore (sigstore-go's VirtualSigstore) with
// its trusted_root.json. For tests only; nothing here leaves the machine.
package verifytest

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// BundleMediaType is the Sigstore bundle v0.3 media type.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// CosignSignPredicate is the predicate type of cosign v3 image signatures.
const CosignSignPredicate = "https://sigstore.dev/cosign/sign/v1"

// PublicKeyPEM is the PEM SubjectPublicKeyInfo of k.
func PublicKeyPEM(k *ecdsa.PrivateKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(k.Public())
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Statement is an in-toto statement whose one subject is the digest.
func Statement(subjectName, digest, predicateType string) []byte {
	h, _ := strings.CutPrefix(digest, "sha256:")
	b, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": subjectName, "digest": map[string]any{"sha256": h}}},
		"predicateType": predicateType,
		"predicate":     map[string]any{},
	})
	return b
}

func signECDSA(k *ecdsa.PrivateKey, msg []byte) ([]byte, error) {
	sum := sha256.Sum256(msg)
	return ecdsa.SignASN1(rand.Reader, k, sum[:])
}

func pae(payloadType string, payload []byte) []byte {
	return fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(payload), payload)
}

func keyMaterial(k *ecdsa.PrivateKey) *protobundle.VerificationMaterial {
	der, _ := x509.MarshalPKIXPublicKey(k.Public())
	sum := sha256.Sum256(der)
	return &protobundle.VerificationMaterial{
		Content:     &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: base64.StdEncoding.EncodeToString(sum[:])}},
		TlogEntries: []*protorekor.TransparencyLogEntry{},
	}
}

// KeyMessageBundle is a cosign-style bundle: a message signature over the
// manifest bytes (SHA-256 message digest = the manifest digest) with k.
func KeyMessageBundle(k *ecdsa.PrivateKey, manifest []byte) ([]byte, error) {
	sig, err := signECDSA(k, manifest)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(manifest)
	return protojson.Marshal(&protobundle.Bundle{
		MediaType:            BundleMediaType,
		VerificationMaterial: keyMaterial(k),
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     sig,
		}},
	})
}

// KeyDSSEBundle is a bundle whose DSSE envelope carries statement, signed
// with k.
func KeyDSSEBundle(k *ecdsa.PrivateKey, statement []byte) ([]byte, error) {
	const pt = "application/vnd.in-toto+json"
	sig, err := signECDSA(k, pae(pt, statement))
	if err != nil {
		return nil, err
	}
	return protojson.Marshal(&protobundle.Bundle{
		MediaType:            BundleMediaType,
		VerificationMaterial: keyMaterial(k),
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: statement, PayloadType: pt, Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	})
}

// SignSimpleSigning is the base64 signature cosign v2 puts in the
// dev.cosignproject.cosign/signature annotation: ECDSA over SHA-256 of
// the payload.
func SignSimpleSigning(k *ecdsa.PrivateKey, payload []byte) (string, error) {
	sig, err := signECDSA(k, payload)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Virtual is a fake Sigstore (Fulcio, Rekor, TSA). Its validity windows
// are short (Fulcio CA now-5h…now+1h, leaf now…now+10min): make fixtures
// at test time.
type Virtual struct {
	VS *ca.VirtualSigstore
	// RootJSON is a trusted_root.json for it (no CT logs: its leaves
	// carry no SCT).
	RootJSON []byte
}

// NewVirtual starts a fake Sigstore.
func NewVirtual() (*Virtual, error) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		return nil, err
	}
	// RekorLogs sets ID to the hex string of the log ID; after a JSON
	// round trip the log would be looked up under the wrong key.
	rekor := map[string]*root.TransparencyLog{}
	for id, l := range vs.RekorLogs() {
		c := *l
		raw, err := hex.DecodeString(id)
		if err != nil {
			return nil, err
		}
		c.ID = raw
		rekor[id] = &c
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(),
		map[string]*root.TransparencyLog{}, vs.TimestampingAuthorities(), rekor)
	if err != nil {
		return nil, err
	}
	js, err := tr.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return &Virtual{VS: vs, RootJSON: js}, nil
}

// entryWithSET copies a test tlog entry into a bundle entry of the given
// kind, with a signed entry timestamp (tlog.Entry keeps its own private).
func (v *Virtual) entryWithSET(e *tlog.Entry, kind string) (*protorekor.TransparencyLogEntry, error) {
	tle := proto.Clone(e.TransparencyLogEntry()).(*protorekor.TransparencyLogEntry)
	tle.KindVersion = &protorekor.KindVersion{Kind: kind, Version: "0.0.1"}
	set, err := v.VS.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
		IntegratedTime: tle.IntegratedTime,
		LogIndex:       tle.LogIndex,
		LogID:          hex.EncodeToString(tle.LogId.KeyId),
	})
	if err != nil {
		return nil, err
	}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	return tle, nil
}

func (v *Virtual) addProof(tle *protorekor.TransparencyLogEntry) error {
	p, err := v.VS.GetInclusionProof(tle.CanonicalizedBody)
	if err != nil {
		return err
	}
	rootHash, err := hex.DecodeString(*p.RootHash)
	if err != nil {
		return err
	}
	var hashes [][]byte
	for _, h := range p.Hashes {
		b, err := hex.DecodeString(h)
		if err != nil {
			return err
		}
		hashes = append(hashes, b)
	}
	tle.LogIndex = *p.LogIndex
	tle.InclusionProof = &protorekor.InclusionProof{LogIndex: *p.LogIndex, RootHash: rootHash, TreeSize: *p.TreeSize, Hashes: hashes,
		Checkpoint: &protorekor.Checkpoint{Envelope: *p.Checkpoint}}
	// The SET covers the log index: sign it again.
	set, err := v.VS.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
		IntegratedTime: tle.IntegratedTime,
		LogIndex:       tle.LogIndex,
		LogID:          hex.EncodeToString(tle.LogId.KeyId),
	})
	if err != nil {
		return err
	}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	return nil
}

func (v *Virtual) bundle(ent *ca.TestEntity, kind string) (*protobundle.Bundle, error) {
	vc, err := ent.VerificationContent()
	if err != nil {
		return nil, err
	}
	vm := &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
	}
	entries, err := ent.TlogEntries()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		tle, err := v.entryWithSET(e, kind)
		if err != nil {
			return nil, err
		}
		if tle.InclusionProof == nil {
			// Bundles v0.2+ need an inclusion proof; the fake Rekor makes
			// one for a one-entry tree, at index 0.
			if err := v.addProof(tle); err != nil {
				return nil, err
			}
		}
		vm.TlogEntries = append(vm.TlogEntries, tle)
	}
	tss, err := ent.Timestamps()
	if err != nil {
		return nil, err
	}
	vm.TimestampVerificationData = &protobundle.TimestampVerificationData{}
	for _, ts := range tss {
		vm.TimestampVerificationData.Rfc3161Timestamps = append(vm.TimestampVerificationData.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
	}
	return &protobundle.Bundle{MediaType: BundleMediaType, VerificationMaterial: vm}, nil
}

// MessageBundle signs the manifest bytes as identity/issuer: a keyless
// message-signature bundle with a hashedrekord entry.
func (v *Virtual) MessageBundle(identity, issuer string, manifest []byte) ([]byte, error) {
	ent, err := v.VS.SignAtTime(identity, issuer, manifest, time.Now().Add(time.Minute))
	if err != nil {
		return nil, err
	}
	b, err := v.bundle(ent, "hashedrekord")
	if err != nil {
		return nil, err
	}
	sc, err := ent.SignatureContent()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(manifest)
	b.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
		MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
		Signature:     sc.Signature(),
	}}
	return protojson.Marshal(b)
}

// DSSEBundle attests statement as identity/issuer: a keyless DSSE bundle
// with a dsse entry.
func (v *Virtual) DSSEBundle(identity, issuer string, statement []byte) ([]byte, error) {
	ent, err := v.VS.AttestAtTime(identity, issuer, statement, time.Now().Add(time.Minute), true)
	if err != nil {
		return nil, err
	}
	b, err := v.bundle(ent, "dsse")
	if err != nil {
		return nil, err
	}
	sc, err := ent.SignatureContent()
	if err != nil {
		return nil, err
	}
	env := sc.EnvelopeContent().RawEnvelope()
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		return nil, err
	}
	b.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
		Payload: payload, PayloadType: env.PayloadType, Signatures: []*protodsse.Signature{{Sig: sig}},
	}}
	return protojson.Marshal(b)
}

// Legacy signs a simple-signing payload as identity/issuer the way cosign
// v2 keyless does, and returns the layer annotations' values: the base64
// signature, the certificate PEM and the Rekor bundle JSON.
func (v *Virtual) Legacy(identity, issuer string, payload []byte) (sig string, certPEM, rekorBundle []byte, err error) {
	ent, err := v.VS.SignAtTime(identity, issuer, payload, time.Now().Add(time.Minute))
	if err != nil {
		return "", nil, nil, err
	}
	vc, err := ent.VerificationContent()
	if err != nil {
		return "", nil, nil, err
	}
	sc, err := ent.SignatureContent()
	if err != nil {
		return "", nil, nil, err
	}
	entries, err := ent.TlogEntries()
	if err != nil || len(entries) == 0 {
		return "", nil, nil, fmt.Errorf("no tlog entry: %v", err)
	}
	tle, err := v.entryWithSET(entries[0], "hashedrekord")
	if err != nil {
		return "", nil, nil, err
	}
	rb, err := rekorAnnotation(tle)
	if err != nil {
		return "", nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vc.Certificate().Raw})
	return base64.StdEncoding.EncodeToString(sc.Signature()), certPEM, rb, nil
}

// rekorAnnotation is cosign v2's dev.sigstore.cosign/bundle annotation for
// a tlog entry with its signed entry timestamp.
func rekorAnnotation(tle *protorekor.TransparencyLogEntry) ([]byte, error) {
	return json.Marshal(map[string]any{
		"SignedEntryTimestamp": tle.InclusionPromise.SignedEntryTimestamp,
		"Payload": map[string]any{
			"body":           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
			"integratedTime": tle.IntegratedTime,
			"logIndex":       tle.LogIndex,
			"logID":          hex.EncodeToString(tle.LogId.KeyId),
		},
	})
}

// LegacyAttestation attests statement as identity/issuer the way cosign
// v2 keyless attest does, and returns the .att layer (the DSSE envelope
// JSON) and its annotations' values: the certificate PEM and the Rekor
// bundle JSON (a dsse entry with its signed entry timestamp).
func (v *Virtual) LegacyAttestation(identity, issuer string, statement []byte) (envelope, certPEM, rekorBundle []byte, err error) {
	ent, err := v.VS.AttestAtTime(identity, issuer, statement, time.Now().Add(time.Minute), false)
	if err != nil {
		return nil, nil, nil, err
	}
	vc, err := ent.VerificationContent()
	if err != nil {
		return nil, nil, nil, err
	}
	sc, err := ent.SignatureContent()
	if err != nil {
		return nil, nil, nil, err
	}
	entries, err := ent.TlogEntries()
	if err != nil || len(entries) == 0 {
		return nil, nil, nil, fmt.Errorf("no tlog entry: %v", err)
	}
	tle, err := v.entryWithSET(entries[0], "dsse")
	if err != nil {
		return nil, nil, nil, err
	}
	if rekorBundle, err = rekorAnnotation(tle); err != nil {
		return nil, nil, nil, err
	}
	if envelope, err = json.Marshal(sc.EnvelopeContent().RawEnvelope()); err != nil {
		return nil, nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vc.Certificate().Raw})
	return envelope, certPEM, rekorBundle, nil
}
