package hdf5

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// undef is HDF5's "undefined address" (all bits set), whatever the size of
// offsets: cursor.addr widens a narrow all-ones value to it.
const undef = ^uint64(0)

// FormatError says the file is not valid HDF5 at Offset (-1: no single offset).
type FormatError struct {
	Offset int64
	Msg    string
	// Truncated is set when the bytes should be there by the superblock's
	// end-of-file address but the file is shorter.
	Truncated bool
}

func (e *FormatError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("hdf5: %s (offset %#x)", e.Msg, e.Offset)
	}
	return "hdf5: " + e.Msg
}

// LimitError says a cap of Limits stopped the analysis.
type LimitError struct {
	Offset int64
	Msg    string
	// Fatal caps (total bytes read, objects) stop the whole walk; the others
	// only skip the structure that exceeded them.
	Fatal bool
}

func (e *LimitError) Error() string { return "hdf5: limit: " + e.Msg }

func formatErr(off int64, format string, args ...any) *FormatError {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func isFatal(err error) bool {
	var le *LimitError
	return errors.As(err, &le) && le.Fatal
}

// reader reads metadata through an io.ReaderAt, checks every request
// against the file size and charges it to the metadata budget, so the
// total work of a walk is bounded whatever the file declares.
type reader struct {
	ra    io.ReaderAt
	size  int64
	base  uint64 // absolute offset addresses are relative to
	eof   uint64 // absolute end of file the superblock declares (undef: unknown)
	lim   Limits
	spent int64
	osz   int // size of offsets
	lsz   int // size of lengths
}

// readCost is what one read costs the budget beyond its bytes, so that a
// file cannot make the reader do millions of tiny reads for free.
const readCost = 64

// abs turns a file address into an absolute offset, or false if it is
// undefined or overflows.
func (r *reader) abs(addr uint64) (uint64, bool) {
	if addr == undef {
		return 0, false
	}
	s, c := bits.Add64(r.base, addr, 0)
	if c != 0 || s > math.MaxInt64 {
		return 0, false
	}
	return s, true
}

// off is abs for messages: -1 when the address is unusable.
func (r *reader) off(addr uint64) int64 {
	a, ok := r.abs(addr)
	if !ok {
		return -1
	}
	return int64(a)
}

// check reports whether n bytes at addr lie inside the file.
func (r *reader) check(addr, n uint64, what string) (int64, error) {
	if addr == undef {
		return -1, formatErr(-1, "%s has the undefined address", what)
	}
	a, ok := r.abs(addr)
	if !ok {
		return -1, formatErr(-1, "%s address %#x overflows", what, addr)
	}
	end, c := bits.Add64(a, n, 0)
	if c != 0 || end > uint64(r.size) {
		e := formatErr(int64(a), "%s (%d bytes at %#x) runs past the end of the file (%d bytes)", what, n, a, r.size)
		e.Truncated = c == 0 && r.eof != undef && end <= r.eof && uint64(r.size) < r.eof
		return -1, e
	}
	return int64(a), nil
}

// charge counts work that is not a read (building object paths) against
// the same budget, so it too stays bounded.
func (r *reader) charge(n int, what string) error {
	r.spent += int64(n)
	if r.spent > r.lim.MaxMetadataBytes {
		return &LimitError{Offset: -1, Fatal: true,
			Msg: fmt.Sprintf("%s would take the work past %d bytes (MaxMetadataBytes)", what, r.lim.MaxMetadataBytes)}
	}
	return nil
}

// read returns n bytes at file address addr. Callers cap n before asking;
// the reader still refuses anything over the total budget.
func (r *reader) read(addr, n uint64, what string) ([]byte, error) {
	a, err := r.check(addr, n, what)
	if err != nil {
		return nil, err
	}
	if n > uint64(r.lim.MaxMetadataBytes) || r.spent+int64(n)+readCost > r.lim.MaxMetadataBytes {
		return nil, &LimitError{Offset: a, Fatal: true,
			Msg: fmt.Sprintf("reading %s would take the metadata read past %d bytes (MaxMetadataBytes)", what, r.lim.MaxMetadataBytes)}
	}
	r.spent += int64(n) + readCost
	buf := make([]byte, n)
	if err := r.readRaw(a, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

func (r *reader) readRaw(off int64, buf []byte) error {
	n, err := r.ra.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || err == io.EOF || err == io.ErrUnexpectedEOF {
		return &FormatError{Offset: off, Msg: fmt.Sprintf("short read: %d of %d bytes", n, len(buf)), Truncated: true}
	}
	return &FormatError{Offset: off, Msg: "read error: " + err.Error()}
}

// cursor decodes little-endian fields from a buffer read at a known file
// offset. The first short read sets err; later reads return zeros, so a
// decoder checks err once after a group of fields.
type cursor struct {
	b   []byte
	p   int
	off int64 // file offset of b[0], -1 if unknown
	osz int
	lsz int
	err error
}

func (r *reader) cursor(b []byte, off int64) *cursor {
	return &cursor{b: b, off: off, osz: r.osz, lsz: r.lsz}
}

func (c *cursor) sub(b []byte, off int64) *cursor {
	return &cursor{b: b, off: off, osz: c.osz, lsz: c.lsz}
}

// pos is the file offset of the next byte (-1 if unknown).
func (c *cursor) pos() int64 {
	if c.off < 0 {
		return -1
	}
	return c.off + int64(c.p)
}

func (c *cursor) rest() int { return len(c.b) - c.p }

func (c *cursor) fail(format string, args ...any) {
	if c.err == nil {
		c.err = formatErr(c.pos(), format, args...)
	}
}

func (c *cursor) need(n int) bool {
	if c.err != nil {
		return false
	}
	if n < 0 || n > len(c.b)-c.p {
		c.fail("structure ends early: %d more bytes needed, %d left", n, len(c.b)-c.p)
		return false
	}
	return true
}

func (c *cursor) u8() uint8 {
	if !c.need(1) {
		return 0
	}
	v := c.b[c.p]
	c.p++
	return v
}

func (c *cursor) u16() uint16 {
	if !c.need(2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(c.b[c.p:])
	c.p += 2
	return v
}

func (c *cursor) u32() uint32 {
	if !c.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(c.b[c.p:])
	c.p += 4
	return v
}

// uvar reads an n-byte little-endian unsigned integer (0 <= n <= 8).
func (c *cursor) uvar(n int) uint64 {
	if n > 8 {
		c.fail("field of %d bytes is wider than 64 bits", n)
		return 0
	}
	if !c.need(n) {
		return 0
	}
	v := leUint(c.b[c.p : c.p+n])
	c.p += n
	return v
}

func leUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// addr reads a file address; an all-ones value is returned as undef.
func (c *cursor) addr() uint64 {
	v := c.uvar(c.osz)
	if c.err == nil && c.osz < 8 && v == 1<<(8*uint(c.osz))-1 {
		return undef
	}
	return v
}

// length reads a "size of lengths" field.
func (c *cursor) length() uint64 { return c.uvar(c.lsz) }

func (c *cursor) bytes(n int) []byte {
	if !c.need(n) {
		return nil
	}
	v := c.b[c.p : c.p+n]
	c.p += n
	return v
}

func (c *cursor) skip(n int) {
	if c.need(n) {
		c.p += n
	}
}

// align8 rounds n up to a multiple of 8 (n is small: a 16-bit size).
func align8(n int) int { return (n + 7) &^ 7 }

// limitEncSize is the number of bytes HDF5 uses to encode values up to v:
// floor(log2(v))/8 + 1 (H5VM_limit_enc_size).
func limitEncSize(v uint64) int {
	if v == 0 {
		return 1
	}
	return (63-bits.LeadingZeros64(v))/8 + 1
}

// mulOK multiplies without overflow.
func mulOK(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0
}

// addU adds without overflow.
func addU(a, b uint64) (uint64, bool) {
	s, c := bits.Add64(a, b, 0)
	return s, c == 0
}
