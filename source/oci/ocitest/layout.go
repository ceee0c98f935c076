package ocitest

import (
	"bytes"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RefName is the index.json annotation that tags a manifest in an OCI
// image layout.
const RefName = "org.opencontainers.image.ref.name"

// NewLayout creates an empty OCI image layout in dir.
func NewLayout(dir string) (layout.Path, error) {
	return layout.Write(dir, empty.Index)
}

// LayoutImage writes img into the layout and lists it in index.json,
// tagged tag (no tag when "").
func LayoutImage(p layout.Path, img v1.Image, tag string) error {
	var opts []layout.Option
	if tag != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{RefName: tag}))
	}
	return p.AppendImage(img, opts...)
}

// LayoutReferrer writes a cosign v3 style referrer of subject into the
// layout and lists it in index.json (untagged, as ORAS and cosign save
// keep referrers there). It returns the referrer's digest.
func LayoutReferrer(p layout.Path, subject v1.Descriptor, artifactType, layerMT string, data []byte, annotations map[string]string) (string, error) {
	rm, blobs, err := referrerManifest(subject, artifactType, layerMT, data, annotations)
	if err != nil {
		return "", err
	}
	for _, l := range blobs {
		d, err := l.Digest()
		if err != nil {
			return "", err
		}
		rc, err := l.Compressed()
		if err != nil {
			return "", err
		}
		if err := p.WriteBlob(d, rc); err != nil {
			return "", err
		}
	}
	h, err := rm.Digest()
	if err != nil {
		return "", err
	}
	if err := p.WriteBlob(h, io.NopCloser(bytes.NewReader(rm.raw))); err != nil {
		return "", err
	}
	err = p.AppendDescriptor(v1.Descriptor{MediaType: rm.mt, Digest: h, Size: int64(len(rm.raw)), ArtifactType: artifactType})
	return h.String(), err
}

// LayoutLegacy writes a cosign v2 signature (".sig") or attestation
// (".att") image for digest into the layout, tagged sha256-<hex><suffix>.
func LayoutLegacy(p layout.Path, digest, suffix string, layers ...Layer) error {
	img, err := Image(types.OCIManifestSchema1, types.OCIConfigJSON, layers...)
	if err != nil {
		return err
	}
	return LayoutImage(p, img, "sha256-"+strings.TrimPrefix(digest, "sha256:")+suffix)
}
