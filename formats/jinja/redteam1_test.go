package jinja

import (
	"math"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// Red-team round 1: names whose '_' is laundered through runtime data,
// |int folding, and reads from Python internals.
func TestRedTeam1Payloads(t *testing.T) {
	const chain = `{{ namespace[d ~ 'init' ~ d][d ~ 'globals' ~ d]['os'] }}`
	tests := []struct {
		name, src, rule string
		lvl             finding.Level
	}{
		{"default of undefined", `{% set u = hm_unset|default('_') %}{% set d = u ~ u %}` + chain, RuleDunder, finding.Critical},
		{"default of missing attr", `{% set u = messages.nope|default('_') %}{% set d = u ~ u %}` + chain, RuleDunder, finding.Critical},
		{"printf of runtime int", `{% set u = '%c' % (messages|length * 0 + 95) %}{% set d = u ~ u %}` + chain, RuleDunder, finding.Critical},
		{"macro kwargs", `{% macro p() %}{{ kwargs.v }}{% endmacro %}{% set u = p(v='_') %}{% set d = u ~ u %}` + chain, RuleDunder, finding.Critical},
		{"macro varargs", `{% macro p() %}{{ varargs|join }}{% endmacro %}{% set u = p('_') %}{% set d = u ~ u %}` + chain, RuleDunder, finding.Critical},
		{"caller", `{% macro w() %}{{ caller() }}{% endmacro %}{% set u %}{% call w() %}_{% endcall %}{% endset %}{% set d = u ~ u %}` + chain, RuleDunder, finding.Critical},
		{"empty runtime slice", `{% set u = (messages|string)[:0] ~ '_' %}{% set d = u ~ u %}` + chain, RuleDunder, finding.Critical},
		{"loop cycle", `{% for x in [1] %}{% set u = loop.cycle('_') %}{% set d = u ~ u %}` + chain + `{% endfor %}`, RuleDunder, finding.Critical},
		{"tuple index", `{% set u = ('_', messages)[0] %}{{ ()[u*2 ~ 'class' ~ u*2] }}`, RuleDunder, finding.Critical},
		{"list first", `{% set u = ['_', messages]|first %}{{ ()[u*2 ~ 'class' ~ u*2] }}`, RuleDunder, finding.Critical},
		{"dict literal attr", `{% set u = {'k': '_', 'm': messages}.k %}{{ ()[u*2 ~ 'class' ~ u*2] }}`, RuleDunder, finding.Critical},
		{"and or", `{% set u = (messages or true) and '_' %}{{ ()[u*2 ~ 'class' ~ u*2] }}`, RuleDunder, finding.Critical},
		{"unknown index", `{% set u = '_'[messages|length*0] %}{{ ()[u*2 ~ 'class' ~ u*2] }}`, RuleDunder, finding.Critical},
		{"unknown slice", `{% set u = '_x'[:messages|length*0+1] %}{{ ()[u*2 ~ 'class' ~ u*2] }}`, RuleDunder, finding.Critical},
		{"replace runtime count", `{% set u = 'x'|replace('x', '_', messages|length) %}{{ ()[u*2 ~ 'class' ~ u*2] }}`, RuleDunder, finding.Critical},
		{"loop outside loop", `{% set u = loop|default('_') %}{{ ()[u*2 ~ 'class' ~ u*2] }}`, RuleDunder, finding.Critical},
		{"host global default", `{% set u = raise_exception|default('_') %}{{ ()[u*2 ~ 'class' ~ u*2] }}`, RuleDunder, finding.Critical},
		{"runtime hole in |attr", `{{ ()|attr(x ~ 'class' ~ '__') }}`, RuleDunder, finding.Critical},
		{"lost underscore", `{% set u = ('_'|center(1)) %}{{ ()[u ~ u ~ 'class' ~ u ~ u] }}`, RuleDunder, finding.Critical},
		{"format field laundered", `{% set u = hm|default('_') %}{% set d = u ~ u %}{% set f = '{0.' ~ d ~ 'init' ~ d ~ '.' ~ d ~ 'globals' ~ d ~ '[os].environ}' %}{{ f.format(namespace) }}`, RuleDunder, finding.Critical},
		{"int default", `{{ ()|attr('%c%cclass%c%c'|format('x'|int(95), 'x'|int(95), 'x'|int(default=95), 'x'|int(95))) }}`, RuleDunder, finding.Critical},
		{"int float string", `{{ ()|attr(('%c'|format('95.0'|int)) * 2 ~ 'class__') }}`, RuleDunder, finding.Critical},
		{"int base 16", `{{ ()|attr(('%c'|format('5f'|int(0, 16))) * 2 ~ 'class__') }}`, RuleDunder, finding.Critical},
		{"int base 0 prefix", `{{ ()|attr(('%c'|format('0x5F'|int(0, 0))) * 2 ~ 'class__') }}`, RuleDunder, finding.Critical},
		{"int sci", `{{ ()|attr(('%c'|format('9.5e1'|int)) * 2 ~ 'class__') }}`, RuleDunder, finding.Critical},
		{"int underscores", `{{ ()|attr(('%c'|format(' 9_5 '|int)) * 2 ~ 'class__') }}`, RuleDunder, finding.Critical},
		{"float then int", `{{ ()|attr(('%c'|format('95'|float|int)) * 2 ~ 'class__') }}`, RuleDunder, finding.Critical},
		{"dictsort key", `{% set u = {'_': 1}|dictsort|first|first %}{{ ()|attr(u ~ u ~ 'class' ~ u ~ u) }}`, RuleDunder, finding.Critical},
		{"system item on internals", `{{ (x|attr('__init__'))['system'] }}`, RuleDangerAttr, finding.High},
		{"system attr on internals", `{{ x.__globals__|attr('system') }}`, RuleDangerAttr, finding.High},
		{"system item called", `{{ x['system']('id') }}`, RuleDangerAttr, finding.High},
		{"macro param at call site", `{% macro j(items, field) %}{{ items|map(attribute=field)|join }}{% endmacro %}{{ j(tools, '__class__') }}`, RuleDunder, finding.Critical},
		{"ns field dunder stays", `{% set ns = namespace(__class__=1) %}{{ ns.__class__ }}`, RuleDunder, finding.Critical},
		{"special name in prose", `{% set s = 'see x.__globals__ here' %}{{ s }}`, RuleDunderStr, finding.High},
		{"frame word in prose", `{% set s = 'f_globals' %}{{ s }}`, RuleDunderStr, finding.High},
		{"any dunder as item", `{{ x['__English__'] }}`, RuleDunder, finding.Critical},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Analyse(tc.src, Limits{})
			if !has(r, tc.rule, tc.lvl) {
				t.Fatalf("want %s at >= %s, got %+v", tc.rule, tc.lvl, r.Findings)
			}
		})
	}
}

func TestRedTeam1Benign(t *testing.T) {
	tests := []string{
		// |dictsort of a constant dict gives constant keys
		`{% set labels = {'type': 'Type', 'enum': 'Allowed'} %}{% for f, l in labels|dictsort %}{{ l }}: {{ param[f] }}{% endfor %}`,
		`{% for k, v in {'b': 1, 'a': 2}.items() %}{{ param[k] }}{% endfor %}{% for k in {'x': 1}.keys() %}{{ p[k] }}{% endfor %}`,
		// loop.cycle of constants
		`{% set t = {'user': '[INST]', 'assistant': '[/INST]'} %}{% for m in messages %}{{ t[loop.cycle('user', 'assistant')] }}{% endfor %}`,
		// a namespace field the template sets is data
		`{% set ns = namespace(sys='', os='') %}{% set ns.sys = messages[0].content %}{{ ns.sys }}{{ ns.os }}`,
		// macro parameter as attribute name: judged by the call sites
		`{% macro j(items, field, sep=', ') %}{{ items|map(attribute=field)|join(sep) }}{% endmacro %}{{ j(tools, 'name') }}`,
		`{% macro j(items, field) %}{{ items|map(attribute=field)|join }}{% endmacro %}`,
		// markdown bold and a private-looking key
		`{% set s = 'Answer in __English__ and put the __final answer__ in bold.' %}{{ s }}`,
		`{% for m in messages %}{% if m['_hidden'] is not defined %}{{ m.content }}{% endif %}{% endfor %}`,
		// runtime keys stay unflagged, also mixed with constants that cannot make a dunder
		`{% for m in messages %}{{ m[key] }}{{ m['tool_' ~ kind] }}{{ m[role ~ '_content'] }}{{ m[x|default('content')] }}{% endfor %}`,
		// |int and |float on ordinary values
		`{{ messages|length|int }}{{ '3'|int + 1 }}{{ x|int(0) }}{{ '1.5'|float }}`,
	}
	for _, src := range tests {
		r := Analyse(src, Limits{})
		if maxLevel(r) > finding.Low || !r.Complete {
			t.Errorf("%q: complete=%v findings %+v", src, r.Complete, r.Findings)
		}
	}
}

func TestPyIntFloat(t *testing.T) {
	ints := []struct {
		s    string
		base int64
		n    int64
		ok   bool
	}{
		{"95", 10, 95, true}, {" 95\n", 10, 95, true}, {"+95", 10, 95, true}, {"-95", 10, -95, true},
		{"9_5", 10, 95, true}, {"9__5", 10, 0, false}, {"_95", 10, 0, false}, {"95_", 10, 0, false},
		{"5f", 16, 95, true}, {"0x5f", 16, 95, true}, {"0X5F", 0, 95, true}, {"0x_5f", 0, 95, true},
		{"0o137", 0, 95, true}, {"0b1011111", 0, 95, true}, {"0b1011111", 2, 95, true}, {"0x5f", 10, 0, false},
		{"095", 0, 0, false}, {"000", 0, 0, true}, {"095", 10, 95, true}, {"z", 36, 35, true},
		{"95", 1, 0, false}, {"95", 37, 0, false}, {"", 10, 0, false}, {"9.5", 10, 0, false},
		{"\u0669\u0665", 10, 95, true}, // Arabic-Indic digits
		{"\u00a095\u2003", 10, 95, true},
	}
	for _, tc := range ints {
		n, big, ok := pyInt(tc.s, tc.base)
		if ok != tc.ok || (ok && (big || n != tc.n)) {
			t.Errorf("int(%q, %d) = %d big=%v ok=%v, want %d ok=%v", tc.s, tc.base, n, big, ok, tc.n, tc.ok)
		}
	}
	floats := []struct {
		s  string
		f  float64
		ok bool
	}{
		{"95.0", 95, true}, {"9.5e1", 95, true}, {" 9_5.0 ", 95, true}, {".5", 0.5, true}, {"5.", 5, true},
		{"1e", 0, false}, {"e1", 0, false}, {"0x1p3", 0, false}, {"9__5", 0, false}, {"1_e5", 0, false},
		{"-inf", math.Inf(-1), true}, {"Infinity", math.Inf(1), true}, {"1e400", math.Inf(1), true},
	}
	for _, tc := range floats {
		f, ok := pyFloatParse(tc.s)
		if ok != tc.ok || (ok && f != tc.f) {
			t.Errorf("float(%q) = %v ok=%v, want %v ok=%v", tc.s, f, ok, tc.f, tc.ok)
		}
	}
	if _, ok := pyFloatParse("nan"); !ok {
		t.Error("float('nan') should parse")
	}
	// do_int: string, float fallback, default, errors
	for _, tc := range []struct {
		v    cv
		dflt cv
		base int64
		want cv
		ok   bool
	}{
		{strV("x"), intV(95), 10, intV(95), true},
		{strV("95.9"), intV(0), 10, intV(95), true},
		{strV("nan"), intV(7), 10, intV(7), true},
		{strV("inf"), intV(7), 10, cv{}, false}, // OverflowError is not caught
		{strV("5f"), intV(0), 16, intV(95), true},
		{strV("95"), intV(0), 1, intV(95), true}, // bad base: ValueError, then float('95')
		{cv{k: kNone}, intV(3), 10, intV(3), true},
		{cv{k: kFloat, f: -2.7}, intV(0), 10, intV(-2), true},
		{cv{k: kUndef}, intV(0), 10, cv{}, false},
	} {
		got, ok := doInt(tc.v, tc.dflt, tc.base)
		if ok != tc.ok || (ok && !sameCV(got, tc.want)) {
			t.Errorf("do_int(%+v, %+v, %d) = %+v %v, want %+v %v", tc.v, tc.dflt, tc.base, got, ok, tc.want, tc.ok)
		}
	}
}

func TestProseDunderLevels(t *testing.T) {
	for _, tc := range []struct {
		src string
		max finding.Level
	}{
		{`{% set s = '__English__ __final__' %}{{ s }}`, finding.Info},
		{`{% set s = 'call __init__ first' %}{{ s }}`, finding.High},
		{`{{ m['_meta'] }}`, finding.Low},
	} {
		r := Analyse(tc.src, Limits{})
		if m := maxLevel(r); m != tc.max {
			t.Errorf("%q: max %s, want %s: %+v", tc.src, m, tc.max, r.Findings)
		}
	}
	if !strings.Contains(Analyse(`{% set s = '__English__' %}`, Limits{}).Findings[0].Message, "markdown") {
		t.Error("info message should explain the downgrade")
	}
}
