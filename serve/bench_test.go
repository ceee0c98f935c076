package serve_test

// Admission latency and throughput over loopback HTTP, against the real
// docker-registry when it is installed (else the in-process registry):
//
//	go test -run '^$' -bench Admission -benchtime 1x ./serve
//
// Cached: 2,000 reviews, 50 at a time, of one model whose verdict is
// cached (each review still resolves the tag: one manifest request).
// Uncached: 200 reviews, 50 at a time, each of a different small model
// (config.json + a 34 KiB safetensors), so each one is a full gate run.
// BENCHMARKS.md has the figures.

import (
	"fmt"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/serve"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
)

func benchRegistry(b *testing.B) string {
	if _, err := exec.LookPath("docker-registry"); err == nil {
		if d := ocitest.StartDistribution(b); d != nil {
			return d.Host
		}
	}
	reg := ocitest.NewRegistry()
	b.Cleanup(reg.Close)
	return reg.Host
}

func report(b *testing.B, lat []time.Duration, errs int, wall time.Duration) {
	if errs > 0 {
		b.Fatalf("%d errors", errs)
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(float64(len(lat))/wall.Seconds(), "reviews/s")
}

func BenchmarkAdmissionCached(b *testing.B) { benchCached(b, false) }

// BenchmarkAdmissionCachedDigest: the review names the model by digest,
// so a cached verdict needs no registry round trip.
func BenchmarkAdmissionCachedDigest(b *testing.B) { benchCached(b, true) }

func benchCached(b *testing.B, byDigest bool) {
	host := benchRegistry(b)
	push(b, host, "models/good:v1", map[string][]byte{"config.json": fixture(b, "testdata/bom/hf-model/config.json"),
		"model.safetensors": fixture(b, "testdata/bom/hf-model/model.safetensors")})
	s := newServer(b, func(c *serve.Config) { c.MaxScans = 4 })
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	ref := host + "/models/good:v1"
	if byDigest {
		ref = host + "/models/good@" + digestOf(b, ref)
	}
	body := podReview("u", ref)
	if _, errs := load(b, srv.URL+"/admission", body, 1, 1); errs > 0 { // warm the cache
		b.Fatal("warm-up failed")
	}
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		lat, errs := load(b, srv.URL+"/admission", body, 2000, 50)
		report(b, lat, errs, time.Since(start))
	}
}

func BenchmarkAdmissionUncached(b *testing.B) {
	host := benchRegistry(b)
	const n = 200
	for i := range n {
		push(b, host, fmt.Sprintf("models/m%d:v1", i), map[string][]byte{
			"config.json":       append(fixture(b, "testdata/bom/hf-model/config.json"), fmt.Sprintf("\n// %d", i)...),
			"model.safetensors": fixture(b, "testdata/bom/hf-model/model.safetensors")})
	}
	b.ResetTimer()
	for range b.N {
		s := newServer(b, func(c *serve.Config) { c.MaxScans = 4 })
		srv := httptest.NewServer(s.Handler())
		bodies := make([][]byte, n)
		for i := range bodies {
			bodies[i] = podReview(fmt.Sprint(i), fmt.Sprintf("%s/models/m%d:v1", host, i))
		}
		start := time.Now()
		lat, errs := loadEach(b, srv.URL+"/admission", bodies, 50)
		report(b, lat, errs, time.Since(start))
		srv.Close()
	}
}
