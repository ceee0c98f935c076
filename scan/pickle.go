package scan

import (
	"io"
	"strings"

	"github.com/hallmarkdev/hallmark/pickle"
)

// pickle scans a file whose content is a pickle (stacked pickles to its end).
func (e *Engine) pickle(res *FileResult, body io.Reader, ra io.ReaderAt, size int64) {
	rep := pickle.Scan(body, pickle.Options{Policy: e.cfg.Policy, Limits: e.cfg.Limits.Pickle(), ReaderAt: ra, Size: size})
	res.Scanned = true
	res.Complete = rep.Complete && !rep.Degraded
	res.Facts = &Facts{Format: FormatPickle, Framework: framework(rep.Globals), PickleProtocol: rep.Protocol, PickleStreams: rep.Streams, Opcodes: rep.Opcodes, Globals: rep.Globals}
	for _, pf := range rep.Findings {
		res.add(Finding{Rule: pf.Rule, Severity: fromLevel(pf.Level), Offset: pf.Offset, Message: pf.Message, Evidence: pf.Evidence, Global: pf.Global, Category: pf.Category, Count: pf.Count})
	}
}

// framework names the library that wrote a pickle, from what it imports.
func framework(globals []string) string {
	for _, fw := range []struct{ prefix, name string }{
		{"torch.", "pytorch"}, {"sklearn.", "scikit-learn"}, {"xgboost.", "xgboost"},
		{"lightgbm.", "lightgbm"}, {"transformers.", "transformers"}, {"scipy.", "scipy"},
		{"joblib.", "joblib"}, {"numpy.", "numpy"},
	} {
		for _, g := range globals {
			if strings.HasPrefix(g, fw.prefix) {
				return fw.name
			}
		}
	}
	return ""
}
