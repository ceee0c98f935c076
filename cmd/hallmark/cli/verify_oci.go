package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/hallmarkdev/hallmark/source"
	"github.com/hallmarkdev/hallmark/source/oci"
	"github.com/hallmarkdev/hallmark/verify"
	"github.com/hallmarkdev/hallmark/verify/ocisig"
)

// runVerifyOCI verifies the signatures attached to an oci:// or
// oci-layout:// target: exit 0 when one verifies, 1 when none is found or
// none verifies, 3 when the registry or layout cannot be read.
func runVerifyOCI(cmd *cobra.Command, target string, trust verify.TrustPolicy, vopts []verify.VerifierOption, o *verifyOptions) error {
	switch {
	case o.Signature != "":
		return usagef("--signature does not apply to %s: its signatures are found in the registry", target)
	case len(o.IgnorePaths) > 0 || o.IgnoreUnsigned:
		return usagef("--ignore-paths and --ignore-unsigned-files do not apply to OCI targets")
	}
	v, err := verify.NewVerifier(trust, vopts...)
	if err != nil {
		return usagef("%v", err)
	}
	stderr := cmd.ErrOrStderr()
	if o.Insecure {
		fmt.Fprintln(stderr, "hallmark: WARNING: --insecure: registries may be reached over plain HTTP or TLS without certificate checks; anyone on the network path can change what tags resolve to. Signatures are still checked.")
	}
	rep, err := ocisig.Verify(cmd.Context(), target, oci.Config{Insecure: o.Insecure}, v)
	if err != nil {
		var ue *source.UsageError
		if errors.As(err, &ue) {
			return err
		}
		return &incompleteError{err}
	}
	if err := writeVerifyOCI(cmd.OutOrStdout(), o.Format, rep); err != nil {
		return &incompleteError{err}
	}
	if !rep.Verified {
		fmt.Fprintf(stderr, "hallmark: %s: %s\n", target, rep.Error)
		return errPolicyFailed
	}
	return nil
}

func writeVerifyOCI(w io.Writer, format string, rep *ocisig.Report) error {
	if format == "json" {
		if rep.Signatures == nil {
			rep.Signatures = []ocisig.Checked{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	head := fmt.Sprintf("%s  registry %s", rep.Target, rep.Registry)
	if rep.Repository != "" {
		head += "  repository " + rep.Repository
	}
	fmt.Fprintf(w, "%s  digest %s  family %s\n", head, rep.Digest, rep.Family)
	for _, c := range rep.Signatures {
		state := "NOT verified"
		switch {
		case c.Verified:
			state = "verified"
		case c.Unsupported:
			state = "unsupported"
		}
		fmt.Fprintf(w, "  %-12s  %s (via %s): %s", state, c.Source, c.Via, c.Kind)
		if c.Verified {
			fmt.Fprintf(w, "; %s %s", c.Method, who(c))
			if c.Resources > 0 {
				fmt.Fprintf(w, "; %d layers match, root %s", c.Resources, c.RootDigest)
			}
		} else {
			fmt.Fprintf(w, ": %s", c.Error)
		}
		fmt.Fprintln(w)
		if d := c.Diff; d != nil {
			for _, p := range d.Missing {
				fmt.Fprintf(w, "      missing:  %s\n", p)
			}
			for _, p := range d.Extra {
				fmt.Fprintf(w, "      extra:    %s\n", p)
			}
			for _, p := range d.Mismatched {
				fmt.Fprintf(w, "      changed:  %s\n", p)
			}
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if !rep.Verified {
		fmt.Fprintf(w, "%s: signature NOT verified: %s\n", rep.Target, rep.Error)
		return nil
	}
	for _, c := range rep.Signatures {
		if c.Verified {
			fmt.Fprintf(w, "%s: signature verified (%s: %s) by %s\n", rep.Target, c.Method, who(c), c.Source)
			break
		}
	}
	return nil
}

func who(c ocisig.Checked) string {
	if c.Identity != "" {
		if c.Issuer != "" {
			return c.Identity + " (issuer " + c.Issuer + ")"
		}
		return c.Identity
	}
	return c.Key
}
