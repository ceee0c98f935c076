// Package benchdata writes the inputs of hallmark's benchmarks: large,
// benign pickles laid out byte for byte as CPython's C pickler
// (pickle.dumps) writes them, PyTorch zip checkpoints as torch.save writes
// them (torch.go) and zlib-compressed joblib files (joblib.go). Output is
// deterministic and streamed, so a 4 GiB file costs little memory to
// generate.
package benchdata

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// Pickle opcodes used here.
const (
	opProto          = 0x80
	opFrame          = 0x95
	opEmptyList      = ']'
	opMark           = '('
	opBinfloat       = 'G'
	opAppend         = 'a'
	opAppends        = 'e'
	opBinput         = 'q'
	opMemoize        = 0x94
	opShortBinbytes  = 'C'
	opBinbytes       = 'B'
	opBinbytes8      = 0x8e
	opStop           = '.'
	frameSizeTarget  = 64 << 10 // CPython's _FRAME_SIZE_TARGET
	frameSizeMin     = 4        // CPython's FRAME_SIZE_MIN: smaller frames are not written
	frameHeaderBytes = 9
	batchSize        = 1000 // CPython's BATCHSIZE for APPENDS/SETITEMS
)

// framer mirrors the C pickler's framing (Modules/_pickle.c): from
// protocol 4 on, opcodes are collected into a frame that is committed, with
// its FRAME header, at the first opcode boundary after it reaches 64 KiB.
// The frame being built is the only thing held in memory.
type framer struct {
	w       *bufio.Writer
	framing bool
	open    bool   // a frame has been started (CPython: frame_start != -1)
	frame   []byte // payload of the open frame
	err     error
}

func newFramer(w io.Writer) *framer {
	return &framer{w: bufio.NewWriterSize(w, 1<<20), frame: make([]byte, 0, frameSizeTarget+1024)}
}

// write appends opcode bytes, opening a frame first if framing is on.
func (f *framer) write(p ...byte) {
	if f.framing {
		f.open = true
		f.frame = append(f.frame, p...)
		return
	}
	f.raw(p)
}

func (f *framer) raw(p []byte) {
	if f.err == nil {
		_, f.err = f.w.Write(p)
	}
}

// boundary is _Pickler_OpcodeBoundary, which the C pickler calls at the
// start of saving every object.
func (f *framer) boundary() {
	if f.open && len(f.frame) >= frameSizeTarget {
		f.commit()
	}
}

// commit is _Pickler_CommitFrame: a frame of fewer than 4 bytes is written
// without its header.
func (f *framer) commit() {
	if !f.open {
		return
	}
	if len(f.frame) >= frameSizeMin {
		var h [frameHeaderBytes]byte
		h[0] = opFrame
		binary.LittleEndian.PutUint64(h[1:], uint64(len(f.frame)))
		f.raw(h[:])
	}
	f.raw(f.frame)
	f.frame = f.frame[:0]
	f.open = false
}

// bigData is _Pickler_write_bytes for a payload of n bytes that fill
// writes: one of at least 64 KiB ends the frame and is written outside any
// frame.
func (f *framer) bigData(header []byte, n int64, fill func(io.Writer) error) {
	if !f.framing || n < frameSizeTarget {
		f.write(header...)
		if f.framing {
			fw := &sliceWriter{f}
			if err := fill(fw); err != nil && f.err == nil {
				f.err = err
			}
		} else if f.err == nil {
			f.err = fill(f.w)
		}
		return
	}
	f.commit()
	f.raw(header)
	if f.err == nil {
		f.err = fill(f.w)
	}
}

type sliceWriter struct{ f *framer }

func (s *sliceWriter) Write(p []byte) (int, error) {
	s.f.write(p...)
	return len(p), nil
}

// memoize writes what the pickler writes after memoizing the object just
// saved as memo entry 0 (the only one these pickles have).
func (f *framer) memoize(protocol int) {
	if protocol >= 4 {
		f.write(opMemoize)
	} else {
		f.write(opBinput, 0)
	}
}

// start writes PROTO and turns framing on from protocol 4.
func (f *framer) start(protocol int) {
	f.raw([]byte{opProto, byte(protocol)})
	f.framing = protocol >= 4
}

// end writes STOP, commits the last frame and flushes.
func (f *framer) end() error {
	f.write(opStop)
	f.commit()
	if f.err != nil {
		return f.err
	}
	return f.w.Flush()
}

func checkProtocol(protocol int) error {
	if protocol < 2 || protocol > 5 {
		return fmt.Errorf("benchdata: protocol %d not supported (2 to 5)", protocol)
	}
	return nil
}

// FloatList writes pickle.dumps([float(i) for i in range(n)], protocol=protocol)
// to w: PROTO, EMPTY_LIST, a memo put, then batches of MARK + up to 1000
// BINFLOAT + APPENDS, STOP; from protocol 4 on, in FRAMEs of about 64 KiB.
// About 9.002 bytes per float: n = 11_000_000 gives 99,020,xxx bytes.
func FloatList(w io.Writer, n int, protocol int) error {
	if err := checkProtocol(protocol); err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("benchdata: negative length %d", n)
	}
	f := newFramer(w)
	f.start(protocol)
	f.boundary() // save(list)
	f.write(opEmptyList)
	f.memoize(protocol)
	var fl [9]byte
	fl[0] = opBinfloat
	item := func(i int) {
		f.boundary() // save(item)
		binary.BigEndian.PutUint64(fl[1:], math.Float64bits(float64(i)))
		f.write(fl[:]...)
	}
	switch {
	case n == 1:
		// batch_list_exact: a one-element list is saved with APPEND.
		item(0)
		f.write(opAppend)
	case n > 1:
		for i := 0; i < n; {
			f.write(opMark)
			for k := 0; k < batchSize && i < n; k++ {
				item(i)
				i++
			}
			f.write(opAppends)
		}
	}
	return f.end()
}

// BigBytes writes pickle.dumps(b'x'*n, protocol=protocol) to w. For
// protocol 4 and n ≥ 64 KiB that is PROTO 4, BINBYTES (BINBYTES8 above
// 4 GiB) with the n bytes, MEMOIZE, STOP: CPython writes an operand this
// large outside any frame, and the frame that would hold MEMOIZE and STOP is
// under the 4-byte minimum, so the file has no FRAME opcode at all. Smaller
// n are framed. Requires protocol ≥ 3 (protocol 2 has no bytes opcodes).
func BigBytes(w io.Writer, n int64, protocol int) error {
	if err := checkProtocol(protocol); err != nil {
		return err
	}
	if protocol < 3 {
		return fmt.Errorf("benchdata: bytes need protocol 3 or later")
	}
	if n < 0 {
		return fmt.Errorf("benchdata: negative length %d", n)
	}
	f := newFramer(w)
	f.start(protocol)
	f.boundary() // save(bytes)
	var header []byte
	switch {
	case n < 256:
		header = []byte{opShortBinbytes, byte(n)}
	case n <= math.MaxUint32:
		header = binary.LittleEndian.AppendUint32([]byte{opBinbytes}, uint32(n))
	default:
		if protocol < 4 {
			return fmt.Errorf("benchdata: %d bytes need protocol 4 or later", n)
		}
		header = binary.LittleEndian.AppendUint64([]byte{opBinbytes8}, uint64(n))
	}
	f.bigData(header, n, func(w io.Writer) error { return fillX(w, n) })
	f.memoize(protocol)
	return f.end()
}

func fillX(w io.Writer, n int64) error {
	chunk := make([]byte, min(n, 1<<20))
	for i := range chunk {
		chunk[i] = 'x'
	}
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// WriteFloatList writes FloatList(n, protocol) to the file at path,
// replacing it, and returns the file's size.
func WriteFloatList(path string, n int, protocol int) (int64, error) {
	return writeFile(path, func(w io.Writer) error { return FloatList(w, n, protocol) })
}

// WriteBigBytes writes BigBytes(n, protocol) to the file at path, replacing
// it, and returns the file's size.
func WriteBigBytes(path string, n int64, protocol int) (int64, error) {
	return writeFile(path, func(w io.Writer) error { return BigBytes(w, n, protocol) })
}

// writeFile writes to a temporary file next to path and renames it into
// place, so an interrupted run never leaves a truncated input behind.
func writeFile(path string, gen func(io.Writer) error) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".benchdata-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	if err := gen(tmp); err != nil {
		tmp.Close()
		return 0, err
	}
	st, err := tmp.Stat()
	if err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, err
	}
	return st.Size(), nil
}
