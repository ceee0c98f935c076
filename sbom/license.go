package sbom

import (
	"strings"
	"sync"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/github/go-spdx/v2/spdxexp"

	"github.com/hallmarkdev/hallmark/internal/cdxschema"
)

// The SPDX ids a CycloneDX validator accepts are the schema's enum, not
// the newest SPDX list: an id the schema lacks goes in by name.
var (
	spdxOnce sync.Once
	spdxIDs  map[string]string // lower-case → canonical
)

// spdxID returns the canonical SPDX id of s (case-insensitive, as Hugging
// Face writes "apache-2.0") if the schema's enum has it.
func spdxID(s string) (string, bool) {
	spdxOnce.Do(func() {
		spdxIDs = map[string]string{}
		for _, id := range cdxschema.SPDXLicenseIDs() {
			spdxIDs[strings.ToLower(id)] = id
		}
	})
	id, ok := spdxIDs[strings.ToLower(strings.TrimSpace(s))]
	return id, ok
}

// licenseIn is one licence statement and where it came from.
type licenseIn struct {
	text, url, source string
}

// licenses gathers every declared licence, most trusted source first.
func (b *builder) licenses(f facts) *cdx.Licenses {
	var in []licenseIn
	for _, l := range f.oci.Licenses {
		in = append(in, licenseIn{text: l, source: "packaging"})
	}
	if c := f.card; c != nil {
		lics := c.Licenses
		if len(lics) == 0 && c.License != "" {
			lics = []string{c.License}
		}
		for _, l := range lics {
			if strings.EqualFold(l, "other") && c.LicenseName != "" {
				in = append(in, licenseIn{text: c.LicenseName, url: c.LicenseLink, source: "model card"})
			} else {
				in = append(in, licenseIn{text: l, url: c.LicenseLink, source: "model card"})
			}
		}
	}
	if l := f.gguf["general.license.name"]; l != "" {
		in = append(in, licenseIn{text: l, url: f.gguf["general.license.link"], source: "GGUF metadata"})
	}
	for i := range b.files {
		if x := b.files[i].Facts; x != nil && x.License != "" && x.Card == nil {
			u := ""
			if x.Format == "gguf" {
				u = f.gguf["general.license.link"]
			}
			in = append(in, licenseIn{text: x.License, url: u, source: b.files[i].Name})
		}
	}
	return b.licenseList(in)
}

// licenseList turns statements into CycloneDX licences: an SPDX id the
// schema knows, a valid SPDX expression, or a name (with its URL).
// Statements naming the same licence are one entry.
func (b *builder) licenseList(in []licenseIn) *cdx.Licenses {
	type entry struct {
		id, expr, name, url string
	}
	var out []entry
	seen := map[string]int{}
	for _, l := range in {
		text := strings.TrimSpace(l.text)
		if text == "" || len(out) >= 32 {
			continue
		}
		var e entry
		if id, ok := spdxID(text); ok {
			e.id = id
		} else if isExpression(text) {
			e.expr = text
		} else {
			e.name = text
		}
		if webURL(l.url) {
			e.url = l.url
		}
		key := strings.ToLower(e.id + e.expr + e.name)
		if i, ok := seen[key]; ok {
			if out[i].url == "" {
				out[i].url = e.url
			}
			continue
		}
		seen[key] = len(out)
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil
	}
	if len(out) == 1 && out[0].expr != "" {
		return &cdx.Licenses{{Expression: out[0].expr}}
	}
	var ls cdx.Licenses
	for _, e := range out {
		lic := &cdx.License{ID: e.id, Name: e.name, URL: e.url}
		if e.expr != "" {
			// An expression beside other licences cannot share the
			// list (the schema allows one expression alone): keep it
			// by name.
			lic.Name = e.expr
		}
		if b.spec == Spec16 {
			lic.Acknowledgement = cdx.LicenseAcknowledgementDeclared
		}
		ls = append(ls, cdx.LicenseChoice{License: lic})
	}
	return &ls
}

// isExpression reports whether s is a compound SPDX expression every id
// of which is known ("Apache-2.0 OR MIT").
func isExpression(s string) bool {
	u := " " + strings.ToUpper(s) + " "
	if !strings.Contains(u, " AND ") && !strings.Contains(u, " OR ") && !strings.Contains(u, " WITH ") {
		return false
	}
	ok, _ := spdxexp.ValidateLicenses([]string{s})
	return ok
}
