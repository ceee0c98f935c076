package admission

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzExtract: ParseReview and Extract never panic, every ref is a stable
// oci:// reference, counts stay capped, and the response is valid JSON
// echoing the uid.
func FuzzExtract(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","object":{"metadata":{"annotations":{"hallmark.dev/models":"a b,c oci://d/e@sha256:0000000000000000000000000000000000000000000000000000000000000000","hallmark.dev/model-containers":"c"}},"spec":{"containers":[{"name":"c","image":"[::1]:5000/x:y"}]}}}}`))

	pod := DefaultRules()
	pod.Extra = []PathRule{{Kind: "Pod", Paths: []string{"$.spec.containers[*].image", "$['metadata']['labels'][*]", "$.spec.volumes[0]"}}}
	rulesets := []Rules{DefaultRules(), denyRules(), extraRules(), pod}

	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseReview(body)
		if err != nil {
			if r != nil {
				t.Fatal("review with an error")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if r.UID == "" || !utf8.ValidString(r.UID) || len(r.UID) > maxField {
			t.Fatalf("uid %q", r.UID)
		}
		for _, rules := range rulesets {
			refs, warnings, err := Extract(r, rules)
			if err != nil && refs != nil {
				t.Fatal("refs with an error")
			}
			if len(refs) > MaxRefs || len(warnings) > MaxWarnings {
				t.Fatalf("%d refs, %d warnings", len(refs), len(warnings))
			}
			seen := map[string]bool{}
			for _, ref := range refs {
				if !strings.HasPrefix(ref.Ref, "oci://") || ref.Raw == "" || len(ref.Raw) > MaxRefLength || ref.Path == "" {
					t.Fatalf("bad ref %+v", ref)
				}
				if seen[ref.Ref] {
					t.Fatalf("duplicate %q", ref.Ref)
				}
				seen[ref.Ref] = true
				if again, err := NormalizeImage(strings.TrimPrefix(ref.Ref, "oci://")); err != nil || again != ref.Ref {
					t.Fatalf("%q is not stable: %q, %v", ref.Ref, again, err)
				}
			}
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			b := Response(r.UID, err == nil, msg, warnings)
			var resp struct {
				Response struct {
					UID      string   `json:"uid"`
					Warnings []string `json:"warnings"`
				} `json:"response"`
			}
			if err := json.Unmarshal(b, &resp); err != nil || resp.Response.UID != r.UID {
				t.Fatalf("response %s: %v", b, err)
			}
			for _, w := range resp.Response.Warnings {
				if utf8.RuneCountInString(w) > MaxWarningRunes {
					t.Fatalf("warning of %d runes", utf8.RuneCountInString(w))
				}
			}
		}
	})
}

// FuzzNormalizeImage: a reference that normalises is stable and short.
func FuzzNormalizeImage(f *testing.F) {
	for _, s := range []string{"x", "ghcr.io/a/b:v1", "localhost:5000/a@sha256:" + strings.Repeat("a", 64), "[::1]/a", "Reg/a", "index.docker.io/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeImage(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(got, "oci://") || len(got) > MaxRefLength+64 {
			t.Fatalf("%q → %q", s, got)
		}
		if again, err := NormalizeImage(strings.TrimPrefix(got, "oci://")); err != nil || again != got {
			t.Fatalf("%q → %q → %q, %v", s, got, again, err)
		}
	})
}
