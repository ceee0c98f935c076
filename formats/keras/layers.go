package keras

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// tfOpLambda judges tf.keras' TFOpLambda/SlicingOpLambda: config.function
// is a TensorFlow API name ("math.add", "__operators__.getitem") that
// from_config resolves with get_symbol_from_name and calls with the
// inbound node's arguments.
func (w *walker) tfOpLambda(o node, cls string) {
	cfg, _ := w.member(o, "config")
	sym, ok := w.str(cfg, "function")
	if !ok {
		return
	}
	n := w.pushKeys("config", "function")
	defer w.pop(n)
	w.judgeTFSymbol(o, cls, sym)
}

// tfClassMethod judges tf.keras' ClassMethod/InstanceMethod/InstanceProperty
// layers (a tf class method such as tf.RaggedTensor.from_row_lengths).
func (w *walker) tfClassMethod(o node, cls string) {
	cfg, _ := w.member(o, "config")
	sym, ok := w.str(cfg, "cls_symbol")
	if !ok {
		return
	}
	if m, ok := w.str(cfg, "method_name"); ok {
		sym += "." + m
	}
	n := w.pushKeys("config")
	defer w.pop(n)
	w.judgeTFSymbol(o, cls, sym)
}

func (w *walker) judgeTFSymbol(o node, cls, sym string) {
	ev := "tf." + finding.Shorten(sym, 160)
	if !isIdentPath(sym) {
		w.add(RuleTFOp, finding.High, cls+" names "+strconv.Quote(finding.Shorten(sym, 80))+
			", which is not a TensorFlow API symbol name", ev)
		return
	}
	comps := strings.Split(sym, ".")
	last := comps[len(comps)-1]
	for i, c := range comps {
		if isDunder(c) && !(i == 0 && c == "__operators__") {
			w.add(RuleTFOp, finding.High, cls+" names tf."+finding.Shorten(sym, 80)+", reaching the dunder attribute "+c, ev)
			return
		}
	}
	if len(comps) > 1 && (comps[0] == "keras" || comps[0] == "compat" && len(comps) > 2 && comps[2] == "keras") {
		if last == "get_file" || nonModeling(comps) {
			w.add(RuleTFOp, finding.High, cls+" calls tf."+finding.Shorten(sym, 80)+
				", a Keras function with side effects outside the model", ev+w.urlsNear())
			return
		}
	}
	if tfDangerousPath(comps) {
		w.add(RuleTFOp, finding.High, cls+" calls tf."+finding.Shorten(sym, 80)+
			" when the model runs, which reads or writes files, runs Python or loads libraries", ev)
		return
	}
	if isPrint(last) && w.subtreeHas(o, "file://") {
		w.add(RuleTFOp, finding.High, cls+" calls tf."+sym+" with a file:// output stream: the model writes a file when it runs", ev)
		return
	}
	w.add(RuleTFOp, finding.Info, cls+" wraps the TensorFlow op tf."+finding.Shorten(sym, 80), ev)
}

// tfOpLayer judges tf.keras' TensorFlowOpLayer, which runs the NodeDef in
// config.node_def.
func (w *walker) tfOpLayer(o node) {
	cfg, _ := w.member(o, "config")
	nd, _ := w.member(cfg, "node_def")
	op, ok := w.str(nd, "op")
	if !ok {
		return
	}
	n := w.pushKeys("config", "node_def", "op")
	defer w.pop(n)
	if dangerousTFOps[op] {
		w.add(RuleTFOp, finding.High, "TensorFlowOpLayer runs the TensorFlow op "+strconv.Quote(finding.Shorten(op, 80))+
			", which touches files or runs Python when the model runs", op)
		return
	}
	w.add(RuleTFOp, finding.Info, "TensorFlowOpLayer runs the TensorFlow op "+strconv.Quote(finding.Shorten(op, 80)), op)
}

// torchWrapper reports Keras 3's TorchModuleWrapper, whose config.module is
// base64 torch.save bytes that from_config passes to torch.load.
func (w *walker) torchWrapper(o node) {
	cfg, _ := w.member(o, "config")
	n := w.pushKeys("config", "module")
	defer w.pop(n)
	ev := "no embedded module"
	if s, ok := w.str(cfg, "module"); ok {
		data, ok := pyBase64Decode(s)
		switch {
		case !ok:
			ev = strconv.Itoa(len(s)) + " characters that are not valid base64"
		default:
			ev = strconv.Itoa(len(data)) + " bytes of " + sniffTorch(data)
			if w.embedded+len(data) > w.lim.MaxEmbeddedBytes {
				w.limit("embedded torch.save payloads exceed the cap; this one is not handed on for scanning")
			} else {
				w.embedded += len(data)
				w.rep.Embedded = append(w.rep.Embedded, Embedded{Where: w.loc(), Kind: "torch.save", Data: data})
			}
		}
	}
	w.add(RuleTorchModuleWrapper, finding.Critical, "TorchModuleWrapper layer"+quoteName(w.layerName(o))+
		" embeds a torch.save payload that Keras torch.loads (a pickle) when the model is loaded (CVE-2025-49655)", ev)
}

func sniffTorch(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "PyTorch zip"
	case len(b) >= 2 && b[0] == 0x80 && b[1] <= 5:
		return "pickle (protocol " + strconv.Itoa(int(b[1])) + ")"
	}
	return "unrecognised data"
}

// tfsmLayer reports Keras 3's TFSMLayer, which loads a TensorFlow
// SavedModel from config.filepath when the model is built.
func (w *walker) tfsmLayer(o node) {
	cfg, _ := w.member(o, "config")
	p, _ := w.str(cfg, "filepath")
	n := w.pushKeys("config", "filepath")
	defer w.pop(n)
	w.add(RuleFileReference, finding.High, "TFSMLayer"+quoteName(w.layerName(o))+" loads the TensorFlow SavedModel at "+
		strconv.Quote(finding.Shorten(p, 120))+" when the model is loaded; that SavedModel's ops run with it", p)
}

// metricWrapper judges tf.keras' MeanMetricWrapper config.fn, a function
// name looked up among Keras' metrics and losses or custom_objects.
func (w *walker) metricWrapper(o node) {
	cfg, _ := w.member(o, "config")
	fn, ok := w.str(cfg, "fn")
	if !ok {
		return
	}
	if _, known := kerasFunctions[fn]; known || fn == "" {
		return
	}
	n := w.pushKeys("config", "fn")
	defer w.pop(n)
	c := fn
	if strings.Contains(fn, ">") {
		if c = customName(fn); c == "" {
			return // a Keras-family registration
		}
	}
	w.customFinding("metric wrapper", "function", c, fn)
}

// fileRefKeys are layer-config keys that Keras treats as a file path when
// they hold a string: lookup-layer and TextVectorization vocabularies,
// BytePairTokenizer merges, SentencePieceTokenizer protos.
var fileRefKeys = []string{"vocabulary", "merges", "proto"}

func (w *walker) fileRefs(o node) {
	cfg, ok := w.member(o, "config")
	if !ok || cfg.kind != kObject {
		return
	}
	for _, k := range fileRefKeys {
		p, ok := w.str(cfg, k)
		if !ok || p == "" {
			continue
		}
		lvl := finding.Low
		if riskyPath(p) {
			lvl = finding.Medium
		}
		n := w.pushKeys("config", k)
		w.add(RuleFileReference, lvl, "layer"+quoteName(w.layerName(o))+" reads its "+k+" from the path "+
			strconv.Quote(finding.Shorten(p, 120))+" when the model is loaded", p)
		w.pop(n)
	}
}

// riskyPath: absolute, home-relative, climbing, or remote (TensorFlow's file
// systems open gs://, s3://, hdfs://, http(s)://).
func riskyPath(p string) bool {
	switch {
	case strings.HasPrefix(p, "/"), strings.HasPrefix(p, "\\"), strings.HasPrefix(p, "~"),
		len(p) >= 2 && p[1] == ':', strings.Contains(p, "://"):
		return true
	}
	for _, part := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return true
		}
	}
	return false
}

func (w *walker) subtreeHas(n node, sub string) bool {
	budget := min(20000, w.search)
	defer func() { w.search -= min(20000, w.search) - max(budget, 0) }()
	var visit func(n node) bool
	visit = func(n node) bool {
		if budget--; budget < 0 {
			return false
		}
		switch n.kind {
		case kString:
			return strings.Contains(n.s, sub)
		case kObject, kArray:
			for _, c := range w.kids(n) {
				if visit(c) {
					return true
				}
			}
		}
		return false
	}
	return visit(n)
}
