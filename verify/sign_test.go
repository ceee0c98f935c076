package verify

import (
	"crypto"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

// TestSignKeyRoundTrip signs with fresh keys and verifies with the key
// method; the bundle has model_signing v1.1's shape.
func TestSignKeyRoundTrip(t *testing.T) {
	res := testResources()
	stmt := statement(t, "m", res, nil)
	keys := map[string]crypto.Signer{
		"P-256":   newECKey(t, elliptic.P256()),
		"P-384":   newECKey(t, elliptic.P384()),
		"P-521":   newECKey(t, elliptic.P521()),
		"Ed25519": newEd25519(t),
	}
	for name, k := range keys {
		t.Run(name, func(t *testing.T) {
			signer, err := NewKeySigner(append([]byte("some text before the block\n"), privPEM(t, k)...))
			if err != nil {
				t.Fatal(err)
			}
			b, err := Sign(stmt, signer)
			if err != nil {
				t.Fatal(err)
			}
			// shape: as model_signing v1.1 writes it
			var shape struct {
				MediaType            string
				VerificationMaterial struct {
					PublicKey   map[string]any
					TlogEntries []any
				}
				DSSEEnvelope struct {
					PayloadType string
					Signatures  []map[string]any
				}
			}
			if err := json.Unmarshal(b, &shape); err != nil {
				t.Fatal(err)
			}
			hint, _ := KeyHint(k.Public())
			if shape.MediaType != BundleMediaType || shape.VerificationMaterial.PublicKey["hint"] != hint ||
				shape.VerificationMaterial.TlogEntries == nil || len(shape.VerificationMaterial.TlogEntries) != 0 ||
				len(shape.DSSEEnvelope.Signatures) != 1 || shape.DSSEEnvelope.Signatures[0]["keyid"] != "" {
				t.Errorf("bundle shape: %s", b)
			}
			if !strings.Contains(string(b), `"tlogEntries":[]`) || !strings.Contains(string(b), `"keyid":""`) {
				t.Errorf("bundle: %s", b)
			}

			v, err := NewVerifier(WithPublicKey(pubPEM(t, k.Public())))
			if err != nil {
				t.Fatal(err)
			}
			r, err := v.VerifyBundle(b, WithResources(res))
			if err != nil {
				t.Fatal(err)
			}
			if r.LegacyPAE || r.KeyFingerprint != KeyFingerprint(k.Public()) || r.SubjectName != "m" {
				t.Errorf("%+v", r)
			}

			other, _ := NewVerifier(WithPublicKey(pubPEM(t, newECKey(t, elliptic.P256()).Public())))
			_, err = other.VerifyBundle(b, WithResources(res))
			wantKind(t, err, ErrWrongKey)
		})
	}
}

// TestSignKeySigstoreGo checks the key bundles are what sigstore-go reads
// and verifies too (strict protojson, WithKey).
func TestSignKeySigstoreGo(t *testing.T) {
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384()} {
		k := newECKey(t, c)
		signer, _ := NewKeySigner(privPEM(t, k))
		res := testResources()
		b, err := Sign(statement(t, "m", res, nil), signer)
		if err != nil {
			t.Fatal(err)
		}
		var bun bundle.Bundle
		if err := bun.UnmarshalJSON(b); err != nil {
			t.Fatal(err)
		}
		sv, err := signature.LoadDefaultVerifier(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		hint, _ := KeyHint(k.Public())
		tm := root.NewTrustedPublicKeyMaterialFromMapping(map[string]*root.ExpiringKey{hint: root.NewExpiringKey(sv, time.Time{}, time.Time{})})
		ver, err := sgverify.NewVerifier(tm, sgverify.WithNoObserverTimestamps())
		if err != nil {
			t.Fatal(err)
		}
		sig, _ := ParseBundle(b)
		if _, err := ver.Verify(&bun, sgverify.NewPolicy(sgverify.WithArtifactDigest("sha256", sig.RootDigest), sgverify.WithKey())); err != nil {
			t.Fatalf("%s: sigstore-go: %v", c.Params().Name, err)
		}
	}
}

// TestSignCertificateRoundTrip signs with a fresh root → intermediate →
// leaf chain and verifies with the certificate method.
func TestSignCertificateRoundTrip(t *testing.T) {
	rootCA := newRootCA(t, "test root")
	inter := rootCA.intermediate(t, "test intermediate")
	res := testResources()
	stmt := statement(t, "m", res, nil)

	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		t.Run(c.Params().Name, func(t *testing.T) {
			k := newECKey(t, c)
			leaf := inter.leaf(t, k, x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, time.Time{}, time.Time{})
			signer, err := NewCertificateSigner(privPEM(t, k), certPEM(leaf), certPEM(inter.cert))
			if err != nil {
				t.Fatal(err)
			}
			b, err := Sign(stmt, signer)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := ParseBundle(b)
			if err != nil {
				t.Fatal(err)
			}
			if sig.Material.Kind != MaterialCertificateChain || len(sig.Material.Certificates) != 2 ||
				!sig.Material.Certificates[0].Equal(leaf) || !sig.Material.Certificates[1].Equal(inter.cert) {
				t.Fatalf("chain %+v", sig.Material)
			}
			v, err := NewVerifier(WithCertificateChain(certPEM(rootCA.cert)))
			if err != nil {
				t.Fatal(err)
			}
			r, err := v.Verify(sig, WithResources(res))
			if err != nil {
				t.Fatal(err)
			}
			if r.Identity != "signer@example.com" || r.Issuer != "CN=test intermediate" || !r.Certificate.Equal(leaf) {
				t.Errorf("%+v", r)
			}
			// another CA
			v2, _ := NewVerifier(WithCertificateChain(certPEM(newRootCA(t, "test root").cert)))
			_, err = v2.Verify(sig, WithResources(res))
			wantKind(t, err, ErrUntrustedChain)
		})
	}

	t.Run("expired leaf verifies at its notBefore", func(t *testing.T) {
		k := newECKey(t, elliptic.P256())
		leaf := inter.leaf(t, k, x509.KeyUsageDigitalSignature, nil, time.Now().Add(-50*time.Minute), time.Now().Add(-40*time.Minute))
		signer, err := NewCertificateSigner(privPEM(t, k), certPEM(leaf, inter.cert))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Sign(stmt, signer)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := NewVerifier(WithCertificateChain(certPEM(rootCA.cert)))
		if _, err := v.VerifyBundle(b, WithResources(res)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("leaf issued before its CA", func(t *testing.T) {
		k := newECKey(t, elliptic.P256())
		leaf := inter.leaf(t, k, x509.KeyUsageDigitalSignature, nil, time.Now().Add(-48*time.Hour), time.Time{})
		signer, _ := NewCertificateSigner(privPEM(t, k), certPEM(leaf, inter.cert))
		b, err := Sign(stmt, signer)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := NewVerifier(WithCertificateChain(certPEM(rootCA.cert)))
		_, err = v.VerifyBundle(b, WithResources(res))
		wantKind(t, err, ErrUntrustedChain)
	})
	t.Run("missing intermediate", func(t *testing.T) {
		k := newECKey(t, elliptic.P256())
		leaf := inter.leaf(t, k, x509.KeyUsageDigitalSignature, nil, time.Time{}, time.Time{})
		signer, _ := NewCertificateSigner(privPEM(t, k), certPEM(leaf))
		b, _ := Sign(stmt, signer)
		v, _ := NewVerifier(WithCertificateChain(certPEM(rootCA.cert)))
		_, err := v.VerifyBundle(b, WithResources(res))
		wantKind(t, err, ErrUntrustedChain)
	})
	t.Run("leaf not for signing", func(t *testing.T) {
		k := newECKey(t, elliptic.P256())
		leaf := inter.leaf(t, k, x509.KeyUsageKeyAgreement, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, time.Time{}, time.Time{})
		if _, err := NewCertificateSigner(privPEM(t, k), certPEM(leaf, inter.cert)); err == nil {
			t.Fatal("NewCertificateSigner accepted a leaf that cannot sign")
		}
		b, err := Sign(stmt, &rawSigner{key: k, chain: []*x509.Certificate{leaf, inter.cert}})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := NewVerifier(WithCertificateChain(certPEM(rootCA.cert)))
		_, err = v.VerifyBundle(b, WithResources(res))
		wantKind(t, err, ErrKeyUsage)
	})
	t.Run("key does not match the certificate", func(t *testing.T) {
		k := newECKey(t, elliptic.P256())
		leaf := inter.leaf(t, newECKey(t, elliptic.P256()), x509.KeyUsageDigitalSignature, nil, time.Time{}, time.Time{})
		if _, err := NewCertificateSigner(privPEM(t, k), certPEM(leaf, inter.cert)); err == nil {
			t.Fatal("accepted")
		}
	})
}

// rawSigner is a Signer without NewCertificateSigner's checks.
type rawSigner struct {
	key   crypto.Signer
	chain []*x509.Certificate
}

func (s *rawSigner) Public() crypto.PublicKey          { return s.key.Public() }
func (s *rawSigner) Certificates() []*x509.Certificate { return s.chain }
func (s *rawSigner) SignPAE(msg []byte) ([]byte, error) {
	return (&keySigner{key: s.key}).SignPAE(msg)
}

// TestSignVectorKey signs with the vectors' private key (text before the
// PEM block) and verifies with their public key.
func TestSignVectorKey(t *testing.T) {
	signer, err := NewKeySigner(readFile(t, filepath.Join(vectors, "keys/certificate/signing-key.pem")))
	if err != nil {
		t.Fatal(err)
	}
	res := testResources()
	b, err := Sign(statement(t, "m", res, nil), signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifierFor(t, MethodKey).VerifyBundle(b, WithResources(res)); err != nil {
		t.Fatal(err)
	}
	// and the vectors' certificate chain
	cs, err := NewCertificateSigner(readFile(t, filepath.Join(vectors, "keys/certificate/signing-key.pem")),
		readFile(t, filepath.Join(vectors, "keys/certificate/signing-key-cert.pem")),
		readFile(t, filepath.Join(vectors, "keys/certificate/int-ca-cert.pem")))
	if err != nil {
		t.Fatal(err)
	}
	b, err = Sign(statement(t, "m", res, nil), cs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifierFor(t, MethodCertificate).VerifyBundle(b, WithResources(res)); err != nil {
		t.Fatal(err)
	}
}

func TestSignRefusesBadPayload(t *testing.T) {
	signer, _ := NewKeySigner(privPEM(t, newECKey(t, elliptic.P256())))
	for _, p := range [][]byte{nil, []byte("{}"), []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)} {
		if _, err := Sign(p, signer); err == nil {
			t.Errorf("signed %q", p)
		}
	}
	if _, err := Sign(statement(t, "m", testResources(), nil), nil); err == nil {
		t.Error("signed without a signer")
	}
}
