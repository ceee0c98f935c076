package jinja

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

func FuzzAnalyse(f *testing.F) {
	for _, dir := range []string{filepath.Join(realDir, "*.jinja"), filepath.Join(sstiDir, "*", "*.jinja")} {
		files, _ := filepath.Glob(dir)
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		"", "{{", "{%", "{#", "}}", "{{ }}", "{% %}", "{%-", "-%}", "{{ (", "{{ ) }}", "{{ '", `{{ '\`,
		`{{ '\N{`, `{{ '\N{LOW LINE' }}`, `{{ '\U0011ffff' }}`, "{% raw %}", "{% raw %}{% endraw", "{{ 1e }}", "{{ 0x }}",
		"{{ 1_ }}", "{{ 09 }}", "{{ x.0.1 }}", "{{ x[::0] }}", "{{ x[1:2:3] }}", "{{ 'a' * -1 }}", "{{ -9223372036854775808 // -1 }}",
		"{{ 9223372036854775807 + 1 }}", "{{ range(9223372036854775807) }}", "{{ range(0, 10, 0) }}", "{{ '%' % 1 }}", "{{ '%(a' % {} }}",
		"{{ '{' .format(1) }}", "{{ '{0[' .format(1) }}", "{{ '{!' .format(1) }}", "{{ x|map }}", "{{ x|map('map', 'map') }}",
		"{% macro m(a) %}{{ m(a ~ a) }}{% endmacro %}{{ m('x') }}", "{% set ns = namespace() %}{% set ns.a = ns %}{{ ns.a.a.a }}",
		"{% for a, b in [[1], [1, 2, 3], 'ab'] %}{{ a ~ b }}{% endfor %}", "{% for x in 'abc' recursive %}{{ loop(x) }}{% endfor %}",
		"\r\n{{ x }}\r", "{{ x \u2028 }}", "{{ \xff }}", "{{ é.__class__ }}", "{% set a.b = 1 %}", "{% set (a, b) = 1 %}",
		"{{ x['abcdef'[3::9223372036854775807]] }}", "{{ x['abcdef'[-1::-9223372036854775807]] }}", "{{ [] * 9223372036854775807 }}",
		"{{ range(9223372036854775806, 9223372036854775807, 9223372036854775807) }}",
		strings.Repeat("{{ [", 300), strings.Repeat("{% if x %}", 300), strings.Repeat("(", 1000),
	} {
		f.Add(s)
	}
	lim := Limits{MaxSteps: 200_000, MaxStringBytes: 4096, MaxDepth: 64, MaxTokens: 1 << 16}
	f.Fuzz(func(t *testing.T, src string) {
		r := Analyse(src, lim)
		if !r.Complete && len(r.Findings) == 0 {
			t.Fatal("incomplete analysis without a finding")
		}
		perRule := map[string]int{}
		for _, fd := range r.Findings {
			if fd.Rule == "" || fd.Level < finding.Info || fd.Level > finding.Critical || fd.Message == "" {
				t.Fatalf("malformed finding %+v", fd)
			}
			if strings.ContainsAny(fd.Message, "\n\r") {
				t.Fatalf("multi-line message %q", fd.Message)
			}
			if fd.Offset < 0 || fd.Offset > int64(len(src)) {
				t.Fatalf("offset %d outside %d bytes", fd.Offset, len(src))
			}
			if !utf8.ValidString(fd.Evidence) || len(fd.Evidence) > 200 {
				t.Fatalf("bad evidence %q", fd.Evidence)
			}
			if fd.Rule == RuleLimit || fd.Rule == RuleUnparseable {
				if r.Complete {
					t.Fatalf("%s finding but Complete=true", fd.Rule)
				}
			}
			perRule[fd.Rule]++
			if perRule[fd.Rule] > 16 {
				t.Fatalf("more than 16 findings of %s", fd.Rule)
			}
		}
	})
}
