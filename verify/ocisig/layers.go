package ocisig

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/hallmarkdev/hallmark/internal/limits"
	"github.com/hallmarkdev/hallmark/source"
	"github.com/hallmarkdev/hallmark/source/oci"
	"github.com/hallmarkdev/hallmark/verify/manifest"
)

// An OMS signature over layers that are not raw files (tar, tar+gzip,
// tar+zstd), or made with blake2b/blake3 or the shards method, needs the
// files hashed: the layers are downloaded through source/oci's blob cache
// (size and digest checked before a byte is handed out) and the files
// clients unpack from them are hashed as `hallmark sign` and model_signing
// hash them on disk. Tar members are streamed into the hasher, never
// extracted.

// artifactFiles opens the artifact's layers once per Verify, by the
// manifest digest FindSignatures resolved (never the tag again).
type artifactFiles struct {
	found *oci.Signatures
	cfg   oci.Config
	files map[string]source.File // by layer digest
}

// pinned is the target at the digest FindSignatures resolved.
func pinned(found *oci.Signatures) string {
	if strings.HasPrefix(found.Target, "oci-layout://") {
		return "oci-layout://" + found.Registry + "@" + found.Digest
	}
	return "oci://" + found.Registry + "/" + found.Repository + "@" + found.Digest
}

func (a *artifactFiles) open(ctx context.Context, digest string) (source.Reader, error) {
	if a.files == nil {
		cfg := a.cfg
		// Every byte hashed must already be checked: no reader follows a
		// download (a tar ends before its blob does).
		cfg.Stream = false
		art, err := oci.Open(ctx, pinned(a.found), cfg)
		if err != nil {
			return nil, err
		}
		if art.Digest != a.found.Digest {
			return nil, fmt.Errorf("%s: opened manifest %s, want %s", a.found.Target, art.Digest, a.found.Digest)
		}
		a.files = map[string]source.File{}
		for _, f := range art.Files {
			a.files[f.Digest] = f
		}
	}
	f, ok := a.files[digest]
	if !ok || f.Open == nil {
		return nil, fmt.Errorf("%s: layer %s was not handed out by the OCI source", a.found.Target, digest)
	}
	return f.Open()
}

// layerHasher collects the local resources of one OMS signature.
type layerHasher struct {
	a       *artifactFiles
	opts    manifest.Options // the signed serialization
	ignored []string
	seen    map[string]string // file name → where it came from
	local   []manifest.Resource
	lim     limits.Limits
}

// cannot is a reason the signature cannot verify against the artifact
// (a verdict, not an I/O error).
type cannot struct{ why string }

func (c *cannot) Error() string { return c.why }

func cannotf(format string, args ...any) error { return &cannot{fmt.Sprintf(format, args...)} }

// claim records that name comes from src, or says that a client would
// keep only one of two files of that name.
func (h *layerHasher) claim(name, src string) error {
	if prev, dup := h.seen[name]; dup {
		if prev == "raw layer" && src == prev {
			return cannotf("two layers are named %s: a client keeps one of them, so the signature cannot speak for the file", name)
		}
		return cannotf("two files are named %s (from a %s and a %s): a client keeps one of them, so the signature cannot speak for the file", name, prev, src)
	}
	h.seen[name] = src
	return nil
}

// raw hashes a raw layer (the blob is the file).
func (h *layerHasher) raw(ctx context.Context, l oci.LayerInfo) error {
	rd, err := h.a.open(ctx, l.Digest)
	if err != nil {
		return err
	}
	defer rd.Close()
	res, _, err := manifest.HashReader(ctx, h.opts, l.Path, rd)
	if err != nil {
		return err
	}
	h.local = append(h.local, res...)
	return nil
}

// tar hashes the regular files of a tar layer, decompressed by its
// declared packing. Each member is named by the layer's unpack folder (the
// model root: ModelPack, KitOps and ORAS write member names relative to
// it) joined with the cleaned member name.
func (h *layerHasher) tar(ctx context.Context, l oci.LayerInfo) error {
	rd, err := h.a.open(ctx, l.Digest)
	if err != nil {
		return err
	}
	defer rd.Close()
	var r io.Reader = rd
	switch l.Packing {
	case "tar":
	case "tar+gzip":
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return cannotf("layer %s (%s) is not gzip: %v", l.Path, l.MediaType, err)
		}
		defer zr.Close()
		r = zr
	case "tar+zstd":
		zr, err := zstd.NewReader(rd, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(uint64(h.lim.MaxDictionary)))
		if err != nil {
			return cannotf("layer %s (%s) is not zstd: %v", l.Path, l.MediaType, err)
		}
		defer zr.Close()
		r = zr
	default:
		return fmt.Errorf("layer %s: packing %q", l.Path, l.Packing)
	}
	// Hashing streams, so a bomb costs time, not memory: cap what a
	// compressed layer may unpack to at the scanner's per-file cap, or its
	// ratio cap times the layer's size when that is larger.
	limit := int64(math.MaxInt64)
	if l.Packing != "tar" && l.Size <= h.lim.MaxInflated/h.lim.MaxRatio {
		limit = max(h.lim.MaxInflated, l.Size*h.lim.MaxRatio)
	}
	counted := &capped{r: r, max: limit}
	tr := tar.NewReader(counted)
	const unpackDir = "" // the model root
	for members := 0; ; members++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if members >= h.lim.MaxMembers {
			return cannotf("layer %s holds more than %d tar members: not all of its files could be hashed", l.Path, h.lim.MaxMembers)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return h.readErr(ctx, l, counted, err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		member := hdr.Name
		if hdr.Typeflag == tar.TypeDir {
			member = strings.TrimSuffix(member, "/")
			if path.Clean(member) == "." || member == "" {
				continue
			}
		}
		clean, why := oci.CleanPath(member)
		if why != "" {
			return cannotf("layer %s: tar member %q is not a safe relative path (%s); a client that unpacks it writes outside the model folder", l.Path, truncate(hdr.Name, 200), why)
		}
		name := path.Join(unpackDir, clean)
		switch hdr.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg, '\x00':
		case tar.TypeSymlink, tar.TypeLink:
			return cannotf("layer %s: tar member %s is a link (to %q): what a client unpacks there is not a file the signature's digests can be checked against", l.Path, name, truncate(hdr.Linkname, 200))
		default:
			return cannotf("layer %s: tar member %s is not a regular file (type %q); model_signing refuses such files", l.Path, name, string(hdr.Typeflag))
		}
		if isIgnored(name, h.ignored) {
			continue
		}
		if err := manifest.ValidResourceName(manifest.MethodFiles, name); err != nil {
			return cannotf("layer %s: tar member %s cannot be recorded in a signature: %v", l.Path, name, err)
		}
		if err := h.claim(name, "member of tar layer "+l.Path); err != nil {
			return err
		}
		res, _, err := manifest.HashReader(ctx, h.opts, name, tr)
		if err != nil {
			return h.readErr(ctx, l, counted, err)
		}
		h.local = append(h.local, res...)
	}
}

// readErr turns an error met while reading a (digest-checked) layer into a
// verdict: its bytes are what the signer shipped, and clients cannot
// unpack them either. A cancelled context stays an error.
func (h *layerHasher) readErr(ctx context.Context, l oci.LayerInfo, c *capped, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if c.over {
		return cannotf("layer %s unpacks to more than %d bytes (a decompression bomb?): not hashed", l.Path, c.max)
	}
	return cannotf("layer %s cannot be read as %s: %v", l.Path, l.Packing, err)
}

// capped stops reading after max bytes.
type capped struct {
	r    io.Reader
	n    int64
	max  int64
	over bool
}

var errTooLarge = errors.New("unpacked size cap reached")

func (c *capped) Read(p []byte) (int, error) {
	if c.n >= c.max {
		c.over = true
		return 0, errTooLarge
	}
	if int64(len(p)) > c.max-c.n {
		p = p[:c.max-c.n]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
