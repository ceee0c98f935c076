package ocisig_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hallmarkdev/hallmark/source/oci"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
	"github.com/hallmarkdev/hallmark/verify"
	"github.com/hallmarkdev/hallmark/verify/manifest"
	"github.com/hallmarkdev/hallmark/verify/ocisig"
	"github.com/hallmarkdev/hallmark/verify/verifytest"
)

const (
	identity = "builder@example.com"
	issuer   = "https://oidc.example.com"
)

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// pushed is an artifact in a test registry.
type pushed struct {
	repo, ref, digest string
	raw               []byte
	desc              v1.Descriptor
}

func push(t *testing.T, reg *ocitest.Registry, repo string, files ...ocitest.File) pushed {
	t.Helper()
	img, err := ocitest.Build("modelpack", files...)
	check(t, err)
	r := reg.Host + "/" + repo
	d, err := ocitest.Push(r+":v1", img)
	check(t, err)
	raw, err := img.RawManifest()
	check(t, err)
	desc, err := ocitest.Descriptor(img)
	check(t, err)
	return pushed{repo: r, ref: "oci://" + r + ":v1", digest: d.String(), raw: raw, desc: desc}
}

func keyVerifier(t *testing.T, k *ecdsa.PrivateKey) *verify.Verifier {
	t.Helper()
	v, err := verify.NewVerifier(verify.WithCosignKey(verifytest.PublicKeyPEM(k)))
	check(t, err)
	return v
}

func run(t *testing.T, target string, v *verify.Verifier) *ocisig.Report {
	t.Helper()
	rep, err := ocisig.Verify(context.Background(), target, oci.Config{CacheDir: t.TempDir()}, v)
	check(t, err)
	for _, c := range rep.Signatures {
		t.Logf("%s via %s: %s verified=%v %s", c.Source, c.Via, c.Kind, c.Verified, c.Error)
	}
	return rep
}

func wantVerified(t *testing.T, rep *ocisig.Report, via, kind string) {
	t.Helper()
	if !rep.Verified {
		t.Fatalf("not verified: %s", rep.Error)
	}
	for _, c := range rep.Signatures {
		if c.Verified && strings.HasPrefix(c.Via, via) && c.Kind == kind {
			return
		}
	}
	t.Fatalf("no signature verified via %q as %q: %+v", via, kind, rep.Signatures)
}

func wantFailed(t *testing.T, rep *ocisig.Report, fragment string) {
	t.Helper()
	if rep.Verified {
		t.Fatalf("verified; want a failure naming %q", fragment)
	}
	if !strings.Contains(rep.Error, fragment) {
		t.Fatalf("error %q lacks %q", rep.Error, fragment)
	}
}

var files = []ocitest.File{{Name: "model.safetensors", Data: []byte("weights")}, {Name: "config.json", Data: []byte("{}")}}

// TestBundleReferrers: cosign v3 bundles found by the referrers API and
// by the referrers tag (a registry that answers 404 to the API).
func TestBundleReferrers(t *testing.T) {
	for _, api := range []bool{true, false} {
		name, via := "referrers API", "referrers API"
		if !api {
			name, via = "referrers tag fallback", "referrers tag sha256-"
		}
		t.Run(name, func(t *testing.T) {
			reg := ocitest.NewReferrersRegistry(api)
			defer reg.Close()
			k := newKey(t)
			a := push(t, reg, "models/a", files...)
			b := push(t, reg, "models/b", ocitest.File{Name: "model.safetensors", Data: []byte("other")})
			c := push(t, reg, "models/c", files[0])

			bun, err := verifytest.KeyMessageBundle(k, a.raw)
			check(t, err)
			_, err = ocitest.PushReferrer(a.repo, a.desc, ocitest.SigstoreBundle, ocitest.SigstoreBundle, bun, map[string]string{"dev.sigstore.bundle.content": "message-signature"})
			check(t, err)
			// The same signature (over A) attached to B.
			_, err = ocitest.PushReferrer(b.repo, b.desc, ocitest.SigstoreBundle, ocitest.SigstoreBundle, bun, nil)
			check(t, err)
			// A DSSE bundle over C.
			dsse, err := verifytest.KeyDSSEBundle(k, verifytest.Statement("models/c", c.digest, verifytest.CosignSignPredicate))
			check(t, err)
			_, err = ocitest.PushReferrer(c.repo, c.desc, ocitest.SigstoreBundle, ocitest.SigstoreBundle, dsse, nil)
			check(t, err)

			rep := run(t, a.ref, keyVerifier(t, k))
			wantVerified(t, rep, via, verify.ImageBundleMessage)
			if rep.Digest != a.digest || rep.Family != "modelpack" {
				t.Errorf("digest %s family %s", rep.Digest, rep.Family)
			}
			wantVerified(t, run(t, c.ref, keyVerifier(t, k)), via, verify.ImageBundleDSSE)

			wantFailed(t, run(t, a.ref, keyVerifier(t, newKey(t))), "bad signature")
			wantFailed(t, run(t, b.ref, keyVerifier(t, k)), "another manifest digest")
			// Keyless policy against a key bundle: wrong method.
			v, err := verify.NewVerifier(verify.WithIdentity(verify.Identity{Subject: identity, Issuer: issuer}))
			check(t, err)
			wantFailed(t, run(t, a.ref, v), "wrong verification method")
		})
	}
}

func TestNoSignature(t *testing.T) {
	reg := ocitest.NewReferrersRegistry(true)
	defer reg.Close()
	a := push(t, reg, "models/a", files...)
	rep := run(t, a.ref, keyVerifier(t, newKey(t)))
	wantFailed(t, rep, "no signature found")
	if len(rep.Signatures) != 0 {
		t.Errorf("%+v", rep.Signatures)
	}
}

func TestKeyless(t *testing.T) {
	vt, err := verifytest.NewVirtual()
	check(t, err)
	reg := ocitest.NewReferrersRegistry(true)
	defer reg.Close()
	a := push(t, reg, "models/a", files...)
	b := push(t, reg, "models/b", files[0])
	msg, err := vt.MessageBundle(identity, issuer, a.raw)
	check(t, err)
	_, err = ocitest.PushReferrer(a.repo, a.desc, ocitest.SigstoreBundle, ocitest.SigstoreBundle, msg, nil)
	check(t, err)
	dsse, err := vt.DSSEBundle(identity, issuer, verifytest.Statement("models/b", b.digest, verifytest.CosignSignPredicate))
	check(t, err)
	_, err = ocitest.PushReferrer(b.repo, b.desc, ocitest.SigstoreBundle, ocitest.SigstoreBundle, dsse, nil)
	check(t, err)
	// A keyless bundle over A attached to C.
	c := push(t, reg, "models/c", ocitest.File{Name: "x", Data: []byte("x")})
	_, err = ocitest.PushReferrer(c.repo, c.desc, ocitest.SigstoreBundle, ocitest.SigstoreBundle, msg, nil)
	check(t, err)

	keyless := func(id verify.Identity) *verify.Verifier {
		v, err := verify.NewVerifier(verify.WithIdentity(id), verify.WithTrustedRoot(vt.RootJSON))
		check(t, err)
		return v
	}
	good := verify.Identity{Subject: identity, Issuer: issuer}
	rep := run(t, a.ref, keyless(good))
	wantVerified(t, rep, "referrers API", verify.ImageBundleMessage)
	if c := rep.Signatures[0]; c.Identity != identity || c.Issuer != issuer {
		t.Errorf("%+v", c)
	}
	wantVerified(t, run(t, b.ref, keyless(verify.Identity{SubjectRegexp: `.*@example\.com`, Issuer: issuer})), "referrers API", verify.ImageBundleDSSE)
	wantFailed(t, run(t, a.ref, keyless(verify.Identity{Subject: "mallory@example.com", Issuer: issuer})), "wrong signer identity")
	wantFailed(t, run(t, a.ref, keyless(verify.Identity{Subject: identity, Issuer: "https://other.example.com"})), "wrong identity issuer")
	wantFailed(t, run(t, c.ref, keyless(good)), "another manifest digest")
	// The embedded public-good root does not trust the fake Fulcio.
	v, err := verify.NewVerifier(verify.WithIdentity(good))
	check(t, err)
	wantFailed(t, run(t, a.ref, v), "verification failed")
}

// TestLegacySig: cosign v2 .sig tags, with a key and keyless.
func TestLegacySig(t *testing.T) {
	vt, err := verifytest.NewVirtual()
	check(t, err)
	reg := ocitest.NewRegistry()
	defer reg.Close()
	k := newKey(t)
	a := push(t, reg, "models/a", files...)
	b := push(t, reg, "models/b", files[0])
	c := push(t, reg, "models/c", ocitest.File{Name: "x", Data: []byte("x")})

	payloadA := ocitest.SimpleSigningPayload(a.repo, a.digest)
	sig, err := verifytest.SignSimpleSigning(k, payloadA)
	check(t, err)
	check(t, ocitest.PushLegacy(a.repo, a.digest, ".sig", ocitest.Layer{MediaType: ocitest.SimpleSigning, Data: payloadA,
		Annotations: map[string]string{oci.AnnCosignSignature: sig}}))
	// A's signature under B's tag.
	check(t, ocitest.PushLegacy(b.repo, b.digest, ".sig", ocitest.Layer{MediaType: ocitest.SimpleSigning, Data: payloadA,
		Annotations: map[string]string{oci.AnnCosignSignature: sig}}))
	// Keyless over C.
	payloadC := ocitest.SimpleSigningPayload(c.repo, c.digest)
	ksig, cert, rb, err := vt.Legacy(identity, issuer, payloadC)
	check(t, err)
	check(t, ocitest.PushLegacy(c.repo, c.digest, ".sig", ocitest.Layer{MediaType: ocitest.SimpleSigning, Data: payloadC,
		Annotations: map[string]string{oci.AnnCosignSignature: ksig, oci.AnnCosignCertificate: string(cert), oci.AnnCosignBundle: string(rb)}}))

	rep := run(t, a.ref, keyVerifier(t, k))
	wantVerified(t, rep, "cosign tag", verify.ImageSimpleSigning)
	if !strings.HasSuffix(rep.Signatures[0].Source, ".sig") {
		t.Errorf("source %q", rep.Signatures[0].Source)
	}
	wantFailed(t, run(t, a.ref, keyVerifier(t, newKey(t))), "bad signature")
	wantFailed(t, run(t, b.ref, keyVerifier(t, k)), "another manifest digest")

	keyless := func(id verify.Identity) *verify.Verifier {
		v, err := verify.NewVerifier(verify.WithIdentity(id), verify.WithTrustedRoot(vt.RootJSON))
		check(t, err)
		return v
	}
	wantVerified(t, run(t, c.ref, keyless(verify.Identity{Subject: identity, Issuer: issuer})), "cosign tag", verify.ImageSimpleSigning)
	wantFailed(t, run(t, c.ref, keyless(verify.Identity{Subject: "mallory@example.com", Issuer: issuer})), "wrong signer identity")
}

// TestLegacyAttestation: a .att DSSE envelope verified with a key.
func TestLegacyAttestation(t *testing.T) {
	reg := ocitest.NewRegistry()
	defer reg.Close()
	k := newKey(t)
	a := push(t, reg, "models/a", files...)
	bun, err := verifytest.KeyDSSEBundle(k, verifytest.Statement("a", a.digest, "https://slsa.dev/provenance/v1"))
	check(t, err)
	// Take the envelope out of the bundle, as cosign v2 stores it.
	env := envelopeOf(t, bun)
	check(t, ocitest.PushLegacy(a.repo, a.digest, ".att", ocitest.Layer{MediaType: ocitest.DSSEEnvelope, Data: env,
		Annotations: map[string]string{"predicateType": "https://slsa.dev/provenance/v1"}}))
	rep := run(t, a.ref, keyVerifier(t, k))
	wantVerified(t, rep, "cosign tag", verify.ImageAttestation)
	if rep.Signatures[0].PredicateType != "https://slsa.dev/provenance/v1" {
		t.Errorf("%+v", rep.Signatures[0])
	}
}

// TestOMSLayer: an OMS model.sig shipped as a layer is checked against the
// layer digests, without downloading the weights.
func TestOMSLayer(t *testing.T) {
	reg := ocitest.NewRegistry()
	defer reg.Close()
	k := newKey(t)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	check(t, err)
	signer, err := verify.NewKeySigner(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	check(t, err)
	var res []manifest.Resource
	for _, f := range files {
		sum := sha256.Sum256(f.Data)
		res = append(res, manifest.Resource{Name: f.Name, Algorithm: "sha256", Digest: hex.EncodeToString(sum[:])})
	}
	manifest.SortResources(manifest.MethodFiles, res)
	stmt, err := manifest.Statement(&manifest.Manifest{Options: manifest.Options{Method: manifest.MethodFiles, Hash: manifest.HashSHA256}, Resources: res}, "model")
	check(t, err)
	sig, err := verify.Sign(stmt, signer)
	check(t, err)

	good := push(t, reg, "models/good", append(append([]ocitest.File{}, files...), ocitest.File{Name: "model.sig", Data: sig})...)
	bad := push(t, reg, "models/bad", files[0], ocitest.File{Name: "config.json", Data: []byte(`{"changed":1}`)}, ocitest.File{Name: "model.sig", Data: sig})

	// The weights blob is never fetched.
	reg.Corrupt(digestOf(files[0].Data))
	rep := run(t, good.ref, keyVerifier(t, k))
	wantVerified(t, rep, "artifact layer", "oms")
	if c := rep.Signatures[0]; c.Resources != 2 || c.Source != "layer model.sig" {
		t.Errorf("%+v", c)
	}
	rep = run(t, bad.ref, keyVerifier(t, k))
	wantFailed(t, rep, "does not match")
	if d := rep.Signatures[0].Diff; d == nil || len(d.Mismatched) != 1 || d.Mismatched[0] != "config.json" {
		t.Errorf("diff %+v", d)
	}
	// A second layer under a signed name (clients keep the last one) must
	// not verify around the signature.
	dup := push(t, reg, "models/dup", append(append([]ocitest.File{}, files...), ocitest.File{Name: "model.sig", Data: sig},
		ocitest.File{Name: "model.safetensors", Data: []byte("unsigned weights")})...)
	wantFailed(t, run(t, dup.ref, keyVerifier(t, k)), "two layers are named")
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestTamperedSignatureBlob: a signature blob that does not match its
// digest is an error (exit 3), never a verdict.
func TestTamperedSignatureBlob(t *testing.T) {
	reg := ocitest.NewReferrersRegistry(true)
	defer reg.Close()
	k := newKey(t)
	a := push(t, reg, "models/a", files...)
	bun, err := verifytest.KeyMessageBundle(k, a.raw)
	check(t, err)
	_, err = ocitest.PushReferrer(a.repo, a.desc, ocitest.SigstoreBundle, ocitest.SigstoreBundle, bun, nil)
	check(t, err)
	reg.Corrupt(digestOf(bun))
	_, err = ocisig.Verify(context.Background(), a.ref, oci.Config{}, keyVerifier(t, k))
	// ggcr checks the digest at EOF, or the finder does: either way an
	// error naming the blob.
	var de *oci.DigestError
	if err == nil || (!errors.As(err, &de) && !strings.Contains(err.Error(), digestOf(bun))) {
		t.Fatalf("err %v; want a digest error naming %s", err, digestOf(bun))
	}
}

func envelopeOf(t *testing.T, bundle []byte) []byte {
	t.Helper()
	var b struct {
		DSSEEnvelope json.RawMessage `json:"dsseEnvelope"`
	}
	check(t, json.Unmarshal(bundle, &b))
	return b.DSSEEnvelope
}

// TestRealRegistry: signatures made at test time and attached to artifacts
// in Debian's docker-registry (distribution 2.8: no referrers API, so the
// bundle is found through the sha256-<hex> tag fallback), as a cosign v3
// bundle referrer and as a legacy .sig tag: valid, wrong key, another
// digest.
func TestRealRegistry(t *testing.T) {
	d := ocitest.StartDistribution(t)
	reg := &ocitest.Registry{Host: d.Host}
	k := newKey(t)
	a := push(t, reg, "models/a", files...)
	b := push(t, reg, "models/b", ocitest.File{Name: "model.safetensors", Data: []byte("other")})
	l := push(t, reg, "models/legacy", files[0])

	bun, err := verifytest.KeyMessageBundle(k, a.raw)
	check(t, err)
	_, err = ocitest.PushReferrer(a.repo, a.desc, ocitest.SigstoreBundle, ocitest.SigstoreBundle, bun, map[string]string{"dev.sigstore.bundle.content": "message-signature"})
	check(t, err)
	_, err = ocitest.PushReferrer(b.repo, b.desc, ocitest.SigstoreBundle, ocitest.SigstoreBundle, bun, nil)
	check(t, err)
	payload := ocitest.SimpleSigningPayload(l.repo, l.digest)
	sig, err := verifytest.SignSimpleSigning(k, payload)
	check(t, err)
	check(t, ocitest.PushLegacy(l.repo, l.digest, ".sig", ocitest.Layer{MediaType: ocitest.SimpleSigning, Data: payload,
		Annotations: map[string]string{oci.AnnCosignSignature: sig}}))

	wantVerified(t, run(t, a.ref, keyVerifier(t, k)), "referrers tag sha256-", verify.ImageBundleMessage)
	wantFailed(t, run(t, a.ref, keyVerifier(t, newKey(t))), "bad signature")
	wantFailed(t, run(t, b.ref, keyVerifier(t, k)), "another manifest digest")
	wantVerified(t, run(t, l.ref, keyVerifier(t, k)), "cosign tag", verify.ImageSimpleSigning)
	wantFailed(t, run(t, l.ref, keyVerifier(t, newKey(t))), "bad signature")
}
