package ocisig_test

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hallmarkdev/hallmark/source/oci"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
	"github.com/hallmarkdev/hallmark/verify"
	"github.com/hallmarkdev/hallmark/verify/manifest"
	"github.com/hallmarkdev/hallmark/verify/verifytest"
)

// TestLayoutSignatures: signatures found in an OCI image layout
// (oci-layout://DIR:TAG): a cosign v3 bundle referrer listed in
// index.json, and a legacy sha256-<hex>.sig image tagged there; each
// verifies with the signer's key and fails with another key.
func TestLayoutSignatures(t *testing.T) {
	k := newKey(t)
	build := func(t *testing.T, fs ...ocitest.File) (layout.Path, pushed) {
		t.Helper()
		dir := t.TempDir()
		l, err := ocitest.NewLayout(dir)
		check(t, err)
		img, err := ocitest.Build("modelpack", fs...)
		check(t, err)
		check(t, ocitest.LayoutImage(l, img, "v1"))
		raw, err := img.RawManifest()
		check(t, err)
		d, err := img.Digest()
		check(t, err)
		desc, err := ocitest.Descriptor(img)
		check(t, err)
		return l, pushed{ref: "oci-layout://" + dir + ":v1", digest: d.String(), raw: raw, desc: desc}
	}

	t.Run("bundle referrer", func(t *testing.T) {
		l, a := build(t, files...)
		bun, err := verifytest.KeyMessageBundle(k, a.raw)
		check(t, err)
		_, err = ocitest.LayoutReferrer(l, a.desc, ocitest.SigstoreBundle, ocitest.SigstoreBundle, bun, map[string]string{"dev.sigstore.bundle.content": "message-signature"})
		check(t, err)
		rep := run(t, a.ref, keyVerifier(t, k))
		wantVerified(t, rep, "layout index.json", verify.ImageBundleMessage)
		if rep.Digest != a.digest {
			t.Errorf("digest %s, want %s", rep.Digest, a.digest)
		}
		wantFailed(t, run(t, a.ref, keyVerifier(t, newKey(t))), "bad signature")
	})
	t.Run("legacy .sig tag", func(t *testing.T) {
		l, a := build(t, files...)
		payload := ocitest.SimpleSigningPayload("example.com/models/a", a.digest)
		sig, err := verifytest.SignSimpleSigning(k, payload)
		check(t, err)
		check(t, ocitest.LayoutLegacy(l, a.digest, ".sig", ocitest.Layer{MediaType: ocitest.SimpleSigning, Data: payload,
			Annotations: map[string]string{oci.AnnCosignSignature: sig}}))
		rep := run(t, a.ref, keyVerifier(t, k))
		wantVerified(t, rep, "cosign tag", verify.ImageSimpleSigning)
		wantFailed(t, run(t, a.ref, keyVerifier(t, newKey(t))), "bad signature")
	})
	t.Run("signature of another artifact", func(t *testing.T) {
		l, a := build(t, files[0])
		other, err := ocitest.Build("modelpack", files...)
		check(t, err)
		raw, err := other.RawManifest()
		check(t, err)
		bun, err := verifytest.KeyMessageBundle(k, raw)
		check(t, err)
		_, err = ocitest.LayoutReferrer(l, a.desc, ocitest.SigstoreBundle, ocitest.SigstoreBundle, bun, nil)
		check(t, err)
		wantFailed(t, run(t, a.ref, keyVerifier(t, k)), "another manifest digest")
	})
	t.Run("OMS model.sig over a tar+zstd layer", func(t *testing.T) {
		dir := t.TempDir()
		l, err := ocitest.NewLayout(dir)
		check(t, err)
		sig := omsSign(t, k, manifest.Options{Method: manifest.MethodFiles, Hash: manifest.HashBLAKE3}, tarFiles...)
		img, err := ocitest.Image(types.OCIManifestSchema1, ocitest.ModelPackConfig, tarLayer(t, "tar+zstd", members(tarFiles...)...),
			ocitest.Layer{MediaType: ocitest.ModelPackRaw, Data: sig, Annotations: map[string]string{"org.cncf.model.filepath": "model.sig"}})
		check(t, err)
		check(t, ocitest.LayoutImage(l, img, "v1"))
		wantVerified(t, run(t, "oci-layout://"+dir+":v1", keyVerifier(t, k)), "artifact layer", "oms")
		wantFailed(t, run(t, "oci-layout://"+dir+":v1", keyVerifier(t, newKey(t))), "wrong key")
	})
}
