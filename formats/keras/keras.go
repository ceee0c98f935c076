// Package keras analyses Keras model configurations statically: the
// config.json of a Keras 3 .keras archive, the model_config and
// training_config attributes of a Keras 2 / tf.keras .h5 file, and the
// per-layer metadata JSON of a TensorFlow SavedModel's keras_metadata.pb.
//
// A Keras config is a program for the loader: Lambda layers carry
// marshalled Python bytecode, and every {"module", "class_name"} object
// makes Keras import a module and take an attribute from it. The analyser
// walks the whole JSON tree (nested models, wrappers, cells, losses,
// metrics, optimizers, initializers...), decodes Lambda bytecode without
// running it, and judges every module reference against what Keras itself
// writes. It never imports, unmarshals into Python objects or runs anything.
package keras

import (
	"bytes"
	"sort"
	"strconv"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// Limits caps the work done on one config. A zero field takes its default.
type Limits struct {
	MaxConfigBytes    int // largest config analysed: 64 MiB
	MaxDepth          int // JSON nesting: 256 (CPython's json gives up near 1000)
	MaxNodes          int // strings, containers and object members kept: 2,000,000
	MaxCodeBytes      int // a Lambda payload is decoded up to this size: 16 MiB
	MaxMarshalObjects int // marshal objects read per payload: 100,000
	MaxMarshalDepth   int // marshal nesting: 64
	MaxListed         int // entries kept in LayerClasses and CustomObjects: 256
	MaxEmbeddedBytes  int // total bytes of embedded payloads returned: 64 MiB
}

// DefaultLimits returns the documented defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxConfigBytes:    64 << 20,
		MaxDepth:          256,
		MaxNodes:          2_000_000,
		MaxCodeBytes:      16 << 20,
		MaxMarshalObjects: 100_000,
		MaxMarshalDepth:   64,
		MaxListed:         256,
		MaxEmbeddedBytes:  64 << 20,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	pick := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&l.MaxConfigBytes, d.MaxConfigBytes)
	pick(&l.MaxDepth, d.MaxDepth)
	pick(&l.MaxNodes, d.MaxNodes)
	pick(&l.MaxCodeBytes, d.MaxCodeBytes)
	pick(&l.MaxMarshalObjects, d.MaxMarshalObjects)
	pick(&l.MaxMarshalDepth, d.MaxMarshalDepth)
	pick(&l.MaxListed, d.MaxListed)
	pick(&l.MaxEmbeddedBytes, d.MaxEmbeddedBytes)
	return l
}

// Report is what AnalyseConfig found.
type Report struct {
	Findings []finding.Finding
	Complete bool // false: a cap or a parse failure left part of the config unanalysed
	Dropped  int  // findings beyond the per-rule cap, counted, not kept

	ClassName     string   // top-level class_name: "Sequential", "Functional", a custom class, "" for training_config
	ModelName     string   // config.name of the top-level object (or its "name")
	Layers        int      // layers at any depth (layers/cells lists, layer/cell/forward_layer/backward_layer)
	LayerClasses  []string // sorted unique class names of those layers, at most Limits.MaxListed
	KerasVersion  string   // "keras_version" at the top of the config, when present (model.to_json())
	Backend       string   // "backend" at the top of the config, when present
	Lambdas       int      // Lambda layers and standalone __lambda__ objects
	CustomObjects []string // sorted unique custom names (registered names, unknown classes), at most Limits.MaxListed

	// Embedded holds payloads the config carries that are files in their own
	// right (TorchModuleWrapper's torch.save bytes), decoded, for the caller
	// to scan with the matching scanner.
	Embedded []Embedded
}

// Embedded is one decoded payload found inside a config.
type Embedded struct {
	Where string // JSON path of the value
	Kind  string // "torch.save"
	Data  []byte
}

type seg struct {
	key   string
	idx   int
	isIdx bool
}

func renderPath(p []seg) string {
	var b strings.Builder
	for _, s := range p {
		if s.isIdx {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.idx))
			b.WriteByte(']')
			continue
		}
		if isIdentPath(s.key) && !strings.Contains(s.key, ".") {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		} else {
			b.WriteByte('[')
			b.WriteString(strconv.Quote(finding.Shorten(s.key, 64)))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// AnalyseConfig analyses one Keras config JSON: a Keras 3 config.json, a
// Keras 2 model_config or training_config, or one keras_metadata.pb layer
// metadata string. where names it in findings ("config.json",
// "model_config", ...). data is not retained.
func AnalyseConfig(data []byte, where string, lim Limits) Report {
	lim = lim.withDefaults()
	rep := Report{Complete: true}
	w := &walker{lim: lim, where: where, rep: &rep, handled: map[uint32]bool{},
		layerClasses: map[string]bool{}, custom: map[string]bool{}, search: 1 << 20}
	w.run(data)
	rep.Findings = w.list.Findings
	rep.Dropped = w.list.Dropped
	rep.LayerClasses = sortedCapped(w.layerClasses, lim.MaxListed)
	rep.CustomObjects = sortedCapped(w.custom, lim.MaxListed)
	if w.incomplete {
		rep.Complete = false
	}
	return rep
}

func sortedCapped(m map[string]bool, n int) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) > n {
		out = out[:n]
	}
	return out
}

type walker struct {
	lim          Limits
	where        string
	a            []node
	list         finding.List
	path         []seg
	anc          []node
	rep          *Report
	layerClasses map[string]bool
	custom       map[string]bool
	handled      map[uint32]bool // __lambda__ objects already judged as part of a Lambda layer
	embedded     int
	incomplete   bool
	search       int // nodes left for URL/stream searches around references, over the whole config
}

func (w *walker) loc() string {
	p := renderPath(w.path)
	switch {
	case w.where == "":
		return p
	case p == "":
		return w.where
	}
	return w.where + ":" + p
}

func (w *walker) add(rule string, lvl finding.Level, msg, evidence string) {
	w.list.Add(finding.Finding{Rule: rule, Level: lvl, Offset: -1, Where: w.loc(),
		Message: msg, Evidence: finding.Shorten(evidence, 512)})
}

func (w *walker) limit(msg string) {
	w.incomplete = true
	w.add(RuleLimit, finding.High, msg+"; the rest of the config was not analysed", "")
}

func (w *walker) run(data []byte) {
	if len(data) > w.lim.MaxConfigBytes {
		w.incomplete = true
		w.add(RuleLimit, finding.High, "config is "+strconv.Itoa(len(data))+" bytes, more than the "+
			strconv.Itoa(w.lim.MaxConfigBytes)+"-byte cap; it was not analysed", rawMarkers(data))
		return
	}
	text, enc, ok := decodeText(data)
	if !ok {
		w.incomplete = true
		w.add(RuleMalformed, finding.High, "config is not valid "+orUTF8(enc)+" text, so Python's json cannot read it; it was not analysed", rawMarkers(data))
		return
	}
	switch enc {
	case "":
	case "utf-8-sig":
		w.add(RuleEncoding, finding.Low, "config starts with a UTF-8 byte-order mark, which Keras never writes", "")
	default:
		w.add(RuleEncoding, finding.Medium, "config is "+enc+" encoded; Keras writes UTF-8, and tools that assume UTF-8 may skip it", "")
	}
	root, arena, dups, perr := parseJSON(text, w.lim.MaxDepth, w.lim.MaxNodes)
	for _, d := range dups {
		w.list.Add(finding.Finding{Rule: RuleDuplicateKey, Level: finding.Medium, Offset: -1,
			Where: w.whereFor(d.path), Message: "key " + strconv.Quote(finding.Shorten(d.key, 64)) +
				" appears twice in one object; Python keeps the last value, other parsers the first",
			Evidence: finding.Shorten(d.key, 128)})
	}
	if perr != nil {
		w.incomplete = true
		if perr.limit {
			w.add(RuleLimit, finding.High, "config JSON has "+perr.msg+" (at byte "+strconv.Itoa(perr.off)+"); it was not analysed", rawMarkers(text))
		} else {
			w.add(RuleMalformed, finding.High, "config is not valid JSON: "+perr.msg+" at byte "+strconv.Itoa(perr.off), rawMarkers(text))
		}
		return
	}
	w.a = arena
	if root.kind != kObject {
		w.add(RuleMalformed, finding.High, "config's top-level JSON value is not an object, so it is no Keras config", "")
		w.walk(root, false)
		return
	}
	if s, ok := w.str(root, "class_name"); ok {
		w.rep.ClassName = strings.Clone(s)
	}
	if cfg, ok := w.member(root, "config"); ok && cfg.kind == kObject {
		if s, ok := w.str(cfg, "name"); ok {
			w.rep.ModelName = strings.Clone(s)
		}
	}
	if w.rep.ModelName == "" {
		if s, ok := w.str(root, "name"); ok {
			w.rep.ModelName = strings.Clone(s)
		}
	}
	if s, ok := w.str(root, "keras_version"); ok {
		w.rep.KerasVersion = strings.Clone(s)
	}
	if s, ok := w.str(root, "backend"); ok {
		w.rep.Backend = strings.Clone(s)
	}
	w.walk(root, false)
}

func orUTF8(enc string) string {
	if enc == "" {
		return "UTF-8"
	}
	return enc
}

func (w *walker) whereFor(p string) string {
	switch {
	case w.where == "":
		return p
	case p == "":
		return w.where
	}
	return w.where + ":" + p
}

// rawMarkers lists risky words in text that could not be parsed, so a
// malformed config still tells what it tried to carry.
func rawMarkers(b []byte) string {
	var out []string
	for _, m := range []string{"Lambda", "__lambda__", "TorchModuleWrapper", "get_file",
		"enable_unsafe_deserialization", "\"module\"", "\"function_type\"", "builtins", "subprocess", "system"} {
		if bytes.Contains(b, []byte(m)) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "raw text mentions: " + strings.Join(out, ", ")
}

func (w *walker) kids(n node) []node {
	if n.kind != kObject && n.kind != kArray {
		return nil
	}
	return w.a[n.first : n.first+n.n]
}

// member returns the value of key in object o, the last one if repeated
// (what Python's json keeps).
func (w *walker) member(o node, key string) (node, bool) {
	if o.kind != kObject {
		return node{}, false
	}
	k := w.kids(o)
	for i := len(k) - 2; i >= 0; i -= 2 {
		if k[i].s == key {
			return k[i+1], true
		}
	}
	return node{}, false
}

func (w *walker) str(o node, key string) (string, bool) {
	v, ok := w.member(o, key)
	if !ok || v.kind != kString {
		return "", false
	}
	return v.s, true
}

func (w *walker) walk(n node, asLayer bool) {
	switch n.kind {
	case kObject:
		w.anc = append(w.anc, n)
		cls, hasCls := w.str(n, "class_name")
		if hasCls {
			w.object(n, cls, asLayer)
		}
		k := w.kids(n)
		for i := 0; i+1 < len(k); i += 2 {
			key, v := k[i].s, k[i+1]
			w.path = append(w.path, seg{key: key})
			switch {
			case v.kind == kArray && (key == "layers" || key == "cells" ||
				key == "config" && hasCls && (cls == "Sequential" || cls == "Model")):
				w.walkArray(v, true)
			case key == "layer" || key == "forward_layer" || key == "backward_layer" || key == "cell":
				w.walk(v, v.kind == kObject)
			default:
				w.walk(v, false)
			}
			w.path = w.path[:len(w.path)-1]
		}
		w.anc = w.anc[:len(w.anc)-1]
	case kArray:
		w.walkArray(n, false)
	}
}

func (w *walker) walkArray(n node, layers bool) {
	w.anc = append(w.anc, n)
	for _, v := range w.kids(n) {
		w.path = append(w.path, seg{idx: int(v.idx), isIdx: true})
		w.walk(v, layers && v.kind == kObject)
		w.path = w.path[:len(w.path)-1]
	}
	w.anc = w.anc[:len(w.anc)-1]
}

// object judges one {"class_name": ...} object.
func (w *walker) object(o node, cls string, asLayer bool) {
	if asLayer {
		w.rep.Layers++
		if len(w.layerClasses) < w.lim.MaxListed || w.layerClasses[cls] {
			w.layerClasses[strings.Clone(cls)] = true
		}
	}
	// tf_keras resolves "outer.Name" class names one attribute deep and
	// Keras 2 writes "package>Name": judge the class by its last part.
	base := cls
	if i := strings.LastIndexAny(base, ">."); i >= 0 && i+1 < len(base) {
		base = base[i+1:]
	}
	switch base {
	case "Lambda":
		w.lambdaLayer(o)
	case "__lambda__":
		if !w.handled[o.first] {
			w.rep.Lambdas++
			w.lambdaObject(o, "a __lambda__ object")
		}
	case "TFOpLambda", "SlicingOpLambda":
		w.tfOpLambda(o, base)
	case "TensorFlowOpLayer":
		w.tfOpLayer(o)
	case "ClassMethod", "InstanceMethod", "InstanceProperty":
		w.tfClassMethod(o, base)
	case "TorchModuleWrapper":
		w.torchWrapper(o)
	case "TFSMLayer":
		w.tfsmLayer(o)
	case "MeanMetricWrapper", "SumOverBatchSizeMetricWrapper", "LossFunctionWrapper":
		w.metricWrapper(o)
	}
	w.fileRefs(o)
	w.reference(o, cls, asLayer)
}

func (w *walker) layerName(o node) string {
	if s, ok := w.str(o, "name"); ok {
		return s
	}
	if cfg, ok := w.member(o, "config"); ok {
		if s, ok := w.str(cfg, "name"); ok {
			return s
		}
	}
	return ""
}

func quoteName(s string) string {
	if s == "" {
		return ""
	}
	return " " + strconv.Quote(finding.Shorten(s, 80))
}

func (w *walker) pushKeys(keys ...string) int {
	for _, k := range keys {
		w.path = append(w.path, seg{key: k})
	}
	return len(keys)
}

func (w *walker) pop(n int) { w.path = w.path[:len(w.path)-n] }
