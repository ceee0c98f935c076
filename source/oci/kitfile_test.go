package oci_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeLayout writes an OCI image layout by hand: blobs, one manifest
// with the given config and layers, index.json.
func writeLayout(t *testing.T, config []byte, configMT string, layers [][2]string, data map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	blob := func(b []byte) (string, int) {
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:])
		p := filepath.Join(dir, "blobs", "sha256", h)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return "sha256:" + h, len(b)
	}
	cd, cs := blob(config)
	var ls []map[string]any
	for _, l := range layers {
		d, s := blob(data[l[1]])
		ls = append(ls, map[string]any{"mediaType": l[0], "digest": d, "size": s})
	}
	m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": configMT, "digest": cd, "size": cs}, "layers": ls})
	md, ms := blob(m)
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []map[string]any{{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms}}})
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// KitOps layers carry no names: the Kitfile (the config) names them by
// digest; a path that climbs out is never used.
func TestKitfileNames(t *testing.T) {
	_, cfg := env(t)
	model := tarOf(t, "model.pkl", mustRead(t, "../../testdata/pickles/malicious/g_os_system_p2.pkl"))
	docs := tarOf(t, "README.md", []byte("# a model\n"))
	code := tarOf(t, "x.py", []byte("print(1)\n"))
	kit := fmt.Sprintf(`{"manifestVersion":"1.0","package":{"name":"m"},"model":{"name":"m","path":"models/","digest":%q},"docs":[{"path":"README.md","digest":%q}],"code":[{"path":"../../escape","digest":%q}]}`,
		digest(model), digest(docs), digest(code))
	dir := writeLayout(t, []byte(kit), "application/vnd.kitops.modelkit.config.v1+json",
		[][2]string{{"application/vnd.kitops.modelkit.model.v1.tar", "model"}, {"application/vnd.kitops.modelkit.docs.v1.tar", "docs"}, {"application/vnd.kitops.modelkit.code.v1.tar", "code"}},
		map[string][]byte{"model": model, "docs": docs, "code": code})
	tr := run(t, cfg, "oci-layout://"+dir)
	if tr.Family != "kitops" {
		t.Fatalf("family %q", tr.Family)
	}
	r := rules(tr)
	if _, ok := r["models.tar"]; !ok {
		t.Errorf("model layer not named from the Kitfile: %v", r)
	}
	if _, ok := r["README.md.tar"]; !ok {
		t.Errorf("docs layer not named from the Kitfile: %v", r)
	}
	unsafe := false
	for p, rs := range r {
		for _, x := range rs {
			if x == "oci/unsafe-path@medium" {
				unsafe = true
			}
		}
		if filepath.IsAbs(p) || len(p) > 2 && p[:2] == ".." {
			t.Errorf("escaping name used: %s", p)
		}
	}
	if !unsafe || maxSev(tr).String() != "critical" {
		t.Errorf("want the escaping path reported and the pickle flagged: %v", r)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A layer's media type is how clients unpack it: content that disagrees
// (plain tar declared as tar+gzip) is reported, and still scanned.
func TestPackingMismatch(t *testing.T) {
	_, cfg := env(t)
	model := tarOf(t, "model.pkl", mustRead(t, "../../testdata/pickles/malicious/g_os_system_p2.pkl"))
	dir := writeLayout(t, []byte(`{}`), "application/vnd.cncf.model.config.v1+json",
		[][2]string{{"application/vnd.cncf.model.weight.v1.tar+gzip", "model"}}, map[string][]byte{"model": model})
	r := rules(run(t, cfg, "oci-layout://"+dir))
	found := false
	for _, rs := range r {
		for _, x := range rs {
			if x == "file/packing-mismatch@medium" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no packing mismatch: %v", r)
	}
}
