package harbor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Caps on a scan request. The body cap bounds everything else; the field
// caps keep what the backend and the reports carry small.
const (
	maxBodyBytes     = 1 << 20
	maxURLLen        = 2048
	maxAuthLen       = 16 << 10
	maxRepositoryLen = 255 // the distribution spec's limit
	maxMimeLen       = 255
	maxCapabilities  = 8
	maxProduces      = 16
)

// reqError is a refused request: its status and message.
type reqError struct {
	status int
	msg    string
}

func bad(format string, a ...any) *reqError {
	return &reqError{http.StatusBadRequest, fmt.Sprintf(format, a...)}
}

func invalid(format string, a ...any) *reqError {
	return &reqError{http.StatusUnprocessableEntity, fmt.Sprintf(format, a...)}
}

func unsupported(format string, a ...any) *reqError {
	return &reqError{http.StatusNotImplemented, fmt.Sprintf(format, a...)}
}

// parseScanRequest reads a POST /scan body. The spec's statuses, read
// literally: 400 when the body is not JSON or does not match the ScanRequest
// schema (wrong JSON types, no registry or artifact object, a capability
// type outside the enum); 422 when a field the schema allows is empty or
// invalid (no registry URL, a repository or digest that is not one); 501
// when the request asks for something this scanner cannot do (an artifact
// type it does not consume, a report or SBOM format it does not write).
// The tests check the 400 rule against the vendored schema.
func parseScanRequest(body []byte) (ScanRequest, *reqError) {
	var req ScanRequest
	doc, err := decodeJSON(body)
	if err != nil {
		return req, bad("the body is not JSON: %v", err)
	}
	if e := shape(doc, &req); e != nil {
		return req, e
	}
	if e := semantics(&req); e != nil {
		return req, e
	}
	if e := capable(&req); e != nil {
		return req, e
	}
	return req, nil
}

// decodeJSON decodes exactly one JSON value (numbers kept as text).
func decodeJSON(body []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

// shape checks the decoded body against the ScanRequest schema of the spec
// (v1.2, a superset of v1.1) and fills req. Properties the schema does not
// name are allowed, as there.
func shape(doc any, req *ScanRequest) *reqError {
	root, ok := doc.(map[string]any)
	if !ok {
		return bad("the body is not a JSON object")
	}
	reg, e := object(root, "registry", true)
	if e != nil {
		return e
	}
	art, e := object(root, "artifact", true)
	if e != nil {
		return e
	}
	fields := []struct {
		obj  map[string]any
		name string
		dst  *string
	}{
		{reg, "url", &req.Registry.URL},
		{reg, "authorization", &req.Registry.Authorization},
		{art, "repository", &req.Artifact.Repository},
		{art, "digest", &req.Artifact.Digest},
		{art, "tag", &req.Artifact.Tag},
		{art, "mime_type", &req.Artifact.MimeType},
	}
	for _, f := range fields {
		v, present := f.obj[f.name]
		if !present {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return bad("%s is not a string", f.name)
		}
		*f.dst = s
	}
	raw, present := root["enabled_capabilities"]
	if !present {
		return nil
	}
	caps, ok := raw.([]any)
	if !ok {
		return bad("enabled_capabilities is not an array")
	}
	for i, c := range caps {
		item, ok := c.(map[string]any)
		if !ok {
			return bad("enabled_capabilities[%d] is not an object", i)
		}
		var ec EnabledCapability
		t, present := item["type"]
		if !present {
			return bad("enabled_capabilities[%d].type is missing", i)
		}
		ts, ok := t.(string)
		if !ok || (ts != CapabilityVulnerability && ts != CapabilitySBOM) {
			return bad("enabled_capabilities[%d].type is not %q or %q", i, CapabilityVulnerability, CapabilitySBOM)
		}
		ec.Type = ts
		if v, present := item["produces_mime_types"]; present {
			list, e := stringArray(v, fmt.Sprintf("enabled_capabilities[%d].produces_mime_types", i), nil)
			if e != nil {
				return e
			}
			ec.ProducesMimeTypes = list
		}
		if v, present := item["parameters"]; present && v != nil { // nullable
			p, ok := v.(map[string]any)
			if !ok {
				return bad("enabled_capabilities[%d].parameters is not an object", i)
			}
			ec.Parameters = &SBOMParameters{}
			if v, present := p["sbom_media_types"]; present {
				list, e := stringArray(v, fmt.Sprintf("enabled_capabilities[%d].parameters.sbom_media_types", i), []string{MediaTypeSPDX, MediaTypeCycloneDX})
				if e != nil {
					return e
				}
				ec.Parameters.SBOMMediaTypes = list
			}
		}
		req.EnabledCapabilities = append(req.EnabledCapabilities, ec)
	}
	return nil
}

// object returns root[name] as an object.
func object(root map[string]any, name string, required bool) (map[string]any, *reqError) {
	v, present := root[name]
	if !present {
		if required {
			return nil, bad("%s is missing", name)
		}
		return nil, nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, bad("%s is not an object", name)
	}
	return o, nil
}

// stringArray returns v as a list of strings, each in enum if enum is set.
func stringArray(v any, name string, enum []string) ([]string, *reqError) {
	list, ok := v.([]any)
	if !ok {
		return nil, bad("%s is not an array", name)
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, bad("%s holds a value that is not a string", name)
		}
		if enum != nil && !contains(enum, s) {
			return nil, bad("%s holds %q, not one of %s", name, shorten(s, 80), strings.Join(enum, ", "))
		}
		out = append(out, s)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// semantics checks the fields the schema leaves free (422).
func semantics(req *ScanRequest) *reqError {
	if msg := checkRegistryURL(req.Registry.URL); msg != "" {
		return invalid("%s", msg)
	}
	if a := req.Registry.Authorization; len(a) > maxAuthLen || !headerSafe(a) {
		// It becomes an HTTP header: no control characters, no line breaks.
		return invalid("registry.authorization is not a usable Authorization header value")
	}
	if msg := checkRepository(req.Artifact.Repository); msg != "" {
		return invalid("%s", msg)
	}
	if msg := checkDigest(req.Artifact.Digest); msg != "" {
		return invalid("%s", msg)
	}
	if t := req.Artifact.Tag; t != "" && !tagRE.MatchString(t) {
		return invalid("artifact.tag is not a valid tag")
	}
	if m := req.Artifact.MimeType; m != "" {
		if len(m) > maxMimeLen {
			return invalid("artifact.mime_type is longer than %d bytes", maxMimeLen)
		}
		if _, _, err := mime.ParseMediaType(m); err != nil {
			return invalid("artifact.mime_type is not a media type")
		}
	}
	if n := len(req.EnabledCapabilities); n > maxCapabilities {
		return invalid("enabled_capabilities has %d items, more than %d", n, maxCapabilities)
	}
	for i, c := range req.EnabledCapabilities {
		if len(c.ProducesMimeTypes) > maxProduces {
			return invalid("enabled_capabilities[%d].produces_mime_types has more than %d items", i, maxProduces)
		}
	}
	return nil
}

// capable checks the request asks only for what this scanner does (501).
func capable(req *ScanRequest) *reqError {
	if m := req.Artifact.MimeType; m != "" && !consumes(m) {
		return unsupported("artifact.mime_type %q is not a type this scanner consumes (%s)", shorten(m, 80), strings.Join(consumed, ", "))
	}
	for i, c := range req.EnabledCapabilities {
		for _, p := range c.ProducesMimeTypes {
			k, ok := reportKindOf(p)
			if !ok || (c.Type == CapabilitySBOM) != (k == kindSBOM) {
				return unsupported("enabled_capabilities[%d]: this scanner does not produce %q for %s", i, shorten(p, 80), c.Type)
			}
		}
		if c.Type == CapabilitySBOM && c.Parameters != nil && len(c.Parameters.SBOMMediaTypes) > 0 &&
			!contains(c.Parameters.SBOMMediaTypes, MediaTypeCycloneDX) {
			return unsupported("enabled_capabilities[%d]: this scanner writes %s SBOMs only", i, MediaTypeCycloneDX)
		}
	}
	return nil
}

// consumed are the artifact types of both capabilities: Harbor's two image
// manifest types (a ModelPack, KitOps or ORAS model is an OCI manifest) and
// the ModelPack artifact type a model-aware Harbor sends. Harbor requires
// the Docker type in every capability.
var consumed = []string{MimeOCIManifest, MimeDockerManifest, MimeModelManifest}

func consumes(m string) bool {
	mt, _, err := mime.ParseMediaType(m)
	return err == nil && contains(consumed, mt)
}

// reportKind is a report this scanner writes.
type reportKind int

const (
	kindVuln   reportKind = iota + 1 // MimeVulnReport
	kindNative                       // MimeNativeReport
	kindSBOM                         // MimeSBOMReport
)

func (k reportKind) mime() string {
	switch k {
	case kindNative:
		return MimeNativeReport
	case kindSBOM:
		return MimeSBOMReport
	}
	return MimeVulnReport
}

// reportKindOf maps a report media type to its kind: the type must match
// and the version, if given, too.
func reportKindOf(m string) (reportKind, bool) {
	mt, params, err := mime.ParseMediaType(m)
	if err != nil {
		return 0, false
	}
	v, hasV := params["version"]
	for _, k := range []reportKind{kindVuln, kindNative, kindSBOM} {
		kt, kp, _ := mime.ParseMediaType(k.mime())
		if mt == kt && (!hasV || v == kp["version"]) {
			return k, true
		}
	}
	return 0, false
}

// checkRegistryURL accepts what Harbor sends: an http or https URL of a
// host (and port), nothing else. A bare "host:port" is refused: whether to
// use TLS would be a guess.
func checkRegistryURL(s string) string {
	if s == "" {
		return "registry.url is missing"
	}
	if len(s) > maxURLLen {
		return fmt.Sprintf("registry.url is longer than %d bytes", maxURLLen)
	}
	u, err := url.Parse(s)
	if err != nil || (!strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) {
		return "registry.url is not an http or https URL"
	}
	if u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "registry.url must be the registry's base URL (scheme, host, port), without credentials, path or query"
	}
	switch h := u.Hostname(); {
	case strings.Contains(h, ":"): // IPv6, which a URL brackets
		if !strings.HasPrefix(u.Host, "[") || net.ParseIP(h) == nil {
			return "registry.url has no valid host"
		}
	case !hostRE.MatchString(h):
		return "registry.url has no valid host"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "registry.url has an invalid port"
		}
	}
	return ""
}

func checkRepository(s string) string {
	switch {
	case s == "":
		return "artifact.repository is missing"
	case len(s) > maxRepositoryLen:
		return fmt.Sprintf("artifact.repository is longer than %d bytes", maxRepositoryLen)
	case !repoRE.MatchString(s):
		return "artifact.repository is not a repository name"
	}
	return ""
}

func checkDigest(s string) string {
	switch {
	case s == "":
		return "artifact.digest is missing"
	case !digestRE.MatchString(s):
		return "artifact.digest is not a sha256 or sha512 digest"
	}
	return ""
}

var (
	// The distribution reference grammar: lower-case path components.
	repoRE   = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	tagRE    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRE = regexp.MustCompile(`^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`)
	// A DNS name or an IPv4 address.
	hostRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
	// A scan id: it goes into a URL path unescaped.
	idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

// headerSafe reports whether s can be an HTTP header value as it is.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
