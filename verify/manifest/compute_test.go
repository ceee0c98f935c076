package manifest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func names(rs []Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

func mustCompute(t testing.TB, model string, o Options) *Manifest {
	t.Helper()
	m, err := Compute(context.Background(), model, o)
	if err != nil {
		t.Fatalf("Compute(%s): %v", model, err)
	}
	return m
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// pattern is the input of the official BLAKE3 test vectors: byte i is i % 251.
func pattern(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return string(b)
}

// TestKnownDigests checks each hash against digests computed elsewhere:
// sha256 and blake2b with Python's hashlib (hashlib.blake2b() is
// BLAKE2b-512), blake3 against the BLAKE3 team's test_vectors.json (the
// first 32 bytes of "hash"). The reads are made small so the 100000-byte
// input spans many buffers.
func TestKnownDigests(t *testing.T) {
	defer func(n int) { readSize = n }(readSize)
	readSize = 4096
	want := map[string]map[string]string{
		"abc": {
			HashSHA256:  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
			HashBLAKE2b: "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
		},
		"empty": {
			HashSHA256:  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			HashBLAKE2b: "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce",
			HashBLAKE3:  "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
		},
		"p1":     {HashBLAKE3: "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"},
		"p1025":  {HashBLAKE3: "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"},
		"p31744": {HashBLAKE3: "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"},
		"p100000": {
			HashSHA256:  "cd2df694e424bc7968cc37f47751019e5ca0cd1bdf2e479ea537c3a1c32ee1aa",
			HashBLAKE2b: "a0b4e1c912a57364ed019d57296b9f14fd4ac7a36dc5b324706ba2b1497cf7b58b813ef6d86efab3a9461768ea9a552ab97554f8c4b010ed26d04ae6158bcedf",
			HashBLAKE3:  "d93c23eedaf165a7e0be908ba86f1a7a520d568d2d13cde787c8580c5c72cc54",
		},
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"abc": "abc", "empty": "", "p1": pattern(1), "p1025": pattern(1025),
		"p31744": pattern(31744), "p100000": pattern(100000),
	})
	for _, hash := range []string{HashSHA256, HashBLAKE2b, HashBLAKE3} {
		for _, workers := range []int{1, 8} {
			m := mustCompute(t, dir, Options{Hash: hash, Workers: workers})
			if len(m.Resources) != 6 {
				t.Fatalf("%d resources", len(m.Resources))
			}
			for _, r := range m.Resources {
				if r.Algorithm != hash {
					t.Errorf("%s: algorithm %q", r.Name, r.Algorithm)
				}
				if w, ok := want[r.Name][hash]; ok && r.Digest != w {
					t.Errorf("%s %s workers=%d: %s, want %s", hash, r.Name, workers, r.Digest, w)
				}
			}
			if m.Bytes != 3+0+1+1025+31744+100000 {
				t.Errorf("Bytes = %d", m.Bytes)
			}
		}
	}
}

func TestOrdering(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.txt": "1", "a-b": "3", "a/b.c": "4", "a/b/c": "5", "ab": "6", "A": "7",
		"a b": "8", "é": "9", ".x": "10", "z/.y": "11",
	})
	// What PurePosixPath sorting gives (checked with Python 3.11).
	want := []string{".x", "A", "a/b/c", "a/b.c", "a b", "a-b", "a.txt", "ab", "z/.y", "é"}
	if got := names(mustCompute(t, dir, Options{}).Resources); !reflect.DeepEqual(got, want) {
		t.Fatalf("order\n got %q\nwant %q", got, want)
	}
	if comparePath("a/b", "a.txt") >= 0 || comparePath("a/b", "a-b") >= 0 || comparePath("a", "a/b") >= 0 ||
		comparePath("a/b", "a/b") != 0 || comparePath("b", "a/z") <= 0 {
		t.Fatal("comparePath")
	}
}

func TestShardOrderingAndZeroBytes(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"f": pattern(1234), "f.x": "xyz", "e/g": "", "e0": "", "d/e": "",
	})
	m := mustCompute(t, dir, Options{Method: MethodShards, ShardSize: 100})
	var want []string
	for s := 0; s < 1234; s += 100 {
		want = append(want, ShardName("f", int64(s), int64(min(s+100, 1234))))
	}
	want = append(want, "f.x:0:3") // e/g, e0 and d/e are empty: no shard
	if got := names(m.Resources); !reflect.DeepEqual(got, want) {
		t.Fatalf("order\n got %q\nwant %q", got, want)
	}
	// numeric, not string order: f:1000:1100 comes after f:900:1000
	if want[10] != "f:1000:1100" || want[12] != "f:1200:1234" {
		t.Fatal(want)
	}
	p := pattern(1234)
	for i, r := range m.Resources[:13] {
		end := min((i+1)*100, 1234)
		if r.Digest != sha256Hex(p[i*100:end]) || r.Algorithm != "sha256-sharded-100" {
			t.Fatalf("%s: %s %s", r.Name, r.Algorithm, r.Digest)
		}
	}
	if m.Bytes != 1237 {
		t.Fatalf("Bytes = %d", m.Bytes)
	}

	// An all-empty model has no resources; its root digest is SHA-256 of nothing.
	empty := t.TempDir()
	writeFiles(t, empty, map[string]string{"a": "", "b/c": ""})
	m = mustCompute(t, empty, Options{Method: MethodShards})
	if len(m.Resources) != 0 || m.Resources == nil {
		t.Fatalf("%+v", m.Resources)
	}
	if r, _ := RootDigest(m.Resources); hex.EncodeToString(r) != sha256Hex("") {
		t.Fatal("root of nothing")
	}
	if m.Options.ShardSize != DefaultShardSize {
		t.Fatalf("shard size %d", m.Options.ShardSize)
	}

	SortResources(MethodShards, m.Resources) // no-op on empty
	rs := []Resource{{Name: "f:1000:1100"}, {Name: "f:900:1000"}, {Name: "a.b:0:1"}, {Name: "a/b:0:1"}, {Name: "bad"}}
	SortResources(MethodShards, rs)
	if got := names(rs); !reflect.DeepEqual(got, []string{"a/b:0:1", "a.b:0:1", "f:900:1000", "f:1000:1100", "bad"}) {
		t.Fatal(got)
	}
}

func TestSingleFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"model.bin": pattern(250), "empty": ""})
	file := filepath.Join(dir, "model.bin")
	m := mustCompute(t, file, Options{IgnoreGitPaths: true, IgnorePaths: []string{"model.bin", "x"}})
	if len(m.Resources) != 1 || m.Resources[0].Name != "." || m.Resources[0].Digest != sha256Hex(pattern(250)) {
		t.Fatalf("%+v", m.Resources)
	}
	// model_signing records the ignores even for a file.
	if !reflect.DeepEqual(m.Ignored, []string{".git", ".gitattributes", ".github", ".gitignore", "model.bin", "x"}) {
		t.Fatal(m.Ignored)
	}
	m = mustCompute(t, file, Options{Method: MethodShards, ShardSize: 100})
	if got := names(m.Resources); !reflect.DeepEqual(got, []string{".:0:100", ".:100:200", ".:200:250"}) {
		t.Fatal(got)
	}
	if m = mustCompute(t, filepath.Join(dir, "empty"), Options{Method: MethodShards}); len(m.Resources) != 0 {
		t.Fatal(m.Resources)
	}
	// The model path itself may be a symlink (resolved first).
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	if m = mustCompute(t, link, Options{}); m.Resources[0].Name != "." {
		t.Fatal(m.Resources)
	}
	if SubjectName(file) != "model.bin" || SubjectName(dir+"/") != filepath.Base(dir) {
		t.Fatal(SubjectName(file), SubjectName(dir+"/"))
	}
	wd, _ := os.Getwd()
	if SubjectName(".") != filepath.Base(wd) {
		t.Fatal(SubjectName("."))
	}
}

func TestSymlinks(t *testing.T) {
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"secret": "s"})
	cases := []struct {
		name    string
		links   map[string]string
		allow   bool
		wantErr string // substring; "" for success
		want    []string
	}{
		{"file link refused", map[string]string{"l": "a"}, false, "l: is a symlink", nil},
		{"file link allowed", map[string]string{"l": "a", "sub/l2": "../a"}, true, "", []string{"a", "l", "sub/l2"}},
		{"chain allowed", map[string]string{"l": "l2", "l2": "a"}, true, "", []string{"a", "l", "l2"}},
		{"dir link not followed", map[string]string{"d": "sub", "self": "."}, true, "", []string{"a"}},
		{"outside relative", map[string]string{"l": "../../" + filepath.Base(filepath.Dir(outside)) + "/" + filepath.Base(outside) + "/secret"}, true, "outside the model root", nil},
		{"outside absolute refused too", map[string]string{"l": filepath.Join(outside, "secret")}, false, "outside the model root", nil},
		{"outside dir", map[string]string{"l": outside}, true, "outside the model root", nil},
		{"broken", map[string]string{"l": "nope"}, true, "broken symlink", nil},
		{"broken refused", map[string]string{"l": "nope"}, false, "broken symlink", nil},
		{"loop", map[string]string{"l": "l2", "l2": "l"}, true, "cannot resolve symlink", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"a": "A"})
			if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			for l, target := range c.links {
				if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(l))); err != nil {
					t.Fatal(err)
				}
			}
			m, err := Compute(context.Background(), dir, Options{AllowSymlinks: c.allow})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				// The message names the link.
				if !strings.Contains(err.Error(), filepath.Join(dir, "l")) {
					t.Fatalf("error does not say which path: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names(m.Resources); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
			for _, r := range m.Resources {
				if r.Digest != sha256Hex("A") {
					t.Fatalf("%s: not the target's content", r.Name)
				}
			}
		})
	}
}

func TestIgnore(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a/b": "1", "a-b": "2", "ab": "3", "a.txt": "4", "keep/a": "5",
		".git/config": "6", ".github/w.yml": "7", ".gitignore": "8", ".gitattributes": "9",
		"sub/.git/config": "10", "sub/.gitignore": "11", "model.sig": "12",
	})
	cases := []struct {
		opts    Options
		want    []string
		ignored []string
	}{
		{Options{}, []string{".git/config", ".gitattributes", ".github/w.yml", ".gitignore", "a/b", "a-b", "a.txt", "ab", "keep/a", "model.sig", "sub/.git/config", "sub/.gitignore"}, []string{}},
		// git paths only at the top level; recorded whether present or not
		{Options{IgnoreGitPaths: true}, []string{"a/b", "a-b", "a.txt", "ab", "keep/a", "model.sig", "sub/.git/config", "sub/.gitignore"}, GitPaths},
		// a directory drops its subtree; prefixes only at component boundaries
		{Options{IgnorePaths: []string{"a", "model.sig"}}, []string{".git/config", ".gitattributes", ".github/w.yml", ".gitignore", "a-b", "a.txt", "ab", "keep/a", "sub/.git/config", "sub/.gitignore"}, []string{"a", "model.sig"}},
		// cleaned; paths that cannot be inside the model are dropped
		{Options{IgnoreGitPaths: true, IgnorePaths: []string{"./sub/", "keep/a/", "../x", "/abs", "sub"}}, []string{"a/b", "a-b", "a.txt", "ab", "model.sig"}, []string{".git", ".gitattributes", ".github", ".gitignore", "keep/a", "sub"}},
	}
	for i, c := range cases {
		m := mustCompute(t, dir, c.opts)
		if got := names(m.Resources); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%d: got %q\nwant %q", i, got, c.want)
		}
		if !reflect.DeepEqual(m.Ignored, c.ignored) {
			t.Errorf("%d: ignored %q, want %q", i, m.Ignored, c.ignored)
		}
	}
	for _, bad := range []string{".", "", "./", "a/.."} {
		if _, err := Compute(context.Background(), dir, Options{IgnorePaths: []string{bad}}); err == nil {
			t.Errorf("ignore %q: no error", bad)
		}
	}
}

func TestSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a": "A"})
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Compute(context.Background(), dir, Options{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "named pipe") || !strings.Contains(err.Error(), fifo) {
			t.Fatalf("FIFO: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Compute hangs on a FIFO")
	}
	// Ignored, it is not looked at.
	if m := mustCompute(t, dir, Options{IgnorePaths: []string{"fifo"}}); len(m.Resources) != 1 {
		t.Fatal(m.Resources)
	}
	// A FIFO as the model, or as a symlink target, is refused too.
	if _, err := Compute(context.Background(), fifo, Options{}); err == nil {
		t.Fatal("FIFO model accepted")
	}
	if err := os.Symlink("fifo", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	if _, err := Compute(context.Background(), dir, Options{AllowSymlinks: true, IgnorePaths: []string{}}); err == nil {
		t.Fatal("link to FIFO accepted")
	}
	if _, err := ComputeNames(context.Background(), dir, Options{}, []string{"fifo"}); err == nil {
		t.Fatal("named FIFO accepted")
	}

	sdir, err := os.MkdirTemp("", "hm") // socket paths must be short
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sdir)
	ln, err := net.Listen("unix", filepath.Join(sdir, "s"))
	if err != nil {
		t.Skip("unix socket:", err)
	}
	defer ln.Close()
	if _, err := Compute(context.Background(), sdir, Options{}); err == nil || !strings.Contains(err.Error(), "socket") {
		t.Fatalf("socket: %v", err)
	}
}

func TestComputeNames(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a": "A", "b/c": pattern(250), "x": "X", ".git/config": "g",
	})
	if err := os.Symlink("b", filepath.Join(dir, "lb")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := ComputeNames(ctx, dir, Options{IgnoreGitPaths: true}, []string{"b/c", "a", "missing", "b", "lb/c", ".git/config", "a", "a/sub"})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(m.Resources); !reflect.DeepEqual(got, []string{"a", "b/c"}) {
		t.Fatal(got)
	}
	full := mustCompute(t, dir, Options{IgnoreGitPaths: true, IgnorePaths: []string{"lb"}})
	if full.Resources[0] != m.Resources[0] || full.Resources[1] != m.Resources[1] {
		t.Fatal("ComputeNames and Compute disagree")
	}
	// shard names: every shard of the named file
	m, err = ComputeNames(ctx, dir, Options{Method: MethodShards, ShardSize: 100}, []string{"b/c:0:100", "b/c:100:200"})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(m.Resources); !reflect.DeepEqual(got, []string{"b/c:0:100", "b/c:100:200", "b/c:200:250"}) {
		t.Fatal(got)
	}
	// A named symlink follows the symlink rules.
	if err := os.Symlink("a", filepath.Join(dir, "la")); err != nil {
		t.Fatal(err)
	}
	if _, err := ComputeNames(ctx, dir, Options{}, []string{"la"}); err == nil {
		t.Fatal("named symlink accepted without AllowSymlinks")
	}
	if m, err = ComputeNames(ctx, dir, Options{AllowSymlinks: true}, []string{"la"}); err != nil || m.Resources[0].Digest != sha256Hex("A") {
		t.Fatal(m, err)
	}
	// Names that could escape are refused before anything is read.
	for _, bad := range []string{"../a", "/etc/passwd", "b/../a", "./a", "a\\b", "", "b//c", "a/"} {
		if _, err := ComputeNames(ctx, dir, Options{}, []string{bad}); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	if _, err := ComputeNames(ctx, dir, Options{Method: MethodShards}, []string{"a"}); err == nil {
		t.Error("file name accepted as a shard name")
	}
	// Single-file model: "." is the file; other names are absent.
	m, err = ComputeNames(ctx, filepath.Join(dir, "a"), Options{}, []string{".", "a"})
	if err != nil || len(m.Resources) != 1 || m.Resources[0].Name != "." {
		t.Fatal(m, err)
	}
	m, err = ComputeNames(ctx, filepath.Join(dir, "a"), Options{}, nil)
	if err != nil || len(m.Resources) != 0 {
		t.Fatal(m, err)
	}
}

func TestWorkersAgree(t *testing.T) {
	defer func(n int) { readSize = n }(readSize)
	readSize = 1 << 12
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 40 {
		files[filepath.Join("d", strings.Repeat("x", i%7), string(rune('a'+i%26))+string(rune('a'+i/26)))] = pattern(i * 997)
	}
	writeFiles(t, dir, files)
	for _, o := range []Options{{}, {Method: MethodShards, ShardSize: 5000}, {Hash: HashBLAKE3}, {Method: MethodShards, Hash: HashBLAKE2b, ShardSize: 12345}} {
		o.Workers = 1
		one := mustCompute(t, dir, o)
		for _, w := range []int{2, 3, 64} {
			o.Workers = w
			if many := mustCompute(t, dir, o); !reflect.DeepEqual(one.Resources, many.Resources) || one.Bytes != many.Bytes {
				t.Fatalf("%+v: workers=%d differs", o, w)
			}
		}
	}
}

func TestCancelAndChange(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a": pattern(10000), "b": "b"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Compute(ctx, dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	// A file that shrank after it was listed is an error in shard mode.
	cfg, err := prepare(Options{Method: MethodShards, ShardSize: 4000, Workers: runtime.GOMAXPROCS(0)})
	if err != nil {
		t.Fatal(err)
	}
	m, err := openModel(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.root.Close()
	m.files = []file{{name: "a", open: "a", size: 12000}}
	if _, _, err := hashAll(context.Background(), cfg, m, plan(cfg, m.files), nil); !errors.Is(err, errChanged) {
		t.Fatal(err)
	}
}

func TestOptionsErrors(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []Options{{Method: "tensors"}, {Hash: "md5"}, {Method: MethodShards, ShardSize: -1}} {
		if _, err := Compute(context.Background(), dir, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if _, err := Compute(context.Background(), filepath.Join(dir, "missing"), Options{}); err == nil {
		t.Error("missing model accepted")
	}
	m := mustCompute(t, dir, Options{Method: MethodFiles, ShardSize: 5})
	if m.Options.ShardSize != 0 || m.Options.Hash != HashSHA256 || m.Options.Workers < 1 {
		t.Errorf("normalised options %+v", m.Options)
	}
	if a := Algorithm(Options{Method: MethodShards, Hash: HashBLAKE3}); a != "blake3-sharded-1000000000" {
		t.Error(a)
	}
}

func TestUnrepresentableNames(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a\\b": "x"})
	if _, err := Compute(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), "backslash") {
		t.Fatalf("backslash name: %v", err)
	}
	if m := mustCompute(t, dir, Options{IgnorePaths: []string{"a\\b"}}); len(m.Resources) != 0 {
		t.Fatal(m.Resources)
	}
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad\xff"), nil, 0o644); err != nil {
		t.Skip(err)
	}
	if _, err := Compute(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("non-UTF-8 name: %v", err)
	}
}

// ComputeKnown takes whole-file SHA-256 digests from known (matched by
// name and size) and reads only the rest; shards and other hashes never
// use it.
func TestComputeKnown(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a": "abc", "b": pattern(1000), "sub/c": "hello"})
	fake := make([]byte, 32) // not the real digest: proves it was taken, not computed
	fake[0] = 0xab
	known := func(name string, size int64) ([]byte, bool) {
		if name == "b" && size == 1000 || name == "sub/c" && size == 999 {
			return fake, true
		}
		return nil, false
	}
	m, err := ComputeKnown(context.Background(), dir, Options{}, nil, known)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range m.Resources {
		got[r.Name] = r.Digest
	}
	if got["b"] != hex.EncodeToString(fake) {
		t.Errorf("b: %s, want the known digest", got["b"])
	}
	if got["a"] != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("a: %s", got["a"])
	}
	if got["sub/c"] == hex.EncodeToString(fake) {
		t.Error("sub/c: a known digest of another size was used")
	}
	if m.Bytes != 3+5 {
		t.Errorf("Bytes = %d, want 8 (b not read)", m.Bytes)
	}
	// Shards never use a known digest.
	m, err = ComputeKnown(context.Background(), dir, Options{Method: MethodShards, ShardSize: 500}, nil, known)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Resources {
		if r.Digest == hex.EncodeToString(fake) {
			t.Errorf("shards: %s took a known SHA-256", r.Name)
		}
	}
	// Another hash: the file is read, and must still have the known
	// SHA-256 (here it does not: the bytes are not what was scanned).
	if _, err := ComputeKnown(context.Background(), dir, Options{Hash: HashBLAKE3}, nil, known); !errors.Is(err, ErrNotScanned) {
		t.Errorf("blake3 over changed bytes: %v, want ErrNotScanned", err)
	}
	real := func(name string, size int64) ([]byte, bool) {
		if name != "b" {
			return nil, false
		}
		s := sha256.Sum256([]byte(pattern(1000)))
		return s[:], true
	}
	m, err = ComputeKnown(context.Background(), dir, Options{Hash: HashBLAKE3}, nil, real)
	if err != nil || len(m.Resources) != 3 || m.Resources[0].Algorithm != HashBLAKE3 {
		t.Errorf("blake3 over the scanned bytes: %+v %v", m, err)
	}
	// With names (--ignore-unsigned-files): only those files.
	m, err = ComputeKnown(context.Background(), dir, Options{}, []string{"b"}, known)
	if err != nil || len(m.Resources) != 1 || m.Bytes != 0 {
		t.Fatalf("names: %+v %v", m, err)
	}
}
