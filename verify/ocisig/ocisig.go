// Package ocisig verifies the signatures attached to a model in an OCI
// registry or image layout: cosign v3 Sigstore bundles (referrers API or
// referrers tag), legacy cosign simple-signing signatures (.sig tag) and
// attestations (.att tag), and OMS model.sig signatures shipped as a layer
// or a referrer. source/oci finds and fetches them; package verify checks
// them. The artifact is verified when at least one signature verifies
// with the verifier's trust policy.
package ocisig

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/hallmarkdev/hallmark/internal/limits"
	"github.com/hallmarkdev/hallmark/source/oci"
	"github.com/hallmarkdev/hallmark/verify"
	"github.com/hallmarkdev/hallmark/verify/manifest"
)

// Checked is one signature found and what verifying it gave.
type Checked struct {
	Source   string `json:"source"`   // "referrer sha256:…", "tag sha256-<hex>.sig", "layer model.sig"
	Via      string `json:"via"`      // "referrers API", "referrers tag sha256-<hex>", "cosign tag", "artifact layer"
	Kind     string `json:"kind"`     // verify.Image* kinds, or "oms" for an OMS model signature
	Manifest string `json:"manifest"` // digest of the manifest that holds the signature
	Verified bool   `json:"verified"`
	// Unsupported: hallmark cannot check this signature (never verified).
	Unsupported   bool   `json:"unsupported,omitempty"`
	Method        string `json:"method,omitempty"`
	Identity      string `json:"identity,omitempty"`
	Issuer        string `json:"issuer,omitempty"`
	Key           string `json:"key_fingerprint,omitempty"`
	PredicateType string `json:"predicate_type,omitempty"`
	// OMS signatures: the root digest and how many resources (layers)
	// were compared.
	RootDigest string         `json:"root_digest,omitempty"`
	Resources  int            `json:"resources,omitempty"`
	Diff       *manifest.Diff `json:"diff,omitempty"`
	Error      string         `json:"error,omitempty"`
}

// Report is the outcome for one target.
type Report struct {
	Target     string    `json:"target"`
	Registry   string    `json:"registry"`
	Repository string    `json:"repository,omitempty"`
	Digest     string    `json:"digest"`
	Family     string    `json:"family"`
	Verified   bool      `json:"verified"`
	Signatures []Checked `json:"signatures"`
	Notes      []string  `json:"notes,omitempty"`
	// Error says why nothing verified (no signature, or each failure).
	Error string `json:"error,omitempty"`
}

// ErrNoSignature is the Report error when nothing was found.
var ErrNoSignature = errors.New("no signature found")

// Verify finds the signatures of target and verifies each with v. The
// error is nil whether or not a signature verified (see Report.Verified);
// it is an error when the signatures could not be read (registry, I/O,
// a blob that does not match its digest, a usage error in target).
func Verify(ctx context.Context, target string, cfg oci.Config, v *verify.Verifier) (*Report, error) {
	found, err := oci.FindSignatures(ctx, target, cfg)
	if err != nil {
		return nil, err
	}
	rep := &Report{Target: target, Registry: found.Registry, Repository: found.Repository, Digest: found.Digest, Family: found.Family, Notes: found.Notes}
	img := verify.Image{Digest: found.Digest, Manifest: found.Manifest}
	files := &artifactFiles{found: found, cfg: cfg}
	for _, s := range found.Found {
		c := Checked{Source: s.Source, Via: s.Via, Manifest: s.Manifest, Kind: string(s.Kind)}
		var (
			res  *verify.ImageResult
			verr error
		)
		switch s.Kind {
		case oci.KindBundle, oci.KindOMSLayer:
			if sig, perr := verify.ParseBundle(s.Data); perr == nil {
				c.Kind = "oms"
				if err := verifyOMS(ctx, files, v, sig, found, s, &c); err != nil {
					return nil, fmt.Errorf("%s: %w", target, err)
				}
				rep.Signatures = append(rep.Signatures, c)
				continue
			} else if s.Kind == oci.KindOMSLayer {
				verr = perr
				break
			}
			res, verr = v.VerifyImageBundle(s.Data, img)
		case oci.KindSimpleSigning:
			res, verr = v.VerifySimpleSigning(legacy(s), img)
		case oci.KindAttestation:
			res, verr = v.VerifyAttestation(legacy(s), img)
		default:
			verr = fmt.Errorf("unknown signature kind %q", s.Kind)
		}
		if res != nil && verr == nil {
			c.Kind = res.Kind
			c.Verified = true
			c.Method, c.Identity, c.Issuer, c.Key, c.PredicateType = string(res.Method), res.Identity, res.Issuer, res.KeyFingerprint, res.PredicateType
		} else {
			setError(&c, verr)
		}
		rep.Signatures = append(rep.Signatures, c)
	}
	for _, c := range rep.Signatures {
		if c.Verified {
			rep.Verified = true
		}
	}
	switch {
	case len(rep.Signatures) == 0:
		rep.Error = fmt.Sprintf("%s: no signature found for %s (referrers API, referrers tag, cosign .sig/.att tags, model.sig layer)", ErrNoSignature, rep.Digest)
	case !rep.Verified:
		var why []string
		for _, c := range rep.Signatures {
			why = append(why, c.Source+": "+c.Error)
		}
		rep.Error = "no signature verifies: " + strings.Join(why, "; ")
	}
	return rep, nil
}

func setError(c *Checked, err error) {
	if err == nil {
		err = errors.New("not verified")
	}
	c.Error = err.Error()
	c.Unsupported = errors.Is(err, verify.ErrUnsupported)
	var ve *verify.Error
	if errors.As(err, &ve) && ve.Diff != nil {
		c.Diff = ve.Diff
	}
}

func legacy(s oci.FoundSignature) verify.LegacySignature {
	return verify.LegacySignature{
		Payload:     s.Data,
		Signature:   s.Annotations[oci.AnnCosignSignature],
		Certificate: []byte(s.Annotations[oci.AnnCosignCertificate]),
		Chain:       []byte(s.Annotations[oci.AnnCosignChain]),
		RekorBundle: []byte(s.Annotations[oci.AnnCosignBundle]),
	}
}

var gitPaths = []string{".git", ".gitattributes", ".github", ".gitignore"}

// verifyOMS checks an OMS signature against the artifact's layers. The
// signature itself is checked first, so nothing is downloaded for one the
// policy does not trust. For the files/sha256 serialization a raw layer's
// digest is the file's SHA-256, the resource digest: such layers are never
// downloaded. Other layers (tar, tar+gzip, tar+zstd), and every layer of a
// blake2b, blake3 or shards signature, are downloaded through the blob
// cache and hashed (layers.go). The error is for I/O, registry and digest
// failures; verdicts go into c.
func verifyOMS(ctx context.Context, files *artifactFiles, v *verify.Verifier, sig *verify.Signature, found *oci.Signatures, s oci.FoundSignature, c *Checked) error {
	if found.Family == oci.FamilyIndex {
		setError(c, &verify.Error{Kind: verify.ErrUnsupported, Detail: "an OMS signature over an image index: hallmark compares it with the layers of one image manifest"})
		return nil
	}
	pre, err := v.Verify(sig, verify.WithoutArtifactUnsafe())
	if err != nil {
		setError(c, err)
		return nil
	}
	o := pre.Options
	switch o.Hash {
	case manifest.HashSHA256, manifest.HashBLAKE2b, manifest.HashBLAKE3:
	default:
		setError(c, &verify.Error{Kind: verify.ErrUnsupported, Detail: fmt.Sprintf("the OMS signature uses hash %q", o.Hash)})
		return nil
	}
	digestsAreFiles := o.Method == manifest.MethodFiles && o.Hash == manifest.HashSHA256
	h := &layerHasher{a: files, opts: o, ignored: append(append([]string{}, o.IgnorePaths...), gitPaths...), seen: map[string]string{}, lim: limits.Default()}
	var hashRaw, hashTar []oci.LayerInfo
	for _, l := range found.Layers {
		if l.Digest == s.Layer && s.Kind == oci.KindOMSLayer {
			continue // the signature itself
		}
		if l.Unusable != "" {
			// A layer the signature cannot speak for is still pulled by
			// clients: never verify around it.
			setError(c, &verify.Error{Kind: verify.ErrResourceMismatch, Detail: fmt.Sprintf("layer %s cannot be compared with the signature (%s), and clients pull it", l.Path, l.Unusable)})
			return nil
		}
		switch {
		case l.Raw:
			if isIgnored(l.Path, h.ignored) {
				continue
			}
			if err := h.claim(l.Path, "raw layer"); err != nil {
				setError(c, &verify.Error{Kind: verify.ErrResourceMismatch, Detail: err.Error()})
				return nil
			}
			if !digestsAreFiles {
				hashRaw = append(hashRaw, l)
				continue
			}
			hexd, _ := strings.CutPrefix(l.Digest, "sha256:")
			h.local = append(h.local, manifest.Resource{Name: l.Path, Algorithm: manifest.HashSHA256, Digest: hexd})
		case l.Packing != "":
			hashTar = append(hashTar, l)
		case isIgnored(l.Path, h.ignored):
		default:
			setError(c, &verify.Error{Kind: verify.ErrUnsupported, Detail: fmt.Sprintf("layer %s (%s) is compressed but not a tar: how clients unpack it is not defined, so its files cannot be hashed", l.Path, l.MediaType)})
			return nil
		}
	}
	for _, l := range hashRaw {
		if err := h.raw(ctx, l); err != nil {
			return verdict(c, err)
		}
	}
	for _, l := range hashTar {
		if err := h.tar(ctx, l); err != nil {
			return verdict(c, err)
		}
	}
	res, err := v.Verify(sig, verify.WithResources(h.local))
	if err != nil {
		setError(c, err)
		return nil
	}
	c.Verified = true
	c.Method, c.Identity, c.Issuer, c.Key = string(res.Method), res.Identity, res.Issuer, res.KeyFingerprint
	c.PredicateType, c.RootDigest, c.Resources = res.PredicateType, res.RootDigest, len(res.Resources)
	return nil
}

// verdict puts a reason the signature cannot verify into c, and returns
// any other error.
func verdict(c *Checked, err error) error {
	var cn *cannot
	if errors.As(err, &cn) {
		setError(c, &verify.Error{Kind: verify.ErrResourceMismatch, Detail: cn.why})
		return nil
	}
	return err
}

// isIgnored applies OMS ignore paths (model-relative; a folder drops its
// subtree).
func isIgnored(p string, ignored []string) bool {
	for _, ig := range ignored {
		ig = strings.Trim(path.Clean(ig), "/")
		if p == ig || strings.HasPrefix(p, ig+"/") {
			return true
		}
	}
	return false
}
