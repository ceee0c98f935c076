// Package gate decides whether a model may be deployed: one read of every
// byte (audit.Run) gives the findings, the SHA-256 digests the signature
// is checked against and the facts of the BOM; the policy adds the
// signature requirement, allowed formats, suppressions and size limits.
// `hallmark check` and `hallmark serve` both call Check.
package gate

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/policy"
	"github.com/hallmarkdev/hallmark/sbom"
	"github.com/hallmarkdev/hallmark/scan"
	"github.com/hallmarkdev/hallmark/source"
	"github.com/hallmarkdev/hallmark/source/oci"
	"github.com/hallmarkdev/hallmark/verify"
	"github.com/hallmarkdev/hallmark/verify/manifest"
	"github.com/hallmarkdev/hallmark/verify/ocisig"
)

// Signer is one way a signature may verify: a command line's method, or
// one entry of the policy's signature.any-of.
type Signer struct {
	Name  string // for messages: "signature.any-of[1] (key release.pub)"
	Trust verify.TrustPolicy
	Opts  []verify.VerifierOption
}

// Config is one gate decision's settings.
type Config struct {
	Policy   *policy.Policy // nil: no policy file
	FailOn   scan.Severity
	Signers  []Signer // tried in order; one that verifies is enough
	Required bool     // a signature must verify
	// Disk targets: the OMS signature file ("" : TARGET/model.sig for a
	// folder) and model-relative paths left out of the signed manifest
	// beyond the signature's own (--ignore-paths, the signature file).
	SignaturePath  string
	IgnorePaths    []string
	IgnoreUnsigned bool
	Jobs           int
	OCI            oci.Config
	Progress       func(done, total int, bytes int64)
	Now            time.Time // zero: time.Now()
}

// Outcome is what the gate decided and from what.
type Outcome struct {
	Result *audit.Result // Result.Gate is set; Result.Verdict is the gate's
	Gate   *audit.Gate
	// Signatures verified, for the BOM.
	Signatures []sbom.Signature
	// Incomplete lists what could not be read (exit 3 unless the gate
	// failed: a failure beats an error).
	Incomplete []string
}

// Failed reports whether the gate refused the model.
func (o *Outcome) Failed() bool { return o.Gate.Verdict == "fail" }

// SignerFromPolicy turns a policy entry into a Signer. OCI targets take
// RSA keys too, as cosign does.
func SignerFromPolicy(s policy.Signer, isOCI bool) (Signer, error) {
	sg := Signer{Name: s.Source + " (" + s.String() + ")"}
	switch s.Method() {
	case "key":
		if isOCI {
			sg.Trust = verify.WithCosignKey(s.Key)
		} else {
			sg.Trust = verify.WithPublicKey(s.Key)
		}
	case "certificate":
		sg.Trust = verify.WithCertificateChain(s.CertificateChain...)
	case "keyless":
		sg.Trust = verify.WithIdentity(verify.Identity{Subject: s.Identity, SubjectRegexp: s.IdentityRegexp, Issuer: s.Issuer, IssuerRegexp: s.IssuerRegexp})
		if len(s.TrustedRoot) > 0 {
			sg.Opts = append(sg.Opts, verify.WithTrustedRoot(s.TrustedRoot))
		}
	default:
		return sg, fmt.Errorf("unknown method %q", s.Method())
	}
	return sg, nil
}

// UsageError is a configuration mistake found while checking (a signer
// whose key cannot be used).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Check reads target once and decides. The error is for a run that could
// not start or was cancelled; what could not be read is in
// Outcome.Incomplete.
func Check(ctx context.Context, target string, cfg Config) (*Outcome, error) {
	pol := cfg.Policy
	if pol == nil {
		pol = &policy.Policy{}
	}
	now := cfg.Now
	if now.IsZero() {
		now = time.Now()
	}
	isOCI := strings.HasPrefix(target, "oci://") || strings.HasPrefix(target, "oci-layout://")
	acfg := audit.Config{FailOn: cfg.FailOn, Jobs: cfg.Jobs, Policy: pol.Pickle, Overrides: pol.Overrides, OCI: cfg.OCI, Progress: cfg.Progress}
	acfg.Admit = func(art *source.Artifact) string { return admit(pol.Limits, art) }
	var expired []policy.Suppression
	for _, s := range pol.Suppress {
		if s.Expired(now) {
			expired = append(expired, s)
		}
	}
	if len(pol.Suppress) > len(expired) {
		acfg.Suppress = func(f *scan.Finding, file *scan.FileResult) string {
			for _, s := range pol.Suppress {
				if !s.Expired(now) && s.MatchesFinding(f.Rule, file.Name, f.Global, file.SHA256) {
					return s.Reason
				}
			}
			return ""
		}
	}
	res, err := audit.Run(ctx, []string{target}, acfg)
	if err != nil {
		return nil, err
	}
	t := res.Targets[0]
	g := &audit.Gate{Reasons: []string{}, Digest: pol.Digest}
	out := &Outcome{Result: res, Gate: g}
	if t.Error != "" {
		out.Incomplete = append(out.Incomplete, t.Error)
	}
	for _, f := range t.Files {
		if f.Error != "" {
			out.Incomplete = append(out.Incomplete, f.Error)
		}
	}

	// Why the gate fails, most important first.
	if t.Refused != "" {
		g.Reasons = append(g.Reasons, "refused before reading: "+t.Refused)
	}
	if n, first := findingsAtOrAbove(res, res.FailOn); n > 0 {
		g.Reasons = append(g.Reasons, fmt.Sprintf("%d finding(s) at or above %s, first: %s", n, res.FailOn, first))
	}
	formatRules := len(pol.Formats.Allow) > 0 || len(pol.Formats.Deny) > 0
	for _, f := range t.Files {
		if isSkippedFormat(f.Format) {
			continue
		}
		if why := pol.Formats.Check(FileFormats(&f)); why != "" {
			g.Reasons = append(g.Reasons, f.Path+": "+why)
		} else if formatRules && f.Scanned && !f.Complete {
			// What was not read cannot be shown to be an allowed format.
			g.Reasons = append(g.Reasons, f.Path+": not read to the end (a limit was reached), so its formats cannot be checked against the policy's formats")
		}
	}
	for _, s := range expired {
		g.Reasons = append(g.Reasons, fmt.Sprintf("suppression %s (%s) expired on %s: renew or remove it; its findings count again", s.Source, s.Rule, s.Expires.Format("2006-01-02")))
	}
	for _, s := range pol.Suppress {
		if !s.Expired(now) && !s.Expires.IsZero() && s.Expires.Sub(now) < 14*24*time.Hour {
			g.Warnings = append(g.Warnings, fmt.Sprintf("suppression %s (%s) expires on %s", s.Source, s.Rule, s.Expires.Format("2006-01-02")))
		}
	}

	// The signature, over what the scan read.
	if t.Error == "" && t.Refused == "" && (cfg.Required || len(cfg.Signers) > 0 || !isOCI) {
		sc, sig, err := checkSignature(ctx, cfg, t, target)
		if err != nil {
			var ue *UsageError
			if errors.As(err, &ue) {
				return nil, err
			}
			out.Incomplete = append(out.Incomplete, "signature: "+err.Error())
		}
		if sc != nil {
			g.Signature = sc
			switch {
			case sc.Verified:
				out.Signatures = append(out.Signatures, sig)
			case sc.Found && len(cfg.Signers) > 0:
				g.Reasons = append(g.Reasons, "signature does not verify: "+sc.Error)
			case sc.Found:
				g.Warnings = append(g.Warnings, "a signature is present but no key or identity is configured to check it (policy signature.any-of, or --key/--identity)")
			case cfg.Required:
				g.Reasons = append(g.Reasons, "unsigned: "+sc.Error)
			}
		}
	}
	g.Verdict = "pass"
	if len(g.Reasons) > 0 {
		g.Verdict = "fail"
	}
	res.Gate = g
	switch {
	case g.Verdict == "fail":
		res.Verdict = "fail"
	case len(out.Incomplete) == 0:
		res.Verdict = "pass"
	default:
		res.Verdict = "error"
	}
	return out, nil
}

// admit applies the policy's size limits to the file list, before any
// byte is read.
func admit(l policy.SizeLimits, art *source.Artifact) string {
	if l.MaxFiles > 0 && len(art.Files) > l.MaxFiles {
		return fmt.Sprintf("%d files, more than the policy's limits.max-files %d", len(art.Files), l.MaxFiles)
	}
	var total int64
	for _, f := range art.Files {
		if l.MaxFileSize > 0 && f.Size > l.MaxFileSize {
			return fmt.Sprintf("%s is %s, more than the policy's limits.max-file-size %s", f.Path, HumanSize(f.Size), HumanSize(l.MaxFileSize))
		}
		total += f.Size
	}
	if l.MaxTotalSize > 0 && total > l.MaxTotalSize {
		return fmt.Sprintf("the model is %s, more than the policy's limits.max-total-size %s", HumanSize(total), HumanSize(l.MaxTotalSize))
	}
	return ""
}

// HumanSize formats a byte count in binary units.
func HumanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// findingsAtOrAbove counts the unsuppressed findings at or above the
// threshold and describes the worst.
func findingsAtOrAbove(res *audit.Result, failOn scan.Severity) (int, string) {
	n := 0
	var worst *scan.Finding
	for _, t := range res.Targets {
		for i := range t.Files {
			for j := range t.Files[i].Findings {
				fd := &t.Files[i].Findings[j]
				if fd.Suppressed != "" || fd.Severity < failOn {
					continue
				}
				n++
				if worst == nil || fd.Severity > worst.Severity {
					worst = fd
				}
			}
		}
	}
	if worst == nil {
		return 0, ""
	}
	msg := worst.Message
	if len(msg) > 160 {
		msg = msg[:160] + "…"
	}
	return n, fmt.Sprintf("%s %s in %s: %s", worst.Severity, worst.Rule, worst.Path, msg)
}

// FileFormats names what a file is, as the policy's formats section does:
// its own format, the formats inside it, and the pickle-based formats its
// content amounts to (a pickle anywhere is "pickle" and "pickle-based"; a
// joblib, PyTorch or Keras file is named so whatever wraps it).
func FileFormats(f *scan.FileResult) []string {
	out := []string{f.Format}
	pickled := f.Format == scan.FormatPickle
	if x := f.Facts; x != nil {
		out = append(out, x.Format)
		out = append(out, x.WeightFormats...)
		out = append(out, x.Contains...)
		if x.PickleStreams > 0 || x.Format == scan.FormatPickle || len(x.Globals) > 0 || slices.Contains(x.Contains, scan.FormatPickle) {
			pickled = true
		}
		switch {
		case strings.HasPrefix(x.Framework, "joblib"):
			out = append(out, "joblib")
		case x.Framework == "keras":
			out = append(out, "keras")
		case strings.HasPrefix(x.Framework, "pytorch") && x.Format != scan.FormatSafetensors:
			// A safetensors file written from PyTorch is not a checkpoint.
			out = append(out, "pytorch")
		}
		for _, g := range x.Globals {
			if strings.HasPrefix(g, "joblib.") {
				out = append(out, "joblib")
				break
			}
		}
	}
	if pickled {
		out = append(out, scan.FormatPickle, "pickle-based")
	}
	if f.Facts != nil && f.Facts.Executable != "" {
		out = append(out, "executable") // native code is never a document
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func isSkippedFormat(format string) bool {
	switch format {
	case "link", "special", "unreadable", "unsafe-path", "foreign-layer", "unsupported":
		return true
	}
	return false
}

// checkSignature verifies the target's signature with each signer in
// turn. The error is for what could not be read; a signature that does
// not verify is in the result.
func checkSignature(ctx context.Context, cfg Config, t *audit.TargetResult, target string) (*audit.SignatureCheck, sbom.Signature, error) {
	sc := &audit.SignatureCheck{Required: cfg.Required}
	if t.Digest != "" {
		return checkOCISignature(ctx, cfg, t, sc)
	}
	st, err := os.Stat(target)
	if err != nil {
		return nil, sbom.Signature{}, err
	}
	sigPath := cfg.SignaturePath
	if sigPath == "" {
		if !st.IsDir() {
			sc.Error = "a single file's signature must be given with --signature"
			return sc, sbom.Signature{}, nil
		}
		sigPath = filepath.Join(target, "model.sig")
	}
	data, err := readCapped(sigPath, verify.MaxBundleSize)
	if errors.Is(err, os.ErrNotExist) {
		sc.Error = "no signature at " + sigPath
		return sc, sbom.Signature{}, nil
	}
	if err != nil {
		return nil, sbom.Signature{}, err
	}
	sc.Found, sc.Format, sc.Ref = true, "model-signing", sigPath
	if len(cfg.Signers) == 0 {
		return sc, sbom.Signature{}, nil
	}
	sig, err := verify.ParseBundle(data)
	if err != nil {
		sc.Error = sigPath + ": " + err.Error()
		return sc, sbom.Signature{}, nil
	}
	// The manifest of what is on disk, from the digests the scan computed:
	// each byte read once, and the signature judged over the scanned bytes.
	opts := sig.Options
	opts.IgnoreGitPaths = true
	opts.IgnorePaths = append(append([]string{}, opts.IgnorePaths...), cfg.IgnorePaths...)
	known := map[string]*scan.FileResult{}
	for i := range t.Files {
		if f := &t.Files[i]; f.SHA256 != "" && f.Error == "" {
			known[f.Name] = f
		}
	}
	var mu sync.Mutex
	served := map[string]bool{}
	lookup := func(name string, size int64) ([]byte, bool) {
		f, ok := known[name]
		if !ok || f.Size != size {
			return nil, false
		}
		b, err := hex.DecodeString(f.SHA256)
		if err == nil {
			mu.Lock()
			served[name] = true
			mu.Unlock()
		}
		return b, err == nil
	}
	var names []string
	if cfg.IgnoreUnsigned {
		names = make([]string, len(sig.Resources))
		for i, r := range sig.Resources {
			names[i] = r.Name
		}
	}
	local, err := manifest.ComputeKnown(ctx, target, opts, names, lookup)
	if errors.Is(err, manifest.ErrNotScanned) {
		sc.Found, sc.Error = true, "a signed file is not the bytes the scan read: "+err.Error()
		return sc, sbom.Signature{}, nil
	}
	if err != nil {
		return nil, sbom.Signature{}, fmt.Errorf("hashing %s: %w", target, err)
	}
	sc.Bytes = local.Bytes
	if opts.Method != manifest.MethodShards {
		// Every signed file must be one the scan read: a file that appeared
		// or changed after the scan read the folder would be verified but
		// never scanned.
		var unscanned []string
		for _, r := range local.Resources {
			if !served[r.Name] {
				unscanned = append(unscanned, r.Name)
			}
		}
		if len(unscanned) > 0 {
			sc.Found = true
			sc.Error = fmt.Sprintf("%d file(s) the signature covers were not the bytes the scan read (they appeared or changed during the check): %s", len(unscanned), oneLineJoin(unscanned))
			return sc, sbom.Signature{}, nil
		}
	}
	var why []string
	for _, s := range cfg.Signers {
		v, err := verify.NewVerifier(s.Trust, s.Opts...)
		if err != nil {
			return nil, sbom.Signature{}, &UsageError{fmt.Errorf("%s: %w", s.Name, err)}
		}
		r, err := v.Verify(sig, verify.WithResources(local.Resources))
		if err != nil {
			why = append(why, fmt.Sprintf("%s: %v", s.Name, err))
			continue
		}
		sc.Verified, sc.Error = true, ""
		sc.Method, sc.Identity, sc.Issuer, sc.Key, sc.Signer = string(r.Method), r.Identity, r.Issuer, r.KeyFingerprint, s.Name
		return sc, sbom.Signature{Verified: true, Format: "model-signing", Method: sc.Method, Identity: sc.Identity, Issuer: sc.Issuer, Key: sc.Key,
			Ref: fileURL(sigPath), Attestation: true}, nil
	}
	sc.Error = oneLineJoin(why)
	return sc, sbom.Signature{}, nil
}

// checkOCISignature verifies the signatures attached to the digest the
// scan pinned (never the tag again: it may have moved since).
func checkOCISignature(ctx context.Context, cfg Config, t *audit.TargetResult, sc *audit.SignatureCheck) (*audit.SignatureCheck, sbom.Signature, error) {
	layout := strings.HasPrefix(t.Target, "oci-layout://")
	pinned := "oci://" + t.Registry + "/" + t.Repository + "@" + t.Digest
	if layout {
		pinned = "oci-layout://" + t.Registry + "@" + t.Digest
	}
	if len(cfg.Signers) == 0 {
		sc.Error = "no key or identity to verify " + pinned + " with"
		return sc, sbom.Signature{}, nil
	}
	var why []string
	for _, s := range cfg.Signers {
		v, err := verify.NewVerifier(s.Trust, s.Opts...)
		if err != nil {
			return nil, sbom.Signature{}, &UsageError{fmt.Errorf("%s: %w", s.Name, err)}
		}
		rep, err := ocisig.Verify(ctx, pinned, cfg.OCI, v)
		if err != nil {
			return nil, sbom.Signature{}, err
		}
		if len(rep.Signatures) > 0 {
			sc.Found = true
		}
		for _, c := range rep.Signatures {
			if !c.Verified {
				continue
			}
			sc.Verified, sc.Error = true, ""
			sc.Format, sc.Ref = c.Kind, c.Source+" via "+c.Via
			sc.Method, sc.Identity, sc.Issuer, sc.Key, sc.Signer = c.Method, c.Identity, c.Issuer, c.Key, s.Name
			ref := ""
			if !layout && strings.HasPrefix(c.Manifest, "sha256:") {
				ref = "oci://" + t.Registry + "/" + t.Repository + "@" + c.Manifest
			}
			return sc, sbom.Signature{Verified: true, Format: c.Kind, Method: c.Method, Identity: c.Identity, Issuer: c.Issuer, Key: c.Key,
				Ref: ref, Attestation: c.PredicateType != "" || c.Kind == "oms"}, nil
		}
		why = append(why, fmt.Sprintf("%s: %s", s.Name, rep.Error))
	}
	sc.Error = oneLineJoin(why)
	if !sc.Found {
		sc.Error = "no signature found for " + t.Digest + " (referrers API, referrers tag, cosign .sig/.att tags, model.sig layer)"
	}
	return sc, sbom.Signature{}, nil
}

func oneLineJoin(why []string) string {
	s := strings.Join(why, "; ")
	s = strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

func fileURL(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return ""
	}
	return "file://" + filepath.ToSlash(abs)
}

// readCapped reads at most limit+1 bytes of a regular file, so an
// oversized signature is refused by its parser without being held whole.
func readCapped(path string, limit int64) ([]byte, error) {
	return ReadSignatureFile(path, limit)
}

// ReadSignatureFile reads at most limit+1 bytes of path, which must be a
// regular file: it is opened without blocking, so a FIFO or device named
// like a signature is refused instead of hanging the run.
func ReadSignatureFile(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	return io.ReadAll(io.LimitReader(f, limit+1))
}

// SummaryLine is the one line that ends a check on stderr: the verdict,
// what was read, and why the gate failed.
func SummaryLine(o *Outcome, d time.Duration) string {
	res, g := o.Result, o.Gate
	s := res.Summary
	what := fmt.Sprintf("%d files, %s, %.1f s", s.Files, HumanSize(s.Bytes), d.Seconds())
	switch {
	case g.Verdict == "fail":
		more := ""
		if len(g.Reasons) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(g.Reasons)-1)
		}
		return fmt.Sprintf("hallmark: FAIL: %s%s [%s]", g.Reasons[0], more, what)
	case len(o.Incomplete) > 0:
		return fmt.Sprintf("hallmark: INCOMPLETE: %s [%s]", o.Incomplete[0], what)
	}
	signed := "unsigned"
	if sc := g.Signature; sc != nil && sc.Verified {
		who := sc.Key
		if sc.Identity != "" {
			who = sc.Identity
		}
		signed = "signed (" + sc.Method + " " + who + ")"
	}
	return fmt.Sprintf("hallmark: PASS: %s; %s; no finding at or above %s", what, signed, res.FailOn)
}
