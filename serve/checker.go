package serve

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

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
	// ValidUntil: the cache forgets the verdict then (a suppression that
	// allowed it expires, or the day is over: signatures and registries
	// change).
	ValidUntil time.Time
	Cached     bool // served from the cache
	// Outcome is the full decision (nil when served from the cache).
	Outcome *gate.Outcome
}

// verdictTTL bounds how long any verdict is reused.
const verdictTTL = 24 * time.Hour

// errIncomplete says the gate could not decide (a file or the registry
// could not be read): never cached, answered per fail-open/closed.
var errIncomplete = errors.New("could not complete")

// checker resolves references, runs the gate once per digest and keeps
// verdicts in a bounded cache. Concurrent requests for one digest wait for
// one scan (a flight). A scan waits for a slot: one of maxScans, and one of
// its registry host's (all but one of them), so one slow or hostile
// registry cannot hold every slot. A queued scan nobody waits for any more is
// dropped; a running one goes on under the server's context to warm the
// cache.
type checker struct {
	cfg      gate.Config
	ociCfg   oci.Config
	policyID string // policy digest + signers + rules version: part of every cache key
	timeout  time.Duration
	sem      chan struct{}
	perHost  int
	base     context.Context
	metrics  *metrics

	mu      sync.Mutex
	lru     *list.List // of *entry, most recent first
	index   map[string]*list.Element
	max     int
	flights map[string]*flight
	hosts   map[string]chan struct{}
	logf    func(msg string, args ...any)
}

type entry struct {
	key string
	v   Verdict
}

// flight is one scan and the requests waiting for it.
type flight struct {
	done    chan struct{}
	v       Verdict
	err     error
	waiters int
	started bool
	cancel  context.CancelFunc
}

func newChecker(base context.Context, cfg gate.Config, ociCfg oci.Config, policyID string, maxScans, cacheSize int, timeout time.Duration, m *metrics) *checker {
	if maxScans <= 0 {
		maxScans = 4
	}
	if cacheSize <= 0 {
		cacheSize = 1024
	}
	return &checker{cfg: cfg, ociCfg: ociCfg, policyID: policyID, timeout: timeout, sem: make(chan struct{}, maxScans), perHost: max(1, maxScans-1),
		base: base, metrics: m, lru: list.New(), index: map[string]*list.Element{}, max: cacheSize,
		flights: map[string]*flight{}, hosts: map[string]chan struct{}{}}
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
	key := cacheKey(repoOf(pinned), digest, c.policyID)
	if v, ok := c.get(key); ok {
		c.metrics.cacheHits.Inc()
		v.Ref, v.Cached = ref, true
		return v, nil
	}
	c.metrics.cacheMisses.Inc()

	c.mu.Lock()
	f := c.flights[key]
	if f == nil {
		fctx, cancel := context.WithCancel(c.base)
		f = &flight{done: make(chan struct{}), cancel: cancel}
		c.flights[key] = f
		go c.fly(fctx, key, f, pinned, digest, oc)
	}
	f.waiters++
	c.mu.Unlock()
	select {
	case <-f.done:
		if f.err != nil {
			return Verdict{Ref: ref, Digest: digest}, f.err
		}
		v := f.v
		v.Ref = ref
		return v, nil
	case <-ctx.Done():
		c.mu.Lock()
		f.waiters--
		started := f.started
		if f.waiters == 0 && !started {
			f.cancel() // queued, and nobody is waiting any more
		}
		c.mu.Unlock()
		what := "the scan was dropped from the queue"
		if started {
			what = "the scan goes on and its verdict will be cached"
		}
		return Verdict{Ref: ref, Digest: digest}, fmt.Errorf("%s (%s): %w: %s", ref, digest, ctx.Err(), what)
	}
}

// fly runs one flight's scan and wakes its waiters.
func (c *checker) fly(ctx context.Context, key string, f *flight, pinned, digest string, oc oci.Config) {
	defer f.cancel()
	f.v, f.err = c.scan(ctx, c.sem, func() {
		c.mu.Lock()
		f.started = true
		c.mu.Unlock()
	}, pinned, digest, oc)
	c.mu.Lock()
	delete(c.flights, key)
	c.mu.Unlock()
	close(f.done)
}

// hostSlots is the semaphore of one registry host.
func (c *checker) hostSlots(pinned string) chan struct{} {
	host, _, _ := strings.Cut(strings.TrimPrefix(pinned, "oci://"), "/")
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.hosts[host]
	if !ok {
		if len(c.hosts) > 4096 {
			clear(c.hosts) // held slots are released into the old channels: harmless
		}
		s = make(chan struct{}, c.perHost)
		c.hosts[host] = s
	}
	return s
}

// scan runs the gate on the pinned reference under ctx once it holds a
// slot of its host and one of sem, bounded by the scan timeout, and caches
// the verdict. started, if set, is called once it runs.
func (c *checker) scan(ctx context.Context, sem chan struct{}, started func(), pinned, digest string, oc oci.Config) (v Verdict, err error) {
	host := c.hostSlots(pinned)
	for _, s := range []chan struct{}{host, sem} {
		select {
		case s <- struct{}{}:
			defer func() { <-s }()
		case <-ctx.Done():
			return Verdict{}, fmt.Errorf("waiting for a scan slot: %w", ctx.Err())
		}
	}
	if started != nil {
		started()
	}
	defer func() {
		// A parser bug must cost one verdict (no decision), never the
		// server: every replica would crash on the same model.
		if r := recover(); r != nil {
			err = fmt.Errorf("checking %s: %w: internal error: %v", pinned, errIncomplete, r)
			c.log("panic while scanning", "ref", pinned, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
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
	now := time.Now()
	v = Verdict{Digest: digest, Allowed: !out.Failed(), Checked: now, ValidUntil: validUntil(c.cfg.Policy, now), Outcome: out}
	switch {
	case out.Failed():
		v.Reason = out.Gate.Reasons[0]
	case len(out.Incomplete) > 0:
		return Verdict{}, fmt.Errorf("checking %s: %w: %s", pinned, errIncomplete, out.Incomplete[0])
	}
	cached := v
	cached.Outcome = nil // the cache keeps the decision, not the whole result
	c.put(cacheKey(repoOf(pinned), digest, c.policyID), cached)
	return v, nil
}

// log is set by the server (nil-safe).
func (c *checker) log(msg string, args ...any) {
	if c.logf != nil {
		c.logf(msg, args...)
	}
}

// validUntil is when a verdict made now stops being reused: the next
// suppression expiry of the policy (a verdict it allowed must be made
// again without it), at most a day.
func validUntil(p *policy.Policy, now time.Time) time.Time {
	until := now.Add(verdictTTL)
	if p != nil {
		for _, s := range p.Suppress {
			if !s.Expires.IsZero() && s.Expires.After(now) && s.Expires.Before(until) {
				until = s.Expires
			}
		}
	}
	return until
}

func (c *checker) get(key string) (Verdict, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.index[key]
	if !ok {
		return Verdict{}, false
	}
	v := el.Value.(*entry).v
	if !time.Now().Before(v.ValidUntil) {
		c.lru.Remove(el)
		delete(c.index, key)
		c.metrics.cacheEntries.Set(float64(c.lru.Len()))
		return Verdict{}, false
	}
	c.lru.MoveToFront(el)
	return v, true
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

// repoOf is the registry/repository part of a pinned oci:// reference.
func repoOf(pinned string) string {
	return strings.TrimPrefix(strings.SplitN(pinned, "@", 2)[0], "oci://")
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
