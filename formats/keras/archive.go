package keras

import (
	"strconv"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// Metadata is what metadata.json of a .keras archive says. Keras writes it
// on save ({"keras_version": ..., "date_saved": ...}) and never reads it on
// load, so it is a fact source only.
type Metadata struct {
	KerasVersion string
	Backend      string // not written by current Keras; kept when present
	DateSaved    string
	Findings     []finding.Finding
}

// maxMetadataBytes: Keras writes about 64 bytes.
const maxMetadataBytes = 1 << 20

// AnalyseMetadata reads metadata.json.
func AnalyseMetadata(data []byte) Metadata {
	var md Metadata
	bad := func(msg string) Metadata {
		md.Findings = append(md.Findings, finding.Finding{Rule: RuleMetadata, Level: finding.Low, Offset: -1,
			Where: "metadata.json", Message: msg})
		return md
	}
	if len(data) > maxMetadataBytes {
		return bad("metadata.json is " + strconv.Itoa(len(data)) + " bytes; Keras writes under a hundred, so it was not read")
	}
	text, _, ok := decodeText(data)
	if !ok {
		return bad("metadata.json is not valid text; Keras writes it as UTF-8 JSON")
	}
	root, arena, _, perr := parseJSON(text, 32, 10000)
	if perr != nil {
		return bad("metadata.json is not valid JSON (" + perr.msg + "); Keras does not read it, but it shows the archive was not written by Keras")
	}
	if root.kind != kObject {
		return bad("metadata.json is not a JSON object")
	}
	w := &walker{a: arena}
	get := func(k string) string {
		s, _ := w.str(root, k)
		return strings.Clone(finding.Shorten(s, 128))
	}
	md.KerasVersion = get("keras_version")
	md.Backend = get("backend")
	md.DateSaved = get("date_saved")
	return md
}

// IsKeras3Archive reports whether zip member names are those of a Keras 3
// .keras archive: config.json at the root with metadata.json and/or the
// weights file (model.weights.h5, or .npz) at the root.
func IsKeras3Archive(names []string) bool {
	var cfg, other bool
	for _, n := range names {
		switch n {
		case "config.json":
			cfg = true
		case "metadata.json", "model.weights.h5", "model.weights.npz":
			other = true
		}
	}
	return cfg && other
}

var codeExts = map[string]bool{
	".py": true, ".pyc": true, ".pyo": true, ".pyd": true, ".pyw": true, ".pyx": true, ".so": true,
	".dll": true, ".dylib": true, ".exe": true, ".sh": true, ".bash": true, ".bat": true, ".cmd": true,
	".ps1": true, ".vbs": true, ".js": true, ".jar": true, ".elf": true, ".ipynb": true,
}

var pickleExts = map[string]bool{
	".pkl": true, ".pickle": true, ".joblib": true, ".dill": true, ".pt": true, ".pth": true,
	".ckpt": true, ".sav": true,
}

// CheckArchiveMembers reports members of a .keras archive that Keras never
// writes: code, pickles, duplicates, escaping paths and other strays.
func CheckArchiveMembers(names []string) []finding.Finding {
	var l finding.List
	seen := make(map[string]bool, len(names))
	add := func(rule string, lvl finding.Level, name, msg string) {
		l.Add(finding.Finding{Rule: rule, Level: lvl, Offset: -1, Where: finding.Shorten(name, 200),
			Message: msg, Evidence: finding.Shorten(name, 200)})
	}
	for _, n := range names {
		q := strconv.Quote(finding.Shorten(n, 120))
		if seen[n] {
			add(RuleArchiveDuplicate, finding.High, n, "member "+q+" appears twice; Python's zipfile (and so Keras) reads the last copy, other tools the first")
			continue
		}
		seen[n] = true
		if escapes(n) {
			add(RuleArchivePath, finding.High, n, "member name "+q+" is absolute or climbs out of the archive")
		}
		base := n
		if i := strings.LastIndexAny(n, "/\\"); i >= 0 {
			base = n[i+1:]
		}
		if base == "" {
			continue // a directory entry
		}
		lower := strings.ToLower(base)
		ext := ""
		if i := strings.LastIndexByte(lower, '.'); i >= 0 {
			ext = lower[i:]
		}
		switch {
		case codeExts[ext]:
			add(RuleArchiveCode, finding.High, n, "member "+q+" is code ("+ext+"); Keras never writes code into a .keras archive")
		case pickleExts[ext]:
			add(RuleArchivePickle, finding.Medium, n, "member "+q+" is a pickle-format file; Keras never writes one, and a custom layer loading it would unpickle it")
		case n == "config.json", n == "metadata.json", n == "model.weights.h5", n == "model.weights.npz",
			strings.HasPrefix(n, "assets/"):
		default:
			add(RuleArchiveUnexpected, finding.Low, n, "member "+q+" is not one Keras writes (config.json, metadata.json, model.weights.h5, assets/)")
		}
	}
	return l.Findings
}

func escapes(n string) bool {
	if strings.HasPrefix(n, "/") || strings.HasPrefix(n, "\\") || len(n) >= 2 && n[1] == ':' {
		return true
	}
	for _, part := range strings.FieldsFunc(n, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return true
		}
	}
	return false
}
