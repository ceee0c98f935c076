package sbom

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"regexp"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// Output formats.
const (
	FormatJSON = "cyclonedx-json"
	FormatXML  = "cyclonedx-xml"
)

// Formats lists the output formats.
func Formats() []string { return []string{FormatJSON, FormatXML} }

// Encode writes bom in format at spec version spec ("1.6" or "1.5").
func Encode(w io.Writer, bom *cdx.BOM, format, spec string) error {
	var ff cdx.BOMFileFormat
	switch format {
	case FormatJSON, "":
		ff = cdx.BOMFileFormatJSON
	case FormatXML:
		ff = cdx.BOMFileFormatXML
	default:
		return fmt.Errorf("format %q: want %s or %s", format, FormatJSON, FormatXML)
	}
	var sv cdx.SpecVersion
	switch spec {
	case Spec16, "":
		sv = cdx.SpecVersion1_6
	case Spec15:
		sv = cdx.SpecVersion1_5
	default:
		return fmt.Errorf("spec version %q: want %s or %s", spec, Spec16, Spec15)
	}
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, ff)
	enc.SetPretty(true)
	// purls keep their "&" readable; JSON string escaping already makes
	// untrusted text safe for any JSON reader.
	enc.SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, sv); err != nil {
		return err
	}
	out := buf.Bytes()
	if ff == cdx.BOMFileFormatXML {
		// cyclonedx-go v0.12.0 writes a dataset reference as
		// <dataset><ref>…</ref></dataset>; the XSD wants <ref>…</ref>
		// directly under <datasets>.
		out = datasetRefXML.ReplaceAll(out, []byte("<ref>$1</ref>"))
	}
	_, err := w.Write(out)
	return err
}

var datasetRefXML = regexp.MustCompile(`<dataset>\s*<ref>([^<]*)</ref>\s*</dataset>`)

// randomUUID is an RFC 4122 version 4 UUID.
func randomUUID() string {
	u := make([]byte, 16)
	rand.Read(u)
	return formatUUID(u, 4)
}
