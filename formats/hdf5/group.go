package hdf5

import (
	"bytes"
	"fmt"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// Link types.
const (
	linkHard     = 0
	linkSoft     = 1
	linkExternal = 64
)

type link struct {
	name   string
	typ    int
	addr   uint64
	target string    // soft and external links
	stab   *stabInfo // symbol-table entry's cached group info
	off    int64
}

type stabInfo struct {
	btree, heap uint64
}

// links lists a group's links from whichever storage it uses: a symbol
// table (old style), link messages (compact) or link info + fractal heap
// (dense). Errors are recorded as findings; what could be read is returned.
func (f *File) links(h *header, where string) ([]link, error) {
	var out []link
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	for _, m := range h.msgs {
		switch m.typ {
		case msgSymbolTable:
			c := f.r.cursor(m.data, m.off)
			bt, hp := c.addr(), c.addr()
			if c.err != nil {
				keep(c.err)
				continue
			}
			ls, err := f.symbolTable(bt, hp)
			out = append(out, ls...)
			keep(err)
		case msgLink:
			l, err := f.parseLink(m.data, m.off)
			if err != nil {
				keep(err)
				continue
			}
			out = append(out, l)
		case msgLinkInfo:
			ls, err := f.denseLinks(m)
			out = append(out, ls...)
			keep(err)
		}
	}
	return out, firstErr
}

func (f *File) symbolTable(btree, heapAddr uint64) ([]link, error) {
	heap, err := f.readLocalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	var out []link
	r := f.r
	entry := 2*r.osz + 24
	err = f.walkGroupBTree(btree, func(snod uint64) error {
		b, err := r.read(snod, 8, "symbol table node")
		if err != nil {
			return err
		}
		if !bytes.Equal(b[:4], []byte("SNOD")) {
			return formatErr(r.off(snod), "symbol table node has no SNOD signature")
		}
		if b[4] != 1 {
			return formatErr(r.off(snod)+4, "symbol table node version %d (only 1 exists)", b[4])
		}
		n := int(b[6]) | int(b[7])<<8
		if n > 2*f.leafK {
			return formatErr(r.off(snod)+6, "symbol table node says it holds %d symbols; nodes hold at most %d", n, 2*f.leafK)
		}
		a, _ := addU(snod, 8)
		body, err := r.read(a, uint64(n*entry), "symbol table entries")
		if err != nil {
			return err
		}
		c := r.cursor(body, r.off(a))
		for i := 0; i < n; i++ {
			eoff := c.pos()
			nameOff := c.uvar(r.osz) // a "size of offsets" field
			obj := c.addr()
			cache := c.u32()
			c.skip(4)
			scratch := c.bytes(16)
			if c.err != nil {
				return c.err
			}
			name, err := heap.name(nameOff)
			if err != nil {
				return err
			}
			l := link{name: name, typ: linkHard, addr: obj, off: eoff}
			switch cache {
			case 1:
				sc := r.cursor(scratch, eoff+int64(2*r.osz+8))
				l.stab = &stabInfo{btree: sc.addr(), heap: sc.addr()}
			case 2:
				// A soft link: its value is in the local heap.
				l.typ = linkSoft
				v := uint64(scratch[0]) | uint64(scratch[1])<<8 | uint64(scratch[2])<<16 | uint64(scratch[3])<<24
				l.target, _ = heap.name(v)
			}
			out = append(out, l)
		}
		return nil
	})
	return out, err
}

// parseLink decodes a link message (compact storage, or an object of a
// dense link heap).
func (f *File) parseLink(b []byte, off int64) (link, error) {
	r := f.r
	c := r.cursor(b, off)
	if v := c.u8(); v != 1 {
		return link{}, formatErr(off, "link message version %d (only 1 exists)", v)
	}
	flags := c.u8()
	l := link{typ: linkHard, off: off}
	if flags&0x08 != 0 {
		l.typ = int(c.u8())
	}
	if flags&0x04 != 0 {
		c.skip(8) // creation order
	}
	if flags&0x10 != 0 {
		c.u8() // name character set
	}
	nlen := c.uvar(1 << (flags & 3))
	if c.err != nil {
		return l, c.err
	}
	if nlen == 0 || nlen > uint64(c.rest()) {
		return l, formatErr(off, "link name of %d bytes does not fit its %d-byte message", nlen, len(b))
	}
	name := c.bytes(int(nlen))
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i] // HDF5 treats names as C strings
	}
	l.name = string(name)
	switch {
	case l.typ == linkHard:
		l.addr = c.addr()
	case l.typ == linkSoft || l.typ >= linkExternal:
		n := int(c.u16())
		v := c.bytes(n)
		if l.typ == linkExternal && len(v) > 1 {
			// version/flags byte, then file name NUL object path NUL
			parts := bytes.SplitN(v[1:], []byte{0}, 3)
			l.target = string(parts[0])
			if len(parts) > 1 {
				l.target += ":" + string(parts[1])
			}
		} else {
			l.target = string(v)
		}
	default:
		return l, formatErr(off, "link %q of reserved type %d", l.name, l.typ)
	}
	if c.err != nil {
		return l, c.err
	}
	return l, nil
}

// denseLinks lists the links of a link info message's fractal heap by
// walking its name index (v2 B-tree type 5: hash, heap id).
func (f *File) denseLinks(m message) ([]link, error) {
	r := f.r
	c := r.cursor(m.data, m.off)
	if v := c.u8(); v != 0 {
		return nil, formatErr(m.off, "link info message version %d (only 0 exists)", v)
	}
	flags := c.u8()
	if flags&1 != 0 {
		c.skip(8) // maximum creation index
	}
	heapAddr, nameBT := c.addr(), c.addr()
	if c.err != nil {
		return nil, c.err
	}
	if heapAddr == undef {
		return nil, nil // compact storage: the links are link messages
	}
	h, err := f.openFractalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	t, err := f.openBT2(nameBT, 5)
	if err != nil {
		return nil, err
	}
	if t.recSize != 4+h.idLen {
		return nil, formatErr(r.off(nameBT), "link name index records of %d bytes for heap ids of %d", t.recSize, h.idLen)
	}
	var out []link
	err = f.eachBT2(t, func(rec []byte, off int64) error {
		obj, cut, err := f.heapObject(h, rec[4:], 1<<16)
		if err != nil {
			return err
		}
		if cut {
			return formatErr(off, "link message in the heap is larger than 64 KiB")
		}
		l, err := f.parseLink(obj, -1)
		if err != nil {
			return err
		}
		l.off = off
		out = append(out, l)
		return nil
	})
	return out, err
}

// attributes lists an object's attributes, compact (attribute messages)
// and dense (attribute info + fractal heap), in the order HDF5 looks a name
// up: when dense storage is in use HDF5 reads only it, so dense attributes
// come first and compact messages beside them are reported; otherwise
// header order, where the first message of a name wins. A second attribute
// of the same name is reported: a reader that keeps the last one sees a
// different value than HDF5. A bad attribute is recorded and skipped; the
// error returned is the first fatal one.
func (f *File) attributes(h *header, where string) ([]Attribute, error) {
	var dense, compact []Attribute
	denseActive := false
	for _, m := range h.msgs {
		switch m.typ {
		case msgAttribute:
			if m.flags&msgFlagShared != 0 {
				f.record(unsupported(m.off, "attribute stored as a shared object header message"), where)
				continue
			}
			a, err := f.parseAttribute(m.data, m.off, false)
			if err != nil {
				f.record(err, attrWhere(where, a))
				if isFatal(err) {
					return append(dense, compact...), err
				}
			}
			if a != nil {
				compact = append(compact, *a)
			}
		case msgAttrInfo:
			as, active, err := f.denseAttributes(m, where)
			dense = append(dense, as...)
			denseActive = denseActive || active
			if err != nil {
				f.record(err, where)
				if isFatal(err) {
					return append(dense, compact...), err
				}
			}
		}
	}
	if denseActive && len(compact) > 0 {
		f.issueF(RuleInconsistent, finding.Medium, compact[0].Offset, where, "",
			"%d attribute messages sit beside dense attribute storage: HDF5 reads only the dense ones, so these are hidden from it but not from other readers", len(compact))
	}
	out := append(dense, compact...)
	seen := make(map[string]bool, len(out))
	for _, a := range out {
		if seen[a.Name] {
			f.issueF(RuleDuplicateName, finding.High, a.Offset, where+"@"+a.Name, "",
				"two attributes are named %q: HDF5 reads the first, a reader that keeps the last sees another value (a way to show a scanner a different model_config than the loader gets)", a.Name)
		}
		seen[a.Name] = true
	}
	return out, nil
}

func attrWhere(where string, a *Attribute) string {
	if a == nil || a.Name == "" {
		return where
	}
	return where + "@" + a.Name
}

func (f *File) denseAttributes(m message, where string) ([]Attribute, bool, error) {
	r := f.r
	c := r.cursor(m.data, m.off)
	if v := c.u8(); v != 0 {
		return nil, false, formatErr(m.off, "attribute info message version %d (only 0 exists)", v)
	}
	flags := c.u8()
	if flags&1 != 0 {
		c.skip(2) // maximum creation index
	}
	heapAddr, nameBT := c.addr(), c.addr()
	if c.err != nil {
		return nil, false, c.err
	}
	if heapAddr == undef {
		return nil, false, nil
	}
	h, err := f.openFractalHeap(heapAddr)
	if err != nil {
		return nil, true, err
	}
	t, err := f.openBT2(nameBT, 8)
	if err != nil {
		return nil, true, err
	}
	if t.recSize != h.idLen+9 {
		return nil, true, formatErr(r.off(nameBT), "attribute name index records of %d bytes for heap ids of %d", t.recSize, h.idLen)
	}
	// A dense attribute's message is read whole up to MaxAttribute plus
	// room for its name and types.
	max := uint64(r.lim.MaxAttribute) + 1<<16
	var out []Attribute
	err = f.eachBT2(t, func(rec []byte, off int64) error {
		if rec[h.idLen]&msgFlagShared != 0 {
			f.record(unsupported(off, "dense attribute stored as a shared object header message"), where)
			return nil
		}
		obj, cut, err := f.heapObject(h, rec[:h.idLen], max)
		if err != nil {
			if isFatal(err) {
				return err
			}
			f.record(err, where)
			return nil
		}
		a, err := f.parseAttribute(obj, -1, cut)
		if err != nil {
			if isFatal(err) {
				return err
			}
			f.record(err, attrWhere(where, a))
		}
		if a != nil {
			a.Offset = off
			out = append(out, *a)
		}
		return nil
	})
	return out, true, err
}

func fmtAddr(a uint64) string {
	if a == undef {
		return "undefined"
	}
	return fmt.Sprintf("%#x", a)
}
