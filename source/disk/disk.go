// Package disk reads a model from a file or a directory. It hands out
// regular files only and never follows a link out of the root.
package disk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/hallmarkdev/hallmark/source"
)

// NotFoundError says the target does not exist.
type NotFoundError struct{ Path string }

func (e *NotFoundError) Error() string { return e.Path + ": no such file or directory" }

// Open opens a file or directory target. maxFiles caps how many files a
// directory may hand out (0: no cap).
func Open(ctx context.Context, target string, maxFiles int) (*source.Artifact, error) {
	st, err := os.Stat(target)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &NotFoundError{Path: target}
		}
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return nil, err
	}
	// The target itself may be a link (a Hugging Face snapshot file); the
	// root is where it leads.
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	if !st.IsDir() {
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file or directory", target)
		}
		dir, name := filepath.Split(abs)
		return &source.Artifact{Target: target, Kind: "file", Root: abs, Files: []source.File{{
			Path: ".", Size: st.Size(), Open: opener(dir, name),
		}}}, nil
	}
	art := &source.Artifact{Target: target, Kind: "directory", Root: abs}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	defer root.Close()
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			art.Skipped = append(art.Skipped, source.Skipped{Path: p, Kind: "unreadable", Reason: "unreadable: " + err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p == "." {
			return nil
		}
		mode := d.Type()
		switch {
		case d.IsDir():
			return nil
		case mode&fs.ModeSymlink != 0:
			art.Skipped = append(art.Skipped, link(abs, p))
			return nil
		case !mode.IsRegular():
			art.Skipped = append(art.Skipped, source.Skipped{Path: p, Kind: "special", Reason: "not a regular file (" + mode.Type().String() + "): skipped, never opened"})
			return nil
		}
		info, err := d.Info()
		if err != nil {
			art.Skipped = append(art.Skipped, source.Skipped{Path: p, Kind: "unreadable", Reason: "unreadable: " + err.Error()})
			return nil
		}
		if maxFiles > 0 && len(art.Files) >= maxFiles {
			return fmt.Errorf("%s: more than %d files", target, maxFiles)
		}
		art.Files = append(art.Files, source.File{Path: p, Size: info.Size(), Open: rootOpener(abs, p)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(art.Files, func(i, j int) bool { return art.Files[i].Path < art.Files[j].Path })
	return art, nil
}

// link classifies a symbolic link found in the tree. Links are never
// followed: a target inside the root is scanned under its own path, one
// outside it is reported. The link is resolved by the file system, not
// lexically, so "y/../x" through another link is judged where it leads.
func link(root, p string) source.Skipped {
	full := filepath.Join(root, filepath.FromSlash(p))
	dest, err := os.Readlink(full)
	if err != nil {
		return source.Skipped{Path: p, Kind: "link", Reason: "unreadable link: " + err.Error(), Escapes: true}
	}
	resolved, err := filepath.EvalSymlinks(full)
	if err != nil {
		// Broken now; judge where it points, since its target may appear
		// before the model is loaded.
		resolved = dest
		if !filepath.IsAbs(dest) {
			resolved = filepath.Join(filepath.Dir(full), dest)
		}
		if outside(root, resolved) {
			return source.Skipped{Path: p, Kind: "link", Reason: fmt.Sprintf("broken symbolic link to %s, outside the root: not followed, not scanned", dest), Escapes: true}
		}
		return source.Skipped{Path: p, Kind: "link", Reason: fmt.Sprintf("broken symbolic link to %s: nothing to read", dest)}
	}
	if outside(root, resolved) {
		return source.Skipped{Path: p, Kind: "link", Reason: fmt.Sprintf("symbolic link to %s, which resolves outside the root: not followed, not scanned", dest), Escapes: true}
	}
	return source.Skipped{Path: p, Kind: "link", Reason: fmt.Sprintf("symbolic link to %s inside the root: its target is scanned under its own path", dest)}
}

func outside(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel)
}

func opener(dir, name string) func() (source.Reader, error) {
	return func() (source.Reader, error) {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return nil, err
		}
		return regular(f, name)
	}
}

// rootOpener opens p through an os.Root so that a link swapped in after
// the walk cannot lead the read outside the root.
func rootOpener(root, p string) func() (source.Reader, error) {
	return func() (source.Reader, error) {
		r, err := os.OpenRoot(root)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		// O_NONBLOCK: a FIFO swapped in after the walk must not block the
		// open; on a regular file the flag changes nothing.
		f, err := r.OpenFile(filepath.FromSlash(p), os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return nil, err
		}
		return regular(f, p)
	}
}

func regular(f *os.File, p string) (source.Reader, error) {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: no longer a regular file", p)
	}
	return f, nil
}
