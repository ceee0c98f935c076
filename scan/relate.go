package scan

import (
	"path"
	"sort"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/hfrepo"
)

// Rules about how the files of one model refer to each other.
const (
	RuleExternalLink    = "onnx/external-data-link"    // external data names a link
	RuleExternalMissing = "onnx/external-data-missing" // external data names a file the model lacks
)

// Relate checks what a file says about its siblings, once every file of a
// target has been scanned: the Python modules an auto_map makes
// transformers run, and the files ONNX external data makes the runtime
// read. files are the target's results, including the entries the source
// skipped (links, special files); paths use "/".
func Relate(files []FileResult, overrides map[string]Severity) {
	byPath := map[string]*FileResult{}
	var python []string
	for i := range files {
		f := &files[i]
		byPath[f.Path] = f
		if f.Format == FormatPython {
			python = append(python, f.Path)
		}
	}
	sort.Strings(python)
	for i := range files {
		f := &files[i]
		if f.Facts == nil {
			continue
		}
		changed := false
		dir := path.Dir(f.Path)
		if len(f.Facts.RemoteCode) > 0 {
			var here []string
			for _, p := range python {
				if path.Dir(p) == dir || strings.HasPrefix(p, dir+"/") {
					here = append(here, p)
				}
			}
			for j := range f.Findings {
				if f.Findings[j].Rule == hfrepo.RuleRemoteCode && len(here) > 0 {
					f.Findings[j].Evidence = "Python files in the model: " + strings.Join(here, ", ")
					changed = true
				}
			}
			seen := map[string]bool{}
			for _, ref := range f.Facts.RemoteCode {
				mod, repo := hfrepo.CodeModule(ref)
				switch {
				case repo != "" && !seen[repo]:
					seen[repo] = true
					f.add(Finding{Rule: hfrepo.RuleMissingCode, Severity: High, Offset: -1, Location: "auto_map", Message: "auto_map loads code from another repository, " + repo + ", at load time: that code is not part of this model and was not scanned", Evidence: ref})
					changed = true
				case repo == "" && !seen[mod]:
					seen[mod] = true
					if _, ok := byPath[path.Join(dir, mod)]; !ok {
						f.add(Finding{Rule: hfrepo.RuleMissingCode, Severity: Medium, Offset: -1, Location: "auto_map", Message: "auto_map names " + mod + ", which the scanned folder does not hold: transformers fetches it from the Hub at load time, unscanned", Evidence: ref})
						changed = true
					}
				}
			}
		}
		for _, loc := range f.Facts.ExternalData {
			target := path.Join(dir, loc)
			sib, ok := byPath[target]
			// A link anywhere on the way (weights -> /etc) is followed too.
			for p := path.Dir(target); !ok && p != dir && p != "." && p != "/" && len(p) > len(dir); p = path.Dir(p) {
				if d, isLink := byPath[p]; isLink && (d.Format == "link" || d.Format == "special") {
					sib, ok, target = d, true, p
				}
			}
			switch {
			case ok && (sib.Format == "link" || sib.Format == "special"):
				f.add(Finding{Rule: RuleExternalLink, Severity: High, Offset: -1, Location: loc, Message: "external data names " + target + ", which is a " + sib.Format + ": the runtime follows it and reads whatever it points to", Evidence: loc})
				changed = true
			case !ok:
				f.add(Finding{Rule: RuleExternalMissing, Severity: Medium, Offset: -1, Location: loc, Message: "external data names " + target + ", which is not in the scanned model: the runtime reads a file hallmark has not seen", Evidence: loc})
				changed = true
			}
		}
		if changed {
			Finish(f, overrides)
		}
	}
}
