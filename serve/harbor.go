package serve

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/hallmarkdev/hallmark/sbom"
	"github.com/hallmarkdev/hallmark/serve/harbor"
)

// HarborInfo is hallmark's identity in Harbor's scanner list.
func HarborInfo(version string) harbor.Info {
	if version == "" {
		version = "devel"
	}
	return harbor.Info{Name: "hallmark", Vendor: "hallmark", Version: version,
		Properties: map[string]string{"harbor.scanner-adapter/scanner-type": "model-security"}}
}

// EnableHarbor serves the scanner adapter API under /api/v1, for callers
// that present "Authorization: Bearer <token>" (Harbor's scanner
// registration sends it). Call it before serving. Harbor's scans have
// slots of their own (as many as admission's), so a flood of scan
// requests never starves admission, and at most maxHarborPending wait.
func (s *Server) EnableHarbor(info harbor.Info, token string) error {
	if len(token) < 16 {
		return errors.New("the Harbor adapter needs a bearer token of at least 16 characters (--harbor-token-file)")
	}
	b := &harborBackend{s: s, jobs: map[string]*harbor.Job{}, info: info, sem: make(chan struct{}, cap(s.checker.sem))}
	want := []byte("Bearer " + token)
	h := harbor.Handler(b, info)
	s.mux.Handle("/api/v1/", s.instrument("harbor", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hallmark"`)
			http.Error(w, "hallmark: the scanner adapter API needs its bearer token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})))
	return nil
}

// harborBackend runs Harbor's scan requests through the gate, with the
// credentials Harbor passes, and keeps the jobs for the report calls.
type harborBackend struct {
	s    *Server
	info harbor.Info
	sem  chan struct{} // Harbor's own scan slots
	mu   sync.Mutex
	jobs map[string]*harbor.Job
	ids  []string // oldest first, to bound the map
	busy int      // jobs not done
}

const (
	maxHarborJobs    = 10000
	maxHarborPending = 256
)

// errBusy refuses a scan request while too many wait.
var errBusy = errors.New("too many scans queued: retry later")

func (b *harborBackend) Submit(ctx context.Context, req harbor.ScanRequest) (string, error) {
	u, err := url.Parse(req.Registry.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("%w: registry.url %q: want https://host[:port]", harbor.ErrInvalidRequest, req.Registry.URL)
	}
	if !strings.HasPrefix(req.Artifact.Digest, "sha256:") {
		return "", fmt.Errorf("%w: artifact.digest %q: want sha256:<hex>", harbor.ErrInvalidRequest, req.Artifact.Digest)
	}
	oc := b.s.cfg.OCI
	auth, err := harborAuth(req.Registry.Authorization)
	if err != nil {
		return "", fmt.Errorf("%w: %v", harbor.ErrInvalidRequest, err)
	}
	oc.Auth = auth
	if u.Scheme == "http" {
		// Plain HTTP is allowed to loopback registries; others need the
		// server's --insecure (the registry URL comes from Harbor).
		if !oc.Insecure && !isLoopbackHost(u.Hostname()) {
			return "", fmt.Errorf("%w: registry.url %q is plain HTTP: hallmark serve needs --insecure for that", harbor.ErrInvalidRequest, req.Registry.URL)
		}
	}
	ref := "oci://" + u.Host + "/" + strings.TrimPrefix(req.Artifact.Repository, "/") + "@" + req.Artifact.Digest
	id := newID()
	job := &harbor.Job{ID: id, Started: time.Now()}
	b.mu.Lock()
	if b.busy >= maxHarborPending {
		b.mu.Unlock()
		return "", errBusy
	}
	b.busy++
	b.jobs[id] = job
	b.ids = append(b.ids, id)
	for len(b.ids) > maxHarborJobs {
		delete(b.jobs, b.ids[0])
		b.ids = b.ids[1:]
	}
	b.mu.Unlock()
	b.s.Go(func(ctx context.Context) {
		v, err := b.s.checker.scan(ctx, b.sem, nil, ref, req.Artifact.Digest, oc)
		var bom []byte
		if err == nil && v.Outcome != nil {
			if doc, berr := sbom.Build(v.Outcome.Result, sbom.Options{Signatures: v.Outcome.Signatures}); berr == nil {
				var buf strings.Builder
				if sbom.Encode(&buf, doc, sbom.FormatJSON, sbom.Spec16) == nil {
					bom = []byte(buf.String())
				}
			}
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		b.busy--
		job.Done, job.Finished = true, time.Now()
		switch {
		case err != nil:
			job.Err = errors.New(publicError(err))
			b.s.CountVerdict("harbor", "error")
		default:
			job.Result, job.BOM = v.Outcome.Result, bom
			verdict := "allowed"
			if !v.Allowed {
				verdict = "denied"
			}
			b.s.CountVerdict("harbor", verdict)
		}
	})
	return id, nil
}

func (b *harborBackend) Job(id string) (*harbor.Job, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	j, ok := b.jobs[id]
	if !ok {
		return nil, false
	}
	c := *j
	return &c, true
}

// harborAuth turns the Authorization value Harbor sends ("Basic …" or
// "Bearer …") into registry credentials.
func harborAuth(h string) (authn.Authenticator, error) {
	switch {
	case h == "":
		return authn.Anonymous, nil
	case strings.HasPrefix(h, "Basic "):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h, "Basic "))
		if err != nil {
			return nil, errors.New("registry.authorization: Basic credentials are not base64")
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return nil, errors.New("registry.authorization: Basic credentials are not user:password")
		}
		return &authn.Basic{Username: user, Password: pass}, nil
	case strings.HasPrefix(h, "Bearer "):
		return &authn.Bearer{Token: strings.TrimPrefix(h, "Bearer ")}, nil
	}
	return nil, errors.New("registry.authorization: want Basic or Bearer")
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
