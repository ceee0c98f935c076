package hdf5

import (
	"bytes"
	"fmt"
	"math/bits"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// fheap is an open fractal heap ("FRHP"): where dense storage keeps link
// and attribute messages.
type fheap struct {
	addr       uint64
	idLen      int
	filterLen  int
	flags      uint8
	maxMan     uint64
	hugeBT2    uint64
	width      uint64
	start      uint64 // starting block size
	maxDirect  uint64
	maxBits    int // log2 of the maximum heap size
	root       uint64
	curRows    int
	offBytes   int // bytes of an offset in the heap
	lenBytes   int // bytes of a managed object's length in its heap id
	startBits  int
	firstBits  int // log2(start * width)
	directRows int // rows of direct blocks in an indirect block
	hugeDirect bool
	hugeIDSize int
	tinyExt    bool
}

func (f *File) openFractalHeap(addr uint64) (*fheap, error) {
	r := f.r
	l, o := r.lsz, r.osz
	n := uint64(4 + 1 + 2 + 2 + 1 + 4 + l + o + l + o + l + l + l + l + l + l + l + l + 2 + l + l + 2 + 2 + o + 2)
	b, err := r.read(addr, n+4, "fractal heap header")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(b[:4], []byte("FRHP")) {
		return nil, formatErr(r.off(addr), "fractal heap header has no FRHP signature")
	}
	c := r.cursor(b, r.off(addr))
	c.skip(4)
	if v := c.u8(); v != 0 {
		return nil, formatErr(r.off(addr)+4, "fractal heap version %d (only 0 exists)", v)
	}
	h := &fheap{addr: addr}
	h.idLen = int(c.u16())
	h.filterLen = int(c.u16())
	h.flags = c.u8()
	h.maxMan = uint64(c.u32())
	c.length() // next huge object id
	h.hugeBT2 = c.addr()
	c.length() // free space in managed blocks
	c.addr()   // free-space manager
	c.length() // managed space
	c.length() // allocated managed space
	c.length() // direct block allocation iterator offset
	c.length() // managed objects
	c.length() // size of huge objects
	c.length() // huge objects
	c.length() // size of tiny objects
	c.length() // tiny objects
	h.width = uint64(c.u16())
	h.start = c.length()
	h.maxDirect = c.length()
	h.maxBits = int(c.u16())
	c.u16() // starting rows of the root indirect block
	h.root = c.addr()
	h.curRows = int(c.u16())
	if c.err != nil {
		return nil, c.err
	}
	if h.filterLen > 0 {
		// The checksum then follows the filter information; HDF5 never
		// filters the heaps of links and attributes, and neither do we.
		return nil, unsupported(r.off(addr), "fractal heap with I/O filters (compressed dense storage)")
	}
	if !checksumOK(b) {
		f.issue(RuleChecksum, finding.Medium, r.off(addr), "", "fractal heap header checksum does not match: it was altered after HDF5 wrote it", "")
	}
	pow2 := func(v uint64) bool { return v != 0 && v&(v-1) == 0 }
	switch {
	case !pow2(h.width) || h.width > 1<<16:
		return nil, formatErr(r.off(addr), "fractal heap table width %d is not a power of two up to 65536", h.width)
	case !pow2(h.start) || !pow2(h.maxDirect) || h.maxDirect < h.start:
		return nil, formatErr(r.off(addr), "fractal heap block sizes %d..%d are not powers of two in order", h.start, h.maxDirect)
	case h.maxDirect > uint64(r.lim.MaxHeapBytes):
		return nil, &LimitError{Offset: r.off(addr), Msg: fmt.Sprintf("fractal heap direct blocks of %d bytes are larger than MaxHeapBytes", h.maxDirect)}
	case h.maxBits == 0 || h.maxBits > 64:
		return nil, formatErr(r.off(addr), "fractal heap maximum size 2^%d", h.maxBits)
	case h.idLen < 2 || h.idLen > 4096:
		return nil, formatErr(r.off(addr)+5, "fractal heap id length %d", h.idLen)
	}
	h.startBits = bits.TrailingZeros64(h.start)
	h.firstBits = h.startBits + bits.TrailingZeros64(h.width)
	if h.firstBits >= h.maxBits+1 || h.firstBits > 62 {
		return nil, formatErr(r.off(addr), "fractal heap first row (2^%d bytes) exceeds its maximum size 2^%d", h.firstBits, h.maxBits)
	}
	maxRootRows := h.maxBits - h.firstBits + 1
	if h.curRows > maxRootRows {
		return nil, formatErr(r.off(addr), "fractal heap root indirect block has %d rows; at most %d fit", h.curRows, maxRootRows)
	}
	h.directRows = bits.TrailingZeros64(h.maxDirect) - h.startBits + 2
	h.offBytes = (h.maxBits + 7) / 8
	dirOff := (bits.TrailingZeros64(h.maxDirect) + 7) / 8
	h.lenBytes = min(dirOff, limitEncSize(h.maxMan))
	// Huge object ids hold the address and length themselves when they fit
	// (H5HF__huge_init), else a key into the huge-object v2 B-tree.
	if o+l <= h.idLen-1 {
		h.hugeDirect = true
	} else {
		h.hugeIDSize = min(h.idLen-1, 8)
	}
	h.tinyExt = h.idLen-1 > 17
	return h, nil
}

// object returns the object a heap id names: up to max bytes of it and
// whether it was cut there.
func (f *File) heapObject(h *fheap, id []byte, max uint64) ([]byte, bool, error) {
	r := f.r
	if len(id) != h.idLen {
		return nil, false, formatErr(-1, "heap id of %d bytes where the heap uses %d", len(id), h.idLen)
	}
	if id[0]>>6 != 0 {
		return nil, false, formatErr(-1, "heap id version %d (only 0 exists)", id[0]>>6)
	}
	switch (id[0] >> 4) & 3 {
	case 0: // managed
		c := &cursor{b: id[1:], off: -1}
		off := c.uvar(h.offBytes)
		n := c.uvar(h.lenBytes)
		if c.err != nil {
			return nil, false, c.err
		}
		return f.managedObject(h, off, n, max)
	case 1: // huge
		var a, n uint64
		if h.hugeDirect {
			c := &cursor{b: id[1:], off: -1, osz: r.osz, lsz: r.lsz}
			a, n = c.addr(), c.length()
			if c.err != nil {
				return nil, false, c.err
			}
		} else {
			key := leUint(id[1 : 1+h.hugeIDSize])
			var err error
			if a, n, err = f.hugeLookup(h, key); err != nil {
				return nil, false, err
			}
		}
		cut := n > max
		b, err := r.read(a, min(n, max), "huge heap object")
		return b, cut, err
	case 2: // tiny: the object is inside the id
		n := int(id[0]&0x0f) + 1
		p := 1
		if h.tinyExt {
			if len(id) < 2 {
				return nil, false, formatErr(-1, "tiny heap id too short")
			}
			n = (int(id[0]&0x0f)<<8 | int(id[1])) + 1
			p = 2
		}
		if p+n > len(id) {
			return nil, false, formatErr(-1, "tiny heap object of %d bytes does not fit its %d-byte id", n, len(id))
		}
		return id[p : p+n], false, nil
	}
	return nil, false, formatErr(-1, "heap id of unknown type %d", (id[0]>>4)&3)
}

// rowSize is the size of a block in row r of a doubling table, rowOff the
// heap offset where row r starts.
func (h *fheap) rowSize(row int) uint64 {
	if row == 0 {
		return h.start
	}
	return h.start << uint(row-1)
}

func (h *fheap) rowOff(row int) uint64 {
	if row == 0 {
		return 0
	}
	return (h.start * h.width) << uint(row-1)
}

// managedObject finds the direct block holding heap offset off by walking
// the doubling tables from the root, and returns the object's bytes.
func (f *File) managedObject(h *fheap, off, n, max uint64) ([]byte, bool, error) {
	r := f.r
	if n == 0 || n > h.maxMan || n > h.maxDirect {
		return nil, false, formatErr(r.off(h.addr), "managed heap object of %d bytes (the heap allows %d)", n, h.maxMan)
	}
	if h.maxBits < 64 && off>>uint(h.maxBits) != 0 {
		return nil, false, formatErr(r.off(h.addr), "heap offset %#x is beyond the heap's maximum size", off)
	}
	if h.root == undef {
		return nil, false, formatErr(r.off(h.addr), "heap id names an object in an empty heap")
	}
	blockAddr, blockOff, blockSize := h.root, uint64(0), h.start
	if h.curRows > 0 {
		iaddr, ioff, rows := h.root, uint64(0), h.curRows
		for depth := 0; ; depth++ {
			if depth > 64 {
				return nil, false, formatErr(r.off(iaddr), "fractal heap indirect blocks nest too deep")
			}
			rel := off - ioff
			row := 0
			if rel >= h.start*h.width {
				row = (63 - bits.LeadingZeros64(rel)) - h.firstBits + 1
			}
			if row >= rows {
				return nil, false, formatErr(r.off(iaddr), "heap offset %#x lies outside its indirect block (%d rows)", off, rows)
			}
			col := (rel - h.rowOff(row)) / h.rowSize(row)
			if col >= h.width {
				return nil, false, formatErr(r.off(iaddr), "heap offset %#x lies outside its indirect block (%d rows)", off, rows)
			}
			entryAddr, err := f.iblockEntry(h, iaddr, ioff, rows, row, col)
			if err != nil {
				return nil, false, err
			}
			childOff := ioff + h.rowOff(row) + col*h.rowSize(row)
			if row < h.directRows {
				blockAddr, blockOff, blockSize = entryAddr, childOff, h.rowSize(row)
				break
			}
			// A child indirect block covers one block of this row.
			iaddr, ioff = entryAddr, childOff
			rows = bits.TrailingZeros64(h.rowSize(row)) - h.firstBits + 1
		}
	}
	if off < blockOff || off-blockOff+n > blockSize {
		return nil, false, formatErr(r.off(blockAddr), "heap object at %#x (%d bytes) does not fit its direct block", off, n)
	}
	blk, err := f.directBlock(h, blockAddr, blockOff, blockSize)
	if err != nil {
		return nil, false, err
	}
	p := off - blockOff
	hdr := uint64(5 + r.osz + h.offBytes)
	if h.flags&0x02 != 0 {
		hdr += 4
	}
	if p < hdr {
		return nil, false, formatErr(r.off(blockAddr), "heap object at %#x overlaps its direct block's header", off)
	}
	return blk[p : p+min(n, max)], n > max, nil
}

// iblockEntry reads (and on first use verifies) an indirect block and
// returns the child address at (row, col).
func (f *File) iblockEntry(h *fheap, addr, blockOff uint64, rows, row int, col uint64) (uint64, error) {
	r := f.r
	if addr == undef {
		return 0, formatErr(r.off(h.addr), "heap offset lies in a block that was never allocated")
	}
	nd := uint64(min(rows, h.directRows)) * h.width
	ni := uint64(0)
	if rows > h.directRows {
		ni = uint64(rows-h.directRows) * h.width
	}
	pre := uint64(5 + r.osz + h.offBytes)
	size := pre + (nd+ni)*uint64(r.osz) + 4
	b, err := f.cachedBlock(addr, size, "fractal heap indirect block", "FHIB", func(b []byte) bool { return checksumOK(b) })
	if err != nil {
		return 0, err
	}
	c := r.cursor(b, r.off(addr))
	c.skip(4)
	if v := c.u8(); v != 0 {
		return 0, formatErr(r.off(addr)+4, "fractal heap indirect block version %d", v)
	}
	if a := c.addr(); a != h.addr {
		return 0, formatErr(r.off(addr)+5, "fractal heap indirect block belongs to another heap (%#x)", a)
	}
	if o := c.uvar(h.offBytes); o != blockOff {
		return 0, formatErr(r.off(addr), "fractal heap indirect block says it starts at heap offset %#x, its parent says %#x", o, blockOff)
	}
	idx := uint64(row)*h.width + col
	c.p = int(pre + idx*uint64(r.osz))
	a := c.addr()
	if c.err != nil {
		return 0, c.err
	}
	return a, nil
}

func (f *File) directBlock(h *fheap, addr, blockOff, size uint64) ([]byte, error) {
	r := f.r
	if addr == undef {
		return nil, formatErr(r.off(h.addr), "heap offset lies in a direct block that was never allocated")
	}
	checked := h.flags&0x02 != 0
	b, err := f.cachedBlock(addr, size, "fractal heap direct block", "FHDB", func(b []byte) bool {
		if !checked {
			return true
		}
		// The checksum field sits after the header and is zero while
		// the block is checksummed.
		p := 5 + r.osz + h.offBytes
		if len(b) < p+4 {
			return false
		}
		want := uint32(b[p]) | uint32(b[p+1])<<8 | uint32(b[p+2])<<16 | uint32(b[p+3])<<24
		tmp := append([]byte(nil), b...)
		copy(tmp[p:p+4], []byte{0, 0, 0, 0})
		return lookup3(tmp) == want
	})
	if err != nil {
		return nil, err
	}
	c := r.cursor(b, r.off(addr))
	c.skip(4)
	if v := c.u8(); v != 0 {
		return nil, formatErr(r.off(addr)+4, "fractal heap direct block version %d", v)
	}
	if a := c.addr(); a != h.addr {
		return nil, formatErr(r.off(addr)+5, "fractal heap direct block belongs to another heap (%#x)", a)
	}
	if o := c.uvar(h.offBytes); o != blockOff || c.err != nil {
		return nil, formatErr(r.off(addr), "fractal heap direct block says it starts at heap offset %#x, its parent says %#x", o, blockOff)
	}
	return b, nil
}

const maxBlockCache = 32 << 20

// cachedBlock reads a heap block once, checks its signature and checksum,
// and keeps it while the cache has room.
func (f *File) cachedBlock(addr, size uint64, what, sig string, verify func([]byte) bool) ([]byte, error) {
	if b, ok := f.blocks[addr]; ok && uint64(len(b)) == size {
		return b, nil
	}
	r := f.r
	if _, err := r.check(addr, size, what); err != nil {
		return nil, err
	}
	if size > uint64(r.lim.MaxHeapBytes) {
		return nil, &LimitError{Offset: r.off(addr), Msg: fmt.Sprintf("%s of %d bytes is larger than MaxHeapBytes", what, size)}
	}
	b, err := r.read(addr, size, what)
	if err != nil {
		return nil, err
	}
	if len(b) < 4 || string(b[:4]) != sig {
		return nil, formatErr(r.off(addr), "%s has no %s signature", what, sig)
	}
	if !verify(b) {
		f.issue(RuleChecksum, finding.Medium, r.off(addr), "", what+" checksum does not match: it was altered after HDF5 wrote it", "")
	}
	if f.blocks == nil || f.cached+int64(size) > maxBlockCache {
		f.blocks, f.cached = map[uint64][]byte{}, 0
	}
	f.blocks[addr] = b
	f.cached += int64(size)
	return b, nil
}

// hugeLookup finds a huge object's address and length by its id in the
// heap's v2 B-tree (record type 1: address, length, id).
func (f *File) hugeLookup(h *fheap, key uint64) (uint64, uint64, error) {
	r := f.r
	if h.hugeBT2 == undef {
		return 0, 0, formatErr(r.off(h.addr), "huge heap object %d but the heap has no huge-object B-tree", key)
	}
	t, err := f.openBT2(h.hugeBT2, 1)
	if err != nil {
		return 0, 0, err
	}
	var a, n uint64
	found := false
	errFound := fmt.Errorf("found")
	err = f.eachBT2(t, func(rec []byte, off int64) error {
		c := r.cursor(rec, off)
		ra, rn, id := c.addr(), c.length(), c.length()
		if c.err != nil {
			return c.err
		}
		if id == key {
			a, n, found = ra, rn, true
			return errFound
		}
		return nil
	})
	if err != nil && err != errFound {
		return 0, 0, err
	}
	if !found {
		return 0, 0, formatErr(r.off(h.addr), "huge heap object %d is not in the heap's B-tree", key)
	}
	return a, n, nil
}
