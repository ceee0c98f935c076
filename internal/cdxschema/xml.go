package cdxschema

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// xmllintTimeout bounds one xmllint run; the largest vendored XSD compiles in
// well under a second, so hitting this means something is wrong.
var xmllintTimeout = 2 * time.Minute

// maxXMLOutput caps how much of xmllint's output is kept.
const maxXMLOutput = 64 << 10

// ValidateXML checks a CycloneDX XML document against the vendored XSD for
// specVersion ("1.5" or "1.6") with xmllint --nonet, then checks that every
// reference (dependency/provides ref attributes, modelCard datasets ref,
// vulnerability targets, formulation refs) names a bom-ref of the document.
// The XSD itself enforces that bom-refs are unique. Documents with a DOCTYPE
// are refused: CycloneDX needs none, and it is the only way to entities.
// If xmllint is not on PATH the error wraps ErrNoXMLValidator.
func ValidateXML(data []byte, specVersion string) error {
	if err := checkVersion(specVersion); err != nil {
		return err
	}
	if len(data) > MaxDocumentSize {
		return fmt.Errorf("cdxschema: XML document is %d bytes, over the %d-byte limit", len(data), MaxDocumentSize)
	}
	lint, err := exec.LookPath("xmllint")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoXMLValidator, err)
	}
	var is issues
	x, doctype := scanXML(data, specVersion, &is)
	if doctype {
		is.add("line 1: document has a DOCTYPE; CycloneDX XML needs none and it is not passed to the validator")
		return is.err("XML", specVersion)
	}
	if err := runXMLLint(lint, data, specVersion, &is); err != nil {
		return err
	}
	if x != nil {
		x.resolve(&is)
	}
	return is.err("XML", specVersion)
}

// runXMLLint validates data with the embedded XSDs written side by side to a
// temporary directory: bom-1.x.SNAPSHOT.xsd imports spdx.SNAPSHOT.xsd by that
// relative schemaLocation, so no catalog is needed and --nonet holds.
func runXMLLint(lint string, data []byte, version string, is *issues) error {
	dir, err := os.MkdirTemp("", "hallmark-cdxschema-")
	if err != nil {
		return fmt.Errorf("cdxschema: %w", err)
	}
	defer os.RemoveAll(dir)
	bomXSD := "bom-" + version + ".SNAPSHOT.xsd"
	for _, name := range []string{bomXSD, "spdx.SNAPSHOT.xsd"} {
		raw, err := schemaFS.ReadFile("schema/" + name)
		if err != nil {
			return fmt.Errorf("cdxschema: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o600); err != nil {
			return fmt.Errorf("cdxschema: %w", err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), xmllintTimeout)
	defer cancel()
	// The document goes in on stdin ("-"), so it never lands on disk.
	cmd := exec.CommandContext(ctx, lint, "--noout", "--nonet", "--nocatalogs",
		"--schema", filepath.Join(dir, bomXSD), "-")
	cmd.Stdin = bytes.NewReader(data)
	cmd.Dir = dir
	var out cappedBuffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("cdxschema: xmllint did not finish within %v", xmllintTimeout)
	}
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		return fmt.Errorf("cdxschema: run xmllint: %w", runErr)
	}
	if runErr == nil {
		return nil
	}
	// Exit 5 means the XSD did not compile: our problem, not the document's.
	if exit.ExitCode() == 5 {
		return fmt.Errorf("cdxschema: xmllint could not compile %s: %s", bomXSD, clean(out.String()))
	}
	n := addXMLLintIssues(out.String(), is)
	if n == 0 {
		is.add("xmllint exit %d: %s", exit.ExitCode(), out.String())
	}
	return nil
}

// xmllintLine matches a diagnostic about stdin: "-:12: element type: ...".
var xmllintLine = regexp.MustCompile(`^-:(\d+): (.*)$`)

// nsPrefix strips the namespace from names in messages,
// "{http://cyclonedx.org/schema/bom/1.6}type" reads as "type".
var nsPrefix = regexp.MustCompile(`\{http://cyclonedx\.org/schema/[^}]*\}`)

// longSet matches an enumeration xmllint spells out in full; the SPDX one has
// hundreds of entries.
var longSet = regexp.MustCompile(`the set \{[^}]{200,}\}`)

func addXMLLintIssues(out string, is *issues) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 4096), maxXMLOutput+1)
	for sc.Scan() {
		m := xmllintLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue // source excerpts, carets and the "- fails to validate" summary
		}
		msg := nsPrefix.ReplaceAllString(m[2], "")
		msg = strings.Replace(msg, "Schemas validity error : ", "", 1)
		msg = longSet.ReplaceAllStringFunc(msg, func(set string) string {
			return fmt.Sprintf("the set of %d allowed values", strings.Count(set, "', '")+1)
		})
		is.add("line %s: %s", m[1], msg)
		n++
	}
	return n
}

// cappedBuffer keeps the first maxXMLOutput bytes and discards the rest, so a
// flood of diagnostics cannot grow memory.
type cappedBuffer struct{ bytes.Buffer }

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := maxXMLOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// scanXML reads the document with encoding/xml, which expands no custom
// entities, to refuse DOCTYPEs and to collect bom-refs and references. Only
// names in the CycloneDX namespace count: other namespaces are extensions.
// A document encoding/xml cannot read is left to xmllint to diagnose; the
// reference check is then skipped (nil index).
func scanXML(data []byte, version string, is *issues) (x *refIndex, doctype bool) {
	ns := "http://cyclonedx.org/schema/bom/" + version
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return in, nil
		}
		return nil, fmt.Errorf("encoding %q not supported", label)
	}
	x = &refIndex{}
	// stack says, per open element, whether it is a <ref> whose text is a
	// reference.
	var stack []bool
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return x, false
		}
		if err != nil {
			line, _ := d.InputPos()
			is.add("line %d: cannot read XML: %v", line, err)
			return nil, false
		}
		switch t := tok.(type) {
		case xml.Directive:
			if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
				return nil, true
			}
		case xml.StartElement:
			line, _ := d.InputPos()
			inCDX := t.Name.Space == ns
			for _, a := range t.Attr {
				if !inCDX || a.Name.Space != "" {
					continue
				}
				switch a.Name.Local {
				case "bom-ref":
					x.define(a.Value) // duplicates: the XSD's xs:unique reports them
				case "ref":
					x.use(a.Value, fmt.Sprintf("line %d", line))
				}
			}
			isRef := inCDX && t.Name.Local == "ref"
			stack = append(stack, isRef)
			if isRef {
				text.Reset()
			}
		case xml.CharData:
			if len(stack) > 0 && stack[len(stack)-1] {
				text.Write(t)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			if stack[len(stack)-1] {
				// Trimmed so a pretty-printed <ref> still matches its bom-ref.
				line, _ := d.InputPos()
				x.use(strings.TrimSpace(text.String()), fmt.Sprintf("line %d", line))
			}
			stack = stack[:len(stack)-1]
		}
	}
}
