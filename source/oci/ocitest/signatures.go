package ocitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types of signatures (research aibom-oci.md §5).
const (
	SigstoreBundle = "application/vnd.dev.sigstore.bundle.v0.3+json"
	SimpleSigning  = "application/vnd.dev.cosign.simplesigning.v1+json"
	DSSEEnvelope   = "application/vnd.dsse.envelope.v1+json"
	Empty          = "application/vnd.oci.empty.v1+json"
)

// NewReferrersRegistry starts a registry with the OCI 1.1 referrers API
// (api true), or one that answers 404 to every referrers request, so that
// clients fall back to the sha256-<hex> referrers tag (api false).
func NewReferrersRegistry(api bool) *Registry {
	r := &Registry{corrupt: map[string]bool{}, after: map[string]func(){}}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(api))
	if api {
		r.handler = inner
	} else {
		r.handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if strings.Contains(req.URL.Path, "/referrers/") {
				http.NotFound(w, req)
				return
			}
			inner.ServeHTTP(w, req)
		})
	}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	r.Host = strings.TrimPrefix(r.Server.URL, "http://")
	return r
}

// Descriptor is the descriptor of a pushed image, to use as a subject.
func Descriptor(img v1.Image) (v1.Descriptor, error) {
	d, err := img.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	size, err := img.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Digest: d, Size: size}, nil
}

type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }
func (r rawManifest) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(r.raw))
	return h, err
}

// PushReferrer pushes a referrer manifest to repo ("host:port/repo") as
// cosign v3 does: artifactType, the empty config, one layer of layerMT
// holding data, and subject. ggcr answers for registries without the
// referrers API by updating the sha256-<hex> tag index. It returns the
// referrer's digest.
func PushReferrer(repo string, subject v1.Descriptor, artifactType, layerMT string, data []byte, annotations map[string]string) (string, error) {
	r, err := name.NewRepository(repo)
	if err != nil {
		return "", err
	}
	rm, blobs, err := referrerManifest(subject, artifactType, layerMT, data, annotations)
	if err != nil {
		return "", err
	}
	for _, l := range blobs {
		if err := remote.WriteLayer(r, l); err != nil {
			return "", err
		}
	}
	h, err := rm.Digest()
	if err != nil {
		return "", err
	}
	if err := remote.Put(r.Digest(h.String()), rm); err != nil {
		return "", err
	}
	return h.String(), nil
}

// referrerManifest builds a cosign v3 style referrer manifest and the
// blobs it names.
func referrerManifest(subject v1.Descriptor, artifactType, layerMT string, data []byte, annotations map[string]string) (rawManifest, []v1.Layer, error) {
	layer := static.NewLayer(data, types.MediaType(layerMT))
	cfg := static.NewLayer([]byte("{}"), Empty)
	desc := func(l v1.Layer, mt string) map[string]any {
		d, _ := l.Digest()
		s, _ := l.Size()
		return map[string]any{"mediaType": mt, "digest": d.String(), "size": s}
	}
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     string(types.OCIManifestSchema1),
		"artifactType":  artifactType,
		"config":        desc(cfg, Empty),
		"layers":        []any{desc(layer, layerMT)},
		"subject":       map[string]any{"mediaType": string(subject.MediaType), "digest": subject.Digest.String(), "size": subject.Size},
	}
	if len(annotations) > 0 {
		m["annotations"] = annotations
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return rawManifest{}, nil, err
	}
	return rawManifest{raw: raw, mt: types.OCIManifestSchema1}, []v1.Layer{layer, cfg}, nil
}

// PushLegacy pushes a cosign v2 signature (suffix ".sig") or attestation
// (".att") image for digest to repo under tag sha256-<hex><suffix>.
func PushLegacy(repo, digest, suffix string, layers ...Layer) error {
	hexd, ok := strings.CutPrefix(digest, "sha256:")
	if !ok {
		return fmt.Errorf("digest %q is not sha256", digest)
	}
	img, err := Image(types.OCIManifestSchema1, types.OCIConfigJSON, layers...)
	if err != nil {
		return err
	}
	_, err = Push(repo+":sha256-"+hexd+suffix, img)
	return err
}

// SimpleSigningPayload is the payload cosign v2 signs for an image.
func SimpleSigningPayload(dockerReference, digest string) []byte {
	b, _ := json.Marshal(map[string]any{
		"critical": map[string]any{
			"identity": map[string]any{"docker-reference": dockerReference},
			"image":    map[string]any{"docker-manifest-digest": digest},
			"type":     "cosign container image signature",
		},
		"optional": nil,
	})
	return b
}
