// Package harbor implements the Harbor pluggable scanner adapter API
// (goharbor/pluggable-scanner-spec, v1.2, compatible with v1.1 clients):
// Harbor asks an adapter for its metadata, posts a scan request for each
// pushed artifact and polls for the report. hallmark serve mounts Handler;
// the scanning itself is the Backend's.
//
// The vendored specification is in testdata/; the tests validate every
// request and response of the handler against its schemas.
package harbor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hallmarkdev/hallmark/audit"
)

// Media types, exactly as the specification spells them.
const (
	// Artifacts Harbor sends (artifact.mime_type): the manifest's media type.
	MimeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MimeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	// MimeModelManifest is not in the specification: it is the artifactType
	// of CNCF ModelPack manifests, which a Harbor branch with model scanning
	// sends instead of the OCI manifest type for model artifacts.
	MimeModelManifest = "application/vnd.cncf.model.manifest.v1+json"

	// GET /metadata: 1.1 (spec v1.2, capability types) and 1.0.
	MimeMetadata    = "application/vnd.scanner.adapter.metadata+json; version=1.1"
	MimeMetadataV10 = "application/vnd.scanner.adapter.metadata+json; version=1.0"
	// POST /scan request bodies: 1.1 (spec v1.2, enabled_capabilities) and 1.0.
	MimeScanRequest    = "application/vnd.scanner.adapter.scan.request+json; version=1.1"
	MimeScanRequestV10 = "application/vnd.scanner.adapter.scan.request+json; version=1.0"
	MimeScanResponse   = "application/vnd.scanner.adapter.scan.response+json; version=1.0"
	MimeError          = "application/vnd.scanner.adapter.error+json; version=1.0"

	// Reports (GET /scan/{id}/report, chosen by Accept).
	MimeVulnReport = "application/vnd.security.vulnerability.report; version=1.1"
	// MimeNativeReport is the v1.0 name of the same report; the spec's
	// README makes it the answer to a request without Accept.
	MimeNativeReport = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
	MimeSBOMReport   = "application/vnd.security.sbom.report+json; version=1.0"

	// SBOM formats (sbom_media_types, ?sbom_media_type=, media_type).
	MediaTypeCycloneDX = "application/vnd.cyclonedx+json"
	MediaTypeSPDX      = "application/spdx+json"

	// Capability types.
	CapabilityVulnerability = "vulnerability"
	CapabilitySBOM          = "sbom"
)

// Scanner is the scanner's identity (schema Scanner).
type Scanner struct {
	Name    string `json:"name"`
	Vendor  string `json:"vendor"`
	Version string `json:"version"`
}

// ScannerCapability is what the scanner reads and writes (schema
// ScannerCapability).
type ScannerCapability struct {
	Type                 string                `json:"type,omitempty"`
	ConsumesMimeTypes    []string              `json:"consumes_mime_types"`
	ProducesMimeTypes    []string              `json:"produces_mime_types"`
	AdditionalAttributes *CapabilityAttributes `json:"additional_attributes,omitempty"`
}

// CapabilityAttributes are a capability's additional_attributes: for the
// sbom type, the SBOM formats the scanner writes.
type CapabilityAttributes struct {
	SBOMMediaTypes []string `json:"sbom_media_types,omitempty"`
}

// ScannerAdapterMetadata is the answer to GET /metadata.
type ScannerAdapterMetadata struct {
	Scanner      Scanner             `json:"scanner"`
	Capabilities []ScannerCapability `json:"capabilities"`
	Properties   map[string]string   `json:"properties,omitempty"`
}

// Registry says where Harbor's registry is and how to authenticate to it.
type Registry struct {
	URL string `json:"url"`
	// Authorization is the value of the HTTP Authorization header for the
	// registry (a short-lived robot account credential). Secret: String
	// hides it, and the handler never logs or keeps it.
	Authorization string `json:"authorization,omitempty"`
}

// String hides the credential from fmt and loggers.
func (r Registry) String() string {
	if r.Authorization == "" {
		return fmt.Sprintf("{URL:%s}", r.URL)
	}
	return fmt.Sprintf("{URL:%s Authorization:(hidden)}", r.URL)
}

// GoString hides the credential from %#v.
func (r Registry) GoString() string { return "harbor.Registry" + r.String() }

// Artifact names the artifact to scan (schema Artifact). The specification
// has no size field.
type Artifact struct {
	Repository string `json:"repository,omitempty"`
	Digest     string `json:"digest,omitempty"`
	Tag        string `json:"tag,omitempty"`
	MimeType   string `json:"mime_type,omitempty"`
}

// EnabledCapability is one item of a scan request's enabled_capabilities
// (spec v1.2).
type EnabledCapability struct {
	Type              string          `json:"type"`
	ProducesMimeTypes []string        `json:"produces_mime_types,omitempty"`
	Parameters        *SBOMParameters `json:"parameters,omitempty"`
}

// SBOMParameters are the parameters of an sbom capability.
type SBOMParameters struct {
	SBOMMediaTypes []string `json:"sbom_media_types,omitempty"`
}

// ScanRequest is the body of POST /scan.
type ScanRequest struct {
	Registry Registry `json:"registry"`
	Artifact Artifact `json:"artifact"`
	// EnabledCapabilities is empty when Harbor does not say (spec v1.1
	// clients): then every capability is enabled.
	EnabledCapabilities []EnabledCapability `json:"enabled_capabilities,omitempty"`
}

// Enabled reports whether the request asks for a capability type
// (CapabilityVulnerability, CapabilitySBOM). A request that lists no
// capabilities asks for all of them.
func (r *ScanRequest) Enabled(capType string) bool {
	if len(r.EnabledCapabilities) == 0 {
		return true
	}
	for _, c := range r.EnabledCapabilities {
		if c.Type == capType {
			return true
		}
	}
	return false
}

// Reference returns where the artifact is, as "host[:port]/repository@digest"
// (an OCI reference pinned to the digest Harbor named), and whether the
// registry speaks plain HTTP. The handler only passes on requests it
// validated, so this fails only for a request built by hand.
func (r *ScanRequest) Reference() (ref string, plainHTTP bool, err error) {
	if msg := checkRegistryURL(r.Registry.URL); msg != "" {
		return "", false, errors.New(msg)
	}
	if msg := checkRepository(r.Artifact.Repository); msg != "" {
		return "", false, errors.New(msg)
	}
	if msg := checkDigest(r.Artifact.Digest); msg != "" {
		return "", false, errors.New(msg)
	}
	u, _ := url.Parse(r.Registry.URL) // checked above
	return u.Host + "/" + r.Artifact.Repository + "@" + r.Artifact.Digest, strings.EqualFold(u.Scheme, "http"), nil
}

// ScanResponse is the answer to POST /scan.
type ScanResponse struct {
	ID string `json:"id"`
}

// Severity is the specification's severity scale.
type Severity string

const (
	SeverityUnknown    Severity = "Unknown"
	SeverityNegligible Severity = "Negligible"
	SeverityLow        Severity = "Low"
	SeverityMedium     Severity = "Medium"
	SeverityHigh       Severity = "High"
	SeverityCritical   Severity = "Critical"
)

// rank orders severities; an unknown string ranks with Unknown.
func (s Severity) rank() int {
	switch s {
	case SeverityNegligible:
		return 2
	case SeverityLow:
		return 3
	case SeverityMedium:
		return 4
	case SeverityHigh:
		return 5
	case SeverityCritical:
		return 6
	}
	return 1
}

// HarborVulnerabilityReport is the vulnerability report (MimeVulnReport,
// MimeNativeReport).
type HarborVulnerabilityReport struct {
	GeneratedAt time.Time `json:"generated_at"`
	Artifact    Artifact  `json:"artifact"`
	Scanner     Scanner   `json:"scanner"`
	// Severity is the highest of the items; empty (left out) when there are
	// none, as the spec's enum has no "none".
	Severity        Severity            `json:"severity,omitempty"`
	Vulnerabilities []VulnerabilityItem `json:"vulnerabilities"`
}

// VulnerabilityItem is one row of the report.
type VulnerabilityItem struct {
	ID               string         `json:"id"`
	Package          string         `json:"package"`
	Version          string         `json:"version"`
	FixVersion       string         `json:"fix_version,omitempty"`
	Severity         Severity       `json:"severity"`
	Description      string         `json:"description"`
	Links            []string       `json:"links,omitempty"`
	CVSS             *CVSSDetails   `json:"preferred_cvss,omitempty"`
	CweIDs           []string       `json:"cwe_ids,omitempty"`
	VendorAttributes map[string]any `json:"vendor_attributes,omitempty"`
}

// CVSSDetails are CVSS scores and vectors (hallmark sets none).
type CVSSDetails struct {
	ScoreV3  *float64 `json:"score_v3,omitempty"`
	ScoreV2  *float64 `json:"score_v2,omitempty"`
	VectorV3 string   `json:"vector_v3,omitempty"`
	VectorV2 string   `json:"vector_v2,omitempty"`
}

// HarborSBOMReport is the SBOM report (MimeSBOMReport, schema
// HarborSbomReport).
type HarborSBOMReport struct {
	GeneratedAt      time.Time       `json:"generated_at"`
	Artifact         Artifact        `json:"artifact"`
	Scanner          Scanner         `json:"scanner"`
	VendorAttributes map[string]any  `json:"vendor_attributes,omitempty"`
	MediaType        string          `json:"media_type"`
	SBOM             json.RawMessage `json:"sbom"`
}

// ErrorResponse is the body of every error the specification describes.
type ErrorResponse struct {
	Error Error `json:"error"`
}

// Error is an error message.
type Error struct {
	Message string `json:"message"`
}

// Job is the state of one scan, as the Backend reports it.
type Job struct {
	ID string
	// Done is set when the scan has finished, well or not.
	Done bool
	// Err is why a finished scan failed (nothing could be reported).
	Err    error
	Result *audit.Result
	// BOM is the artifact's CycloneDX JSON (a JSON object), or nil.
	BOM               []byte
	Started, Finished time.Time
}

// Backend runs the scans.
type Backend interface {
	// Submit starts a scan of a request the handler validated and returns
	// its id at once; the scan runs elsewhere and must not depend on ctx
	// (the HTTP request's) beyond Submit's return. An id is 1 to 128 of
	// [A-Za-z0-9._-], starting with a letter or digit (Harbor puts it in a
	// URL path unescaped). An error wrapping ErrInvalidRequest is answered
	// 422, ErrUnsupported 501, any other 500.
	Submit(ctx context.Context, req ScanRequest) (id string, err error)
	// Job returns the scan with this id, if the backend still knows it.
	Job(id string) (*Job, bool)
}

// Errors a Backend's Submit may wrap to choose the status code.
var (
	// ErrInvalidRequest: the request is well formed but refused (a registry
	// the server may not contact, for example): 422.
	ErrInvalidRequest = errors.New("invalid scan request")
	// ErrUnsupported: the scanner cannot do what is asked: 501.
	ErrUnsupported = errors.New("not supported by this scanner")
)

// Info is the scanner's identity in the metadata and reports. Empty fields
// get defaults (hallmark, hallmark, dev): Harbor refuses a scanner whose
// name, vendor or version is empty.
type Info struct {
	Name, Vendor, Version string
	// Properties go into the metadata's properties as they are.
	Properties map[string]string
}

func (i Info) scanner() Scanner {
	s := Scanner{Name: i.Name, Vendor: i.Vendor, Version: i.Version}
	if s.Name == "" {
		s.Name = "hallmark"
	}
	if s.Vendor == "" {
		s.Vendor = "hallmark"
	}
	if s.Version == "" {
		s.Version = "dev"
	}
	return s
}
