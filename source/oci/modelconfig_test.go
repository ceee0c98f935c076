package oci_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hallmarkdev/hallmark/source"
	"github.com/hallmarkdev/hallmark/source/oci"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
)

// Config fixtures, one per packaging, written the way each tool writes
// them (field names from model-spec, kitops, model-runner and ollama),
// with a key no version defines to show unknown keys are ignored. They
// also seed FuzzModelConfig.
const (
	modelPackConfig = `{"descriptor":{"createdAt":"2025-01-02T03:04:05Z","authors":["Ada <ada@example.com>","Bob"],` +
		`"vendor":"Example Corp","family":"llama3","name":"llama3-8b-instruct","version":"3.1","title":"Llama 3 8B Instruct",` +
		`"description":"An instruct model.\nSecond line.","docURL":"https://example.com/docs","sourceURL":"https://github.com/example/llama",` +
		`"datasetsURL":["https://example.com/ds1","https://example.com/ds2"],"revision":"abc123","licenses":["Apache-2.0","MIT"]},` +
		`"modelfs":{"type":"layers","diffIds":["sha256:0000000000000000000000000000000000000000000000000000000000000000"]},` +
		`"config":{"architecture":"transformer","format":"safetensors","paramSize":"8b","precision":"bfloat16","quantization":"awq",` +
		`"capabilities":{"inputTypes":["text","image"],"outputTypes":["text"],"knowledgeCutoff":"2024-12-01T00:00:00Z",` +
		`"reasoning":true,"toolUsage":false,"languages":["en","fr"]},"transformerConfig":{"numLayers":32}},"futureKey":{"x":1}}`
	cnaiConfig = `{"descriptor":{"name":"qwen2-0.5b","createdAt":"yesterday","licenses":["Apache-2.0"]},` +
		`"config":{"format":"safetensors","capabilities":{"reward":true}},"modelfs":{"type":"layers","diffIds":[]}}`
	dockerV01Config = `{"config":{"format":"gguf","quantization":"Q4_K_M","parameters":"8.03 B","architecture":"llama","size":"4.58 GiB",` +
		`"gguf":{"general.architecture":"llama","general.name":"Llama\u0007 3","llama.context_length":"131072","n":7}},` +
		`"descriptor":{"created":"2025-03-04T05:06:07.123456789Z"},"rootfs":{"type":"rootfs","diff_ids":[]}}`
	dockerV02Config = `{"config":{"format":"safetensors","quantization":"BF16","parameters":"494.03 M","architecture":"qwen2",` +
		`"size":"988.10 MiB","safetensors":{"tensors":"290"},"context_size":8192},"descriptor":{},"rootfs":{"type":"rootfs","diff_ids":[]}}`
	ollamaConfig = `{"model_format":"gguf","model_family":"llama","model_families":["llama","clip"],"model_type":"8.0B",` +
		`"file_type":"Q4_0","renderer":"llama3","parser":"llama3-json","capabilities":["completion","tools"],"context_length":131072,` +
		`"embedding_length":4096,"base_name":"llama3.1","architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`
)

// kitConfig is a Kitfile as JSON whose entries link to the layers by digest.
func kitConfig(model, data, docs, code []byte) string {
	return fmt.Sprintf(`{"manifestVersion":"1.0.0","package":{"name":"sentiment","version":"1.2.0","description":"A classifier.",`+
		`"license":"Apache-2.0","authors":["Jozu"]},"model":{"name":"sentiment-model","path":"model/","license":"MIT","framework":"pytorch",`+
		`"format":"pt","version":"0.9","description":"the weights","parameters":{"lr":0.001,"layers":[1,2]},"digest":%q},`+
		`"datasets":[{"name":"train","path":"data/train.csv","description":"training split","license":"CC-BY-4.0","digest":%q},`+
		`{"name":"remote","path":"s3://bucket/eval","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111"}],`+
		`"docs":[{"path":"README.md","description":"readme","digest":%q}],"code":[{"path":"src","license":"MIT","digest":%q}],"mcpServers":[{}]}`,
		digest(model), digest(data), digest(docs), digest(code))
}

func rawImage(t *testing.T, m ocitest.Manifest) v1.Image {
	t.Helper()
	img, err := ocitest.Raw(m)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func openArt(t *testing.T, target string) *source.Artifact {
	t.Helper()
	_, cfg := env(t)
	art, err := oci.Open(context.Background(), target, cfg.OCI)
	if err != nil {
		t.Fatal(err)
	}
	return art
}

// identity is the Model fields every manifest gets, whatever its config.
func identity(t *testing.T, img v1.Image, m ocitest.Manifest, dir string) source.Model {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	c, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return source.Model{Dir: dir, Digest: d.String(), ArtifactType: m.ArtifactType, ConfigMediaType: m.ConfigMediaType, ConfigDigest: c.String()}
}

func mediaTypes(art *source.Artifact) map[string]string {
	mt := map[string]string{}
	for _, f := range art.Files {
		mt[f.Path] = f.MediaType
	}
	return mt
}

func checkModel(t *testing.T, got, want source.Model) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("model:\n got %s\nwant %s", g, w)
	}
}

func checkMap(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %v\nwant %v", what, got, want)
	}
}

const (
	mpDoc  = "application/vnd.cncf.model.doc.v1.raw"
	atMP   = "application/vnd.cncf.model.manifest.v1+json"
	emptyM = "application/vnd.oci.empty.v1+json"
)

func TestModelPackConfig(t *testing.T) {
	reg, _ := env(t)
	m := ocitest.Manifest{ArtifactType: atMP, ConfigMediaType: ocitest.ModelPackConfig, Config: []byte(modelPackConfig),
		Layers: []ocitest.Layer{
			{MediaType: ocitest.ModelPackRaw, Data: []byte("weights"), Annotations: map[string]string{"org.cncf.model.filepath": "model.safetensors"}},
			{MediaType: mpDoc, Data: []byte("# readme\n"), Annotations: map[string]string{"org.cncf.model.filepath": "README.md"}},
		},
		// The config wins over an annotation; an annotation fills a gap.
		Annotations: map[string]string{"org.opencontainers.image.description": "not this", "org.opencontainers.image.url": "https://example.com"}}
	img := rawImage(t, m)
	push(t, reg.Host+"/models/mp:v1", img)
	art := openArt(t, "oci://"+reg.Host+"/models/mp:v1")
	if art.Tag != "v1" || art.Family != "modelpack" || len(art.Models) != 1 || len(art.Skipped) != 0 {
		t.Fatalf("tag %q family %q models %d skipped %v", art.Tag, art.Family, len(art.Models), art.Skipped)
	}
	want := identity(t, img, m, "")
	want.Source = "modelpack"
	want.Name, want.Version, want.Description, want.Vendor = "llama3-8b-instruct", "3.1", "An instruct model. Second line.", "Example Corp"
	want.Authors, want.Licenses = []string{"Ada <ada@example.com>", "Bob"}, []string{"Apache-2.0", "MIT"}
	want.DocURL, want.SourceURL, want.Revision = "https://example.com/docs", "https://github.com/example/llama", "abc123"
	want.Created, want.Family, want.Architecture, want.Format = "2025-01-02T03:04:05Z", "llama3", "transformer", "safetensors"
	want.ParamSize, want.Precision, want.Quantization = "8b", "bfloat16", "awq"
	want.InputTypes, want.OutputTypes = []string{"text", "image"}, []string{"text"}
	want.Datasets = []source.Dataset{{URL: "https://example.com/ds1"}, {URL: "https://example.com/ds2"}}
	want.Extra = map[string]string{"title": "Llama 3 8B Instruct", "url": "https://example.com", "modelpack:knowledgeCutoff": "2024-12-01T00:00:00Z",
		"modelpack:reasoning": "true", "modelpack:toolUsage": "false", "modelpack:languages": "en,fr"}
	checkModel(t, art.Models[0], want)
	checkMap(t, "media types", mediaTypes(art), map[string]string{"model.safetensors": ocitest.ModelPackRaw, "README.md": mpDoc})

	// By digest: no tag.
	d, _ := img.Digest()
	if art := openArt(t, "oci://"+reg.Host+"/models/mp@"+d.String()); art.Tag != "" || art.Models[0].Name != "llama3-8b-instruct" {
		t.Fatalf("by digest: tag %q, model %+v", art.Tag, art.Models)
	}
	// No tag named: latest is the tag read.
	push(t, reg.Host+"/models/mp:latest", img)
	if art := openArt(t, "oci://"+reg.Host+"/models/mp"); art.Tag != "latest" {
		t.Fatalf("default tag %q", art.Tag)
	}
}

// Legacy CNAI, from an OCI layout: the config says less, the org.cnai.model
// annotations fill the rest; a createdAt that is not RFC 3339 is kept
// aside, not passed on as a time.
func TestCNAIConfig(t *testing.T) {
	dir := t.TempDir()
	p, err := ocitest.NewLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	const cnaiLayer = "application/vnd.cnai.model.weight.v1.tar"
	weights, err := ocitest.TarFiles("tar", ocitest.File{Name: "model.safetensors", Data: []byte("w")})
	if err != nil {
		t.Fatal(err)
	}
	m := ocitest.Manifest{ArtifactType: "application/vnd.cnai.model.manifest.v1+json", ConfigMediaType: "application/vnd.cnai.model.config.v1+json",
		Config: []byte(cnaiConfig),
		Layers: []ocitest.Layer{{MediaType: cnaiLayer, Data: weights, Annotations: map[string]string{"org.cnai.model.filepath": "weights"}}},
		Annotations: map[string]string{"org.cnai.model.name": "not this", "org.cnai.model.param.size": "0.5b", "org.cnai.model.family": "qwen2",
			"org.cnai.model.authors": "Qwen team", "org.cnai.model.licenses": "MIT", "org.cnai.model.created": "2024-06-01T00:00:00Z",
			"org.cnai.model.title": "Qwen2 0.5B", "org.cnai.model.quantization": "none"}}
	img := rawImage(t, m)
	if err := ocitest.LayoutImage(p, img, "q1"); err != nil {
		t.Fatal(err)
	}
	art := openArt(t, "oci-layout://"+dir+":q1")
	if art.Tag != "q1" || art.Family != "cnai" || len(art.Models) != 1 {
		t.Fatalf("tag %q family %q models %d", art.Tag, art.Family, len(art.Models))
	}
	want := identity(t, img, m, "")
	want.Source, want.Name, want.Licenses, want.Format = "cnai", "qwen2-0.5b", []string{"Apache-2.0"}, "safetensors"
	want.ParamSize, want.Family, want.Authors, want.Quantization = "0.5b", "qwen2", []string{"Qwen team"}, "none"
	want.Created = "2024-06-01T00:00:00Z" // the config's createdAt was not a time
	want.Extra = map[string]string{"cnai:createdAt": "yesterday", "cnai:reward": "true", "title": "Qwen2 0.5B"}
	checkModel(t, art.Models[0], want)
	checkMap(t, "media types", mediaTypes(art), map[string]string{"weights.tar": cnaiLayer})

	// The layout by digest, and the whole layout: no tag.
	d, _ := img.Digest()
	if art := openArt(t, "oci-layout://"+dir+"@"+d.String()); art.Tag != "" || art.Models[0].Source != "cnai" {
		t.Fatalf("by digest: tag %q %+v", art.Tag, art.Models)
	}
	if art := openArt(t, "oci-layout://"+dir); art.Tag != "" || len(art.Models) != 1 {
		t.Fatalf("untagged: tag %q %+v", art.Tag, art.Models)
	}
}

// KitOps: the Kitfile read once gives both the layer names and the model
// facts; a dataset is "packaged" only when the manifest lists its layer.
func TestKitfileModel(t *testing.T) {
	reg, _ := env(t)
	model := tarOf(t, "model.pt", []byte("weights"))
	data := tarOf(t, "train.csv", []byte("a,b\n"))
	docs := tarOf(t, "README.md", []byte("# kit\n"))
	code := tarOf(t, "main.py", []byte("print(1)\n"))
	const kitLayer = "application/vnd.kitops.modelkit.%s.v1.tar"
	m := ocitest.Manifest{ArtifactType: "application/vnd.kitops.modelkit.manifest.v1+json", ConfigMediaType: "application/vnd.kitops.modelkit.config.v1+json",
		Config: []byte(kitConfig(model, data, docs, code)),
		Layers: []ocitest.Layer{{MediaType: fmt.Sprintf(kitLayer, "model"), Data: model}, {MediaType: fmt.Sprintf(kitLayer, "dataset"), Data: data},
			{MediaType: fmt.Sprintf(kitLayer, "docs"), Data: docs}, {MediaType: fmt.Sprintf(kitLayer, "code"), Data: code}},
		Annotations: map[string]string{"ml.kitops.modelkit.cli-version": "1.8.0", "org.opencontainers.image.vendor": "Jozu"}}
	img := rawImage(t, m)
	push(t, reg.Host+"/kit/sentiment:1.2.0", img)
	art := openArt(t, "oci://"+reg.Host+"/kit/sentiment:1.2.0")
	if art.Tag != "1.2.0" || art.Family != "kitops" || len(art.Models) != 1 || len(art.Skipped) != 0 {
		t.Fatalf("tag %q family %q models %d skipped %v", art.Tag, art.Family, len(art.Models), art.Skipped)
	}
	want := identity(t, img, m, "")
	want.Source, want.Name, want.Version, want.Description = "kitfile", "sentiment", "1.2.0", "A classifier."
	want.Authors, want.Licenses, want.Format, want.Vendor = []string{"Jozu"}, []string{"Apache-2.0", "MIT"}, "pt", "Jozu"
	want.Datasets = []source.Dataset{
		{Name: "train", Path: "data/train.csv", Description: "training split", License: "CC-BY-4.0", Digest: digest(data)},
		{Name: "remote", Path: "s3://bucket/eval"},
	}
	want.Extra = map[string]string{"kitfile:manifestVersion": "1.0.0", "kitfile:framework": "pytorch", "kitfile:model.name": "sentiment-model",
		"kitfile:model.version": "0.9", "kitfile:model.description": "the weights", "kitfile:model.license": "MIT", "kitfile:model.path": "model/",
		"kitfile:model.parameters": `{"lr":0.001,"layers":[1,2]}`, "kitfile:code.0.path": "src", "kitfile:code.0.license": "MIT",
		"kitfile:docs.0.path": "README.md", "kitfile:docs.0.description": "readme"}
	checkModel(t, art.Models[0], want)
	checkMap(t, "media types", mediaTypes(art), map[string]string{"model.tar": fmt.Sprintf(kitLayer, "model"),
		"data/train.csv.tar": fmt.Sprintf(kitLayer, "dataset"), "README.md.tar": fmt.Sprintf(kitLayer, "docs"), "src.tar": fmt.Sprintf(kitLayer, "code")})
}

func TestDockerModelConfig(t *testing.T) {
	reg, _ := env(t)
	const (
		gguf    = "application/vnd.docker.ai.gguf.v3"
		license = "application/vnd.docker.ai.license"
		st      = "application/vnd.docker.ai.safetensors"
		file    = "application/vnd.docker.ai.model.file"
	)
	v01 := ocitest.Manifest{ConfigMediaType: "application/vnd.docker.ai.model.config.v0.1+json", Config: []byte(dockerV01Config),
		Layers: []ocitest.Layer{{MediaType: gguf, Data: []byte("GGUF")}, {MediaType: license, Data: []byte("MIT License")}}}
	img := rawImage(t, v01)
	push(t, reg.Host+"/ai/llama:Q4", img)
	art := openArt(t, "oci://"+reg.Host+"/ai/llama:Q4")
	want := identity(t, img, v01, "")
	want.Source, want.Format, want.Quantization, want.ParamSize = "docker-model", "gguf", "Q4_K_M", "8.03 B"
	want.Architecture, want.Created = "llama", "2025-03-04T05:06:07.123456789Z"
	want.Extra = map[string]string{"docker:size": "4.58 GiB", "docker:gguf:general.architecture": "llama",
		"docker:gguf:general.name": "Llama  3", "docker:gguf:llama.context_length": "131072"}
	if art.Family != "docker-model" || art.Tag != "Q4" || len(art.Models) != 1 {
		t.Fatalf("family %q tag %q models %d", art.Family, art.Tag, len(art.Models))
	}
	checkModel(t, art.Models[0], want)
	checkMap(t, "v0.1 media types", mediaTypes(art), map[string]string{"model.gguf": gguf, "LICENSE": license})

	v02 := ocitest.Manifest{ConfigMediaType: "application/vnd.docker.ai.model.config.v0.2+json", Config: []byte(dockerV02Config),
		Layers: []ocitest.Layer{
			{MediaType: st, Data: []byte("st"), Annotations: map[string]string{"org.cncf.model.filepath": "model.safetensors"}},
			{MediaType: file, Data: []byte("{}"), Annotations: map[string]string{"org.cncf.model.filepath": "tokenizer/tokenizer.json"}},
		}}
	img = rawImage(t, v02)
	push(t, reg.Host+"/ai/qwen:latest", img)
	art = openArt(t, "oci://"+reg.Host+"/ai/qwen:latest")
	want = identity(t, img, v02, "")
	want.Source, want.Format, want.Quantization, want.ParamSize = "docker-model", "safetensors", "BF16", "494.03 M"
	want.Architecture, want.ContextLength = "qwen2", 8192
	want.Extra = map[string]string{"docker:size": "988.10 MiB", "docker:safetensors:tensors": "290"}
	checkModel(t, art.Models[0], want)
	checkMap(t, "v0.2 media types", mediaTypes(art), map[string]string{"model.safetensors": st, "tokenizer/tokenizer.json": file})
}

// Ollama: the config's architecture is the platform (amd64), not the
// model's; the license layer is a file for the scanner, not read here.
func TestOllamaConfig(t *testing.T) {
	reg, _ := env(t)
	const lic = "application/vnd.ollama.image.license"
	m := ocitest.Manifest{MediaType: string(types.DockerManifestSchema2), ConfigMediaType: string(types.DockerConfigJSON), Config: []byte(ollamaConfig),
		Layers: []ocitest.Layer{{MediaType: ocitest.OllamaModel, Data: []byte("GGUF")}, {MediaType: ocitest.OllamaTemplate, Data: []byte("{{ .Prompt }}")},
			{MediaType: lic, Data: []byte("LLAMA 3.1 COMMUNITY LICENSE")}}}
	img := rawImage(t, m)
	push(t, reg.Host+"/library/llama3.1:8b", img)
	art := openArt(t, "oci://"+reg.Host+"/library/llama3.1:8b")
	want := identity(t, img, m, "")
	want.Source, want.Format, want.Family, want.ParamSize, want.Quantization = "ollama", "gguf", "llama", "8.0B", "Q4_0"
	want.ContextLength = 131072
	want.Extra = map[string]string{"ollama:model_families": "llama,clip", "ollama:capabilities": "completion,tools", "ollama:renderer": "llama3",
		"ollama:parser": "llama3-json", "ollama:base_name": "llama3.1", "ollama:architecture": "amd64", "ollama:os": "linux", "ollama:embedding_length": "4096"}
	if art.Family != "ollama" || art.Tag != "8b" || len(art.Models) != 1 {
		t.Fatalf("family %q tag %q models %d", art.Family, art.Tag, len(art.Models))
	}
	checkModel(t, art.Models[0], want)
	checkMap(t, "media types", mediaTypes(art), map[string]string{"model.gguf": ocitest.OllamaModel, "template": ocitest.OllamaTemplate, "license": lic})

	// The same config under a manifest that is not Ollama's is a plain
	// image config: not read.
	m.Layers = []ocitest.Layer{{MediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", Data: []byte("x")}}
	img = rawImage(t, m)
	push(t, reg.Host+"/library/image:1", img)
	art = openArt(t, "oci://"+reg.Host+"/library/image:1")
	checkModel(t, art.Models[0], identity(t, img, m, ""))
}

// ORAS: an empty config; the manifest annotations are all there is.
func TestAnnotationsModel(t *testing.T) {
	reg, _ := env(t)
	ann := map[string]string{}
	for k, v := range map[string]string{"created": "2025-05-06T07:08:09Z", "title": "my-model", "description": "weights\tand\x1b[31m more",
		"licenses": "Apache-2.0 OR MIT", "authors": "A, B", "vendor": "V", "version": "2", "source": "https://git.example/m",
		"revision": "deadbeef", "url": "https://example.com/m", "documentation": "https://example.com/m/docs"} {
		ann["org.opencontainers.image."+k] = v
	}
	ann["org.cnai.model.family"] = "phi3"
	ann["org.cnai.model.vendor"] = "not this"
	m := ocitest.Manifest{ArtifactType: "application/vnd.unknown.artifact.v1", ConfigMediaType: emptyM, Config: []byte("{}"),
		Layers:      []ocitest.Layer{{MediaType: ocitest.ORASLayer, Data: []byte("w"), Annotations: map[string]string{"org.opencontainers.image.title": "model.onnx"}}},
		Annotations: ann}
	img := rawImage(t, m)
	d := push(t, reg.Host+"/oras/m:v2", img)
	art := openArt(t, "oci://"+reg.Host+"/oras/m@"+d.String())
	want := identity(t, img, m, "")
	want.Source, want.Created, want.Description, want.Licenses = "annotations", "2025-05-06T07:08:09Z", "weights and [31m more", []string{"Apache-2.0 OR MIT"}
	want.Authors, want.Vendor, want.Version, want.SourceURL, want.Revision = []string{"A, B"}, "V", "2", "https://git.example/m", "deadbeef"
	want.DocURL, want.Family = "https://example.com/m/docs", "phi3"
	want.Extra = map[string]string{"title": "my-model", "url": "https://example.com/m"}
	if art.Family != "oras" || art.Tag != "" {
		t.Fatalf("family %q tag %q", art.Family, art.Tag)
	}
	checkModel(t, art.Models[0], want)
	checkMap(t, "media types", mediaTypes(art), map[string]string{"model.onnx": ocitest.ORASLayer})

	// No annotations, empty config: the identity only, no source.
	m.Annotations = nil
	img = rawImage(t, m)
	push(t, reg.Host+"/oras/bare:v1", img)
	checkModel(t, openArt(t, "oci://"+reg.Host+"/oras/bare:v1").Models[0], identity(t, img, m, ""))
}

// An index: one Model per child manifest, each under its folder.
func TestIndexModels(t *testing.T) {
	reg, _ := env(t)
	mp := ocitest.Manifest{ArtifactType: atMP, ConfigMediaType: ocitest.ModelPackConfig, Config: []byte(`{"descriptor":{"name":"a"},"config":{"format":"gguf"}}`),
		Layers: []ocitest.Layer{{MediaType: ocitest.ModelPackRaw, Data: []byte("a"), Annotations: map[string]string{"org.cncf.model.filepath": "a.gguf"}}}}
	dm := ocitest.Manifest{ConfigMediaType: "application/vnd.docker.ai.model.config.v0.1+json", Config: []byte(`{"config":{"format":"gguf","context_size":4096}}`),
		Layers: []ocitest.Layer{{MediaType: "application/vnd.docker.ai.gguf.v3", Data: []byte("b")}}}
	a, b := rawImage(t, mp), rawImage(t, dm)
	if _, err := ocitest.PushIndex(reg.Host+"/multi/m:v1", a, b); err != nil {
		t.Fatal(err)
	}
	art := openArt(t, "oci://"+reg.Host+"/multi/m:v1")
	da, _ := a.Digest()
	db, _ := b.Digest()
	wa := identity(t, a, mp, "sha256-"+da.Hex)
	wa.Source, wa.Name, wa.Format = "modelpack", "a", "gguf"
	wb := identity(t, b, dm, "sha256-"+db.Hex)
	wb.Source, wb.Format, wb.ContextLength = "docker-model", "gguf", 4096
	if art.Family != "index" || art.Tag != "v1" || len(art.Models) != 2 {
		t.Fatalf("family %q tag %q models %+v", art.Family, art.Tag, art.Models)
	}
	checkModel(t, art.Models[0], wa)
	checkModel(t, art.Models[1], wb)
	checkMap(t, "media types", mediaTypes(art), map[string]string{"sha256-" + da.Hex + "/a.gguf": ocitest.ModelPackRaw,
		"sha256-" + db.Hex + "/model.gguf": "application/vnd.docker.ai.gguf.v3"})
}

// A config that cannot be read is a visible gap (Skipped "unreadable"),
// not the end of the scan: the files are still handed out.
func TestUnreadableConfig(t *testing.T) {
	reg, _ := env(t)
	big := append([]byte(`{"descriptor":{"name":"x"}}`), bytes.Repeat([]byte(" "), oci.MaxConfig)...)
	for _, c := range []struct {
		name, mt string
		config   []byte
		skip     string
	}{
		{"big", ocitest.ModelPackConfig, big, "more than the 4194304-byte cap"},
		{"notjson", ocitest.ModelPackConfig, []byte("\x00\x01 not json"), "is not a JSON object"},
		{"array", "application/vnd.docker.ai.model.config.v0.2+json", []byte(`[1,2]`), "is not a JSON object"},
		{"null", "application/vnd.cnai.model.config.v1+json", []byte(`null`), "is not a JSON object"},
		{"kitbig", "application/vnd.kitops.modelkit.config.v1+json", big, "layers keep their digest names"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := ocitest.Manifest{ConfigMediaType: c.mt, Config: c.config, Annotations: map[string]string{"org.opencontainers.image.version": "7"},
				Layers: []ocitest.Layer{{MediaType: ocitest.ModelPackRaw, Data: []byte("w"), Annotations: map[string]string{"org.cncf.model.filepath": "w.bin"}}}}
			img := rawImage(t, m)
			push(t, reg.Host+"/bad/"+c.name+":v1", img)
			art := openArt(t, "oci://"+reg.Host+"/bad/"+c.name+":v1")
			if len(art.Skipped) != 1 || art.Skipped[0].Kind != "unreadable" || !strings.Contains(art.Skipped[0].Reason, c.skip) ||
				strings.ContainsAny(art.Skipped[0].Reason, "\x00\x01\n") {
				t.Fatalf("skipped %+v", art.Skipped)
			}
			if len(art.Files) != 1 || art.Files[0].Path != "w.bin" {
				t.Fatalf("files %+v", art.Files)
			}
			want := identity(t, img, m, "")
			want.Source, want.Version = "annotations", "7" // the annotations still count
			checkModel(t, art.Models[0], want)
		})
	}
}

// A config blob that does not match its digest stops the read, as any
// blob does: from a registry (go-containerregistry's check at the end of
// the body) and from a layout (readBlob's own).
func TestConfigDigestMismatch(t *testing.T) {
	reg, cfg := env(t)
	m := ocitest.Manifest{ConfigMediaType: ocitest.ModelPackConfig, Config: []byte(modelPackConfig),
		Layers: []ocitest.Layer{{MediaType: ocitest.ModelPackRaw, Data: []byte("w"), Annotations: map[string]string{"org.cncf.model.filepath": "w.bin"}}}}
	img := rawImage(t, m)
	push(t, reg.Host+"/bad/digest:v1", img)
	c, _ := img.ConfigName()
	reg.Corrupt(c.String())
	art, err := oci.Open(context.Background(), "oci://"+reg.Host+"/bad/digest:v1", cfg.OCI)
	if err == nil || !strings.Contains(err.Error(), c.String()) {
		t.Fatalf("registry: want an error naming %s, got %v (%+v)", c, err, art)
	}

	dir := t.TempDir()
	p, err := ocitest.NewLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := ocitest.LayoutImage(p, img, "v1"); err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(dir, "blobs", "sha256", c.Hex)
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = oci.Open(context.Background(), "oci-layout://"+dir+":v1", cfg.OCI)
	var de *oci.DigestError
	if !errors.As(err, &de) || de.Digest != c.String() {
		t.Fatalf("layout: want a digest error for %s, got %v", c, err)
	}
}

// The parsers are lenient about types and strict about size.
func TestModelConfigLimits(t *testing.T) {
	parse := func(mt, raw string) source.Model {
		t.Helper()
		m, _, err := oci.ParseModelConfig(mt, []byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		return m
	}
	const dockerMT, mpMT = "application/vnd.docker.ai.model.config.v0.2+json", ocitest.ModelPackConfig
	for raw, want := range map[string]int64{
		`{"config":{"context_size":8192}}`: 8192, `{"config":{"context_size":0}}`: 0, `{"config":{"context_size":-5}}`: 0,
		`{"config":{"context_size":1099511627775}}`: 1<<40 - 1, `{"config":{"context_size":1099511627776}}`: 0,
		`{"config":{"context_size":8192.5}}`: 0, `{"config":{"context_size":8e3}}`: 0, `{"config":{"context_size":"8192"}}`: 0,
		`{"config":{"context_size":null}}`: 0, `{"config":{"context_size":99999999999999999999999}}`: 0,
	} {
		if got := parse(dockerMT, raw).ContextLength; got != want {
			t.Errorf("%s: context length %d, want %d", raw, got, want)
		}
	}
	// Wrong types read as absent; the rest of the config still counts.
	m := parse(mpMT, `{"descriptor":{"name":5,"authors":"x","licenses":["MIT",3,"","\u0000"],"version":"1"},"config":[],"extra":{}}`)
	if m.Name != "" || m.Authors != nil || !reflect.DeepEqual(m.Licenses, []string{"MIT"}) || m.Version != "1" {
		t.Errorf("lenient: %+v", m)
	}
	// Long strings and lists are cut.
	long := strings.Repeat("é", 3000)
	var list []string
	for i := range 3000 {
		list = append(list, fmt.Sprint(i))
	}
	lj, _ := json.Marshal(list)
	m = parse(mpMT, fmt.Sprintf(`{"descriptor":{"name":%q,"authors":%s}}`, long, lj))
	if !strings.HasSuffix(m.Name, "…") || len(m.Name) > oci.MaxText+len("…") || !utf8.ValidString(m.Name) || len(m.Authors) != oci.MaxList {
		t.Errorf("caps: name %d bytes, %d authors", len(m.Name), len(m.Authors))
	}
	// A free-form map gives at most MaxMapExtra entries, the first keys in order.
	gguf := map[string]string{}
	for i := range 500 {
		gguf[fmt.Sprintf("k%03d", i)] = "v"
	}
	gj, _ := json.Marshal(map[string]any{"config": map[string]any{"gguf": gguf}})
	m = parse(dockerMT, string(gj))
	if len(m.Extra) != oci.MaxMapExtra || m.Extra["docker:gguf:k000"] != "v" || m.Extra["docker:gguf:k199"] != "v" {
		t.Errorf("gguf map: %d entries", len(m.Extra))
	}
	// Not model configs: the empty descriptor, an image config outside Ollama.
	for _, mt := range []string{emptyM, "application/vnd.oci.image.config.v1+json"} {
		if _, _, err := oci.ParseModelConfig(mt, []byte(`{}`)); err == nil {
			t.Errorf("%s parsed as a model config", mt)
		}
	}
	// Media type parameters and case do not change the parser.
	if m := parse("Application/VND.cncf.model.config.v1+json; charset=utf-8", `{"descriptor":{"name":"n"}}`); m.Name != "n" || m.Source != "modelpack" {
		t.Errorf("parameters: %+v", m)
	}
	// Kitfile links come as written: cleanPath judges them where used.
	_, kit, err := oci.ParseModelConfig("application/vnd.kitops.modelkit.config.v1+json",
		[]byte(`{"model":{"path":"../x\u0000","digest":"sha256:a"},"code":[{"path":"c","digest":"sha256:b"},{"path":"","digest":"sha256:c"}]}`))
	if err != nil || !reflect.DeepEqual(kit, map[string]string{"sha256:a": "../x\x00", "sha256:b": "c"}) {
		t.Errorf("kit links %q, %v", kit, err)
	}
}

// checkInvariants is what every parsed Model must satisfy.
func checkInvariants(t *testing.T, m source.Model) {
	t.Helper()
	str := func(what, s string, max int) {
		if len(s) > max+len("…") || !utf8.ValidString(s) || s != strings.TrimSpace(s) {
			t.Fatalf("%s: %d bytes, valid %v: %q", what, len(s), utf8.ValidString(s), oneLine(s))
		}
		for _, r := range s {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
				t.Fatalf("%s: control character %U in %q", what, r, oneLine(s))
			}
		}
	}
	for what, s := range map[string]string{"name": m.Name, "version": m.Version, "description": m.Description, "vendor": m.Vendor,
		"docURL": m.DocURL, "sourceURL": m.SourceURL, "revision": m.Revision, "created": m.Created, "family": m.Family,
		"architecture": m.Architecture, "format": m.Format, "paramSize": m.ParamSize, "precision": m.Precision, "quantization": m.Quantization} {
		str(what, s, oci.MaxText)
	}
	for what, l := range map[string][]string{"authors": m.Authors, "licenses": m.Licenses, "inputs": m.InputTypes, "outputs": m.OutputTypes} {
		if len(l) > oci.MaxList {
			t.Fatalf("%s: %d entries", what, len(l))
		}
		for _, s := range l {
			if s == "" {
				t.Fatalf("%s: empty entry", what)
			}
			str(what, s, oci.MaxText)
		}
	}
	if len(m.Datasets) > oci.MaxList || len(m.Extra) > oci.MaxExtra {
		t.Fatalf("%d datasets, %d extra", len(m.Datasets), len(m.Extra))
	}
	for _, d := range m.Datasets {
		for _, s := range []string{d.Name, d.URL, d.Path, d.License, d.Description, d.Digest} {
			str("dataset", s, oci.MaxText)
		}
	}
	for k, v := range m.Extra {
		str("extra key", k, oci.MaxText)
		str("extra "+k, v, oci.MaxText)
		if v == "" {
			t.Fatalf("extra %s: empty", k)
		}
	}
	if m.ContextLength < 0 || m.ContextLength >= 1<<40 {
		t.Fatalf("context length %d", m.ContextLength)
	}
}

func oneLine(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return fmt.Sprintf("%q", s)
}

func FuzzModelConfig(f *testing.F) {
	for _, c := range []struct{ mt, raw string }{
		{ocitest.ModelPackConfig, modelPackConfig},
		{"application/vnd.cnai.model.config.v1+json", cnaiConfig},
		{"application/vnd.docker.ai.model.config.v0.1+json", dockerV01Config},
		{"application/vnd.docker.ai.model.config.v0.2+json", dockerV02Config},
		{string(types.DockerConfigJSON), ollamaConfig},
		{"application/vnd.kitops.modelkit.config.v1+json", kitConfig([]byte("m"), []byte("d"), []byte("r"), []byte("c"))},
		{"application/vnd.jozu.model.config.v1+json", `{"package":{"name":"\u202eevil"},"datasets":[{"digest":"x"}]}`},
		{ocitest.ModelPackConfig, `{"descriptor":{"createdAt":5,"authors":[1,"a\u0000b"]},"config":{"capabilities":{"reasoning":"yes"}}}`},
		{ocitest.ModelPackConfig, `null`},
		{emptyM, `{}`},
	} {
		f.Add(c.mt, []byte(c.raw))
	}
	f.Fuzz(func(t *testing.T, mt string, raw []byte) {
		m, _, err := oci.ParseModelConfig(mt, raw)
		if err == nil {
			checkInvariants(t, m)
		}
		// The same bytes as manifest annotations, over what the config gave.
		var ann map[string]string
		if json.Unmarshal(raw, &ann) == nil {
			oci.FromAnnotations(&m, ann)
			checkInvariants(t, m)
		}
	})
}
