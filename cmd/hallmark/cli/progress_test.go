package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/source/oci"
)

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	p := &progressLine{w: &buf}
	p.pulled(oci.Progress{Digest: "sha256:aa", Done: 1, Total: 10}) // small: never shown
	if buf.Len() != 0 {
		t.Fatalf("small blob shown: %q", buf.String())
	}
	d := "sha256:" + strings.Repeat("ab", 32)
	p.pulled(oci.Progress{Digest: d, Done: 64 << 20, Total: 256 << 20})
	p.scanned(1, 3, 5<<20)
	last := buf.String()[strings.LastIndex(buf.String(), "\r"):]
	if !strings.Contains(last, "scanning: 1/3 files, 5 MiB") || !strings.Contains(last, "pulling abababababab: 64/256 MiB (25%)") {
		t.Fatalf("line %q", last)
	}
	p.pulled(oci.Progress{Digest: d, Done: 64 << 20, Total: 256 << 20, Err: errors.New("x")})
	p.scanned(3, 3, 5<<20)
	if !strings.HasSuffix(buf.String(), "\r\x1b[K") {
		t.Fatalf("not erased at the end: %q", buf.String())
	}
}
