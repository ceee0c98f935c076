package manifest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/zeebo/blake3"
	"golang.org/x/crypto/blake2b"
)

// readSize is how much one read asks for. model_signing reads 1 MiB
// chunks; larger reads measured no faster here (see BENCHMARKS.md).
var readSize = 1 << 20

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, readSize)
	return &b
}}

func getBuf() *[]byte {
	bp := bufPool.Get().(*[]byte)
	if len(*bp) != readSize { // readSize changed (tests)
		b := make([]byte, readSize)
		bp = &b
	}
	return bp
}

// NewHash returns a fresh hash of the given OMS hash_type: sha256,
// blake2b (BLAKE2b-512, Python's hashlib.blake2b() default) or blake3
// (256-bit output).
func NewHash(name string) (hash.Hash, error) {
	switch name {
	case HashSHA256:
		return sha256.New(), nil
	case HashBLAKE2b:
		return blake2b.New512(nil)
	case HashBLAKE3:
		return blake3.New(), nil
	}
	return nil, fmt.Errorf("unknown hash %q", name)
}

// Algorithm is the resource algorithm model_signing writes: the hash name
// for files, "<hash>-sharded-<shard size>" for shards.
func Algorithm(o Options) string {
	if o.Method == MethodShards {
		size := o.ShardSize
		if size == 0 {
			size = DefaultShardSize
		}
		return o.Hash + "-sharded-" + strconv.FormatInt(size, 10)
	}
	return o.Hash
}

// hashAll hashes every entry, Workers at a time, and returns the resources
// in the entries' order and the number of bytes hashed. Jobs are handed out
// longest first.
func hashAll(ctx context.Context, cfg *config, m *model, es []entry, known Known) ([]Resource, int64, error) {
	res := make([]Resource, len(es))
	if len(es) == 0 {
		return res, 0, nil
	}
	order := make([]int, len(es))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return es[order[a]].end-es[order[a]].start > es[order[b]].end-es[order[b]].start
	})
	alg := Algorithm(cfg.Options)
	workers := min(cfg.Workers, len(es))

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next  atomic.Int64
		total atomic.Int64
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(order) || ctx.Err() != nil {
					return
				}
				e := es[order[i]]
				var check []byte // the SHA-256 the bytes must still have
				if known != nil && !e.shard {
					if sum, ok := known(e.name(), e.end); ok {
						if cfg.Hash == HashSHA256 {
							res[order[i]] = Resource{Name: e.name(), Algorithm: alg, Digest: hex.EncodeToString(sum)}
							continue
						}
						check = sum
					}
				}
				sum, n, err := m.hashEntry(ctx, cfg.Hash, e, check)
				if err != nil {
					cancel(err)
					return
				}
				total.Add(n)
				res[order[i]] = Resource{Name: e.name(), Algorithm: alg, Digest: hex.EncodeToString(sum)}
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, 0, err
	}
	return res, total.Load(), nil
}

var errChanged = errors.New("file changed while it was being hashed")

// ErrNotScanned is the error of ComputeKnown when a file no longer has the
// SHA-256 the caller read it with.
var ErrNotScanned = errors.New("changed since it was scanned")

// hashEntry hashes one file, or one shard of it. With check set (a whole
// file), the bytes must also still hash to that SHA-256.
func (m *model) hashEntry(ctx context.Context, hashName string, e entry, check []byte) ([]byte, int64, error) {
	f := m.files[e.file]
	fh, err := m.open(f.open)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", m.show(f.name), err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", m.show(f.name), err)
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s: not a regular file (%s)", m.show(f.name), kind(fi.Mode()))
	}
	limit := int64(-1) // files: to EOF, as model_signing reads
	if e.shard {
		if fi.Size() < e.end {
			return nil, 0, fmt.Errorf("%s: %w (%d bytes, shard ends at %d)", m.show(f.name), errChanged, fi.Size(), e.end)
		}
		limit = e.end - e.start
	}
	h, err := NewHash(hashName)
	if err != nil {
		return nil, 0, err
	}
	var w hash.Hash = h
	var sha hash.Hash
	if check != nil {
		sha = sha256.New()
		w = multiHash{h, sha}
	}
	n, err := hashRange(ctx, w, fh, e.start, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", m.show(f.name), err)
	}
	if sha != nil && !bytes.Equal(sha.Sum(nil), check) {
		return nil, 0, fmt.Errorf("%s: %w", m.show(f.name), ErrNotScanned)
	}
	if e.shard && n != limit {
		return nil, 0, fmt.Errorf("%s: %w (shard %d:%d read %d bytes)", m.show(f.name), errChanged, e.start, e.end, n)
	}
	return h.Sum(nil), n, nil
}

func (m *model) open(name string) (*os.File, error) {
	if m.root == nil {
		return os.OpenFile(name, openFlags, 0)
	}
	return m.root.OpenFile(name, openFlags, 0)
}

// want is how much to ask for next: a buffer, or what is left of limit.
func want(size int, limit, done int64) int {
	if limit >= 0 && limit-done < int64(size) {
		return int(limit - done)
	}
	return size
}

// hashRange feeds bytes [off, off+limit) of r (to EOF when limit < 0) to
// h, reading and hashing in turn.
//
// A reader goroutine filling the next buffers while h hashes (to use an
// idle core when a model is one big file) was tried and dropped: on the
// 2-vCPU benchmark machine it gained 4 % on a 4 GiB file when the other
// core was idle, lost 4-5 % when that core was busy with other work, and
// always cost 8 % more CPU (handoffs, cache traffic between cores).
func hashRange(ctx context.Context, h hash.Hash, r io.ReaderAt, off, limit int64) (int64, error) {
	bp := getBuf()
	defer bufPool.Put(bp)
	return copyHash(ctx, h, io.NewSectionReader(r, off, math.MaxInt64-off), *bp, limit)
}

// multiHash writes to two hashes at once (Sum and the rest are h's).
type multiHash struct {
	hash.Hash
	also hash.Hash
}

func (m multiHash) Write(p []byte) (int, error) {
	m.also.Write(p)
	return m.Hash.Write(p)
}
