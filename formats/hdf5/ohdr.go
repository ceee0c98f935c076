package hdf5

import (
	"bytes"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// Header message types this reader uses.
const (
	msgNil          = 0x00
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgFillOld      = 0x04
	msgFill         = 0x05
	msgLink         = 0x06
	msgExternal     = 0x07
	msgLayout       = 0x08
	msgGroupInfo    = 0x0A
	msgFilters      = 0x0B
	msgAttribute    = 0x0C
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
	msgBTreeK       = 0x13
	msgAttrInfo     = 0x15
)

// Message flag: the message is shared (stored elsewhere, this is a pointer).
const msgFlagShared = 0x02

type message struct {
	typ   uint16
	flags uint8
	off   int64 // file offset of data
	data  []byte
}

type header struct {
	addr    uint64
	version int
	flagsV2 uint8
	msgs    []message
}

func (h *header) find(typ uint16) *message {
	for i := range h.msgs {
		if h.msgs[i].typ == typ {
			return &h.msgs[i]
		}
	}
	return nil
}

type chunk struct {
	addr uint64
	size uint64
}

// readHeader reads an object header and all its continuation blocks. On an
// error after the first block it returns the messages read so far with
// the error, so one bad continuation does not hide the rest.
func (f *File) readHeader(addr uint64, where string) (*header, error) {
	r := f.r
	pre, err := r.read(addr, 6, "object header")
	if err != nil {
		return nil, err
	}
	h := &header{addr: addr}
	var chunks []chunk
	var prefix int // v2: bytes before the first block's messages
	if bytes.Equal(pre[:4], []byte("OHDR")) {
		h.version = 2
		if pre[4] != 2 {
			return nil, formatErr(r.off(addr)+4, "object header version %d after OHDR (only 2 exists)", pre[4])
		}
		flags := pre[5]
		if flags&0xC0 != 0 {
			return nil, formatErr(r.off(addr)+5, "object header flags %#x set reserved bits", flags)
		}
		prefix = 6
		if flags&0x20 != 0 {
			prefix += 16 // access, modification, change, birth times
		}
		if flags&0x10 != 0 {
			prefix += 4 // attribute phase change values
		}
		sizeLen := 1 << (flags & 3)
		b, err := r.read(addr, uint64(prefix+sizeLen), "object header prefix")
		if err != nil {
			return nil, err
		}
		size := leUint(b[prefix:])
		prefix += sizeLen
		chunks = append(chunks, chunk{addr: addr, size: size})
		h.flagsV2 = flags
	} else {
		h.version = 1
		if pre[0] != 1 {
			return nil, formatErr(r.off(addr), "object header version %d (expected 1, or the OHDR signature of version 2)", pre[0])
		}
		b, err := r.read(addr, 16, "object header prefix")
		if err != nil {
			return nil, err
		}
		size := uint64(b[8]) | uint64(b[9])<<8 | uint64(b[10])<<16 | uint64(b[11])<<24
		a, ok := addU(addr, 16)
		if !ok {
			return nil, formatErr(r.off(addr), "object header address overflows")
		}
		chunks = append(chunks, chunk{addr: a, size: size})
	}

	seen := map[uint64]bool{}
	var total uint64
	for i := 0; i < len(chunks); i++ {
		ch := chunks[i]
		if seen[ch.addr] {
			return h, formatErr(r.off(ch.addr), "object header continuation loops back to a block already read")
		}
		seen[ch.addr] = true
		if i > f.r.lim.MaxContinuations {
			return h, &LimitError{Offset: r.off(ch.addr), Msg: "object header has more continuation blocks than MaxContinuations"}
		}
		n, ok := ch.size, true
		if h.version == 2 && i == 0 {
			n, ok = addU(n, uint64(prefix)+4)
		}
		if !ok {
			return h, formatErr(r.off(ch.addr), "object header block size %#x overflows", ch.size)
		}
		if _, err := r.check(ch.addr, n, "object header block"); err != nil {
			return h, err
		}
		if total, ok = addU(total, ch.size); !ok || total > uint64(f.r.lim.MaxHeaderBytes) {
			return h, &LimitError{Offset: r.off(ch.addr), Msg: "object header is larger than MaxHeaderBytes"}
		}
		next, err := f.readChunk(h, ch, i == 0, prefix, where)
		if err != nil {
			return h, err
		}
		chunks = append(chunks, next...)
	}
	return h, nil
}

// readChunk parses one block of messages and returns the continuation
// blocks it points to.
func (f *File) readChunk(h *header, ch chunk, first bool, prefix int, where string) ([]chunk, error) {
	r := f.r
	var buf []byte
	var start, end int
	var err error
	if h.version == 1 {
		if buf, err = r.read(ch.addr, ch.size, "object header block"); err != nil {
			return nil, err
		}
		start, end = 0, len(buf)
	} else {
		// Version 2: the first block is prefix + messages + checksum; a
		// continuation block is "OCHK" + messages + checksum.
		n := ch.size
		if first {
			n += uint64(prefix) + 4
		}
		if buf, err = r.read(ch.addr, n, "object header block"); err != nil {
			return nil, err
		}
		if first {
			start = prefix
		} else {
			if len(buf) < 8 || !bytes.Equal(buf[:4], []byte("OCHK")) {
				return nil, formatErr(r.off(ch.addr), "object header continuation block has no OCHK signature")
			}
			start = 4
		}
		end = len(buf) - 4
		if !checksumOK(buf) {
			f.issue(RuleChecksum, finding.Medium, r.off(ch.addr), where,
				"object header checksum does not match: the header was altered after HDF5 wrote it", "")
		}
	}
	base := r.off(ch.addr)
	c := r.cursor(buf[:end], base)
	c.p = start
	var next []chunk
	creationOrder := h.version == 2 && h.flagsV2&0x04 != 0
	for {
		var typ uint16
		var size int
		var flags uint8
		if h.version == 1 {
			if c.rest() < 8 {
				break
			}
			typ, size, flags = c.u16(), int(c.u16()), c.u8()
			c.skip(3)
		} else {
			hl := 4
			if creationOrder {
				hl = 6
			}
			if c.rest() < hl {
				break // a gap smaller than a message header
			}
			typ, size, flags = uint16(c.u8()), int(c.u16()), c.u8()
			if creationOrder {
				c.skip(2)
			}
		}
		dataOff := c.pos()
		data := c.bytes(size)
		if c.err != nil {
			return next, formatErr(dataOff, "header message of type %#x declares %d bytes but its block has %d left", typ, size, len(buf)-int(dataOff-base))
		}
		if typ == msgNil {
			continue
		}
		if len(h.msgs) >= r.lim.MaxMessages {
			return next, &LimitError{Offset: dataOff, Msg: "object header has more messages than MaxMessages"}
		}
		h.msgs = append(h.msgs, message{typ: typ, flags: flags, off: dataOff, data: data})
		if typ == msgContinuation {
			cc := r.cursor(data, dataOff)
			a, n := cc.addr(), cc.length()
			if cc.err != nil {
				return next, cc.err
			}
			if a == undef || n == 0 || (h.version == 2 && n < 8) {
				return next, formatErr(dataOff, "continuation message points at an empty or undefined block")
			}
			next = append(next, chunk{addr: a, size: n})
		}
	}
	return next, nil
}
