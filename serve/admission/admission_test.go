package admission

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func extraRules() Rules {
	r := DefaultRules()
	r.Extra = []PathRule{{Group: "models.example.com", Kind: "ModelServer",
		Paths: []string{"$.spec.base.image", "$.spec.adapters[*].uri", "$.spec['weights.ref']"}}}
	return r
}

func denyRules() Rules {
	r := DefaultRules()
	r.NonOCI = "deny"
	return r
}

func TestExtractTestdata(t *testing.T) {
	const digestA = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"
	const digestB = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"
	const digestC = "sha256:1c3e2b9f1d1a7a0a9c5d4b2e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a"
	tests := []struct {
		file     string
		rules    Rules
		want     []Ref
		warnings []string // exact
		err      string   // substring of Extract's error
	}{
		{
			file: "pod-image-volume.json", rules: DefaultRules(),
			want: []Ref{
				{"oci://ghcr.io/acme/models/llama-3-8b:q4", "spec.volumes[2].image.reference", "ghcr.io/acme/models/llama-3-8b:q4"},
				{"oci://registry.example.com:5000/tok@" + digestA, "spec.volumes[3].image.reference", "registry.example.com:5000/tok@" + digestA},
			},
		},
		{
			file: "pod-image-volume.json", rules: func() Rules { r := DefaultRules(); r.PodImageVolumes = false; return r }(),
		},
		{
			file: "pod-init-container.json", rules: DefaultRules(),
			want: []Ref{
				{"oci://quay.io/acme/labels:2024-06", "metadata.annotations[hallmark.dev/models]", "oci://quay.io/acme/labels:2024-06"},
				{"oci://huggingface.co/acme/encoder:latest", "metadata.annotations[hallmark.dev/models]", "huggingface.co/acme/encoder"},
				{"oci://docker.io/acme/resnet50-weights:latest", "spec.initContainers[0].image", "acme/resnet50-weights"},
			},
			warnings: []string{
				`metadata.annotations[hallmark.dev/models]: "s3://acme-models/encoder" is not an OCI reference; hallmark did not check it (nonOCI: allow)`,
				`metadata.annotations[hallmark.dev/model-containers] names container "missing-one", which the object does not have`,
			},
		},
		{
			file: "pod-init-container.json", rules: denyRules(),
			err: `metadata.annotations[hallmark.dev/models]: "s3://acme-models/encoder" is not an OCI reference, and only OCI models are allowed (nonOCI: deny)`,
		},
		{
			file: "deployment.json", rules: DefaultRules(),
			want: []Ref{
				{"oci://ghcr.io/acme/reranker@" + digestB, "spec.template.metadata.annotations[hallmark.dev/models]", "oci://ghcr.io/acme/reranker@" + digestB},
				{"oci://localhost:5000/onnx/minilm:latest", "spec.template.spec.volumes[0].image.reference", "localhost:5000/onnx/minilm"},
				{"oci://ghcr.io/acme/bge-small@" + digestC, "spec.template.spec.initContainers[0].image", "ghcr.io/acme/bge-small:v1.5@" + digestC},
			},
		},
		{
			file: "cronjob.json", rules: DefaultRules(),
			want: []Ref{
				{"oci://docker.io/ollama/llama3:latest", "spec.jobTemplate.spec.template.spec.volumes[0].image.reference", "ollama/llama3"},
				{"oci://Registry.Internal/eval/judge:7b", "spec.jobTemplate.spec.template.spec.initContainers[0].image", "Registry.Internal/eval/judge:7b"},
			},
		},
		{
			file: "isvc-modelcar.json", rules: DefaultRules(),
			want: []Ref{
				{"oci://quay.io/acme/granite-3b-instruct:1.1", "spec.predictor.model.storageUri", "oci://quay.io/acme/granite-3b-instruct:1.1"},
				{"oci://quay.io/acme/granite-3b-instruct:1.2", "spec.canary[0].predictor.model.storageUri", "oci+native://quay.io/acme/granite-3b-instruct:1.2"},
				{"oci://ghcr.io/acme/tokenizer:3", "spec.transformer.containers[0].env[1].value", "oci+fetch://ghcr.io/acme/tokenizer:3"},
			},
		},
		{
			file: "isvc-modelcar.json", rules: func() Rules { r := DefaultRules(); r.KServe = false; return r }(),
		},
		{
			file: "isvc-oldstyle.json", rules: DefaultRules(),
			want: []Ref{
				{"oci://registry.example.com/models/iris:v2", "spec.predictor.sklearn.storageUri", "oci://registry.example.com/models/iris:v2"},
				{"oci://registry.example.com/models/iris-extra:v2", "spec.predictor.storageUris[0].uri", "oci://registry.example.com/models/iris-extra:v2"},
				{"oci://registry.example.com/models/vocab:1", "spec.predictor.volumes[0].image.reference", "registry.example.com/models/vocab:1"},
				{"oci://registry.example.com/models/iris-explainer:v2", "spec.explainer.art.storageUri", "OCI://registry.example.com/models/iris-explainer:v2"},
			},
		},
		{
			file: "isvc-s3.json", rules: DefaultRules(),
			want: []Ref{
				{"oci://ghcr.io/acme/flowers-onnx:1", "spec.predictor.model.storageUri", "oci://ghcr.io/acme/flowers-onnx:1"},
			},
			warnings: []string{`spec.predictor.tensorflow.storageUri: "gs://kfserving-examples/models/tensorflow/flowers" is not an OCI reference; hallmark did not check it (nonOCI: allow)`},
		},
		{
			file: "isvc-s3.json", rules: denyRules(),
			err: `spec.predictor.tensorflow.storageUri: "gs://kfserving-examples/models/tensorflow/flowers" is not an OCI reference, and only OCI models are allowed (nonOCI: deny)`,
		},
		{
			file: "localmodelcache.json", rules: DefaultRules(),
			want: []Ref{{"oci://ghcr.io/acme/llama-3.1-8b:instruct", "spec.sourceModelUri", "oci://ghcr.io/acme/llama-3.1-8b:instruct"}},
		},
		{
			file: "trainedmodel.json", rules: DefaultRules(),
			want: []Ref{{"oci://ghcr.io/acme/sklearn/model1:3", "spec.model.storageUri", "oci://ghcr.io/acme/sklearn/model1:3"}},
		},
		{file: "clusterstoragecontainer.json", rules: denyRules()},
		{
			file: "llmisvc.json", rules: DefaultRules(),
			want: []Ref{
				{"oci://quay.io/acme/qwen2.5-7b:latest", "spec.model.uri", "oci://quay.io/acme/qwen2.5-7b:latest"},
				{"oci://quay.io/acme/qwen-chat-lora:2", "spec.model.lora.adapters[1].uri", "oci://quay.io/acme/qwen-chat-lora:2"},
				{"oci://quay.io/acme/qwen-draft:0.5b", "spec.prefill.template.initContainers[0].image", "quay.io/acme/qwen-draft:0.5b"},
			},
			warnings: []string{`spec.model.lora.adapters[0].uri: "hf://acme/qwen-sql-lora" is not an OCI reference; hallmark did not check it (nonOCI: allow)`},
		},
		{
			file: "extra-kind.json", rules: extraRules(),
			want: []Ref{
				{"oci://ghcr.io/acme/ranker-base:4", "spec.base.image", "ghcr.io/acme/ranker-base:4"},
				{"oci://ghcr.io/acme/ranker-lora-a:1", "spec.adapters[0].uri", "oci://ghcr.io/acme/ranker-lora-a:1"},
				{"oci://ghcr.io/acme/ranker-head:1", "spec[weights.ref][0]", "oci://ghcr.io/acme/ranker-head:1"},
			},
			warnings: []string{`spec.adapters[2].uri: "s3://acme/ranker-lora-b" is not an OCI reference; hallmark did not check it (nonOCI: allow)`},
		},
		{file: "extra-kind.json", rules: DefaultRules()}, // no rule for the kind: nothing
		{file: "delete.json", rules: denyRules()},
	}
	for _, tc := range tests {
		name := tc.file
		if tc.rules.NonOCI == "deny" {
			name += "/deny"
		}
		t.Run(name, func(t *testing.T) {
			r, err := ParseReview(load(t, tc.file))
			if err != nil {
				t.Fatalf("ParseReview: %v", err)
			}
			refs, warnings, err := Extract(r, tc.rules)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				var d *DenyError
				if !errors.As(err, &d) {
					t.Errorf("err is %T, want *DenyError", err)
				}
				if refs != nil {
					t.Errorf("refs with an error: %v", refs)
				}
				return
			}
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if !reflect.DeepEqual(refs, tc.want) {
				t.Errorf("refs:\n got %#v\nwant %#v", refs, tc.want)
			}
			if !reflect.DeepEqual(warnings, tc.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", warnings, tc.warnings)
			}
		})
	}
}

func TestParseReviewFields(t *testing.T) {
	r, err := ParseReview(load(t, "deployment.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := Review{
		APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview",
		UID: "b5c1a8b2-3f2d-4c5e-9d61-7a1e2f3b4c5d", Operation: "UPDATE", DryRun: true,
		ObjectKind: GroupVersionKind{"apps", "v1", "Deployment"},
		Resource:   GroupVersionResource{"apps", "v1", "deployments"},
		Namespace:  "search", Name: "embedder", User: "alice@example.com",
	}
	got := *r
	if !json.Valid(got.Object) || !strings.Contains(string(got.Object), `"kind": "Deployment"`) {
		t.Errorf("Object = %.80s", got.Object)
	}
	if !json.Valid(got.OldObject) || !strings.Contains(string(got.OldObject), `"name": "embedder"`) || r.Old() == nil || string(r.Old().Object) != string(got.OldObject) {
		t.Errorf("OldObject = %.80s", got.OldObject)
	}
	got.Object, got.OldObject = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	d, err := ParseReview(load(t, "delete.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Object != nil || d.Operation != "DELETE" {
		t.Errorf("delete: Object %q, Operation %q", d.Object, d.Operation)
	}
}

func TestParseReviewErrors(t *testing.T) {
	const okReq = `"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE"`
	tests := []struct {
		name string
		body []byte
		err  string // exact
	}{
		{"v1beta1", load(t, "v1beta1.json"), "admission.k8s.io/v1beta1 is not supported: configure admissionReviewVersions: [v1]"},
		{"malformed", load(t, "malformed.json"), "not an AdmissionReview: invalid JSON at byte 243"},
		{"missing uid", load(t, "missing-uid.json"), "request.uid is missing"},
		{"empty", nil, "not an AdmissionReview: empty body"},
		{"garbage", []byte("\x00{"), "not an AdmissionReview: invalid JSON at byte 1"},
		{"array", []byte(`[]`), "not an AdmissionReview: a JSON array, not an object"},
		{"null", []byte(`null`), "not an AdmissionReview: null"},
		{"other kind", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"Pod"}`), `not an AdmissionReview: kind "Pod"`},
		{"other version", []byte(`{"apiVersion":"v1","kind":"AdmissionReview"}`), `not an AdmissionReview: apiVersion "v1", want admission.k8s.io/v1`},
		{"no request", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), "not an AdmissionReview: request is missing or not an object"},
		{"response only", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"x","allowed":true}}`), "not an AdmissionReview: request is missing or not an object"},
		{"uid number", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":5}}`), "request.uid is not a string"},
		{"long uid", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"` + strings.Repeat("u", 300) + `"}}`), "request.uid is longer than 256 bytes"},
		{"bad operation", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"PATCH"}}`), `request.operation "PATCH" is not CREATE, UPDATE, DELETE or CONNECT`},
		{"no kind", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE"}}`), "request.kind is missing"},
		{"bad dryRun", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{` + okReq + `,"dryRun":"yes"}}`), "request.dryRun is not a boolean"},
		{"too large", append([]byte(`{"apiVersion":"admission.k8s.io/v1",`), make([]byte, MaxReviewSize)...), "AdmissionReview is larger than 8 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseReview(tc.body)
			if err == nil || err.Error() != tc.err {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if r != nil {
				t.Errorf("review with an error")
			}
		})
	}
	// Member names are exact: "UID" is not "uid".
	if _, err := ParseReview([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"UID":"u","operation":"CREATE"}}`)); err == nil || err.Error() != "request.uid is missing" {
		t.Errorf("UID: %v", err)
	}
}

// review builds a CREATE review of an object of the given kind.
func review(t *testing.T, group, kind, object string) *Review {
	t.Helper()
	body := fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1",
		"kind":{"group":%q,"version":"v1","kind":%q},"resource":{"group":%q,"version":"v1","resource":"x"},
		"operation":"CREATE","object":%s}}`, group, kind, group, object)
	r, err := ParseReview([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestExtractEdgeCases(t *testing.T) {
	t.Run("wrong type fails closed", func(t *testing.T) {
		r := review(t, "", "Pod", `{"spec":{"volumes":{"name":"m"}}}`)
		_, _, err := Extract(r, DefaultRules())
		if err == nil || err.Error() != "cannot read spec.volumes: a JSON object, not a list" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("reference not a string", func(t *testing.T) {
		r := review(t, "", "Pod", `{"spec":{"volumes":[{"image":{"reference":7}}]}}`)
		_, _, err := Extract(r, DefaultRules())
		if err == nil || err.Error() != "cannot read spec.volumes[0].image.reference: not a string" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("object not an object", func(t *testing.T) {
		r := review(t, "", "Pod", `"pod"`)
		_, _, err := Extract(r, DefaultRules())
		if err == nil || err.Error() != "request.object: a JSON string, not an object" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("malformed object", func(t *testing.T) {
		r := &Review{UID: "u", Operation: "CREATE", ObjectKind: GroupVersionKind{"", "v1", "Pod"}, Object: json.RawMessage(`{"spec":`)}
		_, _, err := Extract(r, DefaultRules())
		if err == nil || !strings.HasPrefix(err.Error(), "request.object: invalid JSON") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing object on create", func(t *testing.T) {
		r := review(t, "", "Pod", `null`)
		_, _, err := Extract(r, DefaultRules())
		if err == nil || err.Error() != "request.object is missing" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unparseable references warn", func(t *testing.T) {
		r := review(t, "", "Pod", `{"spec":{"volumes":[
			{"image":{"reference":"Ghcr.io/ok/model:1"}},
			{"image":{"reference":"docker.io/Acme/model"}},
			{"image":{"reference":"ghcr.io/a/b:tag with space"}},
			{"image":{"reference":"ghcr.io/a/b@sha256:abc"}},
			{"image":{"reference":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}},
			{"image":{"reference":""}}]}}`)
		refs, warnings, err := Extract(r, DefaultRules())
		if err != nil {
			t.Fatal(err)
		}
		if len(refs) != 1 || refs[0].Ref != "oci://Ghcr.io/ok/model:1" {
			t.Errorf("refs = %v", refs)
		}
		want := []string{
			`spec.volumes[1].image.reference: "docker.io/Acme/model" is not a valid image reference (repository name must be lowercase); hallmark did not check it`,
			`spec.volumes[2].image.reference: "ghcr.io/a/b:tag with space" is not a valid image reference (invalid reference format); hallmark did not check it`,
			`spec.volumes[3].image.reference: "ghcr.io/a/b@sha256:abc" is not a valid image reference (invalid reference format); hallmark did not check it`,
			`spec.volumes[4].image.reference: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" is not a valid image reference (a 64-hex image ID, not a reference); hallmark did not check it`,
		}
		if !reflect.DeepEqual(warnings, want) {
			t.Errorf("warnings:\n got %q\nwant %q", warnings, want)
		}
	})
	t.Run("subresources", func(t *testing.T) {
		pod := `{"spec":{"volumes":[{"image":{"reference":"ghcr.io/a/m:1"}}]}}`
		r := review(t, "", "Pod", pod)
		r.Operation, r.SubResource = "UPDATE", "status"
		if refs, _, err := Extract(r, DefaultRules()); err != nil || refs != nil {
			t.Errorf("status: %v %v", refs, err)
		}
		r.SubResource = "ephemeralcontainers"
		r.Object = json.RawMessage(`{"metadata":{"annotations":{"hallmark.dev/model-containers":"dbg"}},
			"spec":{"ephemeralContainers":[{"name":"dbg","image":"ghcr.io/a/tools:1"}]}}`)
		refs, _, err := Extract(r, DefaultRules())
		if err != nil || len(refs) != 1 || refs[0].Path != "spec.ephemeralContainers[0].image" {
			t.Errorf("ephemeralcontainers: %v %v", refs, err)
		}
		r.Operation, r.SubResource = "CONNECT", "exec"
		if refs, _, err := Extract(r, DefaultRules()); err != nil || refs != nil {
			t.Errorf("connect: %v %v", refs, err)
		}
	})
	t.Run("kserve pod annotation", func(t *testing.T) {
		r := review(t, "apps", "Deployment", `{"spec":{"template":{"metadata":{"annotations":{
			"internal.serving.kserve.io/storage-initializer-sourceuri":"oci://quay.io/acme/m:1"}},"spec":{}}}}`)
		refs, _, err := Extract(r, DefaultRules())
		want := []Ref{{"oci://quay.io/acme/m:1", "spec.template.metadata.annotations[internal.serving.kserve.io/storage-initializer-sourceuri]", "oci://quay.io/acme/m:1"}}
		if err != nil || !reflect.DeepEqual(refs, want) {
			t.Errorf("got %v %v", refs, err)
		}
	})
	t.Run("kserve component annotations and storage spec", func(t *testing.T) {
		r := review(t, "serving.kserve.io", "InferenceService", `{"spec":{"predictor":{
			"annotations":{"hallmark.dev/model-containers":"weights"},
			"initContainers":[{"name":"weights","image":"ghcr.io/acme/w:1"}],
			"model":{"modelFormat":{"name":"sklearn"},"storage":{"key":"localMinIO","path":"sklearn/model.joblib"}},
			"workerSpec":{"volumes":[{"name":"x","image":{"reference":"ghcr.io/acme/shard:1"}}]}}}}`)
		refs, warnings, err := Extract(r, DefaultRules())
		if err != nil {
			t.Fatal(err)
		}
		want := []Ref{
			{"oci://ghcr.io/acme/w:1", "spec.predictor.initContainers[0].image", "ghcr.io/acme/w:1"},
			{"oci://ghcr.io/acme/shard:1", "spec.predictor.workerSpec.volumes[0].image.reference", "ghcr.io/acme/shard:1"},
		}
		if !reflect.DeepEqual(refs, want) {
			t.Errorf("refs = %v", refs)
		}
		if len(warnings) != 1 || !strings.HasPrefix(warnings[0], `spec.predictor.model.storage: "storage key \"localMinIO\" path \"sklearn/model.joblib\"" is not an OCI reference`) {
			t.Errorf("warnings = %q", warnings)
		}
	})
	t.Run("refs cap", func(t *testing.T) {
		var vols []string
		for i := range MaxRefs + 1 {
			vols = append(vols, fmt.Sprintf(`{"image":{"reference":"ghcr.io/a/m:%d"}}`, i))
		}
		r := review(t, "", "Pod", `{"spec":{"volumes":[`+strings.Join(vols, ",")+`]}}`)
		refs, _, err := Extract(r, DefaultRules())
		var d *DenyError
		if !errors.As(err, &d) || err.Error() != "more than 256 model references in one object" || refs != nil {
			t.Fatalf("err = %v, %d refs", err, len(refs))
		}
		// Exactly MaxRefs is fine, and duplicates do not count.
		vols[MaxRefs] = vols[0]
		r = review(t, "", "Pod", `{"spec":{"volumes":[`+strings.Join(vols, ",")+`]}}`)
		if refs, _, err := Extract(r, DefaultRules()); err != nil || len(refs) != MaxRefs {
			t.Fatalf("err = %v, %d refs", err, len(refs))
		}
	})
	t.Run("locations cap", func(t *testing.T) {
		vols := strings.Repeat(`{"image":{"reference":"ghcr.io/a/m:1"}},`, MaxLocations)
		r := review(t, "", "Pod", `{"spec":{"volumes":[`+vols+`{"image":{"reference":"x"}}]}}`)
		_, _, err := Extract(r, DefaultRules())
		if err == nil || err.Error() != "more than 4096 model locations in one object" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("warnings cap", func(t *testing.T) {
		var vols []string
		for i := range 25 {
			vols = append(vols, fmt.Sprintf(`{"image":{"reference":"BAD%d"}}`, i))
		}
		r := review(t, "", "Pod", `{"spec":{"volumes":[`+strings.Join(vols, ",")+`]}}`)
		_, warnings, err := Extract(r, DefaultRules())
		if err != nil || len(warnings) != MaxWarnings || warnings[MaxWarnings-1] != "…and 16 more warnings" {
			t.Fatalf("err %v, warnings %q", err, warnings)
		}
	})
	t.Run("extra rule type mismatch", func(t *testing.T) {
		r := review(t, "models.example.com", "ModelServer", `{"spec":{"base":{"image":{"name":"x"}}}}`)
		_, _, err := Extract(r, extraRules())
		if err == nil || err.Error() != "cannot read spec.base.image: want a string or a list of strings" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("extra rule index", func(t *testing.T) {
		rules := DefaultRules()
		rules.Extra = []PathRule{{Group: "", Kind: "ConfigMap", Paths: []string{"$.data.models[1]", "$['data']['x.y']"}}}
		r := review(t, "", "ConfigMap", `{"data":{"models":["a/b","ghcr.io/c/d:1","e/f"],"x.y":"oci://g/h"}}`)
		refs, _, err := Extract(r, rules)
		want := []Ref{
			{"oci://ghcr.io/c/d:1", "data.models[1]", "ghcr.io/c/d:1"},
			{"oci://docker.io/g/h:latest", "data[x.y]", "oci://g/h"},
		}
		if err != nil || !reflect.DeepEqual(refs, want) {
			t.Errorf("got %v %v", refs, err)
		}
	})
	t.Run("invalid rules", func(t *testing.T) {
		rules := DefaultRules()
		rules.NonOCI = "maybe"
		_, _, err := Extract(review(t, "", "Pod", `{}`), rules)
		if err == nil || err.Error() != `invalid rules: nonOCI: "maybe" is neither allow nor deny` {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("annotations off", func(t *testing.T) {
		rules := DefaultRules()
		rules.ModelsAnnotation, rules.ModelContainersAnnotation = "", ""
		r, err := ParseReview(load(t, "pod-init-container.json"))
		if err != nil {
			t.Fatal(err)
		}
		refs, warnings, err := Extract(r, rules)
		if err != nil || refs != nil || warnings != nil {
			t.Errorf("got %v %q %v", refs, warnings, err)
		}
	})
}

func TestValidate(t *testing.T) {
	if err := DefaultRules().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := extraRules().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := Rules{
		NonOCI:                    "DENY",
		ModelsAnnotation:          "Hallmark.dev/models",
		ModelContainersAnnotation: "a/b/c",
		Extra: []PathRule{
			{Kind: "", Paths: []string{"$.a"}},
			{Group: "x.io", Kind: "K", Paths: []string{"$..a", "spec.a", "$.a[?(@.b)]", "$.a[1:2]", "$.*"}},
			{Group: "Bad_Group", Kind: "K"},
		},
	}
	want := strings.Join([]string{
		`nonOCI: "DENY" is neither allow nor deny`,
		`modelContainersAnnotation: "a/b/c" is not an annotation key`,
		`modelsAnnotation: "Hallmark.dev/models" is not an annotation key`,
		`extra[0].kind: "" is not a kind`,
		`extra[1].paths[0] "$..a": at byte 1: want a name after '.' (use ['…'] for other characters; .*, .. are not supported)`,
		`extra[1].paths[1] "spec.a": must start with $`,
		`extra[1].paths[2] "$.a[?(@.b)]": at byte 3: "?(@.b)" is not an array index (filters and slices are not supported)`,
		`extra[1].paths[3] "$.a[1:2]": at byte 3: "1:2" is not an array index (filters and slices are not supported)`,
		`extra[1].paths[4] "$.*": at byte 1: want a name after '.' (use ['…'] for other characters; .*, .. are not supported)`,
		`extra[2].group: "Bad_Group" is not an API group`,
		`extra[2].paths: want 1 to 16 paths`,
	}, "\n")
	if err := bad.Validate(); err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		in   string
		want []step
		err  string
	}{
		{in: "$.a.b", want: []step{{name: "a", index: -1}, {name: "b", index: -1}}},
		{in: "$.a[*].b", want: []step{{name: "a", index: -1}, {all: true, index: -1}, {name: "b", index: -1}}},
		{in: "$.a[0]", want: []step{{name: "a", index: -1}, {index: 0}}},
		{in: `$['a.b']["c d"][12]`, want: []step{{name: "a.b", index: -1}, {name: "c d", index: -1}, {index: 12}}},
		{in: "$", err: "names no field"},
		{in: "$.", err: "at byte 1: want a name"},
		{in: "$[", err: "at byte 1: want [N], [*] or ['name']"},
		{in: "$['a", err: "unterminated quoted name"},
		{in: "$['']", err: "a quoted name is non-empty"},
		{in: `$['a\'b']`, err: "unterminated quoted name"},
		{in: "$.a[-1]", err: `"-1" is not an array index`},
		{in: "$.a[+1]", err: `"+1" is not an array index`},
		{in: "$.a[99999999999]", err: "is not an array index"},
		{in: "$.a b", err: `at byte 3: unexpected ' '`},
		{in: "$" + strings.Repeat(".a", 33), err: "more than 32 steps"},
		{in: "$." + strings.Repeat("a", 600), err: "longer than 512 bytes"},
	}
	for _, tc := range tests {
		got, err := parsePath(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %+v, %v", tc.in, got, err)
		}
	}
}

func TestNormalizeImage(t *testing.T) {
	const d = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"
	tests := []struct{ in, want, err string }{
		{in: "ghcr.io/a/b:v1", want: "oci://ghcr.io/a/b:v1"},
		{in: "x", want: "oci://docker.io/library/x:latest"},
		{in: "x:1", want: "oci://docker.io/library/x:1"},
		{in: "acme/x", want: "oci://docker.io/acme/x:latest"},
		{in: "docker.io/x", want: "oci://docker.io/library/x:latest"},
		{in: "index.docker.io/acme/x:2", want: "oci://docker.io/acme/x:2"},
		{in: "localhost/x", want: "oci://localhost/x:latest"},
		{in: "localhost:5000/x", want: "oci://localhost:5000/x:latest"},
		{in: "[::1]:5000/x/y", want: "oci://[::1]:5000/x/y:latest"},
		{in: "Registry/x", want: "oci://Registry/x:latest"},
		{in: "a/b/c/d__e--f.g:T_a.g-1", want: "oci://docker.io/a/b/c/d__e--f.g:T_a.g-1"},
		{in: "ghcr.io/a/b@" + d, want: "oci://ghcr.io/a/b@" + d},
		{in: "ghcr.io/a/b:v1@" + d, want: "oci://ghcr.io/a/b@" + d},
		{in: "x@sha512:" + strings.Repeat("ab", 64), want: "oci://docker.io/library/x@sha512:" + strings.Repeat("ab", 64)},
		{in: "", err: "empty"},
		{in: "X", err: "repository name must be lowercase"},
		{in: "ghcr.io/A/b", err: "repository name must be lowercase"},
		{in: "ghcr.io/a/b:", err: "invalid reference format"},
		{in: "ghcr.io/a/b:-x", err: "invalid reference format"},
		{in: "ghcr.io/a/b:" + strings.Repeat("t", 129), err: "invalid reference format"},
		{in: "ghcr.io/a//b", err: "invalid reference format"},
		{in: "ghcr.io/a/b@sha256:" + strings.Repeat("A", 64), err: "invalid sha256 digest"},
		{in: "ghcr.io/a/b@sha256:" + strings.Repeat("a", 63) + "0a", err: "invalid sha256 digest"},
		{in: "ghcr.io/a/b@md5:" + strings.Repeat("a", 32), err: `unsupported digest algorithm "md5"`},
		{in: "oci://ghcr.io/a/b", err: "invalid reference format"},
		{in: " ghcr.io/a/b", err: "invalid reference format"},
		{in: "ghcr.io/" + strings.Repeat("a", 256), err: "repository name longer than 255 characters"},
		{in: strings.Repeat("a", 64), err: "a 64-hex image ID"},
		{in: "ghcr.io/" + strings.Repeat("a", MaxRefLength), err: "longer than 1024 bytes"},
	}
	for _, tc := range tests {
		got, err := NormalizeImage(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: got %q, err %v, want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v, want %q", tc.in, got, err, tc.want)
		}
		// Normalising a normalised reference changes nothing.
		if again, err := NormalizeImage(strings.TrimPrefix(got, "oci://")); err != nil || again != got {
			t.Errorf("%q: not stable: %q, %v", got, again, err)
		}
	}
}

func TestOCIScheme(t *testing.T) {
	for in, want := range map[string]string{
		"oci://a/b": "a/b", "OCI://a/b": "a/b", "oci+modelcar://a/b": "a/b", "oci+native://a/b": "a/b", "oci+fetch://a/b": "a/b",
	} {
		if got, ok := ociScheme(in); !ok || got != want {
			t.Errorf("%q: %q %v", in, got, ok)
		}
	}
	for _, in := range []string{"oci+://a/b", "s3://a/b", "hf://a", "a/b", "ocifoo://a", "pvc://claim/path"} {
		if _, ok := ociScheme(in); ok {
			t.Errorf("%q is OCI", in)
		}
	}
}

func TestResponse(t *testing.T) {
	deny := Response("705ab4f5-6393-11e8-b7cc-42010a800002", false,
		`model oci://ghcr.io/a/b:1 failed the gate: pickle imports "os.system"`,
		[]string{"spec.volumes[0]: not checked", "", "spec.volumes[0]: not checked", "tab\there\x00"})
	const wantDeny = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002","allowed":false,` +
		`"status":{"status":"Failure","message":"model oci://ghcr.io/a/b:1 failed the gate: pickle imports \"os.system\"","reason":"Forbidden","code":403},` +
		`"warnings":["spec.volumes[0]: not checked","tab here"]}}`
	if string(deny) != wantDeny {
		t.Errorf("deny:\n got %s\nwant %s", deny, wantDeny)
	}
	allow := Response("u-1", true, "ignored", nil)
	const wantAllow = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u-1","allowed":true}}`
	if string(allow) != wantAllow {
		t.Errorf("allow:\n got %s\nwant %s", allow, wantAllow)
	}

	// Caps: 10 warnings of at most 256 runes; a long message is cut.
	var many []string
	for i := range 30 {
		many = append(many, fmt.Sprintf("%d %s", i, strings.Repeat("é", 400)))
	}
	b := Response(`u"<&>`, false, strings.Repeat("m", 10000)+"\xff", append([]string{"bad \xff utf8"}, many...))
	var got struct {
		APIVersion, Kind string
		Response         struct {
			UID     string `json:"uid"`
			Allowed bool   `json:"allowed"`
			Status  struct {
				Message string `json:"message"`
				Code    int    `json:"code"`
				Reason  string `json:"reason"`
			} `json:"status"`
			Warnings []string `json:"warnings"`
		} `json:"response"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Response.UID != `u"<&>` || got.Response.Allowed || got.Response.Status.Code != 403 || got.Response.Status.Reason != "Forbidden" {
		t.Errorf("response = %+v", got.Response)
	}
	if n := utf8.RuneCountInString(got.Response.Status.Message); n != MaxMessageRunes {
		t.Errorf("message has %d runes", n)
	}
	if len(got.Response.Warnings) != MaxWarnings || got.Response.Warnings[0] != "bad \uFFFD utf8" {
		t.Errorf("%d warnings, first %q", len(got.Response.Warnings), got.Response.Warnings[0])
	}
	for _, w := range got.Response.Warnings {
		if n := utf8.RuneCountInString(w); n > MaxWarningRunes {
			t.Errorf("warning of %d runes", n)
		}
	}
	if w := got.Response.Warnings[1]; utf8.RuneCountInString(w) != MaxWarningRunes || !strings.HasSuffix(w, "é…") {
		t.Errorf("cut warning = %q", w)
	}
}

// The server answers a request with the response for its uid; check the
// whole path on every testdata review that parses.
func TestResponseEchoesUID(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		r, err := ParseReview(load(t, filepath.Base(f)))
		if err != nil {
			continue
		}
		_, warnings, err := Extract(r, DefaultRules())
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		b := Response(r.UID, err == nil, msg, warnings)
		var resp struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Response   struct {
				UID string `json:"uid"`
			} `json:"response"`
		}
		if err := json.Unmarshal(b, &resp); err != nil || resp.Response.UID != r.UID || resp.APIVersion != "admission.k8s.io/v1" || resp.Kind != "AdmissionReview" {
			t.Errorf("%s: %s", f, b)
		}
	}
}

// The configuration is decoded over DefaultRules (sigs.k8s.io/yaml goes
// through these JSON names): absent keys keep their defaults.
func TestRulesDecodeOverDefaults(t *testing.T) {
	r := DefaultRules()
	cfg := `{"nonOCI":"deny","modelsAnnotation":"","extra":[{"group":"x.io","kind":"ModelServer","paths":["$.spec.model"]}]}`
	if err := json.Unmarshal([]byte(cfg), &r); err != nil {
		t.Fatal(err)
	}
	want := DefaultRules()
	want.NonOCI, want.ModelsAnnotation = "deny", ""
	want.Extra = []PathRule{{Group: "x.io", Kind: "ModelServer", Paths: []string{"$.spec.model"}}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got %+v\nwant %+v", r, want)
	}
	if err := r.Validate(); err != nil {
		t.Error(err)
	}
}
