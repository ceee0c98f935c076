package oci

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A registry may not redirect into the machine: the redirected request
// is refused before it is sent.
func TestGuardRefusesRedirectsInward(t *testing.T) {
	hit := false
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit = true }))
	defer inner.Close()
	g := &httpGuard{base: http.DefaultTransport}
	// The "registry" is outside (a documentation address), the redirect
	// points at loopback.
	first, _ := http.NewRequest(http.MethodGet, "https://192.0.2.10/v2/", nil)
	redirected, _ := http.NewRequest(http.MethodGet, inner.URL+"/admin", nil)
	redirected.Response = &http.Response{Request: first}
	_, err := g.RoundTrip(redirected)
	if err == nil || !strings.Contains(err.Error(), "refusing a redirect from 192.0.2.10") || hit {
		t.Fatalf("err %v, inner reached %v", err, hit)
	}
	// A loopback registry itself is fine.
	resp, err := (&http.Client{Transport: g}).Get(inner.URL + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !hit {
		t.Error("loopback registry refused")
	}
}
