package cdxschema

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

// checkIssues asserts the bounds every ValidationError promises.
func checkIssues(t *testing.T, lines []string) {
	if len(lines) > maxIssues {
		t.Fatalf("%d issues, cap is %d", len(lines), maxIssues)
	}
	for _, l := range lines {
		if len(l) > maxIssueLen+len("…") || strings.IndexFunc(l, unicode.IsControl) >= 0 {
			t.Fatalf("issue not cleaned: %q", l)
		}
	}
}

func FuzzValidateJSON(f *testing.F) {
	f.Add([]byte(mlBOM16), false)
	f.Add([]byte(minimalBOM16), false)
	f.Add([]byte(minimalBOM15), true)
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"bom-ref":"a"},{"bom-ref":"a","ref":"b"}],"dependencies":[{"ref":"x","dependsOn":["y"]}]}`), false)
	f.Fuzz(func(t *testing.T, data []byte, v15 bool) {
		v := "1.6"
		if v15 {
			v = "1.5"
		}
		err := ValidateJSON(data, v)
		if err == nil {
			return
		}
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("not a *ValidationError: %v", err)
		}
		checkIssues(t, ve.Issues)
	})
}

// FuzzScanXML covers the Go side of ValidateXML; xmllint is not ours to fuzz.
func FuzzScanXML(f *testing.F) {
	f.Add([]byte(mlBOM16XML))
	f.Add([]byte(`<!DOCTYPE bom [<!ENTITY a "aaaa">]><bom xmlns="http://cyclonedx.org/schema/bom/1.6">&a;</bom>`))
	f.Add([]byte(`<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><ref>a<ref>b</ref></ref><x bom-ref="a" ref="c"/></bom>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var is issues
		x, _ := scanXML(data, "1.6", &is)
		if x != nil {
			x.resolve(&is)
		}
		checkIssues(t, is.lines)
	})
}
