package manifest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

const vectorDir = "testdata/vectors"

// vectorPayload returns the in-toto statement inside a model.sig bundle.
func vectorPayload(t testing.TB, sig string) []byte {
	t.Helper()
	raw, err := os.ReadFile(sig)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		DSSE struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("%s: %v", sig, err)
	}
	if b.DSSE.PayloadType != PayloadType {
		t.Fatalf("%s: payloadType %q", sig, b.DSSE.PayloadType)
	}
	p, err := base64.StdEncoding.DecodeString(b.DSSE.Payload)
	if err != nil {
		t.Fatalf("%s: %v", sig, err)
	}
	return p
}

func vectorDirs(t testing.TB) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(vectorDir, "v*"))
	if err != nil || len(dirs) != 13 {
		t.Fatalf("want the 13 vector folders, found %d (%v)", len(dirs), err)
	}
	return dirs
}

// TestVectors recomputes the manifest of every public model_signing vector
// and checks it against what was signed: same resources in the same order,
// same root digest.
func TestVectors(t *testing.T) {
	for _, dir := range vectorDirs(t) {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			ps, err := ParseStatement(vectorPayload(t, filepath.Join(dir, "model.sig")))
			if err != nil {
				t.Fatalf("ParseStatement: %v", err)
			}
			model := dir
			if len(ps.Resources) == 1 && ps.Resources[0].Name == "." {
				model = filepath.Join(dir, ps.SubjectName) // single-file model
			}
			// The verifier's view: the signed serialization (and the
			// signed ignore_paths when there are some) plus the git
			// defaults and the signature file; ignore-me as the README
			// of each older vector says.
			opts := ps.Options
			opts.IgnoreGitPaths = true
			opts.IgnorePaths = append(slices.Clone(opts.IgnorePaths), "model.sig", "ignore-me")
			m, err := Compute(context.Background(), model, opts)
			if err != nil {
				t.Fatalf("Compute: %v", err)
			}
			if ps.PredicateType == PredicateTypeCompat {
				if d := Compare(ps.Resources, m.Resources); !d.Empty() {
					t.Fatalf("v0.2 diff %+v", d)
				}
				if len(m.Resources) != 2 {
					t.Fatalf("resources %+v", m.Resources)
				}
				return
			}
			if !reflect.DeepEqual(m.Resources, ps.Resources) {
				t.Fatalf("resources\n got %+v\nwant %+v", m.Resources, ps.Resources)
			}
			root, err := RootDigest(m.Resources)
			if err != nil || !bytes.Equal(root, ps.RootDigest) {
				t.Fatalf("root %x, want %x (%v)", root, ps.RootDigest, err)
			}
			if name == "v1.0.1-elliptic-key" || name == "v1.0.1-sigstore" {
				// Without being told, ignore-me is an extra file.
				o := ps.Options
				o.IgnoreGitPaths = true
				o.IgnorePaths = []string{"model.sig"}
				m2, err := Compute(context.Background(), model, o)
				if err != nil {
					t.Fatal(err)
				}
				d := Compare(ps.Resources, m2.Resources)
				if !reflect.DeepEqual(d.Extra, []string{"ignore-me"}) || len(d.Missing)+len(d.Mismatched) != 0 {
					t.Fatalf("diff without ignore: %+v", d)
				}
			}
		})
	}
}

// TestVectorsSignedIgnores: a v1.1 signature records its ignore_paths, and
// those alone (what a verifier that was told nothing uses) reproduce it.
func TestVectorsSignedIgnores(t *testing.T) {
	for _, name := range []string{"v1.1.0-sigstore", "v1.1.0-elliptic-key", "v1.1.0-certificate"} {
		dir := filepath.Join(vectorDir, name)
		ps, err := ParseStatement(vectorPayload(t, filepath.Join(dir, "model.sig")))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{".git", ".gitattributes", ".github", ".gitignore", "ignore-me", "model.sig"}
		got := slices.Sorted(slices.Values(ps.Options.IgnorePaths))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: ignore_paths %v", name, got)
		}
		m, err := Compute(context.Background(), dir, ps.Options)
		if err != nil {
			t.Fatal(err)
		}
		if d := Compare(ps.Resources, m.Resources); !d.Empty() {
			t.Fatalf("%s: %+v", name, d)
		}
		// Signing the folder again as model_signing v1.1 would gives the
		// same statement, up to JSON key order.
		m, err = Compute(context.Background(), dir, Options{IgnoreGitPaths: true, IgnorePaths: []string{"ignore-me", "model.sig"}})
		if err != nil {
			t.Fatal(err)
		}
		st, err := Statement(m, name)
		if err != nil {
			t.Fatal(err)
		}
		assertSameJSON(t, st, vectorPayload(t, filepath.Join(dir, "model.sig")))
	}
}

// assertSameJSON compares two JSON documents as values, with lists of
// strings compared as sets (ignore_paths comes from a frozenset).
func assertSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	norm(g)
	norm(w)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("JSON differs\n got %s\nwant %s", got, want)
	}
}

func norm(v any) {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			norm(e)
		}
	case []any:
		strs := true
		for _, e := range x {
			norm(e)
			if _, ok := e.(string); !ok {
				strs = false
			}
		}
		if strs {
			slices.SortFunc(x, func(a, b any) int {
				if a.(string) < b.(string) {
					return -1
				}
				if a.(string) > b.(string) {
					return 1
				}
				return 0
			})
		}
	}
}
