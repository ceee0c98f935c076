// Package scan decides each file's format by its content and runs the
// format's scanner over it, hashing the bytes in the same pass.
package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"

	"github.com/hallmarkdev/hallmark/internal/limits"
	"github.com/hallmarkdev/hallmark/pickle"
	"github.com/hallmarkdev/hallmark/source"
)

// Config configures an Engine.
type Config struct {
	Policy    *pickle.Policy      // nil: pickle.Default()
	Limits    limits.Limits       // zero: limits.Default()
	Overrides map[string]Severity // rule id → severity, from a policy file
}

// Engine scans files.
type Engine struct {
	cfg Config
}

// New returns an Engine.
func New(cfg Config) *Engine {
	if cfg.Policy == nil {
		cfg.Policy = pickle.Default()
	}
	if cfg.Limits.SniffBytes == 0 {
		cfg.Limits = limits.Default()
	}
	return &Engine{cfg: cfg}
}

// File scans one file. display is the path findings name.
func (e *Engine) File(ctx context.Context, f source.File, display string) FileResult {
	res := FileResult{Path: display, Size: f.Size, Format: FormatUnknown, Findings: []Finding{}}
	r, err := f.Open()
	if err != nil {
		return e.failed(res, err)
	}
	defer r.Close()

	head := make([]byte, min(int64(e.cfg.Limits.SniffBytes), f.Size))
	n, err := r.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return e.failed(res, err)
	}
	head = head[:n]
	var magic string
	res.Format, magic = Sniff(head, f.Size)

	h := sha256.New()
	body := io.TeeReader(&ctxReader{ctx: ctx, r: io.NewSectionReader(r, 0, f.Size)}, h)
	switch {
	case res.Format == FormatPickle:
		e.pickle(&res, body, r, f.Size)
	case containers[res.Format]:
		res.add(Finding{Rule: RuleUnsupported, Severity: Medium, Offset: 0, Message: fmt.Sprintf("%s container: it may carry pickles and this build of hallmark does not open it yet, so it is not known to be clean", res.Format)})
	default:
		what := "no model format hallmark parses"
		if res.Format != FormatUnknown {
			what = res.Format + ", a format this build does not parse yet"
		}
		res.add(Finding{Rule: RuleNotScanned, Severity: Info, Offset: -1, Message: "not scanned: " + what + " (its bytes still count in hashes)"})
	}
	if magic != "" {
		res.add(Finding{Rule: RulePolyglot, Severity: Medium, Offset: 0, Message: fmt.Sprintf("the file starts like %s but is also a valid pickle: a loader that sniffs content runs the pickle", magic)})
	}
	if kind, ok := extensionMismatch(display, res.Format); ok {
		res.add(Finding{Rule: RuleExtensionMismatch, Severity: Medium, Offset: 0, Message: fmt.Sprintf("named like %s but its content is a %s", kind, res.Format)})
	}
	// The rest of the bytes (all of them for files no scanner read) go
	// through the hash in the same pass.
	if _, err := io.Copy(io.Discard, body); err != nil {
		return e.failed(res, err)
	}
	res.SHA256 = hex.EncodeToString(h.Sum(nil))
	e.finish(&res)
	return res
}

func (r *FileResult) add(f Finding) {
	f.Path = r.Path
	if f.Count == 0 {
		f.Count = 1
	}
	r.Findings = append(r.Findings, f)
}

// failed records an I/O error: the run could not complete for this file.
// Findings made before the error stay.
func (e *Engine) failed(res FileResult, err error) FileResult {
	res.Error = fmt.Sprintf("%s: %v", res.Path, err)
	e.finish(&res)
	return res
}

// finish applies severity overrides, orders findings and sets the verdict.
func (e *Engine) finish(r *FileResult) {
	Finish(r, e.cfg.Overrides)
}

// Finish applies severity overrides, orders findings and sets the verdict.
func Finish(r *FileResult, overrides map[string]Severity) {
	for i := range r.Findings {
		if s, ok := overrides[r.Findings[i].Rule]; ok {
			r.Findings[i].Severity = s
		}
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		return r.Findings[i].Severity > r.Findings[j].Severity
	})
	switch m := r.Max(); {
	case r.Error != "":
		r.Verdict = "error"
	case m >= Critical:
		r.Verdict = "malicious"
	case m >= High:
		r.Verdict = "unsafe"
	case m >= Medium:
		r.Verdict = "suspicious"
	case !r.Scanned:
		r.Verdict = "not-scanned"
	default:
		r.Verdict = "clean"
	}
}

// ctxReader stops a long read when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
