package admission

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the admission protocol.
const (
	// MaxReviewSize caps an AdmissionReview body. The API server's own
	// request limit is 3 MiB and etcd's 1.5 MiB, so a real review is
	// far smaller.
	MaxReviewSize = 8 << 20
	// MaxWarnings and MaxWarningRunes are the API server's limits: it
	// truncates every warning to 256 runes once the warnings of a request
	// pass 4096 runes (k8s.io/apiserver pkg/endpoints/filters/warning.go),
	// and 10 × 256 stays under that.
	MaxWarnings     = 10
	MaxWarningRunes = 256
	// MaxMessageRunes caps the denial message shown to the user.
	MaxMessageRunes = 2048
	// maxField caps the identifying strings of a review (UIDs are UUIDs,
	// names are at most 253 bytes).
	maxField = 256
)

const (
	reviewAPIVersion = "admission.k8s.io/v1"
	reviewKind       = "AdmissionReview"
)

// GroupVersionKind is request.kind (or requestKind) of a review.
type GroupVersionKind struct {
	Group, Version, Kind string
}

// GroupVersionResource is request.resource of a review.
type GroupVersionResource struct {
	Group, Version, Resource string
}

// Review is a parsed AdmissionReview v1 request.
type Review struct {
	APIVersion, Kind string // "admission.k8s.io/v1", "AdmissionReview"
	UID              string // request.uid, echoed in the response
	Operation        string // CREATE, UPDATE, DELETE, CONNECT
	DryRun           bool
	// ObjectKind is request.kind: the kind of Object, in the version the
	// webhook registered for.
	ObjectKind  GroupVersionKind
	Resource    GroupVersionResource
	SubResource string
	Namespace   string
	Name        string
	User        string          // request.userInfo.username, for logs
	Object      json.RawMessage // request.object; absent for DELETE and CONNECT
	OldObject   json.RawMessage // request.oldObject (UPDATE, DELETE)
}

// ParseReview parses an AdmissionReview v1 request body. Its errors are
// one line, fit to log and to return with HTTP 400. Fields are matched by
// their exact JSON names (the API server writes them that way).
func ParseReview(body []byte) (*Review, error) {
	if len(body) > MaxReviewSize {
		return nil, fmt.Errorf("AdmissionReview is larger than %d MiB", MaxReviewSize>>20)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("not an AdmissionReview: empty body")
	}
	top, err := object(body)
	if err != nil {
		return nil, fmt.Errorf("not an AdmissionReview: %s", jsonProblem(err, "an object"))
	}
	if top == nil {
		return nil, fmt.Errorf("not an AdmissionReview: null")
	}
	apiVersion, err1 := stringField(top, "apiVersion")
	kind, err2 := stringField(top, "kind")
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("not an AdmissionReview: apiVersion and kind must be strings")
	}
	switch {
	case apiVersion == "admission.k8s.io/v1beta1":
		return nil, fmt.Errorf("admission.k8s.io/v1beta1 is not supported: configure admissionReviewVersions: [v1]")
	case apiVersion != reviewAPIVersion:
		return nil, fmt.Errorf("not an AdmissionReview: apiVersion %q, want %s", clip(apiVersion, 64), reviewAPIVersion)
	case kind != reviewKind:
		return nil, fmt.Errorf("not an AdmissionReview: kind %q", clip(kind, 64))
	}
	req, err := object(top["request"])
	if err != nil || req == nil {
		return nil, fmt.Errorf("not an AdmissionReview: request is missing or not an object")
	}
	r := &Review{APIVersion: apiVersion, Kind: kind}
	strs := []struct {
		key string
		dst *string
	}{
		{"uid", &r.UID}, {"operation", &r.Operation}, {"subResource", &r.SubResource},
		{"namespace", &r.Namespace}, {"name", &r.Name},
	}
	for _, s := range strs {
		v, err := stringField(req, s.key)
		if err != nil {
			return nil, fmt.Errorf("request.%s is not a string", s.key)
		}
		if len(v) > maxField {
			return nil, fmt.Errorf("request.%s is longer than %d bytes", s.key, maxField)
		}
		*s.dst = v
	}
	if r.UID == "" {
		return nil, fmt.Errorf("request.uid is missing")
	}
	switch r.Operation {
	case "CREATE", "UPDATE", "DELETE", "CONNECT":
	case "":
		return nil, fmt.Errorf("request.operation is missing")
	default:
		return nil, fmt.Errorf("request.operation %q is not CREATE, UPDATE, DELETE or CONNECT", clip(r.Operation, 64))
	}
	if r.ObjectKind, err = gvk(req, "kind"); err != nil {
		return nil, err
	}
	if r.ObjectKind.Kind == "" || r.ObjectKind.Version == "" {
		return nil, fmt.Errorf("request.kind is missing")
	}
	gvr, err := gvk(req, "resource")
	if err != nil {
		return nil, err
	}
	r.Resource = GroupVersionResource{Group: gvr.Group, Version: gvr.Version, Resource: gvr.Kind}
	if ui, err := object(req["userInfo"]); err == nil && ui != nil {
		u, _ := stringField(ui, "username")
		r.User = clip(u, maxField)
	}
	if raw, ok := req["dryRun"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &r.DryRun); err != nil {
			return nil, fmt.Errorf("request.dryRun is not a boolean")
		}
	}
	if raw, ok := req["object"]; ok && !isNull(raw) {
		r.Object = raw
	}
	if raw, ok := req["oldObject"]; ok && !isNull(raw) {
		r.OldObject = raw
	}
	return r, nil
}

// Deleting reports whether the object is being deleted
// (metadata.deletionTimestamp is set): updates then only finish the
// deletion (finalizers) and must never be refused.
func (r *Review) Deleting() bool {
	var o struct {
		Metadata struct {
			DeletionTimestamp *string `json:"deletionTimestamp"`
		} `json:"metadata"`
	}
	return r.Object != nil && json.Unmarshal(r.Object, &o) == nil && o.Metadata.DeletionTimestamp != nil
}

// Old is the review of the object as it was before an UPDATE (nil when
// there is none), for comparing the models it named.
func (r *Review) Old() *Review {
	if r.Operation != "UPDATE" || r.OldObject == nil {
		return nil
	}
	old := *r
	old.Object, old.OldObject = r.OldObject, nil
	return &old
}

// gvk reads request.kind ({group, version, kind}) or request.resource
// ({group, version, resource}); for a resource, Kind holds the resource.
func gvk(req map[string]json.RawMessage, key string) (GroupVersionKind, error) {
	o, err := object(req[key])
	if err != nil {
		return GroupVersionKind{}, fmt.Errorf("request.%s is not an object", key)
	}
	last := "kind"
	if key == "resource" {
		last = "resource"
	}
	var out GroupVersionKind
	for _, f := range []struct {
		name string
		dst  *string
	}{{"group", &out.Group}, {"version", &out.Version}, {last, &out.Kind}} {
		v, err := stringField(o, f.name)
		if err != nil || len(v) > maxField {
			return GroupVersionKind{}, fmt.Errorf("request.%s.%s is not a string of at most %d bytes", key, f.name, maxField)
		}
		*f.dst = v
	}
	return out, nil
}

type reviewResponse struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Response   responseBody `json:"response"`
}

type responseBody struct {
	UID      string   `json:"uid"`
	Allowed  bool     `json:"allowed"`
	Status   *status  `json:"status,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// status is the part of metav1.Status a webhook sets.
type status struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	Reason  string `json:"reason"`
	Code    int    `json:"code"`
}

// Response builds the AdmissionReview v1 response body for the request
// with this uid. A denial carries status {code 403, reason Forbidden,
// message}; the message is ignored when allowed. Warnings are cleaned to
// what the API server passes on: control characters (which make it drop
// the warning) become spaces, invalid UTF-8 is replaced, empty and
// duplicate warnings are dropped, each is cut to MaxWarningRunes and at
// most MaxWarnings are kept.
func Response(uid string, allowed bool, message string, warnings []string) []byte {
	out := reviewResponse{
		APIVersion: reviewAPIVersion,
		Kind:       reviewKind,
		Response:   responseBody{UID: uid, Allowed: allowed, Warnings: cleanWarnings(warnings)},
	}
	if !allowed {
		out.Response.Status = &status{
			Status:  "Failure",
			Message: truncateRunes(strings.ToValidUTF8(message, "\uFFFD"), MaxMessageRunes),
			Reason:  "Forbidden",
			Code:    403,
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		// Only strings and bools above: unreachable, but never answer
		// with an empty body.
		b, _ = json.Marshal(reviewResponse{APIVersion: reviewAPIVersion, Kind: reviewKind,
			Response: responseBody{UID: uid, Status: &status{Status: "Failure", Reason: "Forbidden", Code: 403}}})
	}
	return b
}

func cleanWarnings(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range in {
		if len(out) == MaxWarnings {
			break
		}
		w = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, strings.ToValidUTF8(w, "\uFFFD"))
		w = truncateRunes(strings.TrimSpace(w), MaxWarningRunes)
		if w == "" || seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}

// truncateRunes cuts s to at most n runes, the last being "…" when cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i < len(s) && count < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	return s[:i] + "…"
}

// clip shortens an untrusted string for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// JSON helpers. They decode one level at a time with exact, case-
// sensitive member names, as Kubernetes and KServe read objects; a
// case-insensitive match (encoding/json into structs) could find a field
// they ignore, or miss the one they use.

// object decodes an object; null or absent (nil raw) gives nil, nil.
func object(raw json.RawMessage) (map[string]json.RawMessage, error) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// array decodes an array; null or absent gives nil, nil.
func array(raw json.RawMessage) ([]json.RawMessage, error) {
	if raw == nil || isNull(raw) {
		return nil, nil
	}
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, err
	}
	return a, nil
}

// stringField reads a string member; absent or null gives "".
func stringField(m map[string]json.RawMessage, key string) (string, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// jsonProblem describes a decoding error briefly (want: what belonged
// there); the type names of encoding/json errors say nothing to a
// cluster operator.
func jsonProblem(err error, want string) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("a JSON %s, not %s", typ.Value, want)
	default:
		return "invalid JSON"
	}
}
