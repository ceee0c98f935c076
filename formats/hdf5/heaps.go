package hdf5

import (
	"bytes"
	"fmt"
)

// localHeap is a symbol-table group's name heap ("HEAP").
type localHeap struct {
	data []byte
	off  int64 // file offset of data
}

func (f *File) readLocalHeap(addr uint64) (*localHeap, error) {
	r := f.r
	n := uint64(8 + 2*r.lsz + r.osz)
	b, err := r.read(addr, n, "local heap")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(b[:4], []byte("HEAP")) {
		return nil, formatErr(r.off(addr), "local heap has no HEAP signature")
	}
	c := r.cursor(b, r.off(addr))
	c.skip(4)
	if v := c.u8(); v != 0 {
		return nil, formatErr(r.off(addr)+4, "local heap version %d (only 0 exists)", v)
	}
	c.skip(3)
	size := c.length()
	c.length() // free list head
	data := c.addr()
	if c.err != nil {
		return nil, c.err
	}
	if _, err := r.check(data, size, "local heap data segment"); err != nil {
		return nil, err
	}
	if size > uint64(r.lim.MaxHeapBytes) {
		return nil, &LimitError{Offset: r.off(addr), Msg: fmt.Sprintf("local heap data segment of %d bytes is larger than MaxHeapBytes", size)}
	}
	seg, err := r.read(data, size, "local heap data segment")
	if err != nil {
		return nil, err
	}
	return &localHeap{data: seg, off: r.off(data)}, nil
}

// name returns the NUL-terminated string at offset off of the heap.
func (h *localHeap) name(off uint64) (string, error) {
	if off >= uint64(len(h.data)) {
		return "", formatErr(h.off, "name offset %d lies outside the local heap (%d bytes)", off, len(h.data))
	}
	rest := h.data[off:]
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		return "", formatErr(h.off+int64(off), "name in the local heap has no terminating NUL")
	}
	return string(rest[:i]), nil
}

// gcol is an indexed global heap collection ("GCOL").
type gcol struct {
	addr uint64
	size uint64
	objs map[uint16][2]uint64 // index -> (address of data, size)
}

const maxCachedCollections = 8

// readCollection indexes a global heap collection: it reads every object
// header in it (not the objects), once.
func (f *File) readCollection(addr uint64) (*gcol, error) {
	if g := f.gheaps[addr]; g != nil {
		return g, nil
	}
	r := f.r
	b, err := r.read(addr, uint64(8+r.lsz), "global heap collection")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(b[:4], []byte("GCOL")) {
		return nil, formatErr(r.off(addr), "global heap collection has no GCOL signature")
	}
	if b[4] != 1 {
		return nil, formatErr(r.off(addr)+4, "global heap version %d (only 1 exists)", b[4])
	}
	size := leUint(b[8:])
	hdr := uint64(8 + r.lsz)
	if size < hdr {
		return nil, formatErr(r.off(addr), "global heap collection size %d is smaller than its header", size)
	}
	if _, err := r.check(addr, size, "global heap collection"); err != nil {
		return nil, err
	}
	if size > uint64(r.lim.MaxHeapBytes) {
		return nil, &LimitError{Offset: r.off(addr), Msg: fmt.Sprintf("global heap collection of %d bytes is larger than MaxHeapBytes", size)}
	}
	g := &gcol{addr: addr, size: size, objs: map[uint16][2]uint64{}}
	// Small collections (the usual 4 KiB) are read whole; big ones object
	// header by object header, never their data.
	var whole []byte
	if size <= 1<<20 {
		if whole, err = r.read(addr, size, "global heap collection"); err != nil {
			return nil, err
		}
	}
	ohs := uint64(8 + r.lsz) // object header: index, refcount, reserved, size
	pos := hdr
	for pos+ohs <= size {
		var oh []byte
		if whole != nil {
			oh = whole[pos : pos+ohs]
		} else {
			a, _ := addU(addr, pos)
			if oh, err = r.read(a, ohs, "global heap object"); err != nil {
				return nil, err
			}
		}
		idx := uint16(oh[0]) | uint16(oh[1])<<8
		osize := leUint(oh[8:])
		if idx == 0 {
			break // free space: the rest of the collection
		}
		dataPos := pos + ohs
		padded, ok := addU(osize, 7)
		if !ok || dataPos+osize > size || dataPos+(padded&^7) > size {
			a, _ := addU(addr, pos)
			return nil, formatErr(r.off(a), "global heap object %d declares %d bytes, past the end of its collection (%d bytes)", idx, osize, size)
		}
		if _, dup := g.objs[idx]; !dup {
			a, _ := addU(addr, dataPos)
			g.objs[idx] = [2]uint64{a, osize}
		}
		pos = dataPos + padded&^7
	}
	if f.gheaps == nil || len(f.gheaps) >= maxCachedCollections {
		f.gheaps = map[uint64]*gcol{}
	}
	f.gheaps[addr] = g
	return g, nil
}

// globalObject returns up to max bytes of the first want bytes of global
// heap object (addr, idx); want must not exceed the object.
func (f *File) globalObject(addr uint64, idx uint32, want, max uint64) ([]byte, error) {
	g, err := f.readCollection(addr)
	if err != nil {
		return nil, err
	}
	if idx == 0 || idx > 0xffff {
		return nil, formatErr(f.r.off(addr), "global heap id %d is not a valid object index", idx)
	}
	o, ok := g.objs[uint16(idx)]
	if !ok {
		return nil, formatErr(f.r.off(addr), "global heap id %d is not in its collection", idx)
	}
	if want > o[1] {
		return nil, formatErr(f.r.off(o[0]), "variable-length value says %d bytes but its global heap object has %d", want, o[1])
	}
	return f.r.read(o[0], min(want, max), "global heap object")
}
