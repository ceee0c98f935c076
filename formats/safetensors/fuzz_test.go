package safetensors

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// FuzzSafetensors: any input is scanned without panicking, within its caps,
// deterministically, and every finding is well-formed and documented.
func FuzzSafetensors(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.safetensors"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) <= 1<<20 {
			f.Add(b)
		}
	}
	z16 := make([]byte, 16)
	for _, b := range [][]byte{
		nil,
		{0, 0, 0, 0, 0, 0, 0, 0},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		file(`{}`, nil),
		file(`{"w":`+w4+`}`, z16),
		file(`{"__metadata__":{"a":"b"},"w":`+w4+`,"v":{"dtype":"F4","shape":[2],"data_offsets":[16,17]}}`, make([]byte, 17)),
		file(`{"w\ud800\udc00":`+w4+`}`, z16),
		file(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"x":[[[{"a":null}]]]}}`, z16),
		file(`{"a":`+w4+`,"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}`, make([]byte, 24)),
		file("{\"\xe2\x82\":1}", nil),
	} {
		f.Add(b)
	}
	docs := map[string]bool{}
	for _, d := range Rules {
		docs[d.ID] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxTensors: 64, MaxMetadata: 4, MaxValue: 16}
		r := Scan(bytes.NewReader(data), int64(len(data)), lim)
		if !r.Complete && len(r.Findings) == 0 {
			t.Fatal("incomplete without a finding")
		}
		for _, fd := range r.Findings {
			if fd.Rule == "" || !docs[fd.Rule] || fd.Level < finding.Info || fd.Level > finding.Critical || fd.Message == "" || fd.Offset < -1 {
				t.Fatalf("bad finding %+v", fd)
			}
		}
		if len(r.Metadata) > 4 || r.Parameters < 0 || r.Tensors < 0 || r.HeaderSize < 0 {
			t.Fatalf("facts out of range: %+v", r)
		}
		for _, v := range r.Metadata {
			if len(v) > 16+len("…") {
				t.Fatalf("metadata value of %d bytes kept", len(v))
			}
		}
		if r2 := Scan(bytes.NewReader(data), int64(len(data)), lim); !reflect.DeepEqual(r, r2) {
			t.Fatal("two scans of the same input differ")
		}
	})
}
