package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmarkdev/hallmark/gate"
	"github.com/hallmarkdev/hallmark/verify"
	"github.com/hallmarkdev/hallmark/verify/manifest"
)

// verifyOptions are the flags of `hallmark verify` (and, later, check/serve).
type verifyOptions struct {
	Signature        string
	Key              string
	CertificateChain []string
	Identity         string
	IdentityRegexp   string
	Issuer           string
	IssuerRegexp     string
	TrustedRoot      string
	IgnorePaths      []string
	IgnoreUnsigned   bool
	Format           string
	Insecure         bool

	oci bool // the target is oci:// or oci-layout://: --key takes RSA keys too (cosign)
}

func (o *verifyOptions) AddFlags(cmd *cobra.Command) {
	o.addTrustFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Format, "format", "text", "output format: text or json")
	f.BoolVar(&o.Insecure, "insecure", false, "oci:// targets: allow plain HTTP and unverified TLS to registries that are not on a loopback address (dangerous)")
}

// addTrustFlags adds the flags that say which signature to check and how
// (shared by verify and check).
func (o *verifyOptions) addTrustFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Signature, "signature", "", "the OMS signature (default TARGET/model.sig for a directory; required for a single file)")
	f.StringVar(&o.Key, "key", "", "verify with this PEM public key (ECDSA P-256/384/521 or Ed25519)")
	f.StringSliceVar(&o.CertificateChain, "certificate-chain", nil, "verify a certificate-method signature against these PEM trust anchors (repeatable)")
	f.StringVar(&o.Identity, "identity", "", "keyless: the certificate identity (exact)")
	f.StringVar(&o.IdentityRegexp, "identity-regexp", "", "keyless: the certificate identity (regular expression, anchored)")
	f.StringVar(&o.Issuer, "issuer", "", "keyless: the OIDC issuer (exact)")
	f.StringVar(&o.IssuerRegexp, "issuer-regexp", "", "keyless: the OIDC issuer (regular expression, anchored)")
	f.StringVar(&o.TrustedRoot, "trusted-root", "", "keyless: Sigstore trusted_root.json (default: the public-good root embedded in hallmark, dated "+verify.DefaultTrustedRootDate+")")
	f.StringArrayVar(&o.IgnorePaths, "ignore-paths", nil, "leave this path out of the model (relative to the current directory or to the model; repeatable)")
	f.BoolVar(&o.IgnoreUnsigned, "ignore-unsigned-files", false, "hash only the files the signature names; extra files are not an error")
	for _, name := range []string{"signature", "key", "trusted-root", "certificate-chain"} {
		cmd.MarkFlagFilename(name)
	}
}

// methodGiven reports whether a verification method flag was given.
func (o *verifyOptions) methodGiven() bool {
	return o.Key != "" || len(o.CertificateChain) > 0 || o.Identity != "" || o.IdentityRegexp != "" || o.Issuer != "" || o.IssuerRegexp != "" || o.TrustedRoot != ""
}

// trust validates the method flags: exactly one method.
func (o *verifyOptions) trust() (verify.TrustPolicy, []verify.VerifierOption, error) {
	keyless := o.Identity != "" || o.IdentityRegexp != "" || o.Issuer != "" || o.IssuerRegexp != "" || o.TrustedRoot != ""
	n := 0
	for _, set := range []bool{o.Key != "", len(o.CertificateChain) > 0, keyless} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return nil, nil, usagef("say how to verify: --key, --certificate-chain, or --identity/--identity-regexp with --issuer/--issuer-regexp")
	case n > 1:
		return nil, nil, usagef("--key, --certificate-chain and the keyless flags (--identity, --issuer, --trusted-root) are different methods: give one")
	}
	switch {
	case o.Key != "":
		data, err := os.ReadFile(o.Key)
		if err != nil {
			return nil, nil, usagef("--key: %v", err)
		}
		if o.oci {
			return verify.WithCosignKey(data), nil, nil
		}
		return verify.WithPublicKey(data), nil, nil
	case len(o.CertificateChain) > 0:
		var pems [][]byte
		for _, p := range o.CertificateChain {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, nil, usagef("--certificate-chain: %v", err)
			}
			pems = append(pems, data)
		}
		return verify.WithCertificateChain(pems...), nil, nil
	}
	if (o.Identity == "") == (o.IdentityRegexp == "") {
		return nil, nil, usagef("keyless verification needs exactly one of --identity and --identity-regexp")
	}
	if (o.Issuer == "") == (o.IssuerRegexp == "") {
		return nil, nil, usagef("keyless verification needs exactly one of --issuer and --issuer-regexp")
	}
	var opts []verify.VerifierOption
	if o.TrustedRoot != "" {
		data, err := os.ReadFile(o.TrustedRoot)
		if err != nil {
			return nil, nil, usagef("--trusted-root: %v", err)
		}
		opts = append(opts, verify.WithTrustedRoot(data))
	}
	return verify.WithIdentity(verify.Identity{Subject: o.Identity, SubjectRegexp: o.IdentityRegexp, Issuer: o.Issuer, IssuerRegexp: o.IssuerRegexp}), opts, nil
}

// signaturePath applies the OMS convention: TARGET/model.sig for a folder.
func signaturePath(target, flag string) (string, bool, error) {
	st, err := os.Stat(target)
	if err != nil {
		return "", false, err
	}
	if flag != "" {
		return flag, st.IsDir(), nil
	}
	if !st.IsDir() {
		return "", false, usagef("%s is a single file: give its signature with --signature", target)
	}
	return filepath.Join(target, "model.sig"), true, nil
}

// modelIgnores turns --ignore-paths into model-relative paths: like
// model_signing, a path is first taken relative to the current directory
// (or absolute) and kept if it lies inside the model; otherwise it is read
// as model-relative.
func modelIgnores(model string, paths []string) []string {
	root, err := filepath.Abs(model)
	if err != nil {
		return paths
	}
	var out []string
	for _, p := range paths {
		if abs, err := filepath.Abs(p); err == nil {
			if rel, err := filepath.Rel(root, abs); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
				out = append(out, filepath.ToSlash(rel))
				continue
			}
		}
		out = append(out, filepath.ToSlash(filepath.Clean(p)))
	}
	return out
}

// insideModel gives sig's path relative to a model folder, or "".
func insideModel(model, sig string) string {
	root, err1 := filepath.Abs(model)
	abs, err2 := filepath.Abs(sig)
	if err1 != nil || err2 != nil {
		return ""
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return ""
	}
	return filepath.ToSlash(rel)
}

type verifyReport struct {
	Target     string         `json:"target"`
	Signature  string         `json:"signature"`
	Verified   bool           `json:"verified"`
	Method     string         `json:"method,omitempty"`
	Identity   string         `json:"identity,omitempty"`
	Issuer     string         `json:"issuer,omitempty"`
	Key        string         `json:"key_fingerprint,omitempty"`
	RootDigest string         `json:"root_digest,omitempty"`
	Files      int            `json:"resources,omitempty"`
	Hash       string         `json:"hash,omitempty"`
	Serialize  string         `json:"serialization,omitempty"`
	Diff       *manifest.Diff `json:"diff,omitempty"`
	Error      string         `json:"error,omitempty"`
}

func newVerify() *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify [flags] TARGET",
		Short: "Verify a signature over a model: OMS model.sig on disk, cosign/Sigstore in OCI",
		Long: `Verify checks the signature over a model (a folder, or one file) and that every
file on disk is the one that was signed: nothing changed, missing or added.
Methods: --key (public key), --certificate-chain (X.509 trust anchors), or keyless
Sigstore (--identity/--issuer, checked offline against an embedded trusted root).

For oci://REGISTRY/REPO[:TAG|@DIGEST] and oci-layout://DIR[:TAG|@DIGEST] the tag
is resolved once to the manifest digest and the signatures attached to that
digest are found in the registry: cosign v3 Sigstore bundles (referrers API and
the sha256-<hex> referrers tag), legacy cosign .sig signatures and .att
attestations, and an OMS model.sig shipped as a layer or referrer (compared with
the layer digests, without downloading the weights). The target is verified
when one of them verifies.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Format != "text" && o.Format != "json" {
				return usagef("--format %q: want text or json", o.Format)
			}
			target := args[0]
			o.oci = strings.HasPrefix(target, "oci://") || strings.HasPrefix(target, "oci-layout://")
			trust, vopts, err := o.trust()
			if err != nil {
				return err
			}
			if o.oci {
				return runVerifyOCI(cmd, target, trust, vopts, o)
			}
			if o.Insecure {
				return usagef("--insecure applies to oci:// targets only")
			}
			sigPath, dir, err := signaturePath(target, o.Signature)
			if err != nil {
				var ue *usageError
				if errors.As(err, &ue) {
					return err
				}
				return &incompleteError{err}
			}
			rep, err := runVerify(cmd, target, sigPath, dir, trust, vopts, o)
			if rep != nil {
				if werr := writeVerify(cmd.OutOrStdout(), o.Format, rep); werr != nil {
					return &incompleteError{werr}
				}
			}
			return err
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// runVerify returns the report and the error that decides the exit code:
// errPolicyFailed for a signature that does not verify.
func runVerify(cmd *cobra.Command, target, sigPath string, dir bool, trust verify.TrustPolicy, vopts []verify.VerifierOption, o *verifyOptions) (*verifyReport, error) {
	rep := &verifyReport{Target: target, Signature: sigPath}
	data, err := readCapped(sigPath, verify.MaxBundleSize)
	if err != nil {
		return nil, &incompleteError{fmt.Errorf("signature: %w", err)}
	}
	v, err := verify.NewVerifier(trust, vopts...)
	if err != nil {
		return nil, usagef("%v", err)
	}
	fail := func(err error) (*verifyReport, error) {
		rep.Error = err.Error()
		var ve *verify.Error
		if errors.As(err, &ve) && ve.Diff != nil {
			rep.Diff = ve.Diff
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "hallmark: %s: %v\n", target, err)
		return rep, errPolicyFailed
	}
	sig, err := verify.ParseBundle(data)
	if err != nil {
		return fail(err)
	}
	opts := sig.Options
	opts.IgnoreGitPaths = true
	opts.IgnorePaths = append(append([]string{}, opts.IgnorePaths...), modelIgnores(target, o.IgnorePaths)...)
	if dir {
		if rel := insideModel(target, sigPath); rel != "" {
			opts.IgnorePaths = append(opts.IgnorePaths, rel)
		}
	}
	var local *manifest.Manifest
	if o.IgnoreUnsigned {
		names := make([]string, len(sig.Resources))
		for i, r := range sig.Resources {
			names[i] = r.Name
		}
		local, err = manifest.ComputeNames(cmd.Context(), target, opts, names)
	} else {
		local, err = manifest.Compute(cmd.Context(), target, opts)
	}
	if err != nil {
		return nil, &incompleteError{fmt.Errorf("hashing %s: %w", target, err)}
	}
	res, err := v.Verify(sig, verify.WithResources(local.Resources))
	if err != nil {
		return fail(err)
	}
	rep.Verified = true
	rep.Method, rep.Identity, rep.Issuer, rep.Key = string(res.Method), res.Identity, res.Issuer, res.KeyFingerprint
	rep.RootDigest, rep.Files = res.RootDigest, len(res.Resources)
	rep.Hash, rep.Serialize = res.Options.Hash, res.Options.Method
	return rep, nil
}

func writeVerify(w io.Writer, format string, rep *verifyReport) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	if !rep.Verified {
		fmt.Fprintf(w, "%s: signature NOT verified: %s\n", rep.Target, rep.Error)
		if d := rep.Diff; d != nil {
			for _, p := range d.Missing {
				fmt.Fprintf(w, "  missing:  %s\n", p)
			}
			for _, p := range d.Extra {
				fmt.Fprintf(w, "  extra:    %s\n", p)
			}
			for _, p := range d.Mismatched {
				fmt.Fprintf(w, "  changed:  %s\n", p)
			}
		}
		return nil
	}
	who := rep.Key
	if rep.Identity != "" {
		who = rep.Identity + " (issuer " + rep.Issuer + ")"
	}
	fmt.Fprintf(w, "%s: signature verified (%s: %s); %d resources, %s/%s, root %s\n", rep.Target, rep.Method, who, rep.Files, rep.Serialize, rep.Hash, rep.RootDigest)
	return nil
}

// readCapped reads a regular file but never more than limit+1 bytes, so
// that an oversized signature is refused by its parser without being held
// whole, and a FIFO named like a signature never hangs the run.
func readCapped(path string, limit int64) ([]byte, error) {
	return gate.ReadSignatureFile(path, limit)
}
