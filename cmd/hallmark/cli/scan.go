package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/policy"
	"github.com/hallmarkdev/hallmark/report"
	"github.com/hallmarkdev/hallmark/scan"
	"github.com/hallmarkdev/hallmark/source/oci"
)

// scanOptions are the flags of `hallmark scan`.
type scanOptions struct {
	Format   string
	Output   string
	FailOn   string
	Policy   string
	Jobs     int
	Quiet    bool
	NoHash   bool
	Insecure bool
}

func (o *scanOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.Format, "format", "text", "output format: "+strings.Join(report.Formats(), ", "))
	f.StringVarP(&o.Output, "output", "o", "", "write the report to FILE instead of stdout")
	f.StringVar(&o.FailOn, "fail-on", "medium", "fail (exit 1) on a finding at or above: info, low, medium, high, critical, none")
	f.StringVar(&o.Policy, "policy", "", "policy FILE (YAML or JSON): extra allowed/denied globals, severities, fail-on")
	f.IntVar(&o.Jobs, "jobs", 0, "files scanned at once (default: number of CPUs)")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "no progress on stderr")
	f.BoolVar(&o.NoHash, "no-hash", false, "skip SHA-256: read only what the scanners need (tensor data in archives is never read)")
	f.BoolVar(&o.Insecure, "insecure", false, "oci:// targets: allow plain HTTP and unverified TLS to registries that are not on a loopback address (dangerous)")
	cmd.MarkFlagFilename("output")
	cmd.MarkFlagFilename("policy", "yaml", "yml", "json")
}

// Config validates the flags and turns them into one library config.
func (o *scanOptions) Config(cmd *cobra.Command) (audit.Config, error) {
	var cfg audit.Config
	if !slices.Contains(report.Formats(), o.Format) {
		return cfg, usagef("--format %q: want one of %s", o.Format, strings.Join(report.Formats(), ", "))
	}
	failOn, err := scan.ParseSeverity(o.FailOn)
	if err != nil {
		return cfg, usagef("--fail-on: %v", err)
	}
	if o.Jobs < 0 {
		return cfg, usagef("--jobs must be 0 or more")
	}
	cfg.FailOn, cfg.Jobs, cfg.NoHash = failOn, o.Jobs, o.NoHash
	cfg.OCI.Insecure = o.Insecure
	if o.Policy != "" {
		p, err := policy.Load(o.Policy)
		if err != nil {
			return cfg, usagef("%v", err)
		}
		cfg.Policy, cfg.Overrides = p.Pickle, p.Overrides
		if p.FailOn != 0 && !cmd.Flags().Changed("fail-on") {
			cfg.FailOn = p.FailOn
		}
	}
	return cfg, nil
}

func newScan() *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "scan [flags] TARGET...",
		Short: "Statically scan model files and folders for malicious payloads",
		Long: `Scan reads every file of each TARGET (a file or a directory, recursively, an
oci://REGISTRY/REPO[:TAG|@DIGEST] artifact or an oci-layout://DIR[:TAG|@DIGEST]
image layout) and decides its format by content. Pickles (and everything that is a pickle inside)
are run through a symbolic machine that records every import and call without
evaluating anything.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := o.Config(cmd)
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			warnInsecure(stderr, o.Insecure)
			cfg.Progress, cfg.OCI.Progress = progress(stderr, o.Quiet)
			res, err := audit.Run(cmd.Context(), args, cfg)
			if err != nil {
				return err
			}
			if err := writeReport(cmd, o.Output, o.Format, res); err != nil {
				if res.Failed() {
					// A finding beats an error: say what failed, exit 1.
					fmt.Fprintf(stderr, "hallmark: writing the report: %v\n", err)
					return errPolicyFailed
				}
				return &incompleteError{fmt.Errorf("writing the report: %w", err)}
			}
			return outcome(stderr, res)
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// writeReport writes the result to --output or stdout.
func writeReport(cmd *cobra.Command, output, format string, res *audit.Result) error {
	w := cmd.OutOrStdout()
	if output != "" && output != "-" {
		f, err := os.Create(output)
		if err != nil {
			return err
		}
		if err := report.Write(f, format, res, report.Options{}); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	color := format == "text" && isTerminal(w) && os.Getenv("NO_COLOR") == ""
	return report.Write(w, format, res, report.Options{Color: color})
}

// outcome says on stderr what could not be read and picks the exit status.
func outcome(stderr io.Writer, res *audit.Result) error {
	for _, t := range res.Targets {
		if t.Error != "" {
			fmt.Fprintf(stderr, "hallmark: %s\n", t.Error)
		}
		for _, f := range t.Files {
			if f.Error != "" {
				fmt.Fprintf(stderr, "hallmark: %s\n", f.Error)
			}
		}
	}
	if res.Failed() {
		return errPolicyFailed
	}
	if res.Incomplete() {
		return &incompleteError{fmt.Errorf("%d target(s) or file(s) could not be read", res.Summary.Errors)}
	}
	return nil
}

// warnInsecure says loudly what --insecure gives up.
func warnInsecure(stderr io.Writer, insecure bool) {
	if insecure {
		fmt.Fprintln(stderr, "hallmark: WARNING: --insecure: registries may be reached over plain HTTP or TLS without certificate checks; anyone on the network path can change what tags resolve to. Blobs and signatures are still checked against their digests.")
	}
}

// progress returns the scan and pull callbacks that draw one line on
// stderr, or nils when stderr is not a terminal or --quiet was given.
func progress(stderr io.Writer, quiet bool) (func(done, total int, bytes int64), func(oci.Progress)) {
	if quiet || !isTerminal(stderr) {
		return nil, nil
	}
	pl := &progressLine{w: stderr}
	return pl.scanned, pl.pulled
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine draws one self-erasing line on a terminal: files scanned
// and, while blobs of at least pullProgressMin bytes download, how far
// each has come.
type progressLine struct {
	w     io.Writer
	mu    sync.Mutex
	scan  string
	pulls []oci.Progress
}

const pullProgressMin = 32 << 20

func (p *progressLine) scanned(done, total int, bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done == total {
		p.scan = ""
	} else {
		p.scan = fmt.Sprintf("scanning: %d/%d files, %d MiB", done, total, bytes>>20)
	}
	p.draw()
}

func (p *progressLine) pulled(pr oci.Progress) {
	if pr.Total < pullProgressMin {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.IndexFunc(p.pulls, func(x oci.Progress) bool { return x.Digest == pr.Digest })
	switch {
	case pr.Done >= pr.Total || pr.Err != nil:
		if i >= 0 {
			p.pulls = slices.Delete(p.pulls, i, i+1)
		}
	case i >= 0:
		p.pulls[i] = pr
	default:
		p.pulls = append(p.pulls, pr)
	}
	p.draw()
}

func (p *progressLine) draw() {
	parts := []string{}
	if p.scan != "" {
		parts = append(parts, p.scan)
	}
	for _, pr := range p.pulls {
		d := strings.TrimPrefix(pr.Digest, "sha256:")
		if len(d) > 12 {
			d = d[:12]
		}
		parts = append(parts, fmt.Sprintf("pulling %s: %d/%d MiB (%d%%)", d, pr.Done>>20, pr.Total>>20, pr.Done*100/pr.Total))
	}
	if len(parts) == 0 {
		fmt.Fprint(p.w, "\r\x1b[K")
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", strings.Join(parts, "; "))
}
