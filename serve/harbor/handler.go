package harbor

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Handler serves the adapter API at /api/v1/metadata, POST /api/v1/scan and
// GET /api/v1/scan/{scan_request_id}/report. To serve it under a prefix,
// wrap it in http.StripPrefix. Authentication of Harbor (the scanner's
// registered credential) is the caller's to add around it, and so is a
// limit on which registries a request may name (Backend.Submit can refuse
// one with ErrInvalidRequest).
//
// A report is 302 with Refresh-After while the job runs, 500 with the reason
// when it failed or its target could not be opened (nothing was scanned),
// 404 for an id the backend does not know, and the report otherwise: the
// vulnerability report (Report) or, for Accept: MimeSBOMReport with
// ?sbom_media_type=application/vnd.cyclonedx+json, the SBOM report.
func Handler(b Backend, info Info) http.Handler {
	h := &handler{b: b, info: info, arts: map[string]Artifact{}, now: time.Now}
	h.meta, h.metaErr = metadata(info)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/metadata", h.metadata)
	mux.HandleFunc("POST /api/v1/scan", h.scan)
	mux.HandleFunc("GET /api/v1/scan/{id}/report", h.report)
	return mux
}

// maxRemembered bounds the artifacts the handler keeps for its reports (the
// artifact echoed in a report is the request's; Job does not carry it).
const maxRemembered = 4096

type handler struct {
	b       Backend
	info    Info
	meta    []byte
	metaErr error
	now     func() time.Time

	mu    sync.Mutex
	arts  map[string]Artifact
	order []string // ids in arts, oldest first
}

// metadata is the GET /metadata body: one vulnerability and one sbom
// capability over the same artifact types (the spec's own example).
func metadata(info Info) ([]byte, error) {
	props := map[string]string{"harbor.scanner-adapter/scanner-type": "model-security"}
	for k, v := range info.Properties {
		props[k] = v
	}
	m := ScannerAdapterMetadata{
		Scanner: info.scanner(),
		Capabilities: []ScannerCapability{
			{
				Type:              CapabilityVulnerability,
				ConsumesMimeTypes: consumed,
				// Only the current report type: Harbor fetches every type a
				// capability lists. MimeNativeReport is still answered.
				ProducesMimeTypes: []string{MimeVulnReport},
			},
			{
				Type:                 CapabilitySBOM,
				ConsumesMimeTypes:    consumed,
				ProducesMimeTypes:    []string{MimeSBOMReport},
				AdditionalAttributes: &CapabilityAttributes{SBOMMediaTypes: []string{MediaTypeCycloneDX}},
			},
		},
		Properties: props,
	}
	return marshal(m)
}

func (h *handler) metadata(w http.ResponseWriter, r *http.Request) {
	if h.metaErr != nil {
		writeError(w, http.StatusInternalServerError, "the metadata does not encode: "+h.metaErr.Error())
		return
	}
	ct := MimeMetadata
	// A client that asks for 1.0 only (Harbor's own client) gets that name;
	// the body is the same, 1.0 readers ignore the 1.1 fields.
	if accepts(r.Header.Get("Accept"), MimeMetadataV10) && !accepts(r.Header.Get("Accept"), MimeMetadata) {
		ct = MimeMetadataV10
	}
	writeBody(w, http.StatusOK, ct, h.meta)
}

func (h *handler) scan(w http.ResponseWriter, r *http.Request) {
	// Content-Type is not checked: Harbor sends the 1.0 or the 1.1 name,
	// other clients application/json; the body decides.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeError(w, http.StatusBadRequest, "the body is larger than 1 MiB")
			return
		}
		writeError(w, http.StatusBadRequest, "the body cannot be read")
		return
	}
	req, e := parseScanRequest(body)
	if e != nil {
		writeError(w, e.status, e.msg)
		return
	}
	if h.b == nil {
		writeError(w, http.StatusInternalServerError, "no scanner behind this adapter")
		return
	}
	id, err := h.b.Submit(r.Context(), req)
	switch {
	case errors.Is(err, ErrInvalidRequest):
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	case errors.Is(err, ErrUnsupported):
		writeError(w, http.StatusNotImplemented, err.Error())
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, "the scan could not be started: "+err.Error())
		return
	case !idRE.MatchString(id):
		writeError(w, http.StatusInternalServerError, "the scanner made an invalid scan id")
		return
	}
	h.remember(id, req.Artifact)
	b, err := marshal(ScanResponse{ID: id})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeBody(w, http.StatusAccepted, MimeScanResponse, b)
}

func (h *handler) report(w http.ResponseWriter, r *http.Request) {
	kind, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		writeError(w, http.StatusNotImplemented, "this scanner writes "+MimeVulnReport+" and "+MimeSBOMReport+" reports only")
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, "the query string does not parse")
		return
	}
	sbomType, hasSBOMType := q["sbom_media_type"]
	if hasSBOMType && (len(sbomType) != 1 || (sbomType[0] != MediaTypeCycloneDX && sbomType[0] != MediaTypeSPDX)) {
		writeError(w, http.StatusBadRequest, "sbom_media_type must be "+MediaTypeSPDX+" or "+MediaTypeCycloneDX)
		return
	}
	if kind == kindSBOM {
		if !hasSBOMType {
			writeError(w, http.StatusBadRequest, "an SBOM report needs ?sbom_media_type=")
			return
		}
		if sbomType[0] != MediaTypeCycloneDX {
			writeError(w, http.StatusNotImplemented, "this scanner writes "+MediaTypeCycloneDX+" SBOMs only")
			return
		}
	}
	id := r.PathValue("id")
	var job *Job
	if idRE.MatchString(id) && h.b != nil {
		job, ok = h.b.Job(id)
	}
	if job == nil || !ok {
		w.WriteHeader(http.StatusNotFound) // the spec gives 404 no body
		return
	}
	if !job.Done {
		w.Header().Set("Refresh-After", strconv.Itoa(refreshAfter(job.Started, h.now())))
		w.WriteHeader(http.StatusFound)
		return
	}
	if msg := failure(job); msg != "" {
		writeError(w, http.StatusInternalServerError, msg)
		return
	}
	req := ScanRequest{Artifact: h.artifact(id, job)}
	var v any
	if kind == kindSBOM {
		rep, err := SBOMReport(job, req, h.info)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		v = rep
	} else {
		v = Report(job, req, h.info)
	}
	b, err := marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "the report does not encode: "+err.Error())
		return
	}
	writeBody(w, http.StatusOK, kind.mime(), b)
}

// failure says why a finished job has no report: the backend's error, no
// result, or a target that could not be opened (nothing was scanned, so an
// empty report would read as clean).
func failure(job *Job) string {
	switch {
	case job.Err != nil:
		return shorten(clean("the scan failed: "+job.Err.Error(), false), 1024)
	case job.Result == nil:
		return "the scan produced no result"
	}
	for _, t := range job.Result.Targets {
		if t.Error != "" {
			return shorten(clean("the artifact could not be read: "+t.Error, false), 1024)
		}
	}
	return ""
}

// refreshAfter is the Refresh-After of a running scan, in seconds: short at
// first, longer for big models. Harbor parses it as an int8, so it stays
// far below 128.
func refreshAfter(started, now time.Time) int {
	switch d := now.Sub(started); {
	case started.IsZero() || d < time.Minute:
		return 5
	case d < 10*time.Minute:
		return 15
	}
	return 30
}

// negotiate picks the report for an Accept header. No Accept means the
// v1.0 native report (the spec's README); a wildcard the current one.
// Among the types listed, the highest q wins, then the first.
func negotiate(accept string) (reportKind, bool) {
	if strings.TrimSpace(accept) == "" {
		return kindNative, true
	}
	type cand struct {
		k reportKind
		q float64
	}
	var cands []cand
	for _, part := range splitAccept(accept) {
		mt, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil || q <= 0 || q > 1 {
				continue
			}
		}
		if mt == "*/*" || mt == "application/*" {
			cands = append(cands, cand{kindVuln, q})
			continue
		}
		if k, ok := reportKindOf(part); ok {
			cands = append(cands, cand{k, q})
		}
	}
	if len(cands) == 0 {
		return 0, false
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].q > cands[j].q })
	return cands[0].k, true
}

// accepts reports whether an Accept header lists the media type m (type and
// version), ignoring q.
func accepts(accept, m string) bool {
	want, wp, _ := mime.ParseMediaType(m)
	for _, part := range splitAccept(accept) {
		mt, params, err := mime.ParseMediaType(part)
		if err == nil && mt == want && params["version"] == wp["version"] {
			return true
		}
	}
	return false
}

// splitAccept splits an Accept header into its media ranges, at most 32
// from its first 4 KiB.
func splitAccept(accept string) []string {
	if len(accept) > 4096 {
		accept = accept[:4096]
	}
	parts := strings.Split(accept, ",")
	if len(parts) > 32 {
		parts = parts[:32]
	}
	return parts
}

// remember keeps the artifact of a submitted scan for its reports (without
// the registry credentials), forgetting the oldest beyond maxRemembered.
func (h *handler) remember(id string, a Artifact) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.arts[id]; !ok {
		h.order = append(h.order, id)
	}
	h.arts[id] = a
	for len(h.order) > maxRemembered {
		delete(h.arts, h.order[0])
		h.order = h.order[1:]
	}
}

// artifact is the artifact a report names: the request's, or, if the
// handler has forgotten it, what the scan result says.
func (h *handler) artifact(id string, job *Job) Artifact {
	h.mu.Lock()
	a, ok := h.arts[id]
	h.mu.Unlock()
	if ok || job.Result == nil || len(job.Result.Targets) == 0 {
		return a
	}
	t := job.Result.Targets[0]
	return Artifact{Repository: t.Repository, Digest: t.Digest, Tag: t.Tag}
}

// marshal encodes JSON without HTML escaping (the bodies are not HTML).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, err := marshal(ErrorResponse{Error: Error{Message: shorten(clean(msg, false), 1024)}})
	if err != nil {
		b = []byte(`{"error":{"message":"internal error"}}` + "\n")
	}
	writeBody(w, status, MimeError, b)
}
