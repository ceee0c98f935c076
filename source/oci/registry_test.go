package oci_test

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/scan"
	"github.com/hallmarkdev/hallmark/source/oci"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
)

// tarOf is a tar layer holding one regular file.
func tarOf(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(data)
	tw.Close()
	return buf.Bytes()
}

// familyImage builds the artifact of one family around one model file:
// a pickle for ModelPack, ORAS and KitOps, a GGUF for Ollama and Docker
// model.
func familyImage(t *testing.T, family string, model []byte) v1.Image {
	t.Helper()
	var (
		img v1.Image
		err error
	)
	switch family {
	case "modelpack", "oras":
		img, err = ocitest.Build(family, ocitest.File{Name: "model.pkl", Data: model}, ocitest.File{Name: "README.md", Data: []byte("# a model\n")})
	case "ollama":
		img, err = ocitest.Build(family, ocitest.File{Name: "model.gguf", Data: model}, ocitest.File{Name: "params", Data: []byte(`{"stop":["<|eot_id|>"]}`)})
	case "kitops":
		// kit pack: the Kitfile as config, one uncompressed tar per
		// Kitfile entry, no per-layer path annotations.
		img, err = ocitest.Image(types.OCIManifestSchema1, "application/vnd.kitops.modelkit.config.v1+json",
			ocitest.Layer{MediaType: "application/vnd.kitops.modelkit.model.v1.tar", Data: tarOf(t, "model.pkl", model)},
			ocitest.Layer{MediaType: "application/vnd.kitops.modelkit.docs.v1.tar", Data: tarOf(t, "README.md", []byte("# a model\n"))})
	case "docker-model":
		img, err = ocitest.Image(types.OCIManifestSchema1, "application/vnd.docker.ai.model.config.v0.1+json",
			ocitest.Layer{MediaType: "application/vnd.docker.ai.gguf.v3", Data: model},
			ocitest.Layer{MediaType: "application/vnd.docker.ai.license", Data: []byte("MIT License\n")})
	default:
		t.Fatalf("family %q", family)
	}
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestRealRegistry pushes each family's malicious artifact and its benign
// twin to Debian's docker-registry (distribution v2.8) and scans them
// from there; then corrupts a stored blob on the registry's disk.
func TestRealRegistry(t *testing.T) {
	reg := ocitest.StartDistribution(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(t.TempDir(), "none.json"))
	cfg := audit.Config{Jobs: 2, OCI: oci.Config{CacheDir: t.TempDir()}}

	pkl, goodPkl := fixture(t, maliciousPkl), fixture(t, benignPkl)
	gguf, goodGGUF := fixture(t, sstiGGUF), fixture(t, benignGGUF)
	for _, c := range []struct {
		family, want string
		evil, good   []byte
	}{
		{"modelpack", "modelpack", pkl, goodPkl},
		{"oras", "oras", pkl, goodPkl},
		{"ollama", "ollama", gguf, goodGGUF},
		{"kitops", "kitops", pkl, goodPkl},
		{"docker-model", "docker-model", gguf, goodGGUF},
	} {
		t.Run(c.family, func(t *testing.T) {
			evil := push(t, reg.Host+"/"+c.family+"/evil:v1", familyImage(t, c.family, c.evil))
			push(t, reg.Host+"/"+c.family+"/good:v1", familyImage(t, c.family, c.good))

			tr := run(t, cfg, "oci://"+reg.Host+"/"+c.family+"/evil:v1")
			noErrors(t, tr)
			if tr.Family != c.want || tr.Digest != evil.String() || tr.Registry != reg.Host {
				t.Fatalf("family %q digest %s registry %s", tr.Family, tr.Digest, tr.Registry)
			}
			if maxSev(tr) != scan.Critical {
				t.Fatalf("malicious %s not flagged: %v", c.family, rules(tr))
			}
			tr = run(t, cfg, "oci://"+reg.Host+"/"+c.family+"/good:v1")
			noErrors(t, tr)
			if maxSev(tr) >= scan.Medium {
				t.Fatalf("benign %s flagged: %v", c.family, rules(tr))
			}
			if len(tr.Files) < 2 {
				t.Fatalf("benign %s: %d files: %v", c.family, len(tr.Files), rules(tr))
			}
		})
	}

	t.Run("tampered", func(t *testing.T) {
		for _, model := range []struct {
			name string
			data []byte
		}{{"benign", goodPkl}, {"malicious", pkl}} {
			img := familyImage(t, "modelpack", model.data)
			push(t, reg.Host+"/tampered/"+model.name+":v1", img)
			ls, _ := img.Layers()
			d, _ := ls[0].Digest()
			reg.Corrupt(t, d.String())
			cfg := cfg
			cfg.OCI.CacheDir = t.TempDir()
			res, err := audit.Run(context.Background(), []string{"oci://" + reg.Host + "/tampered/" + model.name + ":v1"}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Incomplete() || res.Verdict != "error" {
				t.Fatalf("%s: tampered blob: verdict %q, incomplete %v (want error: no findings about bytes that are not the artifact's)", model.name, res.Verdict, res.Incomplete())
			}
			var msg string
			for _, f := range res.Targets[0].Files {
				msg += f.Error
			}
			if !strings.Contains(msg, d.String()) || !strings.Contains(msg, "mismatch") {
				t.Fatalf("%s: the error does not name the digest and the mismatch: %q", model.name, msg)
			}
			if _, err := os.Stat(filepath.Join(cfg.OCI.CacheDir, "sha256", d.Hex)); !os.IsNotExist(err) {
				t.Fatalf("%s: tampered blob kept in the cache: %v", model.name, err)
			}
		}
	})
}
