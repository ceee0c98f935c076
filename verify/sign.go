package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// Signer makes the DSSE signature of an OMS bundle. NewKeySigner and
// NewCertificateSigner return one; other implementations (an HSM) may
// satisfy it too.
type Signer interface {
	// Public is the signing key.
	Public() crypto.PublicKey
	// SignPAE signs DSSE pre-authentication-encoded bytes: ECDSA over the
	// curve's hash (SHA-256/384/512 for P-256/384/521), ASN.1 DER; Ed25519
	// over the bytes themselves.
	SignPAE(pae []byte) ([]byte, error)
	// Certificates is the chain to put in the bundle, leaf first; nil for
	// the key method.
	Certificates() []*x509.Certificate
}

type keySigner struct {
	key   crypto.Signer
	chain []*x509.Certificate
}

func (s *keySigner) Public() crypto.PublicKey          { return s.key.Public() }
func (s *keySigner) Certificates() []*x509.Certificate { return s.chain }

func (s *keySigner) SignPAE(msg []byte) ([]byte, error) {
	switch k := s.key.(type) {
	case *ecdsa.PrivateKey:
		h, err := curveHash(k.Curve)
		if err != nil {
			return nil, err
		}
		hh := h.New()
		hh.Write(msg)
		return ecdsa.SignASN1(rand.Reader, k, hh.Sum(nil))
	case ed25519.PrivateKey:
		return ed25519.Sign(k, msg), nil
	}
	return nil, fmt.Errorf("sign: unsupported key type %T", s.key)
}

// NewKeySigner reads a PEM private key (ECDSA P-256/P-384/P-521 or
// Ed25519, unencrypted PKCS#8 or SEC 1) for the key method.
func NewKeySigner(privateKeyPEM []byte) (Signer, error) {
	k, err := ParsePrivateKey(privateKeyPEM)
	if err != nil {
		return nil, err
	}
	return &keySigner{key: k}, nil
}

// NewCertificateSigner reads a PEM private key and the certificate chain
// for the certificate method: the first certificate of the PEM files is the
// signing (leaf) certificate and must hold the key's public half and be
// usable for signing (KeyUsage digitalSignature or EKU codeSigning); the
// rest follow it in the bundle, in order.
func NewCertificateSigner(privateKeyPEM []byte, chainPEM ...[]byte) (Signer, error) {
	k, err := ParsePrivateKey(privateKeyPEM)
	if err != nil {
		return nil, err
	}
	var chain []*x509.Certificate
	for i, f := range chainPEM {
		certs, err := ParseCertificates(f)
		if err != nil {
			return nil, fmt.Errorf("certificate chain file %d: %w", i+1, err)
		}
		chain = append(chain, certs...)
	}
	if len(chain) == 0 {
		return nil, errors.New("sign: no signing certificate")
	}
	if !sameKey(chain[0].PublicKey, k.Public()) {
		return nil, errors.New("sign: the signing certificate does not hold the private key's public key")
	}
	if !canSign(chain[0]) {
		return nil, errors.New("sign: the signing certificate has neither KeyUsage digitalSignature nor ExtKeyUsage codeSigning")
	}
	return &keySigner{key: k, chain: chain}, nil
}

// The bundle as model_signing v1.1 writes it for the key and certificate
// methods (field order kept).
type outBundle struct {
	MediaType            string      `json:"mediaType"`
	VerificationMaterial outMaterial `json:"verificationMaterial"`
	DSSEEnvelope         outEnvelope `json:"dsseEnvelope"`
}

type outMaterial struct {
	PublicKey            *outPublicKey `json:"publicKey,omitempty"`
	X509CertificateChain *outChain     `json:"x509CertificateChain,omitempty"`
	TlogEntries          []struct{}    `json:"tlogEntries"`
}

type outPublicKey struct {
	Hint string `json:"hint"`
}

type outChain struct {
	Certificates []outCert `json:"certificates"`
}

type outCert struct {
	RawBytes string `json:"rawBytes"`
}

type outEnvelope struct {
	Payload     string         `json:"payload"`
	PayloadType string         `json:"payloadType"`
	Signatures  []outSignature `json:"signatures"`
}

type outSignature struct {
	Sig   string `json:"sig"`
	KeyID string `json:"keyid"`
}

// Sign makes an OMS signature (model.sig JSON) over payload, an in-toto
// statement with the OMS predicate (from manifest.Statement). The bundle is
// what model_signing v1.1 writes: bundle v0.3, publicKey.hint (key
// method) or x509CertificateChain leaf first (certificate method),
// tlogEntries [], keyid "".
func Sign(payload []byte, signer Signer) ([]byte, error) {
	if signer == nil {
		return nil, errors.New("sign: no signer")
	}
	var st Signature
	if err := parseStatement(payload, &st); err != nil {
		return nil, fmt.Errorf("sign: the payload is not an OMS statement: %w", err)
	}
	if st.PredicateType != PredicateType {
		return nil, fmt.Errorf("sign: predicate type %q; hallmark signs %q", st.PredicateType, PredicateType)
	}
	pub := signer.Public()
	if err := checkKeyType(pub); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}

	var mat outMaterial
	mat.TlogEntries = []struct{}{}
	if chain := signer.Certificates(); len(chain) > 0 {
		if !sameKey(chain[0].PublicKey, pub) {
			return nil, errors.New("sign: the signing certificate does not hold the signer's key")
		}
		mat.X509CertificateChain = &outChain{}
		for _, c := range chain {
			mat.X509CertificateChain.Certificates = append(mat.X509CertificateChain.Certificates, outCert{base64.StdEncoding.EncodeToString(c.Raw)})
		}
	} else {
		hint, err := KeyHint(pub)
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		mat.PublicKey = &outPublicKey{Hint: hint}
	}

	sig, err := signer.SignPAE(pae(PayloadType, payload))
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if _, ok := verifyDSSE(pub, PayloadType, payload, sig, 0); !ok {
		return nil, errors.New("sign: the signer's signature does not verify with its public key")
	}
	return json.Marshal(outBundle{
		MediaType:            BundleMediaType,
		VerificationMaterial: mat,
		DSSEEnvelope: outEnvelope{
			Payload:     base64.StdEncoding.EncodeToString(payload),
			PayloadType: PayloadType,
			Signatures:  []outSignature{{Sig: base64.StdEncoding.EncodeToString(sig), KeyID: ""}},
		},
	})
}
