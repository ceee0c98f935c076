// Package ocitest builds model artifacts and runs go-containerregistry's
// in-process registry on a loopback address, for tests of source/oci and
// the CLI. Nothing here leaves the machine.
package ocitest

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types the builders use.
const (
	ModelPackConfig = "application/vnd.cncf.model.config.v1+json"
	ModelPackRaw    = "application/vnd.cncf.model.weight.v1.raw"
	ModelPackTar    = "application/vnd.cncf.model.weight.v1.tar"
	ORASLayer       = "application/vnd.oci.image.layer.v1.tar"
	OllamaModel     = "application/vnd.ollama.image.model"
	OllamaTemplate  = "application/vnd.ollama.image.template"
	OllamaParams    = "application/vnd.ollama.image.params"
)

// Layer is one layer of a test artifact.
type Layer struct {
	MediaType   string
	Data        []byte
	Annotations map[string]string
	URLs        []string
}

// File is a named file for the family builders.
type File struct {
	Name string
	Data []byte
}

// Image builds an image manifest of the given media type with a config
// of configMT and the layers.
func Image(manifestMT, configMT types.MediaType, layers ...Layer) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, manifestMT)
	img = mutate.ConfigMediaType(img, configMT)
	var adds []mutate.Addendum
	for _, l := range layers {
		adds = append(adds, mutate.Addendum{Layer: static.NewLayer(l.Data, types.MediaType(l.MediaType)), Annotations: l.Annotations, URLs: l.URLs, MediaType: types.MediaType(l.MediaType)})
	}
	return mutate.Append(img, adds...)
}

// Build makes an artifact of a family from files: "modelpack" (one raw
// layer per file, org.cncf.model.filepath), "oras" (title annotations,
// the default tar media type for raw files), "ollama" (Docker v2 manifest;
// the file named model.gguf becomes the model layer, template and params
// their layers).
func Build(family string, files ...File) (v1.Image, error) {
	var ls []Layer
	switch family {
	case "modelpack":
		for _, f := range files {
			ls = append(ls, Layer{MediaType: ModelPackRaw, Data: f.Data, Annotations: map[string]string{"org.cncf.model.filepath": f.Name}})
		}
		return Image(types.OCIManifestSchema1, ModelPackConfig, ls...)
	case "oras":
		for _, f := range files {
			ls = append(ls, Layer{MediaType: ORASLayer, Data: f.Data, Annotations: map[string]string{"org.opencontainers.image.title": f.Name}})
		}
		return Image(types.OCIManifestSchema1, "application/vnd.oci.empty.v1+json", ls...)
	case "ollama":
		for _, f := range files {
			mt := map[string]string{"model.gguf": OllamaModel, "template": OllamaTemplate, "params": OllamaParams}[f.Name]
			if mt == "" {
				return nil, fmt.Errorf("ollama: no layer kind for %q (want model.gguf, template, params)", f.Name)
			}
			ls = append(ls, Layer{MediaType: mt, Data: f.Data})
		}
		return Image(types.DockerManifestSchema2, types.DockerConfigJSON, ls...)
	}
	return nil, fmt.Errorf("unknown family %q (want modelpack, oras, ollama)", family)
}

// Push writes img to ref ("host:port/repo:tag").
func Push(ref string, img v1.Image) (v1.Hash, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Write(r, img); err != nil {
		return v1.Hash{}, err
	}
	return img.Digest()
}

// PushIndex writes an index of the images to ref.
func PushIndex(ref string, imgs ...v1.Image) (v1.Hash, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, err
	}
	var idx v1.ImageIndex = empty.Index
	for _, img := range imgs {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img})
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		return v1.Hash{}, err
	}
	return idx.Digest()
}

// Registry is an in-process registry on 127.0.0.1.
type Registry struct {
	*httptest.Server
	Host string // "127.0.0.1:port"

	mu      sync.Mutex
	corrupt map[string]bool   // blob digests served with one byte flipped
	after   map[string]func() // run once after a manifest GET of this path
	handler http.Handler
}

// NewRegistry starts a registry; Close it when done.
func NewRegistry() *Registry {
	r := &Registry{corrupt: map[string]bool{}, after: map[string]func(){}}
	r.handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	r.Host = strings.TrimPrefix(r.Server.URL, "http://")
	return r
}

// Corrupt makes the registry serve blob digest with one byte changed.
func (r *Registry) Corrupt(digest string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.corrupt[digest] = true
}

// After runs f once, right after the first GET of manifest path
// ("/v2/<repo>/manifests/<tag>") is answered.
func (r *Registry) After(path string, f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.after[path] = f
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	var bad bool
	if i := strings.LastIndex(req.URL.Path, "/blobs/"); i >= 0 && req.Method == http.MethodGet {
		bad = r.corrupt[req.URL.Path[i+len("/blobs/"):]]
	}
	var after func()
	if req.Method == http.MethodGet {
		if f := r.after[req.URL.Path]; f != nil {
			after = f
			delete(r.after, req.URL.Path)
		}
	}
	r.mu.Unlock()
	if !bad {
		r.handler.ServeHTTP(w, req)
		if after != nil {
			after()
		}
		return
	}
	rec := httptest.NewRecorder()
	r.handler.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	if len(body) > 0 {
		body = bytes.Clone(body)
		body[len(body)/2] ^= 0x55
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(body)
}
