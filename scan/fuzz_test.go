package scan

import (
	"os"
	"path/filepath"
	"testing"
)

var knownFormats = map[string]bool{
	FormatPickle: true, FormatZip: true, FormatGzip: true, FormatBzip2: true, FormatXz: true,
	FormatZstd: true, FormatLz4: true, Format7z: true, FormatTar: true, FormatNumpy: true,
	FormatSafetensors: true, FormatGGUF: true, FormatHDF5: true, FormatZlib: true, FormatLzma: true, FormatUnknown: true,
	FormatONNX: true, FormatTF: true, FormatJSON: true,
}

// FuzzSniff: Sniff never panics, always names a known format and gives the
// same answer for the same bytes.
func FuzzSniff(f *testing.F) {
	for _, tt := range sniffTable {
		f.Add(tt.head, tt.complete)
		f.Add(tt.head, !tt.complete)
	}
	names, _ := filepath.Glob(filepath.Join("..", "testdata", "pickles", "benign", "*.pkl"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		b = b[:min(len(b), 64<<10)]
		f.Add(b, true)
		f.Add(b[:len(b)/2], false)
	}
	f.Fuzz(func(t *testing.T, head []byte, complete bool) {
		got, _ := Sniff(head, sizeFor(head, complete))
		if !knownFormats[got] {
			t.Fatalf("Sniff = %q, not a known format", got)
		}
		cp := append([]byte(nil), head...)
		if again, _ := Sniff(cp, sizeFor(cp, complete)); again != got {
			t.Fatalf("Sniff not deterministic: %q then %q", got, again)
		}
	})
}
