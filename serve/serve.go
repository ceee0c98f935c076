// Package serve is `hallmark serve`: one HTTP server that answers
// Kubernetes validating admission webhooks (AdmissionReview v1) and
// Harbor's pluggable scanner adapter API (v1.1) with the gate's verdict,
// plus health checks and Prometheus metrics.
//
// Every model reference is resolved to a manifest digest, and the gate
// (package gate: scan, signature, policy) runs once per digest, policy and
// rules version; verdicts are cached, bounded, and concurrent requests for
// one digest wait for one scan. Scans run under the server's context with
// a concurrency bound and a timeout, so a slow scan never blocks health
// checks and an admission request that gives up leaves the scan to warm
// the cache. Nothing is shared between replicas but the registry.
package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hallmarkdev/hallmark/gate"
	"github.com/hallmarkdev/hallmark/serve/admission"
	"github.com/hallmarkdev/hallmark/source/oci"
)

// Config is the server's configuration.
type Config struct {
	Listen        string // host:port
	TLSCert       string // PEM files; both or neither
	TLSKey        string
	AllowHTTP     bool   // plain HTTP on a non-loopback address (loud)
	AdmissionPath string // default "/admission"
	// Gate is the decision: policy, threshold, signers. Its OCI field is
	// replaced by OCI below.
	Gate gate.Config
	// PolicyID names the policy for cache keys (see PolicyID).
	PolicyID string
	OCI      oci.Config
	// FailOpen admits when no decision could be made (registry down,
	// deadline passed); default closed: deny.
	FailOpen bool
	// Deadline bounds one admission request (resolve and wait for the
	// verdict); default 25 s, under the API server's 30 s webhook maximum.
	Deadline time.Duration
	// ScanTimeout bounds one gate run; default 30 min.
	ScanTimeout time.Duration
	// MaxScans is how many gate runs may read at once; default 4, of which
	// one registry host may hold all but one.
	MaxScans int
	// CacheSize bounds the verdict cache; default 1024.
	CacheSize int
	Rules     admission.Rules
	Logger    *slog.Logger
	// Ready, if set, must return true before /readyz reports ready.
	Ready func() bool
}

// Server is a configured hallmark server.
type Server struct {
	cfg      Config
	log      *slog.Logger
	metrics  *metrics
	checker  *checker
	base     context.Context
	cancel   context.CancelFunc
	drain    context.Context // done when reviews must stop waiting (shutdown)
	drained  context.CancelFunc
	stopping atomic.Bool
	mux      *http.ServeMux
	wg       sync.WaitGroup
}

// New builds a server. Close cancels its scans.
func New(cfg Config) (*Server, error) {
	if cfg.AdmissionPath == "" {
		cfg.AdmissionPath = "/admission"
	}
	if !strings.HasPrefix(cfg.AdmissionPath, "/") {
		return nil, fmt.Errorf("admission path %q must start with /", cfg.AdmissionPath)
	}
	if cfg.Deadline <= 0 {
		cfg.Deadline = 25 * time.Second
	}
	if cfg.ScanTimeout <= 0 {
		cfg.ScanTimeout = 30 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := cfg.Rules.Validate(); err != nil {
		return nil, err
	}
	base, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: newMetrics(), base: base, cancel: cancel}
	s.drain, s.drained = context.WithCancel(context.Background())
	s.checker = newChecker(base, cfg.Gate, cfg.OCI, cfg.PolicyID, cfg.MaxScans, cfg.CacheSize, cfg.ScanTimeout, s.metrics)
	s.checker.logf = s.log.Error
	mux := http.NewServeMux()
	mux.Handle("POST "+cfg.AdmissionPath, s.instrument("admission", http.HandlerFunc(s.admission)))
	mux.Handle("GET /healthz", s.instrument("healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})))
	mux.Handle("GET /readyz", s.instrument("readyz", http.HandlerFunc(s.readyz)))
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	s.mux = mux
	return s, nil
}

// Handler is the server's HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.mux }

// Check decides about one reference (resolve, cached verdict or scan).
func (s *Server) Check(ctx context.Context, ref string, oc *oci.Config) (Verdict, error) {
	return s.checker.Check(ctx, ref, oc)
}

// Base is the server's context: work that outlives a request (Harbor
// scans) runs under it and stops with Close.
func (s *Server) Base() context.Context { return s.base }

// CountVerdict records a decision in the metrics.
func (s *Server) CountVerdict(source, verdict string) {
	s.metrics.verdicts.WithLabelValues(source, verdict).Inc()
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.stopping.Load() || (s.cfg.Ready != nil && !s.cfg.Ready()) {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
}

// statusWriter remembers the status code for the metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) instrument(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.metrics.requests.WithLabelValues(name, fmt.Sprint(sw.code)).Inc()
		s.metrics.requestSecs.WithLabelValues(name).Observe(time.Since(start).Seconds())
	})
}

// Run listens and serves until ctx is done, then shuts down gracefully:
// /readyz turns 503 at once, in-flight requests get grace to finish, and
// the scans still running are cancelled.
func (s *Server) Run(ctx context.Context, grace time.Duration) error {
	ln, err := s.Listen()
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln, grace)
}

// Listen opens the listener the configuration asks for, refusing plain
// HTTP on a non-loopback address unless AllowHTTP.
func (s *Server) Listen() (net.Listener, error) {
	cfg := s.cfg
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("give both --tls-cert and --tls-key, or neither")
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	if cfg.TLSCert == "" {
		host, _, _ := net.SplitHostPort(ln.Addr().String())
		if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && !cfg.AllowHTTP {
			ln.Close()
			return nil, fmt.Errorf("refusing plain HTTP on %s: give --tls-cert and --tls-key (the API server only calls webhooks over TLS), or --insecure-http", cfg.Listen)
		}
		return ln, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("TLS: %w", err)
	}
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}), nil
}

// Serve serves on ln until ctx is done (see Run).
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	// ReadTimeout bounds a slow body (an AdmissionReview is at most a few
	// MiB); handlers bound their own waits.
	srv := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.stopping.Store(true)
	s.log.Info("shutting down", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	// Reviews waiting on scans answer (fail-open or closed) a little
	// before the grace ends, so none is cut off with EOF.
	drainAfter := grace - 2*time.Second
	if drainAfter < grace/2 {
		drainAfter = grace / 2
	}
	t := time.AfterFunc(drainAfter, s.drained)
	defer t.Stop()
	err := srv.Shutdown(sctx)
	s.Close()
	if errors.Is(err, context.DeadlineExceeded) {
		srv.Close()
		return fmt.Errorf("in-flight requests did not finish within %s: closed", grace)
	}
	return err
}

// Close cancels the scans still running and waits for background work.
func (s *Server) Close() {
	s.stopping.Store(true)
	s.drained()
	s.cancel()
	s.wg.Wait()
}

// Go runs f in the background under the server's context; Close waits.
func (s *Server) Go(f func(ctx context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(s.base)
	}()
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// publicError is err as the caller may see it (no registry response
// bodies).
func publicError(err error) string { return oci.PublicError(err) }
