package keras

import (
	"strconv"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// reference judges the object a config entry makes Keras resolve.
func (w *walker) reference(o node, cls string, asLayer bool) {
	if specialClasses[cls] {
		return // handled by deserialize_keras_object before any module lookup
	}
	name, isFn := cls, false
	switch cls {
	case "function":
		isFn = true
		name, _ = w.str(o, "config") // the function's name; a non-string makes Keras raise
	case "__typespec__":
		name, _ = w.str(o, "spec_name")
	}
	var mod *string
	if m, ok := w.member(o, "module"); ok && m.kind == kString {
		mod = &m.s
	}
	reg, _ := w.str(o, "registered_name")
	w.judgeRef(mod, name, isFn, reg, w.context(o, asLayer))
}

// context names the object for messages: the layer, or the config key
// holding it ("loss", "kernel_initializer", "metrics" entry).
func (w *walker) context(o node, asLayer bool) string {
	if asLayer {
		if n := w.layerName(o); n != "" {
			return "layer" + quoteName(n)
		}
		return "a layer"
	}
	for i := len(w.path) - 1; i >= 0 && i >= len(w.path)-2; i-- {
		if !w.path[i].isIdx {
			ctx := strconv.Quote(finding.Shorten(w.path[i].key, 40))
			if i < len(w.path)-1 {
				ctx += " entry"
			}
			return ctx
		}
	}
	return "config object"
}

// customName returns the custom registration a "package>name" string
// stands for, or "" when it is a Keras-family registration. tf.keras 2.11+
// writes its own optimizers as "Custom>Adam": a Keras class under "Custom"
// is not custom.
func customName(s string) string {
	pkg, nm, ok := strings.Cut(s, ">")
	if !ok {
		return ""
	}
	if kerasPackages[pkg] || pkg == "Custom" && knownClass(nm) {
		return ""
	}
	return s
}

func knownName(name string, isFn bool) bool {
	if isFn {
		_, ok := kerasFunctions[name]
		return ok
	}
	return knownClass(name)
}

func (w *walker) addCustom(name string) {
	if len(w.custom) < w.lim.MaxListed || w.custom[name] {
		w.custom[strings.Clone(name)] = true
	}
}

// judgeRef judges a module/name reference. mod is nil when the config has
// no module (legacy configs: Keras resolves the name from its own tables
// and custom_objects and never imports). ctx prefixes the message.
func (w *walker) judgeRef(mod *string, name string, isFn bool, reg string, ctx string) {
	what := "class"
	if isFn {
		what = "function"
	}
	if ctx == "" {
		ctx = "config"
	}
	custom := customName(reg)
	base := name
	if c := customName(name); c != "" {
		custom = c
	}
	if _, nm, ok := strings.Cut(name, ">"); ok {
		base = nm
	}
	full := base
	if mod != nil && *mod != "" {
		full = *mod + "." + base
	}
	ev := finding.Shorten(full, 200)
	if reg != "" && reg != name {
		ev += " (registered_name " + strconv.Quote(finding.Shorten(reg, 100)) + ")"
	}

	if mod == nil || *mod == "" {
		if custom == "" && base != "" && !knownName(base, isFn) && !isFn {
			custom = name
		}
		if custom != "" {
			w.customFinding(ctx, what, custom, ev)
		}
		return
	}
	m := *mod
	root, _, _ := strings.Cut(m, ".")
	comps := append(strings.Split(m, "."), strings.Split(base, ".")...)
	for _, c := range comps {
		if isDunder(c) && c != "__main__" {
			w.add(RuleModuleReference, finding.Critical, ctx+" names "+strconv.Quote(finding.Shorten(full, 120))+
				", reaching the dunder attribute "+c+" when Keras imports it", ev)
			return
		}
	}
	switch {
	case m == "builtins" || m == "__builtin__":
		w.builtinRef(name, base, isFn, custom, ctx, what, ev)
		if _, ok := pythonBuiltins[reg]; ok && fallbackName(reg, base) {
			lvl := finding.High
			if dangerousBuiltins[reg] {
				lvl = finding.Critical
			}
			w.add(RuleModuleReference, lvl, ctx+" has the registered_name "+strconv.Quote(reg)+
				", which Keras 3.0-3.8 take from the builtins module when class_name is not found there", ev)
		}
		return
	case dangerousModule(m):
		w.add(RuleModuleReference, finding.Critical, ctx+" makes Keras import "+strconv.Quote(finding.Shorten(m, 80))+
			" and take the "+what+" "+strconv.Quote(finding.Shorten(base, 80))+" from it, which reaches the OS or the interpreter (CVE-2025-1550)", ev)
		return
	case m == "__main__":
		// Keras < 3.? wrote __main__ for objects defined in the saving script.
		// tf_keras imports __main__ (the loading script) and follows one dot.
		if strings.Contains(base, ".") || dangerousBuiltins[base] || dangerousRoots[base] {
			w.add(RuleModuleReference, finding.Critical, ctx+" takes "+strconv.Quote(finding.Shorten(base, 80))+
				" from the loading program's __main__ module, reaching whatever that program imported", ev)
			return
		}
		if custom == "" {
			custom = "__main__." + base
		}
		w.customFinding(ctx, what, custom, ev)
		return
	case allowedRoots[root]:
		if w.kerasRef(m, base, isFn, ctx, what, ev); fallbackName(reg, base) {
			// Keras 3.0-3.8 fall back to vars(module).get(registered_name)
			// when the module has no attribute class_name.
			w.kerasRef(m, reg, isFn, ctx+" (through its registered_name)", what, ev)
		}
		if custom != "" {
			w.customFinding(ctx, what, custom, ev)
		}
		return
	}
	w.add(RuleModuleReference, finding.High, ctx+" makes Keras import "+strconv.Quote(finding.Shorten(m, 80))+
		", a module outside Keras and TensorFlow (Keras < 3.9 and tf_keras import any module named here; CVE-2025-1550)", ev)
	if custom == "" {
		custom = full
	}
	w.addCustom(custom)
}

func (w *walker) customFinding(ctx, what, custom, ev string) {
	w.addCustom(custom)
	w.add(RuleCustomObject, finding.Medium, ctx+" needs the custom "+what+" "+strconv.Quote(finding.Shorten(custom, 100))+
		", which is not part of Keras: loading requires the author's code", ev)
}

// builtinRef judges {"module": "builtins"}. Keras 3 writes every function
// object as {"module": "builtins", "class_name": "function", "config":
// NAME, "registered_name": "function"} and resolves NAME in its own
// activations/losses/metrics/...; older versions and tf_keras then fall
// back to vars(builtins)[NAME].
func (w *walker) builtinRef(name, base string, isFn bool, custom, ctx, what, ev string) {
	if isFn {
		switch {
		case custom != "":
			w.customFinding(ctx, what, custom, ev)
			return
		case base == "":
			return
		}
		if _, ok := kerasFunctions[base]; ok {
			return
		}
	}
	if _, ok := pythonBuiltins[base]; ok {
		lvl := finding.High
		if dangerousBuiltins[base] {
			lvl = finding.Critical
		}
		w.add(RuleModuleReference, lvl, ctx+" resolves to the Python builtin "+strconv.Quote(base)+
			", which is no Keras object (Keras < 3.9 and tf_keras take it from the builtins module)", ev)
		return
	}
	if strings.Contains(base, ".") {
		w.add(RuleModuleReference, finding.High, ctx+" names the builtins attribute path "+strconv.Quote(finding.Shorten(base, 80))+
			", which is no Keras object", ev)
		return
	}
	if !isFn {
		w.add(RuleModuleReference, finding.High, ctx+" names the class "+strconv.Quote(finding.Shorten(base, 80))+
			" in the builtins module, which Keras never writes", ev)
		return
	}
	if custom == "" {
		custom = base
	}
	w.customFinding(ctx, what, custom, ev)
}

// fallbackName reports whether registered_name reg is a plain attribute
// name, different from base, that Keras 3.0-3.8 look up in the module
// (serialization_lib._retrieve_class_or_fn: vars(mod).get(registered_name))
// when base is not found there.
func fallbackName(reg, base string) bool {
	return reg != "" && reg != base && !strings.Contains(reg, ".") && isIdentPath(reg)
}

// kerasRef judges a reference into Keras or TensorFlow: allowed, except the
// gadgets that act outside the model. It reports whether it added a finding.
func (w *walker) kerasRef(m, base string, isFn bool, ctx, what, ev string) bool {
	comps := append(strings.Split(m, "."), strings.Split(base, ".")...)
	last := comps[len(comps)-1]
	switch last {
	case "get_file":
		w.add(RuleGetFile, finding.Critical, ctx+" reaches "+qs(m+"."+base)+", which downloads a URL to a chosen path during loading (CVE-2025-8747)",
			ev+w.urlsNear())
		return true
	case "enable_unsafe_deserialization":
		w.add(RuleUnsafeToggle, finding.Critical, ctx+" calls "+qs(m+"."+base)+", switching off safe_mode so embedded bytecode runs (CVE-2025-9906)", ev)
		return true
	case "TorchModuleWrapper", "TFSMLayer":
		return false // judged by their own rules
	}
	if globalStateSetter(comps) {
		if w.nearHas("safe_mode_saving") {
			w.add(RuleUnsafeToggle, finding.Critical, ctx+" calls "+qs(m+"."+base)+
				" with \"safe_mode_saving\", switching off safe_mode so embedded bytecode runs (what enable_unsafe_deserialization does)", ev)
			return true
		}
		w.add(RuleNonModelingAPI, finding.High, ctx+" calls "+qs(m+"."+base)+
			", which changes Keras' process-wide state (safe_mode, backend, dtype policy) during loading", ev)
		return true
	}
	if nonModeling(comps) {
		w.add(RuleNonModelingAPI, finding.High, ctx+" reaches "+strconv.Quote(finding.Shorten(m+"."+base, 120))+
			", a Keras "+what+" with side effects outside the model (files, downloads, global state)", ev)
		return true
	}
	if root := comps[0]; root == "tensorflow" || root == "tf" {
		if isPrint(last) {
			msg := ", which prints its arguments when called"
			if w.nearHas("file://") {
				msg = " with a file:// output_stream: it appends attacker-chosen text to any file when called"
			}
			w.add(RuleModuleReference, finding.High, ctx+" reaches the TensorFlow function "+qs(m+"."+base)+msg+
				" (no model config names it)", ev)
			return true
		}
		if tfDangerousPath(comps[1:]) {
			w.add(RuleModuleReference, finding.High, ctx+" reaches the TensorFlow API "+strconv.Quote(finding.Shorten(m+"."+base, 120))+
				", which reads or writes files, runs Python, loads libraries or opens network services", ev)
			return true
		}
	}
	return false
}

// globalStateSetter reports Keras' global_state setters
// (keras.src.backend.common.global_state.set_global_attribute and friends):
// set_global_attribute("safe_mode_saving", False) disables safe_mode.
func globalStateSetter(comps []string) bool {
	last := comps[len(comps)-1]
	if last == "set_global_attribute" {
		return true
	}
	for _, c := range comps[:len(comps)-1] {
		if c == "global_state" {
			return true
		}
	}
	return false
}

func isPrint(name string) bool {
	switch name {
	case "print", "print_v2", "Print", "PrintV2":
		return true
	}
	return false
}

// nearHas reports whether a string containing sub is in the current object
// or up to three enclosing containers (where Functional keeps a called
// object's arguments).
func (w *walker) nearHas(sub string) bool {
	for i := len(w.anc) - 1; i >= 0 && i >= len(w.anc)-4; i-- {
		if w.subtreeHas(w.anc[i], sub) {
			return true
		}
	}
	return false
}

func nonModeling(comps []string) bool {
	last := comps[len(comps)-1]
	if nonModelingNames[last] {
		return true
	}
	for i, c := range comps[:len(comps)-1] {
		if nonModelingComponents[c] {
			return true
		}
		if c == "applications" && i > 0 && last != "preprocess_input" {
			return true // application constructors and decode_predictions download weights/indexes
		}
	}
	return false
}

// urlsNear collects URL-looking strings around the current object (its
// own subtree and up to three enclosing containers: Functional passes a
// called object's arguments in the layer's inbound_nodes).
func (w *walker) urlsNear() string {
	var urls []string
	budget := min(20000, w.search)
	defer func() { w.search -= min(20000, w.search) - max(budget, 0) }()
	var visit func(n node)
	visit = func(n node) {
		if budget <= 0 || len(urls) >= 3 {
			return
		}
		budget--
		switch n.kind {
		case kString:
			if isURL(n.s) {
				for _, u := range urls {
					if u == n.s {
						return
					}
				}
				urls = append(urls, n.s)
			}
		case kObject, kArray:
			for _, c := range w.kids(n) {
				visit(c)
			}
		}
	}
	for i := len(w.anc) - 1; i >= 0 && i >= len(w.anc)-4; i-- {
		visit(w.anc[i])
	}
	if len(urls) == 0 {
		return ""
	}
	q := make([]string, len(urls))
	for i, u := range urls {
		q[i] = strconv.Quote(finding.Shorten(u, 200))
	}
	return " url=" + strings.Join(q, " ")
}

func isURL(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 || i > 10 {
		return false
	}
	for _, c := range s[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// qs quotes a config value for a one-line message.
func qs(s string) string { return strconv.Quote(finding.Shorten(s, 120)) }
