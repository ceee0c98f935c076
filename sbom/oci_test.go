package sbom_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/hallmarkdev/hallmark/sbom"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
)

// modelPackConfig is what modctl writes for the fixture folder
// (descriptor + config + modelfs; diffIds left empty here).
const modelPackConfig = `{"descriptor":{"createdAt":"2026-01-02T03:04:05Z","authors":["Hallmark Test"],"vendor":"Hallmark Test",` +
	`"family":"llama","name":"tiny-chat","version":"1.0","description":"A tiny chat model (test fixture).",` +
	`"docURL":"https://example.com/tiny-chat","sourceURL":"https://github.com/hallmark-test/tiny-chat",` +
	`"datasetsURL":["https://example.com/datasets/tiny-instructions"],"revision":"0123abc","licenses":["Apache-2.0"]},` +
	`"config":{"architecture":"transformer","format":"safetensors","paramSize":"17k","precision":"bfloat16",` +
	`"capabilities":{"inputTypes":["text"],"outputTypes":["text"]}},"modelfs":{"type":"layers","diffIds":[]}}`

func TestModelPackArtifact(t *testing.T) {
	reg := ocitest.NewRegistry()
	defer reg.Close()
	dir := filepath.Join("..", "testdata", "bom", "hf-model")
	var layers []ocitest.Layer
	sums := map[string]string{}
	for _, f := range []struct{ name, mt string }{
		{"model.safetensors", "application/vnd.cncf.model.weight.v1.raw"},
		{"config.json", "application/vnd.cncf.model.weight.config.v1.raw"},
		{"tokenizer_config.json", "application/vnd.cncf.model.weight.config.v1.raw"},
		{"README.md", "application/vnd.cncf.model.doc.v1.raw"},
	} {
		data, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(data)
		sums[f.name] = hex.EncodeToString(s[:])
		layers = append(layers, ocitest.Layer{MediaType: f.mt, Data: data, Annotations: map[string]string{"org.cncf.model.filepath": f.name}})
	}
	img, err := ocitest.Raw(ocitest.Manifest{ArtifactType: "application/vnd.cncf.model.manifest.v1+json",
		ConfigMediaType: ocitest.ModelPackConfig, Config: []byte(modelPackConfig), Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	d, err := ocitest.Push(reg.Host+"/models/tiny-chat:v1", img)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	res := run(t, "oci://"+reg.Host+"/models/tiny-chat:v1")
	data, bom := encode(t, res, sbom.Options{SerialNumber: serial, Timestamp: epoch})
	golden(t, "modelpack.cdx.json", regexp.MustCompile(`127\.0\.0\.1(:|%3A)[0-9]+`).ReplaceAll(data, []byte("REGISTRY")))

	m := bom.Metadata.Component
	if m.Name != "tiny-chat" || m.Version != "1.0" || m.Description != "A tiny chat model (test fixture)." {
		t.Errorf("identity: %q %q %q", m.Name, m.Version, m.Description)
	}
	wantPURL := "pkg:oci/tiny-chat@sha256%3A" + d.Hex + "?repository_url=" + strings.ReplaceAll(reg.Host, ":", "%3A") + "%2Fmodels%2Ftiny-chat&tag=v1"
	if m.PackageURL != wantPURL {
		t.Errorf("purl %q, want %q", m.PackageURL, wantPURL)
	}
	if m.Hashes == nil || (*m.Hashes)[0].Value != d.Hex {
		t.Errorf("model hash %v, want the manifest digest %s", m.Hashes, d.Hex)
	}
	for _, c := range *m.Components {
		if c.Hashes == nil || (*c.Hashes)[0].Value != sums[c.Name] {
			t.Errorf("file %s: %v, want %s", c.Name, c.Hashes, sums[c.Name])
		}
		if props(&c)["hallmark:oci:media_type"] == nil {
			t.Errorf("file %s has no media type property", c.Name)
		}
	}
	// The packaging and the card both say Apache-2.0: one licence.
	if m.Licenses == nil || len(*m.Licenses) != 1 || (*m.Licenses)[0].License.ID != "Apache-2.0" {
		t.Errorf("licences %+v", m.Licenses)
	}
	if m.Manufacturer == nil || m.Manufacturer.Name != "Hallmark Test" || m.Authors == nil {
		t.Errorf("manufacturer/authors %+v %+v", m.Manufacturer, m.Authors)
	}
	mp := m.ModelCard.ModelParameters
	if mp.Inputs == nil || (*mp.Inputs)[0].Format != "text" || mp.ArchitectureFamily != "llama" || mp.ModelArchitecture != "LlamaForCausalLM" {
		t.Errorf("model parameters %+v", mp)
	}
	// Datasets: the card's two and the packaging's datasetsURL.
	if bom.Components == nil || len(*bom.Components) != 3 {
		t.Fatalf("datasets %+v", bom.Components)
	}
	ext := map[cdx.ExternalReferenceType]string{}
	for _, e := range *m.ExternalReferences {
		ext[e.Type] = e.URL
	}
	if ext[cdx.ERTypeDistribution] != "oci://"+reg.Host+"/models/tiny-chat@sha256:"+d.Hex || ext[cdx.ERTypeVCS] != "https://github.com/hallmark-test/tiny-chat" || ext[cdx.ERTypeDocumentation] != "https://example.com/tiny-chat" {
		t.Errorf("external references %+v", ext)
	}
	prop(t, m, "hallmark:oci:family", "modelpack")
	prop(t, m, "hallmark:model:parameter_size", "17k")
	prop(t, m, "hallmark:model:parameters", "16960")
}

// A KitOps ModelKit: the Kitfile names the package, its licences and a
// dataset packaged in its own layer.
func TestKitOpsArtifact(t *testing.T) {
	reg := ocitest.NewRegistry()
	defer reg.Close()
	gguf, err := os.ReadFile(filepath.Join("..", "testdata", "bom", "tiny-chat-q8_0.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	model, err := ocitest.TarFiles("tar", ocitest.File{Name: "model/tiny-chat-q8_0.gguf", Data: gguf})
	if err != nil {
		t.Fatal(err)
	}
	data, err := ocitest.TarFiles("tar", ocitest.File{Name: "data/train.csv", Data: []byte("prompt,answer\nhi,hello\n")})
	if err != nil {
		t.Fatal(err)
	}
	digest := func(b []byte) string { s := sha256.Sum256(b); return "sha256:" + hex.EncodeToString(s[:]) }
	kitfile := `{"manifestVersion":"1.0.0","package":{"name":"tiny-chat-kit","version":"2.0.0","description":"Tiny chat, quantized.",` +
		`"license":"Apache-2.0","authors":["Hallmark Test"]},"model":{"name":"tiny-chat","path":"model/tiny-chat-q8_0.gguf","license":"Apache-2.0",` +
		`"framework":"llama.cpp","format":"gguf","digest":"` + digest(model) + `"},` +
		`"datasets":[{"name":"train","path":"data/train.csv","description":"fine-tuning pairs","license":"CC-BY-4.0","digest":"` + digest(data) + `"}]}`
	img, err := ocitest.Raw(ocitest.Manifest{ArtifactType: "application/vnd.kitops.modelkit.manifest.v1+json",
		ConfigMediaType: "application/vnd.kitops.modelkit.config.v1+json", Config: []byte(kitfile),
		Layers: []ocitest.Layer{{MediaType: "application/vnd.kitops.modelkit.model.v1.tar", Data: model},
			{MediaType: "application/vnd.kitops.modelkit.dataset.v1.tar", Data: data}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ocitest.Push(reg.Host+"/kit/tiny-chat:2.0.0", img); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	res := run(t, "oci://"+reg.Host+"/kit/tiny-chat:2.0.0")
	_, bom := encode(t, res, sbom.Options{SerialNumber: serial, Timestamp: epoch})
	m := bom.Metadata.Component
	if m.Name != "tiny-chat-kit" || m.Version != "2.0.0" {
		t.Errorf("identity %q %q", m.Name, m.Version)
	}
	// The Kitfile and the GGUF both say Apache-2.0.
	if m.Licenses == nil || len(*m.Licenses) != 1 || (*m.Licenses)[0].License.ID != "Apache-2.0" {
		t.Errorf("licences %+v", m.Licenses)
	}
	var train *cdx.Component
	for i, c := range *bom.Components {
		if c.Name == "train" {
			train = &(*bom.Components)[i]
		}
	}
	if train == nil || train.Licenses == nil || (*train.Licenses)[0].License.ID != "CC-BY-4.0" || (*train.Data)[0].Description != "fine-tuning pairs" {
		t.Fatalf("dataset train: %+v", train)
	}
	prop(t, m, "hallmark:oci:family", "kitops")
	prop(t, m, "hallmark:oci:kitfile:framework", "llama.cpp")
	prop(t, m, "hallmark:model:format", "gguf")
	prop(t, m, "hallmark:model:quantization", "MOSTLY_Q8_0")
}
