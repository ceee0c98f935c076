package jinja

import (
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// The abstract interpreter walks every statement at least once: both
// branches of an if (their states joined), loop bodies (unrolled over
// constant lists, otherwise run twice and widened), macro bodies at their
// definition and again at call sites whose arguments it knows. It only
// folds constants; nothing is rendered. When the work budget runs out it
// degrades to one linear pass so every node is still checked.

const (
	maxUnroll    = 64
	maxCallDepth = 6
)

type nsKey struct {
	site int
	attr string
}

type state struct {
	scopes []map[string]av
	heap   map[nsKey]av
}

func (s *state) size() int {
	n := len(s.heap)
	for _, m := range s.scopes {
		n += len(m)
	}
	return n
}

func (s *state) clone() state {
	c := state{scopes: make([]map[string]av, len(s.scopes)), heap: make(map[nsKey]av, len(s.heap))}
	for i, m := range s.scopes {
		n := make(map[string]av, len(m))
		for k, v := range m {
			n[k] = v
		}
		c.scopes[i] = n
	}
	for k, v := range s.heap {
		c.heap[k] = v
	}
	return c
}

func (s *state) lookupFrom(level int, name string) (av, bool) {
	for i := min(level, len(s.scopes)-1); i >= 0; i-- {
		if v, ok := s.scopes[i][name]; ok {
			return v, true
		}
	}
	return av{}, false
}

type interp struct {
	a         *analysis
	st        state
	macros    []*macroStmt
	callers   map[*callBlockStmt]int // call blocks as macros
	memo      map[string]av
	callDepth int
	steps     int
	degraded  bool
	maxStr    int
}

func newInterp(a *analysis) *interp {
	return &interp{
		a:       a,
		st:      state{scopes: []map[string]av{{}}, heap: map[nsKey]av{}},
		memo:    map[string]av{},
		callers: map[*callBlockStmt]int{},
		maxStr:  a.lim.MaxStringBytes,
	}
}

func (in *interp) run(body []stmt) {
	in.exec(body, nil)
	in.a.steps = in.steps
}

// step charges n work units; past the budget the analysis degrades.
func (in *interp) step(n int, off int) {
	in.steps += n
	if in.steps > in.a.lim.MaxSteps && !in.degraded {
		in.degraded = true
		in.a.limitAt(off, "analysis steps")
	}
}

func (in *interp) push() { in.st.scopes = append(in.st.scopes, map[string]av{}) }
func (in *interp) pop()  { in.st.scopes = in.st.scopes[:len(in.st.scopes)-1] }

func (in *interp) lookup(name string) (av, bool) {
	return in.st.lookupFrom(len(in.st.scopes)-1, name)
}

func (in *interp) assign(name string, v av) { in.st.scopes[len(in.st.scopes)-1][name] = v }

// bound says whether a name is assigned anywhere in the current scopes.
func (in *interp) bound(name string) bool {
	_, ok := in.lookup(name)
	return ok
}

// cloneState copies the current state, charging its size to the budget.
func (in *interp) cloneState() state {
	in.step(in.st.size(), 0)
	return in.st.clone()
}

// joinStates merges the states after two branches that started alike.
func (in *interp) joinStates(x, y state) state {
	in.step(x.size()+y.size(), 0)
	n := min(len(x.scopes), len(y.scopes))
	out := state{scopes: make([]map[string]av, n), heap: make(map[nsKey]av, len(x.heap))}
	for l := 0; l < n; l++ {
		m := make(map[string]av, len(x.scopes[l]))
		for _, src := range []map[string]av{x.scopes[l], y.scopes[l]} {
			for k := range src {
				if _, done := m[k]; done {
					continue
				}
				va, ok := x.lookupFrom(l, k)
				if !ok {
					va = in.globalValue(k)
				}
				vb, ok := y.lookupFrom(l, k)
				if !ok {
					vb = in.globalValue(k)
				}
				m[k] = join(va, vb)
			}
		}
		out.scopes[l] = m
	}
	for _, src := range []map[nsKey]av{x.heap, y.heap} {
		for k := range src {
			if _, done := out.heap[k]; done {
				continue
			}
			va, ok := x.heap[k]
			if !ok {
				va = undefAV
			}
			vb, ok := y.heap[k]
			if !ok {
				vb = undefAV
			}
			out.heap[k] = join(va, vb)
		}
	}
	return out
}

// widenStates turns into top what changed between two loop passes.
func widenStates(prev, cur state) state {
	for l := range cur.scopes {
		if l >= len(prev.scopes) {
			break
		}
		for k, v := range cur.scopes[l] {
			if p, ok := prev.scopes[l][k]; !ok || !eqAV(p, v) {
				if ok {
					cur.scopes[l][k] = widen(p, v)
				} else {
					cur.scopes[l][k] = widen(v, v)
				}
			}
		}
	}
	for k, v := range cur.heap {
		if p, ok := prev.heap[k]; !ok || !eqAV(p, v) {
			if ok {
				cur.heap[k] = widen(p, v)
			} else {
				cur.heap[k] = widen(v, v)
			}
		}
	}
	return cur
}

// ---- statements ----

func (in *interp) exec(body []stmt, out *av) {
	for _, s := range body {
		in.execOne(s, out)
	}
}

func (in *interp) emit(out *av, v av, sp span) {
	if out == nil {
		return
	}
	*out = in.concat([]av{*out, v}, sp)
}

func (in *interp) execOne(s stmt, out *av) {
	in.step(1, s.pos().off)
	switch s := s.(type) {
	case *dataStmt:
		in.emit(out, one(strV(s.text)), s.span)
	case *printStmt:
		v := in.eval(s.x)
		in.emit(out, v, s.span)
	case *setStmt:
		v := in.eval(s.value)
		in.assignTarget(s.target, v)
	case *setBlockStmt:
		o := one(strV(""))
		in.push()
		in.exec(s.body, &o)
		in.pop()
		if s.filter != nil {
			o = in.evalFilter(s.filter, o)
		}
		in.assignTarget(s.target, o)
	case *ifStmt:
		in.eval(s.test)
		in.branch(func() { in.exec(s.body, out) }, func() { in.exec(s.els, out) }, out)
	case *forStmt:
		in.execFor(s, out)
	case *macroStmt:
		idx := len(in.macros)
		in.macros = append(in.macros, s)
		in.assign(s.name, one(cv{k: kMacro, i: int64(idx)}))
		in.checkIdent(s.name, s.span)
		// analyse the body once as a plain call would run it
		in.invoke(idx, nil, nil, s.span)
	case *callBlockStmt:
		// the call block is a macro the called macro reaches as caller()
		idx, ok := in.callers[s]
		if !ok {
			idx = len(in.macros)
			in.macros = append(in.macros, &macroStmt{span: s.span, params: s.params, defaults: s.defaults, body: s.body})
			in.callers[s] = idx
		}
		in.invoke(idx, nil, nil, s.span) // the body is checked even if never called
		in.push()
		in.assign("caller", one(cv{k: kMacro, i: int64(idx)}))
		v := in.eval(s.call)
		in.pop()
		in.emit(out, v, s.span)
	case *filterBlockStmt:
		o := one(strV(""))
		in.push()
		in.exec(s.body, &o)
		in.pop()
		v := in.evalFilter(s.filter, o)
		in.emit(out, v, s.span)
	case *withStmt:
		vals := make([]av, len(s.values))
		for i, x := range s.values {
			vals[i] = in.eval(x)
		}
		in.push()
		for i, t := range s.targets {
			in.assignTarget(t, vals[i])
		}
		in.exec(s.body, out)
		in.pop()
	case *blockStmt:
		in.push()
		in.exec(s.body, out)
		in.pop()
	case *scopeStmt:
		if s.x != nil {
			in.eval(s.x)
		}
		in.push()
		in.exec(s.body, out)
		in.pop()
	case *loadStmt:
		t := in.eval(s.template)
		name := ""
		if c := t.defined(); len(c) == 1 && c[0].k == kStr {
			name = " " + quote(c[0].s)
		}
		in.a.add(RuleInclude, finding.High, s.span, s.kind,
			"{% "+s.kind+name+" %} loads another template: a chat template has no reason to, and the loaded code is not checked")
		if s.target != "" {
			in.assign(s.target, topImpure)
		}
		for _, n := range s.names {
			in.assign(n, topImpure)
		}
		in.emit(out, topImpure, s.span)
	case *loopCtlStmt:
	case *doStmt:
		in.eval(s.x)
	}
}

// branch runs two alternatives from the same state and joins the results.
func (in *interp) branch(a, b func(), out *av) {
	if in.degraded {
		a()
		b()
		return
	}
	saved := in.cloneState()
	var o0 av
	if out != nil {
		o0 = *out
	}
	a()
	stA := in.st
	var oA av
	if out != nil {
		oA = *out
		*out = o0
	}
	in.st = saved
	b()
	in.st = in.joinStates(stA, in.st)
	if out != nil {
		*out = join(oA, *out)
	}
}

func containsLoopCtl(body []stmt) bool {
	for _, s := range body {
		switch s := s.(type) {
		case *loopCtlStmt:
			return true
		case *ifStmt:
			if containsLoopCtl(s.body) || containsLoopCtl(s.els) {
				return true
			}
		case *withStmt:
			if containsLoopCtl(s.body) {
				return true
			}
		case *scopeStmt:
			if containsLoopCtl(s.body) {
				return true
			}
		}
	}
	return false
}

func (in *interp) execFor(s *forStmt, out *av) {
	iter := in.eval(s.iter)
	elems, exact, ep := in.iterate(iter)
	var elemAV av
	if ep != nil {
		elemAV = *ep
	} else if !(exact && len(elems) > 0) || in.degraded {
		elemAV = unionOf(elems)
	}
	in.push()
	bind := func(e av) {
		in.assignTarget(s.target, e)
		in.assign("loop", one(cv{k: kObj, s: "loop"}))
		if s.test != nil {
			in.eval(s.test)
		}
	}
	outBefore := av{}
	if out != nil {
		outBefore = *out
	}
	switch {
	case in.degraded:
		bind(elemAV)
		in.exec(s.body, out)
	case exact && len(elems) > 0:
		partial := containsLoopCtl(s.body) || s.test != nil
		var acc state
		var accOut av
		if partial {
			acc = in.cloneState()
			if out != nil {
				accOut = *out
			}
		}
		for _, e := range elems {
			bind(one(e))
			in.exec(s.body, out)
			if partial {
				acc = in.joinStates(acc, in.st)
				in.st = acc
				in.st = in.cloneState()
				if out != nil {
					accOut = join(accOut, *out)
					*out = accOut
				}
			}
			if in.degraded {
				break
			}
		}
	default:
		bind(elemAV)
		s0 := in.cloneState()
		in.exec(s.body, out)
		s1 := in.joinStates(s0, in.st)
		in.st = s1
		in.st = in.cloneState()
		bind(elemAV)
		in.exec(s.body, out)
		s2 := in.joinStates(s1, in.st)
		in.st = widenStates(s1, s2)
		if out != nil && !eqAV(outBefore, *out) {
			*out = topOf(outBefore.isPure() && out.isPure(), true)
		}
	}
	in.pop()
	if len(s.els) > 0 {
		in.exec(s.els, out)
	}
}

// iterate lists what a for loop would bind: the exact sequence when the
// iterable is one known constant (elemAV is then nil: see unionOf),
// otherwise the union of possible items.
func (in *interp) iterate(v av) ([]cv, bool, *av) {
	if v.top {
		e := topOf(v.pure, !v.ints)
		return nil, false, &e
	}
	cs := v.defined()
	if len(cs) == 1 {
		if items, ok := cs[0].items(); ok && len(items) <= maxUnroll {
			return items, true, nil
		}
	}
	var all []cv
	for _, c := range cs {
		items, ok := c.items()
		if !ok {
			e := topOf(true, true)
			if c.k == kNS || c.k == kGlobal || c.k == kObj || c.k == kMacro {
				e = topImpure
			}
			return nil, false, &e
		}
		all = append(all, items...)
		if len(all) > maxItems {
			break
		}
	}
	e := unionOf(all)
	return nil, false, &e
}

// unionOf is the join of single constants.
func unionOf(items []cv) av {
	if len(items) == 0 {
		return undefAV
	}
	u := av{}
	for _, it := range items {
		u = join(u, one(it))
		if u.top {
			break
		}
	}
	return u
}

func (in *interp) assignTarget(t expr, v av) {
	switch t := t.(type) {
	case *nameExpr:
		in.checkIdent(t.name, t.span)
		in.assign(t.name, v)
	case *nsrefExpr:
		in.checkAccess(t.attr, t.span, viaAttr, acc{data: true}) // the template's own namespace field
		ns, ok := in.lookup(t.name)
		if !ok {
			return
		}
		sites := ns.defined()
		for _, c := range sites {
			if c.k != kNS {
				continue
			}
			k := nsKey{int(c.i), t.attr}
			if len(sites) == 1 {
				in.st.heap[k] = v
			} else if old, ok := in.st.heap[k]; ok {
				in.st.heap[k] = join(old, v)
			} else {
				in.st.heap[k] = join(undefAV, v)
			}
		}
	case *listExpr:
		n := len(t.items)
		parts := make([]av, n)
		if v.top {
			for i := range parts {
				parts[i] = topOf(v.pure, true)
			}
		} else {
			for _, c := range v.cs {
				items, ok := c.items()
				for i := range parts {
					var e av
					if ok && len(items) == n {
						e = one(items[i])
					} else {
						e = topOf(true, true)
					}
					if i < len(parts) {
						if parts[i].cs == nil && !parts[i].top {
							parts[i] = e
						} else {
							parts[i] = join(parts[i], e)
						}
					}
				}
			}
		}
		for i, it := range t.items {
			if parts[i].cs == nil && !parts[i].top {
				parts[i] = undefAV
			}
			in.assignTarget(it, parts[i])
		}
	}
}

// globalValue is what an unassigned name resolves to (without findings).
func (in *interp) globalValue(name string) av {
	switch name {
	case "range", "dict", "namespace", "lipsum", "cycler", "joiner", "self",
		"config", "request", "url_for", "get_flashed_messages", "g", "session",
		"raise_exception", "strftime_now":
		return one(cv{k: kGlobal, s: name})
	}
	return topImpure
}

var sensitiveBare = map[string]bool{
	"self": true, "config": true, "request": true, "url_for": true, "get_flashed_messages": true,
	"g": true, "session": true, "lipsum": true, "cycler": true, "joiner": true,
}

var globalObjects = map[string]bool{
	"self": true, "config": true, "request": true, "url_for": true, "get_flashed_messages": true,
	"g": true, "session": true, "lipsum": true, "cycler": true, "joiner": true,
	"namespace": true, "range": true, "dict": true, "raise_exception": true, "strftime_now": true,
}

// ---- checks ----

type via uint8

const (
	viaAttr via = iota
	viaItem
	viaFilter
	viaFormat
)

func (v via) String() string {
	switch v {
	case viaItem:
		return "item access"
	case viaFilter:
		return "an attribute-name argument"
	case viaFormat:
		return "a str.format field"
	}
	return "attribute access"
}

// Attribute names that belong to modules, processes and frames, never to
// chat messages; and names that are only dangerous when called.
var dangerAttr = map[string]bool{
	"os": true, "sys": true, "popen": true, "subprocess": true, "builtins": true, "eval": true, "exec": true,
	"execfile": true, "import_module": true, "modules": true, "environ": true, "getenv": true, "putenv": true,
	"spawnl": true, "spawnle": true, "spawnlp": true, "spawnlpe": true, "spawnv": true, "spawnve": true,
	"spawnvp": true, "spawnvpe": true, "execl": true, "execle": true, "execlp": true, "execlpe": true,
	"execv": true, "execve": true, "execvp": true, "execvpe": true, "posix_spawn": true, "posix_spawnp": true,
	"fork": true, "forkpty": true, "killpg": true, "unlink": true, "rmtree": true, "removedirs": true,
	"check_output": true, "check_call": true, "getoutput": true, "getstatusoutput": true, "Popen": true,
	"f_globals": true, "f_locals": true, "f_back": true, "f_builtins": true, "f_code": true, "gi_frame": true,
	"gi_code": true, "cr_frame": true, "cr_code": true, "ag_frame": true, "tb_frame": true, "tb_next": true,
	"co_code": true, "func_globals": true, "func_code": true, "im_func": true, "load_module": true,
	"importlib": true, "ctypes": true, "marshal": true, "pty": true, "shutil": true, "socket": true,
	"from_string": true, "compile_expression": true, "get_template": true, "select_template": true,
}

var dangerCalled = map[string]bool{
	"system": true, "open": true, "read": true, "write": true, "load": true, "loads": true, "mro": true,
	"run": true, "remove": true, "rmdir": true, "kill": true, "compile": true, "readlines": true,
	"getattr": true, "setattr": true, "listdir": true, "urlopen": true, "connect": true,
}

var dangerFuncs = map[string]bool{
	"eval": true, "exec": true, "execfile": true, "compile": true, "open": true, "getattr": true,
	"setattr": true, "delattr": true, "__import__": true, "import_module": true, "globals": true,
	"locals": true, "vars": true, "input": true, "breakpoint": true, "system": true, "popen": true,
}

// acc qualifies one attribute or item read.
type acc struct {
	called   bool // the result is called right away
	internal bool // the object read from came from Python internals
	data     bool // a namespace attribute the template itself assigned
}

// checkAccess judges one attribute or item name reached by the template.
func (in *interp) checkAccess(name string, sp span, v via, o acc) {
	switch {
	case isDunder(name):
		in.a.add(RuleDunder, finding.Critical, sp, name,
			"template reads "+quote(name)+" through "+v.String()+": dunder access is how Jinja template injection reaches Python internals (CVE-2024-34359)")
		in.a.accessed[name] = true
	case strings.HasPrefix(name, "_"):
		lvl := finding.High
		if isMangled(name) {
			lvl = finding.Critical
		} else if v == viaItem {
			// a key such as message['_hidden'] is usually data; Jinja would
			// fall back to the attribute only when the key is missing
			lvl = finding.Low
		}
		in.a.add(RulePrivate, lvl, sp, name,
			"template reads private name "+quote(name)+" through "+v.String()+": underscore attributes lead to Jinja's runtime context and Python internals")
	case o.data:
	case dangerAttr[name] || ((o.called || o.internal) && dangerCalled[name]):
		what := "reads"
		if o.called {
			what = "calls"
		}
		from := ""
		if o.internal {
			from = " on an object reached through Python internals"
		}
		in.a.add(RuleDangerAttr, finding.High, sp, name,
			"template "+what+" "+quote(name)+" through "+v.String()+from+": a module, process or frame attribute that chat data never has")
	}
}

// sink says how a computed name is used.
type sink uint8

const (
	sinkItem   sink = iota // x[key]: Jinja falls back to getattr
	sinkAttr               // |attr(name)
	sinkPath               // attribute= of map, sort, selectattr…: a dotted path
	sinkFormat             // a str.format field path
)

// judgeName checks every name v may be when a template uses it as an
// attribute or item name. It returns whether the name may be a dunder
// (then the object read is treated as Python internals).
func (in *interp) judgeName(v av, sp span, k sink, what string, o acc) bool {
	vi := viaItem
	switch k {
	case sinkAttr, sinkPath:
		vi = viaFilter
	case sinkFormat:
		vi = viaFormat
	}
	may := false
	for _, c := range v.defined() {
		var segs []cv
		switch c.k {
		case kStr:
			if k == sinkPath {
				for _, part := range strings.Split(c.s, ".") {
					segs = append(segs, strV(part))
				}
			} else {
				segs = []cv{c}
			}
		case kPat:
			if k == sinkPath {
				const mark = "\x00"
				fl := holeFlags(c)
				for _, part := range strings.Split(patText(c, mark), ".") {
					segs = append(segs, patFromText(part, mark, fl))
				}
			} else {
				segs = []cv{c}
			}
		}
		for _, sg := range segs {
			switch sg.k {
			case kStr:
				if k == sinkPath && (sg.s == "" || allDigits(sg.s)) {
					continue
				}
				in.checkAccess(sg.s, sp, vi, o)
				may = may || isDunder(sg.s)
			case kPat:
				if patMayDunder(sg) {
					may = true
					in.a.add(RuleDunder, finding.Critical, sp, "maybe",
						what+" may be a dunder name: it joins the template's own '_' pieces with values known only at render time ("+
							quote(patText(sg, "…"))+"), the way injection payloads hide __class__ and __globals__")
					continue
				}
				if k == sinkAttr || (k == sinkPath && (cvFlags(sg)&(fUsc|fPure) != 0)) {
					in.a.add(RuleDynamicAttr, finding.High, sp, what,
						what+" is partly computed at render time ("+quote(patText(sg, "…"))+"): it can hide a dunder such as __class__")
				}
			}
		}
	}
	if v.top {
		own := v.pure && (v.str || k == sinkPath) || v.usc
		switch {
		case own && (k != sinkFormat || v.str):
			in.a.add(RuleDynamicAttr, finding.High, sp, what,
				what+" takes a name built from the template's own strings in a way the analysis cannot resolve: Jinja falls back to attribute lookup, so it can hide a dunder such as __class__")
			may = true
		case k == sinkAttr:
			in.a.add(RuleDynamicAttr, finding.High, sp, what,
				what+" takes an attribute name computed at render time: it can hide a dunder such as __class__")
			may = true
		case k == sinkPath:
			in.a.add(RuleDynamicAttr, finding.Low, sp, what,
				what+" takes an attribute name from render-time data, not from the template: it reads whatever attribute that data names")
		}
	}
	return may
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// checkBase reports attribute access on a global object itself.
func (in *interp) checkBase(base av, sp span, name string) {
	for _, c := range base.defined() {
		if c.k == kGlobal && globalObjects[c.s] {
			in.a.add(RuleGlobal, finding.High, sp, c.s+"."+name,
				"template reads "+quote(name)+" from the global "+quote(c.s)+" itself: global objects are the starting points of template-injection chains")
		}
	}
}

// checkIdent reports identifiers that name dunders.
func (in *interp) checkIdent(name string, sp span) {
	if d := dunderIn(name); d != "" {
		lvl, why := proseLevel(d)
		in.a.add(RuleDunderStr, lvl, sp, d, "identifier "+quote(name)+" names "+quote(d)+why)
	}
}

// proseLevel grades a double-underscore word that the template only
// mentions: a Python special name is how payloads are spelled (high);
// another one, such as markdown bold (__English__), is only noted.
func proseLevel(d string) (finding.Level, string) {
	if pySpecial[d] {
		return finding.High, ": a Python special name, which template-injection payloads build to reach Python internals"
	}
	return finding.Info, ": shaped like a dunder but not a Python special name (markdown bold or a placeholder)"
}

var suspiciousWords = []string{
	"popen", "subprocess", "os.system", "import os", "__import__", "/bin/sh", "/bin/bash", "bash -c", "sh -c ",
	"cmd.exe", "powershell", "eval(", "exec(", "check_output", "getoutput", "/etc/passwd", "socket.",
}

// checkString reports dunder names and command vocabulary in a string the
// template holds or builds.
func (in *interp) checkString(s string, sp span) {
	if strings.IndexByte(s, '_') >= 0 {
		for _, d := range dundersIn(s, 4) {
			lvl, why := proseLevel(d)
			in.a.add(RuleDunderStr, lvl, sp, d, "string names "+quote(d)+why)
		}
		if w := frameWordIn(s); w != "" {
			in.a.add(RuleDunderStr, finding.High, sp, w, "string names "+quote(w)+": a frame or code attribute that leads to a running interpreter's globals")
		}
	}
	low := strings.ToLower(s)
	for _, w := range suspiciousWords {
		if strings.Contains(low, w) {
			in.a.add(RuleSuspicious, finding.Medium, sp, w, "string contains "+quote(w)+": a command-execution primitive has no place in a chat template")
			break
		}
	}
}

func (in *interp) checkValueStrings(v av, sp span) {
	for _, c := range v.defined() {
		switch c.k {
		case kStr:
			in.checkString(c.s, sp)
		case kPat:
			for _, l := range patLiterals(c) {
				in.checkString(l, sp)
			}
		}
	}
}
