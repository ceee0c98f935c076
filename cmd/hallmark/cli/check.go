package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/spf13/cobra"

	"github.com/hallmarkdev/hallmark/gate"
	"github.com/hallmarkdev/hallmark/policy"
	"github.com/hallmarkdev/hallmark/report"
	"github.com/hallmarkdev/hallmark/sbom"
	"github.com/hallmarkdev/hallmark/scan"
)

// checkOptions are the flags of `hallmark check`.
type checkOptions struct {
	verifyOptions
	Output      string
	BOM         string
	BOMFormat   string
	BOMSpec     string
	FailOn      string
	Policy      string
	Jobs        int
	Quiet       bool
	CheckFormat string
}

func (o *checkOptions) AddFlags(cmd *cobra.Command) {
	o.addTrustFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.CheckFormat, "format", "text", "output format: "+strings.Join(report.Formats(), ", "))
	f.StringVarP(&o.Output, "output", "o", "", "write the result to FILE instead of stdout")
	f.StringVar(&o.BOM, "bom", "", "also write the CycloneDX ML-BOM to FILE (from the same read)")
	f.StringVar(&o.BOMFormat, "bom-format", sbom.FormatJSON, "BOM format: "+strings.Join(sbom.Formats(), ", "))
	f.StringVar(&o.BOMSpec, "bom-spec-version", sbom.Spec16, "BOM CycloneDX spec version: 1.6 or 1.5")
	f.StringVar(&o.FailOn, "fail-on", "medium", "fail on a finding at or above: info, low, medium, high, critical, none (default: the policy's, else medium)")
	f.StringVar(&o.Policy, "policy", "", "policy FILE (YAML or JSON): threshold, required signature, formats, suppressions, size limits")
	f.IntVar(&o.Jobs, "jobs", 0, "files read at once (default: number of CPUs)")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "no progress on stderr (the summary line stays)")
	f.BoolVar(&o.Insecure, "insecure", false, "oci:// targets: allow plain HTTP and unverified TLS to registries that are not on a loopback address (dangerous)")
	cmd.MarkFlagFilename("output")
	cmd.MarkFlagFilename("bom")
	cmd.MarkFlagFilename("policy", "yaml", "yml", "json")
}

func newCheck() *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [flags] TARGET",
		Short: "The gate: scan, verify the signature and write the BOM in one read, one exit code",
		Long: `Check reads every byte of TARGET once (a folder, a file, an oci:// artifact or an
oci-layout:// layout) and decides whether it may be deployed:

  - no finding at or above the threshold (--fail-on, or the policy's fail-on);
  - a signature that verifies, when the policy requires one or a method is
    given on the command line (--key, --certificate-chain, --identity/--issuer);
    the OMS signature is checked against the SHA-256 the scan computed, so the
    signature covers exactly the bytes that were scanned;
  - only the formats the policy allows; no file or total size above its limits
    (checked before anything is read);
  - suppressions from the policy are honoured until they expire, and reported.

Exit 0: pass. 1: the gate failed (the last stderr line says why). 2: usage
error. 3: could not complete (a file, the registry or the signature could not
be read). --bom FILE writes the CycloneDX ML-BOM with the verdict and the
signature in it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runCheck(cmd, o, args[0]) },
	}
	o.AddFlags(cmd)
	return cmd
}

func runCheck(cmd *cobra.Command, o *checkOptions, target string) error {
	start := time.Now()
	stderr := cmd.ErrOrStderr()
	if !slices.Contains(report.Formats(), o.CheckFormat) {
		return usagef("--format %q: want one of %s", o.CheckFormat, strings.Join(report.Formats(), ", "))
	}
	if !slices.Contains(sbom.Formats(), o.BOMFormat) {
		return usagef("--bom-format %q: want one of %s", o.BOMFormat, strings.Join(sbom.Formats(), ", "))
	}
	if o.BOMSpec != sbom.Spec16 && o.BOMSpec != sbom.Spec15 {
		return usagef("--bom-spec-version %q: want 1.6 or 1.5", o.BOMSpec)
	}
	if o.Jobs < 0 {
		return usagef("--jobs must be 0 or more")
	}
	failOn, err := scan.ParseSeverity(o.FailOn)
	if err != nil {
		return usagef("--fail-on: %v", err)
	}
	ts, err := sourceDateEpoch() // the BOM's timestamp, for reproducible BOMs
	if err != nil {
		return err
	}
	isOCI := strings.HasPrefix(target, "oci://") || strings.HasPrefix(target, "oci-layout://")
	o.oci = isOCI
	if isOCI && (o.Signature != "" || len(o.IgnorePaths) > 0 || o.IgnoreUnsigned) {
		return usagef("--signature, --ignore-paths and --ignore-unsigned-files do not apply to %s: its signatures are found in the registry", target)
	}
	cfg := gate.Config{FailOn: failOn, Jobs: o.Jobs, SignaturePath: o.Signature, IgnoreUnsigned: o.IgnoreUnsigned}
	cfg.OCI.Insecure = o.Insecure

	// The policy, and who may sign.
	if o.Policy != "" {
		if cfg.Policy, err = policy.Load(o.Policy); err != nil {
			return usagef("%v", err)
		}
		if cfg.Policy.FailOn != 0 && !cmd.Flags().Changed("fail-on") {
			cfg.FailOn = cfg.Policy.FailOn
		}
	}
	if o.methodGiven() && cfg.Policy != nil && len(cfg.Policy.Signature.AnyOf) > 0 {
		// Silently trusting a second signer would weaken the policy.
		return usagef("the policy %s names its signers (signature.any-of): do not also give --key, --certificate-chain or --identity", o.Policy)
	}
	if o.methodGiven() {
		trust, vopts, err := o.trust()
		if err != nil {
			return err
		}
		cfg.Signers = []gate.Signer{{Name: "the command line's " + methodName(o), Trust: trust, Opts: vopts}}
		cfg.Required = true
	} else if cfg.Policy != nil {
		for _, s := range cfg.Policy.Signature.AnyOf {
			sg, err := gate.SignerFromPolicy(s, isOCI)
			if err != nil {
				return usagef("policy %s: %s: %v", o.Policy, s.Source, err)
			}
			cfg.Signers = append(cfg.Signers, sg)
		}
		cfg.Required = cfg.Policy.Signature.Required
	}
	if !isOCI {
		cfg.IgnorePaths = modelIgnores(target, o.IgnorePaths)
		sigPath := o.Signature
		if sigPath == "" {
			sigPath = filepath.Join(target, "model.sig")
		}
		if rel := insideModel(target, sigPath); rel != "" {
			cfg.IgnorePaths = append(cfg.IgnorePaths, rel)
		}
	}
	warnInsecure(stderr, o.Insecure)
	cfg.Progress, cfg.OCI.Progress = progress(stderr, o.Quiet)

	out, err := gate.Check(cmd.Context(), target, cfg)
	if err != nil {
		var ue *gate.UsageError
		if errors.As(err, &ue) {
			return usagef("%v", err)
		}
		return err
	}
	out.Result.Gate.Policy = o.Policy

	// Outputs: the BOM, then the result, then one line that says why.
	t := out.Result.Targets[0]
	if o.BOM != "" && t.Error == "" && t.Refused == "" {
		bom, err := sbom.Build(out.Result, sbom.Options{SpecVersion: o.BOMSpec, Signatures: out.Signatures, Timestamp: ts})
		if err == nil {
			err = writeBOMFile(o.BOM, bom, o.BOMFormat, o.BOMSpec)
		}
		if err != nil {
			out.Incomplete = append(out.Incomplete, "writing the BOM: "+err.Error())
		}
	}
	if err := writeReport(cmd, o.Output, o.CheckFormat, out.Result); err != nil {
		out.Incomplete = append(out.Incomplete, "writing the result: "+err.Error())
	}
	for _, e := range out.Incomplete {
		fmt.Fprintf(stderr, "hallmark: %s\n", e)
	}
	for _, w := range out.Gate.Warnings {
		fmt.Fprintf(stderr, "hallmark: warning: %s\n", w)
	}
	fmt.Fprintln(stderr, gate.SummaryLine(out, time.Since(start)))
	switch {
	case out.Failed():
		return errPolicyFailed
	case len(out.Incomplete) > 0:
		return errIncompleteReported
	}
	return nil
}

func methodName(o *checkOptions) string {
	switch {
	case o.Key != "":
		return "--key " + o.Key
	case len(o.CertificateChain) > 0:
		return "--certificate-chain"
	}
	return "keyless identity"
}

// writeBOMFile writes a BOM checked against the official schema.
func writeBOMFile(path string, bom *cdx.BOM, format, spec string) error {
	var buf bytes.Buffer
	if err := encodeValidBOM(&buf, bom, format, spec); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
