package audit

// Gate is what `hallmark check` decided on top of the scan: the policy's
// signature requirement, formats and limits, and why the gate failed.
type Gate struct {
	Verdict string `json:"verdict"` // "pass" or "fail"
	// Reasons says why the gate failed, one line each, most important first.
	Reasons []string `json:"reasons"`
	// Warnings are things that did not fail the gate but should be seen
	// (an unsigned model when no signature is required, a suppression about
	// to expire).
	Warnings  []string        `json:"warnings,omitempty"`
	Policy    string          `json:"policy,omitempty"`        // the policy file
	Digest    string          `json:"policy_digest,omitempty"` // sha256 of the policy and the files it names
	Signature *SignatureCheck `json:"signature,omitempty"`
}

// SignatureCheck is the outcome of the signature check.
type SignatureCheck struct {
	Required bool `json:"required"`
	Found    bool `json:"found"`
	Verified bool `json:"verified"`
	// What verified: the signature's format and where it is, the method,
	// the identity and issuer (keyless, certificate) or key fingerprint,
	// and the policy entry it matched.
	Format   string `json:"format,omitempty"` // "model-signing", or the OCI kind (cosign, sigstore bundle…)
	Ref      string `json:"ref,omitempty"`
	Method   string `json:"method,omitempty"`
	Identity string `json:"identity,omitempty"`
	Issuer   string `json:"issuer,omitempty"`
	Key      string `json:"key_fingerprint,omitempty"`
	Signer   string `json:"signer,omitempty"`
	// Bytes is what verification read beyond the scan (0 when the scan's
	// digests served, as for files/sha256 signatures and OCI layers).
	Bytes int64  `json:"bytes_read"`
	Error string `json:"error,omitempty"`
}
