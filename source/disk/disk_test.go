package disk_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/source"
	"github.com/hallmarkdev/hallmark/source/disk"
)

// write creates root/rel (slash-separated) with content, making parents.
func write(t *testing.T, root, rel, content string) string {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func realpath(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// open calls disk.Open with a deadline, so that a provider that opens a
// FIFO (and blocks) fails the test instead of hanging it.
func open(t *testing.T, target string, maxFiles int) (*source.Artifact, error) {
	t.Helper()
	type result struct {
		art *source.Artifact
		err error
	}
	ch := make(chan result, 1)
	go func() {
		art, err := disk.Open(context.Background(), target, maxFiles)
		ch <- result{art, err}
	}()
	select {
	case r := <-ch:
		return r.art, r.err
	case <-time.After(20 * time.Second):
		t.Fatalf("disk.Open(%s) did not return", target)
		return nil, nil
	}
}

func mustOpen(t *testing.T, target string) *source.Artifact {
	t.Helper()
	art, err := open(t, target, 0)
	if err != nil {
		t.Fatalf("disk.Open(%s): %v", target, err)
	}
	return art
}

func paths(art *source.Artifact) []string {
	var out []string
	for _, f := range art.Files {
		out = append(out, f.Path)
	}
	return out
}

func skipped(art *source.Artifact, p string) (source.Skipped, bool) {
	for _, s := range art.Skipped {
		if s.Path == p {
			return s, true
		}
	}
	return source.Skipped{}, false
}

func read(t *testing.T, f source.File) string {
	t.Helper()
	r, err := f.Open()
	if err != nil {
		t.Fatalf("open %s: %v", f.Path, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", f.Path, err)
	}
	// ReaderAt works on the same reader.
	if len(b) > 1 {
		buf := make([]byte, 1)
		if _, err := r.ReadAt(buf, 1); err != nil || buf[0] != b[1] {
			t.Errorf("ReadAt(1) on %s = %q, %v", f.Path, buf, err)
		}
	}
	return string(b)
}

func TestSingleFile(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "model.pkl", "hello pickle")
	art := mustOpen(t, p)
	if art.Kind != "file" || art.Target != p {
		t.Errorf("Kind, Target = %q, %q", art.Kind, art.Target)
	}
	if art.Root != realpath(t, p) {
		t.Errorf("Root = %q, want %q", art.Root, realpath(t, p))
	}
	if len(art.Files) != 1 || len(art.Skipped) != 0 {
		t.Fatalf("Files = %v, Skipped = %v", paths(art), art.Skipped)
	}
	f := art.Files[0]
	if f.Path != "." || f.Size != int64(len("hello pickle")) {
		t.Errorf("file = %q size %d", f.Path, f.Size)
	}
	if got := read(t, f); got != "hello pickle" {
		t.Errorf("content = %q", got)
	}
}

func TestSingleFileThroughLink(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "blobs/abc123", "blob bytes")
	link := filepath.Join(dir, "model.bin")
	symlink(t, "blobs/abc123", link)
	art := mustOpen(t, link)
	if art.Kind != "file" || art.Root != realpath(t, p) {
		t.Errorf("Kind, Root = %q, %q", art.Kind, art.Root)
	}
	if len(art.Files) != 1 || art.Files[0].Path != "." {
		t.Fatalf("Files = %v", paths(art))
	}
	if got := read(t, art.Files[0]); got != "blob bytes" {
		t.Errorf("content = %q", got)
	}
}

func TestDirectorySorted(t *testing.T) {
	dir := t.TempDir()
	// Created out of order; with names whose walk order differs from their
	// sorted order ("a/..." is walked before "a.txt", '.' < '/').
	for _, rel := range []string{"z.bin", "a/b/c.pkl", "a.txt", "B.md", "a/a.pkl", "a/b/d/e/f.pkl", "a-b"} {
		write(t, dir, rel, rel)
	}
	if err := os.MkdirAll(filepath.Join(dir, "empty", "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	art := mustOpen(t, dir)
	if art.Kind != "directory" || art.Root != realpath(t, dir) {
		t.Errorf("Kind, Root = %q, %q", art.Kind, art.Root)
	}
	want := []string{"B.md", "a-b", "a.txt", "a/a.pkl", "a/b/c.pkl", "a/b/d/e/f.pkl", "z.bin"}
	if got := paths(art); !slices.Equal(got, want) {
		t.Errorf("Files = %q, want %q", got, want)
	}
	if !slices.IsSorted(paths(art)) {
		t.Errorf("Files not sorted")
	}
	if len(art.Skipped) != 0 {
		t.Errorf("Skipped = %v", art.Skipped)
	}
	for _, f := range art.Files {
		if strings.Contains(f.Path, "\\") || strings.HasPrefix(f.Path, "/") {
			t.Errorf("path %q is not slash-relative", f.Path)
		}
		if f.Size != int64(len(f.Path)) {
			t.Errorf("%s: Size %d", f.Path, f.Size)
		}
		if got := read(t, f); got != f.Path {
			t.Errorf("%s: content %q", f.Path, got)
		}
	}
}

func TestEmptyDirectory(t *testing.T) {
	art := mustOpen(t, t.TempDir())
	if len(art.Files) != 0 || len(art.Skipped) != 0 {
		t.Errorf("Files = %v, Skipped = %v", paths(art), art.Skipped)
	}
}

func TestSymlinkInsideRoot(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "model.pkl", "m")
	write(t, dir, "sub/weights.bin", "w")
	symlink(t, "model.pkl", filepath.Join(dir, "alias.pkl"))
	symlink(t, "../model.pkl", filepath.Join(dir, "sub", "up.pkl"))
	symlink(t, "sub", filepath.Join(dir, "subdir-link"))
	symlink(t, filepath.Join(realpath(t, dir), "sub", "weights.bin"), filepath.Join(dir, "abs-inside.bin"))
	art := mustOpen(t, dir)
	if got, want := paths(art), []string{"model.pkl", "sub/weights.bin"}; !slices.Equal(got, want) {
		t.Errorf("Files = %q, want %q (links are never handed out)", got, want)
	}
	for _, p := range []string{"alias.pkl", "sub/up.pkl", "subdir-link", "abs-inside.bin"} {
		s, ok := skipped(art, p)
		if !ok {
			t.Errorf("%s not in Skipped %v", p, art.Skipped)
			continue
		}
		if s.Escapes {
			t.Errorf("%s: Escapes set for a link inside the root: %s", p, s.Reason)
		}
		if !strings.Contains(s.Reason, "inside the root") {
			t.Errorf("%s: reason %q", p, s.Reason)
		}
	}
	// The linked directory is not walked through the link.
	for _, f := range art.Files {
		if strings.HasPrefix(f.Path, "subdir-link/") {
			t.Errorf("walked through a link: %s", f.Path)
		}
	}
}

func TestSymlinkEscapingRoot(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "model")
	write(t, root, "model.pkl", "m")
	write(t, base, "outside/secret.pkl", "s")
	symlink(t, "../outside/secret.pkl", filepath.Join(root, "rel.pkl"))
	symlink(t, filepath.Join(base, "outside", "secret.pkl"), filepath.Join(root, "abs.pkl"))
	if err := os.MkdirAll(filepath.Join(root, "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, "../../outside", filepath.Join(root, "deep", "dir-link"))
	symlink(t, "..", filepath.Join(root, "parent"))
	art := mustOpen(t, root)
	if got := paths(art); !slices.Equal(got, []string{"model.pkl"}) {
		t.Errorf("Files = %q", got)
	}
	for _, p := range []string{"rel.pkl", "abs.pkl", "deep/dir-link", "parent"} {
		s, ok := skipped(art, p)
		if !ok {
			t.Errorf("%s not in Skipped %v", p, art.Skipped)
			continue
		}
		if !s.Escapes || !strings.Contains(s.Reason, "outside the root") {
			t.Errorf("%s: Escapes = %v, reason %q", p, s.Escapes, s.Reason)
		}
	}
}

func TestSymlinkEscapingThroughLinkedDotDot(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "model")
	write(t, root, "model.pkl", "m")
	write(t, base, "outside.pkl", "evil")
	symlink(t, ".", filepath.Join(root, "y"))
	symlink(t, "y/../outside.pkl", filepath.Join(root, "x"))
	// The kernel resolves model/x to base/outside.pkl.
	if b, err := os.ReadFile(filepath.Join(root, "x")); err != nil || string(b) != "evil" {
		t.Fatalf("setup: read through x = %q, %v", b, err)
	}
	art := mustOpen(t, root)
	s, ok := skipped(art, "x")
	if !ok || !s.Escapes {
		t.Errorf("x: %+v, want Escapes", s)
	}
}

func TestDanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "model.pkl", "m")
	symlink(t, "/nonexistent-hallmark-test/model.pkl", filepath.Join(dir, "abs-dangling"))
	symlink(t, "missing.pkl", filepath.Join(dir, "rel-dangling"))
	art := mustOpen(t, dir)
	if got := paths(art); !slices.Equal(got, []string{"model.pkl"}) {
		t.Errorf("Files = %q", got)
	}
	s, ok := skipped(art, "abs-dangling")
	if !ok || !s.Escapes {
		t.Errorf("abs-dangling: %+v (found %v), want Escapes", s, ok)
	}
	if _, ok := skipped(art, "rel-dangling"); !ok {
		t.Errorf("rel-dangling not in Skipped %v", art.Skipped)
	}
}

func TestFIFOSkipped(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "model.pkl", "m")
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	art := mustOpen(t, dir)
	if got := paths(art); !slices.Equal(got, []string{"model.pkl"}) {
		t.Errorf("Files = %q", got)
	}
	s, ok := skipped(art, "pipe")
	if !ok || s.Escapes || !strings.Contains(s.Reason, "not a regular file") {
		t.Errorf("pipe: %+v (found %v)", s, ok)
	}
	// Reading the other file does not touch the FIFO either.
	if got := read(t, art.Files[0]); got != "m" {
		t.Errorf("content %q", got)
	}
}

func TestFIFOTarget(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := open(t, p, 0)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("disk.Open(fifo) = %v", err)
	}
	var nf *disk.NotFoundError
	if errors.As(err, &nf) {
		t.Errorf("a FIFO is not a NotFoundError")
	}
}

func TestTargetLinkToDirectory(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "snapshots", "rev1")
	write(t, real, "model.pkl", "m")
	write(t, real, "sub/config.json", "{}")
	link := filepath.Join(base, "latest")
	symlink(t, "snapshots/rev1", link)
	art := mustOpen(t, link)
	if art.Kind != "directory" || art.Target != link {
		t.Errorf("Kind, Target = %q, %q", art.Kind, art.Target)
	}
	if art.Root != realpath(t, real) {
		t.Errorf("Root = %q, want %q", art.Root, realpath(t, real))
	}
	if got, want := paths(art), []string{"model.pkl", "sub/config.json"}; !slices.Equal(got, want) {
		t.Errorf("Files = %q, want %q", got, want)
	}
	if got := read(t, art.Files[1]); got != "{}" {
		t.Errorf("content %q", got)
	}
}

func TestNotFound(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such", "model")
	_, err := open(t, missing, 0)
	var nf *disk.NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("err = %T %v, want *disk.NotFoundError", err, err)
	}
	if nf.Path != missing || !strings.Contains(err.Error(), missing) {
		t.Errorf("NotFoundError = %q (Path %q)", err, nf.Path)
	}
	// A dangling link as the target is not found either.
	link := filepath.Join(t.TempDir(), "dangling")
	symlink(t, missing, link)
	if _, err := open(t, link, 0); !errors.As(err, &nf) || nf.Path != link {
		t.Errorf("dangling target: %v", err)
	}
}

func TestMaxFiles(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"a", "b", "c/d"} {
		write(t, dir, rel, rel)
	}
	if _, err := open(t, dir, 2); err == nil || !strings.Contains(err.Error(), "more than 2 files") {
		t.Errorf("maxFiles 2: err = %v", err)
	}
	art, err := open(t, dir, 3)
	if err != nil || len(art.Files) != 3 {
		t.Errorf("maxFiles 3: %v, %v", err, art)
	}
	// Skipped entries do not count.
	symlink(t, "a", filepath.Join(dir, "link"))
	if _, err := open(t, dir, 3); err != nil {
		t.Errorf("maxFiles 3 with a link: %v", err)
	}
	// The cap does not apply to a single-file target.
	if _, err := open(t, filepath.Join(dir, "a"), 1); err != nil {
		t.Errorf("single file: %v", err)
	}
}

func TestCancelled(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a", "a")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := disk.Open(ctx, dir, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// A file swapped for a link after the walk is not read through it.
func TestOpenAfterSwapToLink(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "model")
	p := write(t, root, "model.pkl", "m")
	write(t, base, "outside.pkl", "evil")
	art := mustOpen(t, root)
	if len(art.Files) != 1 {
		t.Fatalf("Files = %v", paths(art))
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	symlink(t, "../outside.pkl", p)
	r, err := art.Files[0].Open()
	if err == nil {
		b, _ := io.ReadAll(r)
		r.Close()
		t.Fatalf("opened a link out of the root after the walk: read %q", b)
	}
}

// A file swapped for a FIFO after the walk must be refused, not block.
func TestOpenAfterSwapToFIFO(t *testing.T) {
	root := t.TempDir()
	p := write(t, root, "model.pkl", "m")
	art := mustOpen(t, root)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		r, err := art.Files[0].Open()
		if err == nil {
			r.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("opened a FIFO as a regular file")
		}
	case <-time.After(3 * time.Second):
		// Unblock the open so the goroutine ends, then fail.
		if w, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		<-done
		t.Errorf("Open blocked on a FIFO swapped in after the walk")
	}
}
