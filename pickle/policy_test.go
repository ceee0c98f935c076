package pickle

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	p := Default()
	tests := []struct {
		mod, name string
		want      Verdict
	}{
		{"os", "system", Denied},
		{"posix", "system", Denied},
		{"os.path", "join", Denied},
		{"subprocess", "Popen", Denied},
		{"builtins", "eval", Denied},
		{"__builtin__", "eval", Denied},
		{"builtins", "eval.__call__", Denied},
		{"pathlib", "os.system", Denied},
		{"site", "os.system", Denied},
		{"builtins", "dict.get", Denied},
		{"asyncio.unix_events", "_UnixSubprocessTransport._start", Denied},
		{"torch.hub", "load", Denied},
		{"pkgutil", "resolve_name", Denied},
		{"mailcap", "findmatch", Denied},
		{"os\r", "system\r", Denied},
		{"torch._utils", "_rebuild_tensor_v2", Allowed},
		{"collections", "OrderedDict", Allowed},
		{"numpy.core.multiarray", "_reconstruct", Allowed},
		{"sklearn.linear_model._logistic", "LogisticRegression", Allowed},
		{"__torch__.torch.nn.modules.linear", "Linear", Allowed},
		{"__torch__", "MyScriptedModel", Allowed},
		{"__torch__", "M.__globals__", Dunder},
		{"builtins", "getattr", Indirect},
		{"functools", "partial", Indirect},
		{"copyreg", "_reconstructor", Indirect},
		{"copy_reg", "_reconstructor", Indirect},
		{"_codecs", "encode", Indirect},
		{"numpy", "__builtins__", Dunder},
		{"mylib", "Thing.__init__", Dunder},
		{"__main__", "MyModel", Unknown},
		{"mylib.models", "Net", Unknown},
		{"scipy.signal._arraytools", "even_ext", Unknown}, // "signal" inside a module path is not the signal module
	}
	for _, tt := range tests {
		if got := p.Classify(Global{tt.mod, tt.name}); got.Verdict != tt.want {
			t.Errorf("Classify(%q, %q) = %v (%s), want %v", tt.mod, tt.name, got.Verdict, got.Rule, tt.want)
		}
	}
}

// No allowlist entry is denied by an exact rule, and every entry is either
// allowed, judged by its arguments, or beats only a whole-module rule.
func TestRulesConsistent(t *testing.T) {
	p := Default()
	if len(p.allow) < 500 || len(p.denyExact)+len(p.denyModule) < 500 {
		t.Fatalf("rules look truncated: %d allowed, %d+%d denied", len(p.allow), len(p.denyExact), len(p.denyModule))
	}
	for g := range p.allow {
		c := p.Classify(g)
		if c.Verdict == Denied {
			t.Errorf("allowlisted %s is denied by %q", g, c.Rule)
		}
		if _, _, denied := p.denied(g.Module, g.Name); denied && c.Verdict == Allowed {
			r, _, _ := p.denied(g.Module, g.Name)
			if !strings.HasSuffix(r, " *") {
				t.Errorf("allowlisted %s beats exact deny rule %q", g, r)
			}
		}
	}
}

func TestExtend(t *testing.T) {
	p := Default().Extend([]Global{{"mylib", "Net"}, {"os", "system"}}, []Global{{"mylib.bad", "*"}, {"torch._utils", "_rebuild_tensor_v2"}})
	for _, tt := range []struct {
		g    Global
		want Verdict
	}{
		{Global{"mylib", "Net"}, Allowed},
		{Global{"os", "system"}, Denied}, // a policy allow never unlocks a deny rule
		{Global{"mylib.bad.sub", "x"}, Denied},
		{Global{"torch._utils", "_rebuild_tensor_v2"}, Denied},
	} {
		if got := p.Classify(tt.g); got.Verdict != tt.want {
			t.Errorf("%s: %v, want %v", tt.g, got.Verdict, tt.want)
		}
	}
	if Default().Classify(Global{"mylib", "Net"}).Verdict != Unknown {
		t.Error("Extend changed the default policy")
	}
}
