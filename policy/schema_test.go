package policy_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/hallmarkdev/hallmark/policy"
)

func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	// The default compiler reads file: URLs only: no network.
	sch, err := jsonschema.NewCompiler().Compile("schema/policy.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// validate checks a YAML or JSON policy document against the schema.
func validate(t *testing.T, sch *jsonschema.Schema, doc []byte) error {
	t.Helper()
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		t.Fatalf("YAML to JSON: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	return sch.Validate(inst)
}

func examples(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{"*.yaml", "*.json"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	if len(out) < 5 {
		t.Fatalf("only %d examples in %s", len(out), dir)
	}
	return out
}

// Every example policy loads and validates against the schema.
func TestExamplesValidate(t *testing.T) {
	sch := compileSchema(t)
	for _, path := range examples(t, "testdata") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if _, err := policy.Load(path); err != nil {
				t.Errorf("Load: %v", err)
			}
			doc, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(t, sch, doc); err != nil {
				t.Errorf("schema: %v", err)
			}
		})
	}
}

// Every invalid document fails both Load (with the error its first line
// states) and the schema, so the schema is no looser than hallmark on them.
func TestInvalidFailBoth(t *testing.T) {
	sch := compileSchema(t)
	paths, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 7 {
		t.Fatalf("only %d invalid documents", len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			doc, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			first, _ := bufio.NewReader(bytes.NewReader(doc)).ReadString('\n')
			want, ok := strings.CutPrefix(strings.TrimSpace(first), "# error: ")
			if !ok {
				t.Fatalf("first line %q does not say the expected error", first)
			}
			// Resolve files against testdata, where the keys are, so only the
			// intended mistake is wrong.
			_, perr := policy.ParseIn(doc, "testdata")
			if perr == nil {
				t.Errorf("ParseIn succeeded, want %q", want)
			} else if !strings.Contains(perr.Error(), want) {
				t.Errorf("ParseIn error %q does not contain %q", perr, want)
			}
			if err := validate(t, sch, doc); err == nil {
				t.Errorf("schema accepts it")
			}
		})
	}
}

// The schema accepts and refuses sizes, dates and format names as hallmark
// does.
func TestSchemaAgrees(t *testing.T) {
	sch := compileSchema(t)
	var docs []string
	for _, v := range []string{`"1"`, `"20GiB"`, `"512 MB"`, `"1024"`, `"7B"`, `"01KiB"`, `"1TB"`, `"3 TiB"`, `"0"`, `"000"`, `"-1"`, `"1.5GiB"`, `"20gib"`, `"20  GiB"`, `"GiB"`, `""`, `" 1"`, `"1 "`, `"1PiB"`, `"1 KB "`, `1`, `0`, `-5`, `1.5`, `1e3`, `true`} {
		docs = append(docs, `{"version": 1, "limits": {"max-file-size": `+v+`}}`)
	}
	for _, v := range []string{`1`, `0`, `-1`, `1.5`, `"3"`, `1e2`} {
		docs = append(docs, `{"version": 1, "limits": {"max-files": `+v+`}}`)
	}
	for _, v := range []string{"2027-01-31", "2027-1-31", "2027-01-31T10:00:00Z", "2027-01-31T10:00:00.123+02:00", "2027-01-31T10:00:00", "2027-01-31t10:00:00z", "2027-01-31T25:00:00Z", "2027-01-32", "2027-00-10", "20270131", "2027-01-31T10:00:60Z", "2027-01-31 10:00:00Z"} {
		docs = append(docs, `{"version": 1, "suppress": [{"rule": "pickle/unknown-global", "reason": "r", "expires": "`+v+`"}]}`)
	}
	for _, v := range []string{"pickle", "pickle-based", "archives", "7z", "zlib", "Pickle", "pickles", "", "link"} {
		docs = append(docs, `{"version": 1, "formats": {"deny": ["`+v+`"]}}`)
	}
	// An empty fail-on and null values are "unset" to Parse (YAML writes
	// them as `key:`); the schema asks for a value: not compared.
	for _, v := range []string{"info", "none", "critical", "bad", "hi"} {
		docs = append(docs, `{"version": 1, "fail-on": "`+v+`"}`)
	}
	for _, v := range []string{"a:b", "a.b:C.d", "a:*", "a:b*", "a", ":b", "a:", "a: b", "a:b:c", "*:b"} {
		docs = append(docs, `{"version": 1, "pickle": {"allow": ["`+v+`"], "deny": ["`+v+`"]}}`)
	}
	for _, d := range docs {
		_, perr := policy.Parse([]byte(d))
		serr := validate(t, sch, []byte(d))
		if (perr == nil) != (serr == nil) {
			t.Errorf("%s: Parse error %v, schema error %v", d, perr, serr)
		}
	}
}
