package sbom_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/internal/cdxschema"
	"github.com/hallmarkdev/hallmark/sbom"
)

var update = flag.Bool("update", false, "rewrite the golden BOMs")

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const serial = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"

func run(t *testing.T, target string) *audit.Result {
	t.Helper()
	res, err := audit.Run(context.Background(), []string{target}, audit.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Targets[0].Error != "" {
		t.Fatal(res.Targets[0].Error)
	}
	return res
}

// encode writes the BOM in every format and spec version, validating
// each against the official schema, and returns the 1.6 JSON.
func encode(t *testing.T, res *audit.Result, opts sbom.Options) ([]byte, *cdx.BOM) {
	t.Helper()
	var out []byte
	var bom16 *cdx.BOM
	for _, spec := range []string{sbom.Spec16, sbom.Spec15} {
		o := opts
		o.SpecVersion = spec
		bom, err := sbom.Build(res, o)
		if err != nil {
			t.Fatal(err)
		}
		var js, xml bytes.Buffer
		if err := sbom.Encode(&js, bom, sbom.FormatJSON, spec); err != nil {
			t.Fatal(err)
		}
		if err := cdxschema.ValidateJSON(js.Bytes(), spec); err != nil {
			t.Fatalf("spec %s JSON does not validate:\n%v\n%s", spec, err, js.Bytes())
		}
		if err := sbom.Encode(&xml, bom, sbom.FormatXML, spec); err != nil {
			t.Fatal(err)
		}
		if err := cdxschema.ValidateXML(xml.Bytes(), spec); err != nil {
			if errors.Is(err, cdxschema.ErrNoXMLValidator) && os.Getenv("HALLMARK_REQUIRE_XMLLINT") != "1" {
				t.Logf("XML not validated: %v", err)
			} else {
				t.Fatalf("spec %s XML does not validate:\n%v\n%s", spec, err, xml.Bytes())
			}
		}
		if spec == sbom.Spec16 {
			out, bom16 = js.Bytes(), bom
		}
	}
	return out, bom16
}

// redact hides what changes between builds and runs: the serial number,
// the timestamp and hallmark's own version.
var redact = regexp.MustCompile(`("serialNumber": "|"timestamp": "|"name": "hallmark",\s*"version": ")[^"]*(")`)

// golden compares the BOM, with serial, timestamps and versions redacted,
// with testdata/golden/name.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	got = redact.ReplaceAll(got, []byte("${1}REDACTED${2}"))
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./sbom -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./sbom -update, then review the diff):\n%s", name, got)
	}
}

func sha256File(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func props(c *cdx.Component) map[string][]string {
	m := map[string][]string{}
	if c.Properties != nil {
		for _, p := range *c.Properties {
			m[p.Name] = append(m[p.Name], p.Value)
		}
	}
	return m
}

func prop(t *testing.T, c *cdx.Component, name, want string) {
	t.Helper()
	got := props(c)[name]
	if len(got) != 1 || got[0] != want {
		t.Errorf("property %s = %q, want %q", name, got, want)
	}
}

func TestHuggingFaceFolder(t *testing.T) {
	dir := filepath.Join("..", "testdata", "bom", "hf-model")
	res := run(t, dir)
	data, bom := encode(t, res, sbom.Options{SerialNumber: serial, Timestamp: epoch})
	golden(t, "hf-model.cdx.json", data)

	m := bom.Metadata.Component
	if m.Type != cdx.ComponentTypeMachineLearningModel || m.Name != "Tiny-Chat-1M" {
		t.Errorf("model component: %s %q", m.Type, m.Name)
	}
	// Every file, hashed as sha256sum would.
	entries, _ := os.ReadDir(dir)
	if m.Components == nil || len(*m.Components) != len(entries) {
		t.Fatalf("want %d file components, got %v", len(entries), m.Components)
	}
	for _, c := range *m.Components {
		want := sha256File(t, filepath.Join(dir, c.Name))
		if c.Type != cdx.ComponentTypeFile || c.Hashes == nil || (*c.Hashes)[0].Algorithm != cdx.HashAlgoSHA256 || (*c.Hashes)[0].Value != want {
			t.Errorf("file %s: hashes %v, want SHA-256 %s", c.Name, c.Hashes, want)
		}
	}
	// Licence: the card's apache-2.0 as the SPDX id.
	if m.Licenses == nil || len(*m.Licenses) != 1 || (*m.Licenses)[0].License == nil || (*m.Licenses)[0].License.ID != "Apache-2.0" {
		t.Errorf("licences: %+v", m.Licenses)
	}
	mp := m.ModelCard.ModelParameters
	if mp.Task != "text-generation" || mp.ArchitectureFamily != "llama" || mp.ModelArchitecture != "LlamaForCausalLM" {
		t.Errorf("model parameters: %+v", mp)
	}
	// Datasets as data components, referenced from the model card.
	if mp.Datasets == nil || len(*mp.Datasets) != 2 || bom.Components == nil || len(*bom.Components) != 2 {
		t.Fatalf("datasets: %+v / %+v", mp.Datasets, bom.Components)
	}
	refs := map[string]bool{}
	for _, c := range *bom.Components {
		refs[c.BOMRef] = true
		if c.Type != cdx.ComponentTypeData || c.Data == nil || (*c.Data)[0].Type != cdx.ComponentDataTypeDataset {
			t.Errorf("dataset component %+v", c)
		}
	}
	for _, d := range *mp.Datasets {
		if !refs[d.Ref] {
			t.Errorf("dataset ref %q names no component", d.Ref)
		}
	}
	ds := (*bom.Components)[0]
	if ds.Name != "HuggingFaceH4/ultrachat_200k" || (*ds.Data)[0].Contents.URL != "https://huggingface.co/datasets/HuggingFaceH4/ultrachat_200k" {
		t.Errorf("first dataset: %+v", ds)
	}
	// The base model.
	if m.Pedigree == nil || len(*m.Pedigree.Ancestors) != 1 {
		t.Fatalf("pedigree: %+v", m.Pedigree)
	}
	if a := (*m.Pedigree.Ancestors)[0]; a.Name != "hallmark-test/Tiny-Base-1M" || a.PackageURL != "pkg:huggingface/hallmark-test/Tiny-Base-1M" || a.Type != cdx.ComponentTypeMachineLearningModel {
		t.Errorf("ancestor: %+v", a)
	}
	// Evaluation results.
	pm := *m.ModelCard.QuantitativeAnalysis.PerformanceMetrics
	if len(pm) != 2 || pm[0].Type != "acc_norm (normalized accuracy)" || pm[0].Value != "31.42" || pm[0].Slice != "HellaSwag (10-Shot)/validation" {
		t.Errorf("performance metrics: %+v", pm)
	}
	// Facts: the chat template by content, shape and parameters.
	tmpl, err := os.ReadFile(filepath.Join("..", "testdata", "gguf", "gen", "templates", "llama-3-8b-instruct.jinja"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(tmpl)
	prop(t, m, "hallmark:model:chat_template_sha256", hex.EncodeToString(sum[:]))
	prop(t, m, "hallmark:model:format", "safetensors")
	prop(t, m, "hallmark:model:parameters", "16960")
	prop(t, m, "hallmark:model:dtypes", "BF16")
	prop(t, m, "hallmark:model:context_length", "4096")
	prop(t, m, "hallmark:config:hidden_size", "32")
	prop(t, m, "hallmark:generation:temperature", "0.6")
	prop(t, m, "hallmark:card:base_model_relation", "finetune")
	prop(t, m, "hallmark:scan:verdict", "clean")
	prop(t, m, "hallmark:scan:findings:critical", "0")
	prop(t, m, "hallmark:scan:rules_version", res.RulesVersion)
}

func TestGGUFFile(t *testing.T) {
	p := filepath.Join("..", "testdata", "bom", "tiny-chat-q8_0.gguf")
	res := run(t, p)
	data, bom := encode(t, res, sbom.Options{SerialNumber: serial, Timestamp: epoch})
	golden(t, "tiny-chat-q8_0.cdx.json", data)
	m := bom.Metadata.Component
	want := sha256File(t, p)
	if m.Hashes == nil || (*m.Hashes)[0].Value != want {
		t.Errorf("model hash %v, want %s", m.Hashes, want)
	}
	if m.Name != "Hallmark Tiny Llama 3 Instruct" {
		t.Errorf("name %q", m.Name)
	}
	if m.ModelCard.ModelParameters.ArchitectureFamily != "llama" {
		t.Errorf("family %+v", m.ModelCard.ModelParameters)
	}
	if m.Licenses == nil || (*m.Licenses)[0].License.ID != "Apache-2.0" || (*m.Licenses)[0].License.URL != "https://www.apache.org/licenses/LICENSE-2.0" {
		t.Errorf("licence %+v", m.Licenses)
	}
	if m.Pedigree == nil || (*m.Pedigree.Ancestors)[0].PackageURL != "pkg:huggingface/hallmark-test/Tiny-Chat-1M" {
		t.Errorf("pedigree %+v", m.Pedigree)
	}
	if bom.Components == nil || (*bom.Components)[0].Name != "Ultrachat 200k" {
		t.Errorf("datasets %+v", bom.Components)
	}
	prop(t, m, "hallmark:model:quantization", "MOSTLY_Q8_0")
	prop(t, m, "hallmark:model:context_length", "8192")
	prop(t, m, "hallmark:gguf:general_size_label", "70K")
}

// Two runs over the same bytes with SOURCE_DATE_EPOCH give the same BOM,
// serial number included.
func TestDeterministic(t *testing.T) {
	dir := filepath.Join("..", "testdata", "bom", "hf-model")
	var outs [][]byte
	for range 2 {
		bom, err := sbom.Build(run(t, dir), sbom.Options{Timestamp: epoch})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := sbom.Encode(&b, bom, sbom.FormatJSON, sbom.Spec16); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b.Bytes())
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("two BOMs of the same folder differ")
	}
	if !strings.Contains(string(outs[0]), `"serialNumber": "urn:uuid:`) {
		t.Error("no serial number")
	}
	var doc map[string]any
	if err := json.Unmarshal(outs[0], &doc); err != nil {
		t.Fatal(err)
	}
}

func TestSignaturesAndScanResult(t *testing.T) {
	dir := filepath.Join("..", "testdata", "bom", "hf-model")
	res := run(t, dir)
	sigs := []sbom.Signature{
		{Verified: true, Format: "model-signing", Method: "keyless", Identity: "https://github.com/org/repo/.github/workflows/sign.yml@refs/heads/main", Issuer: "https://token.actions.githubusercontent.com", Ref: "file:///models/tiny/model.sig", Attestation: true},
		{Verified: true, Format: "cosign", Method: "key", Key: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Ref: "oci://127.0.0.1:5000/models/tiny@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	}
	_, bom := encode(t, res, sbom.Options{SerialNumber: serial, Timestamp: epoch, Signatures: sigs})
	m := bom.Metadata.Component
	p := props(m)
	if got := p["hallmark:signature:method"]; len(got) != 2 || got[0] != "keyless" || got[1] != "key" {
		t.Errorf("signature methods %q", got)
	}
	if got := p["hallmark:signature:issuer"]; len(got) != 1 || got[0] != "https://token.actions.githubusercontent.com" {
		t.Errorf("issuer %q", got)
	}
	types := map[cdx.ExternalReferenceType]string{}
	for _, e := range *m.ExternalReferences {
		types[e.Type] = e.URL
	}
	if types[cdx.ERTypeAttestation] != sigs[0].Ref || types[cdx.ERTypeDigitalSignature] != sigs[1].Ref {
		t.Errorf("external references %+v", *m.ExternalReferences)
	}
}

func TestOneTarget(t *testing.T) {
	res := &audit.Result{Targets: []*audit.TargetResult{{Target: "a"}, {Target: "b"}}}
	if _, err := sbom.Build(res, sbom.Options{}); err == nil {
		t.Error("two targets: want an error")
	}
	if _, err := sbom.Build(&audit.Result{Targets: []*audit.TargetResult{{Target: "a"}}}, sbom.Options{SerialNumber: "nope"}); err == nil {
		t.Error("bad serial: want an error")
	}
}
