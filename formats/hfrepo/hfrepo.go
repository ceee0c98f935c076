// Package hfrepo reads the text files of a Hugging Face model repository:
// config.json and tokenizer_config.json (custom code through auto_map, chat
// templates, the model's shape for the BOM), the Python files that
// trust_remote_code would run, and the model card's front matter.
package hfrepo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// Rule ids. They are part of JSON, SARIF and policy files: never rename one.
const (
	RuleRemoteCode  = "hf/remote-code"        // auto_map: loading needs trust_remote_code
	RuleHostAccess  = "hf/python-host-access" // a Python file reaches for processes, the network, eval
	RulePython      = "hf/python-code"        // a Python file shipped with the model
	RuleMalformed   = "hf/malformed-json"     // a JSON file that does not parse
	RuleDuplicate   = "hf/duplicate-key"      // one key twice: Python's json keeps the last
	RuleTemplate    = "hf/chat-template"      // a chat_template value of the wrong shape
	RuleTooLarge    = "hf/too-large"          // a file beyond the analysis cap
	RuleMissingCode = "hf/missing-code"       // auto_map names a module the folder does not hold
)

// Rules documents every rule id of the package.
var Rules = []finding.Doc{
	{ID: RuleRemoteCode, Short: "The model needs trust_remote_code", Help: "config.json or tokenizer_config.json has an auto_map: transformers imports the named Python modules from the repository (or another repository) when the model is loaded with trust_remote_code=True. That is arbitrary code execution by design; review every listed file before allowing it, or use a model that does not need it."},
	{ID: RuleHostAccess, Short: "Python file reaches for the host", Help: "A Python file in the model repository runs processes, evaluates strings, imports modules by name, opens network connections or deserializes pickles. With trust_remote_code=True it runs at load time with the loader's privileges. The evidence shows the line."},
	{ID: RulePython, Short: "Python code shipped with the model", Help: "The repository carries Python source. It runs only if the loader trusts remote code (auto_map) or a user imports it; no host access was found in it."},
	{ID: RuleMalformed, Short: "JSON file does not parse", Help: "A configuration file of the model is not valid JSON; loaders refuse it or, with lenient parsers, read something else than hallmark did."},
	{ID: RuleDuplicate, Short: "Key defined twice in a JSON file", Help: "Python's json module keeps the last of two equal keys and other parsers the first: a reviewer and the loader can see different values (for example two chat templates)."},
	{ID: RuleTemplate, Short: "chat_template of an unexpected shape", Help: "chat_template must be a string or a list of {name, template} objects; anything else is what no tokenizer writes."},
	{ID: RuleTooLarge, Short: "File too large to analyse", Help: "A configuration or source file exceeds hallmark's analysis cap, so what it holds (auto_map, chat templates, code) was not checked."},
	{ID: RuleMissingCode, Short: "auto_map names code the folder does not hold", Help: "auto_map points at a module that is not in the scanned folder, or in another repository (\"repo--module.Class\"): transformers downloads and runs it at load time, so it was not scanned."},
}

// Limits caps what the package reads.
type Limits struct {
	MaxJSON     int64 // bytes of one JSON file analysed (default 64 MiB)
	MaxPython   int64 // bytes of one Python file analysed (default 16 MiB)
	MaxTemplate int   // bytes of one chat template returned (default 1 MiB)
}

// DefaultLimits returns the documented defaults.
func DefaultLimits() Limits {
	return Limits{MaxJSON: 64 << 20, MaxPython: 16 << 20, MaxTemplate: 1 << 20}
}

func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	if l.MaxJSON <= 0 {
		l.MaxJSON = d.MaxJSON
	}
	if l.MaxPython <= 0 {
		l.MaxPython = d.MaxPython
	}
	if l.MaxTemplate <= 0 {
		l.MaxTemplate = d.MaxTemplate
	}
	return l
}

// Template is one chat template found in a JSON file.
type Template struct {
	Name string // "default" for a plain chat_template string
	Text string
}

// JSONReport is what a JSON file of a model repository says.
type JSONReport struct {
	Findings finding.List
	Complete bool
	Object   bool // the file is a JSON object (the only shape analysed)
	// KerasConfig: the object looks like a Keras model config
	// (class_name + config): the caller runs the Keras analyser on it.
	KerasConfig bool
	AutoMap     []string // "AutoModel=modeling_x.MyModel", sorted
	Templates   []Template
	// Facts for the BOM.
	Architecture        string
	ModelType           string
	Dtype               string
	Quantization        string
	ContextLength       int64
	TransformersVersion string
	License             string
	KerasVersion        string // metadata.json of a .keras archive, or a Keras config
	// Settings are the model's shape and generation defaults
	// ("hidden_size", "temperature"…) as written, for the BOM.
	Settings map[string]string
}

// settingKeys are the config.json / generation_config.json /
// tokenizer_config.json scalars the BOM records: they describe the model
// a user gets, and none of them is free text.
var settingKeys = map[string]bool{
	"vocab_size": true, "hidden_size": true, "num_hidden_layers": true, "num_attention_heads": true,
	"num_key_value_heads": true, "intermediate_size": true, "head_dim": true, "rope_theta": true,
	"sliding_window": true, "num_local_experts": true, "num_experts": true, "num_experts_per_tok": true,
	"tie_word_embeddings": true, "hidden_act": true, "tokenizer_class": true,
	"temperature": true, "top_p": true, "top_k": true, "max_new_tokens": true, "max_length": true,
	"do_sample": true, "repetition_penalty": true,
}

// IsJSONObject reports whether head starts like a JSON object (after an
// optional BOM and white space): the content test for AnalyseJSON.
func IsJSONObject(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) < 2 || head[0] != '{' {
		return false
	}
	rest := bytes.TrimLeft(head[1:], " \t\r\n")
	return len(rest) == 0 || rest[0] == '"' || rest[0] == '}'
}

var errTooLarge = errors.New("too large")

// AnalyseJSON reads one JSON file of at most lim.MaxJSON bytes.
func AnalyseJSON(r io.Reader, lim Limits) JSONReport {
	lim = lim.orDefault()
	var rep JSONReport
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxJSON+1))
	if err != nil {
		rep.Findings.Addf(RuleMalformed, finding.Medium, -1, "", "cannot read: %v", err)
		return rep
	}
	if int64(len(data)) > lim.MaxJSON {
		rep.Findings.Addf(RuleTooLarge, finding.Medium, -1, "", "JSON file larger than %d MiB: its auto_map and chat templates were not checked", lim.MaxJSON>>20)
		return rep
	}
	return analyseJSON(data, lim)
}

// AnalyseJSONBytes is AnalyseJSON over bytes already in memory.
func AnalyseJSONBytes(data []byte, lim Limits) JSONReport {
	lim = lim.orDefault()
	if int64(len(data)) > lim.MaxJSON {
		var rep JSONReport
		rep.Findings.Addf(RuleTooLarge, finding.Medium, -1, "", "JSON file larger than %d MiB: its auto_map and chat templates were not checked", lim.MaxJSON>>20)
		return rep
	}
	return analyseJSON(data, lim)
}

func analyseJSON(data []byte, lim Limits) JSONReport {
	return analyseStream(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))), lim)
}

// AnalyseJSONStream reads a JSON object of any size from r, keeping only
// the values of the keys it analyses (a 100 MB tokenizer.json costs the
// largest single token, not the file). A Keras config is only recognised,
// not returned: the caller needs the bytes for that.
func AnalyseJSONStream(r io.Reader, lim Limits) JSONReport {
	br := bufio.NewReader(r)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	return analyseStream(br, lim.orDefault())
}

// kept are the top-level keys whose values are decoded; the rest are
// skipped token by token.
var kept = map[string]bool{
	"auto_map": true, "chat_template": true, "architectures": true, "model_type": true, "torch_dtype": true,
	"dtype": true, "transformers_version": true, "license": true, "quantization_config": true, "keras_version": true,
	"max_position_embeddings": true, "n_positions": true, "max_sequence_length": true, "seq_length": true,
	"n_ctx": true, "model_max_length": true,
}

func analyseStream(r io.Reader, lim Limits) JSONReport {
	var rep JSONReport
	dec := json.NewDecoder(r)
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		rep.Findings.Addf(RuleMalformed, finding.Low, 0, "", "not a JSON object")
		return rep
	}
	rep.Object = true
	top := map[string]json.RawMessage{}
	seen := map[string]int64{}
	for dec.More() {
		off := dec.InputOffset()
		kt, err := dec.Token()
		if err != nil {
			rep.Findings.Addf(RuleMalformed, finding.Low, off, "", "JSON does not parse: %v", err)
			return rep
		}
		key, _ := kt.(string)
		var raw json.RawMessage
		if !kept[key] && !settingKeys[key] {
			if err := skipValue(dec); err != nil {
				rep.Findings.Addf(RuleMalformed, finding.Low, off, key, "JSON does not parse: %v", err)
				return rep
			}
			raw = json.RawMessage("null")
		} else if err := dec.Decode(&raw); err != nil {
			rep.Findings.Addf(RuleMalformed, finding.Low, off, key, "JSON does not parse: %v", err)
			return rep
		}
		if _, dup := seen[key]; dup && interesting[key] {
			rep.Findings.Add(finding.Finding{Rule: RuleDuplicate, Level: finding.High, Offset: off, Where: key, Message: fmt.Sprintf("key %q is defined twice: Python's json keeps the last value, other parsers the first; both were analysed", key)})
			analyseKey(&rep, key, raw, lim) // the earlier one stays in top
			continue
		} else if dup {
			rep.Findings.Add(finding.Finding{Rule: RuleDuplicate, Level: finding.Low, Offset: off, Where: key, Message: fmt.Sprintf("key %q is defined twice: Python's json keeps the last value", key)})
		}
		seen[key] = off
		top[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		rep.Findings.Addf(RuleMalformed, finding.Low, dec.InputOffset(), "", "JSON does not parse: %v", err)
		return rep
	}
	if _, err := dec.Token(); err != io.EOF {
		rep.Findings.Addf(RuleMalformed, finding.Low, dec.InputOffset(), "", "data after the JSON object")
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		analyseKey(&rep, k, top[k], lim)
	}
	if _, ok := top["class_name"]; ok {
		if _, ok := top["config"]; ok {
			rep.KerasConfig = true
		}
	}
	sort.Strings(rep.AutoMap)
	rep.Complete = true
	return rep
}

var interesting = map[string]bool{"auto_map": true, "chat_template": true}

// skipValue reads one JSON value without keeping it.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func analyseKey(rep *JSONReport, key string, raw json.RawMessage, lim Limits) {
	if string(raw) == "null" {
		return
	}
	switch key {
	case "auto_map":
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			rep.Findings.Addf(RuleRemoteCode, finding.High, -1, key, "auto_map is present but not an object: transformers may still try to load custom code")
			return
		}
		for cls, v := range m {
			for _, ref := range refs(v) {
				rep.AutoMap = append(rep.AutoMap, cls+"="+ref)
			}
		}
	case "chat_template":
		var s string
		if json.Unmarshal(raw, &s) == nil {
			rep.addTemplate("default", s, lim)
			return
		}
		var list []struct {
			Name     *string `json:"name"`
			Template *string `json:"template"`
		}
		if json.Unmarshal(raw, &list) != nil {
			rep.Findings.Addf(RuleTemplate, finding.Medium, -1, key, "chat_template is neither a string nor a list of {name, template}")
			return
		}
		for i, t := range list {
			if t.Name == nil || t.Template == nil {
				rep.Findings.Addf(RuleTemplate, finding.Medium, -1, key, "chat_template entry %d lacks a name or a template", i)
				continue
			}
			rep.addTemplate(*t.Name, *t.Template, lim)
		}
	case "architectures":
		var a []string
		if json.Unmarshal(raw, &a) == nil && len(a) > 0 {
			rep.Architecture = finding.Shorten(a[0], 200)
		}
	case "model_type":
		rep.ModelType = str(raw)
	case "torch_dtype", "dtype":
		if rep.Dtype == "" {
			rep.Dtype = str(raw)
		}
	case "keras_version":
		rep.KerasVersion = str(raw)
	case "transformers_version":
		rep.TransformersVersion = str(raw)
	case "license":
		rep.License = str(raw)
	case "quantization_config":
		var q struct {
			Method string `json:"quant_method"`
			Bits   any    `json:"bits"`
		}
		if json.Unmarshal(raw, &q) == nil {
			rep.Quantization = finding.Shorten(q.Method, 100)
			if q.Bits != nil && q.Method != "" {
				rep.Quantization += fmt.Sprintf(" (%v-bit)", q.Bits)
			}
		}
	default:
		if settingKeys[key] {
			rep.setting(key, raw)
		}
	case "max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx", "model_max_length":
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			if v, err := n.Int64(); err == nil && v > 0 && (rep.ContextLength == 0 || key == "max_position_embeddings") && v < 1<<40 {
				rep.ContextLength = v
			}
		}
	}
}

// setting keeps a scalar (number, boolean or short string) as written.
func (rep *JSONReport) setting(key string, raw json.RawMessage) {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return
	}
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case bool:
		text = fmt.Sprint(x)
	case string:
		text = x
	default:
		return
	}
	if text == "" || len(text) > 100 || strings.ContainsFunc(text, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return
	}
	if rep.Settings == nil {
		rep.Settings = map[string]string{}
	}
	rep.Settings[key] = text
}

func (rep *JSONReport) addTemplate(name, text string, lim Limits) {
	if len(text) > lim.MaxTemplate {
		rep.Findings.Addf(RuleTooLarge, finding.High, -1, "chat_template", "chat template %q is %d bytes, above the %d-byte analysis cap: it was not checked", name, len(text), lim.MaxTemplate)
		return
	}
	rep.Templates = append(rep.Templates, Template{Name: name, Text: text})
}

func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return finding.Shorten(s, 200)
}

// refs lists the module references of one auto_map value: a string, or a
// list of strings (tokenizers name a slow and a fast class; null allowed).
func refs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{finding.Shorten(x, 200)}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, finding.Shorten(s, 200))
			}
		}
		return out
	}
	return nil
}

// CodeModule returns the Python file an auto_map reference loads
// ("modeling_x.MyModel" → "modeling_x.py") and the repository it comes
// from when it names another one ("org/repo--modeling_x.MyModel").
func CodeModule(ref string) (file, repo string) {
	if _, r, ok := strings.Cut(ref, "="); ok {
		ref = r
	}
	if i := strings.Index(ref, "--"); i >= 0 {
		repo, ref = ref[:i], ref[i+2:]
	}
	mod := ref
	if i := strings.LastIndex(ref, "."); i >= 0 {
		mod = ref[:i]
	}
	return strings.ReplaceAll(mod, ".", "/") + ".py", repo
}

// ModelCard reads the YAML front matter of a model card (README.md) for
// the BOM: the licence and the base model. It never fails.
func ModelCard(head []byte) (license, baseModel string) {
	if !utf8.Valid(head) {
		return "", ""
	}
	s := strings.ReplaceAll(string(head), "\r\n", "\n")
	if !strings.HasPrefix(s, "---\n") {
		return "", ""
	}
	body, _, ok := strings.Cut(s[4:], "\n---")
	if !ok {
		return "", ""
	}
	for _, line := range strings.Split(body, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, " ") || strings.HasPrefix(line, "-") {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		switch strings.TrimSpace(k) {
		case "license":
			license = finding.Shorten(v, 100)
		case "base_model":
			baseModel = finding.Shorten(v, 200)
		}
	}
	return license, baseModel
}
