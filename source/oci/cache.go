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

// cache is the content-addressed blob store: dir/sha256/<hex>.
type cache struct {
	dir      string
	paranoid bool
	sf       singleflight.Group
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

func newCache(dir string, paranoid bool) (*cache, error) {
	if dir == "" {
		var err error
		if dir, err = DefaultCacheDir(); err != nil {
			return nil, err
		}
	}
	return &cache{dir: dir, paranoid: paranoid}, nil
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
		return nil, c.download(ctx, final, d, h, size, fetch)
	})
	if err != nil {
		return nil, err
	}
	f, err := c.cached(final, d, size)
	if err == nil && f == nil {
		err = fmt.Errorf("blob %s: vanished from the cache %s", d, c.dir)
	}
	return f, err
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
// size and digest while it is written, and renames it into place.
func (c *cache) download(ctx context.Context, final, d, h string, size int64, fetch func() (io.ReadCloser, error)) error {
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fmt.Errorf("blob cache: %w", err)
	}
	rc, err := fetch()
	if err != nil {
		return fmt.Errorf("blob %s: %w", d, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(filepath.Dir(final), ".partial-"+h[:16]+"-")
	if err != nil {
		return fmt.Errorf("blob cache: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	hh := sha256.New()
	buf := make([]byte, 1<<20)
	n, err := io.CopyBuffer(io.MultiWriter(tmp, hh), &ctxReader{ctx: ctx, r: io.LimitReader(rc, size+1)}, buf)
	if n > size {
		return &DigestError{What: "blob", Digest: d, Size: n, Want: size}
	}
	got := "sha256:" + hex.EncodeToString(hh.Sum(nil))
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
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("blob cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("blob cache: %w", err)
	}
	ok = true
	return nil
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
