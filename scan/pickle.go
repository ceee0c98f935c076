package scan

import (
	"io"
	"strings"

	"github.com/hallmarkdev/hallmark/internal/tzip"
	"github.com/hallmarkdev/hallmark/pickle"
)

// pickle scans stacked pickles to the end of in. A pickle file that also
// ends with a zip's central directory (A6: a pickle+zip polyglot) is read as
// both: pickle.load runs the pickle, zip readers see the members.
func (w *walker) pickle(in input) {
	rep := pickle.Scan(in.r, pickle.Options{Policy: w.e.cfg.Policy, Limits: w.lim.Pickle(), ReaderAt: in.ra, Size: in.size, Base: in.base})
	if !in.tensor && (rep.Degraded || (!rep.Complete && !rep.Trailing)) {
		w.partial = true
	}
	w.facts.PickleStreams += rep.Streams
	w.facts.Opcodes += rep.Opcodes
	if rep.Protocol > w.facts.PickleProtocol {
		w.facts.PickleProtocol = rep.Protocol
	}
	for _, g := range rep.Globals {
		if len(w.globals) < 512 {
			w.globals[g] = true
		}
	}
	for _, pf := range rep.Findings {
		if in.tensor && (pf.Rule == pickle.RuleMalformed || pf.Rule == pickle.RuleTrailing || pf.Level < pickle.LevelMedium) {
			continue
		}
		w.add(in, Finding{Rule: pf.Rule, Severity: fromLevel(pf.Level), Offset: pf.Offset, Message: pf.Message, Evidence: pf.Evidence, Global: pf.Global, Category: pf.Category, Count: pf.Count})
	}
	// Only a pickle with bytes after it can be a pickle+zip polyglot; checking
	// just then keeps ordinary pickles to one read.
	if (rep.Trailing || !rep.Complete) && in.ra != nil && in.size > 22 && in.depth < w.lim.MaxDepth && hasEOCD(in.ra, in.size) {
		if a, err := tzip.Open(in.ra, in.size, w.zipLimits()); err == nil && len(a.Entries) > 0 {
			w.add(in, Finding{Rule: RulePolyglot, Severity: High, Offset: 0, Message: "a pickle that is also a zip archive: pickle.load runs the pickle, zip readers (and scanners that trust them) see only the members; both were scanned"})
			w.zipMembers(in, a)
		}
	}
}

// hasEOCD looks for a zip end-of-central-directory record in the tail.
func hasEOCD(ra io.ReaderAt, size int64) bool {
	n := min(size, 22+65535)
	buf := make([]byte, n)
	k, _ := ra.ReadAt(buf, size-n)
	return strings.Contains(string(buf[:k]), "PK\x05\x06")
}

// framework names the library that wrote a pickle, from what it imports.
func framework(globals map[string]bool) string {
	for _, fw := range []struct{ prefix, name string }{
		{"torch.", "pytorch"}, {"sklearn.", "scikit-learn"}, {"xgboost.", "xgboost"},
		{"lightgbm.", "lightgbm"}, {"transformers.", "transformers"}, {"joblib.", "joblib"},
		{"scipy.", "scipy"}, {"numpy.", "numpy"},
	} {
		for g := range globals {
			if strings.HasPrefix(g, fw.prefix) {
				return fw.name
			}
		}
	}
	return ""
}
