package cdxschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode"
)

const minimalBOM16 = `{
  "bomFormat": "CycloneDX",
  "specVersion": "1.6",
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "version": 1
}`

const sha256A = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
const sha256B = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"

// mlBOM16 exercises every ML-BOM feature the sbom package is meant to emit.
const mlBOM16 = `{
  "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
  "bomFormat": "CycloneDX",
  "specVersion": "1.6",
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "version": 1,
  "metadata": {
    "timestamp": "2026-01-02T03:04:05Z",
    "tools": {"components": [{"type": "application", "name": "hallmark", "version": "0.0.0-test"}]},
    "component": {"type": "machine-learning-model", "bom-ref": "root", "name": "acme/tiny-llm"}
  },
  "components": [
    {
      "type": "machine-learning-model",
      "bom-ref": "model",
      "name": "acme/tiny-llm",
      "version": "0123456789abcdef0123456789abcdef01234567",
      "purl": "pkg:huggingface/acme/tiny-llm@0123456789abcdef0123456789abcdef01234567",
      "licenses": [
        {"license": {"id": "Apache-2.0", "acknowledgement": "declared"}},
        {"license": {"name": "llama3.1", "url": "https://example.com/llama3.1/LICENSE"}}
      ],
      "modelCard": {
        "bom-ref": "model-card",
        "modelParameters": {
          "approach": {"type": "self-supervised"},
          "task": "text-generation",
          "architectureFamily": "llama",
          "modelArchitecture": "LlamaForCausalLM",
          "datasets": [
            {"ref": "dataset-squad"},
            {"type": "dataset", "bom-ref": "dataset-inline", "name": "wikitext", "contents": {"url": "https://huggingface.co/datasets/wikitext"}}
          ],
          "inputs": [{"format": "text"}],
          "outputs": [{"format": "text"}]
        },
        "quantitativeAnalysis": {
          "performanceMetrics": [
            {"type": "f1", "value": "0.91", "slice": "squad/validation",
             "confidenceInterval": {"lowerBound": "0.89", "upperBound": "0.93"}}
          ]
        },
        "considerations": {"useCases": ["chat"], "technicalLimitations": ["english only"]},
        "properties": [{"name": "hallmark:modelcard:source", "value": "README.md"}]
      },
      "pedigree": {
        "ancestors": [
          {"type": "machine-learning-model", "bom-ref": "base-model", "name": "acme/base-llm",
           "purl": "pkg:huggingface/acme/base-llm@89abcdef0123456789abcdef0123456789abcdef"}
        ]
      },
      "externalReferences": [
        {"type": "model-card", "url": "https://huggingface.co/acme/tiny-llm"},
        {"type": "attestation", "url": "oci://registry.example/acme/tiny-llm@sha256:` + sha256A + `"},
        {"type": "digital-signature", "url": "oci://registry.example/acme/tiny-llm@sha256:` + sha256B + `"}
      ],
      "properties": [
        {"name": "hallmark:model:format", "value": "safetensors"},
        {"name": "hallmark:base_model:relation", "value": "finetune"}
      ],
      "components": [
        {"type": "file", "bom-ref": "file-weights", "name": "model.safetensors", "mime-type": "application/octet-stream",
         "hashes": [{"alg": "SHA-256", "content": "` + sha256A + `"}]},
        {"type": "file", "bom-ref": "file-config", "name": "config.json", "mime-type": "application/json",
         "hashes": [{"alg": "SHA-256", "content": "` + sha256B + `"}]}
      ]
    },
    {
      "type": "data",
      "bom-ref": "dataset-squad",
      "name": "rajpurkar/squad",
      "data": [{"type": "dataset", "name": "rajpurkar/squad", "contents": {"url": "https://huggingface.co/datasets/rajpurkar/squad"}}]
    }
  ],
  "dependencies": [
    {"ref": "model", "dependsOn": ["dataset-squad", "file-weights", "file-config"]},
    {"ref": "dataset-squad", "dependsOn": []}
  ]
}`

// mutate applies f to a decoded copy of doc and re-encodes it, so each
// negative test differs from a known-valid document in one place only.
func mutate(t *testing.T, doc string, f func(bom map[string]any)) []byte {
	t.Helper()
	var bom map[string]any
	if err := json.Unmarshal([]byte(doc), &bom); err != nil {
		t.Fatal(err)
	}
	f(bom)
	out, err := json.Marshal(bom)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// obj walks a path of object keys and array indexes in a decoded document.
func obj(t *testing.T, v any, path ...any) map[string]any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("path %v is %T, not an object", path, v)
	}
	return m
}

// wantIssue asserts err is a *ValidationError with an issue containing every
// one of parts.
func wantIssue(t *testing.T, err error, parts ...string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	for _, is := range ve.Issues {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(is, p)
		}
		if ok {
			return
		}
	}
	t.Fatalf("no issue contains %q; got:\n%v", parts, err)
}

func TestMinimalBOMValid(t *testing.T) {
	if err := ValidateJSON([]byte(minimalBOM16), "1.6"); err != nil {
		t.Fatal(err)
	}
}

func TestMLBOMValid(t *testing.T) {
	if err := ValidateJSON([]byte(mlBOM16), "1.6"); err != nil {
		t.Fatal(err)
	}
}

func TestBadApproachType(t *testing.T) {
	doc := mutate(t, mlBOM16, func(b map[string]any) {
		obj(t, b, "components", 0, "modelCard", "modelParameters", "approach")["type"] = "vibes"
	})
	wantIssue(t, ValidateJSON(doc, "1.6"), "at '/components/0/modelCard/modelParameters/approach/type'", "supervised")
}

func TestLicenseIDNotInSPDXEnum(t *testing.T) {
	// Hugging Face's lowercase slug is not the SPDX id: the enum is case-sensitive.
	doc := mutate(t, mlBOM16, func(b map[string]any) {
		obj(t, b, "components", 0, "licenses", 0, "license")["id"] = "apache-2.0"
	})
	err := ValidateJSON(doc, "1.6")
	wantIssue(t, err, "at '/components/0/licenses/0/license/id'", `"apache-2.0" is not one of the`)
	// The summary replaces the several-hundred-entry enum listing.
	if strings.Contains(err.Error(), "0BSD") {
		t.Errorf("error lists the SPDX enum:\n%v", err)
	}
}

func TestDuplicateBOMRef(t *testing.T) {
	doc := mutate(t, mlBOM16, func(b map[string]any) {
		obj(t, b, "components", 0, "components", 1)["bom-ref"] = "file-weights"
	})
	wantIssue(t, ValidateJSON(doc, "1.6"), "duplicate bom-ref", `"file-weights"`)
}

func TestDuplicateBOMRefAcrossKinds(t *testing.T) {
	// A model card's bom-ref shares the namespace with components.
	doc := mutate(t, mlBOM16, func(b map[string]any) {
		obj(t, b, "components", 0, "modelCard")["bom-ref"] = "dataset-squad"
	})
	wantIssue(t, ValidateJSON(doc, "1.6"), "duplicate bom-ref", `"dataset-squad"`)
}

func TestDanglingDatasetRef(t *testing.T) {
	doc := mutate(t, mlBOM16, func(b map[string]any) {
		obj(t, b, "components", 0, "modelCard", "modelParameters", "datasets", 0)["ref"] = "dataset-missing"
	})
	wantIssue(t, ValidateJSON(doc, "1.6"),
		"at '/components/0/modelCard/modelParameters/datasets/0/ref'", `"dataset-missing" matches no bom-ref`)
}

func TestDanglingDependencies(t *testing.T) {
	doc := mutate(t, mlBOM16, func(b map[string]any) {
		obj(t, b, "dependencies", 0)["ref"] = "ghost"
		obj(t, b, "dependencies", 1)["dependsOn"] = []any{"dataset-squad", "phantom"}
	})
	err := ValidateJSON(doc, "1.6")
	wantIssue(t, err, "at '/dependencies/0/ref'", `"ghost"`)
	wantIssue(t, err, "at '/dependencies/1/dependsOn/1'", `"phantom"`)
}

func TestBOMLinkRefNotResolved(t *testing.T) {
	// A BOM-Link names a bom-ref in another BOM; it cannot be dangling here.
	doc := mutate(t, mlBOM16, func(b map[string]any) {
		obj(t, b, "components", 0, "modelCard", "modelParameters", "datasets", 0)["ref"] =
			"urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#dataset-elsewhere"
	})
	if err := ValidateJSON(doc, "1.6"); err != nil {
		t.Fatal(err)
	}
}

const minimalBOM15 = `{
  "bomFormat": "CycloneDX",
  "specVersion": "1.5",
  "version": 1,
  "components": [{"type": "machine-learning-model", "bom-ref": "m", "name": "acme/tiny-llm"}]
}`

func TestSpec15RejectsSpec16Fields(t *testing.T) {
	if err := ValidateJSON([]byte(minimalBOM15), "1.5"); err != nil {
		t.Fatalf("1.5 baseline: %v", err)
	}
	// manufacturer arrived in 1.6; 1.5 components are additionalProperties:false.
	doc := mutate(t, minimalBOM15, func(b map[string]any) {
		obj(t, b, "components", 0)["manufacturer"] = map[string]any{"name": "ACME"}
	})
	wantIssue(t, ValidateJSON(doc, "1.5"), "at '/components/0'", "manufacturer")
	// digital-signature became an external reference type in 1.6.
	doc = mutate(t, minimalBOM15, func(b map[string]any) {
		obj(t, b, "components", 0)["externalReferences"] = []any{
			map[string]any{"type": "digital-signature", "url": "https://example.com/sig"},
		}
	})
	wantIssue(t, ValidateJSON(doc, "1.5"), "at '/components/0/externalReferences/0/type'")
}

func TestMLBOMFailsAs15(t *testing.T) {
	err := ValidateJSON([]byte(mlBOM16), "1.5")
	wantIssue(t, err, "at '/specVersion'", `"1.6"`)
	wantIssue(t, err, "at '/components/0/externalReferences/2/type'")
}

func TestUnsupportedVersion(t *testing.T) {
	for _, v := range []string{"1.7", "", "1.6 "} {
		if err := ValidateJSON([]byte(minimalBOM16), v); !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("version %q: got %v", v, err)
		}
		if err := ValidateXML([]byte("<bom/>"), v); !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("XML version %q: got %v", v, err)
		}
	}
}

func TestNotJSON(t *testing.T) {
	for _, doc := range []string{"", "{", `{"bomFormat":"CycloneDX"} {}`, "[]"} {
		var ve *ValidationError
		if err := ValidateJSON([]byte(doc), "1.6"); !errors.As(err, &ve) {
			t.Errorf("%q: want *ValidationError, got %v", doc, err)
		}
	}
}

func TestIssuesCappedAndClean(t *testing.T) {
	deps := make([]any, 0, 200)
	for i := range 200 {
		deps = append(deps, map[string]any{"ref": fmt.Sprintf("\x1b[31mghost-%d-%s", i, strings.Repeat("x", 5000))})
	}
	doc := mutate(t, mlBOM16, func(b map[string]any) { b["dependencies"] = deps })
	err := ValidateJSON(doc, "1.6")
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	if len(ve.Issues) != maxIssues || ve.Dropped != 200-maxIssues {
		t.Errorf("issues %d dropped %d, want %d and %d", len(ve.Issues), ve.Dropped, maxIssues, 200-maxIssues)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("and %d more", 200-maxIssues)) {
		t.Errorf("message does not say how many were dropped")
	}
	for _, is := range ve.Issues {
		if len(is) > maxIssueLen+len("…") {
			t.Errorf("issue is %d bytes", len(is))
		}
		if strings.IndexFunc(is, unicode.IsControl) >= 0 {
			t.Errorf("issue has a control character: %q", is)
		}
	}
}

// TestUnknownRefNeverFetched proves the compiler has no loader: a $ref to a
// loopback server fails to compile and the server sees no request.
func TestUnknownRefNeverFetched(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, `{"type":"string"}`)
	}))
	defer srv.Close()
	c, err := newCompiler(jsonResources("1.6"))
	if err != nil {
		t.Fatal(err)
	}
	const id = "http://cyclonedx.org/schema/test-unknown-ref.json"
	if err := c.AddResource(id, map[string]any{"$ref": srv.URL + "/x.schema.json"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compile(id); err == nil {
		t.Fatal("schema with an unregistered $ref compiled")
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("compiler fetched the $ref (%d requests)", n)
	}
}

func TestConcurrentFirstUse(t *testing.T) {
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			v := []string{"1.5", "1.6"}[i%2]
			doc := strings.Replace(minimalBOM16, `"1.6"`, `"`+v+`"`, 1)
			errs[i] = ValidateJSON([]byte(doc), v)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
}

// --- XML ---

// requireXMLLint skips when xmllint is missing, unless the environment
// demands it (CI sets HALLMARK_REQUIRE_XMLLINT=1).
func requireXMLLint(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, ErrNoXMLValidator) {
		if os.Getenv("HALLMARK_REQUIRE_XMLLINT") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

const mlBOM16XML = `<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" serialNumber="urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79" version="1">
  <metadata>
    <timestamp>2026-01-02T03:04:05Z</timestamp>
    <component type="machine-learning-model" bom-ref="root"><name>acme/tiny-llm</name></component>
  </metadata>
  <components>
    <component type="machine-learning-model" bom-ref="model">
      <name>acme/tiny-llm</name>
      <licenses>
        <license acknowledgement="declared"><id>Apache-2.0</id></license>
        <license><name>llama3.1</name><url>https://example.com/llama3.1/LICENSE</url></license>
      </licenses>
      <purl>pkg:huggingface/acme/tiny-llm@0123456789abcdef0123456789abcdef01234567</purl>
      <pedigree>
        <ancestors>
          <component type="machine-learning-model" bom-ref="base-model"><name>acme/base-llm</name></component>
        </ancestors>
      </pedigree>
      <externalReferences>
        <reference type="attestation"><url>oci://registry.example/acme/tiny-llm@sha256:` + sha256A + `</url></reference>
        <reference type="digital-signature"><url>oci://registry.example/acme/tiny-llm@sha256:` + sha256B + `</url></reference>
      </externalReferences>
      <properties><property name="hallmark:model:format">safetensors</property></properties>
      <components>
        <component type="file" bom-ref="file-weights">
          <name>model.safetensors</name>
          <hashes><hash alg="SHA-256">` + sha256A + `</hash></hashes>
        </component>
      </components>
      <modelCard bom-ref="model-card">
        <modelParameters>
          <approach><type>self-supervised</type></approach>
          <task>text-generation</task>
          <architectureFamily>llama</architectureFamily>
          <modelArchitecture>LlamaForCausalLM</modelArchitecture>
          <datasets>
            <ref>dataset-squad</ref>
            <dataset bom-ref="dataset-inline"><type>dataset</type><name>wikitext</name></dataset>
          </datasets>
          <inputs><input><format>text</format></input></inputs>
          <outputs><output><format>text</format></output></outputs>
        </modelParameters>
        <quantitativeAnalysis>
          <performanceMetrics>
            <performanceMetric><type>f1</type><value>0.91</value><slice>squad/validation</slice></performanceMetric>
          </performanceMetrics>
        </quantitativeAnalysis>
      </modelCard>
    </component>
    <component type="data" bom-ref="dataset-squad">
      <name>rajpurkar/squad</name>
      <data><type>dataset</type><name>rajpurkar/squad</name></data>
    </component>
  </components>
  <dependencies>
    <dependency ref="model"><dependency ref="dataset-squad"/></dependency>
  </dependencies>
</bom>
`

func TestXMLValid(t *testing.T) {
	err := ValidateXML([]byte(mlBOM16XML), "1.6")
	requireXMLLint(t, err)
	if err != nil {
		t.Fatal(err)
	}
}

func TestXMLInvalid(t *testing.T) {
	cases := []struct {
		name, old, new string
		want           []string
	}{
		{"approach", "<type>self-supervised</type>", "<type>vibes</type>", []string{"line ", "'type'", "vibes"}},
		{"spdx id", "<id>Apache-2.0</id>", "<id>apache-2.0</id>", []string{"line 11:", "'apache-2.0' is not an element of the set of "}},
		{"duplicate bom-ref", `bom-ref="dataset-squad"`, `bom-ref="model"`, []string{"Duplicate key-sequence", "model"}},
		{"dangling dataset ref", "<ref>dataset-squad</ref>", "<ref>dataset-missing</ref>", []string{"line ", `"dataset-missing" matches no bom-ref`}},
		{"dangling dependency", `<dependency ref="dataset-squad"/>`, `<dependency ref="ghost"/>`, []string{`"ghost" matches no bom-ref`}},
		{"not well-formed", "</bom>", "", []string{"line "}},
		{"wrong namespace", "bom/1.6", "bom/1.5", []string{"line 2:", "validation root"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := strings.Replace(mlBOM16XML, c.old, c.new, 1)
			if doc == mlBOM16XML {
				t.Fatal("replacement did not apply")
			}
			err := ValidateXML([]byte(doc), "1.6")
			requireXMLLint(t, err)
			wantIssue(t, err, c.want...)
		})
	}
}

func TestXMLDoctypeRefused(t *testing.T) {
	doc := strings.Replace(mlBOM16XML, "<bom ",
		`<!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]>`+"\n<bom ", 1)
	doc = strings.Replace(doc, "<task>text-generation</task>", "<task>&x;</task>", 1)
	err := ValidateXML([]byte(doc), "1.6")
	requireXMLLint(t, err)
	wantIssue(t, err, "DOCTYPE")
}

func TestXMLSpec15(t *testing.T) {
	doc15 := `<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">
  <components>
    <component type="machine-learning-model" bom-ref="m"><name>acme/tiny-llm</name></component>
  </components>
</bom>`
	err := ValidateXML([]byte(doc15), "1.5")
	requireXMLLint(t, err)
	if err != nil {
		t.Fatalf("1.5 baseline: %v", err)
	}
	if err := ValidateXML([]byte(mlBOM16XML), "1.5"); err == nil {
		t.Fatal("a 1.6 document validated as 1.5")
	}
}

func TestXMLNoValidator(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := ValidateXML([]byte(mlBOM16XML), "1.6")
	if !errors.Is(err, ErrNoXMLValidator) {
		t.Fatalf("want ErrNoXMLValidator, got %v", err)
	}
}
