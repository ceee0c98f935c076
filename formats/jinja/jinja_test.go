package jinja

import (
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// has reports whether r has a finding of rule at level or above.
func has(r Report, rule string, lvl finding.Level) bool {
	for _, f := range r.Findings {
		if f.Rule == rule && f.Level >= lvl {
			return true
		}
	}
	return false
}

func maxLevel(r Report) finding.Level {
	var m finding.Level
	for _, f := range r.Findings {
		if f.Level > m {
			m = f.Level
		}
	}
	return m
}

func TestAnalyseRules(t *testing.T) {
	tests := []struct {
		name string
		src  string
		rule string
		lvl  finding.Level
	}{
		{"direct dunder", "{{ ''.__class__ }}", RuleDunder, finding.Critical},
		{"item dunder", "{{ x['__globals__'] }}", RuleDunder, finding.Critical},
		{"attr filter", "{{ x|attr('__class__') }}", RuleDunder, finding.Critical},
		{"hex escape", `{{ x|attr('\x5f\x5fclass\x5f\x5f') }}`, RuleDunder, finding.Critical},
		{"u escape", `{{ x|attr('\u005f_class__') }}`, RuleDunder, finding.Critical},
		{"U escape", `{{ x|attr('\U0000005f_class__') }}`, RuleDunder, finding.Critical},
		{"octal escape", `{{ x|attr('\137_class__') }}`, RuleDunder, finding.Critical},
		{"named escape", `{{ x|attr('\N{LOW LINE}_class__') }}`, RuleDunder, finding.Critical},
		{"named escape alias case", `{{ x|attr('\N{low line}_class__') }}`, RuleDunder, finding.Critical},
		{"tilde", "{{ x|attr('__cl' ~ 'ass__') }}", RuleDunder, finding.Critical},
		{"plus", "{{ x['__cl' + 'ass__'] }}", RuleDunder, finding.Critical},
		{"percent", "{{ x['%s' % '__class__'] }}", RuleDunder, finding.Critical},
		{"percent c", "{{ x|attr('%c%cclass%c%c'|format(95,95,95,95)) }}", RuleDunder, finding.Critical},
		{"percent dict", "{{ x|attr('%(a)sclass%(a)s' % {'a': '__'}) }}", RuleDunder, finding.Critical},
		{"join", "{{ x|attr(['__','class','__']|join) }}", RuleDunder, finding.Critical},
		{"join sep", "{{ x|attr(['','class','']|join('__')) }}", RuleDunder, finding.Critical},
		{"str join method", "{{ x|attr('__'.join(['', 'class', ''])) }}", RuleDunder, finding.Critical},
		{"replace", "{{ x|attr('..class..'|replace('.', '_')) }}", RuleDunder, finding.Critical},
		{"reverse", "{{ x|attr('__ssalc__'|reverse) }}", RuleDunder, finding.Critical},
		{"slice", "{{ x['__ssalc__'[::-1]] }}", RuleDunder, finding.Critical},
		{"slice range", "{{ x['xx__class__xx'[2:-2]] }}", RuleDunder, finding.Critical},
		{"lower", "{{ x|attr('__CLASS__'|lower) }}", RuleDunder, finding.Critical},
		{"upper method", "{{ x|attr('__mro__'.upper().lower()) }}", RuleDunder, finding.Critical},
		{"trim", "{{ x|attr('  __class__ '|trim) }}", RuleDunder, finding.Critical},
		{"first", "{{ x|attr(['__class__', 'a']|first) }}", RuleDunder, finding.Critical},
		{"last", "{{ x|attr(['a', '__class__']|last) }}", RuleDunder, finding.Critical},
		{"dict join", "{{ x|attr(dict(__cla=1, ss__=2)|join) }}", RuleDunder, finding.Critical},
		{"dict literal get", "{{ x[{'k': '__class__'}.get('k')] }}", RuleDunder, finding.Critical},
		{"dict literal item", "{{ x[{'k': '__class__'}['k']] }}", RuleDunder, finding.Critical},
		{"str format", "{{ x['{}{}'.format('__cla', 'ss__')] }}", RuleDunder, finding.Critical},
		{"format field", "{{ '{0.__class__}'.format(x) }}", RuleDunder, finding.Critical},
		{"set chain", "{% set a = '__cla' %}{% set b = a ~ 'ss__' %}{{ x|attr(b) }}", RuleDunder, finding.Critical},
		{"tuple set", "{% set a, b = '__cla', 'ss__' %}{{ x[a ~ b] }}", RuleDunder, finding.Critical},
		{"with", "{% with a = '__class__' %}{{ x[a] }}{% endwith %}", RuleDunder, finding.Critical},
		{"block set", "{% set a %}__class__{% endset %}{{ x[a] }}", RuleDunder, finding.Critical},
		{"block set filter", "{% set a | lower %}__CLASS__{% endset %}{{ x[a] }}", RuleDunder, finding.Critical},
		{"if branch", "{% if c %}{% set a = '__class__' %}{% else %}{% set a = 'b' %}{% endif %}{{ x[a] }}", RuleDunder, finding.Critical},
		{"cond expr", "{{ x['a' if c else '__class__'] }}", RuleDunder, finding.Critical},
		{"or", "{{ x['' or '__class__'] }}", RuleDunder, finding.Critical},
		{"loop var", "{% for n in ['a', '__class__'] %}{{ x[n] }}{% endfor %}", RuleDunder, finding.Critical},
		{"loop namespace", "{% set ns = namespace(s='') %}{% for p in ['__cl','ass__'] %}{% set ns.s = ns.s ~ p %}{% endfor %}{{ x[ns.s] }}", RuleDunder, finding.Critical},
		{"loop break", "{% set ns = namespace(s='') %}{% for p in ['__class__','y'] %}{% set ns.s = p %}{% break %}{% endfor %}{{ x[ns.s] }}", RuleDunder, finding.Critical},
		{"macro arg", "{% macro m(n) %}{{ x[n] }}{% endmacro %}{{ m('__class__') }}", RuleDunder, finding.Critical},
		{"macro kwarg", "{% macro m(n='a') %}{{ x[n] }}{% endmacro %}{{ m(n='__class__') }}", RuleDunder, finding.Critical},
		{"macro default", "{% macro m(n='__class__') %}{{ x[n] }}{% endmacro %}", RuleDunder, finding.Critical},
		{"macro output", "{% macro m() %}__class__{% endmacro %}{% set n = m() %}{{ x[n] }}", RuleDunder, finding.Critical},
		{"map attribute", "{{ xs|map(attribute='__class__')|list }}", RuleDunder, finding.Critical},
		{"map attr filter", "{{ xs|map('attr', '__class__')|list }}", RuleDunder, finding.Critical},
		{"selectattr", "{{ xs|selectattr('__class__')|list }}", RuleDunder, finding.Critical},
		{"rejectattr dotted", "{{ xs|rejectattr('a.__class__')|list }}", RuleDunder, finding.Critical},
		{"sort attribute", "{{ xs|sort(attribute='__class__') }}", RuleDunder, finding.Critical},
		{"groupby", "{{ xs|groupby('__class__') }}", RuleDunder, finding.Critical},
		{"sum attribute", "{{ xs|sum(attribute='__len__') }}", RuleDunder, finding.Critical},
		{"unique attribute", "{{ xs|unique(attribute='__class__') }}", RuleDunder, finding.Critical},
		{"min positional", "{{ xs|min(false, '__class__') }}", RuleDunder, finding.Critical},
		{"nsref set", "{% set ns = namespace() %}{% set ns.__class__ = 1 %}", RuleDunder, finding.Critical},
		{"list append", "{% set l = ['__cla'] %}{% do l.append('ss__') %}{{ x|attr(l|join) }}", RuleDynamicAttr, finding.High},
		{"mangled private", "{{ self._TemplateReference__context }}", RulePrivate, finding.Critical},
		{"private attr", "{{ x._module }}", RulePrivate, finding.High},
		{"private item", "{{ x['_secret'] }}", RulePrivate, finding.Low},
		{"dynamic attr", "{{ x|attr(y) }}", RuleDynamicAttr, finding.High},
		{"dynamic map attribute", "{{ xs|map(attribute=y)|list }}", RuleDynamicAttr, finding.Low},
		{"built map attribute", "{{ xs|map(attribute=('_ _'|wordwrap(1)))|list }}", RuleDynamicAttr, finding.High},
		{"dynamic map filter", "{{ xs|map(f, 'a')|list }}", RuleDynamicAttr, finding.High},
		{"dunder string", "{% set n = '__class__' %}", RuleDunderStr, finding.High},
		{"dunder keyword", "{{ f(__class__=1) }}", RuleDunderStr, finding.High},
		{"dunder identifier", "{{ __builtins__ }}", RuleDunderStr, finding.High},
		{"popen", "{{ x.os.popen('id') }}", RuleDangerAttr, finding.High},
		{"system call", "{{ x.system('id') }}", RuleDangerAttr, finding.High},
		{"read call", "{{ x.read() }}", RuleDangerAttr, finding.High},
		{"environ item", "{{ x['environ'] }}", RuleDangerAttr, finding.High},
		{"frame", "{{ x.gi_frame.f_globals }}", RuleDangerAttr, finding.High},
		{"eval call", "{{ eval('1') }}", RuleDangerCall, finding.High},
		{"import call", "{{ __import__('os') }}", RuleDangerCall, finding.High},
		{"cycler bare", "{{ cycler('a', 'b').next() }}", RuleGlobal, finding.Medium},
		{"self bare", "{{ self }}", RuleGlobal, finding.Medium},
		{"config bare", "{{ config }}", RuleGlobal, finding.Medium},
		{"g attribute", "{{ g.pop }}", RuleGlobal, finding.High},
		{"namespace attr", "{{ namespace.x }}", RuleGlobal, finding.High},
		{"range attr", "{{ range|attr('x') }}", RuleGlobal, finding.High},
		{"global alias", "{% set c = joiner %}{{ c.x }}", RuleGlobal, finding.High},
		{"include", "{% include 'x.jinja' %}", RuleInclude, finding.High},
		{"include ignore missing", "{% include 'x.jinja' ignore missing without context %}", RuleInclude, finding.High},
		{"import", "{% import 'x.jinja' as m %}", RuleInclude, finding.High},
		{"from import", "{% from 'x.jinja' import a, b as c with context %}", RuleInclude, finding.High},
		{"extends", "{% extends 'base.jinja' %}", RuleInclude, finding.High},
		{"suspicious", "{% set c = 'import os; os.system(1)' %}", RuleSuspicious, finding.Medium},
		{"unknown tag", "{% foo %}", RuleUnparseable, finding.High},
		{"unclosed", "{% if x %}", RuleUnparseable, finding.High},
		{"bad escape", `{{ '\x5' }}`, RuleUnparseable, finding.High},
		{"unknown name escape", `{{ '\N{NO SUCH CHARACTER}' }}`, RuleUnparseable, finding.High},
		{"bad identifier", "{{ x² }}", RuleUnparseable, finding.High},
		{"unterminated comment", "{# x", RuleUnparseable, finding.High},
		{"unparseable dunder", "{{ x.__class__ }}{% if %}", RuleDunder, finding.Critical},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Analyse(tc.src, Limits{})
			if !has(r, tc.rule, tc.lvl) {
				t.Fatalf("want %s at >= %s, got %+v", tc.rule, tc.lvl, r.Findings)
			}
			for _, f := range r.Findings {
				if f.Rule == "" || f.Level == 0 || f.Message == "" || strings.Contains(f.Message, "\n") {
					t.Errorf("malformed finding %+v", f)
				}
				if f.Offset < 0 || f.Offset > int64(len(tc.src)) {
					t.Errorf("offset %d outside the template", f.Offset)
				}
			}
		})
	}
}

// Real chat-template idioms that must stay silent.
func TestAnalyseBenign(t *testing.T) {
	tests := []string{
		"{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] | trim }}{% endfor %}",
		"{% set ns = namespace(found=false, system='') %}{% for m in messages %}{% if m.role == 'system' %}{% set ns.system = m.content %}{% endif %}{% endfor %}{{ ns.system }}",
		"{% for i in range(messages|length - 1, -1, -1) %}{{ messages[i].content }}{% endfor %}",
		"{{ tools | map(attribute='function') | map(attribute='name') | join(', ') }}",
		"{{ messages | selectattr('role', 'equalto', 'user') | list | length }}",
		"{{ '<|image_{i:d}|>'.format(i=1) }}{{ '%s: %s' | format(a, b) }}",
		"{% set d = dict(user='U', assistant='A') %}{{ d[message.role] }}",
		"{%- macro render(x, indent=0) -%}{% for k, v in x.items() %}{{ ' ' * indent ~ k }}{{ render(v, indent + 2) if v is mapping else v }}{% endfor %}{%- endmacro -%}{{ render(tool) }}",
		"{% for _ in range(3) %}{% set _args = x %}{{ _args }}{% endfor %}",
		"{% for key in ['type', 'description'] %}{{ param[key] }}{% endfor %}",
		"{{ raise_exception('Conversation roles must alternate') }}{{ strftime_now('%d %b %Y') }}",
		"{% set system = 'system' %}{{ ns.system }}{{ message.system }}",
		"{% generation %}{{ message.content }}{% endgeneration %}",
		"{% raw %}{{ x.__class__ }}{% endraw %}",
		"{# {{ x.__class__ }} #}",
		"{%- for m in messages if m.role != 'system' %}{% if loop.first %}{% continue %}{% endif %}{{ m.content }}{% endfor %}",
		"{% filter trim %} text {% endfilter %}{% call(x) render(y) %}{{ x }}{% endcall %}",
	}
	for _, src := range tests {
		r := Analyse(src, Limits{})
		if maxLevel(r) > finding.Low || !r.Complete {
			t.Errorf("%q: complete=%v findings %+v", src, r.Complete, r.Findings)
		}
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		src  string
		lim  Limits
	}{
		{"size", strings.Repeat("x", 100), Limits{MaxSourceBytes: 50}},
		{"tokens", strings.Repeat("{{ a }}", 100), Limits{MaxTokens: 50}},
		{"depth parens", "{{ " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000) + " }}", Limits{}},
		{"depth not", "{{ " + strings.Repeat("not ", 100000) + "x }}", Limits{}},
		{"depth if", strings.Repeat("{% if x %}", 1000) + strings.Repeat("{% endif %}", 1000), Limits{}},
		{"string doubling", "{% set s = 'ab' %}" + strings.Repeat("{% set s = s ~ s %}", 40), Limits{}},
		{"string repeat", "{{ 'ab' * 99999999999 }}", Limits{}},
		{"steps", strings.Repeat("{% for i in range(60) %}", 6) + "{{ i }}" + strings.Repeat("{% endfor %}", 6), Limits{MaxSteps: 20000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Analyse(tc.src, tc.lim)
			if r.Complete || !has(r, RuleLimit, finding.High) {
				t.Fatalf("want a limit finding and Complete=false, got complete=%v %+v", r.Complete, r.Findings)
			}
		})
	}
}

// A template too large to parse is still searched for dunder names.
func TestOversizedStillScanned(t *testing.T) {
	src := "{{ x.__globals__ }}" + strings.Repeat(" ", 200)
	r := Analyse(src, Limits{MaxSourceBytes: 100})
	if !has(r, RuleDunderStr, finding.High) || !has(r, RuleLimit, finding.High) {
		t.Fatalf("%+v", r.Findings)
	}
}

func TestOffsetsAndCRLF(t *testing.T) {
	src := "line one\r\nline two\r\n{{ x.__class__ }}\r\n"
	r := Analyse(src, Limits{})
	var got *finding.Finding
	for i := range r.Findings {
		if r.Findings[i].Rule == RuleDunder {
			got = &r.Findings[i]
		}
	}
	if got == nil {
		t.Fatalf("no finding: %+v", r.Findings)
	}
	if want := int64(strings.Index(src, "x.__class__")); got.Offset != want {
		t.Fatalf("offset %d, want %d", got.Offset, want)
	}
	if got.Evidence != "x.__class__" || got.Where != "" {
		t.Fatalf("evidence %q where %q", got.Evidence, got.Where)
	}
}

func TestFindingCapPerRule(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 100; i++ {
		b.WriteString("{{ x.__class__ }}")
	}
	r := Analyse(b.String(), Limits{})
	n := 0
	for _, f := range r.Findings {
		if f.Rule == RuleDunder {
			n++
		}
	}
	if n != 16 || r.Dropped != 84 {
		t.Fatalf("kept %d dropped %d", n, r.Dropped)
	}
}

func TestRulesDocumented(t *testing.T) {
	ids := map[string]bool{}
	for _, d := range Rules {
		if d.ID == "" || d.Short == "" || len(d.Help) < 80 || !strings.HasPrefix(d.ID, "template/") {
			t.Errorf("incomplete doc %+v", d)
		}
		ids[d.ID] = true
	}
	for _, id := range []string{RuleDunder, RulePrivate, RuleDunderStr, RuleDynamicAttr, RuleDangerAttr, RuleDangerCall,
		RuleGlobal, RuleInclude, RuleSuspicious, RuleUnparseable, RuleLimit} {
		if !ids[id] {
			t.Errorf("rule %s undocumented", id)
		}
	}
	if len(ids) != len(Rules) {
		t.Errorf("duplicate rule ids")
	}
}

func TestDefaultLimits(t *testing.T) {
	if (Limits{}).withDefaults() != DefaultLimits() {
		t.Fatal("zero Limits must mean the defaults")
	}
}
