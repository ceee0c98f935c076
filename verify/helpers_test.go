package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/verify/manifest"
)

const vectors = "testdata/vectors"

// Identity of the *-sigstore vectors.
const (
	vectorIdentity = "stefanb@us.ibm.com"
	vectorIssuer   = "https://sigstore.verify.ibm.com/oauth2"
)

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fileResources hashes a vector folder the way the OMS files/sha256
// method does for these flat folders: every regular file except model.sig
// and the ignored names, sorted. single hashes only that file, named ".".
// (Deliberately independent of package manifest.)
func fileResources(t testing.TB, dir, single string, ignore ...string) []manifest.Resource {
	t.Helper()
	hash := func(p string) string {
		sum := sha256.Sum256(readFile(t, p))
		return hex.EncodeToString(sum[:])
	}
	if single != "" {
		return []manifest.Resource{{Name: ".", Algorithm: "sha256", Digest: hash(filepath.Join(dir, single))}}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []manifest.Resource
	for _, e := range ents {
		if !e.Type().IsRegular() || e.Name() == "model.sig" || slices.Contains(ignore, e.Name()) {
			continue
		}
		out = append(out, manifest.Resource{Name: e.Name(), Algorithm: "sha256", Digest: hash(filepath.Join(dir, e.Name()))})
	}
	return out
}

// mutateBundle decodes bundle JSON into a generic map, lets f change it,
// and encodes it again.
func mutateBundle(t testing.TB, data []byte, f func(b map[string]any)) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	f(b)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func envelope(b map[string]any) map[string]any { return b["dsseEnvelope"].(map[string]any) }

// mutatePayload lets f change the decoded statement inside a bundle.
func mutatePayload(t testing.TB, data []byte, f func(st map[string]any)) []byte {
	t.Helper()
	return mutateBundle(t, data, func(b map[string]any) {
		env := envelope(b)
		raw, err := base64.StdEncoding.DecodeString(env["payload"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var st map[string]any
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		f(st)
		raw, err = json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		env["payload"] = base64.StdEncoding.EncodeToString(raw)
	})
}

// wantKind fails unless err is a verification *Error of the given kind
// whose one-line message contains each of the fragments.
func wantKind(t testing.TB, err error, kind error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("verified; want %v", kind)
	}
	var ve *Error
	if !errors.As(err, &ve) || !errors.Is(err, ErrVerification) || !errors.Is(err, kind) {
		t.Fatalf("error %q (%T); want kind %v", err, err, kind)
	}
	msg := err.Error()
	t.Logf("%s", msg)
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("message is not one line: %q", msg)
	}
	if !strings.Contains(msg, kind.Error()) {
		t.Errorf("message %q does not name the cause %q", msg, kind)
	}
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("message %q lacks %q", msg, f)
		}
	}
}

// statement builds an OMS v1.0 statement over res (files/sha256 unless
// opts says otherwise).
func statement(t testing.TB, name string, res []manifest.Resource, ser map[string]any) []byte {
	t.Helper()
	root, err := manifest.RootDigest(res)
	if err != nil {
		t.Fatal(err)
	}
	if ser == nil {
		ser = map[string]any{"method": "files", "hash_type": "sha256", "allow_symlinks": false}
	}
	st := map[string]any{
		"_type":         StatementType,
		"subject":       []any{map[string]any{"name": name, "digest": map[string]any{"sha256": hex.EncodeToString(root)}}},
		"predicateType": PredicateType,
		"predicate":     map[string]any{"serialization": ser, "resources": res},
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testResources() []manifest.Resource {
	h := func(s string) string { d := sha256.Sum256([]byte(s)); return hex.EncodeToString(d[:]) }
	return []manifest.Resource{
		{Name: "config.json", Algorithm: "sha256", Digest: h("{}")},
		{Name: "weights/model.safetensors", Algorithm: "sha256", Digest: h("weights")},
	}
}

// --- a throw-away PKI ---

type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var serial int64

func newCert(t testing.TB, tmpl *x509.Certificate, parent *testCA, pub crypto.PublicKey, self crypto.Signer) *x509.Certificate {
	t.Helper()
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Now().Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	}
	parentCert, parentKey := tmpl, self
	if parent != nil {
		parentCert, parentKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, pub, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newECKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newRootCA(t testing.TB, cn string) *testCA {
	k := newECKey(t, elliptic.P256())
	c := newCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, k.Public(), k)
	return &testCA{c, k}
}

func (ca *testCA) intermediate(t testing.TB, cn string) *testCA {
	k := newECKey(t, elliptic.P384())
	c := newCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}, ca, k.Public(), nil)
	return &testCA{c, k}
}

func (ca *testCA) leaf(t testing.TB, key crypto.Signer, ku x509.KeyUsage, eku []x509.ExtKeyUsage, notBefore, notAfter time.Time) *x509.Certificate {
	return newCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "model signer"}, EmailAddresses: []string{"signer@example.com"},
		KeyUsage: ku, ExtKeyUsage: eku, NotBefore: notBefore, NotAfter: notAfter,
	}, ca, key.Public(), nil)
}

func certPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func privPEM(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func pubPEM(t testing.TB, k crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func newEd25519(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
