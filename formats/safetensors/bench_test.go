package safetensors

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkSafetensorsHeader scans a file whose header lists 10,000 tensors
// (about 1 MB of JSON), the size of a large sharded checkpoint's header.
// Throughput is over the header bytes; tensor data is never read.
func BenchmarkSafetensorsHeader(b *testing.B) {
	const n = 10_000
	var sb strings.Builder
	sb.WriteString(`{"__metadata__":{"format":"pt"}`)
	off := 0
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, `,"model.layers.%d.mlp.experts.%d.down_proj.weight":{"dtype":"BF16","shape":[64,32],"data_offsets":[%d,%d]}`, i/64, i%64, off, off+4096)
		off += 4096
	}
	sb.WriteString("}")
	hdr := file(sb.String(), nil)
	size := int64(len(hdr) + off)
	ra := &zeroTail{head: hdr}
	b.SetBytes(int64(len(hdr)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := Scan(ra, size, Limits{})
		if len(r.Findings) != 0 || r.Tensors != n {
			b.Fatalf("unexpected result: %d tensors %v", r.Tensors, r.Findings)
		}
	}
}

// zeroTail is a ReaderAt over head followed by zeros (never read by Scan).
type zeroTail struct{ head []byte }

func (z *zeroTail) ReadAt(p []byte, off int64) (int, error) {
	if off < int64(len(z.head)) {
		n := copy(p, z.head[off:])
		clear(p[n:])
		return len(p), nil
	}
	clear(p)
	return len(p), nil
}
