// Package cdxschema validates CycloneDX BOMs offline against the official
// schemas, vendored in schema/ (see schema/README.md for their origin).
//
// JSON is checked in-process with santhosh-tekuri/jsonschema; XML is checked
// by xmllint against the vendored XSDs. Neither path ever touches the
// network. On top of the schemas, the package checks what they cannot
// express: bom-ref values are unique and references point at one of them.
package cdxschema

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

//go:embed schema/*.json schema/*.xsd
var schemaFS embed.FS

// Caps keep the validator's own output and memory bounded whatever it is fed.
const (
	// MaxDocumentSize is the largest BOM accepted. Parsing costs several times
	// the input size, and no real BOM comes close to this.
	MaxDocumentSize = 128 << 20
	// maxIssues caps the issues kept in a ValidationError.
	maxIssues = 50
	// maxIssueLen caps one issue line; messages echo document values.
	maxIssueLen = 400
	// maxRefs caps how many bom-refs and references are tracked, so a hostile
	// document cannot grow the maps beyond what its size already implies.
	maxRefs = 1 << 20
)

// ErrUnsupportedVersion is returned for a specVersion other than "1.5" or "1.6".
var ErrUnsupportedVersion = errors.New("cdxschema: unsupported CycloneDX spec version")

// ErrNoXMLValidator is wrapped by ValidateXML when xmllint is not on PATH.
var ErrNoXMLValidator = errors.New("cdxschema: xmllint not found on PATH (Debian package libxml2-utils)")

// ValidationError reports a document that is not a valid CycloneDX BOM.
type ValidationError struct {
	// Format is "JSON" or "XML"; SpecVersion is the version checked against.
	Format, SpecVersion string
	// Issues are readable lines, each "at '<location>': <message>", at most
	// maxIssues of them.
	Issues []string
	// Dropped counts issues beyond the cap.
	Dropped int
}

func (e *ValidationError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "CycloneDX %s %s validation failed:", e.SpecVersion, e.Format)
	for _, is := range e.Issues {
		sb.WriteString("\n  ")
		sb.WriteString(is)
	}
	if e.Dropped > 0 {
		fmt.Fprintf(&sb, "\n  … and %d more", e.Dropped)
	}
	return sb.String()
}

// issues collects capped, de-duplicated problem lines.
type issues struct {
	lines   []string
	seen    map[string]bool
	dropped int
}

func (is *issues) add(format string, args ...any) {
	line := clean(fmt.Sprintf(format, args...))
	if is.seen == nil {
		is.seen = map[string]bool{}
	}
	if is.seen[line] {
		return
	}
	if len(is.lines) >= maxIssues {
		is.dropped++
		return
	}
	is.seen[line] = true
	is.lines = append(is.lines, line)
}

func (is *issues) err(format, version string) error {
	if len(is.lines) == 0 && is.dropped == 0 {
		return nil
	}
	return &ValidationError{Format: format, SpecVersion: version, Issues: is.lines, Dropped: is.dropped}
}

// clean makes a message safe to print: no control characters, bounded length.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return finding.Shorten(s, maxIssueLen)
}

// quoteValue renders an untrusted document value for a message.
func quoteValue(s string) string {
	return fmt.Sprintf("%q", finding.Shorten(s, 80))
}

func checkVersion(v string) error {
	switch v {
	case "1.5", "1.6":
		return nil
	}
	return fmt.Errorf("%w: %q", ErrUnsupportedVersion, finding.Shorten(v, 20))
}

// refIndex tracks bom-refs and the references to them, in document order.
type refIndex struct {
	defined map[string]bool
	refs    []pendingRef
	full    bool
}

type pendingRef struct {
	value, where string
}

// define records a bom-ref and reports false if it was already defined.
func (x *refIndex) define(v string) bool {
	if x.defined == nil {
		x.defined = map[string]bool{}
	}
	if x.defined[v] {
		return false
	}
	if len(x.defined) >= maxRefs {
		x.full = true
		return true
	}
	x.defined[v] = true
	return true
}

func (x *refIndex) use(v, where string) {
	if len(x.refs) >= maxRefs {
		x.full = true
		return
	}
	x.refs = append(x.refs, pendingRef{v, where})
}

// resolve reports every reference that names no bom-ref of this document.
// BOM-Links (urn:cdx:…) point into other BOMs and cannot be resolved here.
func (x *refIndex) resolve(is *issues) {
	if x.full {
		// Fail closed rather than report refs to untracked bom-refs as dangling.
		is.add("document has more than %d bom-refs or references; not checked", maxRefs)
		return
	}
	for _, r := range x.refs {
		if strings.HasPrefix(r.value, "urn:cdx:") {
			continue
		}
		if !x.defined[r.value] {
			is.add("%s: reference %s matches no bom-ref in the document", r.where, quoteValue(r.value))
		}
	}
}

// SPDXLicenseIDs returns the licence ids the vendored schemas accept
// (the spdx.schema.json enum): a BOM generator must use these, since an
// id newer than the schema's list fails validation.
func SPDXLicenseIDs() []string {
	data, err := schemaFS.ReadFile("schema/spdx.SNAPSHOT.schema.json")
	if err != nil {
		return nil
	}
	var doc struct {
		Enum []string `json:"enum"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	return doc.Enum
}
