package harbor

import (
	"bytes"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// FuzzScanRequest posts arbitrary bodies to POST /scan. The handler must
// never panic, must answer only statuses the spec declares for the
// operation, with the declared Content-Type and a body that validates, and
// must answer 400 exactly when the body is not JSON or the spec's
// ScanRequest schema refuses it. An accepted request must name a pullable
// reference.
func FuzzScanRequest(f *testing.F) {
	okArt := `"artifact":{"repository":"library/m","digest":"` + digestA + `"}`
	for _, s := range []string{
		harborRequest(),
		`{"registry":{"url":"https://h:5000/"},` + okArt + `,"enabled_capabilities":[{"type":"sbom","produces_mime_types":["` + MimeSBOMReport + `"],"parameters":{"sbom_media_types":["application/vnd.cyclonedx+json"]}}]}`,
		`{"registry":{"url":"http://[::1]:80"},` + okArt + `,"enabled_capabilities":[{"type":"vulnerability","parameters":null}]}`,
		`{"registry":{"url":"https://h"},"artifact":{"repository":"a","digest":"` + digestA + `","mime_type":"application/vnd.cncf.model.manifest.v1+json","tag":"v1.0"}}`,
		`{"registry":{"url":"https://h"},"artifact":{"repository":"a","digest":"` + digestA + `","mime_type":"text/plain"}}`,
		`{"registry":{"url":"https://h"},` + okArt + `,"enabled_capabilities":[{"type":"sbom","parameters":{"sbom_media_types":["application/spdx+json"]}}]}`,
		`{"registry":{},"artifact":{}}`,
		`{"registry":null,"artifact":{}}`,
		`{"registry":{"url":"https://h"},` + okArt + `,"enabled_capabilities":[{}]}`,
		`{"registry":{"url":1},"artifact":[]}`,
		`[]`, `null`, `"x"`, `{}`, ``, `{"a":1} x`, `{"registry":{"url":"https://h"},` + okArt + `,"enabled_capabilities":[{"type":"sbom","parameters":[]}]}`,
		`{"registry":{"url":"https://u@h"},"artifact":{"repository":"A","digest":"sha256:zz"}}`,
		`{"registry":{"url":"https://h","authorization":"Basic \u0000"},` + okArt + `}`,
		`{"registry":{"url":"https://h"},"artifact":{"repository":"a","digest":"` + digestA + `"},"registry":{"url":5}}`,
	} {
		f.Add([]byte(s))
	}
	sp := current(f)
	sch, err := sp.schema("ScanRequest")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fb := newFake()
		rec := serve(Handler(fb, Info{}), "POST", "/api/v1/scan", "", body)
		conform(t, "/scan", "POST", rec)
		switch rec.Code {
		case 202, 400, 422, 500, 501:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if len(body) <= maxBodyBytes {
			valid := false
			if v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body)); err == nil {
				valid = sch.Validate(v) == nil
			}
			if valid == (rec.Code == 400) {
				t.Fatalf("status %d (%s) but schema-valid=%v for %q", rec.Code, strings.TrimSpace(rec.Body.String()), valid, body)
			}
		}
		if rec.Code == 202 {
			if len(fb.reqs) != 1 {
				t.Fatalf("accepted, but the backend got %d requests", len(fb.reqs))
			}
			req := fb.reqs[0]
			if _, _, err := req.Reference(); err != nil {
				t.Fatalf("accepted a request without a reference: %v", err)
			}
		} else if len(fb.reqs) != 0 {
			t.Fatalf("refused (%d), but the backend got the request", rec.Code)
		}
	})
}
