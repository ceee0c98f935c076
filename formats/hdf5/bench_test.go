package hdf5

import (
	"bytes"
	"testing"
)

// BenchmarkHDF5Walk walks the Keras 2 model fixture: superblock, every
// object header, attribute (model_config from the global heap) and group.
func BenchmarkHDF5Walk(b *testing.B) {
	data := fixture(b, "benign/keras2_model.h5")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := Open(bytes.NewReader(data), int64(len(data)), Limits{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		if err := f.Walk(func(o *Object) error { n++; return nil }); err != nil || n != 28 {
			b.Fatalf("walk: %v, %d objects", err, n)
		}
	}
}
