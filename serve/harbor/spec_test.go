package harbor

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// The vendored specification, read as the tests' oracle: its component
// schemas are converted from OpenAPI 3.0 to JSON Schema 2020-12 and compiled
// (offline), its paths say which statuses and Content-Types each operation
// may answer.

type spec struct {
	version string         // info.version
	doc     map[string]any // the whole document as JSON
	url     string
	c       *jsonschema.Compiler

	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema
}

var specFiles = []string{"scanner-adapter-openapi-v1.1.yaml", "scanner-adapter-openapi-v1.2.yaml"}

var (
	specsOnce sync.Once
	specsAll  []*spec
	specsErr  error
)

// specs returns the vendored specifications, oldest first (the last is the
// one the handler implements).
func specs(t testing.TB) []*spec {
	t.Helper()
	specsOnce.Do(func() {
		for _, f := range specFiles {
			sp, err := loadSpec(filepath.Join("testdata", f))
			if err != nil {
				specsErr = fmt.Errorf("%s: %w", f, err)
				return
			}
			specsAll = append(specsAll, sp)
		}
	})
	if specsErr != nil {
		t.Fatal(specsErr)
	}
	return specsAll
}

func current(t testing.TB) *spec { s := specs(t); return s[len(s)-1] }

func loadSpec(file string) (*spec, error) {
	y, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		return nil, err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not an object")
	}
	schemas, ok := dig(doc, "components", "schemas").(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no components.schemas")
	}
	defs := map[string]any{}
	for name, s := range schemas {
		defs[name] = convertSchema(s)
	}
	sp := &spec{doc: doc, url: "https://spec.invalid/" + filepath.Base(file) + ".json", compiled: map[string]*jsonschema.Schema{}}
	sp.version, _ = dig(doc, "info", "version").(string)
	root := map[string]any{"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs}
	sp.c = jsonschema.NewCompiler()
	sp.c.AssertFormat() // date-time and uri are checked; "url" and "float" are not formats JSON Schema knows
	if err := sp.c.AddResource(sp.url, root); err != nil {
		return nil, err
	}
	for name := range schemas { // every schema must compile
		if _, err := sp.schema(name); err != nil {
			return nil, err
		}
	}
	return sp, nil
}

// convertSchema turns an OpenAPI 3.0 schema object into JSON Schema 2020-12:
// nullable becomes a "null" type (or an anyOf with null where there is no
// type, as for enabled_capabilities[].parameters), $ref moves to $defs and
// loses its siblings (OpenAPI 3.0 ignores them), example and the other
// OpenAPI-only keys go.
func convertSchema(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if ref, ok := m["$ref"].(string); ok {
		return map[string]any{"$ref": strings.Replace(ref, "#/components/schemas/", "#/$defs/", 1)}
	}
	out := map[string]any{}
	for k, x := range m {
		switch k {
		case "example", "nullable", "description", "descriptions", "xml", "externalDocs", "deprecated", "discriminator", "readOnly", "writeOnly":
		case "properties":
			props := map[string]any{}
			for name, s := range x.(map[string]any) {
				props[name] = convertSchema(s)
			}
			out[k] = props
		case "items", "not", "additionalProperties":
			out[k] = convertSchema(x)
		case "oneOf", "anyOf", "allOf":
			var list []any
			for _, s := range x.([]any) {
				list = append(list, convertSchema(s))
			}
			out[k] = list
		default:
			out[k] = x
		}
	}
	if m["nullable"] == true {
		t, ok := out["type"].(string)
		if !ok {
			return map[string]any{"anyOf": []any{map[string]any{"type": "null"}, out}}
		}
		out["type"] = []any{t, "null"}
		if e, ok := out["enum"].([]any); ok {
			out["enum"] = append(e, nil)
		}
	}
	return out
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// schema compiles components.schemas.<name>.
func (s *spec) schema(name string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.compiled[name]; ok {
		return sch, nil
	}
	sch, err := s.c.Compile(s.url + "#/$defs/" + name)
	if err != nil {
		return nil, err
	}
	s.compiled[name] = sch
	return sch, nil
}

// validate checks a JSON body against components.schemas.<name>.
func (s *spec) validate(name string, body []byte) error {
	sch, err := s.schema(name)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// operation is paths.<path>.<method>.
func (s *spec) operation(path, method string) map[string]any {
	op, _ := dig(s.doc, "paths", path, strings.ToLower(method)).(map[string]any)
	return op
}

// response is the declared response of an operation for a status, or nil.
func (s *spec) response(path, method string, status int) map[string]any {
	r, _ := dig(s.operation(path, method), "responses", strconv.Itoa(status)).(map[string]any)
	return r
}

// refName is the component a content entry's schema refers to.
func refName(content any) string {
	ref, _ := dig(content, "schema", "$ref").(string)
	return strings.TrimPrefix(ref, "#/components/schemas/")
}

// requestSchema is the schema of a request body with this Content-Type.
func (s *spec) requestSchema(path, method, ctype string) string {
	return refName(dig(s.operation(path, method), "requestBody", "content", ctype))
}

// conform checks a response against what the newest specification declares
// for the operation (status, Content-Type, body schema, headers), and its
// body against the schemas of the older ones that declare the status too.
func conform(t testing.TB, path, method string, rec *httptest.ResponseRecorder) {
	t.Helper()
	all := specs(t)
	for i, sp := range all {
		newest := i == len(all)-1
		resp := sp.response(path, method, rec.Code)
		if resp == nil {
			if newest {
				t.Errorf("%s %s: status %d is not a response the spec v%s declares (body %q)", method, path, rec.Code, sp.version, rec.Body.String())
			}
			continue
		}
		content, _ := resp["content"].(map[string]any)
		ct := rec.Header().Get("Content-Type")
		if len(content) == 0 {
			if newest && (rec.Body.Len() != 0 || ct != "") {
				t.Errorf("%s %s %d: the spec declares no content, got %q %q", method, path, rec.Code, ct, rec.Body.String())
			}
		} else {
			c, ok := content[ct]
			if !ok {
				if newest {
					t.Errorf("%s %s %d: Content-Type %q is not one of the spec v%s's %v", method, path, rec.Code, ct, sp.version, keys(content))
				}
				continue
			}
			if name := refName(c); name != "" {
				if err := sp.validate(name, rec.Body.Bytes()); err != nil {
					t.Errorf("%s %s %d: body does not validate against %s of spec v%s: %v\n%s", method, path, rec.Code, name, sp.version, err, rec.Body.String())
				}
			}
		}
		if hs, ok := resp["headers"].(map[string]any); ok && newest {
			for h, def := range hs {
				typ, _ := dig(def, "schema", "type").(string)
				v := rec.Header().Get(h)
				if typ == "integer" {
					if _, err := strconv.Atoi(v); err != nil {
						t.Errorf("%s %s %d: header %s = %q is not an integer", method, path, rec.Code, h, v)
					}
				}
			}
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The vendored files are the upstream bytes the README names.
func TestSpecVendored(t *testing.T) {
	readme, err := os.ReadFile("testdata/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(specFiles, "LICENSE") {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if !bytes.Contains(readme, []byte(hex.EncodeToString(sum[:]))) {
			t.Errorf("%s: sha256 %x is not the one testdata/README.md records", f, sum)
		}
	}
	if !bytes.Contains(readme, []byte("d898c3d73035c109822588405a3ec04e1bff0440")) {
		t.Error("README does not name the upstream commit")
	}
	all := specs(t)
	if all[0].version != "1.1" || all[1].version != "1.2" {
		t.Fatalf("versions %q %q", all[0].version, all[1].version)
	}
	// The media types this package spells are the spec's.
	sp := current(t)
	for _, c := range []struct {
		path, method string
		status       int
		ctype        string
	}{
		{"/metadata", "GET", 200, MimeMetadata},
		{"/metadata", "GET", 200, MimeMetadataV10},
		{"/metadata", "GET", 500, MimeError},
		{"/scan", "POST", 202, MimeScanResponse},
		{"/scan", "POST", 400, MimeError},
		{"/scan", "POST", 422, MimeError},
		{"/scan", "POST", 501, MimeError},
		{"/scan/{scan_request_id}/report", "GET", 200, MimeVulnReport},
		{"/scan/{scan_request_id}/report", "GET", 200, MimeNativeReport},
		{"/scan/{scan_request_id}/report", "GET", 200, MimeSBOMReport},
		{"/scan/{scan_request_id}/report", "GET", 500, MimeError},
	} {
		content, _ := sp.response(c.path, c.method, c.status)["content"].(map[string]any)
		if _, ok := content[c.ctype]; !ok {
			t.Errorf("%s %s %d: %q is not in the spec (%v)", c.method, c.path, c.status, c.ctype, keys(content))
		}
	}
	for _, ct := range []string{MimeScanRequest, MimeScanRequestV10} {
		if sp.requestSchema("/scan", "POST", ct) != "ScanRequest" {
			t.Errorf("request type %q is not in the spec", ct)
		}
	}
	// The SBOM formats are the spec's enum (of the report query parameter).
	var enum []string
	params, _ := sp.operation("/scan/{scan_request_id}/report", "GET")["parameters"].([]any)
	for _, p := range params {
		if dig(p, "name") == "sbom_media_type" {
			for _, e := range dig(p, "enum").([]any) {
				enum = append(enum, e.(string))
			}
		}
	}
	if fmt.Sprint(enum) != fmt.Sprint([]string{MediaTypeSPDX, MediaTypeCycloneDX}) {
		t.Errorf("sbom_media_type enum %v", enum)
	}
	// The severity scale is the spec's.
	var sev []string
	for _, e := range dig(sp.doc, "components", "schemas", "Severity", "enum").([]any) {
		sev = append(sev, e.(string))
	}
	want := []Severity{SeverityUnknown, SeverityNegligible, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}
	if fmt.Sprint(sev) != fmt.Sprint(want) {
		t.Errorf("Severity enum %v, want %v", sev, want)
	}
	for i, s := range want {
		if s.rank() != i+1 {
			t.Errorf("%s ranks %d", s, s.rank())
		}
	}
}

// The converter keeps what the schemas say: spot checks that the compiled
// schemas accept and refuse what the YAML means.
func TestSpecSchemas(t *testing.T) {
	sp := current(t)
	cases := []struct {
		schema, body string
		ok           bool
	}{
		{"ScanRequest", `{"registry":{},"artifact":{}}`, true},
		{"ScanRequest", `{"registry":{}}`, false},
		{"ScanRequest", `{"registry":null,"artifact":{}}`, false},
		{"ScanRequest", `{"registry":{},"artifact":{},"enabled_capabilities":[{"type":"sbom","parameters":null}]}`, true},
		{"ScanRequest", `{"registry":{},"artifact":{},"enabled_capabilities":[{"type":"sbom","parameters":{"sbom_media_types":["application/spdx+json"]}}]}`, true},
		{"ScanRequest", `{"registry":{},"artifact":{},"enabled_capabilities":[{"type":"sbom","parameters":{"sbom_media_types":["text/plain"]}}]}`, false},
		{"ScanRequest", `{"registry":{},"artifact":{},"enabled_capabilities":[{"type":"malware"}]}`, false},
		{"ScanRequest", `{"registry":{},"artifact":{},"enabled_capabilities":[{}]}`, false},
		{"ScanRequest", `{"registry":{"url":5},"artifact":{}}`, false},
		{"ScanResponse", `{"id":"x"}`, true},
		{"ScanResponse", `{}`, false},
		{"HarborVulnerabilityReport", `{"severity":"None"}`, false},
		{"HarborVulnerabilityReport", `{"generated_at":"yesterday"}`, false},
		{"HarborVulnerabilityReport", `{"vulnerabilities":[{"links":["not a uri"]}]}`, false},
		{"HarborVulnerabilityReport", `{"vulnerabilities":[{"links":["https://example.com/x#y"],"severity":"Negligible"}]}`, true},
		{"HarborSbomReport", `{"media_type":"application/vnd.cyclonedx+json","sbom":{}}`, true},
		{"HarborSbomReport", `{"media_type":"text/plain"}`, false},
		{"ScannerAdapterMetadata", `{"scanner":{},"capabilities":[{"consumes_mime_types":[],"produces_mime_types":[]}]}`, true},
		{"ScannerAdapterMetadata", `{"scanner":{},"capabilities":[{"type":"other","consumes_mime_types":[],"produces_mime_types":[]}]}`, false},
		{"ErrorResponse", `{"error":{"message":"m"}}`, true},
	}
	for _, c := range cases {
		err := sp.validate(c.schema, []byte(c.body))
		if (err == nil) != c.ok {
			t.Errorf("%s %s: valid=%v, want %v (%v)", c.schema, c.body, err == nil, c.ok, err)
		}
	}
}

// serve runs one request through a handler.
func serve(h http.Handler, method, target, accept string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	if body != nil {
		r.Header.Set("Content-Type", MimeScanRequestV10)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}
