// Package jinja finds server-side template injection in the Jinja chat
// templates that model files carry (GGUF tokenizer.chat_template, the
// chat_template of a Hugging Face tokenizer_config.json). Inference servers
// render those templates with Jinja2; a template that reaches Python
// internals ("".__class__.__mro__…, cycler.__init__.__globals__.os…) runs
// code on the server (CVE-2024-34359, "Llama Drama").
//
// Analyse never renders or evaluates a template. It lexes and parses it as
// Jinja2 3.1 does (with the settings transformers and llama-cpp-python use),
// then walks the tree with a small abstract interpreter that folds the
// strings and integers the template builds from its own constants (`~`,
// `+`, `%`, |format, |join, |replace, |reverse, slices, dict(...)|join,
// {% set %} chains, macro arguments, loops over constant lists…), so an
// attribute name assembled in pieces is judged by its final value. Values
// that mix template constants with runtime data keep the constants that may
// flow in (x|default('_') is '_' or unknown; '%c' % n is one unknown
// character; 'a' ~ x is a pattern with a hole), so a name built partly at
// render time is judged by what it may be. Every
// attribute or item access, |attr, attribute= argument and str.format field
// is checked against the names that lead out of the template: dunders,
// private (underscore) names, and module or frame attributes.
package jinja

import (
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// Limits caps the work Analyse does on one template. A zero field takes
// its default.
type Limits struct {
	MaxSourceBytes int // template size; default 1 MiB
	MaxTokens      int // lexer tokens; default 262144
	MaxDepth       int // nesting of expressions and statements; default 256
	MaxStringBytes int // length of one folded string; default 64 KiB
	MaxSteps       int // abstract-interpretation work units; default 4,000,000
	MaxFindings    int // findings kept per rule; default 16
}

// DefaultLimits returns the documented defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxSourceBytes: 1 << 20,
		MaxTokens:      1 << 18,
		MaxDepth:       256,
		MaxStringBytes: 64 << 10,
		MaxSteps:       1_000_000,
		MaxFindings:    16,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxSourceBytes <= 0 {
		l.MaxSourceBytes = d.MaxSourceBytes
	}
	if l.MaxTokens <= 0 {
		l.MaxTokens = d.MaxTokens
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxStringBytes <= 0 {
		l.MaxStringBytes = d.MaxStringBytes
	}
	if l.MaxSteps <= 0 {
		l.MaxSteps = d.MaxSteps
	}
	if l.MaxFindings <= 0 {
		l.MaxFindings = d.MaxFindings
	}
	return l
}

// Report is the result for one template. Offsets in findings are byte
// offsets into the text given to Analyse; Where is left empty for the
// caller (it knows the metadata key or template name).
type Report struct {
	Findings []finding.Finding
	Complete bool // false when a cap stopped the analysis or the template could not be parsed
	Tokens   int  // tokens the lexer produced
	Dropped  int  // findings dropped by the per-rule cap
}

// Rule ids. They are part of hallmark's public output: never rename.
const (
	RuleDunder      = "template/dunder-access"
	RulePrivate     = "template/private-attribute"
	RuleDunderStr   = "template/dunder-string"
	RuleDynamicAttr = "template/dynamic-attribute"
	RuleDangerAttr  = "template/dangerous-attribute"
	RuleDangerCall  = "template/dangerous-call"
	RuleGlobal      = "template/sensitive-global"
	RuleInclude     = "template/include"
	RuleSuspicious  = "template/suspicious-string"
	RuleUnparseable = "template/unparseable"
	RuleLimit       = "template/limit"
)

// Rules documents every rule id this package reports.
var Rules = []finding.Doc{
	{ID: RuleDunder, Short: "Template reaches a Python dunder attribute (critical)",
		Help: "The template reads a double-underscore attribute such as __class__, __globals__, __subclasses__ or __init__, " +
			"directly, through |attr, attribute=, a str.format field, or by a name it assembles from string pieces. " +
			"This is the first step of every Jinja server-side template injection (CVE-2024-34359 'Llama Drama'): from any " +
			"object it walks to Python's globals and runs commands on the inference server when the chat template is rendered. " +
			"Real chat templates never do this. Do not serve the model; replace the template with the publisher's original."},
	{ID: RulePrivate, Short: "Template reaches an underscore-prefixed (private) attribute",
		Help: "The template reads an attribute whose name starts with '_', for example self._TemplateReference__context " +
			"(a name-mangled private attribute, critical) which exposes Jinja's runtime context and environment. " +
			"Jinja's sandbox blocks such names because they lead out of the template; real chat templates do not use them. " +
			"Item access with such a key (x['_y']) is reported at low: it is usually data, though Jinja falls back to attribute lookup. " +
			"Treat the template as hostile unless the access is explained."},
	{ID: RuleDunderStr, Short: "Template builds a string naming a dunder attribute",
		Help: "A string the template contains or computes (or an identifier it uses) names a dunder such as __class__ or " +
			"__globals__ without the analysis seeing it used as an attribute. Template-injection payloads build these names " +
			"to dodge filters. A Python special name (__class__, __globals__, __doc__…, or a frame attribute such as f_globals) is " +
			"high; another double-underscore word that is only prose (markdown bold such as __English__) is info. Inspect the template."},
	{ID: RuleDynamicAttr, Short: "Attribute name computed at render time",
		Help: "The template reads an attribute whose name it computes (|attr(x), map(attribute=x), a filter chosen by a " +
			"variable, or x[key] with a key built from the template's own constants that the analysis could not resolve). " +
			"An attribute= argument that comes only from render-time data (not from the template) is low. " +
			"A computed attribute name is how injection payloads hide __class__ and __globals__. Real chat templates use " +
			"fixed attribute names. Review the template."},
	{ID: RuleDangerAttr, Short: "Template reaches a module, process or frame attribute",
		Help: "The template reads an attribute such as os, popen, subprocess, builtins, eval, environ or f_globals, or calls " +
			".system(), .open(), .read(). These names belong to Python modules and frames, not to chat messages; reaching " +
			"them means the template is trying to run commands or read files on the server. Do not render it."},
	{ID: RuleDangerCall, Short: "Template calls a Python builtin by name",
		Help: "The template calls eval, exec, open, getattr, __import__ or a similar Python builtin. Jinja does not provide " +
			"them, so a standard renderer fails, but a renderer that exposes Python builtins would run code. Real chat " +
			"templates never call them."},
	{ID: RuleGlobal, Short: "Template touches a Jinja or Flask global that leads to Python internals",
		Help: "The template refers to self, cycler, joiner, lipsum, config, request, url_for, g or session, or reads an " +
			"attribute of the namespace, range or dict globals themselves (cycler.__init__, lipsum.__globals__, " +
			"request.application…). These objects are the usual starting points of Jinja injection chains. A bare " +
			"reference is medium; attribute access on the global object is high. Real chat templates call namespace(), " +
			"range() and dict() but never do this."},
	{ID: RuleInclude, Short: "Template loads other templates",
		Help: "The template uses {% include %}, {% import %}, {% from … import %} or {% extends %}. A chat template is a " +
			"self-contained program; loading other templates can read files from the server's template search path or " +
			"pull in code the scanner never saw. Real chat templates do not do this."},
	{ID: RuleSuspicious, Short: "String literal names a command-execution primitive",
		Help: "A string the template contains names a shell or Python command primitive (os.system, popen, subprocess, " +
			"import os, /bin/sh, eval(…). Alone this is not an exploit, but it is what an injection payload passes to the " +
			"functions it reaches. Read the template around it."},
	{ID: RuleUnparseable, Short: "Template cannot be parsed as Jinja",
		Help: "hallmark could not lex or parse the template the way Jinja2 3.1 does, so it could not check it. A renderer " +
			"may still accept it (other Jinja implementations are more lenient), so the file is not considered clean. " +
			"Inspect the template; the message says where parsing stopped."},
	{ID: RuleLimit, Short: "A scan limit stopped the template analysis",
		Help: "The template is larger, deeper or more expensive to analyse than hallmark's limits allow (source size, token " +
			"count, nesting depth, folded string length or analysis steps), so part of it was not checked. Real chat " +
			"templates are far below these limits; an oversized one is suspicious in itself."},
}

// Analyse checks one chat template. It never renders or evaluates it.
func Analyse(src string, lim Limits) Report {
	lim = lim.withDefaults()
	a := newAnalysis(src, lim)
	a.run()
	return a.report()
}

func (a *analysis) run() {
	if len(a.src) > a.lim.MaxSourceBytes {
		a.limitAt(0, "template size")
		a.scanRaw(a.src[:a.lim.MaxSourceBytes])
		return
	}
	a.norm, a.m = normalize(a.src)
	toks, err := lex(a.norm, a.lim.MaxTokens)
	a.tokens = len(toks)
	if err != nil {
		a.failed(err)
		a.scanTokens(toks)
		return
	}
	body, err := parseTemplate(toks, len(a.norm), a.lim.MaxDepth)
	if err != nil {
		a.failed(err)
		a.scanTokens(toks)
		return
	}
	in := newInterp(a)
	in.run(body)
}

func (a *analysis) failed(err error) {
	switch e := err.(type) {
	case *limitError:
		a.limitAt(e.off, e.what)
	case *syntaxError:
		a.complete = false
		a.add(RuleUnparseable, finding.High, span{e.off, e.off + 40}, "",
			"template is not valid Jinja ("+e.msg+"): it cannot be checked, so it is not considered safe")
	}
}

// scanTokens is the fallback for a template that did not parse: it still
// reports dunder names in string literals and attribute names.
func (a *analysis) scanTokens(toks []token) {
	for i := range toks {
		t := &toks[i]
		sp := span{t.off, t.end}
		switch t.kind {
		case tString:
			for _, d := range dundersIn(t.sval, 4) {
				lvl, why := proseLevel(d)
				a.add(RuleDunderStr, lvl, sp, d, "string literal names "+quote(d)+" in a template that does not parse"+why)
			}
		case tName:
			if i > 0 && isOp(&toks[i-1], ".") && isDunder(t.text) {
				a.add(RuleDunder, finding.Critical, sp, t.text, "attribute "+quote(t.text)+" read in a template that does not parse")
				a.accessed[t.text] = true
			} else if d := dunderIn(t.text); d != "" {
				lvl, why := proseLevel(d)
				a.add(RuleDunderStr, lvl, sp, d, "identifier names "+quote(d)+" in a template that does not parse"+why)
			}
			if i > 0 && toks[i-1].kind == tBlockBegin {
				switch t.text {
				case "include", "import", "from", "extends":
					a.add(RuleInclude, finding.High, sp, t.text, "{% "+t.text+" %} loads another template")
				}
			}
		}
	}
}

// scanRaw looks for dunder names in text too large to parse.
func (a *analysis) scanRaw(s string) {
	for i := 0; i < len(s) && len(a.list.Findings) < 64; {
		k := strings.Index(s[i:], "__")
		if k < 0 {
			return
		}
		st := i + k
		lo := st
		for lo > i && (isASCIIAlnum(s[lo-1]) || s[lo-1] == '_') {
			lo--
		}
		hi := st
		for hi < len(s) && (isASCIIAlnum(s[hi]) || s[hi] == '_') {
			hi++
		}
		if d := dunderIn(s[lo:hi]); d != "" {
			lvl, why := proseLevel(d)
			a.addOrig(RuleDunderStr, lvl, int64(lo), s[lo:hi], d, "text names "+quote(d)+" in a template too large to parse"+why)
		}
		i = hi + 1
	}
}
