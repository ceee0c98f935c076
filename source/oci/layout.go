package oci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/hallmarkdev/hallmark/source"
)

// layoutStore reads an OCI image layout. layout.Path.Blob refuses links
// and special files but checks no digest; the cache and checkManifest do.
type layoutStore struct {
	dir, tag, digest string
	p                layout.Path
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// parseLayout splits oci-layout://DIR[:TAG|@DIGEST].
func parseLayout(target string) (dir, tag, digest string, err error) {
	s, ok := strings.CutPrefix(target, "oci-layout://")
	if !ok || s == "" {
		return "", "", "", &source.UsageError{Msg: target + ": want oci-layout://DIR[:TAG|@DIGEST]"}
	}
	if st, err := os.Stat(s); err == nil && st.IsDir() {
		return s, "", "", nil
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		if _, ok := sha256Hex(s[i+1:]); !ok {
			return "", "", "", &source.UsageError{Msg: fmt.Sprintf("%s: %q is not a sha256 digest", target, s[i+1:])}
		}
		return s[:i], "", s[i+1:], nil
	}
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") && tagRE.MatchString(s[i+1:]) {
		return s[:i], s[i+1:], "", nil
	}
	return s, "", "", nil
}

func openLayout(target string) (*layoutStore, error) {
	dir, tag, digest, err := parseLayout(target)
	if err != nil {
		return nil, err
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: not an OCI image layout: %w", target, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return &layoutStore{dir: abs, tag: tag, digest: digest, p: p}, nil
}

// resolve picks the root manifest: the one named by digest, the one whose
// org.opencontainers.image.ref.name is the tag, the only one, or else
// index.json itself (walked as an index).
func (l *layoutStore) resolve(ctx context.Context) (raw []byte, digest, mt string, err error) {
	f, err := os.Open(filepath.Join(string(l.p), "index.json"))
	if err != nil {
		return nil, "", "", err
	}
	idxRaw, err := readManifest(f, "index.json")
	f.Close()
	if err != nil {
		return nil, "", "", err
	}
	var idx manifest
	if err := json.Unmarshal(idxRaw, &idx); err != nil {
		return nil, "", "", fmt.Errorf("%s: index.json: %w", l.dir, err)
	}
	var pick *descriptor
	switch {
	case l.digest != "":
		pick = &descriptor{Digest: l.digest}
		for i := range idx.Manifests {
			if idx.Manifests[i].Digest == l.digest {
				pick = &idx.Manifests[i]
			}
		}
	case l.tag != "":
		for i := range idx.Manifests {
			if idx.Manifests[i].Annotations["org.opencontainers.image.ref.name"] == l.tag {
				if pick != nil {
					return nil, "", "", fmt.Errorf("%s: tag %q names more than one manifest in index.json", l.dir, l.tag)
				}
				pick = &idx.Manifests[i]
			}
		}
		if pick == nil {
			return nil, "", "", fmt.Errorf("%s: no manifest tagged %q in index.json", l.dir, l.tag)
		}
	case len(idx.Manifests) == 1:
		pick = &idx.Manifests[0]
	default:
		sum := sha256.Sum256(idxRaw)
		return idxRaw, "sha256:" + hex.EncodeToString(sum[:]), mtOCIIndex, nil
	}
	raw, err = l.manifest(ctx, pick.Digest)
	if err != nil {
		return nil, "", "", err
	}
	return raw, pick.Digest, pick.MediaType, nil
}

func (l *layoutStore) manifest(ctx context.Context, d string) ([]byte, error) {
	rc, err := l.blob(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", d, err)
	}
	defer rc.Close()
	raw, err := readManifest(rc, d)
	if err != nil {
		return nil, err
	}
	if err := checkManifest(raw, d); err != nil {
		return nil, err
	}
	return raw, nil
}

func (l *layoutStore) blob(_ context.Context, d string) (io.ReadCloser, error) {
	h, err := v1.NewHash(d)
	if err != nil {
		return nil, err
	}
	return l.p.Blob(h)
}
