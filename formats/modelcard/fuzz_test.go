package modelcard

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary READMEs, and arbitrary YAML wrapped in --- lines,
// to Parse with default and with tiny limits.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/cards/*.md")
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "---", "---\n", "---\r\n---\r\n", "\xEF\xBB\xBF---\n---", "---\n---\n",
		"---\nlicense: [a, b]\nlanguage: no\n---\n",
		"---\na: &a [*a]\n---\n",
		"---\nmodel-index: [{name: m, results: [{task: {type: t}, dataset: {type: d}, metrics: [{type: x, value: [1]}]}]}]\n---\n",
		"---\nco2_eq_emissions: {emissions: .inf}\n---\n",
		"---\n<<: {license: mit}\nlicense: other\n---\n",
		"---\nlicense: \"\\u202Eevil\\x00\"\n---\n",
		"---\n? [a]\n: b\n---\n",
		"---\ntags: !!binary /w==\n---\n",
	} {
		f.Add([]byte(s))
	}
	small := Limits{MaxFrontMatter: 256, MaxList: 2}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := Parse(bytes.NewReader(data), Limits{})
		checkInvariants(t, rep, DefaultLimits())
		bom := bytes.HasPrefix(data, utf8BOM)
		rest := bytes.TrimPrefix(data, utf8BOM)
		if !bytes.HasPrefix(rest, []byte("---\n")) && !bytes.HasPrefix(rest, []byte("---\r\n")) {
			if rep.Card != nil || len(rep.Findings) != 0 || !rep.Complete {
				t.Fatalf("no opening line (bom %v) but %+v", bom, rep)
			}
		}
		checkInvariants(t, Parse(bytes.NewReader(data), small), small.withDefaults())

		// The same bytes as a front matter body.
		wrapped := append(append([]byte("---\n"), data...), "\n---\n# body\n"...)
		checkInvariants(t, Parse(bytes.NewReader(wrapped), Limits{}), DefaultLimits())
		checkInvariants(t, Parse(bytes.NewReader(wrapped), small), small.withDefaults())
	})
}
