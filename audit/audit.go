// Package audit is the library facade every command calls: it opens
// targets, scans every file once with bounded parallelism and gathers one
// Result.
package audit

import (
	"context"
	"errors"
	"fmt"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hallmarkdev/hallmark/internal/limits"
	"github.com/hallmarkdev/hallmark/internal/version"
	"github.com/hallmarkdev/hallmark/pickle"
	"github.com/hallmarkdev/hallmark/scan"
	"github.com/hallmarkdev/hallmark/source"
	"github.com/hallmarkdev/hallmark/source/disk"
	"github.com/hallmarkdev/hallmark/source/oci"
)

// Rule ids of what a source reports about an artifact's layout (documented
// in report/rules.go).
const (
	RuleOCIUnsafePath   = "oci/unsafe-path"   // a manifest path that is not a safe relative path, or names a file twice
	RuleOCIForeignLayer = "oci/foreign-layer" // a layer with urls: fetched from elsewhere by clients, never by hallmark
)

// Config is one run's settings.
type Config struct {
	FailOn    scan.Severity // findings at or above it fail the run
	Policy    *pickle.Policy
	Overrides map[string]scan.Severity
	Limits    limits.Limits
	Jobs      int  // files scanned at once; 0: GOMAXPROCS
	NoHash    bool // skip SHA-256 of each file
	OCI       oci.Config
	// Progress, if set, is called after each file.
	Progress func(done, total int, bytes int64)
	// Admit, if set, sees each artifact's file list before any file is
	// read; a non-empty answer refuses the target (a policy size limit):
	// nothing of it is read and the run fails.
	Admit func(art *source.Artifact) string
	// Suppress, if set, is asked about every finding of every file; a
	// non-empty reason marks it suppressed.
	Suppress func(f *scan.Finding, file *scan.FileResult) string
}

// Result is everything one run found.
type Result struct {
	Tool         version.Info    `json:"tool"`
	RulesVersion string          `json:"rules_version"`
	FailOn       scan.Severity   `json:"fail_on"`
	Verdict      string          `json:"verdict"`
	Targets      []*TargetResult `json:"targets"`
	Summary      Summary         `json:"summary"`
	Started      time.Time       `json:"started"`
	Duration     time.Duration   `json:"-"`
	// Gate is set by `hallmark check`: the policy decision on top of the scan.
	Gate *Gate `json:"gate,omitempty"`
}

// TargetResult is one TARGET's files.
type TargetResult struct {
	Target string `json:"target"`
	Kind   string `json:"kind"`
	// OCI targets: where the artifact came from, the manifest digest every
	// read was pinned to and the packaging family.
	Registry   string `json:"registry,omitempty"`
	Repository string `json:"repository,omitempty"`
	Digest     string `json:"digest,omitempty"`
	Family     string `json:"family,omitempty"`
	Tag        string `json:"tag,omitempty"` // OCI targets: the tag the reference named
	Root       string `json:"-"`             // disk targets: the absolute path
	// Models is what the packaging says about the model (OCI configs and
	// annotations), for the BOM.
	Models []source.Model    `json:"-"`
	Files  []scan.FileResult `json:"files"`
	Error  string            `json:"error,omitempty"`
	// Refused says why the policy refused the target before reading it.
	Refused string `json:"refused,omitempty"`
}

// Summary counts what the run saw.
type Summary struct {
	Files       int            `json:"files"`
	Scanned     int            `json:"scanned"`
	NotScanned  int            `json:"not_scanned"`
	Incomplete  int            `json:"incomplete"`
	Errors      int            `json:"errors"`
	Bytes       int64          `json:"bytes"`
	Findings    map[string]int `json:"findings"`
	MaxSeverity string         `json:"max_severity,omitempty"`
	Suppressed  int            `json:"suppressed,omitempty"` // findings a policy suppressed (not in Findings)
	Seconds     float64        `json:"seconds"`
}

// Failed reports whether a finding reached the threshold or the policy
// refused a target.
func (r *Result) Failed() bool {
	for _, t := range r.Targets {
		if t.Refused != "" {
			return true
		}
	}
	return r.max() >= r.FailOn
}

// Incomplete reports whether some target or file could not be read.
func (r *Result) Incomplete() bool { return r.Summary.Errors > 0 }

func (r *Result) max() scan.Severity {
	var m scan.Severity
	for _, t := range r.Targets {
		for i := range t.Files {
			if s := t.Files[i].Max(); s > m {
				m = s
			}
		}
	}
	return m
}

// Findings returns every finding of the run in report order.
func (r *Result) Findings() []scan.Finding {
	var out []scan.Finding
	for _, t := range r.Targets {
		for _, f := range t.Files {
			out = append(out, f.Findings...)
		}
	}
	return out
}

// Run scans every target. Errors opening one target are recorded in the
// result and the others go on; the error returned is for the run itself
// (a cancelled context).
func Run(ctx context.Context, targets []string, cfg Config) (*Result, error) {
	if cfg.Limits.SniffBytes == 0 {
		cfg.Limits = limits.Default()
	}
	if cfg.FailOn == 0 {
		cfg.FailOn = scan.Medium
	}
	jobs := cfg.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	res := &Result{Tool: version.Get(), RulesVersion: pickle.RulesVersion, FailOn: cfg.FailOn, Started: time.Now().UTC()}
	eng := scan.New(scan.Config{Policy: cfg.Policy, Limits: cfg.Limits, Overrides: cfg.Overrides, NoHash: cfg.NoHash})

	type job struct {
		t    *TargetResult
		i    int
		f    source.File
		disp string
	}
	var work []job
	total := 0
	for _, target := range targets {
		tr := &TargetResult{Target: target}
		res.Targets = append(res.Targets, tr)
		art, err := source.Open(ctx, target, func(ctx context.Context, t string) (*source.Artifact, error) {
			return disk.Open(ctx, t, cfg.Limits.MaxFiles)
		}, func(ctx context.Context, t string) (*source.Artifact, error) {
			oc := cfg.OCI
			if oc.MaxFiles == 0 {
				oc.MaxFiles = cfg.Limits.MaxFiles
			}
			// The engine hashes every file to its end, so it sees a blob's
			// digest verdict: scan blobs while they download.
			oc.Stream = !cfg.NoHash
			return oci.Open(ctx, t, oc)
		})
		if err != nil {
			var ue *source.UsageError
			if errors.As(err, &ue) {
				return nil, err
			}
			tr.Error = err.Error()
			continue
		}
		tr.Kind = art.Kind
		tr.Registry, tr.Repository, tr.Digest, tr.Family = art.Registry, art.Repository, art.Digest, art.Family
		tr.Tag, tr.Models, tr.Root = art.Tag, art.Models, art.Root
		if cfg.Admit != nil {
			if why := cfg.Admit(art); why != "" {
				tr.Refused = why
				tr.Files = []scan.FileResult{}
				continue
			}
		}
		tr.Files = make([]scan.FileResult, len(art.Files), len(art.Files)+len(art.Skipped))
		for i, f := range art.Files {
			work = append(work, job{t: tr, i: i, f: f, disp: display(art, f.Path)})
		}
		total += len(art.Files)
		for _, sk := range art.Skipped {
			fr := scan.FileResult{Path: display(art, sk.Path), Name: sk.Path, Format: sk.Kind, Findings: []scan.Finding{}}
			f := scan.Finding{Rule: scan.RuleSkipped, Severity: scan.Info, Path: fr.Path, Offset: -1, Message: sk.Reason, Count: 1}
			switch {
			case sk.Kind == "unreadable":
				fr.Error = fr.Path + ": " + sk.Reason // could not complete, not a finding
			case sk.Kind == "unsafe-path":
				f.Rule, f.Severity = RuleOCIUnsafePath, scan.Medium
				fr.Findings = append(fr.Findings, f)
			case sk.Kind == "foreign-layer":
				f.Rule, f.Severity = RuleOCIForeignLayer, scan.High
				fr.Findings = append(fr.Findings, f)
			case sk.Escapes:
				f.Rule, f.Severity = scan.RuleLinkEscapes, scan.Medium
				f.Message += "; scan the link's target itself if it belongs to the model"
				fr.Findings = append(fr.Findings, f)
			default:
				fr.Findings = append(fr.Findings, f)
			}
			scan.Finish(&fr, cfg.Overrides)
			tr.Files = append(tr.Files, fr)
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	done := make(chan int64, len(work))
	for _, w := range work {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			w.t.Files[w.i] = scanFile(gctx, eng, w.f, w.disp, cfg.Overrides)
			done <- w.f.Size
			return nil
		})
	}
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		n, b := 0, int64(0)
		for sz := range done {
			n++
			b += sz
			if cfg.Progress != nil {
				cfg.Progress(n, total, b)
			}
		}
	}()
	err := g.Wait()
	close(done)
	<-progressDone
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, t := range res.Targets {
		scan.Relate(t.Files, cfg.Overrides)
		if cfg.Suppress != nil {
			suppress(t.Files, cfg.Suppress, cfg.Overrides)
		}
	}
	res.Duration = time.Since(res.Started)
	res.summarize()
	return res, nil
}

// suppress marks the findings a policy suppresses and recomputes the
// verdicts without them.
func suppress(files []scan.FileResult, why func(f *scan.Finding, file *scan.FileResult) string, overrides map[string]scan.Severity) {
	for i := range files {
		fr := &files[i]
		changed := false
		for j := range fr.Findings {
			if r := why(&fr.Findings[j], fr); r != "" {
				fr.Findings[j].Suppressed = r
				changed = true
			}
		}
		if changed {
			scan.Finish(fr, overrides)
		}
	}
}

// scanFile scans one file. An OCI blob may be scanned while it downloads
// (oci.Config.Stream); if it then turns out not to match its digest, what
// the scanners said about those bytes is dropped: the file is an error
// (exit 3), not findings about content that is not the artifact's.
func scanFile(ctx context.Context, eng *scan.Engine, f source.File, disp string, overrides map[string]scan.Severity) (fr scan.FileResult) {
	defer func() {
		// A parser bug costs this file (an error: the run is incomplete and
		// no gate passes it), never the process.
		if r := recover(); r != nil {
			fr = scan.FileResult{Path: disp, Name: f.Path, Size: f.Size, Format: scan.FormatUnknown, Findings: []scan.Finding{},
				Error: fmt.Sprintf("%s: internal error while scanning (please report it): %v", disp, r)}
			scan.Finish(&fr, overrides)
		}
	}()
	var bad atomic.Bool
	open := f.Open
	f.Open = func() (source.Reader, error) {
		r, err := open()
		if err != nil {
			return nil, err
		}
		return &digestWatch{Reader: r, bad: &bad}, nil
	}
	fr = eng.File(ctx, f, disp)
	if bad.Load() {
		// Findings on bytes that failed their digest are not about the
		// artifact: the file is an error. (A zero-size layer's drain never
		// reads, so the scanner may have met the mismatch alone.)
		msg := fr.Error
		if msg == "" {
			msg = fr.Path + ": its bytes do not match their digest"
		}
		fr = scan.FileResult{Path: fr.Path, Size: fr.Size, Format: scan.FormatUnknown, Findings: []scan.Finding{}, Error: msg}
		scan.Finish(&fr, overrides)
	}
	fr.Name, fr.MediaType = f.Path, f.MediaType
	return fr
}

// digestWatch notes whether a read failed because the bytes did not match
// their digest.
type digestWatch struct {
	source.Reader
	bad *atomic.Bool
}

func (d *digestWatch) note(err error) {
	var de *oci.DigestError
	if err != nil && errors.As(err, &de) {
		d.bad.Store(true)
	}
}

func (d *digestWatch) Read(p []byte) (int, error) {
	n, err := d.Reader.Read(p)
	d.note(err)
	return n, err
}

func (d *digestWatch) ReadAt(p []byte, off int64) (int, error) {
	n, err := d.Reader.ReadAt(p, off)
	d.note(err)
	return n, err
}

func display(art *source.Artifact, p string) string {
	if art.Kind == "file" || p == "." {
		return art.Target
	}
	if strings.HasPrefix(art.Kind, "oci:") {
		return strings.TrimSuffix(art.Target, "/") + "/" + p // path.Join would eat the "//" of the scheme
	}
	return path.Join(filepathToSlash(art.Target), p)
}

// count adds findings to the summary; suppressed ones are counted apart.
func (s *Summary) count(fs []scan.Finding) {
	for _, fd := range fs {
		if fd.Suppressed != "" {
			s.Suppressed++
			continue
		}
		s.Findings[fd.Severity.String()]++
	}
}

func (r *Result) summarize() {
	s := Summary{Findings: map[string]int{}}
	for _, t := range r.Targets {
		if t.Error != "" {
			s.Errors++
		}
		sort.SliceStable(t.Files, func(i, j int) bool { return t.Files[i].Path < t.Files[j].Path })
		for _, f := range t.Files {
			if isSkipped(f.Format) {
				if f.Error != "" {
					s.Errors++
				}
				s.count(f.Findings)
				continue
			}
			s.Files++
			s.Bytes += f.Size
			if f.Error != "" {
				s.Errors++
			}
			if f.Scanned {
				s.Scanned++
				if !f.Complete {
					s.Incomplete++
				}
			} else {
				s.NotScanned++
			}
			s.count(f.Findings)
		}
	}
	if m := r.max(); m > 0 {
		s.MaxSeverity = m.String()
	}
	s.Seconds = r.Duration.Seconds()
	r.Summary = s
	switch {
	case r.Failed():
		r.Verdict = "fail"
	case s.Errors > 0:
		r.Verdict = "error"
	default:
		r.Verdict = "pass"
	}
}

// isSkipped reports whether a file result stands for an entry the source
// did not hand out (a link, a special file).
func isSkipped(format string) bool {
	switch format {
	case "link", "special", "unreadable", "unsafe-path", "foreign-layer", "unsupported":
		return true
	}
	return false
}
