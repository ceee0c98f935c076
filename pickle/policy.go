package pickle

import (
	"bufio"
	"embed"
	"fmt"
	"strings"
	"sync"
)

// RulesVersion names the version of the policy tables in rules/. Bump it
// whenever allow.txt, deny.txt or the judged-by-arguments set changes, so a
// report says which rules produced it.
const RulesVersion = "2026.11.30.2"

//go:embed rules/allow.txt rules/deny.txt
var rulesFS embed.FS

// Global is a (module, qualified name) pair as a pickle names it.
type Global struct {
	Module string
	Name   string
}

func (g Global) String() string {
	if g.Name == "" {
		return g.Module
	}
	return g.Module + "." + g.Name
}

// ParseGlobal parses "module:qualname" (the form policy files use).
func ParseGlobal(s string) (Global, error) {
	mod, name, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || mod == "" || name == "" || strings.ContainsAny(s, " \t\n") {
		return Global{}, fmt.Errorf("%q is not of the form module:qualname", s)
	}
	return Global{mod, name}, nil
}

// Verdict is how the policy classifies a global.
type Verdict uint8

const (
	Unknown  Verdict = iota // in neither list: at least medium when called
	Allowed                 // exact allowlist entry
	Denied                  // denylisted family
	Dunder                  // a dunder component outside the allowlist
	Indirect                // dangerous only by its arguments: judged at the call
)

// Class is the result of classifying one global.
type Class struct {
	Verdict  Verdict
	Category string // deny category, or the judged-by-arguments kind
	Rule     string // the deny rule that matched, "module name"
}

// judged lists the callables that benign files use but that are dangerous
// by what they are given; the machine judges their resolved arguments.
var judged = map[Global]string{
	{"builtins", "getattr"}:                    "getattr",
	{"functools", "partial"}:                   "partial",
	{"_functools", "partial"}:                  "partial",
	{"operator", "attrgetter"}:                 "getter",
	{"operator", "itemgetter"}:                 "getter",
	{"operator", "methodcaller"}:               "getter",
	{"_operator", "attrgetter"}:                "getter",
	{"_operator", "itemgetter"}:                "getter",
	{"_operator", "methodcaller"}:              "getter",
	{"copyreg", "_reconstructor"}:              "reconstructor",
	{"copyreg", "__newobj__"}:                  "newobj",
	{"copyreg", "__newobj_ex__"}:               "newobj",
	{"_codecs", "encode"}:                      "encode",
	{"torch._tensor", "_rebuild_from_type_v2"}: "rebuild",
}

// py2Modules maps the Python 2 module names that the unpickler's
// fix_imports rewrites (Lib/_compat_pickle.py) to their Python 3 names.
var py2Modules = map[string]string{
	"__builtin__": "builtins", "copy_reg": "copyreg", "cPickle": "pickle",
	"exceptions": "builtins", "commands": "subprocess", "urllib2": "urllib.request",
	"httplib": "http.client", "SocketServer": "socketserver", "thread": "_thread",
	"cStringIO": "io", "StringIO": "io", "UserDict": "collections", "Queue": "queue",
	"__builtins__": "builtins",
}

// Policy classifies globals: an exact allowlist, a denylist of exact names
// and whole modules, and the judged-by-arguments set.
type Policy struct {
	allow      map[Global]bool // built-in, measured: may beat a built-in module deny
	extraAllow map[Global]bool // from a policy file: never beats any deny rule
	denyExact  map[Global]string
	denyModule map[string]string
}

var (
	defaultOnce   sync.Once
	defaultPolicy *Policy
	defaultErr    error
)

// Default returns the built-in policy from rules/allow.txt and rules/deny.txt.
func Default() *Policy {
	defaultOnce.Do(func() {
		defaultPolicy, defaultErr = load()
	})
	if defaultErr != nil {
		panic("pickle: built-in rules are invalid: " + defaultErr.Error())
	}
	return defaultPolicy
}

func load() (*Policy, error) {
	p := &Policy{allow: map[Global]bool{}, denyExact: map[Global]string{}, denyModule: map[string]string{}}
	if err := readRules("rules/allow.txt", 2, func(f []string) error {
		p.allow[Global{f[0], f[1]}] = true
		return nil
	}); err != nil {
		return nil, err
	}
	if err := readRules("rules/deny.txt", 3, func(f []string) error {
		if f[1] == "*" {
			p.denyModule[f[0]] = f[2]
		} else {
			p.denyExact[Global{f[0], f[1]}] = f[2]
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return p, nil
}

func readRules(name string, fields int, add func([]string) error) error {
	f, err := rulesFS.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fs := strings.Fields(line)
		if len(fs) == 0 {
			continue
		}
		if len(fs) != fields {
			return fmt.Errorf("%s:%d: want %d fields, got %d", name, n, fields, len(fs))
		}
		if err := add(fs); err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
	return sc.Err()
}

// Extend returns a copy of p with extra allowed and denied globals. A denied
// entry whose Name is "*" denies the whole module and its submodules.
// Extra allowed globals never override a deny rule, built-in or extra.
func (p *Policy) Extend(allow, deny []Global) *Policy {
	q := &Policy{allow: p.allow, extraAllow: map[Global]bool{}, denyExact: map[Global]string{}, denyModule: map[string]string{}}
	for k, v := range p.extraAllow {
		q.extraAllow[k] = v
	}
	for k, v := range p.denyExact {
		q.denyExact[k] = v
	}
	for k, v := range p.denyModule {
		q.denyModule[k] = v
	}
	for _, g := range allow {
		q.extraAllow[g] = true
	}
	for _, g := range deny {
		if g.Name == "*" {
			q.denyModule[g.Module] = "policy"
		} else {
			q.denyExact[g] = "policy"
		}
	}
	return q
}

// Classify decides what a global is. Order: judged-by-arguments, denied
// (including every module an attribute path can reach), exact allowlist,
// dunder components, unknown.
func (p *Policy) Classify(g Global) Class {
	mod := strings.TrimSpace(g.Module)
	name := strings.TrimSpace(g.Name)
	if m, ok := py2Modules[mod]; ok {
		mod = m
	}
	ng := Global{mod, name}
	if kind, ok := judged[ng]; ok {
		return Class{Verdict: Indirect, Category: kind}
	}
	rule, cat, denied := p.denied(mod, name)
	builtin := p.allow[ng] || p.allow[g]
	// A measured built-in allowlist entry beats a built-in whole-module deny
	// rule (uuid.UUID is data, uuid._popen is not) but never an exact deny
	// rule, and a policy file's allow entries beat nothing.
	if denied && !(builtin && strings.HasSuffix(rule, " *") && cat != "policy") {
		return Class{Verdict: Denied, Category: cat, Rule: rule}
	}
	if builtin || p.extraAllow[ng] || p.extraAllow[g] {
		return Class{Verdict: Allowed}
	}
	if (mod == "__torch__" || strings.HasPrefix(mod, "__torch__.")) && !hasDunder("", name) {
		// TorchScript class names: torch.jit.load resolves them in its own
		// compilation unit, never by a Python import; plain pickle.load
		// cannot import them at all.
		return Class{Verdict: Allowed, Category: "torchscript"}
	}
	if hasDunder(mod, name) {
		return Class{Verdict: Dunder, Category: "dunder"}
	}
	return Class{Verdict: Unknown}
}

func (p *Policy) moduleDenied(mod string) (string, string, bool) {
	for m := mod; ; {
		if cat, ok := p.denyModule[m]; ok {
			return m + " *", cat, true
		}
		i := strings.LastIndexByte(m, '.')
		if i < 0 {
			return "", "", false
		}
		m = m[:i]
	}
}

func (p *Policy) exactDenied(mod, name string) (string, string, bool) {
	// Any attribute of a denied object is denied too: (builtins, eval.__call__).
	for n := name; n != ""; {
		if cat, ok := p.denyExact[Global{mod, n}]; ok {
			return mod + " " + n, cat, true
		}
		i := strings.LastIndexByte(n, '.')
		if i < 0 {
			break
		}
		n = n[:i]
	}
	return "", "", false
}

// denied checks the module, the exact pair, and every module reachable by
// the attribute path in name: ("pathlib", "os.system") reaches os.system.
func (p *Policy) denied(mod, name string) (string, string, bool) {
	if r, c, ok := p.moduleDenied(mod); ok {
		return r, c, true
	}
	if r, c, ok := p.exactDenied(mod, name); ok {
		return r, c, true
	}
	parts := strings.Split(name, ".")
	if len(parts) > 32 {
		parts = parts[:32]
	}
	for j := 0; j < len(parts)-1; j++ {
		for k := j + 1; k < len(parts); k++ {
			m := strings.Join(parts[j:k], ".")
			if m2, ok := py2Modules[m]; ok {
				m = m2
			}
			if cat, ok := p.denyModule[m]; ok {
				return m + " *", cat, true
			}
			if r, c, ok := p.exactDenied(m, strings.Join(parts[k:], ".")); ok {
				return r, c, true
			}
		}
	}
	return "", "", false
}

func isDunder(s string) bool {
	return len(s) > 4 && strings.HasPrefix(s, "__") && strings.HasSuffix(s, "__")
}

func hasDunder(mod, name string) bool {
	if mod != "__main__" {
		for _, c := range strings.Split(mod, ".") {
			if isDunder(c) {
				return true
			}
		}
	}
	for _, c := range strings.Split(name, ".") {
		if isDunder(c) {
			return true
		}
	}
	return false
}
