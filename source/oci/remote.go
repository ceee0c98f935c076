package oci

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/hallmarkdev/hallmark/source"
)

// registryStore reads from a registry. Manifests and blobs are always
// fetched by digest from the registry itself, never from a layer's urls.
type registryStore struct {
	ref    name.Reference
	repo   name.Repository
	puller *remote.Puller
	opts   []remote.Option
}

// ParseReference parses the part after oci://. The registry must be
// explicit (no Docker Hub default) and the reference has a tag or a digest
// (default tag "latest").
func ParseReference(target string, insecure bool) (name.Reference, error) {
	s, ok := strings.CutPrefix(target, "oci://")
	if !ok {
		return nil, &source.UsageError{Msg: target + ": not an oci:// target"}
	}
	host, _, _ := strings.Cut(s, "/")
	if !strings.Contains(s, "/") || !(strings.ContainsAny(host, ".:[") || host == "localhost") {
		return nil, &source.UsageError{Msg: fmt.Sprintf("%s: want oci://REGISTRY/REPOSITORY[:TAG|@DIGEST] with an explicit registry host (docker.io/…, ghcr.io/…, localhost:5000/…)", target)}
	}
	opts := []name.Option{name.StrictValidation}
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(s, opts...)
	if err != nil {
		// StrictValidation wants an explicit tag or digest; default to latest.
		if ref2, err2 := name.ParseReference(s+":latest", opts...); err2 == nil && !strings.Contains(s, "@") {
			return ref2, nil
		}
		return nil, &source.UsageError{Msg: fmt.Sprintf("%s: %v", target, err)}
	}
	return ref, nil
}

func openRemote(ctx context.Context, target string, cfg Config) (*registryStore, error) {
	ref, err := ParseReference(target, cfg.Insecure)
	if err != nil {
		return nil, err
	}
	base := remote.DefaultTransport.(*http.Transport).Clone()
	if cfg.Insecure {
		base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // --insecure, warned about loudly
	}
	auth := remote.WithAuthFromKeychain(authn.DefaultKeychain)
	if cfg.Auth != nil {
		auth = remote.WithAuth(cfg.Auth)
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		auth,
		remote.WithTransport(&httpGuard{base: base, insecure: cfg.Insecure}),
		remote.WithUserAgent("hallmark"),
	}
	p, err := remote.NewPuller(opts...)
	if err != nil {
		return nil, err
	}
	// Clipped: blob and manifest append to opts from several goroutines.
	return &registryStore{ref: ref, repo: ref.Context(), puller: p, opts: slices.Clip(append(opts, remote.Reuse(p)))}, nil
}

// resolve fetches the manifest the reference names, once. For a tag the
// digest is computed from the bytes received; every later read uses it.
func (r *registryStore) resolve(ctx context.Context) (raw []byte, digest, mt string, err error) {
	desc, err := remote.Get(r.ref, append(r.opts, remote.WithContext(ctx))...)
	if err != nil {
		return nil, "", "", fmt.Errorf("%s: %w", r.ref, err)
	}
	d := desc.Digest.String()
	if dr, ok := r.ref.(name.Digest); ok && dr.DigestStr() != d {
		return nil, "", "", &DigestError{What: "manifest", Digest: dr.DigestStr(), Got: d, Size: int64(len(desc.Manifest))}
	}
	if err := checkManifest(desc.Manifest, d); err != nil {
		return nil, "", "", err
	}
	return desc.Manifest, d, string(desc.MediaType), nil
}

func (r *registryStore) manifest(ctx context.Context, d string) ([]byte, error) {
	desc, err := remote.Get(r.repo.Digest(d), append(r.opts, remote.WithContext(ctx))...)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", d, err)
	}
	if err := checkManifest(desc.Manifest, d); err != nil {
		return nil, err
	}
	return desc.Manifest, nil
}

// blob fetches a blob by digest from the registry. remote.Layer never
// uses a descriptor's urls.
func (r *registryStore) blob(ctx context.Context, d string) (io.ReadCloser, error) {
	l, err := remote.Layer(r.repo.Digest(d), append(r.opts, remote.WithContext(ctx))...)
	if err != nil {
		return nil, err
	}
	return l.Compressed()
}

// httpGuard refuses plain HTTP to anything but a loopback host unless
// insecure is set. go-containerregistry itself also tries http for
// RFC 1918 addresses; hallmark does not.
type httpGuard struct {
	base     http.RoundTripper
	insecure bool
}

func (g *httpGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	if req.URL.Scheme == "http" && !g.insecure && !loopback(host) {
		return nil, fmt.Errorf("refusing plain HTTP to %s (not a loopback address; use --insecure to allow it)", req.URL.Host)
	}
	// A registry may redirect blobs to its storage, never into the
	// machine or its private network: a hostile registry would turn the
	// pull into a request forgery against local services. (A redirected
	// request carries the response that caused it.)
	if !g.insecure && req.Response != nil && internal(host) {
		first := req
		for first.Response != nil && first.Response.Request != nil {
			first = first.Response.Request
		}
		if origin := first.URL.Hostname(); !internal(origin) {
			return nil, fmt.Errorf("refusing a redirect from %s to the internal address %s", origin, req.URL.Host)
		}
	}
	return g.base.RoundTrip(req)
}

// internal reports whether host is a loopback, private, link-local or
// unspecified address (or localhost).
func internal(host string) bool {
	if loopback(host) {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified())
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Resolve returns the manifest digest an oci:// reference names now (for
// a digest reference, after checking the registry has it): one manifest
// request, no blob. Admission hooks key their verdict cache by it.
//
// With the default credentials, the registry transports (connections,
// tokens) are kept between calls: an admission hook resolves the same
// repositories over and over.
func Resolve(ctx context.Context, target string, cfg Config) (string, error) {
	if cfg.Auth != nil {
		r, err := openRemote(ctx, target, cfg)
		if err != nil {
			return "", err
		}
		_, d, _, err := r.resolve(ctx)
		return d, err
	}
	ref, err := ParseReference(target, cfg.Insecure)
	if err != nil {
		return "", err
	}
	opts := sharedOptions(cfg.Insecure)
	r := &registryStore{ref: ref, repo: ref.Context(), opts: opts}
	_, d, _, err := r.resolve(ctx)
	return d, err
}

var (
	sharedMu   sync.Mutex
	sharedOpts = map[bool][]remote.Option{}
)

// sharedOptions are remote options with one puller per insecure setting,
// reused across Resolve calls (go-containerregistry's Puller caches a
// transport per repository and refreshes expired tokens itself). The
// guard's plain-HTTP and redirect rules apply as for every pull.
func sharedOptions(insecure bool) []remote.Option {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if o, ok := sharedOpts[insecure]; ok {
		return o
	}
	base := remote.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // --insecure, warned about loudly
	}
	opts := []remote.Option{
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithTransport(&httpGuard{base: base, insecure: insecure}),
		remote.WithUserAgent("hallmark"),
	}
	p, err := remote.NewPuller(opts...)
	if err != nil {
		return opts
	}
	o := slices.Clip(append(opts, remote.Reuse(p)))
	sharedOpts[insecure] = o
	return o
}

// PublicError describes err for an answer to a third party (an admission
// denial, a Harbor report): a registry's error response body is left out,
// since a "registry" the caller chose, or a redirect it sent, can make
// that body anything the server can reach. The status and the registry's
// error codes stay.
func PublicError(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var te *transport.Error
	if errors.As(err, &te) {
		summary := fmt.Sprintf("the registry answered %d %s", te.StatusCode, http.StatusText(te.StatusCode))
		var codes []string
		for _, d := range te.Errors {
			if c := string(d.Code); c != "" && len(codes) < 4 && len(c) <= 40 {
				codes = append(codes, c)
			}
		}
		if len(codes) > 0 {
			summary += " (" + strings.Join(codes, ", ") + ")"
		}
		if inner := te.Error(); strings.Contains(msg, inner) {
			msg = strings.Replace(msg, inner, summary, 1)
		} else {
			msg = summary
		}
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 400 {
		msg = msg[:400] + "…"
	}
	return msg
}
