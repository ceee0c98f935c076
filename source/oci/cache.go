package oci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/hallmarkdev/hallmark/source"
)

// DigestError says bytes did not match the digest or size that named them.
type DigestError struct {
	What   string // "blob" or "manifest"
	Digest string // the expected digest
	Got    string // the digest of what was received ("" if the size was wrong)
	Size   int64  // bytes received
	Want   int64  // the expected size (blobs)
}

func (e *DigestError) Error() string {
	if e.Got == "" {
		if e.Size > e.Want {
			return fmt.Sprintf("%s %s: size mismatch: received more than the %d bytes the manifest states: the source served other content, not scanned", e.What, e.Digest, e.Want)
		}
		return fmt.Sprintf("%s %s: size mismatch: received %d bytes, the manifest states %d: the source served other content, not scanned", e.What, e.Digest, e.Size, e.Want)
	}
	return fmt.Sprintf("%s %s: digest mismatch: received %d bytes hashing to %s: the source served other content, not scanned", e.What, e.Digest, e.Size, e.Got)
}

// DefaultCacheMaxBytes is the blob cache bound when Config.CacheMaxBytes
// is 0: 20 GiB.
const DefaultCacheMaxBytes int64 = 20 << 30

// Progress is what Config.Progress hears while a blob is downloaded: Done
// of Total bytes of blob Digest. It is called at most every
// progressEvery per blob, and once with Done == Total (or, on failure,
// with Err set) when the download ends.
type Progress struct {
	Digest      string
	Done, Total int64
	Err         error
}

const progressEvery = 200 * time.Millisecond

// inUse counts, per cached blob path, the readers open in this process
// and downloads under way: eviction never removes those.
var inUse = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

func pin(p string) {
	inUse.Lock()
	inUse.n[p]++
	inUse.Unlock()
}

func unpin(p string) {
	inUse.Lock()
	if inUse.n[p]--; inUse.n[p] <= 0 {
		delete(inUse.n, p)
	}
	inUse.Unlock()
}

func pinned(p string) bool {
	inUse.Lock()
	defer inUse.Unlock()
	return inUse.n[p] > 0
}

// cache is the content-addressed blob store: dir/sha256/<hex>.
//
// It is bounded: after each download, the least recently used blobs (by
// modification time, which every use refreshes) are removed until the
// blobs take at most max bytes. Blobs of the artifact being read (every
// layer the manifest names, see keep) and blobs open anywhere in this
// process are never removed, so the cache can exceed the bound by what one
// run needs. Files another process has open stay readable after removal
// (unlink semantics); only the disk space comes back later.
type cache struct {
	dir      string
	paranoid bool
	max      int64 // < 0: no bound
	progress func(Progress)
	stream   bool
	sf       singleflight.Group
	// fetchVerifies: the fetcher's reader checks the digest itself and
	// fails its last read on a mismatch (registry blobs through
	// go-containerregistry); layout blobs are hashed here.
	fetchVerifies bool

	mu      sync.Mutex
	keep    map[string]bool    // hex digests of the current artifact's blobs
	streams map[string]*stream // downloads under way (Config.Stream)
	evMu    sync.Mutex         // one eviction pass at a time
}

// DefaultCacheDir is $XDG_CACHE_HOME/hallmark/blobs, else
// os.UserCacheDir()/hallmark/blobs.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "hallmark", "blobs"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("blob cache: %w (set XDG_CACHE_HOME)", err)
	}
	return filepath.Join(d, "hallmark", "blobs"), nil
}

func newCache(cfg Config) (*cache, error) {
	dir := cfg.CacheDir
	if dir == "" {
		var err error
		if dir, err = DefaultCacheDir(); err != nil {
			return nil, err
		}
	}
	max := cfg.CacheMaxBytes
	if max == 0 {
		max = DefaultCacheMaxBytes
	}
	return &cache{dir: dir, paranoid: cfg.Paranoid, max: max, progress: cfg.Progress, stream: cfg.Stream, keep: map[string]bool{}, streams: map[string]*stream{}}, nil
}

// use marks blob d as part of the artifact being read: it is never
// evicted by this cache, and if it is already cached it becomes the most
// recently used.
func (c *cache) use(d string) {
	h, ok := sha256Hex(d)
	if !ok {
		return
	}
	c.mu.Lock()
	c.keep[h] = true
	c.mu.Unlock()
	touch(filepath.Join(c.dir, "sha256", h))
}

func touch(p string) {
	now := time.Now()
	os.Chtimes(p, now, now) // best effort: a missing blob is fetched later
}

func (c *cache) kept(h string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keep[h]
}

// pinnedFile is a cached blob held open: eviction leaves it alone until
// it is closed.
type pinnedFile struct {
	*os.File
	path string
	once sync.Once
}

func (f *pinnedFile) Close() error {
	f.once.Do(func() { unpin(f.path) })
	return f.File.Close()
}

// open returns the blob d of the given size from the cache, downloading
// it through fetch first if it is not there. A download whose size or
// digest does not match is deleted and is an error naming d.
func (c *cache) open(ctx context.Context, d string, size int64, fetch func() (io.ReadCloser, error)) (source.Reader, error) {
	h, ok := sha256Hex(d)
	if !ok {
		return nil, fmt.Errorf("blob %s: unsupported digest", d)
	}
	final := filepath.Join(c.dir, "sha256", h)
	c.mu.Lock()
	c.keep[h] = true // read in this run: never evicted by it
	c.mu.Unlock()
	pin(final)
	if c.stream && !c.paranoid {
		r, err := c.openStream(ctx, final, d, h, size, fetch)
		if err != nil {
			unpin(final)
		}
		return r, err
	}
	f, err := c.openPinned(ctx, final, d, h, size, fetch)
	if err != nil || f == nil {
		unpin(final)
		if err == nil {
			err = fmt.Errorf("blob %s: vanished from the cache %s", d, c.dir)
		}
		return nil, err
	}
	touch(final)
	return &pinnedFile{File: f, path: final}, nil
}

func (c *cache) openPinned(ctx context.Context, final, d, h string, size int64, fetch func() (io.ReadCloser, error)) (*os.File, error) {
	if f, err := c.cached(final, d, size); f != nil || err != nil {
		return f, err
	}
	_, err, _ := c.sf.Do(h, func() (any, error) {
		if f, err := c.cached(final, d, size); f != nil || err != nil {
			if f != nil {
				f.Close()
			}
			return nil, err
		}
		if err := c.download(ctx, final, d, h, size, fetch, nil); err != nil {
			return nil, err
		}
		c.evict()
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return c.cached(final, d, size)
}

// evict removes the least recently used blobs until the cache holds at
// most c.max bytes, sparing the current artifact's blobs and open ones.
// Errors are ignored: the bound is best effort, a full disk shows up as
// a failed download.
func (c *cache) evict() {
	if c.max < 0 {
		return
	}
	c.evMu.Lock()
	defer c.evMu.Unlock()
	dir := filepath.Join(c.dir, "sha256")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type blob struct {
		path  string
		size  int64
		mtime time.Time
	}
	var total int64
	var cands []blob
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if _, ok := sha256Hex("sha256:" + e.Name()); !ok {
			// A partial download: under way (counted, kept) or left by a
			// run that died (removed after a day).
			if strings.HasPrefix(e.Name(), ".partial-") && time.Since(info.ModTime()) > 24*time.Hour && os.Remove(p) == nil {
				continue
			}
			total += info.Size()
			continue
		}
		total += info.Size()
		if c.kept(e.Name()) || pinned(p) {
			continue
		}
		cands = append(cands, blob{p, info.Size(), info.ModTime()})
	}
	if total <= c.max {
		return
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].mtime.Before(cands[j].mtime) })
	for _, b := range cands {
		if total <= c.max {
			return
		}
		if pinned(b.path) {
			continue
		}
		if os.Remove(b.path) == nil {
			total -= b.size
		}
	}
}

// cached opens the cached blob if it is there with the right size (and,
// when paranoid, the right digest). A wrong one is removed: (nil, nil).
func (c *cache) cached(final, d string, size int64) (*os.File, error) {
	f, err := os.Open(final)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("blob %s: cache: %w", d, err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() != size {
		f.Close()
		os.Remove(final)
		return nil, nil
	}
	if c.paranoid {
		hh := sha256.New()
		if _, err := io.Copy(hh, io.NewSectionReader(f, 0, size)); err != nil {
			f.Close()
			return nil, fmt.Errorf("blob %s: cache: %w", d, err)
		}
		if "sha256:"+hex.EncodeToString(hh.Sum(nil)) != d {
			f.Close()
			os.Remove(final)
			return nil, nil
		}
	}
	return f, nil
}

// download writes the blob to a temporary file next to final, checking
// size and digest while it is written, and renames it into place. With a
// stream, the temporary file is the stream's (created by the caller, left
// open for its readers) and every write advances it.
func (c *cache) download(ctx context.Context, final, d, h string, size int64, fetch func() (io.ReadCloser, error), st *stream) (err error) {
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fmt.Errorf("blob cache: %w", err)
	}
	var tmp *os.File
	if st != nil {
		tmp = st.f
	} else if tmp, err = os.CreateTemp(filepath.Dir(final), ".partial-"+h[:16]+"-"); err != nil {
		return fmt.Errorf("blob cache: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			if st == nil {
				tmp.Close()
			}
			os.Remove(tmp.Name())
		}
	}()
	rc, err := fetch()
	if err != nil {
		return fmt.Errorf("blob %s: %w", d, err)
	}
	defer rc.Close()
	hh := sha256.New()
	buf := make([]byte, 1<<20)
	var w io.Writer = io.MultiWriter(tmp, hh)
	if c.fetchVerifies {
		w = tmp
	}
	if st != nil {
		w = &streamWriter{w: w, s: st}
	}
	if c.progress != nil {
		pw := &progressWriter{w: w, report: c.progress, p: Progress{Digest: d, Total: size}}
		defer func() { pw.end(err) }()
		w = pw
	}
	n, err := io.CopyBuffer(w, &ctxReader{ctx: ctx, r: io.LimitReader(rc, size+1)}, buf)
	if n > size {
		return &DigestError{What: "blob", Digest: d, Size: n, Want: size}
	}
	got := "sha256:" + hex.EncodeToString(hh.Sum(nil))
	if c.fetchVerifies {
		got = d // checked by the fetcher: a mismatch is err below
		if err != nil && n == size && strings.Contains(err.Error(), "checksum") {
			return &DigestError{What: "blob", Digest: d, Got: "(" + err.Error() + ")", Size: n, Want: size}
		}
	}
	if err != nil {
		if n == size && got != d {
			// go-containerregistry checks the digest at EOF too; say it
			// the same way whoever notices first.
			return &DigestError{What: "blob", Digest: d, Got: got, Size: n, Want: size}
		}
		return fmt.Errorf("blob %s: %w", d, err)
	}
	if got != d {
		return &DigestError{What: "blob", Digest: d, Got: got, Size: n, Want: size}
	}
	if n != size {
		return &DigestError{What: "blob", Digest: d, Size: n, Want: size}
	}
	if st == nil {
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("blob cache: %w", err)
		}
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("blob cache: %w", err)
	}
	ok = true
	return nil
}

// stream is a blob being downloaded that readers consume as it arrives
// (Config.Stream): the scan and the download overlap instead of the
// scan reading the blob again once it is cached. Reads wait for the bytes
// they ask for. The bytes are not yet verified when they are handed out;
// a reader that reaches the end gets the download's verdict, so a
// consumer must read every blob to its end (hallmark's scanner does when
// it hashes) for a mismatch to show. After a failure every read fails.
type stream struct {
	f    *os.File // the partial file, open read-write; renamed into place on success
	size int64

	mu      sync.Mutex
	cond    *sync.Cond
	written int64
	done    bool
	err     error
	refs    int // readers open + 1 for the download
}

func (s *stream) advance(n int64) {
	s.mu.Lock()
	s.written += n
	s.mu.Unlock()
	s.cond.Broadcast()
}

func (s *stream) finish(err error) {
	s.mu.Lock()
	s.done, s.err = true, err
	s.mu.Unlock()
	s.cond.Broadcast()
	s.release()
}

func (s *stream) release() {
	s.mu.Lock()
	s.refs--
	last := s.refs == 0
	s.mu.Unlock()
	if last {
		s.f.Close()
	}
}

type streamWriter struct {
	w io.Writer
	s *stream
}

func (w *streamWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.s.advance(int64(n))
	return n, err
}

// streamReader is one reader of a stream.
type streamReader struct {
	s    *stream
	off  int64
	once sync.Once
	path string
}

func (r *streamReader) ReadAt(p []byte, off int64) (int, error) {
	s := r.s
	if off < 0 {
		return 0, fmt.Errorf("negative offset")
	}
	want := min(off+int64(len(p)), s.size)
	s.mu.Lock()
	// A read that reaches the end waits for the verdict.
	for !s.done && (s.written < want || want >= s.size) {
		s.cond.Wait()
	}
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if off >= s.size {
		return 0, io.EOF
	}
	n, err := s.f.ReadAt(p[:want-off], off)
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

func (r *streamReader) Read(p []byte) (int, error) {
	n, err := r.ReadAt(p, r.off)
	r.off += int64(n)
	return n, err
}

func (r *streamReader) Close() error {
	r.once.Do(func() {
		r.s.release()
		unpin(r.path)
	})
	return nil
}

// openStream hands out a reader of blob d while it downloads, starting
// the download if no other reader has.
func (c *cache) openStream(ctx context.Context, final, d, h string, size int64, fetch func() (io.ReadCloser, error)) (source.Reader, error) {
	c.mu.Lock()
	st := c.streams[h]
	if st == nil {
		if f, err := c.cached(final, d, size); f != nil || err != nil {
			c.mu.Unlock()
			if err != nil {
				return nil, err
			}
			touch(final)
			return &pinnedFile{File: f, path: final}, nil
		}
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			c.mu.Unlock()
			return nil, fmt.Errorf("blob cache: %w", err)
		}
		f, err := os.CreateTemp(filepath.Dir(final), ".partial-"+h[:16]+"-")
		if err != nil {
			c.mu.Unlock()
			return nil, fmt.Errorf("blob cache: %w", err)
		}
		st = &stream{f: f, size: size, refs: 1}
		st.cond = sync.NewCond(&st.mu)
		c.streams[h] = st
		pin(final) // the download's own pin
		go func() {
			err := c.download(ctx, final, d, h, size, fetch, st)
			c.mu.Lock()
			delete(c.streams, h)
			c.mu.Unlock()
			st.finish(err)
			unpin(final)
			if err == nil {
				c.evict()
			}
		}()
	}
	if st.size != size {
		// One digest listed with two sizes: one of them is a lie, and a
		// reader of the shorter size would never see the digest verdict.
		c.mu.Unlock()
		return nil, &DigestError{What: "blob", Digest: d, Size: st.size, Want: size}
	}
	st.mu.Lock()
	st.refs++
	st.mu.Unlock()
	c.mu.Unlock()
	return &streamReader{s: st, path: final}, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// progressWriter reports bytes written, at most every progressEvery.
type progressWriter struct {
	w      io.Writer
	report func(Progress)
	p      Progress
	last   time.Time
}

func (pw *progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	pw.p.Done += int64(n)
	if now := time.Now(); now.Sub(pw.last) >= progressEvery && pw.p.Done < pw.p.Total {
		pw.last = now
		pw.report(pw.p)
	}
	return n, err
}

func (pw *progressWriter) end(err error) {
	p := pw.p
	if err != nil {
		p.Err = err
	} else {
		p.Done = p.Total
	}
	pw.report(p)
}
