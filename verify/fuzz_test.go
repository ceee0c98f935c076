package verify

import (
	"os"
	"path/filepath"
	"testing"
)

func seedVectors(f *testing.F) {
	dirs, err := filepath.Glob(filepath.Join(vectors, "v*"))
	if err != nil || len(dirs) != 13 {
		f.Fatalf("vectors: %v %d", err, len(dirs))
	}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "model.sig"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseBundle: arbitrary bytes never panic ParseBundle, and whatever it
// accepts has the invariants it promises.
func FuzzParseBundle(f *testing.F) {
	seedVectors(f)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sig, err := ParseBundle(data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			return
		}
		if sig.PayloadType != PayloadType || len(sig.Resources) == 0 || len(sig.Sig) == 0 {
			t.Fatalf("accepted %+v", sig)
		}
		if sig.PredicateType == PredicateType && len(sig.RootDigest) != 32 {
			t.Fatalf("no root digest")
		}
	})
}

// FuzzVerifyBundle runs arbitrary bundles through the key and certificate
// methods (keyless would be the same parse plus sigstore-go).
func FuzzVerifyBundle(f *testing.F) {
	seedVectors(f)
	key, err := NewVerifier(WithPublicKey(vectorKey(f)))
	if err != nil {
		f.Fatal(err)
	}
	cert, err := NewVerifier(WithCertificateChain(vectorCA(f)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range []*Verifier{key, cert} {
			r, err := v.VerifyBundle(data, WithoutArtifactUnsafe())
			if err == nil && (r == nil || len(r.Resources) == 0) {
				t.Fatalf("verified without resources")
			}
		}
	})
}
