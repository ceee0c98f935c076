package sbom_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/formats/modelcard"
	"github.com/hallmarkdev/hallmark/internal/cdxschema"
	"github.com/hallmarkdev/hallmark/sbom"
	"github.com/hallmarkdev/hallmark/scan"
	"github.com/hallmarkdev/hallmark/source"
)

// FuzzBuild: whatever text a model's files and packaging carry (every
// string here is attacker-controlled), the BOM validates against the
// official schema in both spec versions and its XML is well-formed.
func FuzzBuild(f *testing.F) {
	f.Add("apache-2.0", "org/data", "org/base", "Model", "https://example.com", "0.5", "llama", "sha256:abc", "v1")
	f.Add("Apache-2.0 OR MIT", "", "", "", "", "", "", "", "")
	f.Add("llama3.1", "a b", "x/y/z", "\x00\u202e", "javascript:alert(1)", "NaN", "\n", "model:x", "latest")
	f.Add("other", "dataset:one", "dataset:one", "file:a", "file:///etc/passwd", "1e999", "<x>", "]]>", "&amp;")
	f.Add("GPL-2.0-only WITH Classpath-exception-2.0", "HuggingFaceH4/ultrachat_200k", "hallmark-test/Tiny-Base-1M", "Tiny", "http://[::1]/", "31.42", "transformer", "", "")
	f.Fuzz(func(t *testing.T, lic, ds, base, name, link, value, family, digestish, tag string) {
		card := &modelcard.Card{License: lic, LicenseName: name, LicenseLink: link, BaseModels: []string{base, base + "2"},
			BaseModelRelation: family, Datasets: []string{ds, ds, name}, PipelineTag: family, Languages: []string{name},
			LibraryName: value, ModelName: name,
			Results: []modelcard.Result{{Task: family, Dataset: ds, Split: tag, Metric: value, Name: name, Value: value}},
			CO2:     &modelcard.CO2{Emissions: value, Source: link}}
		facts := &scan.Facts{Format: scan.FormatGGUF, Architecture: family, ModelName: name, License: lic, Parameters: 7, Tensors: 1,
			Dtypes: []string{value}, Quantization: tag, ContextLength: 8, WeightFormats: []string{scan.FormatGGUF},
			ChatTemplates: []scan.ChatTemplate{{Name: name, Source: family, SHA256: strings.Repeat("a", 64), Size: 1}},
			Metadata: map[string]string{"general.base_model.0.name": base, "general.base_model.0.repo_url": link,
				"general.dataset.0.name": ds, "general.dataset.0.repo_url": link, "general.license.link": link, name: value}}
		res := &audit.Result{RulesVersion: "test", FailOn: scan.Medium, Started: time.Unix(0, 0),
			Targets: []*audit.TargetResult{{Target: "oci://r/" + name, Kind: "oci:modelpack", Registry: "registry.example", Repository: "models/" + name,
				Digest: "sha256:" + strings.Repeat("0", 64), Family: "modelpack", Tag: tag,
				Models: []source.Model{{Name: name, Version: tag, Description: value, Vendor: name, Authors: []string{name, ""},
					Licenses: []string{lic, value}, DocURL: link, SourceURL: link, Family: family, Architecture: name,
					InputTypes: []string{value}, Datasets: []source.Dataset{{Name: ds, URL: link, License: lic}, {Path: base}},
					Extra: map[string]string{name: value, digestish: tag}}},
				Files: []scan.FileResult{
					{Path: name, Name: name, Size: 1, SHA256: strings.Repeat("b", 64), Format: scan.FormatGGUF, Scanned: true, Complete: true, Verdict: "clean", MediaType: digestish, Facts: facts},
					{Path: "README.md", Name: "README.md", Size: 1, Format: "unknown", Verdict: "not-scanned", Facts: &scan.Facts{Format: "unknown", Card: card}},
					{Path: name + "/", Name: name, Size: 1, Format: "link", Error: value},
				}}}}
		sigs := []sbom.Signature{{Verified: true, Format: name, Method: family, Identity: name, Issuer: link, Key: digestish, Ref: link, Attestation: true}}
		for _, spec := range []string{sbom.Spec16, sbom.Spec15} {
			bom, err := sbom.Build(res, sbom.Options{SpecVersion: spec, Timestamp: time.Unix(1, 0), Signatures: sigs})
			if err != nil {
				t.Fatal(err)
			}
			var js, x bytes.Buffer
			if err := sbom.Encode(&js, bom, sbom.FormatJSON, spec); err != nil {
				t.Fatal(err)
			}
			if err := cdxschema.ValidateJSON(js.Bytes(), spec); err != nil {
				t.Fatalf("spec %s: %v\n%s", spec, err, js.Bytes())
			}
			if err := sbom.Encode(&x, bom, sbom.FormatXML, spec); err != nil {
				t.Fatal(err)
			}
			dec := xml.NewDecoder(&x)
			for {
				if _, err := dec.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("spec %s XML: %v", spec, err)
				}
			}
		}
	})
}
