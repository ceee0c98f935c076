package serve_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hallmarkdev/hallmark/serve"
	"github.com/hallmarkdev/hallmark/serve/harbor"
	"github.com/hallmarkdev/hallmark/source/oci/ocitest"
)

func digestOf(t testing.TB, ref string) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(r)
	if err != nil {
		t.Fatal(err)
	}
	return d.Digest.String()
}

// Harbor end to end: POST /api/v1/scan with the registry credentials
// Harbor passes, 302 while running, then the vulnerability report (the
// malicious pickle as a Critical item) and the CycloneDX SBOM.
func TestHarborScan(t *testing.T) {
	reg := ocitest.NewRegistry()
	defer reg.Close()
	push(t, reg.Host, "models/evil:v1", map[string][]byte{"model.pkl": fixture(t, "testdata/pickles/malicious/g_os_system_p2.pkl"),
		"config.json": fixture(t, "testdata/bom/hf-model/config.json")})
	digest := digestOf(t, reg.Host+"/models/evil:v1")
	s := newServer(t, nil)
	const token = "test-token-0123456789"
	if err := s.EnableHarbor(serve.HarborInfo("test"), token); err != nil {
		t.Fatal(err)
	}
	mux := s.Handler()
	// Harbor presents its bearer token; without it the API answers 401.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/metrics") {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		mux.ServeHTTP(w, r)
	})
	rec0 := httptest.NewRecorder()
	mux.ServeHTTP(rec0, httptest.NewRequest(http.MethodGet, "/api/v1/metadata", nil))
	if rec0.Code != http.StatusUnauthorized {
		t.Errorf("no token: %d", rec0.Code)
	}

	req := map[string]any{
		"registry": map[string]any{"url": "http://" + reg.Host, "authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("harbor:secret"))},
		"artifact": map[string]any{"repository": "models/evil", "digest": digest, "tag": "v1", "mime_type": "application/vnd.oci.image.manifest.v1+json"},
	}
	body, _ := json.Marshal(req)
	r := httptest.NewRequest(http.MethodPost, "/api/v1/scan", bytes.NewReader(body))
	r.Header.Set("Content-Type", harbor.MimeScanRequest)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("scan: %d %s", rec.Code, rec.Body.String())
	}
	var resp struct{ ID string }
	json.Unmarshal(rec.Body.Bytes(), &resp)

	var report harbor.HarborVulnerabilityReport
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/scan/"+resp.ID+"/report", nil)
		r.Header.Set("Accept", harbor.MimeVulnReport)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == http.StatusFound {
			if rec.Header().Get("Refresh-After") == "" {
				t.Fatal("302 without Refresh-After")
			}
			if time.Now().After(deadline) {
				t.Fatal("still running after 20 s")
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("report: %d %s", rec.Code, rec.Body.String())
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &report); err != nil {
			t.Fatal(err)
		}
		break
	}
	if report.Severity != harbor.SeverityCritical {
		t.Errorf("report severity %q", report.Severity)
	}
	found := false
	for _, v := range report.Vulnerabilities {
		if v.ID == "pickle/dangerous-call" && strings.Contains(v.Package, "model.pkl") && v.Severity == harbor.SeverityCritical {
			found = true
		}
	}
	if !found {
		t.Errorf("no critical pickle/dangerous-call item: %+v", report.Vulnerabilities)
	}
	// The SBOM report carries the CycloneDX BOM.
	r = httptest.NewRequest(http.MethodGet, "/api/v1/scan/"+resp.ID+"/report?sbom_media_type="+url.QueryEscape(harbor.MediaTypeCycloneDX), nil)
	r.Header.Set("Accept", harbor.MimeSBOMReport)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"bomFormat":"CycloneDX"`) && !strings.Contains(rec.Body.String(), `"bomFormat": "CycloneDX"`) {
		t.Errorf("SBOM report: %d %.300s", rec.Code, rec.Body.String())
	}
	if m := metric(t, h, `hallmark_verdicts_total{source="harbor",verdict="denied"}`); m != 1 {
		t.Errorf("harbor verdicts %v", m)
	}
	// A plain-HTTP registry that is not on loopback is refused (422).
	req["registry"] = map[string]any{"url": "http://registry.example"}
	body, _ = json.Marshal(req)
	r = httptest.NewRequest(http.MethodPost, "/api/v1/scan", bytes.NewReader(body))
	r.Header.Set("Content-Type", harbor.MimeScanRequest)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("plain HTTP elsewhere: %d %s", rec.Code, rec.Body.String())
	}
}

// SIGTERM (the context ends): /readyz turns 503 at once, the review in
// flight still gets its answer, and Serve returns within the grace.
func TestGracefulShutdown(t *testing.T) {
	reg := ocitest.NewRegistry()
	defer reg.Close()
	push(t, reg.Host, "models/good:v1", map[string][]byte{"config.json": fixture(t, "testdata/bom/hf-model/config.json")})
	slowHost, release := stalling(t, reg)
	s := newServer(t, func(c *serve.Config) { c.Listen = "127.0.0.1:0" })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, 10*time.Second) }()
	base := "http://" + ln.Addr().String()
	answered := make(chan reviewResponse, 1)
	go func() {
		resp, err := http.Post(base+"/admission", "application/json", bytes.NewReader(podReview("u-slow", slowHost+"/models/good:v1")))
		var rr reviewResponse
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&rr)
			resp.Body.Close()
		}
		answered <- rr
	}()
	time.Sleep(300 * time.Millisecond) // the review is waiting on the blob
	stop()
	time.Sleep(100 * time.Millisecond)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz while stopping: %d", rec.Code)
	}
	release() // the registry answers: the in-flight review completes
	select {
	case rr := <-answered:
		if rr.Response.UID != "u-slow" {
			t.Errorf("the in-flight review got no answer: %+v", rr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no answer")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return")
	}
}
