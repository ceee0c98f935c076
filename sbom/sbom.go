// Package sbom turns what one hallmark run read into a CycloneDX ML-BOM:
// the model as metadata.component, every file nested in it with the
// SHA-256 the scan computed, the model card, datasets, base models,
// licences, the format facts, the scan verdict and the signatures that
// held. Nothing is read again and nothing is guessed: a fact no input
// states is absent.
package sbom

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/hallmarkdev/hallmark/audit"
	"github.com/hallmarkdev/hallmark/scan"
)

// Spec versions Build can write.
const (
	Spec16 = "1.6"
	Spec15 = "1.5"
)

// Options shape one BOM.
type Options struct {
	// SpecVersion is "1.6" (default) or "1.5".
	SpecVersion string
	// SerialNumber is the BOM's urn:uuid:…; empty: derived from the
	// BOM's content when Timestamp is set (reproducible builds), else
	// random.
	SerialNumber string
	// Timestamp is metadata.timestamp; zero: the run's start.
	Timestamp time.Time
	// Signatures are the verification results to record.
	Signatures []Signature
}

// Signature is one signature hallmark verified over the model.
type Signature struct {
	Verified bool
	Format   string // "model-signing" (OMS bundle), "cosign", "sigstore-bundle"…
	Method   string // "key", "certificate", "keyless"
	Identity string // keyless: the certificate SAN; certificate: subject
	Issuer   string // keyless: the OIDC issuer; certificate: issuer DN
	Key      string // "sha256:<hex>" of the signing key
	// Ref is where the signature lives: a file path, or oci://…@sha256:…
	// for a referrer or signature tag.
	Ref string
	// Attestation: the signature is over an in-toto statement (OMS and
	// cosign attestations) rather than a plain digest.
	Attestation bool
}

// Build makes the BOM of the first (and only) target of res.
func Build(res *audit.Result, opts Options) (*cdx.BOM, error) {
	if len(res.Targets) != 1 {
		return nil, fmt.Errorf("a BOM describes one model: got %d targets", len(res.Targets))
	}
	t := res.Targets[0]
	if t.Error != "" {
		return nil, errors.New(t.Error)
	}
	spec := opts.SpecVersion
	if spec == "" {
		spec = Spec16
	}
	if spec != Spec16 && spec != Spec15 {
		return nil, fmt.Errorf("spec version %q: want %s or %s", spec, Spec16, Spec15)
	}
	b := &builder{res: res, t: t, spec: spec, refs: map[string]bool{}}
	b.gather()
	model := b.model(opts.Signatures)

	bom := cdx.NewBOM()
	bom.Version = 1
	ts := opts.Timestamp
	if ts.IsZero() {
		ts = res.Started
	}
	tool := cdx.Component{
		Type:    cdx.ComponentTypeApplication,
		Name:    "hallmark",
		Version: toolVersion(res),
		Properties: &[]cdx.Property{
			{Name: "hallmark:rules_version", Value: res.RulesVersion},
		},
	}
	tool.Supplier = &cdx.OrganizationalEntity{Name: "hallmark"}
	bom.Metadata = &cdx.Metadata{
		Timestamp: ts.UTC().Format(time.RFC3339),
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{tool}},
		Component: &model,
	}
	var comps []cdx.Component
	comps = append(comps, b.datasets...)
	if len(comps) > 0 {
		sort.Slice(comps, func(i, j int) bool { return comps[i].BOMRef < comps[j].BOMRef })
		bom.Components = &comps
	}
	switch {
	case opts.SerialNumber != "":
		if !validSerial(opts.SerialNumber) {
			return nil, fmt.Errorf("serial number %q: want urn:uuid:<RFC 4122 UUID>", opts.SerialNumber)
		}
		bom.SerialNumber = strings.ToLower(opts.SerialNumber)
	case !opts.Timestamp.IsZero():
		bom.SerialNumber = contentSerial(bom)
	default:
		bom.SerialNumber = "urn:uuid:" + randomUUID()
	}
	return bom, nil
}

func toolVersion(res *audit.Result) string {
	if v := res.Tool.Version; v != "" {
		return v
	}
	return "devel"
}

// builder gathers one target's facts.
type builder struct {
	res  *audit.Result
	t    *audit.TargetResult
	spec string
	refs map[string]bool // bom-refs taken

	files    []scan.FileResult // sorted by Name
	datasets []cdx.Component
	dsRefs   []string
}

func (b *builder) gather() {
	b.files = append([]scan.FileResult(nil), b.t.Files...)
	for i := range b.files {
		if b.files[i].Name == "" {
			b.files[i].Name = b.files[i].Path
		}
	}
	sort.Slice(b.files, func(i, j int) bool { return b.files[i].Name < b.files[j].Name })
}

// ref returns a bom-ref unique in this BOM, stable for the same input.
func (b *builder) ref(kind, name string) string {
	r := kind + ":" + name
	for i := 2; b.refs[r]; i++ {
		r = kind + ":" + name + "#" + strconv.Itoa(i)
	}
	b.refs[r] = true
	return r
}

// contentSerial is a name-based UUID (RFC 4122 version 5 layout over
// SHA-256) of what the BOM says, so a reproducible build gets the same
// serial number.
func contentSerial(bom *cdx.BOM) string {
	h := sha256.New()
	m := bom.Metadata.Component
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", m.Name, m.Version, m.PackageURL, bom.Metadata.Timestamp)
	if m.Components != nil {
		for _, c := range *m.Components {
			fmt.Fprintf(h, "%s\x00", c.Name)
			if c.Hashes != nil {
				for _, x := range *c.Hashes {
					fmt.Fprintf(h, "%s\x00", x.Value)
				}
			}
		}
	}
	if m.Properties != nil {
		for _, p := range *m.Properties {
			fmt.Fprintf(h, "%s=%s\x00", p.Name, p.Value)
		}
	}
	return "urn:uuid:" + formatUUID(h.Sum(nil)[:16], 5)
}

func formatUUID(u []byte, v byte) string {
	u[6] = u[6]&0x0f | v<<4
	u[8] = u[8]&0x3f | 0x80
	x := hex.EncodeToString(u)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

func validSerial(s string) bool {
	u, ok := strings.CutPrefix(s, "urn:uuid:")
	if !ok || len(u) != 36 {
		return false
	}
	for i, c := range u {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// baseName is the last element of a target or path.
func baseName(p string) string {
	p = strings.TrimRight(strings.ReplaceAll(p, "\\", "/"), "/")
	if p == "" || p == "." {
		return ""
	}
	return path.Base(p)
}
