package verify

import (
	"crypto/elliptic"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/verify/manifest"
)

// signed makes a key-method bundle over stmt and returns it with its
// verifier.
func signed(t *testing.T, stmt []byte) ([]byte, *Verifier) {
	t.Helper()
	k := newECKey(t, elliptic.P256())
	signer, err := NewKeySigner(privPEM(t, k))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Sign(stmt, signer)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(WithPublicKey(pubPEM(t, k.Public())))
	if err != nil {
		t.Fatal(err)
	}
	return b, v
}

// TestParseVariants: the producer variants ParseBundle must accept.
func TestParseVariants(t *testing.T) {
	res := testResources()
	b, v := signed(t, statement(t, "m", res, nil))
	variants := map[string]func(b map[string]any){
		"keyid null":         func(b map[string]any) { envelope(b)["signatures"].([]any)[0].(map[string]any)["keyid"] = nil },
		"keyid absent":       func(b map[string]any) { delete(envelope(b)["signatures"].([]any)[0].(map[string]any), "keyid") },
		"keyid set":          func(b map[string]any) { envelope(b)["signatures"].([]any)[0].(map[string]any)["keyid"] = "abc" },
		"tlogEntries absent": func(b map[string]any) { delete(b["verificationMaterial"].(map[string]any), "tlogEntries") },
		"unknown fields": func(b map[string]any) {
			b["extra"] = 1
			b["verificationMaterial"].(map[string]any)["publicKey"].(map[string]any)["keyDetails"] = "PKIX_ECDSA_P256_SHA_256"
		},
		"url-safe unpadded base64": func(b map[string]any) {
			env := envelope(b)
			p := env["payload"].(string)
			p = strings.NewReplacer("+", "-", "/", "_").Replace(strings.TrimRight(p, "="))
			env["payload"] = p
		},
		"media type alias": func(b map[string]any) { b["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.3" },
	}
	for name, f := range variants {
		t.Run(name, func(t *testing.T) {
			mb := mutateBundle(t, b, f)
			r, err := v.VerifyBundle(mb, WithResources(res))
			if err != nil {
				t.Fatal(err)
			}
			if r.SubjectName != "m" {
				t.Errorf("%+v", r)
			}
		})
	}
}

func TestParseSerialization(t *testing.T) {
	h := strings.Repeat("ab", 32)
	shards := []manifest.Resource{
		{Name: "w.bin:0:1000000000", Algorithm: "sha256-sharded-1000000000", Digest: h},
		{Name: "w.bin:1000000000:1500000000", Algorithm: "sha256-sharded-1000000000", Digest: h},
		{Name: "a:b.bin:0:10", Algorithm: "sha256", Digest: h},
	}
	for _, c := range []struct {
		name string
		ser  map[string]any
		res  []manifest.Resource
		want manifest.Options
		err  error
	}{
		{"float shard_size", map[string]any{"method": "shards", "hash_type": "sha256", "shard_size": 1000000000.0, "allow_symlinks": true}, shards,
			manifest.Options{Method: "shards", Hash: "sha256", ShardSize: 1000000000, AllowSymlinks: true}, nil},
		{"shard_size absent", map[string]any{"method": "shards", "hash_type": "sha256"}, shards, manifest.Options{}, ErrMalformedStatement},
		{"fractional shard_size", map[string]any{"method": "shards", "hash_type": "sha256", "shard_size": 10.5}, shards, manifest.Options{}, ErrMalformedStatement},
		{"negative shard_size", map[string]any{"method": "shards", "hash_type": "sha256", "shard_size": -1}, shards, manifest.Options{}, ErrMalformedStatement},
		{"blake2b", map[string]any{"method": "files", "hash_type": "blake2b", "ignore_paths": []string{"x"}},
			[]manifest.Resource{{Name: "f", Algorithm: "blake2b", Digest: strings.Repeat("cd", 64)}},
			manifest.Options{Method: "files", Hash: "blake2b", IgnorePaths: []string{"x"}}, nil},
		{"blake2b digest too short", map[string]any{"method": "files", "hash_type": "blake2b"},
			[]manifest.Resource{{Name: "f", Algorithm: "blake2b", Digest: h}}, manifest.Options{}, ErrMalformedStatement},
		{"unknown method", map[string]any{"method": "tar", "hash_type": "sha256"}, testResources(), manifest.Options{}, ErrMalformedStatement},
		{"unknown hash", map[string]any{"method": "files", "hash_type": "md5"}, testResources(), manifest.Options{}, ErrMalformedStatement},
		{"no method", map[string]any{"hash_type": "sha256"}, testResources(), manifest.Options{}, ErrMalformedStatement},
		{"empty resources", nil, []manifest.Resource{}, manifest.Options{}, ErrMalformedStatement},
		{"dot-dot", nil, []manifest.Resource{{Name: "../etc/passwd", Algorithm: "sha256", Digest: h}}, manifest.Options{}, ErrMalformedStatement},
		{"absolute", nil, []manifest.Resource{{Name: "/etc/passwd", Algorithm: "sha256", Digest: h}}, manifest.Options{}, ErrMalformedStatement},
		{"duplicate", nil, []manifest.Resource{{Name: "a", Algorithm: "sha256", Digest: h}, {Name: "a", Algorithm: "sha256", Digest: h}}, manifest.Options{}, ErrMalformedStatement},
		{"dot with others", nil, []manifest.Resource{{Name: ".", Algorithm: "sha256", Digest: h}, {Name: "a", Algorithm: "sha256", Digest: h}}, manifest.Options{}, ErrMalformedStatement},
		{"digest not hex", nil, []manifest.Resource{{Name: "a", Algorithm: "sha256", Digest: strings.Repeat("zz", 32)}}, manifest.Options{}, ErrMalformedStatement},
		{"no algorithm", nil, []manifest.Resource{{Name: "a", Digest: h}}, manifest.Options{}, ErrMalformedStatement},
		{"bad shard name", map[string]any{"method": "shards", "hash_type": "sha256"}, []manifest.Resource{{Name: "w.bin", Algorithm: "sha256", Digest: h}}, manifest.Options{}, ErrMalformedStatement},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, _ := signed(t, statement(t, "m", []manifest.Resource{{Name: "a", Algorithm: "sha256", Digest: h}}, nil))
			// replace the statement after signing: only parsing is tested
			b = mutatePayload(t, b, func(st map[string]any) {
				st["predicate"] = map[string]any{"serialization": c.ser, "resources": c.res}
				if c.ser == nil {
					st["predicate"].(map[string]any)["serialization"] = map[string]any{"method": "files", "hash_type": "sha256"}
				}
				if d, err := manifest.RootDigest(c.res); err == nil {
					st["subject"].([]any)[0].(map[string]any)["digest"] = map[string]any{"sha256": hex.EncodeToString(d)}
				}
			})
			sig, err := ParseBundle(b)
			if c.err != nil {
				wantKind(t, err, c.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sig.Options.Method != c.want.Method || sig.Options.Hash != c.want.Hash || sig.Options.ShardSize != c.want.ShardSize ||
				sig.Options.AllowSymlinks != c.want.AllowSymlinks || strings.Join(sig.Options.IgnorePaths, ",") != strings.Join(c.want.IgnorePaths, ",") {
				t.Errorf("options %+v, want %+v", sig.Options, c.want)
			}
		})
	}
}

func TestParseStrict(t *testing.T) {
	res := testResources()
	b, _ := signed(t, statement(t, "m", res, nil))
	for name, c := range map[string]struct {
		f    func(b map[string]any)
		kind error
	}{
		"no media type":     {func(b map[string]any) { delete(b, "mediaType") }, ErrMediaType},
		"no envelope":       {func(b map[string]any) { delete(b, "dsseEnvelope") }, ErrMalformedBundle},
		"no material":       {func(b map[string]any) { delete(b, "verificationMaterial") }, ErrMalformedBundle},
		"empty material":    {func(b map[string]any) { b["verificationMaterial"] = map[string]any{} }, ErrMalformedBundle},
		"message signature": {func(b map[string]any) { b["messageSignature"] = map[string]any{"signature": "AA=="} }, ErrMalformedBundle},
		"no signatures":     {func(b map[string]any) { envelope(b)["signatures"] = []any{} }, ErrMalformedBundle},
		"two signatures": {func(b map[string]any) {
			s := envelope(b)["signatures"].([]any)
			envelope(b)["signatures"] = append(s, s[0])
		}, ErrMalformedBundle},
		"empty signature":    {func(b map[string]any) { envelope(b)["signatures"].([]any)[0].(map[string]any)["sig"] = "" }, ErrMalformedBundle},
		"bad base64 payload": {func(b map[string]any) { envelope(b)["payload"] = "!!!" }, ErrMalformedBundle},
		"no payload type":    {func(b map[string]any) { delete(envelope(b), "payloadType") }, ErrPayloadType},
		"payload not json":   {func(b map[string]any) { envelope(b)["payload"] = "bm90IGpzb24=" }, ErrMalformedStatement},
		"two materials": {func(b map[string]any) {
			b["verificationMaterial"].(map[string]any)["certificate"] = map[string]any{"rawBytes": ""}
		}, ErrMalformedBundle},
		"bad certificate": {func(b map[string]any) {
			b["verificationMaterial"] = map[string]any{"x509CertificateChain": map[string]any{"certificates": []any{map[string]any{"rawBytes": "AAAA"}}}}
		}, ErrMalformedBundle},
		"empty chain": {func(b map[string]any) {
			b["verificationMaterial"] = map[string]any{"x509CertificateChain": map[string]any{"certificates": []any{}}}
		}, ErrMalformedBundle},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseBundle(mutateBundle(t, b, c.f))
			wantKind(t, err, c.kind)
		})
	}
	t.Run("no subject", func(t *testing.T) {
		_, err := ParseBundle(mutatePayload(t, b, func(st map[string]any) { st["subject"] = []any{} }))
		wantKind(t, err, ErrSubject, "0 subjects")
	})
	t.Run("no predicate", func(t *testing.T) {
		_, err := ParseBundle(mutatePayload(t, b, func(st map[string]any) { delete(st, "predicate") }))
		wantKind(t, err, ErrMalformedStatement)
	})
	t.Run("subject without sha256", func(t *testing.T) {
		_, err := ParseBundle(mutatePayload(t, b, func(st map[string]any) {
			st["subject"].([]any)[0].(map[string]any)["digest"] = map[string]any{"sha512": "00"}
		}))
		wantKind(t, err, ErrSubject)
	})
	t.Run("trailing data", func(t *testing.T) {
		_, err := ParseBundle(append(append([]byte{}, b...), []byte(` {}`)...))
		wantKind(t, err, ErrMalformedBundle, "trailing")
	})
	t.Run("too large", func(t *testing.T) {
		_, err := ParseBundle(make([]byte, MaxBundleSize+1))
		wantKind(t, err, ErrMalformedBundle)
	})
}

// TestPAE pins both encodings; the v0.2 one against CPython's repr().
func TestPAE(t *testing.T) {
	if got := string(pae("a/b", []byte("xyz"))); got != "DSSEv1 3 a/b 3 xyz" {
		t.Errorf("pae %q", got)
	}
	for in, want := range map[string]string{
		"a'b":                    `b"a'b"`,
		"a'b\"":                  `b'a\'b"'`,
		"\x00\n\t\r\\\x7f\x80 ~": `b'\x00\n\t\r\\\x7f\x80 ~'`,
		"{\"k\": \"v\"}\n":       `b'{"k": "v"}\n'`,
		"":                       `b''`,
	} {
		if got := string(appendPyBytesRepr(nil, []byte(in))); got != want {
			t.Errorf("repr(%q) = %s, want %s", in, got, want)
		}
	}
	if got := string(paeV02("t", []byte("ab"))); got != "DSSEV1 1 t 2 b'ab'" {
		t.Errorf("paeV02 %q", got)
	}
}

// TestAPIMisuse: the policies cannot be left out.
func TestAPIMisuse(t *testing.T) {
	if _, err := NewVerifier(nil); err == nil {
		t.Error("NewVerifier(nil)")
	}
	key := vectorKey(t)
	if _, err := NewVerifier(WithPublicKey(key), func(c *config) error { return WithCertificateChain(vectorCA(t))(c) }); err == nil {
		t.Error("two trust policies")
	}
	if _, err := NewVerifier(WithPublicKey(key), WithTrustedRoot(publicGoodRoot)); err == nil {
		t.Error("trusted root with a key")
	}
	v, _ := NewVerifier(WithPublicKey(key))
	vec := findVector(t, "v1.1.0-elliptic-key")
	if _, err := v.VerifyBundle(vec.sig(t), nil); err == nil || errors.Is(err, ErrVerification) {
		t.Errorf("nil artifact policy: %v", err)
	}
	if _, err := v.Verify(nil, WithoutArtifactUnsafe()); err == nil {
		t.Error("nil signature")
	}
	r, err := v.VerifyBundle(vec.sig(t), WithoutArtifactUnsafe())
	if err != nil || r.ArtifactChecked {
		t.Errorf("%v %+v", err, r)
	}
	// configuration errors are not verification failures
	for name, trust := range map[string]TrustPolicy{
		"not a key":     WithPublicKey([]byte("hello")),
		"rsa":           WithPublicKey(rsaPub),
		"cert as key":   WithPublicKey(vectorCA(t)),
		"no anchors":    WithCertificateChain(),
		"bad anchors":   WithCertificateChain([]byte("x")),
		"no identity":   WithIdentity(Identity{Issuer: "x"}),
		"no issuer":     WithIdentity(Identity{Subject: "x"}),
		"bad regexp":    WithIdentity(Identity{SubjectRegexp: "(", Issuer: "x"}),
		"bad issuer re": WithIdentity(Identity{Subject: "x", IssuerRegexp: "["}),
	} {
		if _, err := NewVerifier(trust); err == nil || errors.Is(err, ErrVerification) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := NewVerifier(WithIdentity(Identity{Subject: "x", Issuer: "y"}), WithTrustedRoot([]byte("{}"))); err == nil {
		t.Error("empty trusted root accepted")
	}
	if _, err := DefaultTrustedRoot(); err != nil {
		t.Fatal(err)
	}
}

// rsaPub is an RSA key: hallmark, like model_signing, takes ECDSA and
// Ed25519 keys only.
var rsaPub = []byte(`-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuzVkb02IDK++ycmkElWP
Sdux5i7mZe2Co+kdsWdWXwtPN0RQg8u9b/UCOlhsTgl+K1z4ee8hyzZTiy13Hr3E
OL/jWwEpzYAhkULv7wEIhNZIJkZL2w5ygnltVbC066zzMyXmOHBUkVYLxLR4jDyp
Z9F8iVfxa2ee6XqJ5kFCfaxHuXJ26vCJiL5TxNW6oMuGg6JPbRRFcoFfSOq0rjo8
pLrPmoDnq/Lj//3L2TcixwvB/MskHej6NanE6oDv3DnDdTU71pt/wZsolEdSI9M6
f1R7807mySOiCsTG/OyjlJ9Ti/tpmTi5SbHpaISkHH6M5yciKPOeCJVoxRm16a04
TQIDAQAB
-----END PUBLIC KEY-----
`)
