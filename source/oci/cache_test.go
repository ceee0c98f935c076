package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// seed puts a blob in the cache with the given age.
func seed(t *testing.T, c *cache, data []byte, age time.Duration) string {
	t.Helper()
	d := digestOf(data)
	h, _ := sha256Hex(d)
	p := filepath.Join(c.dir, "sha256", h)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	mt := time.Now().Add(-age)
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
	return d
}

func (c *cache) has(d string) bool {
	h, _ := sha256Hex(d)
	_, err := os.Stat(filepath.Join(c.dir, "sha256", h))
	return err == nil
}

func fetchOf(data []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
}

func blobN(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func pull(t *testing.T, c *cache, data []byte) {
	t.Helper()
	f, err := c.open(context.Background(), digestOf(data), int64(len(data)), fetchOf(data))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c, _ := newCache(Config{CacheDir: t.TempDir(), CacheMaxBytes: 250})
	a := seed(t, c, blobN(100, 'a'), 3*time.Hour)
	b := seed(t, c, blobN(100, 'b'), 2*time.Hour)
	cc := seed(t, c, blobN(100, 'c'), time.Hour)
	d := blobN(100, 'd')
	pull(t, c, d) // 400 bytes: the two oldest go
	if c.has(a) || c.has(b) || !c.has(cc) || !c.has(digestOf(d)) {
		t.Fatalf("after eviction: a %v b %v c %v d %v", c.has(a), c.has(b), c.has(cc), c.has(digestOf(d)))
	}
}

func TestCacheTouchOnUse(t *testing.T) {
	c, _ := newCache(Config{CacheDir: t.TempDir(), CacheMaxBytes: 250})
	a := seed(t, c, blobN(100, 'a'), 3*time.Hour)
	b := seed(t, c, blobN(100, 'b'), 2*time.Hour)
	pull(t, c, blobN(100, 'a')) // a cache hit: a becomes the newest
	pull(t, c, blobN(100, 'e')) // 300 bytes: b, now the oldest, goes
	if !c.has(a) || c.has(b) {
		t.Fatalf("a %v b %v", c.has(a), c.has(b))
	}
}

func TestCacheSparesCurrentRun(t *testing.T) {
	c, _ := newCache(Config{CacheDir: t.TempDir(), CacheMaxBytes: 150})
	kept := seed(t, c, blobN(100, 'k'), 5*time.Hour)
	open := seed(t, c, blobN(100, 'o'), 4*time.Hour)
	other := seed(t, c, blobN(100, 'x'), 3*time.Hour)
	c.use(kept) // a layer of the artifact being read
	for _, d := range []string{kept, open} {
		h, _ := sha256Hex(d)
		os.Chtimes(filepath.Join(c.dir, "sha256", h), time.Now().Add(-6*time.Hour), time.Now().Add(-6*time.Hour))
	}
	// A blob held open (by another artifact's reader in this process).
	c2, _ := newCache(Config{CacheDir: c.dir, CacheMaxBytes: -1})
	od := blobN(100, 'o')
	f, err := c2.open(context.Background(), open, int64(len(od)), fetchOf(od))
	if err != nil {
		t.Fatal(err)
	}
	h, _ := sha256Hex(open)
	os.Chtimes(filepath.Join(c.dir, "sha256", h), time.Now().Add(-7*time.Hour), time.Now().Add(-7*time.Hour))

	n := blobN(100, 'n')
	pull(t, c, n)
	if !c.has(kept) || !c.has(open) || c.has(other) || !c.has(digestOf(n)) {
		t.Fatalf("kept %v open %v other %v new %v", c.has(kept), c.has(open), c.has(other), c.has(digestOf(n)))
	}
	// Once closed, the other artifact's blob may go; this run's stay even
	// over the bound.
	f.Close()
	c.evict()
	if c.has(open) || !c.has(kept) || !c.has(digestOf(n)) {
		t.Fatalf("after close: open %v kept %v new %v", c.has(open), c.has(kept), c.has(digestOf(n)))
	}
	// The blob just pulled is not evicted by its own pull, even when it
	// alone is over the bound.
	c3, _ := newCache(Config{CacheDir: t.TempDir(), CacheMaxBytes: 10})
	big := blobN(100, 'B')
	r, err := c3.open(context.Background(), digestOf(big), 100, fetchOf(big))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, big) {
		t.Fatal("read back other bytes")
	}
}

func TestCacheUnboundedAndPartials(t *testing.T) {
	c, _ := newCache(Config{CacheDir: t.TempDir(), CacheMaxBytes: -1})
	a := seed(t, c, blobN(100, 'a'), 3*time.Hour)
	pull(t, c, blobN(100, 'b'))
	if !c.has(a) {
		t.Fatal("unbounded cache evicted")
	}
	c.max = 150
	dir := filepath.Join(c.dir, "sha256")
	stale := filepath.Join(dir, ".partial-0123456789abcdef-1")
	fresh := filepath.Join(dir, ".partial-0123456789abcdef-2")
	os.WriteFile(stale, blobN(50, 's'), 0o644)
	os.WriteFile(fresh, blobN(50, 'f'), 0o644)
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(stale, old, old)
	c.evict() // 250 bytes counted (stale partial removed): a goes
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("stale partial download kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("a download under way was removed")
	}
	if c.has(a) {
		t.Fatal("over the bound, the oldest blob stayed")
	}
	if def, _ := newCache(Config{CacheDir: c.dir}); def.max != DefaultCacheMaxBytes {
		t.Fatalf("default bound %d", def.max)
	}
}

func TestCacheProgress(t *testing.T) {
	var mu sync.Mutex
	var got []Progress
	c, _ := newCache(Config{CacheDir: t.TempDir(), Progress: func(p Progress) {
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}})
	data := blobN(3<<20, 'p')
	pull(t, c, data)
	if len(got) == 0 || got[len(got)-1] != (Progress{Digest: digestOf(data), Done: 3 << 20, Total: 3 << 20}) {
		t.Fatalf("progress %+v", got)
	}
	n := len(got)
	pull(t, c, data) // cached: no download, no progress
	if len(got) != n {
		t.Fatalf("progress on a cache hit: %+v", got)
	}
	bad := blobN(10, 'x')
	_, err := c.open(context.Background(), digestOf(blobN(10, 'y')), 10, fetchOf(bad))
	if err == nil || got[len(got)-1].Err == nil {
		t.Fatalf("tampered download: err %v, progress %+v", err, got[len(got)-1])
	}
}

// slowReader hands out its bytes in small pieces, so readers of a stream
// catch up with the download.
type slowReader struct{ r io.Reader }

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	return s.r.Read(p[:min(len(p), 4096)])
}

func TestCacheStream(t *testing.T) {
	c, _ := newCache(Config{CacheDir: t.TempDir(), Stream: true})
	data := make([]byte, 200<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	d := digestOf(data)
	fetches := 0
	fetch := func(body []byte) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) {
			fetches++
			return io.NopCloser(&slowReader{bytes.NewReader(body)}), nil
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		r, err := c.open(context.Background(), d, int64(len(data)), fetch(data))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.Close()
			// Random access first (the end waits for the whole blob), then
			// a stream read.
			tail := make([]byte, 10)
			if _, err := r.ReadAt(tail, int64(len(data))-10); err != nil && err != io.EOF {
				errs[i] = err
				return
			}
			got, err := io.ReadAll(r)
			if err == nil && (!bytes.Equal(got, data) || !bytes.Equal(tail, data[len(data)-10:])) {
				err = io.ErrUnexpectedEOF
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if fetches != 1 || !c.has(d) {
		t.Fatalf("fetches %d, cached %v", fetches, c.has(d))
	}
	// A tampered download: reads up to the end fail with the mismatch,
	// and nothing is cached.
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 1
	d2 := digestOf(append(bytes.Clone(data), 'x'))
	want := append(bytes.Clone(bad), 'x')
	r, err := c.open(context.Background(), d2, int64(len(want)), fetch(want))
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(r)
	var de *DigestError
	if !errors.As(err, &de) {
		t.Fatalf("tampered stream: %v", err)
	}
	if _, err := r.ReadAt(make([]byte, 1), 0); !errors.As(err, &de) {
		t.Fatalf("read after the mismatch: %v", err)
	}
	r.Close()
	if c.has(d2) {
		t.Fatal("tampered blob cached")
	}
	ents, _ := os.ReadDir(filepath.Join(c.dir, "sha256"))
	for _, e := range ents {
		if e.Name()[0] == '.' {
			t.Fatalf("partial left: %s", e.Name())
		}
	}
}
