package serve_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/gate"
	"github.com/hallmarkdev/hallmark/scan"
	"github.com/hallmarkdev/hallmark/serve"
	"github.com/hallmarkdev/hallmark/serve/admission"
	"github.com/hallmarkdev/hallmark/source/oci"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
)

func fixture(t testing.TB, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", p))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// push writes a ModelPack artifact of files (name → bytes) to host/repo:tag.
func push(t testing.TB, host, repo string, files map[string][]byte) {
	t.Helper()
	var fs []ocitest.File
	for n, d := range files {
		fs = append(fs, ocitest.File{Name: n, Data: d})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	img, err := ocitest.Build("modelpack", fs...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ocitest.Push(host+"/"+repo, img); err != nil {
		t.Fatal(err)
	}
}

func newServer(t testing.TB, mut func(*serve.Config)) *serve.Server {
	t.Helper()
	cfg := serve.Config{Gate: gate.Config{FailOn: scan.Medium}, Rules: admission.DefaultRules(), PolicyID: "test",
		OCI: oci.Config{CacheDir: t.TempDir()}, Deadline: 20 * time.Second}
	if mut != nil {
		mut(&cfg)
	}
	s, err := serve.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// podReview is an AdmissionReview of a Pod whose image volume mounts ref.
func podReview(uid, ref string) []byte {
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "infer", "namespace": "ml"},
		"spec": map[string]any{
			"containers": []any{map[string]any{"name": "server", "image": "ghcr.io/acme/server:v1",
				"volumeMounts": []any{map[string]any{"name": "model", "mountPath": "/models"}}}},
			"volumes": []any{map[string]any{"name": "model", "image": map[string]any{"reference": ref, "pullPolicy": "IfNotPresent"}}},
		},
	}
	obj, _ := json.Marshal(pod)
	rev := map[string]any{
		"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
		"request": map[string]any{
			"uid":       uid,
			"kind":      map[string]any{"group": "", "version": "v1", "kind": "Pod"},
			"resource":  map[string]any{"group": "", "version": "v1", "resource": "pods"},
			"namespace": "ml", "name": "infer", "operation": "CREATE",
			"userInfo": map[string]any{"username": "alice"},
			"object":   json.RawMessage(obj),
		},
	}
	b, _ := json.Marshal(rev)
	return b
}

type reviewResponse struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Response   struct {
		UID     string `json:"uid"`
		Allowed bool   `json:"allowed"`
		Status  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
		Warnings []string `json:"warnings"`
	} `json:"response"`
}

func review(t testing.TB, h http.Handler, body []byte) (int, reviewResponse, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/admission", bytes.NewReader(body)))
	var rr reviewResponse
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &rr); err != nil {
			t.Fatalf("response is not JSON: %v\n%s", err, rec.Body.String())
		}
	}
	return rec.Code, rr, rec.Body.String()
}

func message(rr reviewResponse) string {
	if rr.Response.Status == nil {
		return ""
	}
	return rr.Response.Status.Message
}

// The admission hook against the real docker-registry: a clean model is
// admitted, a malicious one refused with the model, digest and reason; the
// verdict is cached (a second review scans nothing).
func TestAdmissionDistribution(t *testing.T) {
	reg := ocitest.StartDistribution(t)
	if reg == nil {
		return // skipped: no docker-registry
	}
	push(t, reg.Host, "models/good:v1", map[string][]byte{"model.safetensors": fixture(t, "testdata/bom/hf-model/model.safetensors"),
		"config.json": fixture(t, "testdata/bom/hf-model/config.json")})
	push(t, reg.Host, "models/evil:v1", map[string][]byte{"model.pkl": fixture(t, "testdata/pickles/malicious/g_os_system_p2.pkl")})
	s := newServer(t, nil)
	h := s.Handler()

	code, rr, body := review(t, h, podReview("u-good", reg.Host+"/models/good:v1"))
	if code != 200 || !rr.Response.Allowed || rr.Response.UID != "u-good" || rr.APIVersion != "admission.k8s.io/v1" || rr.Kind != "AdmissionReview" {
		t.Fatalf("good: %d %s", code, body)
	}
	code, rr, body = review(t, h, podReview("u-evil", reg.Host+"/models/evil:v1"))
	if code != 200 || rr.Response.Allowed || rr.Response.Status == nil || rr.Response.Status.Code != 403 {
		t.Fatalf("evil: %d %s", code, body)
	}
	msg := message(rr)
	for _, want := range []string{"oci://" + reg.Host + "/models/evil:v1", "sha256:", "spec.volumes[0].image.reference", "critical pickle/dangerous-call", "model.pkl"} {
		if !strings.Contains(msg, want) {
			t.Errorf("denial %q lacks %q", msg, want)
		}
	}
	// Cached: the same digest again is a cache hit.
	review(t, h, podReview("u-evil-2", reg.Host+"/models/evil:v1"))
	if m := metric(t, h, "hallmark_verdict_cache_hits_total"); m < 1 {
		t.Errorf("cache hits %v", m)
	}
	if m := metric(t, h, `hallmark_verdicts_total{source="admission",verdict="denied"}`); m != 2 {
		t.Errorf("denied verdicts %v", m)
	}
}

// metric reads one series from /metrics.
func metric(t testing.TB, h http.Handler, series string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}

func TestAdmissionFailureModes(t *testing.T) {
	reg := ocitest.NewRegistry()
	defer reg.Close()
	push(t, reg.Host, "models/good:v1", map[string][]byte{"config.json": fixture(t, "testdata/bom/hf-model/config.json")})

	// Malformed reviews: 400 with one clear line.
	h := newServer(t, nil).Handler()
	for name, body := range map[string]string{
		"not json":   "{",
		"no request": `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`,
		"v1beta1":    `{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"x"}}`,
	} {
		code, _, out := review(t, h, []byte(body))
		if code != http.StatusBadRequest || !strings.HasPrefix(out, "hallmark: ") || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("%s: %d %q", name, code, out)
		}
	}
	// DELETE is always allowed; an object naming no model too.
	del := bytes.Replace(podReview("u-del", reg.Host+"/models/good:v1"), []byte(`"CREATE"`), []byte(`"DELETE"`), 1)
	if _, rr, _ := review(t, h, del); !rr.Response.Allowed {
		t.Error("DELETE denied")
	}

	// Unreachable registry: fail closed by default, open on request.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	_, rr, _ := review(t, h, podReview("u-dead", dead+"/models/x:v1"))
	if rr.Response.Allowed || !strings.Contains(message(rr), "could not check model oci://"+dead+"/models/x:v1") || !strings.Contains(message(rr), "fail-closed") {
		t.Errorf("unreachable, fail-closed: %+v", rr.Response)
	}
	open := newServer(t, func(c *serve.Config) { c.FailOpen = true }).Handler()
	_, rr, _ = review(t, open, podReview("u-dead", dead+"/models/x:v1"))
	if !rr.Response.Allowed || len(rr.Response.Warnings) == 0 || !strings.Contains(strings.Join(rr.Response.Warnings, " "), "fail-open") {
		t.Errorf("unreachable, fail-open: %+v", rr.Response)
	}

	// Deadline: a registry that stalls on blobs.
	slowHost, _ := stalling(t, reg)
	quick := newServer(t, func(c *serve.Config) { c.Deadline = 300 * time.Millisecond }).Handler()
	start := time.Now()
	_, rr, _ = review(t, quick, podReview("u-slow", slowHost+"/models/good:v1"))
	if rr.Response.Allowed || !strings.Contains(message(rr), "deadline exceeded") {
		t.Errorf("deadline: %+v", rr.Response)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("deadline answer took %s", d)
	}
	// Health checks answer while that scan still hangs.
	rec := httptest.NewRecorder()
	quick.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != 200 {
		t.Errorf("healthz %d", rec.Code)
	}
}

// 2,000 admission requests, 50 at a time, for a cached digest: no error;
// the latencies are logged (BENCHMARKS.md has the measured figures).
func TestAdmissionLoad(t *testing.T) {
	reg := ocitest.NewRegistry()
	defer reg.Close()
	push(t, reg.Host, "models/good:v1", map[string][]byte{"config.json": fixture(t, "testdata/bom/hf-model/config.json")})
	s := newServer(t, nil)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	body := podReview("u-warm", reg.Host+"/models/good:v1")
	lat, errs := load(t, srv.URL+"/admission", body, 2000, 50)
	if errs > 0 {
		t.Fatalf("%d errors", errs)
	}
	t.Logf("2000 requests at 50 concurrent: p50 %s p99 %s max %s", lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
}

// load posts body n times, c at a time, and returns the sorted latencies
// and the number of failures (transport errors, non-200, denied).
func load(t testing.TB, url string, body []byte, n, c int) ([]time.Duration, int) {
	t.Helper()
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = body
	}
	return loadEach(t, url, bodies, c)
}

// loadEach posts each body once, c at a time.
func loadEach(t testing.TB, url string, bodies [][]byte, c int) ([]time.Duration, int) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}, Timeout: 30 * time.Second}
	var (
		mu   sync.Mutex
		lat  []time.Duration
		errs int
		wg   sync.WaitGroup
	)
	jobs := make(chan []byte)
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range jobs {
				start := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					var rr reviewResponse
					ok = ok && json.NewDecoder(resp.Body).Decode(&rr) == nil && rr.Response.Allowed
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(start)
				mu.Lock()
				lat = append(lat, d)
				if !ok {
					errs++
				}
				mu.Unlock()
			}
		}()
	}
	for _, b := range bodies {
		jobs <- b
	}
	close(jobs)
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat, errs
}

// The registry dies while a scan reads a large layer: the review is denied
// (fail-closed) naming the model, nothing is cached. A throttling proxy in
// front of the real docker-registry keeps the 32 MiB layer in transfer for
// a few seconds, so the kill lands mid-read.
func TestRegistryKilledMidScan(t *testing.T) {
	reg := ocitest.StartDistribution(t)
	if reg == nil {
		return
	}
	big := make([]byte, 32<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	push(t, reg.Host, "models/big:v1", map[string][]byte{"weights.bin": big})
	proxy := throttle(t, reg.Host, 8<<20) // 8 MiB/s: 4 s for the layer
	s := newServer(t, nil)
	h := s.Handler()
	done := make(chan reviewResponse, 1)
	go func() {
		_, rr, _ := review(t, h, podReview("u-big", proxy+"/models/big:v1"))
		done <- rr
	}()
	deadline := time.Now().Add(10 * time.Second)
	for metric(t, h, "hallmark_scans_in_flight") < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the layer is streaming now
	reg.Kill()
	var rr reviewResponse
	select {
	case rr = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("no answer 30 s after the registry died")
	}
	if rr.Response.Allowed || !strings.Contains(message(rr), "could not check model oci://"+proxy+"/models/big:v1") {
		t.Errorf("after the kill: %+v", rr.Response)
	}
	if m := metric(t, h, "hallmark_verdict_cache_entries"); m != 0 {
		t.Errorf("a failed scan was cached (%v entries)", m)
	}
}

// throttle forwards a loopback port to upstream at most rate bytes per
// second (downstream); when upstream dies, its connections close.
func throttle(t testing.TB, upstream string, rate int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				u, err := net.Dial("tcp", upstream)
				if err != nil {
					return
				}
				defer u.Close()
				go io.Copy(u, c)
				buf := make([]byte, 64<<10)
				for {
					n, err := u.Read(buf)
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
						time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// stalling fronts reg with a server that holds every blob request until
// release is called (then serves it) or the client gives up.
func stalling(t testing.TB, reg *ocitest.Registry) (host string, release func()) {
	t.Helper()
	ch := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/") {
			select {
			case <-ch:
			case <-r.Context().Done():
				return
			}
		}
		reg.Config.Handler.ServeHTTP(w, r)
	}))
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(func() { release(); srv.Close() })
	return strings.TrimPrefix(srv.URL, "http://"), release
}
