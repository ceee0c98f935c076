// Package archtest enforces the import rules of docs/architecture.md.
package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/hallmarkdev/hallmark"

// imports maps each package directory (slash path relative to the module
// root) to what its non-test files import.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	root := "../.."
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return fs.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		rel = filepath.ToSlash(rel)
		for _, im := range f.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			out[rel] = append(out[rel], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func stdlib(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func under(dir, prefix string) bool { return dir == prefix || strings.HasPrefix(dir, prefix+"/") }

func TestImportRules(t *testing.T) {
	all := imports(t)
	if len(all) < 8 {
		t.Fatalf("found only %d packages", len(all))
	}
	for dir, ims := range all {
		for _, im := range ims {
			local := strings.TrimPrefix(im, module+"/")
			isLocal := local != im
			switch {
			case under(dir, "formats") && !stdlib(im) && !(isLocal && under(local, "formats")) && im != "google.golang.org/protobuf/encoding/protowire" &&
				!(dir == "formats/modelcard" && im == "go.yaml.in/yaml/v2"):
				t.Errorf("%s imports %s: formats/ imports only the standard library, formats/, protowire (and YAML for model cards)", dir, im)
			case under(dir, "pickle") && !stdlib(im):
				t.Errorf("%s imports %s: pickle/ imports only the standard library", dir, im)
			case under(dir, "scan") && isLocal && (under(local, "verify") || under(local, "sbom") || under(local, "report")):
				t.Errorf("%s imports %s: scan/ never imports verify, sbom or report", dir, im)
			case (under(dir, "report") || under(dir, "sbom")) && isLocal && under(local, "cmd"):
				t.Errorf("%s imports %s: report/ and sbom/ read audit.Result, never cmd/", dir, im)
			case !under(dir, "cmd") && strings.HasPrefix(im, "github.com/spf13/cobra"):
				t.Errorf("%s imports cobra: only cmd/ does", dir)
			case !under(dir, "source/oci") && !under(dir, "verify") && !under(dir, "cmd") &&
				!(under(dir, "serve") && (im == "net" || im == "net/http")) &&
				(im == "net" || im == "net/http" || strings.HasPrefix(im, "github.com/google/go-containerregistry/pkg/v1/remote")):
				t.Errorf("%s imports %s: only source/oci and verify/ reach out to the network (serve/ only listens)", dir, im)
			}
		}
	}
}
