// Package source turns a TARGET into an Artifact: the list of files to
// read, each opened lazily. Providers: disk (a file or directory) and
// OCI registries and image layouts (source/oci).
package source

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// File is one file of an artifact.
type File struct {
	Path string // slash-separated, relative to the artifact root ("." for a single-file target)
	Size int64
	// Open returns the file's bytes with random access. Callers close it.
	Open func() (Reader, error)
	// Digest, when set ("sha256:<hex>"), is what the provider guarantees
	// the bytes hash to: it checks them itself as they are read (an OCI
	// blob) and a mismatch is a read error at the end. Readers need not
	// hash the bytes again.
	Digest string
	// Packing, when set, is how the provider says the bytes are packed
	// and how clients unpack them: "tar", "tar+gzip" or "tar+zstd" (an
	// OCI layer's media type). Scanners read content; a disagreement is
	// a finding, since clients go by this and never sniff.
	Packing string
	// MediaType is an OCI layer's media type as the manifest declares it
	// (informational: the BOM records it; formats are decided by content).
	MediaType string
}

// Reader is an open file: streamed or read at offsets.
type Reader interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

// Skipped is a path the provider did not hand out as a file, and why.
type Skipped struct {
	Path string
	// "link", "special" (device, FIFO, socket), "unreadable", and for OCI
	// targets "unsafe-path" (a layer whose manifest path is not a safe
	// relative path; the blob is handed out under its digest name) and
	// "foreign-layer" (a layer with urls: never fetched).
	Kind   string
	Reason string
	// Escapes is set for links that lead outside the root: content the
	// loader would read but that was not scanned.
	Escapes bool
}

// Artifact is everything read for one TARGET.
type Artifact struct {
	Target string
	Kind   string // "file", "directory", or "oci:<family>" ("oci:modelpack", "oci:index"…)
	Root   string // absolute path on disk, for disk targets
	// OCI targets: where the artifact came from and the manifest digest
	// every read was pinned to (a tag is resolved once).
	Registry   string // registry host, or the layout directory for oci-layout://
	Repository string
	Digest     string // "sha256:…"
	Family     string // "modelpack", "cnai", "kitops", "docker-model", "ollama", "oras", "index", "other"
	Tag        string // the tag the target named, if any ("" for a digest reference)
	// Models is what each image manifest's config blob and annotations say
	// about the model (one entry per manifest; an index has several).
	Models  []Model
	Files   []File
	Skipped []Skipped
}

// Model is the packaging's own description of a model: a ModelPack or
// CNAI config, a Kitfile, a Docker model config, an Ollama config, and
// the manifest's annotations. All of it is untrusted text, capped in
// length by the provider. A field the source does not carry stays empty:
// nothing is guessed.
type Model struct {
	Dir             string // the folder its files sit under ("" for a single manifest)
	Digest          string // the manifest digest
	ArtifactType    string
	ConfigMediaType string
	ConfigDigest    string
	Source          string // "modelpack", "cnai", "kitfile", "docker-model", "ollama", "annotations"

	Name, Version, Description, Vendor string
	Authors                            []string
	Licenses                           []string // as written: SPDX expressions or names
	DocURL, SourceURL, Revision        string
	Created                            string // RFC 3339 as written
	Family, Architecture, Format       string // e.g. "llama", "LlamaForCausalLM", "gguf"
	ParamSize                          string // as written: "8b", "8.03 B"
	Precision, Quantization            string
	ContextLength                      int64
	InputTypes, OutputTypes            []string // ModelPack capabilities: text, image…
	Datasets                           []Dataset
	// Extra keeps other facts a config states, by a stable key
	// ("ollama:renderer", "kitfile:framework"…), for BOM properties.
	Extra map[string]string
}

// Dataset is a dataset a model's packaging names.
type Dataset struct {
	Name, URL, Path, License, Description string
	Digest                                string // the layer holding it, if packaged
}

// UsageError says a TARGET is not something hallmark can open.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Opener opens one kind of target.
type Opener func(ctx context.Context, target string) (*Artifact, error)

// Open picks the provider for target by its scheme: oci:// and
// oci-layout:// go to oci (nil: not supported), everything else without a
// scheme to disk.
func Open(ctx context.Context, target string, disk, oci Opener) (*Artifact, error) {
	switch {
	case strings.HasPrefix(target, "oci://"), strings.HasPrefix(target, "oci-layout://"):
		if oci == nil {
			return nil, &UsageError{Msg: fmt.Sprintf("%s: OCI targets are not supported here", target)}
		}
		return oci(ctx, target)
	case strings.Contains(target, "://"):
		return nil, &UsageError{Msg: fmt.Sprintf("%s: unknown scheme (use a path, oci:// or oci-layout://)", target)}
	}
	return disk(ctx, target)
}
