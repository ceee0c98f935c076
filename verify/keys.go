package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParsePublicKey reads a public key from PEM (a "PUBLIC KEY" block; text
// before or between blocks is skipped, as in certtool output) or from DER
// SubjectPublicKeyInfo. It accepts ECDSA P-256/P-384/P-521 and Ed25519.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	var pub crypto.PublicKey
	rest := data
	sawPEM := false
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		sawPEM = true
		if blk.Type != "PUBLIC KEY" {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		pub = k
		break
	}
	if pub == nil {
		if sawPEM {
			return nil, errors.New("public key: no PUBLIC KEY PEM block")
		}
		k, err := x509.ParsePKIXPublicKey(data)
		if err != nil {
			return nil, errors.New("public key: neither PEM with a PUBLIC KEY block nor DER SubjectPublicKeyInfo")
		}
		pub = k
	}
	if err := checkKeyType(pub); err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return pub, nil
}

// ParsePrivateKey reads an unencrypted private key from PEM ("PRIVATE KEY"
// PKCS#8 or "EC PRIVATE KEY" SEC 1; text before the block is skipped). It
// accepts ECDSA P-256/P-384/P-521 and Ed25519.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	rest := data
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, errors.New("private key: no PRIVATE KEY or EC PRIVATE KEY PEM block")
		}
		var (
			k   any
			err error
		)
		switch blk.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(blk.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("private key: encrypted keys are not supported; decrypt it first")
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("private key: unsupported key type %T", k)
		}
		if err := checkKeyType(s.Public()); err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		return s, nil
	}
}

// ParseCertificates reads every CERTIFICATE block of PEM data, in order;
// other blocks and text are skipped.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := data
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no CERTIFICATE PEM block")
	}
	return out, nil
}

// KeyHint is the publicKey.hint model_signing ≥ v1.1 writes: the hex
// SHA-256 of the key's PEM SubjectPublicKeyInfo (64-character lines, final
// newline).
func KeyHint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return hex.EncodeToString(sum[:]), nil
}

// KeyFingerprint is "sha256:" and the hex SHA-256 of the DER
// SubjectPublicKeyInfo (what certtool prints as the sha256 Public Key ID).
func KeyFingerprint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// sameKey compares two public keys.
func sameKey(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	switch k := a.(type) {
	case *ecdsa.PublicKey, ed25519.PublicKey:
		return k.(equaler).Equal(b)
	}
	return false
}
