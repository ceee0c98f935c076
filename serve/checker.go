package serve

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/hallmarkdev/hallmark/gate"
	"github.com/hallmarkdev/hallmark/policy"
	"github.com/hallmarkdev/hallmark/source/oci"
)

// Verdict is the gate's decision about one manifest digest.
type Verdict struct {
	Ref     string    // as asked
	Digest  string    // the manifest digest it resolved to
	Allowed bool      // the gate passed
	Reason  string    // why not (the gate's first reason), or what could not be read
	Checked time.Time // when the scan finished
	Cached  bool      // served from the cache
	// Outcome is the full decision (nil when served from the cache).
	Outcome *gate.Outcome
}

// errIncomplete says the gate could not decide (a file or the registry
// could not be read): never cached, answered per fail-open/closed.
var errIncomplete = errors.New("could not complete")

// checker resolves references, runs the gate once per digest and keeps
// verdicts in a bounded cache. Concurrent requests for one digest wait for
// one scan; scans run under the server's context (a request that gives up
// does not cancel a scan others may be waiting for) and a semaphore.
type checker struct {
	cfg      gate.Config
	ociCfg   oci.Config
	policyID string // policy digest + signers + rules version: part of every cache key
	timeout  time.Duration
	sem      chan struct{}
	base     context.Context
	group    singleflight.Group
	metrics  *metrics

	mu    sync.Mutex
	lru   *list.List // of *entry, most recent first
	index map[string]*list.Element
	max   int
}

type entry struct {
	key string
	v   Verdict
}

func newChecker(base context.Context, cfg gate.Config, ociCfg oci.Config, policyID string, maxScans, cacheSize int, timeout time.Duration, m *metrics) *checker {
	if maxScans <= 0 {
		maxScans = 2
	}
	if cacheSize <= 0 {
		cacheSize = 1024
	}
	return &checker{cfg: cfg, ociCfg: ociCfg, policyID: policyID, timeout: timeout, sem: make(chan struct{}, maxScans),
		base: base, metrics: m, lru: list.New(), index: map[string]*list.Element{}, max: cacheSize}
}

// Check decides about ref (oci://…): resolve the digest (under ctx), then
// the cached verdict or one scan. The error means no decision: the
// registry could not be reached, the deadline passed, the scan could not
// complete.
func (c *checker) Check(ctx context.Context, ref string, ociCfg *oci.Config) (Verdict, error) {
	oc := c.ociCfg
	if ociCfg != nil {
		oc = *ociCfg
	}
	// A digest reference needs no registry round trip when its verdict is
	// cached; a tag is resolved every time (it may have moved).
	if repo, d, ok := strings.Cut(strings.TrimPrefix(ref, "oci://"), "@"); ok && strings.HasPrefix(d, "sha256:") {
		if v, ok := c.get(cacheKey(repo, d, c.policyID)); ok {
			c.metrics.cacheHits.Inc()
			v.Ref, v.Cached = ref, true
			return v, nil
		}
	}
	digest, err := oci.Resolve(ctx, ref, oc)
	if err != nil {
		return Verdict{Ref: ref}, fmt.Errorf("resolving %s: %w", ref, err)
	}
	pinned := pinnedRef(ref, digest)
	key := cacheKey(strings.TrimPrefix(strings.SplitN(pinned, "@", 2)[0], "oci://"), digest, c.policyID)
	if v, ok := c.get(key); ok {
		c.metrics.cacheHits.Inc()
		v.Ref, v.Cached = ref, true
		return v, nil
	}
	c.metrics.cacheMisses.Inc()
	ch := c.group.DoChan(key, func() (any, error) {
		return c.scan(c.base, pinned, digest, oc)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return Verdict{Ref: ref, Digest: digest}, r.Err
		}
		v := r.Val.(Verdict)
		v.Ref = ref
		return v, nil
	case <-ctx.Done():
		return Verdict{Ref: ref, Digest: digest}, fmt.Errorf("%s (%s): %w: the scan goes on and its verdict will be cached", ref, digest, ctx.Err())
	}
}

// scan runs the gate on the pinned reference under ctx (the server's),
// bounded by the semaphore and the scan timeout, and caches the verdict.
func (c *checker) scan(ctx context.Context, pinned, digest string, oc oci.Config) (Verdict, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return Verdict{}, ctx.Err()
	}
	defer func() { <-c.sem }()
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	c.metrics.scansInFlight.Inc()
	defer c.metrics.scansInFlight.Dec()
	start := time.Now()
	cfg := c.cfg
	cfg.OCI = oc
	out, err := gate.Check(ctx, pinned, cfg)
	c.metrics.scanSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		return Verdict{}, fmt.Errorf("checking %s: %w", pinned, err)
	}
	v := Verdict{Digest: digest, Allowed: !out.Failed(), Checked: time.Now(), Outcome: out}
	switch {
	case out.Failed():
		v.Reason = out.Gate.Reasons[0]
	case len(out.Incomplete) > 0:
		return Verdict{}, fmt.Errorf("checking %s: %w: %s", pinned, errIncomplete, out.Incomplete[0])
	}
	key := cacheKey(strings.TrimPrefix(strings.SplitN(pinned, "@", 2)[0], "oci://"), digest, c.policyID)
	cached := v
	cached.Outcome = nil // the cache keeps the decision, not the whole result
	c.put(key, cached)
	return v, nil
}

func (c *checker) get(key string) (Verdict, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.index[key]
	if !ok {
		return Verdict{}, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*entry).v, true
}

func (c *checker) put(key string, v Verdict) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.index[key]; ok {
		el.Value.(*entry).v = v
		c.lru.MoveToFront(el)
		return
	}
	c.index[key] = c.lru.PushFront(&entry{key: key, v: v})
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.index, old.Value.(*entry).key)
	}
	c.metrics.cacheEntries.Set(float64(c.lru.Len()))
}

// cacheKey names a verdict: the repository (signatures are attached per
// repository, so a verdict is never reused across them), the manifest
// digest and the policy.
func cacheKey(repo, digest, policyID string) string {
	return repo + "@" + digest + "|" + policyID
}

// pinnedRef is ref with its tag replaced by the digest it resolved to:
// the scan reads exactly what was resolved, whatever the tag does next.
func pinnedRef(ref, digest string) string {
	s := strings.TrimPrefix(ref, "oci://")
	if i := strings.Index(s, "@"); i >= 0 {
		s = s[:i]
	}
	// A tag follows the last ':' after the last '/' (a port is before it).
	if slash := strings.LastIndex(s, "/"); slash >= 0 {
		if colon := strings.LastIndex(s[slash:], ":"); colon >= 0 {
			s = s[:slash+colon]
		}
	}
	return "oci://" + s + "@" + digest
}

// PolicyID is the part of every cache key that names the decision rules:
// the policy file's digest, the signers and the rules version. A verdict
// from another policy is never reused.
func PolicyID(p *policy.Policy, signers []string, rulesVersion string) string {
	d := ""
	if p != nil {
		d = p.Digest
	}
	return d + "|" + strings.Join(signers, ",") + "|" + rulesVersion
}
