package policy

import (
	"fmt"
	"slices"
)

// Formats refuses formats (Deny) or accepts only some model formats
// (Allow), by hallmark's format names and the groups pickle-based and
// archives. The lists are as written, validated.
type Formats struct {
	Allow, Deny []string
}

// formatNames are the format names a policy may use, most specific first.
// zlib and lzma are the raw compression streams scan reports (joblib
// writes them). executable is native code or compiled Python (ELF, Mach-O,
// PE, wasm, .pyc) where no model format was: only an allow list that
// names it admits it.
var formatNames = []string{
	"pytorch", "joblib", "keras", "tensorflow", "onnx", "safetensors", "gguf", "numpy", "hdf5", "pickle",
	"zip", "tar", "7z", "gzip", "bzip2", "xz", "zstd", "lz4", "zlib", "lzma",
	"json", "python", "jinja", "text", "unknown", "executable",
}

// formatGroups are the group names a policy may use and their members.
// pickle-based also covers a file the scanner marks "pickle-based" itself
// (a numpy array with object dtype: any file in which a pickle was found).
var formatGroups = map[string][]string{
	"pickle-based": {"pickle", "pytorch", "joblib"},
	"archives":     {"zip", "tar", "gzip", "bzip2", "xz", "zstd", "lz4", "7z", "zlib", "lzma"},
}

// notModel are the formats an allow list does not judge: configs, docs and
// code (code has its own rules), and what no model format matched.
var notModel = map[string]bool{"json": true, "text": true, "python": true, "jinja": true, "unknown": true}

// implies lists what a file in one format also is, so that denying
// "pickle" also denies the pickle inside a PyTorch checkpoint.
var implies = map[string][]string{
	"pytorch": {"pickle"},
	"joblib":  {"pickle"},
	"pickle":  {"pickle-based"},
}

// carries lists the formats an allowed, more specific format is built
// from: allowing pytorch accepts the zip (or tar) and the pickle it is made
// of; allowing numpy does not accept an object array's pickle.
var carries = map[string][]string{
	"pytorch": {"zip", "tar", "pickle", "pickle-based"},
	"joblib":  {"pickle", "pickle-based", "zlib", "gzip", "bzip2", "xz", "lzma", "lz4"},
	"keras":   {"zip", "hdf5"},
	"numpy":   {"zip"},
}

func validFormat(n string) bool {
	_, group := formatGroups[n]
	return group || slices.Contains(formatNames, n)
}

func parseFormats(in *FileFormats) (Formats, error) {
	var f Formats
	if in == nil {
		return f, nil
	}
	if in.Allow != nil && len(in.Allow) == 0 {
		return f, fmt.Errorf("formats.allow: empty: omit the key to allow every format")
	}
	for _, l := range []struct {
		key  string
		list []string
	}{{"formats.allow", in.Allow}, {"formats.deny", in.Deny}} {
		for i, n := range l.list {
			if !validFormat(n) {
				return f, fmt.Errorf("%s[%d]: unknown format %s", l.key, i, quoteShort(n))
			}
		}
	}
	f.Allow, f.Deny = in.Allow, in.Deny
	return f, nil
}

// Check returns "" if a file whose formats are formats (one file can be
// several: ["zip", "pytorch", "pickle-based"]) may pass, else the one-line
// reason. Deny wins over allow. Allow applies only to model formats: a file
// whose formats are all in {json, text, python, jinja, unknown} passes an
// allow list. A name Check does not know counts as a model format that no
// allow list names (fail closed).
func (f Formats) Check(formats []string) string {
	if len(f.Allow) == 0 && len(f.Deny) == 0 {
		return ""
	}
	has := map[string]bool{}
	var add func(string)
	add = func(n string) {
		if has[n] {
			return
		}
		has[n] = true
		for _, m := range implies[n] {
			add(m)
		}
		if slices.Contains(formatGroups["archives"], n) {
			add("archives")
		}
	}
	for _, n := range formats {
		add(n)
	}
	for _, d := range f.Deny {
		if has[d] {
			return fmt.Sprintf("format %s is denied by the policy (formats.deny)", d)
		}
	}
	if len(f.Allow) == 0 {
		return ""
	}
	allowed := map[string]bool{}
	for _, a := range f.Allow {
		allowed[a] = true
		for _, m := range formatGroups[a] {
			allowed[m] = true
		}
	}
	covered := func(n string) bool {
		if notModel[n] || allowed[n] {
			return true
		}
		if n == "pickle-based" && allowed["pickle"] {
			// Whoever accepts pickles accepts the one in a numpy object array.
			return true
		}
		for y := range has {
			if allowed[y] && slices.Contains(carries[y], n) {
				return true
			}
		}
		if n == "archives" {
			// A label: the archive formats themselves are judged.
			for _, m := range formatGroups["archives"] {
				if has[m] {
					return true
				}
			}
		}
		return false
	}
	// Name the most specific format that fails, in a fixed order.
	order := append(append([]string{}, formatNames...), "pickle-based", "archives")
	for _, n := range formats {
		if !slices.Contains(order, n) {
			order = append(order, n)
		}
	}
	for _, n := range order {
		if has[n] && !covered(n) {
			return fmt.Sprintf("format %s is not in formats.allow", oneLine(n))
		}
	}
	return ""
}
