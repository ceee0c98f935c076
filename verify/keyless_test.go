package verify

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// A fake Sigstore (Fulcio, Rekor, TSA) living in the test; its validity
// windows are short (Fulcio CA now-5h…now+1h, Rekor now±1h, leaf
// now…now+10min), so every fixture is made at test time.
type virtual struct {
	vs       *ca.VirtualSigstore
	rootJSON []byte // trusted_root.json for it, without CT logs (its leaves carry no SCT)
}

func newVirtual(t testing.TB) *virtual {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	// VirtualSigstore.RekorLogs sets ID to the hex string of the log ID;
	// after a JSON round trip the log would be looked up under the wrong
	// key. Use the raw bytes.
	rekor := map[string]*root.TransparencyLog{}
	for id, l := range vs.RekorLogs() {
		c := *l
		raw, err := hex.DecodeString(id)
		if err != nil {
			t.Fatal(err)
		}
		c.ID = raw
		rekor[id] = &c
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(),
		map[string]*root.TransparencyLog{}, vs.TimestampingAuthorities(), rekor)
	if err != nil {
		t.Fatal(err)
	}
	js, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return &virtual{vs: vs, rootJSON: js}
}

type attestOpts struct {
	integratedTime time.Time // default now+1min
	noTlog         bool      // tlogEntries: []
	noSET          bool      // no inclusion promise (integrated time does not count)
	noTSA          bool      // no RFC 3161 timestamp
}

// attest signs stmt as identity/issuer and returns the bundle JSON as
// model_signing's sigstore method writes it.
func (v *virtual) attest(t testing.TB, identity, issuer string, stmt []byte, o attestOpts) []byte {
	t.Helper()
	if o.integratedTime.IsZero() {
		o.integratedTime = time.Now().Add(time.Minute)
	}
	ent, err := v.vs.AttestAtTime(identity, issuer, stmt, o.integratedTime, true)
	if err != nil {
		t.Fatal(err)
	}
	vc, err := ent.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ent.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	env := sc.EnvelopeContent().RawEnvelope()
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	vm := &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_Certificate{
			Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw},
		},
		TlogEntries: []*protorekor.TransparencyLogEntry{},
	}
	if !o.noTlog {
		entries, err := ent.TlogEntries()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			tle := proto.Clone(e.TransparencyLogEntry()).(*protorekor.TransparencyLogEntry)
			tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
			if !o.noSET {
				// tlog.Entry keeps the SET private; sign a new one.
				set, err := v.vs.RekorSignPayload(tlog.RekorPayload{
					Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
					IntegratedTime: tle.IntegratedTime,
					LogIndex:       tle.LogIndex,
					LogID:          hex.EncodeToString(tle.LogId.KeyId),
				})
				if err != nil {
					t.Fatal(err)
				}
				tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
			}
			vm.TlogEntries = append(vm.TlogEntries, tle)
		}
	}
	if !o.noTSA {
		tss, err := ent.Timestamps()
		if err != nil {
			t.Fatal(err)
		}
		vm.TimestampVerificationData = &protobundle.TimestampVerificationData{}
		for _, ts := range tss {
			vm.TimestampVerificationData.Rfc3161Timestamps = append(vm.TimestampVerificationData.Rfc3161Timestamps,
				&protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
		}
	}
	pb := &protobundle.Bundle{
		MediaType:            BundleMediaType,
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     payload,
			PayloadType: env.PayloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig}},
		}},
	}
	js, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

const (
	vIdentity = "builder@example.com"
	vIssuer   = "https://oidc.example.com"
)

func (v *virtual) verifier(t testing.TB, id Identity) *Verifier {
	t.Helper()
	ver, err := NewVerifier(WithIdentity(id), WithTrustedRoot(v.rootJSON))
	if err != nil {
		t.Fatal(err)
	}
	return ver
}

// TestKeylessVirtual signs OMS statements with a fake Sigstore at test time
// and verifies them offline against its trusted_root.json.
func TestKeylessVirtual(t *testing.T) {
	v := newVirtual(t)
	res := testResources()
	stmt := statement(t, "my-model", res, nil)
	good := Identity{Subject: vIdentity, Issuer: vIssuer}

	t.Run("valid", func(t *testing.T) {
		b := v.attest(t, vIdentity, vIssuer, stmt, attestOpts{})
		r, err := v.verifier(t, good).VerifyBundle(b, WithResources(res))
		if err != nil {
			t.Fatal(err)
		}
		if r.Method != MethodKeyless || r.Identity != vIdentity || r.Issuer != vIssuer || r.SubjectName != "my-model" || !r.ArtifactChecked {
			t.Errorf("%+v", r)
		}
		kinds := map[string]bool{}
		for _, ts := range r.Timestamps {
			kinds[ts.Kind] = true
		}
		if !kinds["Tlog"] || !kinds["TimestampAuthority"] {
			t.Errorf("timestamps %+v", r.Timestamps)
		}
		// regexps, anchored
		if _, err := v.verifier(t, Identity{SubjectRegexp: `.*@example\.com`, IssuerRegexp: `https://oidc\..*`}).VerifyBundle(b, WithResources(res)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("valid with only the integrated time", func(t *testing.T) {
		b := v.attest(t, vIdentity, vIssuer, stmt, attestOpts{noTSA: true})
		if _, err := v.verifier(t, good).VerifyBundle(b, WithResources(res)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("valid with only an RFC 3161 timestamp", func(t *testing.T) {
		b := v.attest(t, vIdentity, vIssuer, stmt, attestOpts{noSET: true})
		if _, err := v.verifier(t, good).VerifyBundle(b, WithResources(res)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("trusted material", func(t *testing.T) {
		tr, err := ParseTrustedRoot(v.rootJSON)
		if err != nil {
			t.Fatal(err)
		}
		ver, err := NewVerifier(WithIdentity(good), WithTrustedMaterial(tr))
		if err != nil {
			t.Fatal(err)
		}
		b := v.attest(t, vIdentity, vIssuer, stmt, attestOpts{})
		if _, err := ver.VerifyBundle(b, WithResources(res)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("client trust config", func(t *testing.T) {
		cfg := []byte(`{"mediaType":"application/vnd.dev.sigstore.clienttrustconfig.v0.1+json","trustedRoot":` + string(v.rootJSON) + `}`)
		ver, err := NewVerifier(WithIdentity(good), WithTrustedRoot(cfg))
		if err != nil {
			t.Fatal(err)
		}
		b := v.attest(t, vIdentity, vIssuer, stmt, attestOpts{})
		if _, err := ver.VerifyBundle(b, WithResources(res)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong identity", func(t *testing.T) {
		b := v.attest(t, "intruder@example.org", vIssuer, stmt, attestOpts{})
		_, err := v.verifier(t, good).VerifyBundle(b, WithResources(res))
		wantKind(t, err, ErrWrongIdentity, "intruder@example.org", vIdentity)
		_, err = v.verifier(t, Identity{SubjectRegexp: `.*@example\.com`, Issuer: vIssuer}).VerifyBundle(b, WithResources(res))
		wantKind(t, err, ErrWrongIdentity, "intruder@example.org")
	})
	t.Run("wrong issuer", func(t *testing.T) {
		b := v.attest(t, vIdentity, "https://evil.example.net", stmt, attestOpts{})
		_, err := v.verifier(t, good).VerifyBundle(b, WithResources(res))
		wantKind(t, err, ErrWrongIssuer, "https://evil.example.net", vIssuer)
	})
	t.Run("expired certificate", func(t *testing.T) {
		// The leaf is valid for 10 minutes from now; the log says it was
		// integrated 30 minutes from now.
		b := v.attest(t, vIdentity, vIssuer, stmt, attestOpts{integratedTime: time.Now().Add(30 * time.Minute), noTSA: true})
		_, err := v.verifier(t, good).VerifyBundle(b, WithResources(res))
		wantKind(t, err, ErrCertificateValidity, "integrated time")
	})
	t.Run("missing tlog entry", func(t *testing.T) {
		b := v.attest(t, vIdentity, vIssuer, stmt, attestOpts{noTlog: true})
		_, err := v.verifier(t, good).VerifyBundle(b, WithResources(res))
		wantKind(t, err, ErrNoTlogEntry)
	})
	t.Run("no timestamp", func(t *testing.T) {
		b := v.attest(t, vIdentity, vIssuer, stmt, attestOpts{noSET: true, noTSA: true})
		_, err := v.verifier(t, good).VerifyBundle(b, WithResources(res))
		wantKind(t, err, ErrNoTimestamp)
	})
	t.Run("another Sigstore", func(t *testing.T) {
		other := newVirtual(t)
		b := other.attest(t, vIdentity, vIssuer, stmt, attestOpts{})
		_, err := v.verifier(t, good).VerifyBundle(b, WithResources(res))
		wantKind(t, err, ErrNoTlogEntry)
	})
	t.Run("tampered payload", func(t *testing.T) {
		b := v.attest(t, vIdentity, vIssuer, stmt, attestOpts{})
		b = mutatePayload(t, b, func(st map[string]any) { st["subject"].([]any)[0].(map[string]any)["name"] = "other" })
		_, err := v.verifier(t, good).VerifyBundle(b, WithResources(res))
		wantKind(t, err, ErrTlogMismatch)
	})
	t.Run("model differs", func(t *testing.T) {
		b := v.attest(t, vIdentity, vIssuer, stmt, attestOpts{})
		_, err := v.verifier(t, good).VerifyBundle(b, WithResources(res[:1]))
		wantKind(t, err, ErrResourceMismatch, `1 missing ("weights/model.safetensors")`)
	})
	t.Run("v0.2 predicate", func(t *testing.T) {
		subjects := []any{}
		for _, r := range res {
			subjects = append(subjects, map[string]any{"name": r.Name, "digest": map[string]any{"sha256": r.Digest},
				"annotations": map[string]any{"actual_hash_algorithm": "file-sha256"}})
		}
		v02, _ := json.Marshal(map[string]any{"_type": StatementType, "subject": subjects,
			"predicateType": PredicateTypeV01, "predicate": map[string]any{"unused": "Unused, just passed due to API requirements"}})
		b := v.attest(t, vIdentity, vIssuer, v02, attestOpts{})
		r, err := v.verifier(t, good).VerifyBundle(b, WithResources(res))
		if err != nil {
			t.Fatal(err)
		}
		if r.RootDigest != "" || r.PredicateType != PredicateTypeV01 {
			t.Errorf("%+v", r)
		}
	})
}
