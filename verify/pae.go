package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"fmt"
	"strconv"
)

// pae is the DSSE pre-authentication encoding:
// "DSSEv1" SP len(type) SP type SP len(payload) SP payload.
func pae(payloadType string, payload []byte) []byte {
	b := paeHeader("DSSEv1 ", payloadType, len(payload), 32+len(payloadType)+len(payload))
	return append(b, payload...)
}

// paeV02 is what model_signing v0.2 signed by mistake (it formatted the
// payload bytes into a str): "DSSEV1" (capital V) SP len(type) SP type SP
// len(payload) SP repr(payload), with Python's bytes repr b'...'.
func paeV02(payloadType string, payload []byte) []byte {
	b := paeHeader("DSSEV1 ", payloadType, len(payload), 40+len(payloadType)+len(payload)*5/4)
	return appendPyBytesRepr(b, payload)
}

// paeHeader is everything of a PAE before the payload.
func paeHeader(prefix, payloadType string, payloadLen, capacity int) []byte {
	b := make([]byte, 0, capacity)
	b = append(b, prefix...)
	b = strconv.AppendInt(b, int64(len(payloadType)), 10)
	b = append(b, ' ')
	b = append(b, payloadType...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(payloadLen), 10)
	return append(b, ' ')
}

// appendPyBytesRepr appends CPython's repr() of a bytes object.
func appendPyBytesRepr(b, p []byte) []byte {
	quote := byte('\'')
	hasSingle, hasDouble := false, false
	for _, c := range p {
		switch c {
		case '\'':
			hasSingle = true
		case '"':
			hasDouble = true
		}
	}
	if hasSingle && !hasDouble {
		quote = '"'
	}
	const hexdigits = "0123456789abcdef"
	b = append(b, 'b', quote)
	for _, c := range p {
		switch {
		case c == quote || c == '\\':
			b = append(b, '\\', c)
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c < 0x20 || c >= 0x7f:
			b = append(b, '\\', 'x', hexdigits[c>>4], hexdigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, quote)
}

// curveHash is the hash model_signing pairs with each curve.
func curveHash(c elliptic.Curve) (crypto.Hash, error) {
	switch c {
	case elliptic.P256():
		return crypto.SHA256, nil
	case elliptic.P384():
		return crypto.SHA384, nil
	case elliptic.P521():
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("unsupported curve %s", c.Params().Name)
}

// checkKeyType accepts ECDSA P-256/384/521 and Ed25519.
func checkKeyType(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		_, err := curveHash(k.Curve)
		return err
	case ed25519.PublicKey:
		return nil
	}
	return fmt.Errorf("unsupported key type %T (want ECDSA P-256/P-384/P-521 or Ed25519)", pub)
}

// verifyRaw checks sig over msg: ECDSA (ASN.1) with hash h, or Ed25519.
func verifyRaw(pub crypto.PublicKey, h crypto.Hash, msg, sig []byte) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		hh := h.New()
		hh.Write(msg)
		return ecdsa.VerifyASN1(k, hh.Sum(nil), sig)
	case ed25519.PublicKey:
		return len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, sig)
	}
	return false
}

// verifyDSSE checks the envelope signature over the standard PAE with the
// key's own hash, then over the v0.2 PAE with compatHash (0: the key's own
// hash, as the key method does; the certificate method passes SHA-256, as
// model_signing does). It reports whether the v0.2 encoding verified.
func verifyDSSE(pub crypto.PublicKey, payloadType string, payload, sig []byte, compatHash crypto.Hash) (legacy bool, ok bool) {
	h := crypto.Hash(0)
	if k, isEC := pub.(*ecdsa.PublicKey); isEC {
		var err error
		if h, err = curveHash(k.Curve); err != nil {
			return false, false
		}
	}
	if verifyRaw(pub, h, pae(payloadType, payload), sig) {
		return false, true
	}
	if compatHash == 0 {
		compatHash = h
	}
	if verifyRaw(pub, compatHash, paeV02(payloadType, payload), sig) {
		return true, true
	}
	return false, false
}
