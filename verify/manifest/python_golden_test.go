package manifest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// The golden file holds what model_signing's own serializers (Python, the
// model-transparency commit the vectors come from) computed for the
// scenarios below. Regenerate with HALLMARK_PYTHON_REF set to the command
// that runs testdata/python_ref.py (its docstring says how).
const goldenFile = "testdata/python-golden.json"

type goldenCase struct {
	Error       bool       `json:"error,omitempty"`
	Resources   []Resource `json:"resources,omitempty"`
	IgnorePaths []string   `json:"ignore_paths,omitempty"`
}

// goldenTree writes a deterministic model: names that sort differently
// component-wise and byte-wise, dotfiles, git paths at the top and below,
// empty files, a file with many shards, a colon and non-ASCII in names.
func goldenTree(t testing.TB, dir string) {
	t.Helper()
	files := map[string]int{
		"a.txt": 11, "a/b": 13, "a/b.c": 1000, "a-b": 17, "a b": 5, "ab": 9, "A": 3,
		"é": 4, "z:1:2": 6, ".hidden": 8, ".git/x": 10, ".github/w": 12,
		"sub/.git/y": 14, ".gitignore": 2, "d/.gitattributes": 7, "x/y/z/w": 21,
		"big": 2345, "empty": 0, "d/empty2": 0,
	}
	for p, n := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*31 + len(p))
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type goldenScenario struct {
	name  string
	model string // relative to the tree; "" for the tree
	opts  Options
	names []string          // ComputeNames when set
	links map[string]string // symlinks to add: name → target
}

var goldenScenarios = []goldenScenario{
	{name: "files", opts: Options{IgnoreGitPaths: true}},
	{name: "files-no-git-ignores", opts: Options{}},
	{name: "files-blake2b", opts: Options{Hash: HashBLAKE2b, IgnoreGitPaths: true}},
	{name: "shards-100", opts: Options{Method: MethodShards, ShardSize: 100, IgnoreGitPaths: true}},
	{name: "shards-blake2b-7", opts: Options{Method: MethodShards, Hash: HashBLAKE2b, ShardSize: 7, IgnoreGitPaths: true}},
	{name: "ignore-paths", opts: Options{IgnoreGitPaths: true, IgnorePaths: []string{"a", "x/y", "big/", "./ab", "nonexistent", "../outside", "/abs"}}},
	{name: "ignore-nested", opts: Options{IgnoreGitPaths: true, IgnorePaths: []string{"a/b", "d/.gitattributes"}}},
	{name: "single-file", model: "big", opts: Options{IgnoreGitPaths: true}},
	{name: "single-file-shards", model: "big", opts: Options{Method: MethodShards, ShardSize: 1000, IgnoreGitPaths: true}},
	{name: "single-empty-file-shards", model: "empty", opts: Options{Method: MethodShards, ShardSize: 1000}},
	{name: "names", opts: Options{IgnoreGitPaths: true}, names: []string{"a.txt", "x/y/z/w", "big", ".git/x", "a/b"}},
	{name: "symlink-refused", opts: Options{IgnoreGitPaths: true}, links: map[string]string{"lnk": "a.txt"}},
	{name: "symlink-allowed", opts: Options{IgnoreGitPaths: true, AllowSymlinks: true}, links: map[string]string{"lnk": "a.txt", "x/up": "../big", "chain": "lnk"}},
	{name: "symlink-dir-allowed", opts: Options{IgnoreGitPaths: true, AllowSymlinks: true}, links: map[string]string{"dlnk": "x", "loop": "."}},
	{name: "symlink-ignored", opts: Options{IgnoreGitPaths: true, IgnorePaths: []string{"lnk", "brk"}}, links: map[string]string{"lnk": "a.txt", "brk": "nope"}},
	{name: "symlink-broken-allowed", opts: Options{IgnoreGitPaths: true, AllowSymlinks: true}, links: map[string]string{"brk": "nope"}},
	{name: "symlink-shards", opts: Options{Method: MethodShards, ShardSize: 500, IgnoreGitPaths: true, AllowSymlinks: true}, links: map[string]string{"lnk": "big"}},
}

func runGolden(t *testing.T, s goldenScenario) (dir, model string, m *Manifest, err error) {
	dir = t.TempDir()
	goldenTree(t, dir)
	for name, target := range s.links {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	model = dir
	if s.model != "" {
		model = filepath.Join(dir, s.model)
	}
	if s.names != nil {
		m, err = ComputeNames(context.Background(), model, s.opts, s.names)
	} else {
		m, err = Compute(context.Background(), model, s.opts)
	}
	return dir, model, m, err
}

func TestPythonGolden(t *testing.T) {
	if ref := os.Getenv("HALLMARK_PYTHON_REF"); ref != "" {
		regenerateGolden(t, ref)
	}
	raw, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	var golden map[string]goldenCase
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden) != len(goldenScenarios) {
		t.Fatalf("golden has %d cases, want %d", len(golden), len(goldenScenarios))
	}
	for _, s := range goldenScenarios {
		t.Run(s.name, func(t *testing.T) {
			want, ok := golden[s.name]
			if !ok {
				t.Fatal("no golden case")
			}
			_, _, m, err := runGolden(t, s)
			if want.Error {
				if err == nil {
					t.Fatalf("model_signing fails here, Compute gave %d resources", len(m.Resources))
				}
				t.Logf("both fail; Compute: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Resources)+len(want.Resources) > 0 && !reflect.DeepEqual(m.Resources, want.Resources) {
				t.Errorf("resources\n got %v\nwant %v", m.Resources, want.Resources)
			}
			if len(m.Ignored)+len(want.IgnorePaths) > 0 && !reflect.DeepEqual(m.Ignored, want.IgnorePaths) {
				t.Errorf("ignore_paths %v, want %v", m.Ignored, want.IgnorePaths)
			}
		})
	}
}

func regenerateGolden(t *testing.T, ref string) {
	golden := map[string]goldenCase{}
	for _, s := range goldenScenarios {
		dir := t.TempDir()
		goldenTree(t, dir)
		for name, target := range s.links {
			if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
				t.Fatal(err)
			}
		}
		model := dir
		if s.model != "" {
			model = filepath.Join(dir, s.model)
		}
		args := map[string]any{
			"model": model, "method": s.opts.Method, "hash": s.opts.Hash, "shard_size": s.opts.ShardSize,
			"git": s.opts.IgnoreGitPaths, "symlinks": s.opts.AllowSymlinks, "ignore": s.opts.IgnorePaths,
		}
		if s.names != nil {
			args["files"] = s.names
		}
		arg, _ := json.Marshal(args)
		argv := append(strings.Fields(ref), string(arg))
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var py struct {
			Error         string         `json:"error"`
			Serialization map[string]any `json:"serialization"`
			Resources     []Resource     `json:"resources"`
		}
		if err := json.Unmarshal(out, &py); err != nil {
			t.Fatalf("%s: %s: %v", s.name, out, err)
		}
		c := goldenCase{Error: py.Error != "", Resources: py.Resources}
		if ip, ok := py.Serialization["ignore_paths"].([]any); ok {
			for _, p := range ip {
				c.IgnorePaths = append(c.IgnorePaths, p.(string))
			}
			sort.Strings(c.IgnorePaths)
		}
		golden[s.name] = c
	}
	b, err := json.MarshalIndent(golden, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenFile, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
