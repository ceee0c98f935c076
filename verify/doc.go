// Package verify parses, verifies and makes OpenSSF model-signing (OMS)
// signatures: the model.sig Sigstore bundle (v0.3 JSON) whose DSSE envelope
// carries an in-toto statement with the OMS predicate.
//
// Three methods, one API:
//
//	v, err := verify.NewVerifier(verify.WithPublicKey(pem))                 // --key
//	v, err := verify.NewVerifier(verify.WithCertificateChain(anchors...))   // --certificate-chain
//	v, err := verify.NewVerifier(verify.WithIdentity(verify.Identity{...}), // keyless
//		verify.WithTrustedRoot(json))                                   // optional; default: embedded public-good root
//	sig, err := verify.ParseBundle(modelSig)
//	// compute the local manifest with sig.Options (package manifest), then:
//	res, err := v.Verify(sig, verify.WithResources(local))
//
// The trust policy (NewVerifier's first argument) and the artifact policy
// (Verify's second) cannot be left out; skipping the comparison with the
// model takes an explicit WithoutArtifactUnsafe.
//
// The key and certificate methods follow model_signing (Python) exactly,
// including its v0.2 PAE compatibility; keyless verification is
// sigstore-go v1.3.0 with a transparency-log entry and a timestamp
// required, offline against a trusted root. Every verification failure
// wraps ErrVerification and names one cause (see Error).
package verify
