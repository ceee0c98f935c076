package manifest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
)

// GitPaths are the top-level paths model_signing ignores by default
// (Options.IgnoreGitPaths).
var GitPaths = []string{".git", ".gitattributes", ".github", ".gitignore"}

// Compute hashes the model at model (a directory or a single regular file)
// as model_signing does and returns its manifest.
//
// Enumeration: the whole tree, dotfiles included; only regular files become
// resources. FIFOs, sockets and devices are an error, and so are broken
// symlinks and symlink loops. A symlink is an error unless
// opts.AllowSymlinks; then a link to a file is hashed (the target's bytes)
// under the link's name, and a link to a directory is not followed (its
// files are hashed under their own paths; model_signing does the same).
// A symlink whose target resolves outside the model root is an error either
// way. Ignored paths (opts.IgnorePaths, the git paths) are skipped before
// any of these checks, like model_signing does.
//
// Deviation from model_signing: model itself may be a symlink (it is
// resolved first); model_signing refuses a symlinked model path unless
// symlinks are allowed.
//
// A single-file model has one resource named "." (files) or ".:start:end"
// per shard (shards), as model_signing's path.relative_to(model_path)
// gives; IgnorePaths cannot match it. A file name that a signature could
// not carry (invalid UTF-8, a backslash; see [ValidName]) is an error
// unless ignored. Errors name the offending path.
//
// Hashing: files (or shards) are hashed opts.Workers at a time, longest
// first, each shard through its own reader at its offset; every worker
// holds one 1 MiB buffer, so memory does not grow with the model's size.
// A file that changes length while it is hashed in shards is an error.
// The result is in model_signing's order (see [SortResources]).
//
// Hugging Face cache snapshots (snapshots/REV/* are links to ../../blobs)
// fail the outside-the-root rule; hash the files, not the snapshot folder.
func Compute(ctx context.Context, model string, opts Options) (*Manifest, error) {
	return compute(ctx, model, opts, nil, nil)
}

// Known gives the SHA-256 of a whole file (by resource name and size)
// that was already computed while the same run read it, or false.
type Known func(name string, size int64) (sha256 []byte, ok bool)

// ComputeKnown is Compute, or ComputeNames when names is not nil, taking
// the SHA-256 of whole files from known instead of reading them again:
// `hallmark check` verifies the signature over the digests the scan
// computed, so each byte is read once and the signature covers exactly
// the bytes that were scanned. With the files serialization and sha256
// the known digest is the resource's; with blake2b or blake3 the file is
// read and must still hash to the known SHA-256 (else an error wrapping
// ErrNotScanned); shards read the files as Compute does. Manifest.Bytes
// counts only the bytes read here.
func ComputeKnown(ctx context.Context, model string, opts Options, names []string, known Known) (*Manifest, error) {
	if names != nil {
		paths, err := namePaths(opts, names)
		if err != nil {
			return nil, err
		}
		names = paths
	}
	return compute(ctx, model, opts, names, known)
}

// ComputeNames hashes only the files that names (resource names from a
// signature) refer to, for --ignore-unsigned-files. Every name is checked
// with [ValidResourceName] for opts.Method first; one that is invalid or
// could escape the model root is an error. A named file that does not
// exist, is ignored, is not a regular file (a directory), or lies below a
// symlinked directory is simply absent from the result; the caller reports
// it missing. The symlink, FIFO and ignore rules of [Compute] apply to the
// named files.
//
// For shard names, every shard of the named file is hashed (at
// opts.ShardSize), not only the named ranges, so [Compare] sees a file that
// grew or shrank.
func ComputeNames(ctx context.Context, model string, opts Options, names []string) (*Manifest, error) {
	paths, err := namePaths(opts, names)
	if err != nil {
		return nil, err
	}
	return compute(ctx, model, opts, paths, nil)
}

// namePaths checks a signature's resource names and returns the files
// they name, each once.
func namePaths(opts Options, names []string) ([]string, error) {
	method := opts.Method
	if method == "" {
		method = MethodFiles
	}
	paths := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if err := ValidResourceName(method, n); err != nil {
			return nil, fmt.Errorf("refusing resource name: %w", err)
		}
		p := n
		if method == MethodShards {
			p, _, _, _ = ParseShardName(n)
		}
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	return paths, nil
}

// DefaultWorkers is the number of files or shards hashed at once when
// Options.Workers is 0: min(32, GOMAXPROCS+4), the default of the
// ThreadPoolExecutor model_signing hashes with. More jobs than cores keep
// every core busy to the end when the jobs differ in length (a 4 GiB file
// in 1 GB shards is five jobs), and help storage that serves parallel
// reads; memory stays bounded (one 1 MiB buffer per job).
func DefaultWorkers() int { return min(32, runtime.GOMAXPROCS(0)+4) }

// config is Options checked and with defaults filled in.
type config struct {
	Options
	ignore  map[string]bool // cleaned model-relative paths, git defaults included
	ignored []string        // what ignore_paths records, sorted
}

func prepare(opts Options) (*config, error) {
	c := &config{Options: opts, ignore: map[string]bool{}}
	switch c.Method {
	case "":
		c.Method = MethodFiles
	case MethodFiles, MethodShards:
	default:
		return nil, fmt.Errorf("unknown serialization method %q (want %q or %q)", c.Method, MethodFiles, MethodShards)
	}
	switch c.Hash {
	case "":
		c.Hash = HashSHA256
	case HashSHA256, HashBLAKE2b, HashBLAKE3:
	default:
		return nil, fmt.Errorf("unknown hash %q (want %q, %q or %q)", c.Hash, HashSHA256, HashBLAKE2b, HashBLAKE3)
	}
	if c.Method == MethodShards {
		switch {
		case c.ShardSize == 0:
			c.ShardSize = DefaultShardSize
		case c.ShardSize < 0:
			return nil, fmt.Errorf("shard size %d is not positive", c.ShardSize)
		}
	} else {
		c.ShardSize = 0
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers()
	}
	var user []string
	for _, p := range opts.IgnorePaths {
		cp, ok, err := cleanIgnore(p)
		if err != nil {
			return nil, err
		}
		if !ok || c.ignore[cp] {
			continue
		}
		c.ignore[cp] = true
		user = append(user, cp)
	}
	sort.Strings(user)
	c.IgnorePaths = user
	if c.IgnoreGitPaths {
		for _, g := range GitPaths {
			c.ignore[g] = true
		}
	}
	for p := range c.ignore {
		c.ignored = append(c.ignored, p)
	}
	sort.Strings(c.ignored)
	return c, nil
}

// cleanIgnore turns an ignore path into the model-relative form that
// model_signing records. Paths that cannot name anything inside the model
// (absolute, or leaving it through "..") are dropped, as model_signing drops
// them. "" and "." would ignore the whole model (model_signing then signs
// nothing); they are refused.
func cleanIgnore(p string) (string, bool, error) {
	cp := path.Clean(p)
	switch {
	case cp == ".":
		return "", false, fmt.Errorf("ignore path %q would ignore the whole model", p)
	case path.IsAbs(cp), cp == "..", strings.HasPrefix(cp, "../"):
		return "", false, nil
	}
	return cp, true, nil
}

// skip reports whether rel or one of its parent directories is ignored.
func (c *config) skip(rel string) bool {
	if len(c.ignore) == 0 || rel == "." {
		return false
	}
	for i := 0; i <= len(rel); i++ {
		if i == len(rel) || rel[i] == '/' {
			if c.ignore[rel[:i]] {
				return true
			}
		}
	}
	return false
}

// model is an opened model: a directory (root != nil) or a single file.
type model struct {
	cfg  *config
	dir  string   // resolved absolute path of the directory, or of the file
	root *os.Root // nil for a single-file model
	size int64    // single-file model: its size
	// files found: resource path → path to open (relative to root, or
	// absolute for a single-file model) and size
	files []file
}

type file struct {
	name string // resource path
	open string // what to open
	size int64
}

func compute(ctx context.Context, modelPath string, opts Options, names []string, known Known) (*Manifest, error) {
	cfg, err := prepare(opts)
	if err != nil {
		return nil, err
	}
	m, err := openModel(modelPath, cfg)
	if err != nil {
		return nil, err
	}
	if m.root != nil {
		defer m.root.Close()
	}
	switch {
	case m.root == nil:
		if names == nil || contains(names, ".") {
			m.files = append(m.files, file{name: ".", open: m.dir, size: m.size})
		}
	case names == nil:
		if err := m.walk(ctx, "."); err != nil {
			return nil, err
		}
	default:
		for _, n := range names {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := m.lookup(n); err != nil {
				return nil, err
			}
		}
	}
	entries := plan(cfg, m.files)
	if cfg.Method == MethodShards {
		known = nil // a shard's bytes are not a whole file's digest
	}
	res, n, err := hashAll(ctx, cfg, m, entries, known)
	if err != nil {
		return nil, err
	}
	out := &Manifest{Options: cfg.Options, Resources: res, Bytes: n, Ignored: cfg.ignored}
	if out.Ignored == nil {
		out.Ignored = []string{}
	}
	return out, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func openModel(p string, cfg *config) (*model, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", p, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", p, err)
	}
	m := &model{cfg: cfg, dir: real}
	switch {
	case fi.IsDir():
		if m.root, err = os.OpenRoot(real); err != nil {
			return nil, fmt.Errorf("model %s: %w", p, err)
		}
	case fi.Mode().IsRegular():
		m.size = fi.Size()
	default:
		return nil, fmt.Errorf("model %s: not a regular file or directory (%s)", p, kind(fi.Mode()))
	}
	return m, nil
}

// walk adds the files below dir (relative to the root, "." for the root).
// It never follows a symlinked directory, so it cannot loop.
func (m *model) walk(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ents, err := fs.ReadDir(m.root.FS(), dir)
	if err != nil {
		return fmt.Errorf("%s: %w", m.show(dir), err)
	}
	for _, e := range ents {
		rel := e.Name()
		if dir != "." {
			rel = dir + "/" + rel
		}
		if m.cfg.skip(rel) {
			continue
		}
		t := e.Type()
		switch {
		case t.IsDir():
			if err := m.walk(ctx, rel); err != nil {
				return err
			}
		case t&fs.ModeSymlink != 0:
			if err := m.link(rel); err != nil {
				return err
			}
		case t.IsRegular():
			fi, err := e.Info()
			if err != nil {
				return fmt.Errorf("%s: %w", m.show(rel), err)
			}
			if !fi.Mode().IsRegular() { // replaced since ReadDir
				return fmt.Errorf("%s: not a regular file or directory (%s)", m.show(rel), kind(fi.Mode()))
			}
			if err := m.add(rel, rel, fi.Size()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: not a regular file or directory (%s); model_signing refuses it too", m.show(rel), kind(t))
		}
	}
	return nil
}

// lookup adds the file at rel (a valid model-relative path from a
// signature) if it exists and is one Compute would hash.
func (m *model) lookup(rel string) error {
	if rel == "." || m.cfg.skip(rel) {
		return nil
	}
	// Parents must be real directories: Compute never enters a symlinked
	// directory, so nothing below one is a resource.
	for i := 0; i < len(rel); i++ {
		if rel[i] != '/' {
			continue
		}
		fi, err := m.root.Lstat(rel[:i])
		if isAbsent(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", m.show(rel[:i]), err)
		}
		if !fi.IsDir() {
			return nil
		}
	}
	fi, err := m.root.Lstat(rel)
	if isAbsent(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", m.show(rel), err)
	}
	t := fi.Mode()
	switch {
	case t.IsDir():
		return nil
	case t&fs.ModeSymlink != 0:
		return m.link(rel)
	case t.IsRegular():
		return m.add(rel, rel, fi.Size())
	default:
		return fmt.Errorf("%s: not a regular file or directory (%s); model_signing refuses it too", m.show(rel), kind(t))
	}
}

func isAbsent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// link handles the symlink at rel.
func (m *model) link(rel string) error {
	full := filepath.Join(m.dir, filepath.FromSlash(rel))
	target, err := filepath.EvalSymlinks(full)
	if err != nil {
		dest, _ := os.Readlink(full)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: broken symlink (to %s)", m.show(rel), dest)
		}
		return fmt.Errorf("%s: cannot resolve symlink (to %s): %w", m.show(rel), dest, err)
	}
	inside, ok := within(m.dir, target)
	if !ok {
		return fmt.Errorf("%s: symlink resolves to %s, outside the model root %s", m.show(rel), target, m.dir)
	}
	if !m.cfg.AllowSymlinks {
		return fmt.Errorf("%s: is a symlink (to %s); symlinks are refused unless allowed", m.show(rel), inside)
	}
	fi, err := m.root.Lstat(inside)
	if err != nil {
		return fmt.Errorf("%s: symlink target %s: %w", m.show(rel), inside, err)
	}
	switch t := fi.Mode(); {
	case t.IsDir():
		return nil // not followed, like model_signing's glob
	case t.IsRegular():
		return m.add(rel, inside, fi.Size())
	default:
		return fmt.Errorf("%s: symlink to %s, which is not a regular file or directory (%s)", m.show(rel), inside, kind(t))
	}
}

// within returns target relative to root (slash-separated) when target is
// root or below it.
func within(root, target string) (string, bool) {
	if target == root {
		return ".", true
	}
	prefix := root
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	if !strings.HasPrefix(target, prefix) {
		return "", false
	}
	return filepath.ToSlash(target[len(prefix):]), true
}

func (m *model) add(name, open string, size int64) error {
	if err := validPath(name); err != nil {
		return fmt.Errorf("%s: cannot be recorded in a signature: %w", m.show(name), err)
	}
	m.files = append(m.files, file{name: name, open: open, size: size})
	return nil
}

// show is rel as it appears in an error: the model path joined with rel.
func (m *model) show(rel string) string {
	if rel == "." {
		return m.dir
	}
	return filepath.Join(m.dir, filepath.FromSlash(rel))
}

func kind(t fs.FileMode) string {
	switch {
	case t&fs.ModeNamedPipe != 0:
		return "named pipe"
	case t&fs.ModeSocket != 0:
		return "socket"
	case t&fs.ModeCharDevice != 0:
		return "character device"
	case t&fs.ModeDevice != 0:
		return "device"
	case t&fs.ModeSymlink != 0:
		return "symlink"
	}
	return "irregular file " + t.String()
}

// plan turns files into the entries to hash, in model_signing's order.
func plan(cfg *config, files []file) []entry {
	sort.Slice(files, func(i, j int) bool { return comparePath(files[i].name, files[j].name) < 0 })
	var es []entry
	for i, f := range files {
		if cfg.Method != MethodShards {
			es = append(es, entry{path: f.name, end: f.size, file: i})
			continue
		}
		for start := int64(0); start < f.size; start += cfg.ShardSize {
			end := min(start+cfg.ShardSize, f.size)
			es = append(es, entry{path: f.name, start: start, end: end, shard: true, file: i})
		}
	}
	return es
}
