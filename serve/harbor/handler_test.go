package harbor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/scan"
)

// fakeBackend stands for the server: it records requests and hands out
// jobs the tests drive (running, done, failed).
type fakeBackend struct {
	mu   sync.Mutex
	jobs map[string]*Job
	reqs []ScanRequest
	n    int
	err  error  // Submit fails with it
	id   string // Submit returns it instead of a fresh id
}

func newFake() *fakeBackend { return &fakeBackend{jobs: map[string]*Job{}} }

func (f *fakeBackend) Submit(_ context.Context, req ScanRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	if f.err != nil {
		return "", f.err
	}
	if f.id != "" {
		return f.id, nil
	}
	f.n++
	id := fmt.Sprintf("job-%d", f.n)
	f.jobs[id] = &Job{ID: id, Started: time.Now()}
	return id, nil
}

func (f *fakeBackend) Job(id string) (*Job, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[id]
	if !ok {
		return nil, false
	}
	c := *j
	return &c, true
}

func (f *fakeBackend) set(id string, fn func(*Job)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.jobs[id])
}

const (
	digestA = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"
	sha     = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// harborRequest is what Harbor 2.x sends (spec v1.1 body, 1.0 media type).
func harborRequest() string {
	return `{"registry":{"url":"http://harbor-core:8080","authorization":"Bearer eyJhbGciOi.J9.sig"},` +
		`"artifact":{"namespace_id":3,"repository":"library/llama","tag":"v1","digest":"` + digestA + `","mime_type":"application/vnd.oci.image.manifest.v1+json"}}`
}

func TestMetadata(t *testing.T) {
	h := Handler(newFake(), Info{Name: "hallmark", Vendor: "hallmarkdev", Version: "v1.2.3", Properties: map[string]string{"org.label-schema.vcs-ref": "abc"}})
	for _, c := range []struct{ accept, want string }{
		{"", MimeMetadata},
		{MimeMetadata, MimeMetadata},
		{MimeMetadataV10, MimeMetadataV10}, // Harbor's own client
		{MimeMetadataV10 + ", " + MimeMetadata, MimeMetadata},
		{"text/html", MimeMetadata},
	} {
		rec := serve(h, "GET", "/api/v1/metadata", c.accept, nil)
		conform(t, "/metadata", "GET", rec)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != c.want {
			t.Errorf("Accept %q: %d %q, want %q", c.accept, rec.Code, rec.Header().Get("Content-Type"), c.want)
		}
		var m ScannerAdapterMetadata
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		if m.Scanner != (Scanner{"hallmark", "hallmarkdev", "v1.2.3"}) || m.Properties["org.label-schema.vcs-ref"] != "abc" ||
			m.Properties["harbor.scanner-adapter/scanner-type"] != "model-security" {
			t.Errorf("metadata %+v", m)
		}
		// Harbor's ScannerAdapterMetadata.Validate: every capability consumes
		// the Docker manifest type and produces a report Harbor knows.
		if len(m.Capabilities) != 2 {
			t.Fatalf("capabilities %+v", m.Capabilities)
		}
		for _, cp := range m.Capabilities {
			if !contains(cp.ConsumesMimeTypes, MimeDockerManifest) || !contains(cp.ConsumesMimeTypes, MimeOCIManifest) {
				t.Errorf("%s consumes %v", cp.Type, cp.ConsumesMimeTypes)
			}
			for _, p := range cp.ProducesMimeTypes {
				if p != MimeVulnReport && p != MimeSBOMReport && p != MimeNativeReport {
					t.Errorf("%s produces %q", cp.Type, p)
				}
			}
		}
		if m.Capabilities[1].Type != CapabilitySBOM || m.Capabilities[1].AdditionalAttributes == nil ||
			!reflect.DeepEqual(m.Capabilities[1].AdditionalAttributes.SBOMMediaTypes, []string{MediaTypeCycloneDX}) {
			t.Errorf("sbom capability %+v", m.Capabilities[1])
		}
	}
	// Defaults: Harbor refuses empty names.
	rec := serve(Handler(newFake(), Info{}), "GET", "/api/v1/metadata", "", nil)
	var m ScannerAdapterMetadata
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	if m.Scanner.Name == "" || m.Scanner.Vendor == "" || m.Scanner.Version == "" {
		t.Errorf("defaults %+v", m.Scanner)
	}
	if rec := serve(h, "POST", "/api/v1/metadata", "", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /metadata: %d", rec.Code)
	}
	if rec := serve(h, "GET", "/api/v2/metadata", "", nil); rec.Code != http.StatusNotFound {
		t.Errorf("/api/v2: %d", rec.Code)
	}
}

// Requests the spec allows, as Harbor and other clients send them: 202 and
// the request reaches the backend as it was sent.
func TestScanAccepted(t *testing.T) {
	sp := current(t)
	valid := []struct {
		name, body string
		want       ScanRequest
	}{
		{"harbor 2.x", harborRequest(), ScanRequest{
			Registry: Registry{URL: "http://harbor-core:8080", Authorization: "Bearer eyJhbGciOi.J9.sig"},
			Artifact: Artifact{Repository: "library/llama", Tag: "v1", Digest: digestA, MimeType: MimeOCIManifest}}},
		{"spec README example", `{"registry":{"url":"https://core.harbor.domain","authorization":"Basic BASE64_ENCODED_CREDENTIALS"},` +
			`"artifact":{"repository":"library/mongo","digest":"sha256:917f5b7f4bef1b35ee90f03033f33a81002511c1e0767fd44276d4bd9cd2fa8e"},` +
			`"enabled_capabilities":[{"type":"vulnerability","produces_mime_types":["application/vnd.security.vulnerability.report; version=1.1"]}]}`,
			ScanRequest{Registry: Registry{URL: "https://core.harbor.domain", Authorization: "Basic BASE64_ENCODED_CREDENTIALS"},
				Artifact:            Artifact{Repository: "library/mongo", Digest: "sha256:917f5b7f4bef1b35ee90f03033f33a81002511c1e0767fd44276d4bd9cd2fa8e"},
				EnabledCapabilities: []EnabledCapability{{Type: "vulnerability", ProducesMimeTypes: []string{MimeVulnReport}}}}},
		{"sbom cyclonedx", `{"registry":{"url":"https://r.example:5443/"},"artifact":{"repository":"ml/bert-base","digest":"` + digestA + `","mime_type":"application/vnd.cncf.model.manifest.v1+json"},` +
			`"enabled_capabilities":[{"type":"sbom","produces_mime_types":["application/vnd.security.sbom.report+json; version=1.0"],"parameters":{"sbom_media_types":["application/spdx+json","application/vnd.cyclonedx+json"]}}]}`,
			ScanRequest{Registry: Registry{URL: "https://r.example:5443/"}, Artifact: Artifact{Repository: "ml/bert-base", Digest: digestA, MimeType: MimeModelManifest},
				EnabledCapabilities: []EnabledCapability{{Type: "sbom", ProducesMimeTypes: []string{MimeSBOMReport}, Parameters: &SBOMParameters{SBOMMediaTypes: []string{MediaTypeSPDX, MediaTypeCycloneDX}}}}}},
		{"parameters null, docker manifest, sha512, ipv6", `{"registry":{"url":"http://[::1]:5000"},"artifact":{"repository":"a/b","digest":"sha512:` + strings.Repeat("ab", 64) + `","mime_type":"application/vnd.docker.distribution.manifest.v2+json"},` +
			`"enabled_capabilities":[{"type":"vulnerability","parameters":null},{"type":"sbom"}]}`,
			ScanRequest{Registry: Registry{URL: "http://[::1]:5000"}, Artifact: Artifact{Repository: "a/b", Digest: "sha512:" + strings.Repeat("ab", 64), MimeType: MimeDockerManifest},
				EnabledCapabilities: []EnabledCapability{{Type: "vulnerability"}, {Type: "sbom"}}}},
		{"native report type", `{"registry":{"url":"https://h"},"artifact":{"repository":"x","digest":"` + digestA + `"},"enabled_capabilities":[{"type":"vulnerability","produces_mime_types":["application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"]}],"extra":1}`,
			ScanRequest{Registry: Registry{URL: "https://h"}, Artifact: Artifact{Repository: "x", Digest: digestA},
				EnabledCapabilities: []EnabledCapability{{Type: "vulnerability", ProducesMimeTypes: []string{MimeNativeReport}}}}},
	}
	for _, c := range valid {
		t.Run(c.name, func(t *testing.T) {
			if err := sp.validate("ScanRequest", []byte(c.body)); err != nil {
				t.Fatalf("the test sends a request the spec refuses: %v", err)
			}
			f := newFake()
			rec := serve(Handler(f, Info{}), "POST", "/api/v1/scan", MimeScanResponse, []byte(c.body))
			conform(t, "/scan", "POST", rec)
			if rec.Code != http.StatusAccepted {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			var resp ScanResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.ID != "job-1" {
				t.Fatalf("%q %v", rec.Body, err)
			}
			if len(f.reqs) != 1 || !reflect.DeepEqual(f.reqs[0], c.want) {
				t.Errorf("backend got %#v\nwant %#v", f.reqs, c.want)
			}
		})
	}
}

// Requests refused, each with the status the spec gives it; a 400 exactly
// when the spec's schema refuses the body.
func TestScanRefused(t *testing.T) {
	sp := current(t)
	okReg := `"registry":{"url":"https://harbor.example"}`
	okArt := `"artifact":{"repository":"library/m","digest":"` + digestA + `"}`
	withArt := func(art string) string { return `{` + okReg + `,"artifact":{` + art + `}}` }
	withCaps := func(caps string) string { return `{` + okReg + `,` + okArt + `,"enabled_capabilities":` + caps + `}` }
	cases := []struct {
		name, body string
		status     int
		msg        string
	}{
		{"empty", ``, 400, "not JSON"},
		{"not json", `registry=x`, 400, "not JSON"},
		{"trailing data", `{` + okReg + `,` + okArt + `} {}`, 400, "not JSON"},
		{"array", `[]`, 400, "not a JSON object"},
		{"no registry", `{` + okArt + `}`, 400, "registry is missing"},
		{"no artifact", `{` + okReg + `}`, 400, "artifact is missing"},
		{"registry null", `{"registry":null,` + okArt + `}`, 400, "registry is not an object"},
		{"url number", `{"registry":{"url":443},` + okArt + `}`, 400, "url is not a string"},
		{"digest null", withArt(`"repository":"a","digest":null`), 400, "digest is not a string"},
		{"caps object", withCaps(`{}`), 400, "not an array"},
		{"caps null", withCaps(`null`), 400, "not an array"},
		{"cap without type", withCaps(`[{}]`), 400, "type is missing"},
		{"cap type unknown", withCaps(`[{"type":"malware"}]`), 400, "type is not"},
		{"produces not strings", withCaps(`[{"type":"sbom","produces_mime_types":[1]}]`), 400, "not a string"},
		{"parameters array", withCaps(`[{"type":"sbom","parameters":[]}]`), 400, "parameters is not an object"},
		{"sbom type outside enum", withCaps(`[{"type":"sbom","parameters":{"sbom_media_types":["text/csv"]}}]`), 400, "not one of"},
		{"too large", `{"pad":"` + strings.Repeat("x", maxBodyBytes) + `"}`, 400, "larger than 1 MiB"},

		{"no url", `{"registry":{},` + okArt + `}`, 422, "registry.url is missing"},
		{"bare host", `{"registry":{"url":"harbor-harbor-registry:5000"},` + okArt + `}`, 422, "not an http or https URL"},
		{"README invalid url", `{"registry":{"url":"INVALID_REGISTRY_URL"},` + okArt + `}`, 422, "not an http or https URL"},
		{"ftp", `{"registry":{"url":"ftp://h"},` + okArt + `}`, 422, "not an http or https URL"},
		{"credentials in url", `{"registry":{"url":"https://u:p@h"},` + okArt + `}`, 422, "without credentials"},
		{"path in url", `{"registry":{"url":"https://h/v2/"},` + okArt + `}`, 422, "without credentials, path"},
		{"bad host", `{"registry":{"url":"https://bad_host"},` + okArt + `}`, 422, "no valid host"},
		{"unbracketed ipv6", `{"registry":{"url":"http://::1"},` + okArt + `}`, 422, "registry.url"},
		{"bad ipv6", `{"registry":{"url":"http://[::g]:5000"},` + okArt + `}`, 422, "not an http or https URL"},
		{"port range", `{"registry":{"url":"https://h:99999"},` + okArt + `}`, 422, "invalid port"},
		{"auth with newline", `{"registry":{"url":"https://h","authorization":"Bearer x\r\nX-Evil: 1"},` + okArt + `}`, 422, "authorization"},
		{"no repository", withArt(`"digest":"` + digestA + `"`), 422, "repository is missing"},
		{"upper-case repository", withArt(`"repository":"Library/M","digest":"` + digestA + `"`), 422, "not a repository name"},
		{"traversal repository", withArt(`"repository":"../etc","digest":"` + digestA + `"`), 422, "not a repository name"},
		{"no digest", withArt(`"repository":"a"`), 422, "digest is missing"},
		{"short digest", withArt(`"repository":"a","digest":"sha256:abc"`), 422, "not a sha256 or sha512"},
		{"md5 digest", withArt(`"repository":"a","digest":"md5:` + strings.Repeat("a", 32) + `"`), 422, "not a sha256"},
		{"bad tag", withArt(`"repository":"a","digest":"` + digestA + `","tag":"-x"`), 422, "not a valid tag"},
		{"bad mime", withArt(`"repository":"a","digest":"` + digestA + `","mime_type":"not a type"`), 422, "not a media type"},
		{"too many caps", withCaps(`[` + strings.Repeat(`{"type":"sbom"},`, 8) + `{"type":"sbom"}]`), 422, "more than 8"},

		{"helm chart", withArt(`"repository":"a","digest":"` + digestA + `","mime_type":"application/vnd.cncf.helm.config.v1+json"`), 501, "not a type this scanner consumes"},
		{"index", withArt(`"repository":"a","digest":"` + digestA + `","mime_type":"application/vnd.oci.image.index.v1+json"`), 501, "consumes"},
		{"spdx only (Harbor 2.11)", withCaps(`[{"type":"sbom","produces_mime_types":["application/vnd.security.sbom.report+json; version=1.0"],"parameters":{"sbom_media_types":["application/spdx+json"]}}]`), 501, "SBOMs only"},
		{"raw report", withCaps(`[{"type":"vulnerability","produces_mime_types":["application/vnd.scanner.adapter.vuln.report.raw"]}]`), 501, "does not produce"},
		{"sbom report for vulnerability", withCaps(`[{"type":"vulnerability","produces_mime_types":["` + MimeSBOMReport + `"]}]`), 501, "does not produce"},
		{"vuln report v9", withCaps(`[{"type":"vulnerability","produces_mime_types":["application/vnd.security.vulnerability.report; version=9"]}]`), 501, "does not produce"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			rec := serve(Handler(f, Info{}), "POST", "/api/v1/scan", "", []byte(c.body))
			conform(t, "/scan", "POST", rec)
			var e ErrorResponse
			_ = json.Unmarshal(rec.Body.Bytes(), &e)
			if rec.Code != c.status || !strings.Contains(e.Error.Message, c.msg) {
				t.Errorf("%d %q, want %d %q", rec.Code, e.Error.Message, c.status, c.msg)
			}
			if len(f.reqs) != 0 {
				t.Error("a refused request reached the backend")
			}
			if len(c.body) < maxBodyBytes {
				schemaOK := sp.validate("ScanRequest", []byte(c.body)) == nil
				if schemaOK == (rec.Code == 400) {
					t.Errorf("status %d but the schema says valid=%v", rec.Code, schemaOK)
				}
			}
		})
	}
}

func TestScanBackendErrors(t *testing.T) {
	nb := Handler(nil, Info{})
	if rec := serve(nb, "POST", "/api/v1/scan", "", []byte(harborRequest())); rec.Code != 500 {
		t.Errorf("nil backend: %d", rec.Code)
	}
	if rec := serve(nb, "GET", "/api/v1/scan/x/report", MimeVulnReport, nil); rec.Code != 404 {
		t.Errorf("nil backend report: %d", rec.Code)
	}
	for _, c := range []struct {
		err    error
		id     string
		status int
	}{
		{fmt.Errorf("registry host %q is not allowed: %w", "evil.example", ErrInvalidRequest), "", 422},
		{fmt.Errorf("%w: OCI index", ErrUnsupported), "", 501},
		{errors.New("queue full"), "", 500},
		{nil, "../x", 500},
		{nil, "", 500}, // an empty id
		{nil, strings.Repeat("a", 129), 500},
		{nil, "abc-DEF_1.2", 202},
	} {
		f := newFake()
		f.err, f.id = c.err, c.id
		if c.err == nil && c.id == "" {
			f.id = " " // never a valid id
		}
		h := Handler(f, Info{})
		rec := serve(h, "POST", "/api/v1/scan", "", []byte(harborRequest()))
		conform(t, "/scan", "POST", rec)
		if rec.Code != c.status {
			t.Errorf("%v %q: %d %s, want %d", c.err, c.id, rec.Code, rec.Body, c.status)
		}
	}
}

// doneResult is a finished scan with a few findings.
func doneResult() *audit.Result {
	return &audit.Result{FailOn: scan.Medium, Targets: []*audit.TargetResult{{
		Target: "oci://harbor-core:8080/library/llama@" + digestA, Kind: "oci:modelpack",
		Repository: "library/llama", Digest: digestA, Tag: "v1",
		Files: []scan.FileResult{{
			Path: "oci://harbor-core:8080/library/llama@" + digestA + "/model.pkl", Name: "model.pkl", SHA256: sha,
			Findings: []scan.Finding{{Rule: "pickle/dangerous-call", Severity: scan.Critical, Offset: 42, Message: "calls posix.system", Evidence: "posix.system('id')", Global: "posix.system", Count: 1}},
		}},
	}}}
}

func submit(t *testing.T, h http.Handler, body string) string {
	t.Helper()
	rec := serve(h, "POST", "/api/v1/scan", "", []byte(body))
	if rec.Code != http.StatusAccepted {
		t.Fatalf("submit: %d %s", rec.Code, rec.Body)
	}
	var resp ScanResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	return resp.ID
}

func TestReportLifecycle(t *testing.T) {
	const path = "/scan/{scan_request_id}/report"
	f := newFake()
	hh := Handler(f, Info{Name: "hallmark", Vendor: "hallmarkdev", Version: "v1"})
	now := time.Now()
	id := submit(t, hh, harborRequest())
	target := "/api/v1/scan/" + id + "/report"

	// Running: 302, Refresh-After, no body; longer waits for longer scans.
	for _, c := range []struct {
		age  time.Duration
		want string
	}{{0, "5"}, {2 * time.Minute, "15"}, {time.Hour, "30"}} {
		f.set(id, func(j *Job) { j.Started = now.Add(-c.age) })
		rec := serve(hh, "GET", target, MimeVulnReport, nil)
		conform(t, path, "GET", rec)
		if rec.Code != http.StatusFound || rec.Header().Get("Refresh-After") != c.want || rec.Body.Len() != 0 || rec.Header().Get("Location") != "" {
			t.Errorf("running %v: %d Refresh-After %q body %q", c.age, rec.Code, rec.Header().Get("Refresh-After"), rec.Body)
		}
		// Harbor parses it with strconv.ParseInt(v, 10, 8).
		if _, err := strconv.ParseInt(rec.Header().Get("Refresh-After"), 10, 8); err != nil {
			t.Error(err)
		}
	}

	// Done.
	bom := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}`)
	finished := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	f.set(id, func(j *Job) { j.Done, j.Result, j.BOM, j.Finished = true, doneResult(), bom, finished })
	for _, c := range []struct{ accept, want string }{
		{MimeVulnReport, MimeVulnReport},
		{"", MimeNativeReport},
		{MimeNativeReport, MimeNativeReport},
		{"*/*", MimeVulnReport},
		{"application/json;q=0.9, " + MimeVulnReport, MimeVulnReport},
		{MimeNativeReport + ";q=0.5, " + MimeVulnReport, MimeVulnReport},
	} {
		rec := serve(hh, "GET", target, c.accept, nil)
		conform(t, path, "GET", rec)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != c.want {
			t.Fatalf("Accept %q: %d %q %s", c.accept, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		var rep HarborVulnerabilityReport
		if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		wantArt := Artifact{Repository: "library/llama", Tag: "v1", Digest: digestA, MimeType: MimeOCIManifest}
		if rep.Artifact != wantArt || rep.Severity != SeverityCritical || len(rep.Vulnerabilities) != 1 || !rep.GeneratedAt.Equal(finished) ||
			rep.Scanner != (Scanner{"hallmark", "hallmarkdev", "v1"}) {
			t.Errorf("report %+v", rep)
		}
		if strings.Contains(rec.Body.String(), "eyJhbGciOi") {
			t.Error("the registry credential is in the report")
		}
	}

	// SBOM.
	rec := serve(hh, "GET", target+"?sbom_media_type=application%2Fvnd.cyclonedx%2Bjson", MimeSBOMReport, nil)
	conform(t, path, "GET", rec)
	var sr HarborSBOMReport
	if err := json.Unmarshal(rec.Body.Bytes(), &sr); err != nil || rec.Code != 200 || rec.Header().Get("Content-Type") != MimeSBOMReport {
		t.Fatalf("sbom: %d %v %s", rec.Code, err, rec.Body)
	}
	if string(sr.SBOM) != string(bom) || sr.MediaType != MediaTypeCycloneDX || sr.Artifact.Repository != "library/llama" {
		t.Errorf("sbom report %+v", sr)
	}
	for _, c := range []struct {
		query, accept string
		status        int
	}{
		{"", MimeSBOMReport, 400},                                           // the spec's example of a 400
		{"?sbom_media_type=text%2Fcsv", MimeSBOMReport, 400},                // outside the enum
		{"?sbom_media_type=application%2Fspdx%2Bjson", MimeSBOMReport, 501}, // a format this scanner does not write
		{"?sbom_media_type=a&sbom_media_type=b", MimeSBOMReport, 400},
		{"?sbom_media_type=%zz", MimeVulnReport, 400},
		{"", "application/vnd.scanner.adapter.vuln.report.raw", 501},
		{"", "text/html", 501},
		{"", "application/vnd.security.vulnerability.report; version=2.0", 501},
		{"", MimeVulnReport + ";q=0", 501},
		{"?sbom_media_type=application%2Fspdx%2Bjson", MimeVulnReport, 200}, // the parameter only matters for SBOMs
	} {
		rec := serve(hh, "GET", target+c.query, c.accept, nil)
		conform(t, path, "GET", rec)
		if rec.Code != c.status {
			t.Errorf("%q Accept %q: %d %s, want %d", c.query, c.accept, rec.Code, rec.Body, c.status)
		}
	}

	// A scan without a BOM, or with a broken one.
	for _, b := range [][]byte{nil, []byte(`[1]`), []byte(`{"a":`)} {
		f.set(id, func(j *Job) { j.BOM = b })
		rec := serve(hh, "GET", target+"?sbom_media_type=application%2Fvnd.cyclonedx%2Bjson", MimeSBOMReport, nil)
		conform(t, path, "GET", rec)
		if rec.Code != 500 {
			t.Errorf("BOM %q: %d", b, rec.Code)
		}
	}

	// Failed: 500 with the reason, control characters cleaned.
	f.set(id, func(j *Job) { j.Err = errors.New("GET https://harbor-core:8080/v2/: 401 Unauthorized\x00\x1b[31m") })
	rec = serve(hh, "GET", target, MimeVulnReport, nil)
	conform(t, path, "GET", rec)
	var e ErrorResponse
	_ = json.Unmarshal(rec.Body.Bytes(), &e)
	if rec.Code != 500 || !strings.Contains(e.Error.Message, "401 Unauthorized") || strings.ContainsAny(e.Error.Message, "\x00\x1b") {
		t.Errorf("failed: %d %q", rec.Code, e.Error.Message)
	}
	// Done without error but the target could not be opened: nothing was
	// scanned, which must not read as a clean report.
	f.set(id, func(j *Job) {
		j.Err = nil
		j.Result = &audit.Result{Targets: []*audit.TargetResult{{Target: "oci://x", Error: "manifest unknown"}}}
	})
	rec = serve(hh, "GET", target, MimeVulnReport, nil)
	conform(t, path, "GET", rec)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "manifest unknown") {
		t.Errorf("target error: %d %s", rec.Code, rec.Body)
	}
	f.set(id, func(j *Job) { j.Result = nil })
	if rec := serve(hh, "GET", target, MimeVulnReport, nil); rec.Code != 500 {
		t.Errorf("no result: %d", rec.Code)
	}

	// Unknown ids: 404, no body.
	for _, bad := range []string{"job-999", "..", "%2e%2e", strings.Repeat("a", 300), "a%2Fb"} {
		rec := serve(hh, "GET", "/api/v1/scan/"+bad+"/report", MimeVulnReport, nil)
		if bad != ".." && bad != "%2e%2e" { // ServeMux cleans those paths itself
			conform(t, path, "GET", rec)
		}
		if rec.Code != 404 && (rec.Code < 300 || rec.Code > 308 || rec.Code == 302) { // or ServeMux's redirect to the cleaned path
			t.Errorf("%q: %d", bad, rec.Code)
		}
	}
}

// A handler that no longer knows the request (restarted, or past its
// memory) names the artifact from the scan result.
func TestReportForgottenArtifact(t *testing.T) {
	f := newFake()
	id := submit(t, Handler(f, Info{}), harborRequest())
	f.set(id, func(j *Job) { j.Done, j.Result = true, doneResult() })
	rec := serve(Handler(f, Info{}), "GET", "/api/v1/scan/"+id+"/report", MimeVulnReport, nil)
	conform(t, "/scan/{scan_request_id}/report", "GET", rec)
	var rep HarborVulnerabilityReport
	_ = json.Unmarshal(rec.Body.Bytes(), &rep)
	if rep.Artifact != (Artifact{Repository: "library/llama", Digest: digestA, Tag: "v1"}) {
		t.Errorf("artifact %+v", rep.Artifact)
	}

	// The memory is bounded.
	hd := &handler{arts: map[string]Artifact{}}
	for i := 0; i < maxRemembered+10; i++ {
		hd.remember(fmt.Sprint(i), Artifact{Repository: "r"})
	}
	if len(hd.arts) != maxRemembered || len(hd.order) != maxRemembered {
		t.Errorf("remembered %d %d", len(hd.arts), len(hd.order))
	}
	if _, ok := hd.arts["0"]; ok {
		t.Error("the oldest was kept")
	}
}

// Harbor's client, over a real (loopback) connection: it does not follow
// redirects and reads Refresh-After; a plain Go client that does follow
// them gets the 302 back (no Location), not a redirect loop.
func TestHarborClient(t *testing.T) {
	f := newFake()
	srv := httptest.NewServer(Handler(f, Info{}))
	defer srv.Close()
	harbor := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/metadata", nil)
	req.Header.Set("Accept", MimeMetadataV10)
	resp, err := harbor.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	req, _ = http.NewRequest("POST", srv.URL+"/api/v1/scan", strings.NewReader(harborRequest()))
	req.Header.Set("Content-Type", MimeScanRequestV10)
	req.Header.Set("Accept", MimeScanResponse)
	resp, err = harbor.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sr ScanResponse
	_ = json.NewDecoder(resp.Body).Decode(&sr)
	resp.Body.Close()
	if resp.StatusCode != 202 || sr.ID == "" {
		t.Fatalf("%d %+v", resp.StatusCode, sr)
	}

	get := func(c *http.Client) *http.Response {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/scan/%s/report", srv.URL, sr.ID), nil)
		req.Header.Set("Accept", MimeVulnReport)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if r := get(harbor); r.StatusCode != 302 || r.Header.Get("Refresh-After") != "5" {
		t.Errorf("harbor: %d %q", r.StatusCode, r.Header.Get("Refresh-After"))
	}
	if r := get(&http.Client{Timeout: 5 * time.Second}); r.StatusCode != 302 {
		t.Errorf("plain client: %d", r.StatusCode)
	}
	f.set(sr.ID, func(j *Job) { j.Done, j.Result = true, doneResult() })
	if r := get(harbor); r.StatusCode != 200 || r.Header.Get("Content-Type") != MimeVulnReport {
		t.Errorf("done: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
}

func TestScanRequestHelpers(t *testing.T) {
	r := ScanRequest{Registry: Registry{URL: "http://harbor-core:8080", Authorization: "Bearer secret"}, Artifact: Artifact{Repository: "library/llama", Digest: digestA}}
	ref, plain, err := r.Reference()
	if err != nil || ref != "harbor-core:8080/library/llama@"+digestA || !plain {
		t.Errorf("%q %v %v", ref, plain, err)
	}
	r.Registry.URL = "https://[::1]:5000/"
	if ref, plain, err := r.Reference(); err != nil || ref != "[::1]:5000/library/llama@"+digestA || plain {
		t.Errorf("%q %v %v", ref, plain, err)
	}
	r.Registry.URL = "harbor:5000"
	if _, _, err := r.Reference(); err == nil {
		t.Error("bare host accepted")
	}
	for _, s := range []string{fmt.Sprint(r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r), fmt.Sprint(r.Registry)} {
		if strings.Contains(s, "secret") {
			t.Errorf("credential printed: %s", s)
		}
	}
	if !r.Enabled(CapabilitySBOM) || !r.Enabled(CapabilityVulnerability) {
		t.Error("no capabilities listed means all")
	}
	r.EnabledCapabilities = []EnabledCapability{{Type: CapabilityVulnerability}}
	if r.Enabled(CapabilitySBOM) || !r.Enabled(CapabilityVulnerability) {
		t.Error("Enabled")
	}
}

// Submits and report reads at once (run with -race).
func TestConcurrent(t *testing.T) {
	f := newFake()
	h := Handler(f, Info{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				id := submit(t, h, harborRequest())
				if i%2 == 0 {
					f.set(id, func(j *Job) { j.Done, j.Result = true, doneResult() })
				}
				rec := serve(h, "GET", "/api/v1/scan/"+id+"/report", MimeVulnReport, nil)
				if want := map[bool]int{true: 200, false: 302}[i%2 == 0]; rec.Code != want {
					t.Errorf("goroutine %d: %d, want %d", g, rec.Code, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
