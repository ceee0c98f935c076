package benchdata

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// joblibAlign is NumpyArrayWrapper.ARRAY_ALIGNMENT_BYTES.
const joblibAlign = 16

// weylMul is the 64-bit golden-ratio constant of the Weyl sequence
// WeylFloat64 draws from.
const weylMul = 0x9E3779B97F4A7C15

// WeylFloat64 is element i of the float64 array the joblib inputs hold:
// ((i × 0x9E3779B97F4A7C15) mod 2^64 >> 11) × 2^-53, a value in [0, 1)
// that numpy computes exactly as
//
//	i = np.arange(n, dtype=np.uint64)
//	a = ((i * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(11)).astype(np.float64) * 2.0**-53
//
// Its bytes look random to deflate: zlib level 3 shrinks them by only
// about 6%, like trained weights and unlike np.arange or zeros, which
// would trip the engine's 1000:1 bomb check.
func WeylFloat64(i uint64) float64 {
	return float64((i*weylMul)>>11) * 0x1p-53
}

// JoblibPickle writes the uncompressed stream of
//
//	joblib.dump({'a': a}, f, compress=('zlib', 3))
//
// for the n-element float64 array a of WeylFloat64: what joblib hands its
// zlib compressor. That is a protocol-4 pickle as Python's pure-Python
// pickler (joblib's NumpyPickler) frames it: one FRAME with the dict and the
// NumpyArrayWrapper (subclass, shape, order 'C', dtype f8, allow_mmap,
// numpy_array_alignment_bytes 16) up to its BUILD, then, outside any frame,
// a padding length byte p, p bytes of 0xff that align the array to 16
// bytes, the n×8 raw bytes of the array, and SETITEM, STOP.
func JoblibPickle(w io.Writer, n int64) error {
	if n < 0 || n > math.MaxInt64/8 {
		return fmt.Errorf("benchdata: bad array length %d", n)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var f []byte // the frame
	str := func(s string) {
		f = append(f, 0x8c, byte(len(s)))
		f = append(f, s...)
		f = append(f, opMemoize)
	}
	f = append(f, '}', opMemoize)
	str("a")
	str("joblib.numpy_pickle")
	str("NumpyArrayWrapper")
	f = append(f, 0x93, opMemoize, ')', 0x81, opMemoize, '}', opMemoize, opMark)
	str("subclass")
	str("numpy")
	str("ndarray")
	f = append(f, 0x93, opMemoize)
	str("shape")
	f = pyInt(f, n)
	f = append(f, 0x85, opMemoize)
	str("order")
	str("C")
	str("dtype")
	f = append(f, 'h', 8, 'h', 15, 0x93, opMemoize) // numpy.dtype
	str("f8")
	f = append(f, 0x89, 0x88, 0x87, opMemoize, 'R', opMemoize) // dtype('f8', False, True)
	f = append(f, opMark, 'K', 3)
	str("<")
	f = append(f, 'N', 'N', 'N', 'J', 0xff, 0xff, 0xff, 0xff, 'J', 0xff, 0xff, 0xff, 0xff, 'K', 0, 't', opMemoize, 'b')
	str("allow_mmap")
	f = append(f, 0x88)
	str("numpy_array_alignment_bytes")
	f = append(f, 'K', joblibAlign, 'u', 'b')

	hdr := []byte{opProto, 4, opFrame}
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(f)))
	bw.Write(hdr)
	bw.Write(f)
	// write_array: the padding makes the array start at a multiple of 16
	// in the uncompressed stream (1 to 16 bytes of 0xff, never 0).
	pos := int64(len(hdr) + len(f))
	pad := joblibAlign - (pos+1)%joblibAlign
	bw.WriteByte(byte(pad))
	for range pad {
		bw.WriteByte(0xff)
	}
	var buf [8 << 10]byte
	for i := int64(0); i < n; {
		k := min(n-i, int64(len(buf)/8))
		for j := int64(0); j < k; j++ {
			binary.LittleEndian.PutUint64(buf[8*j:], math.Float64bits(WeylFloat64(uint64(i+j))))
		}
		if _, err := bw.Write(buf[:8*k]); err != nil {
			return err
		}
		i += k
	}
	// The rest of the dict, in a frame under the 4-byte minimum: no FRAME.
	bw.Write([]byte{'s', opStop})
	return bw.Flush()
}

// pyInt appends save_long's encoding of a non-negative int below 2^31.
func pyInt(b []byte, v int64) []byte {
	switch {
	case v <= 0xff:
		return append(b, 'K', byte(v))
	case v <= 0xffff:
		return binary.LittleEndian.AppendUint16(append(b, 'M'), uint16(v))
	case v <= math.MaxInt32:
		return binary.LittleEndian.AppendUint32(append(b, 'J'), uint32(v))
	}
	// LONG1, little-endian two's complement, shortest form.
	var le []byte
	for x := v; ; x >>= 8 {
		le = append(le, byte(x))
		if x>>8 == 0 && byte(x)&0x80 == 0 {
			break
		}
	}
	return append(append(b, 0x8a, byte(len(le))), le...)
}

// JoblibZlib writes JoblibPickle(n) compressed as one zlib stream at level 3
// (header 78 5e), which is the file joblib.dump(..., compress=('zlib', 3))
// writes. The compressed bytes are Go's deflate, not zlib's, so they differ
// from Python's; what they decompress to is the same.
//
// The standard library's compressor is used on purpose: like zlib, it
// codes the array's bytes with dynamic Huffman blocks (6% smaller, about
// as slow to inflate as zlib's own output), whereas
// github.com/klauspost/compress at level 3 writes them as stored blocks,
// which inflate at memory speed and would make the benchmark measure a
// file joblib never writes. Compression runs at about 30 MiB/s.
func JoblibZlib(w io.Writer, n int64) error {
	zw, err := zlib.NewWriterLevel(w, 3)
	if err != nil {
		return err
	}
	if err := JoblibPickle(zw, n); err != nil {
		return err
	}
	return zw.Close()
}

// WriteJoblibZlib writes JoblibZlib(n) to the file at path, replacing it,
// and returns the file's size.
func WriteJoblibZlib(path string, n int64) (int64, error) {
	return writeFile(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := JoblibZlib(bw, n); err != nil {
			return err
		}
		return bw.Flush()
	})
}
