package verify

import (
	"crypto/elliptic"
	"encoding/hex"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/verify/manifest"
)

// vector is one folder of testdata/vectors and how model_signing's own
// verifier is called on it (testdata/vectors/README.md).
type vector struct {
	dir       string
	method    Method
	single    string   // the model is this single file (resource ".")
	ignore    []string // what the verifier is told to ignore
	legacy    bool     // signed over the v0.2 PAE
	predicate string
	ignored   []string // predicate.serialization.ignore_paths, sorted
}

var allVectors = []vector{
	{dir: "v1.1.0-sigstore", method: MethodKeyless, ignore: []string{"ignore-me"}, ignored: []string{".git", ".gitattributes", ".github", ".gitignore", "ignore-me", "model.sig"}},
	{dir: "v1.0.1-sigstore", method: MethodKeyless, ignore: []string{"ignore-me"}},
	{dir: "v1.0.0-sigstore", method: MethodKeyless},
	{dir: "v0.3.1-sigstore", method: MethodKeyless},
	{dir: "v1.1.0-elliptic-key", method: MethodKey, ignore: []string{"ignore-me"}, ignored: []string{".git", ".gitattributes", ".github", ".gitignore", "ignore-me", "model.sig"}},
	{dir: "v1.0.1-elliptic-key", method: MethodKey, ignore: []string{"ignore-me"}},
	{dir: "v1.0.0-elliptic-key", method: MethodKey, single: "signme-1"},
	{dir: "v0.3.1-elliptic-key", method: MethodKey, single: "signme-1"},
	{dir: "v1.1.0-certificate", method: MethodCertificate, ignore: []string{"ignore-me"}, ignored: []string{".git", ".gitattributes", ".github", ".gitignore", "ignore-me", "model.sig"}},
	{dir: "v1.0.1-certificate", method: MethodCertificate, ignore: []string{"ignore-me"}},
	{dir: "v1.0.0-certificate", method: MethodCertificate},
	{dir: "v0.3.1-certificate", method: MethodCertificate},
	{dir: "v0.2.0-certificate", method: MethodCertificate, legacy: true, predicate: PredicateTypeV01},
}

func vectorKey(t testing.TB) []byte {
	return readFile(t, filepath.Join(vectors, "keys/certificate/signing-key-pub.pem"))
}

func vectorCA(t testing.TB) []byte {
	return readFile(t, filepath.Join(vectors, "keys/certificate/ca-cert.pem"))
}

// verifierFor builds the verifier the README prescribes for a method.
func verifierFor(t testing.TB, m Method) *Verifier {
	t.Helper()
	var trust TrustPolicy
	switch m {
	case MethodKey:
		trust = WithPublicKey(vectorKey(t))
	case MethodCertificate:
		trust = WithCertificateChain(vectorCA(t))
	case MethodKeyless:
		trust = WithIdentity(Identity{Subject: vectorIdentity, Issuer: vectorIssuer})
	}
	v, err := NewVerifier(trust)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (vec vector) sig(t testing.TB) []byte {
	return readFile(t, filepath.Join(vectors, vec.dir, "model.sig"))
}

func (vec vector) local(t testing.TB) []manifest.Resource {
	return fileResources(t, filepath.Join(vectors, vec.dir), vec.single, vec.ignore...)
}

// TestVectors verifies all 13 model_signing vectors with the method and
// trust the README gives, bound to the files in each folder.
func TestVectors(t *testing.T) {
	if len(allVectors) != 13 {
		t.Fatalf("%d vectors, want 13", len(allVectors))
	}
	for _, vec := range allVectors {
		t.Run(vec.dir, func(t *testing.T) {
			v := verifierFor(t, vec.method)
			res, err := v.VerifyBundle(vec.sig(t), WithResources(vec.local(t)))
			if err != nil {
				t.Fatal(err)
			}
			if res.Method != vec.method || !res.ArtifactChecked {
				t.Errorf("method %s checked %v", res.Method, res.ArtifactChecked)
			}
			if res.LegacyPAE != vec.legacy {
				t.Errorf("LegacyPAE = %v, want %v", res.LegacyPAE, vec.legacy)
			}
			want := vec.predicate
			if want == "" {
				want = PredicateType
			}
			if res.PredicateType != want {
				t.Errorf("predicate %q", res.PredicateType)
			}
			if res.Options.Method != manifest.MethodFiles || res.Options.Hash != manifest.HashSHA256 || res.Options.AllowSymlinks {
				t.Errorf("options %+v", res.Options)
			}
			got := slices.Clone(res.Options.IgnorePaths)
			slices.Sort(got)
			if !slices.Equal(got, vec.ignored) {
				t.Errorf("ignore_paths %q, want %q", got, vec.ignored)
			}
			switch vec.method {
			case MethodKeyless:
				if res.Identity != vectorIdentity || res.Issuer != vectorIssuer {
					t.Errorf("identity %q issuer %q", res.Identity, res.Issuer)
				}
				if len(res.Timestamps) == 0 || res.Certificate == nil {
					t.Errorf("no timestamps or certificate: %+v", res)
				}
				if res.SubjectName != vec.dir || res.RootDigest != "sha256:61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226" {
					t.Errorf("subject %q %s", res.SubjectName, res.RootDigest)
				}
			case MethodKey:
				// certtool's "Public Key ID: sha256:c1e49d63…" of signing-key-pub.pem.
				if res.KeyFingerprint != "sha256:c1e49d63327f85c7e2971aefd30b5a0d1c6b9b5e1a892e7f5fba995adace816d" {
					t.Errorf("fingerprint %s", res.KeyFingerprint)
				}
				if res.Identity != "" || res.Certificate != nil {
					t.Errorf("key result has identity %q", res.Identity)
				}
			case MethodCertificate:
				if res.Identity != "CN=intermediate-ca" || res.Issuer != "CN=intermediate-ca" || res.Certificate == nil {
					t.Errorf("identity %q issuer %q", res.Identity, res.Issuer)
				}
				if res.KeyFingerprint != "sha256:c1e49d63327f85c7e2971aefd30b5a0d1c6b9b5e1a892e7f5fba995adace816d" {
					t.Errorf("fingerprint %s", res.KeyFingerprint)
				}
			}
			if vec.single != "" && (len(res.Resources) != 1 || res.Resources[0].Name != ".") {
				t.Errorf("single-file resources %+v", res.Resources)
			}
		})
	}
}

// TestParseVectors checks what ParseBundle reads from each vector.
func TestParseVectors(t *testing.T) {
	for _, vec := range allVectors {
		sig, err := ParseBundle(vec.sig(t))
		if err != nil {
			t.Fatalf("%s: %v", vec.dir, err)
		}
		wantKind := map[Method]MaterialKind{MethodKey: MaterialPublicKey, MethodCertificate: MaterialCertificateChain, MethodKeyless: MaterialCertificate}[vec.method]
		if sig.Material.Kind != wantKind || sig.PayloadType != PayloadType || sig.MediaType != BundleMediaType {
			t.Errorf("%s: %s %s %s", vec.dir, sig.Material.Kind, sig.PayloadType, sig.MediaType)
		}
		switch vec.dir {
		case "v1.1.0-elliptic-key":
			if sig.Material.KeyHint != "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e" || sig.KeyID != "" {
				t.Errorf("hint %q", sig.Material.KeyHint)
			}
		case "v1.0.1-elliptic-key":
			if sig.Material.KeyDetails != "PKIX_ECDSA_P384_SHA_384" || !strings.HasPrefix(string(sig.Material.KeyRawBytes), "-----BEGIN PUBLIC KEY-----") {
				t.Errorf("rawBytes/keyDetails not read: %+v", sig.Material)
			}
		case "v1.1.0-sigstore":
			if sig.Material.TlogEntries != 1 || sig.Material.RFC3161Timestamps != 1 {
				t.Errorf("tlog %d ts %d", sig.Material.TlogEntries, sig.Material.RFC3161Timestamps)
			}
		case "v1.1.0-certificate", "v0.2.0-certificate":
			if len(sig.Material.Certificates) != 2 {
				t.Errorf("chain of %d", len(sig.Material.Certificates))
			}
		}
		if vec.predicate == PredicateTypeV01 {
			if sig.RootDigest != nil || sig.SubjectName != "" || len(sig.Resources) != 2 {
				t.Errorf("v0.2: %+v", sig)
			}
		} else if len(sig.RootDigest) != 32 {
			t.Errorf("%s: root digest %x", vec.dir, sig.RootDigest)
		}
	}
}

// TestKeyHintOfVectorKey pins the hint computation (§1.6): the hex SHA-256
// of the PEM SPKI of signing-key-pub.pem.
func TestKeyHintOfVectorKey(t *testing.T) {
	pub, err := ParsePublicKey(vectorKey(t))
	if err != nil {
		t.Fatal(err)
	}
	h, err := KeyHint(pub)
	if err != nil || h != "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e" {
		t.Fatalf("hint %s %v", h, err)
	}
}

func findVector(t testing.TB, dir string) vector {
	for _, v := range allVectors {
		if v.dir == dir {
			return v
		}
	}
	t.Fatalf("no vector %s", dir)
	return vector{}
}

// TestVectorNegatives derives the README's negative cases from the vectors.
func TestVectorNegatives(t *testing.T) {
	keyVec := findVector(t, "v1.1.0-elliptic-key")
	rawVec := findVector(t, "v1.0.1-elliptic-key")
	certVec := findVector(t, "v1.1.0-certificate")
	v02 := findVector(t, "v0.2.0-certificate")
	sigVec := findVector(t, "v1.1.0-sigstore")
	otherKey := pubPEM(t, newECKey(t, elliptic.P384()).Public())

	t.Run("wrong key, hint", func(t *testing.T) {
		v, _ := NewVerifier(WithPublicKey(otherKey))
		_, err := v.VerifyBundle(keyVec.sig(t), WithResources(keyVec.local(t)))
		wantKind(t, err, ErrWrongKey, "e8450dec")
	})
	t.Run("wrong key, rawBytes", func(t *testing.T) {
		v, _ := NewVerifier(WithPublicKey(otherKey))
		_, err := v.VerifyBundle(rawVec.sig(t), WithResources(rawVec.local(t)))
		wantKind(t, err, ErrWrongKey, "sha256:c1e49d63")
	})
	t.Run("wrong key, no hint", func(t *testing.T) {
		b := mutateBundle(t, rawVec.sig(t), func(b map[string]any) {
			b["verificationMaterial"] = map[string]any{"publicKey": map[string]any{}}
		})
		v, _ := NewVerifier(WithPublicKey(otherKey))
		_, err := v.VerifyBundle(b, WithResources(rawVec.local(t)))
		wantKind(t, err, ErrBadSignature, "does not verify")
		// and the right key still verifies it
		if _, err := verifierFor(t, MethodKey).VerifyBundle(b, WithResources(rawVec.local(t))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong CA", func(t *testing.T) {
		other := newRootCA(t, "root-ca")
		v, err := NewVerifier(WithCertificateChain(certPEM(other.cert)))
		if err != nil {
			t.Fatal(err)
		}
		for _, vec := range []vector{certVec, v02} {
			_, err = v.VerifyBundle(vec.sig(t), WithResources(vec.local(t)))
			wantKind(t, err, ErrUntrustedChain, "CN=intermediate-ca", "certificate signed by unknown authority")
		}
	})
	t.Run("wrong identity", func(t *testing.T) {
		v, _ := NewVerifier(WithIdentity(Identity{Subject: "someone@example.com", Issuer: vectorIssuer}))
		_, err := v.VerifyBundle(sigVec.sig(t), WithResources(sigVec.local(t)))
		wantKind(t, err, ErrWrongIdentity, `"stefanb@us.ibm.com"`, `"someone@example.com"`)
	})
	t.Run("wrong issuer", func(t *testing.T) {
		v, _ := NewVerifier(WithIdentity(Identity{Subject: vectorIdentity, Issuer: "https://accounts.google.com"}))
		_, err := v.VerifyBundle(sigVec.sig(t), WithResources(sigVec.local(t)))
		wantKind(t, err, ErrWrongIssuer, vectorIssuer, "https://accounts.google.com")
	})
	t.Run("wrong identity and issuer", func(t *testing.T) {
		v, _ := NewVerifier(WithIdentity(Identity{Subject: "x@example.com", Issuer: "https://accounts.google.com"}))
		_, err := v.VerifyBundle(sigVec.sig(t), WithResources(sigVec.local(t)))
		wantKind(t, err, ErrWrongIdentity, "x@example.com", "https://accounts.google.com")
	})
	t.Run("identity regexp is anchored", func(t *testing.T) {
		ok, _ := NewVerifier(WithIdentity(Identity{SubjectRegexp: `.*@us\.ibm\.com`, IssuerRegexp: `https://sigstore\.verify\.ibm\.com/.*`}))
		if _, err := ok.VerifyBundle(sigVec.sig(t), WithResources(sigVec.local(t))); err != nil {
			t.Fatal(err)
		}
		// would match unanchored
		v, _ := NewVerifier(WithIdentity(Identity{SubjectRegexp: `stefanb`, Issuer: vectorIssuer}))
		_, err := v.VerifyBundle(sigVec.sig(t), WithResources(sigVec.local(t)))
		wantKind(t, err, ErrWrongIdentity, "/^(?:stefanb)$/")
		v, _ = NewVerifier(WithIdentity(Identity{Subject: vectorIdentity, IssuerRegexp: `sigstore\.verify\.ibm\.com`}))
		_, err = v.VerifyBundle(sigVec.sig(t), WithResources(sigVec.local(t)))
		wantKind(t, err, ErrWrongIssuer)
	})
	t.Run("corrupted payload, key", func(t *testing.T) {
		// A change that keeps the statement consistent: only the signature can tell.
		b := mutatePayload(t, keyVec.sig(t), func(st map[string]any) {
			st["subject"].([]any)[0].(map[string]any)["name"] = "another-model"
		})
		_, err := verifierFor(t, MethodKey).VerifyBundle(b, WithResources(keyVec.local(t)))
		wantKind(t, err, ErrBadSignature)
	})
	t.Run("corrupted payload, certificate", func(t *testing.T) {
		for _, vec := range []vector{certVec, v02} {
			b := mutatePayload(t, vec.sig(t), func(st map[string]any) {
				st["subject"].([]any)[0].(map[string]any)["name"] = "signme-9"
			})
			_, err := verifierFor(t, MethodCertificate).VerifyBundle(b, WithoutArtifactUnsafe())
			wantKind(t, err, ErrBadSignature, "leaf's key")
		}
	})
	t.Run("corrupted payload, keyless", func(t *testing.T) {
		b := mutatePayload(t, sigVec.sig(t), func(st map[string]any) {
			st["subject"].([]any)[0].(map[string]any)["name"] = "another-model"
		})
		_, err := verifierFor(t, MethodKeyless).VerifyBundle(b, WithResources(sigVec.local(t)))
		wantKind(t, err, ErrTlogMismatch)
	})
	t.Run("resource digest changed without the root digest", func(t *testing.T) {
		b := mutatePayload(t, keyVec.sig(t), func(st map[string]any) {
			r := st["predicate"].(map[string]any)["resources"].([]any)[0].(map[string]any)
			r["digest"] = strings.Repeat("0", 64)
		})
		_, err := verifierFor(t, MethodKey).VerifyBundle(b, WithResources(keyVec.local(t)))
		wantKind(t, err, ErrRootDigest, "sha256:92745110")
	})
	t.Run("corrupted signature", func(t *testing.T) {
		b := mutateBundle(t, keyVec.sig(t), func(b map[string]any) {
			s := envelope(b)["signatures"].([]any)[0].(map[string]any)
			sig := []byte(s["sig"].(string))
			sig[10] ^= 1
			s["sig"] = string(sig)
		})
		_, err := verifierFor(t, MethodKey).VerifyBundle(b, WithResources(keyVec.local(t)))
		wantKind(t, err, ErrBadSignature)
	})
	t.Run("payload type", func(t *testing.T) {
		for _, vec := range []vector{keyVec, certVec, sigVec} {
			b := mutateBundle(t, vec.sig(t), func(b map[string]any) { envelope(b)["payloadType"] = "application/json" })
			_, err := verifierFor(t, vec.method).VerifyBundle(b, WithResources(vec.local(t)))
			wantKind(t, err, ErrPayloadType, `"application/json"`)
		}
	})
	t.Run("predicate type", func(t *testing.T) {
		for _, vec := range []vector{keyVec, certVec, sigVec} {
			b := mutatePayload(t, vec.sig(t), func(st map[string]any) { st["predicateType"] = "https://slsa.dev/provenance/v1" })
			_, err := verifierFor(t, vec.method).VerifyBundle(b, WithResources(vec.local(t)))
			wantKind(t, err, ErrPredicateType, "https://slsa.dev/provenance/v1")
		}
	})
	t.Run("statement type", func(t *testing.T) {
		for _, vec := range []vector{keyVec, certVec, sigVec, v02} {
			b := mutatePayload(t, vec.sig(t), func(st map[string]any) { st["_type"] = "https://in-toto.io/Statement/v0.1" })
			_, err := verifierFor(t, vec.method).VerifyBundle(b, WithResources(vec.local(t)))
			wantKind(t, err, ErrStatementType, "Statement/v0.1")
		}
	})
	t.Run("two subjects", func(t *testing.T) {
		b := mutatePayload(t, keyVec.sig(t), func(st map[string]any) {
			s := st["subject"].([]any)
			st["subject"] = append(s, s[0])
		})
		_, err := verifierFor(t, MethodKey).VerifyBundle(b, WithResources(keyVec.local(t)))
		wantKind(t, err, ErrSubject, "2 subjects")
	})
	t.Run("media type", func(t *testing.T) {
		for _, mt := range []string{"application/vnd.dev.sigstore.bundle.v0.4+json", "application/vnd.dev.sigstore.bundle+json;version=0.2", ""} {
			b := mutateBundle(t, keyVec.sig(t), func(b map[string]any) { b["mediaType"] = mt })
			_, err := verifierFor(t, MethodKey).VerifyBundle(b, WithResources(keyVec.local(t)))
			wantKind(t, err, ErrMediaType)
		}
	})
	t.Run("truncated bundle", func(t *testing.T) {
		for _, vec := range allVectors {
			full := vec.sig(t)
			for _, n := range []int{0, 1, len(full) / 3, len(full) / 2, len(full) - 2} {
				_, err := verifierFor(t, vec.method).VerifyBundle(full[:n], WithResources(vec.local(t)))
				wantKind(t, err, ErrMalformedBundle, "not a JSON bundle")
			}
		}
	})
	t.Run("corrupted JSON", func(t *testing.T) {
		b := []byte(strings.Replace(string(keyVec.sig(t)), `"dsseEnvelope":{`, `"dsseEnvelope":[`, 1))
		_, err := verifierFor(t, MethodKey).VerifyBundle(b, WithResources(keyVec.local(t)))
		wantKind(t, err, ErrMalformedBundle)
	})
	t.Run("swapped model.sig", func(t *testing.T) {
		// Each bundle verifies (right key or chain) but signs other files.
		cases := []struct{ sig, folder vector }{
			{keyVec, findVector(t, "v1.0.0-elliptic-key")}, // 2 files vs a single file
			{rawVec, certVec}, // signme-1 differs
			{findVector(t, "v1.0.0-elliptic-key"), rawVec}, // single file "." vs 2 files
			{findVector(t, "v1.0.1-certificate"), rawVec},  // signme-1 differs
			{findVector(t, "v0.3.1-certificate"), findVector(t, "v1.1.0-elliptic-key")},
		}
		for _, c := range cases {
			_, err := verifierFor(t, c.sig.method).VerifyBundle(c.sig.sig(t), WithResources(c.folder.local(t)))
			wantKind(t, err, ErrResourceMismatch)
		}
		_, err := verifierFor(t, MethodKey).VerifyBundle(rawVec.sig(t), WithResources(certVec.local(t)))
		wantKind(t, err, ErrResourceMismatch, `1 changed ("signme-1")`)
	})
	t.Run("changed, added, removed file", func(t *testing.T) {
		local := keyVec.local(t)
		changed := slices.Clone(local)
		changed[1].Digest = strings.Repeat("a", 64)
		added := append(slices.Clone(local), manifest.Resource{Name: "extra.bin", Algorithm: "sha256", Digest: strings.Repeat("b", 64)})
		removed := local[:1]
		renamed := slices.Clone(local)
		renamed[0].Name = "signme-1.renamed"
		for _, c := range []struct {
			local []manifest.Resource
			frag  string
		}{
			{changed, `1 changed ("signme-2")`},
			{added, `1 unsigned ("extra.bin")`},
			{removed, `1 missing ("signme-2")`},
			{renamed, `1 missing ("signme-1"); 1 unsigned ("signme-1.renamed")`},
		} {
			_, err := verifierFor(t, MethodKey).VerifyBundle(keyVec.sig(t), WithResources(c.local))
			wantKind(t, err, ErrResourceMismatch, c.frag)
			var ve *Error
			if !asError(err, &ve) || ve.Diff == nil || ve.Diff.Empty() {
				t.Errorf("no diff in %v", err)
			}
		}
	})
	t.Run("exported fields changed after parsing", func(t *testing.T) {
		// Verify reads the statement from the signed payload, not from the
		// struct: a caller (or a bug) cannot make it approve other files.
		for _, vec := range []vector{keyVec, certVec, sigVec} {
			sig, err := ParseBundle(vec.sig(t))
			if err != nil {
				t.Fatal(err)
			}
			fake := []manifest.Resource{{Name: "evil.bin", Algorithm: "sha256", Digest: strings.Repeat("e", 64)}}
			sig.Resources, sig.RootDigest = fake, nil
			_, err = verifierFor(t, vec.method).Verify(sig, WithResources(fake))
			wantKind(t, err, ErrResourceMismatch, `1 unsigned ("evil.bin")`)
		}
	})
	t.Run("wrong method", func(t *testing.T) {
		for _, c := range []struct {
			m   Method
			vec vector
		}{
			{MethodCertificate, keyVec}, {MethodKeyless, keyVec},
			{MethodKey, certVec}, {MethodKeyless, certVec},
			{MethodKey, sigVec}, {MethodCertificate, sigVec},
		} {
			_, err := verifierFor(t, c.m).VerifyBundle(c.vec.sig(t), WithResources(c.vec.local(t)))
			wantKind(t, err, ErrWrongMethod)
		}
	})
	t.Run("no tlog entry", func(t *testing.T) {
		for _, entries := range []any{[]any{}, nil} {
			b := mutateBundle(t, sigVec.sig(t), func(b map[string]any) {
				vm := b["verificationMaterial"].(map[string]any)
				if entries == nil {
					delete(vm, "tlogEntries")
				} else {
					vm["tlogEntries"] = entries
				}
			})
			_, err := verifierFor(t, MethodKeyless).VerifyBundle(b, WithResources(sigVec.local(t)))
			wantKind(t, err, ErrNoTlogEntry)
		}
	})
	t.Run("untrusted root for keyless", func(t *testing.T) {
		// a trusted root without the public-good Rekor log
		vs := newVirtual(t)
		v, err := NewVerifier(WithIdentity(Identity{Subject: vectorIdentity, Issuer: vectorIssuer}), WithTrustedRoot(vs.rootJSON))
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.VerifyBundle(sigVec.sig(t), WithResources(sigVec.local(t)))
		wantKind(t, err, ErrNoTlogEntry)
	})
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

// TestRootDigestOfVectors checks manifest.RootDigest against a subject.
func TestRootDigestOfVectors(t *testing.T) {
	vec := findVector(t, "v1.1.0-certificate")
	d, err := manifest.RootDigest(vec.local(t))
	if err != nil || hex.EncodeToString(d) != "61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226" {
		t.Fatalf("%x %v", d, err)
	}
}
