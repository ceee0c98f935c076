package ocisig_test

import (
	"testing"

	"github.com/hallmarkdev/hallmark/source/oci"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
	"github.com/hallmarkdev/hallmark/verify"
	"github.com/hallmarkdev/hallmark/verify/verifytest"
)

// TestLegacyAttestationKeyless: a cosign v2 keyless attestation (.att tag:
// DSSE envelope, certificate and Rekor bundle annotations) from a fake
// Sigstore: valid, wrong identity, wrong issuer, and the attestation of
// another artifact.
func TestLegacyAttestationKeyless(t *testing.T) {
	vt, err := verifytest.NewVirtual()
	check(t, err)
	reg := ocitest.NewRegistry()
	defer reg.Close()
	a := push(t, reg, "models/a", files...)
	b := push(t, reg, "models/b", files[0])
	const slsa = "https://slsa.dev/provenance/v1"
	env, cert, rb, err := vt.LegacyAttestation(identity, issuer, verifytest.Statement("a", a.digest, slsa))
	check(t, err)
	layer := ocitest.Layer{MediaType: ocitest.DSSEEnvelope, Data: env,
		Annotations: map[string]string{"predicateType": slsa, oci.AnnCosignCertificate: string(cert), oci.AnnCosignBundle: string(rb)}}
	check(t, ocitest.PushLegacy(a.repo, a.digest, ".att", layer))
	// A's attestation under B's tag.
	check(t, ocitest.PushLegacy(b.repo, b.digest, ".att", layer))

	keyless := func(id verify.Identity) *verify.Verifier {
		v, err := verify.NewVerifier(verify.WithIdentity(id), verify.WithTrustedRoot(vt.RootJSON))
		check(t, err)
		return v
	}
	rep := run(t, a.ref, keyless(verify.Identity{Subject: identity, Issuer: issuer}))
	wantVerified(t, rep, "cosign tag", verify.ImageAttestation)
	if c := rep.Signatures[0]; c.Identity != identity || c.Issuer != issuer || c.PredicateType != slsa || c.Method != string(verify.MethodKeyless) {
		t.Errorf("%+v", c)
	}
	wantFailed(t, run(t, a.ref, keyless(verify.Identity{Subject: "mallory@example.com", Issuer: issuer})), "wrong signer identity")
	wantFailed(t, run(t, a.ref, keyless(verify.Identity{Subject: identity, Issuer: "https://other.example.com"})), "wrong identity issuer")
	wantFailed(t, run(t, b.ref, keyless(verify.Identity{Subject: identity, Issuer: issuer})), "another manifest digest")
	// The embedded public-good root does not trust the fake Fulcio.
	v, err := verify.NewVerifier(verify.WithIdentity(verify.Identity{Subject: identity, Issuer: issuer}))
	check(t, err)
	wantFailed(t, run(t, a.ref, v), "verification failed")
	// A Rekor bundle whose entry is not this envelope's.
	_, _, rb2, err := vt.LegacyAttestation(identity, issuer, verifytest.Statement("a", a.digest, "https://example.com/other"))
	check(t, err)
	c := push(t, reg, "models/c", files...)
	check(t, ocitest.PushLegacy(c.repo, c.digest, ".att", ocitest.Layer{MediaType: ocitest.DSSEEnvelope, Data: env,
		Annotations: map[string]string{oci.AnnCosignCertificate: string(cert), oci.AnnCosignBundle: string(rb2)}}))
	wantFailed(t, run(t, c.ref, keyless(verify.Identity{Subject: identity, Issuer: issuer})), "verification failed")
}
