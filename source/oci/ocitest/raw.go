package ocitest

import (
	"bytes"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Manifest is an image manifest written exactly as given, with its config
// blob as raw bytes: what Image cannot express (a ModelPack, Docker model
// or Ollama config with content, bytes that are not JSON, an artifactType,
// manifest annotations).
type Manifest struct {
	MediaType       string // default: the OCI image manifest type
	ArtifactType    string
	ConfigMediaType string
	Config          []byte
	Layers          []Layer
	Annotations     map[string]string
}

// Raw builds m as an image for Push, PushIndex and LayoutImage.
func Raw(m Manifest) (v1.Image, error) {
	type desc struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		URLs        []string          `json:"urls,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	mt := m.MediaType
	if mt == "" {
		mt = string(types.OCIManifestSchema1)
	}
	cfg, _, err := v1.SHA256(bytes.NewReader(m.Config))
	if err != nil {
		return nil, err
	}
	img := &rawImage{mt: types.MediaType(mt), config: m.Config, layers: map[v1.Hash]v1.Layer{}}
	var ls []desc
	for _, l := range m.Layers {
		layer := static.NewLayer(l.Data, types.MediaType(l.MediaType))
		d, err := layer.Digest()
		if err != nil {
			return nil, err
		}
		img.layers[d] = layer
		ls = append(ls, desc{MediaType: l.MediaType, Digest: d.String(), Size: int64(len(l.Data)), URLs: l.URLs, Annotations: l.Annotations})
	}
	img.manifest, err = json.Marshal(struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     string            `json:"mediaType"`
		ArtifactType  string            `json:"artifactType,omitempty"`
		Config        desc              `json:"config"`
		Layers        []desc            `json:"layers"`
		Annotations   map[string]string `json:"annotations,omitempty"`
	}{2, mt, m.ArtifactType, desc{MediaType: m.ConfigMediaType, Digest: cfg.String(), Size: int64(len(m.Config))}, ls, m.Annotations})
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(img)
}

// rawImage serves fixed manifest, config and layer bytes.
type rawImage struct {
	mt       types.MediaType
	manifest []byte
	config   []byte
	layers   map[v1.Hash]v1.Layer
}

func (r *rawImage) RawConfigFile() ([]byte, error)      { return r.config, nil }
func (r *rawImage) MediaType() (types.MediaType, error) { return r.mt, nil }
func (r *rawImage) RawManifest() ([]byte, error)        { return r.manifest, nil }
func (r *rawImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := r.layers[h]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("no layer %s", h)
}
