package manifest

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
)

// HashReader hashes one file read from r (to its end, in one pass) as
// Compute hashes a file of that name on disk: one resource for
// MethodFiles, one per shard of opts.ShardSize for MethodShards (none for
// an empty file, as Compute plans no shard for it). It is for files that
// are not on disk: an OCI blob, a tar member streamed out of a layer.
// name must be a name Compute could record ([ValidName] for a path);
// opts.IgnorePaths are the caller's business. The resources are in
// offset order; the second result is the number of bytes read.
func HashReader(ctx context.Context, opts Options, name string, r io.Reader) ([]Resource, int64, error) {
	cfg, err := prepare(Options{Method: opts.Method, Hash: opts.Hash, ShardSize: opts.ShardSize})
	if err != nil {
		return nil, 0, err
	}
	if name != "." {
		if err := validPath(name); err != nil {
			return nil, 0, fmt.Errorf("%q cannot be recorded in a signature: %w", name, err)
		}
	}
	alg := Algorithm(cfg.Options)
	bp := getBuf()
	defer bufPool.Put(bp)
	buf := *bp
	var (
		out   []Resource
		total int64
	)
	if cfg.Method != MethodShards {
		h, err := NewHash(cfg.Hash)
		if err != nil {
			return nil, 0, err
		}
		n, err := copyHash(ctx, h, r, buf, -1)
		if err != nil {
			return nil, n, err
		}
		return []Resource{{Name: name, Algorithm: alg, Digest: hex.EncodeToString(h.Sum(nil))}}, n, nil
	}
	for {
		h, err := NewHash(cfg.Hash)
		if err != nil {
			return nil, total, err
		}
		n, err := copyHash(ctx, h, r, buf, cfg.ShardSize)
		if err != nil {
			return nil, total + n, err
		}
		if n > 0 {
			out = append(out, Resource{Name: ShardName(name, total, total+n), Algorithm: alg, Digest: hex.EncodeToString(h.Sum(nil))})
		}
		total += n
		if n < cfg.ShardSize {
			return out, total, nil
		}
	}
}

// copyHash feeds up to limit bytes of r (to EOF when limit < 0) to h.
func copyHash(ctx context.Context, h io.Writer, r io.Reader, buf []byte, limit int64) (int64, error) {
	done := ctx.Done()
	var n int64
	for {
		select {
		case <-done:
			return n, context.Cause(ctx)
		default:
		}
		w := want(len(buf), limit, n)
		if w == 0 {
			return n, nil
		}
		k, err := r.Read(buf[:w])
		h.Write(buf[:k])
		n += int64(k)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
