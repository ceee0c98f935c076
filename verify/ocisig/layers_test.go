package ocisig_test

import (
	"archive/tar"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hallmarkdev/hallmark/source/oci"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
	"github.com/hallmarkdev/hallmark/verify"
	"github.com/hallmarkdev/hallmark/verify/manifest"
	"github.com/hallmarkdev/hallmark/verify/ocisig"
)

// omsSign writes files to a temporary folder, computes their OMS manifest
// there as `hallmark sign` does, and signs it with k: the model.sig a
// signer would ship.
func omsSign(t *testing.T, k *ecdsa.PrivateKey, opts manifest.Options, fs ...ocitest.File) []byte {
	t.Helper()
	dir := t.TempDir()
	for _, f := range fs {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		check(t, os.MkdirAll(filepath.Dir(p), 0o755))
		check(t, os.WriteFile(p, f.Data, 0o644))
	}
	opts.IgnoreGitPaths = true
	m, err := manifest.Compute(context.Background(), dir, opts)
	check(t, err)
	stmt, err := manifest.Statement(m, "model")
	check(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	check(t, err)
	signer, err := verify.NewKeySigner(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	check(t, err)
	sig, err := verify.Sign(stmt, signer)
	check(t, err)
	return sig
}

// pushLayers pushes a ModelPack artifact made of the given layers plus a
// raw model.sig layer.
func pushLayers(t *testing.T, reg *ocitest.Registry, repo string, sig []byte, layers ...ocitest.Layer) pushed {
	t.Helper()
	layers = append(layers, ocitest.Layer{MediaType: ocitest.ModelPackRaw, Data: sig, Annotations: map[string]string{"org.cncf.model.filepath": "model.sig"}})
	img, err := ocitest.Image(types.OCIManifestSchema1, ocitest.ModelPackConfig, layers...)
	check(t, err)
	r := reg.Host + "/" + repo
	d, err := ocitest.Push(r+":v1", img)
	check(t, err)
	return pushed{repo: r, ref: "oci://" + r + ":v1", digest: d.String()}
}

func tarLayer(t *testing.T, packing string, members ...ocitest.TarMember) ocitest.Layer {
	t.Helper()
	data, err := ocitest.Tar(packing, members...)
	check(t, err)
	mt := map[string]string{"tar": ocitest.ModelPackTar, "tar+gzip": ocitest.ModelPackTarGzip, "tar+zstd": ocitest.ModelPackTarZstd}[packing]
	return ocitest.Layer{MediaType: mt, Data: data, Annotations: map[string]string{"org.cncf.model.filepath": "weights"}}
}

func members(fs ...ocitest.File) []ocitest.TarMember {
	var ms []ocitest.TarMember
	for _, f := range fs {
		ms = append(ms, ocitest.TarMember{Name: f.Name, Data: f.Data})
	}
	return ms
}

var tarFiles = []ocitest.File{
	{Name: "weights/model.safetensors", Data: []byte("0123456789 weights, long enough for a few shards")},
	{Name: "weights/config.json", Data: []byte(`{"architectures":["x"]}`)},
}

// TestOMSTarLayers: an OMS signature over files that ship inside tar
// layers (plain, gzip, zstd), with each hash and both serializations,
// verifies against the files a client unpacks; a changed member does not.
func TestOMSTarLayers(t *testing.T) {
	reg := ocitest.NewRegistry()
	defer reg.Close()
	cases := []struct {
		name    string
		packing string
		opts    manifest.Options
	}{
		{"tar+gzip sha256 files", "tar+gzip", manifest.Options{Method: manifest.MethodFiles, Hash: manifest.HashSHA256}},
		{"tar+zstd blake3 files", "tar+zstd", manifest.Options{Method: manifest.MethodFiles, Hash: manifest.HashBLAKE3}},
		{"tar blake2b files", "tar", manifest.Options{Method: manifest.MethodFiles, Hash: manifest.HashBLAKE2b}},
		{"tar+gzip sha256 shards", "tar+gzip", manifest.Options{Method: manifest.MethodShards, Hash: manifest.HashSHA256, ShardSize: 16}},
		{"tar+zstd blake3 shards", "tar+zstd", manifest.Options{Method: manifest.MethodShards, Hash: manifest.HashBLAKE3, ShardSize: 7}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKey(t)
			sig := omsSign(t, k, tc.opts, tarFiles...)
			repo := "models/tar" + string(rune('a'+i))
			good := pushLayers(t, reg, repo, sig, tarLayer(t, tc.packing, members(tarFiles...)...))
			rep := run(t, good.ref, keyVerifier(t, k))
			wantVerified(t, rep, "artifact layer", "oms")
			if c := rep.Signatures[0]; tc.opts.Method == manifest.MethodFiles && c.Resources != 2 {
				t.Errorf("resources %d, want 2", c.Resources)
			}
			wantFailed(t, run(t, good.ref, keyVerifier(t, newKey(t))), "wrong key")

			changed := []ocitest.File{tarFiles[0], {Name: tarFiles[1].Name, Data: []byte(`{"architectures":["y"]}`)}}
			bad := pushLayers(t, reg, repo+"-bad", sig, tarLayer(t, tc.packing, members(changed...)...))
			rep = run(t, bad.ref, keyVerifier(t, k))
			wantFailed(t, rep, "does not match")
			d := rep.Signatures[0].Diff
			if d == nil || len(d.Mismatched) != 1 || !startsWith(d.Mismatched[0], "weights/config.json") {
				t.Errorf("diff %+v, want weights/config.json changed", d)
			}
		})
	}
}

func startsWith(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// TestOMSRawLayersHashed: a blake2b signature over raw layers: the layer
// digests are not the resource digests, so the blobs are downloaded and
// hashed.
func TestOMSRawLayersHashed(t *testing.T) {
	reg := ocitest.NewRegistry()
	defer reg.Close()
	k := newKey(t)
	opts := manifest.Options{Method: manifest.MethodFiles, Hash: manifest.HashBLAKE2b}
	sig := omsSign(t, k, opts, files...)
	good := push(t, reg, "models/raw", append(append([]ocitest.File{}, files...), ocitest.File{Name: "model.sig", Data: sig})...)
	wantVerified(t, run(t, good.ref, keyVerifier(t, k)), "artifact layer", "oms")
	bad := push(t, reg, "models/raw-bad", files[0], ocitest.File{Name: "config.json", Data: []byte(`{"x":1}`)}, ocitest.File{Name: "model.sig", Data: sig})
	rep := run(t, bad.ref, keyVerifier(t, k))
	wantFailed(t, rep, "does not match")
	if d := rep.Signatures[0].Diff; d == nil || len(d.Mismatched) != 1 || d.Mismatched[0] != "config.json" {
		t.Errorf("diff %+v", d)
	}
	// A tampered blob is an error, never a verdict.
	reg.Corrupt(digestOf(files[0].Data))
	if _, err := ocisig.Verify(context.Background(), good.ref, oci.Config{CacheDir: t.TempDir()}, keyVerifier(t, k)); err == nil {
		t.Fatal("a corrupted layer gave no error")
	}
}

// TestOMSTarUnsafe: tar members a client must not unpack as they say
// (paths out of the model folder, links, two files of one name) never
// verify, and the report says why.
func TestOMSTarUnsafe(t *testing.T) {
	reg := ocitest.NewRegistry()
	defer reg.Close()
	k := newKey(t)
	opts := manifest.Options{Method: manifest.MethodFiles, Hash: manifest.HashSHA256}
	sig := omsSign(t, k, opts, tarFiles...)
	ms := members(tarFiles...)
	cases := []struct {
		name   string
		layers []ocitest.Layer
		want   string
	}{
		{"dot-dot", []ocitest.Layer{tarLayer(t, "tar+gzip", append(ms, ocitest.TarMember{Name: "../evil.py", Data: []byte("x")})...)}, `contains ".."`},
		{"absolute", []ocitest.Layer{tarLayer(t, "tar", append(ms, ocitest.TarMember{Name: "/etc/x", Data: []byte("x")})...)}, "absolute path"},
		{"symlink", []ocitest.Layer{tarLayer(t, "tar", append(ms, ocitest.TarMember{Name: "weights/link", Type: tar.TypeSymlink, Link: "/etc/passwd"})...)}, "is a link"},
		{"duplicate member", []ocitest.Layer{tarLayer(t, "tar", append(ms, ocitest.TarMember{Name: "./weights/config.json", Data: []byte("other")})...)}, "two files are named weights/config.json"},
		{"member and raw layer", []ocitest.Layer{
			{MediaType: ocitest.ModelPackRaw, Data: []byte("raw"), Annotations: map[string]string{"org.cncf.model.filepath": "weights/config.json"}},
			tarLayer(t, "tar", ms...)}, "two files are named weights/config.json"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := pushLayers(t, reg, "models/unsafe"+string(rune('a'+i)), sig, tc.layers...)
			wantFailed(t, run(t, p.ref, keyVerifier(t, k)), tc.want)
		})
	}
	// Directory entries (and "./") are fine.
	p := pushLayers(t, reg, "models/dirs", sig, tarLayer(t, "tar+gzip", append([]ocitest.TarMember{{Name: "./", Type: tar.TypeDir}, {Name: "weights/", Type: tar.TypeDir}}, ms...)...))
	wantVerified(t, run(t, p.ref, keyVerifier(t, k)), "artifact layer", "oms")
}
