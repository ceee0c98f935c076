package oci_test

import (
	"archive/tar"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/scan"
	"github.com/hallmarkdev/hallmark/source/oci"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
)

func fixture(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata", p))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	maliciousPkl = "pickles/malicious/g_os_system_p2.pkl"
	benignPkl    = "pickles/benign/numpy_0d_p2.pkl"
	benignGGUF   = "gguf/benign/llama3_q8_0_v3.gguf"
	sstiGGUF     = "gguf/malicious/ssti_default_template.gguf"
)

// env isolates a test: no docker credentials, its own blob cache.
func env(t *testing.T) (*ocitest.Registry, audit.Config) {
	t.Helper()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(t.TempDir(), "none.json"))
	reg := ocitest.NewRegistry()
	t.Cleanup(reg.Close)
	return reg, audit.Config{Jobs: 2, OCI: oci.Config{CacheDir: t.TempDir()}}
}

func push(t *testing.T, ref string, img v1.Image) v1.Hash {
	t.Helper()
	d, err := ocitest.Push(ref, img)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func build(t *testing.T, family string, files ...ocitest.File) v1.Image {
	t.Helper()
	img, err := ocitest.Build(family, files...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func run(t *testing.T, cfg audit.Config, target string) *audit.TargetResult {
	t.Helper()
	res, err := audit.Run(context.Background(), []string{target}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res.Targets[0]
}

// rules maps each file path (relative to the target) to its rule ids.
func rules(tr *audit.TargetResult) map[string][]string {
	m := map[string][]string{}
	for _, f := range tr.Files {
		p := strings.TrimPrefix(f.Path, tr.Target+"/")
		m[p] = append(m[p], []string{}...)
		for _, fd := range f.Findings {
			m[p] = append(m[p], fd.Rule+"@"+fd.Severity.String())
		}
	}
	return m
}

func maxSev(tr *audit.TargetResult) scan.Severity {
	var m scan.Severity
	for i := range tr.Files {
		if s := tr.Files[i].Max(); s > m {
			m = s
		}
	}
	return m
}

func noErrors(t *testing.T, tr *audit.TargetResult) {
	t.Helper()
	if tr.Error != "" {
		t.Fatalf("target error: %s", tr.Error)
	}
	for _, f := range tr.Files {
		if f.Error != "" {
			t.Fatalf("%s: %s", f.Path, f.Error)
		}
	}
}

func TestModelPack(t *testing.T) {
	reg, cfg := env(t)
	evil := push(t, reg.Host+"/models/evil:v1", build(t, "modelpack", ocitest.File{Name: "model.pkl", Data: fixture(t, maliciousPkl)}, ocitest.File{Name: "README.md", Data: []byte("# a model\n")}))
	push(t, reg.Host+"/models/good:v1", build(t, "modelpack", ocitest.File{Name: "model.pkl", Data: fixture(t, benignPkl)}))

	tr := run(t, cfg, "oci://"+reg.Host+"/models/evil:v1")
	noErrors(t, tr)
	if tr.Kind != "oci:modelpack" || tr.Family != "modelpack" || tr.Digest != evil.String() || tr.Registry != reg.Host || tr.Repository != "models/evil" {
		t.Fatalf("target: kind %q family %q digest %q registry %q repo %q", tr.Kind, tr.Family, tr.Digest, tr.Registry, tr.Repository)
	}
	r := rules(tr)
	if _, ok := r["model.pkl"]; !ok {
		t.Fatalf("no model.pkl in %v", r)
	}
	if maxSev(tr) != scan.Critical {
		t.Fatalf("malicious ModelPack: max %v, findings %v", maxSev(tr), r)
	}

	tr = run(t, cfg, "oci://"+reg.Host+"/models/good:v1")
	noErrors(t, tr)
	if maxSev(tr) >= scan.Medium {
		t.Fatalf("benign ModelPack: %v", rules(tr))
	}
	// By digest too.
	tr = run(t, cfg, "oci://"+reg.Host+"/models/evil@"+evil.String())
	noErrors(t, tr)
	if maxSev(tr) != scan.Critical || tr.Digest != evil.String() {
		t.Fatalf("by digest: %v %v", tr.Digest, rules(tr))
	}
}

func TestORASGeneric(t *testing.T) {
	reg, cfg := env(t)
	push(t, reg.Host+"/oras/m:latest", build(t, "oras", ocitest.File{Name: "weights/model.pkl", Data: fixture(t, maliciousPkl)}))
	tr := run(t, cfg, "oci://"+reg.Host+"/oras/m") // default tag latest
	noErrors(t, tr)
	r := rules(tr)
	if tr.Family != "oras" || maxSev(tr) != scan.Critical {
		t.Fatalf("family %q: %v", tr.Family, r)
	}
	if _, ok := r["weights/model.pkl"]; !ok { // raw file under the default tar type: no .tar suffix
		t.Fatalf("paths: %v", r)
	}
}

func TestOllama(t *testing.T) {
	reg, cfg := env(t)
	push(t, reg.Host+"/library/llama:good", build(t, "ollama", ocitest.File{Name: "model.gguf", Data: fixture(t, benignGGUF)}, ocitest.File{Name: "params", Data: []byte(`{"stop":["<|eot_id|>"]}`)}))
	push(t, reg.Host+"/library/llama:ssti", build(t, "ollama", ocitest.File{Name: "model.gguf", Data: fixture(t, sstiGGUF)}))

	tr := run(t, cfg, "oci://"+reg.Host+"/library/llama:good")
	noErrors(t, tr)
	r := rules(tr)
	if tr.Family != "ollama" {
		t.Fatalf("family %q", tr.Family)
	}
	for _, want := range []string{"model.gguf", "params"} {
		if _, ok := r[want]; !ok {
			t.Fatalf("no %s in %v", want, r)
		}
	}
	if maxSev(tr) >= scan.Medium {
		t.Fatalf("benign Ollama model flagged: %v", r)
	}
	tr = run(t, cfg, "oci://"+reg.Host+"/library/llama:ssti")
	noErrors(t, tr)
	if maxSev(tr) != scan.Critical {
		t.Fatalf("SSTI Ollama: %v", rules(tr))
	}
}

func TestIndex(t *testing.T) {
	reg, cfg := env(t)
	evil := build(t, "modelpack", ocitest.File{Name: "model.pkl", Data: fixture(t, maliciousPkl)})
	good := build(t, "modelpack", ocitest.File{Name: "model.pkl", Data: fixture(t, benignPkl)})
	if _, err := ocitest.PushIndex(reg.Host+"/models/multi:v1", good, evil); err != nil {
		t.Fatal(err)
	}
	de, _ := evil.Digest()
	dg, _ := good.Digest()
	tr := run(t, cfg, "oci://"+reg.Host+"/models/multi:v1")
	noErrors(t, tr)
	r := rules(tr)
	if tr.Kind != "oci:index" {
		t.Fatalf("kind %q", tr.Kind)
	}
	evilPath := "sha256-" + de.Hex + "/model.pkl"
	goodPath := "sha256-" + dg.Hex + "/model.pkl"
	if len(r[evilPath]) == 0 || !strings.Contains(strings.Join(r[evilPath], " "), "critical") {
		t.Fatalf("%s: %v", evilPath, r)
	}
	if _, ok := r[goodPath]; !ok {
		t.Fatalf("no %s: %v", goodPath, r)
	}
	for _, fd := range r[goodPath] {
		if strings.HasSuffix(fd, "critical") || strings.HasSuffix(fd, "high") {
			t.Fatalf("benign child flagged: %v", r)
		}
	}
}

func TestUnsafePath(t *testing.T) {
	reg, cfg := env(t)
	data := fixture(t, benignPkl)
	img, err := ocitest.Image(types.OCIManifestSchema1, ocitest.ModelPackConfig,
		ocitest.Layer{MediaType: ocitest.ModelPackRaw, Data: data, Annotations: map[string]string{"org.cncf.model.filepath": "../../etc/passwd"}},
		ocitest.Layer{MediaType: ocitest.ModelPackRaw, Data: []byte("b"), Annotations: map[string]string{"org.cncf.model.filepath": "/abs/x"}},
		ocitest.Layer{MediaType: ocitest.ModelPackRaw, Data: []byte("c"), Annotations: map[string]string{"org.cncf.model.filepath": `..\..\win`}},
		ocitest.Layer{MediaType: ocitest.ModelPackRaw, Data: []byte("ok"), Annotations: map[string]string{"org.cncf.model.filepath": "./dir//fine.txt"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	push(t, reg.Host+"/models/paths:v1", img)
	tr := run(t, cfg, "oci://"+reg.Host+"/models/paths:v1")
	noErrors(t, tr)
	unsafe := 0
	for _, f := range tr.Files {
		if strings.Contains(f.Path, "..") || strings.Contains(f.Path, "/abs/") || strings.Contains(f.Path, `\`) {
			t.Errorf("unsafe name used: %s", f.Path)
		}
		for _, fd := range f.Findings {
			if fd.Rule == audit.RuleOCIUnsafePath {
				unsafe++
				if fd.Severity != scan.Medium {
					t.Errorf("severity %v", fd.Severity)
				}
			}
		}
	}
	if unsafe != 3 {
		t.Fatalf("%d unsafe-path findings, want 3: %v", unsafe, rules(tr))
	}
	r := rules(tr)
	if _, ok := r["dir/fine.txt"]; !ok {
		t.Fatalf("clean path not cleaned: %v", r)
	}
	// The blob behind the unsafe name is still scanned, under its digest.
	hexd := v1.Hash{}
	l, _ := img.Layers()
	hexd, _ = l[0].Digest()
	if _, ok := r["blobs/sha256-"+hexd.Hex]; !ok {
		t.Fatalf("unsafe-named blob not scanned under its digest: %v", r)
	}
}

func TestForeignLayer(t *testing.T) {
	reg, cfg := env(t)
	var hits atomic.Int32
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer foreign.Close()
	img, err := ocitest.Image(types.OCIManifestSchema1, ocitest.ModelPackConfig,
		ocitest.Layer{MediaType: ocitest.ModelPackRaw, Data: fixture(t, benignPkl), Annotations: map[string]string{"org.cncf.model.filepath": "model.pkl"}},
		ocitest.Layer{MediaType: ocitest.ModelPackRaw, Data: []byte("elsewhere"), URLs: []string{foreign.URL + "/blob"}, Annotations: map[string]string{"org.cncf.model.filepath": "extra.pkl"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	push(t, reg.Host+"/models/foreign:v1", img)
	tr := run(t, cfg, "oci://"+reg.Host+"/models/foreign:v1")
	noErrors(t, tr)
	found := false
	for _, f := range tr.Files {
		if strings.HasSuffix(f.Path, "extra.pkl") {
			t.Errorf("foreign layer handed out as %s", f.Path)
		}
		for _, fd := range f.Findings {
			if fd.Rule == audit.RuleOCIForeignLayer && fd.Severity == scan.High {
				found = true
			}
		}
	}
	if !found || hits.Load() != 0 {
		t.Fatalf("foreign finding %v, foreign host hits %d: %v", found, hits.Load(), rules(tr))
	}
}

func TestCorruptBlob(t *testing.T) {
	reg, cfg := env(t)
	img := build(t, "modelpack", ocitest.File{Name: "model.pkl", Data: fixture(t, benignPkl)})
	push(t, reg.Host+"/models/tampered:v1", img)
	ls, _ := img.Layers()
	d, _ := ls[0].Digest()
	reg.Corrupt(d.String())
	res, err := audit.Run(context.Background(), []string{"oci://" + reg.Host + "/models/tampered:v1"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Incomplete() || res.Verdict != "error" {
		t.Fatalf("tampered blob: verdict %q, incomplete %v", res.Verdict, res.Incomplete())
	}
	var msg string
	for _, f := range res.Targets[0].Files {
		msg += f.Error
	}
	if !strings.Contains(msg, d.String()) {
		t.Fatalf("error does not name the digest: %q", msg)
	}
	if _, err := os.Stat(filepath.Join(cfg.OCI.CacheDir, "sha256", d.Hex)); !os.IsNotExist(err) {
		t.Fatalf("corrupt blob left in the cache: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Join(cfg.OCI.CacheDir, "sha256"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".partial-") {
			t.Fatalf("partial download left behind: %s", e.Name())
		}
	}
}

func TestTagResolvedOnce(t *testing.T) {
	reg, cfg := env(t)
	first := push(t, reg.Host+"/models/moving:v1", build(t, "modelpack", ocitest.File{Name: "model.pkl", Data: fixture(t, maliciousPkl)}))
	second := build(t, "modelpack", ocitest.File{Name: "model.pkl", Data: fixture(t, benignPkl)})
	retagged := false
	reg.After("/v2/models/moving/manifests/v1", func() {
		push(t, reg.Host+"/models/moving:v1", second)
		retagged = true
	})
	tr := run(t, cfg, "oci://"+reg.Host+"/models/moving:v1")
	noErrors(t, tr)
	if !retagged {
		t.Fatal("the tag was never read")
	}
	if tr.Digest != first.String() || maxSev(tr) != scan.Critical {
		t.Fatalf("digest %s (first %s), %v", tr.Digest, first, rules(tr))
	}
}

func TestLayout(t *testing.T) {
	_, cfg := env(t)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	evil := build(t, "modelpack", ocitest.File{Name: "model.pkl", Data: fixture(t, maliciousPkl)})
	good := build(t, "modelpack", ocitest.File{Name: "model.pkl", Data: fixture(t, benignPkl)})
	if err := p.AppendImage(evil, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "evil"})); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(good, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "good"})); err != nil {
		t.Fatal(err)
	}
	tr := run(t, cfg, "oci-layout://"+dir+":evil")
	noErrors(t, tr)
	if tr.Family != "modelpack" || maxSev(tr) != scan.Critical {
		t.Fatalf("layout evil: %s %v", tr.Family, rules(tr))
	}
	tr = run(t, cfg, "oci-layout://"+dir+":good")
	noErrors(t, tr)
	if maxSev(tr) >= scan.Medium {
		t.Fatalf("layout good: %v", rules(tr))
	}
	dg, _ := evil.Digest()
	tr = run(t, cfg, "oci-layout://"+dir+"@"+dg.String())
	noErrors(t, tr)
	if maxSev(tr) != scan.Critical {
		t.Fatalf("layout by digest: %v", rules(tr))
	}
	// No tag, two manifests: index.json is walked, each child a folder.
	tr = run(t, cfg, "oci-layout://"+dir)
	noErrors(t, tr)
	if tr.Kind != "oci:index" || len(tr.Files) != 2 {
		t.Fatalf("whole layout: %s %v", tr.Kind, rules(tr))
	}
	// A tampered blob in the layout is an error.
	ls, _ := evil.Layers()
	ld, _ := ls[0].Digest()
	blob := filepath.Join(dir, "blobs", "sha256", ld.Hex)
	b, _ := os.ReadFile(blob)
	b[len(b)/2] ^= 1
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.OCI.CacheDir = t.TempDir()
	tr = run(t, cfg, "oci-layout://"+dir+":evil")
	if len(tr.Files) != 1 || !strings.Contains(tr.Files[0].Error, ld.String()) {
		t.Fatalf("tampered layout blob: %+v", tr.Files)
	}
}

func TestTarLayer(t *testing.T) {
	reg, cfg := env(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	pkl := fixture(t, maliciousPkl)
	tw.WriteHeader(&tar.Header{Name: "inner/model.pkl", Mode: 0o644, Size: int64(len(pkl)), Typeflag: tar.TypeReg})
	tw.Write(pkl)
	tw.Close()
	img, err := ocitest.Image(types.OCIManifestSchema1, ocitest.ModelPackConfig,
		ocitest.Layer{MediaType: ocitest.ModelPackTar, Data: buf.Bytes(), Annotations: map[string]string{"org.cncf.model.filepath": "weights"}})
	if err != nil {
		t.Fatal(err)
	}
	push(t, reg.Host+"/models/tar:v1", img)
	tr := run(t, cfg, "oci://"+reg.Host+"/models/tar:v1")
	noErrors(t, tr)
	if len(tr.Files) != 1 || !strings.HasSuffix(tr.Files[0].Path, "/weights.tar") {
		t.Fatalf("tar layer: %v", rules(tr))
	}
	member := false
	for _, fd := range tr.Files[0].Findings {
		if fd.Severity == scan.Critical && strings.Contains(fd.Member, "inner/model.pkl") {
			member = true
		}
	}
	if !member {
		t.Fatalf("tar member not scanned: %+v", tr.Files[0].Findings)
	}
}

func TestCacheReuse(t *testing.T) {
	reg, cfg := env(t)
	img := build(t, "modelpack", ocitest.File{Name: "model.pkl", Data: fixture(t, benignPkl)})
	push(t, reg.Host+"/models/c:v1", img)
	target := "oci://" + reg.Host + "/models/c:v1"
	noErrors(t, run(t, cfg, target))
	ls, _ := img.Layers()
	d, _ := ls[0].Digest()
	cached := filepath.Join(cfg.OCI.CacheDir, "sha256", d.Hex)
	if _, err := os.Stat(cached); err != nil {
		t.Fatal(err)
	}
	// Served corrupt from now on: a cached blob is used without a request.
	reg.Corrupt(d.String())
	noErrors(t, run(t, cfg, target))
	// A cached blob of the wrong size is dropped and fetched again (and
	// now the registry lies).
	os.WriteFile(cached, []byte("short"), 0o644)
	if tr := run(t, cfg, target); tr.Files[0].Error == "" {
		t.Fatal("wrong-size cache entry reused")
	}
	// Same size, other bytes: reused unless Paranoid.
	good := fixture(t, benignPkl)
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 1
	os.WriteFile(cached, bad, 0o644)
	cfg.OCI.Paranoid = true
	if tr := run(t, cfg, target); tr.Files[0].Error == "" {
		t.Fatal("paranoid: tampered cache entry reused")
	}
}
