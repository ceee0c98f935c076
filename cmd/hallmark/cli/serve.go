package cli

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/hallmarkdev/hallmark/gate"
	"github.com/hallmarkdev/hallmark/internal/version"
	"github.com/hallmarkdev/hallmark/pickle"
	"github.com/hallmarkdev/hallmark/policy"
	"github.com/hallmarkdev/hallmark/scan"
	"github.com/hallmarkdev/hallmark/serve"
	"github.com/hallmarkdev/hallmark/serve/admission"
)

// serveOptions are the flags of `hallmark serve`.
type serveOptions struct {
	verifyOptions
	Listen        string
	TLSCert       string
	TLSKey        string
	InsecureHTTP  bool
	AdmissionPath string
	Policy        string
	Rules         string
	FailOn        string
	FailOpen      bool
	Deadline      time.Duration
	ScanTimeout   time.Duration
	Grace         time.Duration
	MaxScans      int
	CacheSize     int
	Harbor        bool
	HarborToken   string
	LogFormat     string
}

func (o *serveOptions) AddFlags(cmd *cobra.Command) {
	o.addTrustFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8443", "address to listen on (plain HTTP only on a loopback address, or with --insecure-http)")
	f.StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate (PEM); with --tls-key")
	f.StringVar(&o.TLSKey, "tls-key", "", "TLS private key (PEM)")
	f.BoolVar(&o.InsecureHTTP, "insecure-http", false, "serve plain HTTP on a non-loopback address (behind a TLS-terminating proxy only)")
	f.StringVar(&o.AdmissionPath, "admission-path", "/admission", "path of the Kubernetes validating webhook")
	f.StringVar(&o.Policy, "policy", "", "policy FILE (as for check): threshold, required signature, formats, suppressions, limits")
	f.StringVar(&o.Rules, "admission-config", "", "admission rules FILE (YAML): which fields name models (see serve/admission)")
	f.StringVar(&o.FailOn, "fail-on", "medium", "refuse a model with a finding at or above this severity (default: the policy's, else medium)")
	f.BoolVar(&o.FailOpen, "fail-open", false, "admit when no decision can be made (registry unreachable, deadline passed); default: deny")
	f.DurationVar(&o.Deadline, "deadline", 25*time.Second, "how long one admission request may wait for its verdict")
	f.DurationVar(&o.ScanTimeout, "scan-timeout", 30*time.Minute, "how long one scan may take")
	f.DurationVar(&o.Grace, "grace", 20*time.Second, "on SIGTERM, how long in-flight requests get to finish")
	f.IntVar(&o.MaxScans, "max-scans", 4, "scans that may run at once (one registry host gets all but one)")
	f.IntVar(&o.CacheSize, "cache-size", 1024, "verdicts kept (by manifest digest, policy and rules version)")
	f.BoolVar(&o.Harbor, "harbor", false, "serve Harbor's pluggable scanner adapter API under /api/v1 (needs --harbor-token-file)")
	f.StringVar(&o.HarborToken, "harbor-token-file", "", "FILE holding the bearer token Harbor must present (the scanner registration's \"Bearer\" credential)")
	f.BoolVar(&o.Insecure, "insecure", false, "allow plain HTTP and unverified TLS to registries that are not on a loopback address (dangerous)")
	f.StringVar(&o.LogFormat, "log-format", "text", "log format on stderr: text or json")
	cmd.MarkFlagFilename("policy", "yaml", "yml", "json")
	cmd.MarkFlagFilename("admission-config", "yaml", "yml", "json")
	cmd.MarkFlagFilename("tls-cert")
	cmd.MarkFlagFilename("tls-key")
	cmd.MarkFlagFilename("harbor-token-file")
}

func newServe() *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Run the admission hook: Kubernetes validating webhook and Harbor scanner adapter",
		Long: `Serve answers Kubernetes validating admission webhooks (AdmissionReview v1) at
--admission-path and Harbor's pluggable scanner adapter API (v1.1) under /api/v1,
with the same decision as 'hallmark check': every model an object names (Pod image
volumes, annotated containers, KServe storageUri oci://…, configured paths) is
resolved to its manifest digest and checked once; verdicts are cached by digest,
policy and rules version. GET /healthz, /readyz and /metrics (Prometheus).

Registry credentials come from the docker/podman config files (Harbor passes its
own with each scan). SIGTERM stops accepting, lets in-flight requests finish
(--grace) and cancels the scans still running.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := o.config(cmd)
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			var h slog.Handler = slog.NewTextHandler(stderr, nil)
			if o.LogFormat == "json" {
				h = slog.NewJSONHandler(stderr, nil)
			}
			cfg.Logger = slog.New(h)
			if o.Insecure {
				cfg.Logger.Warn("--insecure: registries may be reached over plain HTTP or TLS without certificate checks")
			}
			srv, err := serve.New(cfg)
			if err != nil {
				return usagef("%v", err)
			}
			if o.Harbor {
				if o.HarborToken == "" {
					return usagef("--harbor needs --harbor-token-file: the adapter API must not be open to anyone who can reach it")
				}
				tok, err := os.ReadFile(o.HarborToken)
				if err != nil {
					return usagef("--harbor-token-file: %v", err)
				}
				if err := srv.EnableHarbor(serve.HarborInfo(version.Get().Version), strings.TrimSpace(string(tok))); err != nil {
					return usagef("%v", err)
				}
			}
			ln, err := srv.Listen()
			if err != nil {
				return usagef("%v", err)
			}
			cfg.Logger.Info("serving", "addr", ln.Addr().String(), "admission", cfg.AdmissionPath, "harbor", o.Harbor, "fail_open", o.FailOpen, "policy", o.Policy)
			if err := srv.Serve(cmd.Context(), ln, o.Grace); err != nil {
				return &incompleteError{err}
			}
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

func (o *serveOptions) config(cmd *cobra.Command) (serve.Config, error) {
	var cfg serve.Config
	if o.LogFormat != "text" && o.LogFormat != "json" {
		return cfg, usagef("--log-format %q: want text or json", o.LogFormat)
	}
	if o.MaxScans < 1 || o.CacheSize < 1 {
		return cfg, usagef("--max-scans and --cache-size must be at least 1")
	}
	if o.Signature != "" || len(o.IgnorePaths) > 0 || o.IgnoreUnsigned {
		return cfg, usagef("--signature, --ignore-paths and --ignore-unsigned-files do not apply to serve: signatures are found in the registry")
	}
	failOn, err := scan.ParseSeverity(o.FailOn)
	if err != nil {
		return cfg, usagef("--fail-on: %v", err)
	}
	o.oci = true
	g := gate.Config{FailOn: failOn}
	var names []string
	if o.Policy != "" {
		if g.Policy, err = policy.Load(o.Policy); err != nil {
			return cfg, usagef("%v", err)
		}
		if g.Policy.FailOn != 0 && !cmd.Flags().Changed("fail-on") {
			g.FailOn = g.Policy.FailOn
		}
	}
	if o.methodGiven() {
		trust, vopts, err := o.trust()
		if err != nil {
			return cfg, err
		}
		g.Signers = []gate.Signer{{Name: "the command line's " + o.methodLabel(), Trust: trust, Opts: vopts}}
		g.Required = true
		names = append(names, o.methodLabel()+"="+o.Key+o.Identity+o.IdentityRegexp+o.Issuer+o.IssuerRegexp)
	} else if g.Policy != nil {
		for _, s := range g.Policy.Signature.AnyOf {
			sg, err := gate.SignerFromPolicy(s, true)
			if err != nil {
				return cfg, usagef("policy %s: %s: %v", o.Policy, s.Source, err)
			}
			g.Signers = append(g.Signers, sg)
		}
		g.Required = g.Policy.Signature.Required
	}
	cfg.Rules = admission.DefaultRules()
	if o.Rules != "" {
		data, err := os.ReadFile(o.Rules)
		if err != nil {
			return cfg, usagef("--admission-config: %v", err)
		}
		if err := yaml.UnmarshalStrict(data, &cfg.Rules); err != nil {
			return cfg, usagef("--admission-config %s: %v", o.Rules, err)
		}
		if err := cfg.Rules.Validate(); err != nil {
			return cfg, usagef("--admission-config %s: %v", o.Rules, err)
		}
	}
	cfg.Listen, cfg.TLSCert, cfg.TLSKey, cfg.AllowHTTP = o.Listen, o.TLSCert, o.TLSKey, o.InsecureHTTP
	cfg.AdmissionPath, cfg.FailOpen, cfg.Deadline, cfg.ScanTimeout = o.AdmissionPath, o.FailOpen, o.Deadline, o.ScanTimeout
	cfg.MaxScans, cfg.CacheSize = o.MaxScans, o.CacheSize
	cfg.Gate = g
	cfg.OCI.Insecure = o.Insecure
	cfg.PolicyID = serve.PolicyID(g.Policy, append(names, fmt.Sprintf("fail-on=%s required=%v", g.FailOn, g.Required)), pickle.RulesVersion)
	return cfg, nil
}

func (o *serveOptions) methodLabel() string {
	switch {
	case o.Key != "":
		return "--key " + o.Key
	case len(o.CertificateChain) > 0:
		return "--certificate-chain"
	}
	return "keyless identity"
}
