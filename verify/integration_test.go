package verify

import (
	"context"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/verify/manifest"
)

// localManifest hashes a model with package manifest the way `hallmark
// verify` will: the signature's serialization, the signed ignore_paths plus
// the verifier's, the git defaults, and model.sig when it lies inside.
func localManifest(t testing.TB, model string, sig *Signature, ignore ...string) []manifest.Resource {
	t.Helper()
	opts := sig.Options
	opts.IgnoreGitPaths = true
	opts.IgnorePaths = append(append(append([]string{}, opts.IgnorePaths...), ignore...), "model.sig")
	m, err := manifest.Compute(context.Background(), model, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m.Resources
}

func (vec vector) model() string {
	if vec.single != "" {
		return filepath.Join(vectors, vec.dir, vec.single)
	}
	return filepath.Join(vectors, vec.dir)
}

// TestVectorsWithManifest is the whole verify path over the 13 vector
// folders: parse, hash the folder with manifest.Compute, verify.
func TestVectorsWithManifest(t *testing.T) {
	for _, vec := range allVectors {
		t.Run(vec.dir, func(t *testing.T) {
			sig, err := ParseBundle(vec.sig(t))
			if err != nil {
				t.Fatal(err)
			}
			local := localManifest(t, vec.model(), sig, vec.ignore...)
			if _, err := verifierFor(t, vec.method).Verify(sig, WithResources(local)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if err := os.WriteFile(filepath.Join(dst, e.Name()), readFile(t, filepath.Join(src, e.Name())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestVectorsWithManifestNegatives: changed, added, removed, renamed files
// and the ignore rules, through manifest.Compute.
func TestVectorsWithManifestNegatives(t *testing.T) {
	vec := findVector(t, "v1.0.1-sigstore")
	sig, err := ParseBundle(vec.sig(t))
	if err != nil {
		t.Fatal(err)
	}
	v := verifierFor(t, MethodKeyless)

	t.Run("not told to ignore ignore-me", func(t *testing.T) {
		_, err := v.Verify(sig, WithResources(localManifest(t, vec.model(), sig)))
		wantKind(t, err, ErrResourceMismatch, `1 unsigned ("ignore-me")`)
	})
	t.Run("ignore unsigned files", func(t *testing.T) {
		names := make([]string, len(sig.Resources))
		for i, r := range sig.Resources {
			names[i] = r.Name
		}
		m, err := manifest.ComputeNames(context.Background(), vec.model(), sig.Options, names)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(sig, WithResources(m.Resources)); err != nil {
			t.Fatal(err)
		}
	})
	for name, c := range map[string]struct {
		change func(dir string) error
		frag   string
	}{
		"one byte changed": {func(d string) error {
			b, err := os.ReadFile(filepath.Join(d, "signme-2"))
			if err != nil {
				return err
			}
			b[0] ^= 1
			return os.WriteFile(filepath.Join(d, "signme-2"), b, 0o644)
		}, `1 changed ("signme-2")`},
		"file added":   {func(d string) error { return os.WriteFile(filepath.Join(d, "new"), []byte("x"), 0o644) }, `1 unsigned ("new")`},
		"file removed": {func(d string) error { return os.Remove(filepath.Join(d, "signme-1")) }, `1 missing ("signme-1")`},
		"file renamed": {func(d string) error { return os.Rename(filepath.Join(d, "signme-1"), filepath.Join(d, "signme-3")) },
			`1 missing ("signme-1"); 1 unsigned ("signme-3")`},
	} {
		t.Run(name, func(t *testing.T) {
			dir := copyDir(t, filepath.Join(vectors, vec.dir))
			if err := c.change(dir); err != nil {
				t.Fatal(err)
			}
			_, err := v.Verify(sig, WithResources(localManifest(t, dir, sig, "ignore-me")))
			wantKind(t, err, ErrResourceMismatch, c.frag)
		})
	}
}

// TestSignVerifyWithManifest: manifest.Compute → manifest.Statement → Sign
// → ParseBundle → Verify against a fresh Compute.
func TestSignVerifyWithManifest(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"config.json": "{}", "weights/a.bin": "aaaa", "weights/b.bin": "bbbb"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, opts := range []manifest.Options{
		{Method: manifest.MethodFiles, Hash: manifest.HashSHA256, IgnoreGitPaths: true},
		{Method: manifest.MethodShards, Hash: manifest.HashBLAKE2b, ShardSize: 3, IgnoreGitPaths: true},
		{Method: manifest.MethodFiles, Hash: manifest.HashBLAKE3, IgnoreGitPaths: true},
	} {
		m, err := manifest.Compute(context.Background(), dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		stmt, err := manifest.Statement(m, manifest.SubjectName(dir))
		if err != nil {
			t.Fatal(err)
		}
		k := newECKey(t, elliptic.P384())
		signer, _ := NewKeySigner(privPEM(t, k))
		b, err := Sign(stmt, signer)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := ParseBundle(b)
		if err != nil {
			t.Fatal(err)
		}
		if sig.Options.Method != opts.Method || sig.Options.Hash != opts.Hash {
			t.Errorf("options %+v", sig.Options)
		}
		v, _ := NewVerifier(WithPublicKey(pubPEM(t, k.Public())))
		if _, err := v.Verify(sig, WithResources(localManifest(t, dir, sig))); err != nil {
			t.Fatalf("%s/%s: %v", opts.Method, opts.Hash, err)
		}
	}
}

// TestRoundTripMatrix: sign → verify for every hash × serialization × method
// (key and certificate), through manifest.Compute on a model with nested
// files, an empty file and a file spanning several shards.
func TestRoundTripMatrix(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"config.json": "{}", "weights/a.bin": strings.Repeat("a", 1000), "weights/b.bin": "bbbb",
		"empty": "", "a.txt": "text", "a/b": "nested",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rootCA := newRootCA(t, "matrix root")
	inter := rootCA.intermediate(t, "matrix intermediate")
	k := newECKey(t, elliptic.P256())
	leaf := inter.leaf(t, k, x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, time.Time{}, time.Time{})
	methods := map[string]func() (Signer, TrustPolicy){
		"key": func() (Signer, TrustPolicy) {
			s, err := NewKeySigner(privPEM(t, k))
			if err != nil {
				t.Fatal(err)
			}
			return s, WithPublicKey(pubPEM(t, k.Public()))
		},
		"certificate": func() (Signer, TrustPolicy) {
			s, err := NewCertificateSigner(privPEM(t, k), certPEM(leaf), certPEM(inter.cert))
			if err != nil {
				t.Fatal(err)
			}
			return s, WithCertificateChain(certPEM(rootCA.cert))
		},
	}
	for _, hash := range []string{manifest.HashSHA256, manifest.HashBLAKE2b, manifest.HashBLAKE3} {
		for _, method := range []string{manifest.MethodFiles, manifest.MethodShards} {
			for name, mk := range methods {
				t.Run(hash+"/"+method+"/"+name, func(t *testing.T) {
					opts := manifest.Options{Method: method, Hash: hash, IgnoreGitPaths: true}
					if method == manifest.MethodShards {
						opts.ShardSize = 256
					}
					m, err := manifest.Compute(context.Background(), dir, opts)
					if err != nil {
						t.Fatal(err)
					}
					stmt, err := manifest.Statement(m, manifest.SubjectName(dir))
					if err != nil {
						t.Fatal(err)
					}
					signer, trust := mk()
					b, err := Sign(stmt, signer)
					if err != nil {
						t.Fatal(err)
					}
					sig, err := ParseBundle(b)
					if err != nil {
						t.Fatal(err)
					}
					v, err := NewVerifier(trust)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := v.Verify(sig, WithResources(localManifest(t, dir, sig))); err != nil {
						t.Fatal(err)
					}
					// A changed byte in a shard or file is caught.
					tampered := append([]manifest.Resource(nil), m.Resources...)
					tampered[len(tampered)-1].Digest = strings.Repeat("0", len(tampered[len(tampered)-1].Digest))
					if _, err := v.Verify(sig, WithResources(tampered)); !errors.Is(err, ErrResourceMismatch) {
						t.Fatalf("tampered manifest: %v", err)
					}
				})
			}
		}
	}
}
