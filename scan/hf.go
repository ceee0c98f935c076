package scan

import (
	"github.com/hallmarkdev/hallmark/formats/modelcard"
	"sort"

	"bytes"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/hfrepo"
)

// Formats of the text files of a model repository. JSON is recognised by
// content; Python and Jinja sources have no signature, so their names
// decide (an extension is all a loader goes by for them too).
const (
	FormatJSON   = "json"
	FormatPython = "python"
	FormatJinja  = "jinja"
)

// textFormat names the text format a file name promises.
func textFormat(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".py":
		return FormatPython
	case ".jinja", ".j2", ".jinja2":
		return FormatJinja
	}
	return ""
}

func (w *walker) hfLimits() hfrepo.Limits {
	return hfrepo.Limits{MaxJSON: w.lim.MaxInMemory + 1}
}

// json reads a JSON object: a transformers config (auto_map, the model's
// shape), a tokenizer config or chat_template.json (chat templates), or a
// Keras model config.
func (w *walker) json(in input) {
	if w.kerasDone[in.member] {
		return // a .keras config.json, analysed by the Keras reader already
	}
	data, err := io.ReadAll(io.LimitReader(in.r, w.lim.MaxInMemory+1))
	if err != nil {
		w.add(in, Finding{Rule: RuleContainerMalformed, Severity: High, Offset: -1, Message: "cannot read: " + err.Error()})
		return
	}
	var rep hfrepo.JSONReport
	if int64(len(data)) > w.lim.MaxInMemory {
		// A big tokenizer.json: stream it, keeping only what is analysed.
		rep = hfrepo.AnalyseJSONStream(io.MultiReader(bytes.NewReader(data), in.r), w.hfLimits())
		data = nil
		if rep.KerasConfig {
			w.add(in, Finding{Rule: RuleLimit, Severity: High, Offset: -1, Message: fmt.Sprintf("Keras config larger than %d MiB: not analysed", w.lim.MaxInMemory>>20)})
			rep.KerasConfig = false
		}
	} else {
		rep = hfrepo.AnalyseJSONBytes(data, w.hfLimits())
	}
	w.report(in, rep.Findings.Findings, rep.Complete, "")
	if len(rep.AutoMap) > 0 {
		w.add(in, Finding{Rule: hfrepo.RuleRemoteCode, Severity: High, Offset: -1, Location: "auto_map",
			Message:  "auto_map makes transformers import Python code from the repository at load time (trust_remote_code=True): " + strings.Join(rep.AutoMap, ", "),
			Evidence: strings.Join(rep.AutoMap, ", ")})
		w.facts.RemoteCode = append(w.facts.RemoteCode, rep.AutoMap...)
	}
	source := strings.ToLower(path.Base(in.name)) + " chat_template"
	for _, t := range rep.Templates {
		w.template(in, source, t.Name, t.Text, -1)
	}
	if rep.KerasConfig {
		w.kerasConfig(in, data, "")
	}
	f := &w.facts
	setIf(&f.Architecture, rep.Architecture)
	setIf(&f.ModelType, rep.ModelType)
	if f.Architecture == "" {
		setIf(&f.Architecture, rep.ModelType)
	}
	for _, k := range sortedKeys(rep.Settings) {
		w.meta(k, rep.Settings[k])
	}
	setIf(&f.Quantization, rep.Quantization)
	setIf(&f.License, rep.License)
	if rep.Dtype != "" && len(f.Dtypes) == 0 {
		f.Dtypes = []string{rep.Dtype}
	}
	if f.ContextLength == 0 {
		f.ContextLength = rep.ContextLength
	}
	if rep.KerasVersion != "" {
		f.Framework = "keras"
		setIf(&f.FormatVersion, "Keras "+rep.KerasVersion)
	}
	if rep.TransformersVersion != "" && f.Framework == "" {
		f.Framework = "transformers " + rep.TransformersVersion
	}
}

// python reads a Python source file shipped with a model.
func (w *walker) python(in input) {
	l, complete := hfrepo.AnalysePython(in.r, hfrepo.Limits{})
	w.report(in, l.Findings, complete, "")
}

// jinjaFile reads a chat template kept as its own file (transformers
// writes chat_template.jinja since 4.43).
func (w *walker) jinjaFile(in input) {
	const max = 1 << 20
	data, err := io.ReadAll(io.LimitReader(in.r, max+1))
	if err != nil {
		w.add(in, Finding{Rule: RuleContainerMalformed, Severity: High, Offset: -1, Message: "cannot read: " + err.Error()})
		return
	}
	if len(data) > max {
		w.add(in, Finding{Rule: hfrepo.RuleTooLarge, Severity: High, Offset: -1, Message: "template file larger than 1 MiB: not analysed"})
		w.partial = true
		return
	}
	w.template(in, path.Base(in.name), "default", string(data), 0)
}

// modelCard reads a model card's front matter for the BOM. A README is
// documentation no loader runs, so a broken card is a low finding.
func (w *walker) modelCard(in input) {
	rep := modelcard.Parse(in.r, modelcard.Limits{})
	w.report(in, rep.Findings, rep.Complete, "")
	if rep.Card == nil {
		return
	}
	w.facts.Card = rep.Card
	setIf(&w.facts.License, rep.Card.License)
	if len(rep.Card.BaseModels) > 0 {
		w.meta("base_model", rep.Card.BaseModels[0])
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func setIf(dst *string, v string) {
	if *dst == "" && v != "" {
		*dst = v
	}
}
