package oci

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCleanPath(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"model.pkl", "model.pkl"}, {"./a//b/../c", ""}, {"a/./b", "a/b"}, {"dir/", "dir"},
		{"../../etc/passwd", ""}, {"a/../../x", ""}, {"/etc/passwd", ""}, {"a\x00b", ""}, {`..\x`, ""},
		{`C:/x`, ""}, {"", ""}, {".", ""}, {"a\nb", ""}, {"..", ""}, {"...", "..."},
	} {
		got, why := cleanPath(c.in)
		if got != c.want || (got == "") != (why != "") {
			t.Errorf("cleanPath(%q) = %q, %q; want %q", c.in, got, why, c.want)
		}
	}
}

func TestClassify(t *testing.T) {
	d := func(mt string) descriptor { return descriptor{MediaType: mt} }
	cfg := func(mt string) *descriptor { x := d(mt); return &x }
	for _, c := range []struct {
		m    manifest
		want string
	}{
		{manifest{ArtifactType: atModelPack}, FamilyModelPack},
		{manifest{Config: cfg(cfgModelPack), Layers: []descriptor{d(ollamaPrefix + "model")}}, FamilyModelPack},
		{manifest{ArtifactType: atCNAI}, FamilyCNAI},
		{manifest{Layers: []descriptor{d("application/vnd.cnai.model.layer.v1.tar")}}, FamilyCNAI},
		{manifest{Config: cfg(cfgKit)}, FamilyKitOps},
		{manifest{Config: cfg(cfgJozu)}, FamilyKitOps},
		{manifest{ArtifactType: atKit}, FamilyKitOps},
		{manifest{Config: cfg("application/vnd.docker.ai.model.config.v0.2+json")}, FamilyDockerModel},
		{manifest{Config: cfg("application/vnd.docker.container.image.v1+json"), Layers: []descriptor{d(ollamaPrefix + "template; name=x")}}, FamilyOllama},
		{manifest{Config: cfg(mtEmpty)}, FamilyORAS},
		{manifest{ArtifactType: "application/vnd.unknown.artifact.v1"}, FamilyORAS},
		{manifest{Config: cfg("application/vnd.oci.image.config.v1+json"), Layers: []descriptor{d("application/vnd.oci.image.layer.v1.tar+gzip")}}, FamilyOther},
	} {
		if got := classify(&c.m); got != c.want {
			t.Errorf("classify(%+v) = %s, want %s", c.m, got, c.want)
		}
	}
}

func TestLayerNames(t *testing.T) {
	for _, c := range []struct {
		l         descriptor
		fam, want string
	}{
		{descriptor{MediaType: ollamaPrefix + "model"}, FamilyOllama, "model.gguf"},
		{descriptor{MediaType: ollamaPrefix + "tensor; name=x", Name: "w/a.bin"}, FamilyOllama, "w/a.bin"},
		{descriptor{MediaType: "application/vnd.docker.ai.gguf.v3"}, FamilyDockerModel, "model.gguf"},
		{descriptor{MediaType: "x", Annotations: map[string]string{annTitle: "t", annFilepath: "f"}}, FamilyModelPack, "f"},
	} {
		if got, _ := layerName(&c.l, c.fam); got != c.want {
			t.Errorf("layerName(%+v) = %q, want %q", c.l, got, c.want)
		}
	}
	for _, c := range []struct {
		mt, fam, name, want string
		ann                 map[string]string
	}{
		{"application/vnd.cncf.model.weight.v1.tar", FamilyModelPack, "w", ".tar", nil},
		{"application/vnd.cncf.model.weight.v1.tar+gzip", FamilyModelPack, "w", ".tar.gz", nil},
		{"application/vnd.cncf.model.weight.v1.tar+zstd", FamilyModelPack, "w", ".tar.zst", nil},
		{"application/vnd.cncf.model.weight.v1.tar", FamilyModelPack, "w.tar", "", nil},
		{"application/vnd.cncf.model.weight.v1.raw", FamilyModelPack, "w", "", nil},
		{"application/vnd.oci.image.layer.v1.tar", FamilyORAS, "m.pkl", "", map[string]string{annTitle: "m.pkl"}},
		{"application/vnd.oci.image.layer.v1.tar+gzip", FamilyORAS, "d", ".tar.gz", map[string]string{annTitle: "d", annORASUnpack: "true"}},
	} {
		l := descriptor{MediaType: c.mt, Annotations: c.ann}
		if got := tarSuffix(&l, c.fam, c.name); got != c.want {
			t.Errorf("tarSuffix(%s, %s) = %q, want %q", c.mt, c.name, got, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"oci://model", "oci://repo/name:tag", "oci://", "oci://localhost:5000/UPPER:x"} {
		if _, err := ParseReference(bad, false); err == nil {
			t.Errorf("ParseReference(%q): no error", bad)
		}
	}
	for in, want := range map[string]string{
		"oci://localhost:5000/m":            "localhost:5000/m:latest",
		"oci://127.0.0.1:5000/a/b:v1":       "127.0.0.1:5000/a/b:v1",
		"oci://ghcr.io/o/m@sha256:" + zeros: "ghcr.io/o/m@sha256:" + zeros,
	} {
		ref, err := ParseReference(in, false)
		if err != nil || ref.String() != want {
			t.Errorf("ParseReference(%q) = %v, %v; want %s", in, ref, err, want)
		}
	}
	for in, want := range map[string][3]string{
		"oci-layout://dir":                 {"dir", "", ""},
		"oci-layout://a/dir:v1":            {"a/dir", "v1", ""},
		"oci-layout://dir@sha256:" + zeros: {"dir", "", "sha256:" + zeros},
		"oci-layout://host:5000/dir":       {"host:5000/dir", "", ""},
	} {
		d, tg, dg, err := parseLayout(in)
		if err != nil || [3]string{d, tg, dg} != want {
			t.Errorf("parseLayout(%q) = %q %q %q %v; want %q", in, d, tg, dg, err, want)
		}
	}
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

func TestHTTPGuard(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	g := &httpGuard{base: http.DefaultTransport}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	if resp, err := g.RoundTrip(req); err != nil {
		t.Fatalf("loopback refused: %v", err)
	} else {
		resp.Body.Close()
	}
	req, _ = http.NewRequest("GET", "http://192.168.1.10:5000/v2/", nil)
	if _, err := g.RoundTrip(req); err == nil {
		t.Fatal("plain HTTP to a private address allowed without Insecure")
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "127.1.2.3"} {
		if !loopback(h) {
			t.Errorf("%s not loopback", h)
		}
	}
	if loopback("10.0.0.1") || loopback("localhost.evil.com") {
		t.Error("non-loopback accepted")
	}
}
