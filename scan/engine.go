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
	"strings"

	"github.com/hallmarkdev/hallmark/internal/limits"
	"github.com/hallmarkdev/hallmark/pickle"
	"github.com/hallmarkdev/hallmark/source"
)

// Config configures an Engine.
type Config struct {
	Policy    *pickle.Policy      // nil: pickle.Default()
	Limits    limits.Limits       // zero: limits.Default()
	Overrides map[string]Severity // rule id → severity, from a policy file
	NoHash    bool                // skip SHA-256 (scan only what the scanners need to read)
}

// packedAs is the format each declared packing must sniff as.
var packedAs = map[string]string{"tar": FormatTar, "tar+gzip": FormatGzip, "tar+zstd": FormatZstd}

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

// File scans one file and everything inside it. display is the path
// findings name. The file's bytes are read once: the scanners consume the
// stream while SHA-256 is computed over it, and formats that need random
// access (zip, 7z) read their parts at offsets while the hash reads the rest.
func (e *Engine) File(ctx context.Context, f source.File, display string) FileResult {
	res := FileResult{Path: display, Size: f.Size, Format: FormatUnknown, Findings: []Finding{}}
	r, err := f.Open()
	if err != nil {
		return e.failed(res, err)
	}
	defer r.Close()

	h := sha256.New()
	var body io.Reader = &ctxReader{ctx: ctx, r: io.NewSectionReader(r, 0, f.Size)}
	// A provider that verifies the bytes against a SHA-256 digest as they
	// are read (OCI blobs) has hashed them already: read them once, not
	// twice. Draining still happens, so that verification completes.
	known := ""
	if hx, ok := strings.CutPrefix(f.Digest, "sha256:"); ok && len(hx) == 64 {
		known = hx
	}
	if !e.cfg.NoHash && known == "" {
		body = io.TeeReader(body, h)
	}
	w := &walker{e: e, ctx: ctx, res: &res, lim: e.cfg.Limits, globals: map[string]bool{}, warned: map[string]bool{}, perRule: map[string]int{}, summary: map[string]int{}, kerasDone: map[string]bool{}}
	res.Format = w.scan(input{name: display, r: body, ra: r, size: f.Size})
	if want := packedAs[f.Packing]; want != "" && res.Format != want && f.Size > 0 {
		// Clients unpack by the declared packing and never sniff: what
		// they read may not be what the content scan saw.
		res.add(Finding{Rule: RulePackingMismatch, Severity: Medium, Offset: 0, Message: fmt.Sprintf("declared as %s, but its content is %s: clients unpack it as declared (and fail or read something else); it was scanned by content", f.Packing, res.Format)})
	}
	if err := ctx.Err(); err != nil {
		return e.failed(res, err)
	}
	res.Complete = res.Scanned && !w.partial
	if res.Scanned {
		w.facts.Format = res.Format
		if w.facts.Framework == "" {
			w.facts.Framework = framework(w.globals)
		}
		for g := range w.globals {
			w.facts.Globals = append(w.facts.Globals, g)
		}
		sort.Strings(w.facts.Globals)
		res.Facts = &w.facts
	} else if w.facts.License != "" || len(w.facts.Metadata) > 0 || w.facts.Card != nil || w.facts.Executable != "" {
		// Not scanned, but known: a model card (licence, datasets…), or
		// native code.
		w.facts.Format = res.Format
		res.Facts = &w.facts
	}
	if !e.cfg.NoHash {
		// The rest of the bytes (all of them for files read at offsets)
		// go through the hash in the same pass.
		// 1 MiB reads: io.Discard's own ReadFrom reads 8 KiB at a time,
		// half a million syscalls for a 4 GiB checkpoint.
		buf := make([]byte, 1<<20)
		if _, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, body, buf); err != nil {
			return e.failed(res, err)
		}
		res.SHA256 = hex.EncodeToString(h.Sum(nil))
		if known != "" {
			res.SHA256 = known
		}
	}
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
