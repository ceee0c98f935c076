package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/hallmarkdev/hallmark/source"
)

// Signatures attached to an artifact (research aibom-oci.md §5): OCI 1.1
// referrers (the referrers API, then the sha256-<hex> referrers tag),
// cosign's legacy sha256-<hex>.sig and .att tags, and an OMS model.sig
// shipped as a layer of the artifact. FindSignatures only finds and
// fetches them (each blob digest-checked, size-capped); package verify
// checks them.

// Media types and annotations of signatures.
const (
	MediaTypeSigstoreBundle = "application/vnd.dev.sigstore.bundle.v0.3+json"
	mtSigstoreBundleAlias   = "application/vnd.dev.sigstore.bundle+json;version=0.3"
	MediaTypeSimpleSigning  = "application/vnd.dev.cosign.simplesigning.v1+json"
	MediaTypeDSSE           = "application/vnd.dsse.envelope.v1+json"

	AnnCosignSignature   = "dev.cosignproject.cosign/signature"
	AnnCosignCertificate = "dev.sigstore.cosign/certificate"
	AnnCosignChain       = "dev.sigstore.cosign/chain"
	AnnCosignBundle      = "dev.sigstore.cosign/bundle"

	// MaxSignatureBlob caps a signature blob (a Sigstore bundle, a
	// simple-signing payload, an OMS manifest of a very large model).
	MaxSignatureBlob = 64 << 20
	// maxReferrers caps the referrer manifests read for one artifact.
	maxReferrers = 256
)

// SignatureKind says what a found signature is.
type SignatureKind string

const (
	KindBundle        SignatureKind = "sigstore-bundle"       // a Sigstore bundle (cosign v3, or an OMS model.sig as a referrer)
	KindSimpleSigning SignatureKind = "cosign-simple-signing" // legacy cosign .sig layer
	KindAttestation   SignatureKind = "cosign-attestation"    // legacy cosign .att layer (DSSE envelope)
	KindOMSLayer      SignatureKind = "oms-layer"             // model.sig as a layer of the artifact
)

// FoundSignature is one signature blob and where it was found.
type FoundSignature struct {
	Kind SignatureKind
	// Source names it for the report: "referrer sha256:…", "tag
	// sha256-<hex>.sig", "layer model.sig".
	Source string
	// Via says how it was found: "referrers API", "referrers tag
	// sha256-<hex>", "cosign tag", "artifact layer", "layout index".
	Via          string
	Manifest     string // digest of the manifest that holds the blob
	ArtifactType string // of that manifest
	Layer        string // digest of the blob
	MediaType    string // of the blob
	Data         []byte // the blob, checked against Layer
	Annotations  map[string]string
}

// LayerInfo is a layer of the artifact as hallmark scan names it.
type LayerInfo struct {
	Path      string
	Digest    string
	Size      int64
	MediaType string
	// Raw: the blob is the file itself (not a tar, not compressed), so
	// its digest is the file's SHA-256.
	Raw bool
	// Packing is how clients unpack a layer that is not raw, from its
	// media type: "tar", "tar+gzip" or "tar+zstd" (the members are the
	// files, named relative to the model root); "" when it is raw, or
	// compressed without a tar (how clients unpack that is not defined).
	Packing string
	// Unusable says why this layer cannot be compared with a signature
	// (foreign urls, a digest that is not sha256): a client still gets
	// it, so a signature over the rest must not verify the artifact.
	Unusable string
}

// Signatures is what FindSignatures found for one target.
type Signatures struct {
	Target     string
	Registry   string // host, or the layout directory
	Repository string
	Digest     string // the manifest digest the tag resolved to (once)
	MediaType  string
	Family     string
	Manifest   []byte // the manifest bytes, checked against Digest
	Layers     []LayerInfo
	Found      []FoundSignature
	// Notes say what was looked at and not used (an unsupported referrers
	// API, referrers that are not signatures, oversized blobs).
	Notes []string
}

// sigManifest is the part of a manifest signatures need.
type sigManifest struct {
	MediaType    string       `json:"mediaType"`
	ArtifactType string       `json:"artifactType"`
	Config       *descriptor  `json:"config"`
	Layers       []descriptor `json:"layers"`
	Manifests    []descriptor `json:"manifests"`
	Subject      *descriptor  `json:"subject"`
}

// referrer is a referrer descriptor and how it was found.
type referrer struct {
	desc descriptor
	via  string
}

// sigStore is a store that can also list referrers and read tags.
type sigStore interface {
	store
	referrers(ctx context.Context, d string) ([]referrer, []string, error)
	// tag returns the manifest a tag names (nil when there is none).
	tag(ctx context.Context, t string) ([]byte, string, error)
}

// FindSignatures resolves target (oci:// or oci-layout://) to its manifest
// digest once and returns every signature attached to that digest.
// Registry and I/O errors, and blobs that do not match their digests, are
// errors; a signature that cannot be used is a note.
func FindSignatures(ctx context.Context, target string, cfg Config) (*Signatures, error) {
	out := &Signatures{Target: target}
	var (
		st  sigStore
		err error
	)
	switch {
	case strings.HasPrefix(target, "oci://"):
		r, err := openRemote(ctx, target, cfg)
		if err != nil {
			return nil, err
		}
		st = &remoteSigs{r}
		out.Registry, out.Repository = r.repo.RegistryStr(), r.repo.RepositoryStr()
		out.Manifest, out.Digest, out.MediaType, err = r.resolve(ctx)
		if err != nil {
			return nil, err
		}
	case strings.HasPrefix(target, "oci-layout://"):
		l, err := openLayout(target)
		if err != nil {
			return nil, err
		}
		st = &layoutSigs{l}
		out.Registry = l.dir
		out.Manifest, out.Digest, out.MediaType, err = l.resolve(ctx)
		if err != nil {
			return nil, err
		}
	default:
		return nil, &source.UsageError{Msg: target + ": not an oci:// or oci-layout:// target"}
	}
	f := &finder{ctx: ctx, st: st, out: out, seen: map[string]bool{}}
	if err = f.layers(); err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	if err = f.referrers(); err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	if err = f.legacy(); err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	return out, nil
}

type finder struct {
	ctx  context.Context
	st   sigStore
	out  *Signatures
	seen map[string]bool // referrer manifest digests already read
	// read is the signature bytes held so far: a hostile registry can
	// list one large blob thousands of times.
	read int64
}

// maxSignatureBytes caps the signature blobs one target holds in memory.
const maxSignatureBytes = 256 << 20

func (f *finder) note(format string, args ...any) {
	f.out.Notes = append(f.out.Notes, fmt.Sprintf(format, args...))
}

// layers names the artifact's layers and picks up a model.sig layer.
func (f *finder) layers() error {
	var m manifest
	if err := json.Unmarshal(f.out.Manifest, &m); err != nil {
		return fmt.Errorf("manifest %s: %w", f.out.Digest, err)
	}
	if m.isIndex(f.out.MediaType) {
		f.out.Family = FamilyIndex
		return nil
	}
	fam := classify(&m)
	f.out.Family = fam
	for i := range m.Layers {
		l := &m.Layers[i]
		if baseType(l.MediaType) == mtEmpty && l.Size <= 2 {
			continue // the OCI empty descriptor ({}), no content
		}
		hexd, ok := sha256Hex(l.Digest)
		switch {
		case !ok:
			f.out.Layers = append(f.out.Layers, LayerInfo{Path: "layers/" + fmt.Sprint(i), Digest: l.Digest, Size: l.Size, MediaType: l.MediaType, Unusable: "its digest " + l.Digest + " is not sha256"})
			continue
		case len(l.URLs) > 0:
			f.out.Layers = append(f.out.Layers, LayerInfo{Path: "blobs/sha256-" + hexd, Digest: l.Digest, Size: l.Size, MediaType: l.MediaType, Unusable: "it lists foreign urls"})
			continue
		}
		name, _ := layerName(l, fam)
		suf := tarSuffix(l, fam, name)
		if clean, why := cleanPath(name); name != "" && why == "" {
			name = clean + suf
		} else {
			name = "blobs/sha256-" + hexd + suf
		}
		mt := baseType(l.MediaType)
		raw := suf == "" && !strings.HasSuffix(mt, "gzip") && !strings.HasSuffix(mt, "zstd") && l.Annotations[annORASUnpack] != "true"
		packing := packingOf(l, fam)
		f.out.Layers = append(f.out.Layers, LayerInfo{Path: name, Digest: l.Digest, Size: l.Size, MediaType: l.MediaType, Raw: raw, Packing: packing})
		if path.Base(name) == "model.sig" || isBundleType(mt) {
			data, err := f.blob(l)
			if err != nil {
				return err
			}
			if data != nil {
				f.out.Found = append(f.out.Found, FoundSignature{Kind: KindOMSLayer, Source: "layer " + name, Via: "artifact layer",
					Manifest: f.out.Digest, ArtifactType: m.ArtifactType, Layer: l.Digest, MediaType: l.MediaType, Data: data, Annotations: l.Annotations})
			}
		}
	}
	return nil
}

// CleanPath checks a path taken from an artifact (a manifest annotation, a
// tar member name) as layer names are checked: it returns the cleaned
// model-relative path, or why the path cannot be used ("" when it can):
// empty, absolute, a drive path, "..", NUL, a backslash, a control
// character, or the model folder itself.
func CleanPath(p string) (clean, why string) { return cleanPath(p) }

func isBundleType(mt string) bool {
	return mt == MediaTypeSigstoreBundle || strings.HasPrefix(mt, "application/vnd.dev.sigstore.bundle")
}

// referrers reads every referrer manifest whose subject is the artifact.
func (f *finder) referrers() error {
	refs, notes, err := f.st.referrers(f.ctx, f.out.Digest)
	if err != nil {
		return err
	}
	f.out.Notes = append(f.out.Notes, notes...)
	for _, r := range refs {
		if f.seen[r.desc.Digest] {
			continue
		}
		f.seen[r.desc.Digest] = true
		if len(f.seen) > maxReferrers {
			f.note("more than %d referrers: the rest were not read", maxReferrers)
			return nil
		}
		if _, ok := sha256Hex(r.desc.Digest); !ok {
			f.note("referrer %q (%s): unsupported digest, not read", r.desc.Digest, r.via)
			continue
		}
		raw, err := f.st.manifest(f.ctx, r.desc.Digest)
		if err != nil {
			return err
		}
		var m sigManifest
		if err := json.Unmarshal(raw, &m); err != nil {
			f.note("referrer %s (%s): not a manifest: %v", r.desc.Digest, r.via, err)
			continue
		}
		if m.Subject == nil || m.Subject.Digest != f.out.Digest {
			f.note("referrer %s (%s): its subject is not %s, ignored", r.desc.Digest, r.via, f.out.Digest)
			continue
		}
		at := m.ArtifactType
		if at == "" && m.Config != nil {
			at = m.Config.MediaType
		}
		n := 0
		for i := range m.Layers {
			l := &m.Layers[i]
			kind := layerKind(baseType(l.MediaType), l.MediaType)
			if kind == "" {
				continue
			}
			data, err := f.blob(l)
			if err != nil {
				return err
			}
			if data == nil {
				continue
			}
			n++
			f.out.Found = append(f.out.Found, FoundSignature{Kind: kind, Source: "referrer " + r.desc.Digest, Via: r.via,
				Manifest: r.desc.Digest, ArtifactType: at, Layer: l.Digest, MediaType: l.MediaType, Data: data, Annotations: l.Annotations})
		}
		if n == 0 {
			f.note("referrer %s (%s, artifactType %q): no signature layer, ignored", r.desc.Digest, r.via, at)
		}
	}
	return nil
}

func layerKind(base, full string) SignatureKind {
	switch {
	case isBundleType(base) || full == mtSigstoreBundleAlias:
		return KindBundle
	case base == MediaTypeSimpleSigning:
		return KindSimpleSigning
	case base == MediaTypeDSSE:
		return KindAttestation
	}
	return ""
}

// legacy reads cosign's sha256-<hex>.sig and .att tags.
func (f *finder) legacy() error {
	hexd, ok := sha256Hex(f.out.Digest)
	if !ok {
		return nil
	}
	for _, suffix := range []string{".sig", ".att"} {
		t := "sha256-" + hexd + suffix
		raw, d, err := f.st.tag(f.ctx, t)
		if err != nil {
			return err
		}
		if raw == nil {
			continue
		}
		var m sigManifest
		if err := json.Unmarshal(raw, &m); err != nil {
			f.note("tag %s: not a manifest: %v", t, err)
			continue
		}
		want := KindSimpleSigning
		if suffix == ".att" {
			want = KindAttestation
		}
		n := 0
		for i := range m.Layers {
			l := &m.Layers[i]
			if layerKind(baseType(l.MediaType), l.MediaType) != want {
				continue
			}
			data, err := f.blob(l)
			if err != nil {
				return err
			}
			if data == nil {
				continue
			}
			n++
			f.out.Found = append(f.out.Found, FoundSignature{Kind: want, Source: "tag " + t, Via: "cosign tag",
				Manifest: d, Layer: l.Digest, MediaType: l.MediaType, Data: data, Annotations: l.Annotations})
		}
		if n == 0 {
			f.note("tag %s: no %s layer", t, want)
		}
	}
	return nil
}

// blob reads a small blob whole and checks its size and digest. It
// returns nil (with a note) for a blob it will not read.
func (f *finder) blob(l *descriptor) ([]byte, error) {
	if _, ok := sha256Hex(l.Digest); !ok {
		f.note("blob %q: unsupported digest, not read", l.Digest)
		return nil, nil
	}
	if len(l.URLs) > 0 {
		f.note("blob %s lists urls: never fetched", l.Digest)
		return nil, nil
	}
	if l.Size < 0 || l.Size > MaxSignatureBlob {
		f.note("blob %s: size %d outside 0…%d, not read", l.Digest, l.Size, MaxSignatureBlob)
		return nil, nil
	}
	if f.read+l.Size > maxSignatureBytes {
		f.note("blob %s: signature blobs of this target exceed %d MiB in all, not read", l.Digest, maxSignatureBytes>>20)
		return nil, nil
	}
	f.read += l.Size
	rc, err := f.st.blob(f.ctx, l.Digest)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", l.Digest, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(rc, l.Size+1))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", l.Digest, err)
	}
	if n != l.Size {
		return nil, &DigestError{What: "blob", Digest: l.Digest, Size: n, Want: l.Size}
	}
	sum := sha256.Sum256(buf.Bytes())
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != l.Digest {
		return nil, &DigestError{What: "blob", Digest: l.Digest, Got: got, Size: n, Want: l.Size}
	}
	return buf.Bytes(), nil
}

// --- registry ---

type remoteSigs struct{ *registryStore }

// referrers asks the referrers API and reads the referrers tag, both:
// cosign and ggcr write the tag on registries without the API, and a
// registry may have gained the API after older pushes.
func (r *remoteSigs) referrers(ctx context.Context, d string) ([]referrer, []string, error) {
	var out []referrer
	var notes []string
	// Reuse(nil) drops the shared puller, whose options would turn the
	// tag fallback back on: the tag is read below, and reported as such.
	idx, err := remote.Referrers(r.repo.Digest(d), append(r.opts, remote.WithContext(ctx), remote.WithReferrersTagFallback(false), remote.Reuse((*remote.Puller)(nil)))...)
	switch {
	case err != nil && strings.Contains(err.Error(), "does not support the Referrers API"):
		notes = append(notes, "the registry does not support the referrers API")
	case err != nil:
		return nil, nil, fmt.Errorf("referrers of %s: %w", d, err)
	default:
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, nil, fmt.Errorf("referrers of %s: %w", d, err)
		}
		for _, m := range im.Manifests {
			out = append(out, referrer{desc: descriptor{MediaType: string(m.MediaType), Digest: m.Digest.String(), Size: m.Size, ArtifactType: m.ArtifactType}, via: "referrers API"})
		}
	}
	hexd, _ := sha256Hex(d)
	t := "sha256-" + hexd
	raw, _, err := r.tag(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	if raw != nil {
		var idx sigManifest
		if err := json.Unmarshal(raw, &idx); err != nil {
			notes = append(notes, fmt.Sprintf("referrers tag %s: not an index: %v", t, err))
		}
		for _, m := range idx.Manifests {
			out = append(out, referrer{desc: m, via: "referrers tag " + t})
		}
	}
	return out, notes, nil
}

// tag fetches the manifest a tag names; a tag that does not exist is nil.
func (r *remoteSigs) tag(ctx context.Context, t string) ([]byte, string, error) {
	desc, err := remote.Get(r.repo.Tag(t), append(r.opts, remote.WithContext(ctx))...)
	if err != nil {
		var terr *transport.Error
		if errors.As(err, &terr) && (terr.StatusCode == http.StatusNotFound) {
			return nil, "", nil
		}
		return nil, "", fmt.Errorf("tag %s: %w", t, err)
	}
	d := desc.Digest.String()
	if err := checkManifest(desc.Manifest, d); err != nil {
		return nil, "", err
	}
	return desc.Manifest, d, nil
}

// --- layout ---

type layoutSigs struct{ *layoutStore }

func (l *layoutSigs) index() (*manifest, error) {
	fh, err := os.Open(filepath.Join(string(l.p), "index.json"))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	raw, err := readManifest(fh, "index.json")
	if err != nil {
		return nil, err
	}
	var idx manifest
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", l.dir, err)
	}
	return &idx, nil
}

// referrers are the manifests of index.json whose subject is d (the
// layout has no referrers API; ORAS and cosign save keep them there),
// and the entries of a sha256-<hex> referrers index.
func (l *layoutSigs) referrers(ctx context.Context, d string) ([]referrer, []string, error) {
	idx, err := l.index()
	if err != nil {
		return nil, nil, err
	}
	var out []referrer
	for i, m := range idx.Manifests {
		if i >= maxReferrers {
			break
		}
		switch baseType(m.MediaType) {
		case mtOCIManifest, "":
		default:
			continue
		}
		raw, err := l.manifest(ctx, m.Digest)
		if err != nil {
			continue // a dangling entry is not ours to judge here
		}
		var sm sigManifest
		if json.Unmarshal(raw, &sm) == nil && sm.Subject != nil && sm.Subject.Digest == d {
			out = append(out, referrer{desc: m, via: "layout index.json"})
		}
	}
	hexd, _ := sha256Hex(d)
	raw, _, err := l.tag(ctx, "sha256-"+hexd)
	if err != nil {
		return nil, nil, err
	}
	if raw != nil {
		var ri sigManifest
		if json.Unmarshal(raw, &ri) == nil {
			for _, m := range ri.Manifests {
				out = append(out, referrer{desc: m, via: "referrers tag sha256-" + hexd})
			}
		}
	}
	return out, nil, nil
}

func (l *layoutSigs) tag(ctx context.Context, t string) ([]byte, string, error) {
	idx, err := l.index()
	if err != nil {
		return nil, "", err
	}
	for _, m := range idx.Manifests {
		if m.Annotations["org.opencontainers.image.ref.name"] == t {
			raw, err := l.manifest(ctx, m.Digest)
			if err != nil {
				return nil, "", err
			}
			return raw, m.Digest, nil
		}
	}
	return nil, "", nil
}
