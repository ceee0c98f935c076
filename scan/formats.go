package scan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
	"github.com/hallmarkdev/hallmark/formats/jinja"
)

// report adds a format parser's findings to in. where prefixes each
// finding's logical location (a template's name, a zip member's role).
func (w *walker) report(in input, fs []finding.Finding, complete bool, where string) {
	for _, f := range fs {
		loc := f.Where
		if where != "" {
			loc = strings.TrimSuffix(where+" "+loc, " ")
		}
		off := f.Offset
		if off >= 0 {
			off += in.base
		}
		w.add(in, Finding{Rule: f.Rule, Severity: Severity(f.Level), Offset: off, Location: loc, Message: f.Message, Evidence: f.Evidence})
	}
	if !complete {
		w.partial = true
	}
}

// template analyses one chat template (never renders it) and records its
// hash for the BOM. base is the template text's offset in the file, or -1
// when the text was unescaped from JSON and has no byte offset there.
func (w *walker) template(in input, source, name, text string, base int64) {
	sum := sha256.Sum256([]byte(text))
	if len(w.facts.ChatTemplates) < 64 {
		w.facts.ChatTemplates = append(w.facts.ChatTemplates, ChatTemplate{Name: name, Source: source, SHA256: hex.EncodeToString(sum[:]), Size: len(text)})
	}
	rep := jinja.Analyse(text, jinja.Limits{})
	where := source
	if name != "" && name != "default" {
		where += " (" + name + ")"
	}
	for _, f := range rep.Findings {
		off := int64(-1)
		if base >= 0 && f.Offset >= 0 {
			off = in.base + base + f.Offset
		}
		loc := where
		if base < 0 && f.Offset >= 0 {
			loc = fmt.Sprintf("%s, character %d of the template", where, f.Offset)
		}
		w.add(in, Finding{Rule: f.Rule, Severity: Severity(f.Level), Offset: off, Location: loc, Message: f.Message, Evidence: f.Evidence})
	}
	if !rep.Complete {
		w.partial = true
	}
}

// parserHint names the parser a file's name asks for when its content
// matched no signature. Only formats whose parsers fail closed with a
// precise finding are listed; a generic ".pb" only when the name is one
// TensorFlow writes.
func parserHint(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".safetensors":
		return FormatSafetensors
	case ".gguf":
		return FormatGGUF
	case ".onnx":
		return FormatONNX
	case ".h5", ".hdf5":
		return FormatHDF5
	}
	if tfKindByName(name) != "" {
		return FormatTF
	}
	return ""
}

// tfKindByName is the TensorFlow file kind a standard file name implies.
func tfKindByName(name string) string {
	switch strings.ToLower(path.Base(name)) {
	case "saved_model.pb":
		return "saved_model"
	case "keras_metadata.pb":
		return "keras_metadata"
	case "fingerprint.pb":
		return "fingerprint"
	}
	return ""
}

// hintedFormat names the format a file's name promises, for files whose
// content was not recognised and that no parser takes by name: a model
// file that is not what it claims is unscannable, never clean.
func hintedFormat(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".keras":
		return "Keras"
	case ".pb":
		return FormatTF
	case ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib":
		return "PyTorch/pickle"
	}
	return ""
}
