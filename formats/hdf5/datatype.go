package hdf5

import (
	"fmt"
	"strconv"
	"strings"
)

// Datatype classes.
const (
	classFixed     = 0
	classFloat     = 1
	classTime      = 2
	classString    = 3
	classBitfield  = 4
	classOpaque    = 5
	classCompound  = 6
	classReference = 7
	classEnum      = 8
	classVlen      = 9
	classArray     = 10
)

// maxTypeDepth bounds nesting of compound, enum, array and vlen types.
const maxTypeDepth = 32

// maxRank is HDF5's H5S_MAX_RANK, also the array datatype's limit.
const maxRank = 32

type dtype struct {
	class   uint8
	version uint8
	size    uint32
	bits    uint32 // the 24-bit class bit field
	base    *dtype // enum, vlen, array
	dims    []uint32
	vlenStr bool
	isBool  bool
	members int
	// for floats: exponent and mantissa sizes
	expSize, mantSize uint8
}

func (t *dtype) bigEndian() bool {
	switch t.class {
	case classFixed, classFloat, classBitfield, classTime:
		return t.bits&1 != 0
	}
	return false
}

func (t *dtype) signed() bool { return t.class == classFixed && t.bits&0x08 != 0 }

// String names the type the way hallmark reports dtypes: f32, i64, u8,
// bf16, S10, vlen-str, bool, enum-i8, compound, opaque8, ref-obj, S10[3].
func (t *dtype) String() string {
	if t == nil {
		return "unknown"
	}
	be := ""
	if t.bigEndian() && t.size > 1 {
		be = "be"
	}
	switch t.class {
	case classFixed:
		if t.signed() {
			return fmt.Sprintf("i%d%s", t.size*8, be)
		}
		return fmt.Sprintf("u%d%s", t.size*8, be)
	case classFloat:
		if t.size == 2 && t.expSize == 8 && t.mantSize == 7 {
			return "bf16" + be
		}
		return fmt.Sprintf("f%d%s", t.size*8, be)
	case classTime:
		return "time"
	case classString:
		return "S" + strconv.FormatUint(uint64(t.size), 10)
	case classBitfield:
		return fmt.Sprintf("bitfield%d", t.size*8)
	case classOpaque:
		return "opaque" + strconv.FormatUint(uint64(t.size), 10)
	case classCompound:
		return "compound"
	case classReference:
		if t.bits&0x0f == 1 {
			return "ref-region"
		}
		return "ref-obj"
	case classEnum:
		if t.isBool {
			return "bool"
		}
		return "enum-" + t.base.String()
	case classVlen:
		if t.vlenStr {
			return "vlen-str"
		}
		return "vlen-" + t.base.String()
	case classArray:
		var b strings.Builder
		b.WriteString(t.base.String())
		b.WriteByte('[')
		for i, d := range t.dims {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatUint(uint64(d), 10))
		}
		b.WriteByte(']')
		return b.String()
	}
	return "unknown"
}

// parseDatatype decodes a datatype message at the cursor. Nested types
// recurse up to maxTypeDepth; every count is checked against the bytes
// left before it is used.
func parseDatatype(c *cursor, depth int) *dtype {
	start := c.pos()
	if depth > maxTypeDepth {
		c.fail("datatype nesting deeper than %d", maxTypeDepth)
		return nil
	}
	cv := c.u8()
	b0, b1, b2 := c.u8(), c.u8(), c.u8()
	size := c.u32()
	if c.err != nil {
		return nil
	}
	t := &dtype{class: cv & 0x0f, version: cv >> 4, size: size, bits: uint32(b0) | uint32(b1)<<8 | uint32(b2)<<16}
	if t.version < 1 || t.version > 4 {
		c.fail("datatype version %d (HDF5 defines 1-4) at %#x", t.version, start)
		return nil
	}
	if size == 0 {
		c.fail("datatype of class %d has size 0", t.class)
		return nil
	}
	switch t.class {
	case classFixed, classBitfield:
		c.skip(4) // bit offset, precision
	case classFloat:
		c.skip(4) // bit offset, precision
		c.skip(1) // exponent location
		t.expSize = c.u8()
		c.skip(1) // mantissa location
		t.mantSize = c.u8()
		c.skip(4) // exponent bias
	case classTime:
		c.skip(2)
	case classString:
	case classOpaque:
		c.skip(int(b0)) // ASCII tag, padded
	case classCompound:
		t.members = int(t.bits & 0xffff)
		for i := 0; i < t.members && c.err == nil; i++ {
			if t.version < 3 {
				skipName(c, true)
			} else {
				skipName(c, false)
			}
			switch {
			case t.version == 1:
				c.skip(4 + 1 + 3 + 4 + 4 + 16) // offset, rank, reserved, permutation, reserved, 4 dims
			case t.version == 2:
				c.skip(4)
			default:
				c.skip(limitEncSize(uint64(size)))
			}
			m := parseDatatype(c, depth+1)
			if m == nil {
				return nil
			}
		}
	case classReference:
	case classEnum:
		t.members = int(t.bits & 0xffff)
		t.base = parseDatatype(c, depth+1)
		if t.base == nil {
			return nil
		}
		names := make([]string, 0, min(t.members, 4))
		for i := 0; i < t.members && c.err == nil; i++ {
			n := skipName(c, t.version < 3)
			if i < 2 {
				names = append(names, n)
			}
		}
		vals, ok := mulOK(uint64(t.members), uint64(t.base.size))
		if !ok || vals > uint64(c.rest()) {
			c.fail("enum declares %d values of %d bytes, more than its message holds", t.members, t.base.size)
			return nil
		}
		v := c.bytes(int(vals))
		if c.err == nil && t.members == 2 && t.base.size == 1 && t.base.class == classFixed &&
			names[0] == "FALSE" && names[1] == "TRUE" && v[0] == 0 && v[1] == 1 {
			t.isBool = true
		}
	case classVlen:
		t.vlenStr = t.bits&0x0f == 1
		t.base = parseDatatype(c, depth+1)
		if t.base == nil {
			return nil
		}
	case classArray:
		rank := int(c.u8())
		if rank == 0 || rank > maxRank {
			c.fail("array datatype of rank %d (HDF5 allows 1-%d)", rank, maxRank)
			return nil
		}
		if t.version < 3 {
			c.skip(3)
		}
		for i := 0; i < rank && c.err == nil; i++ {
			t.dims = append(t.dims, c.u32())
		}
		if t.version < 3 {
			c.skip(4 * rank) // permutation indices
		}
		t.base = parseDatatype(c, depth+1)
		if t.base == nil {
			return nil
		}
	default:
		c.fail("datatype class %d is not one HDF5 defines", t.class)
		return nil
	}
	if c.err != nil {
		return nil
	}
	return t
}

// skipName reads a NUL-terminated name, padded to a multiple of 8 bytes
// (counting the NUL) when pad is set, and returns it.
func skipName(c *cursor, pad bool) string {
	if c.err != nil {
		return ""
	}
	rest := c.b[c.p:]
	i := 0
	for i < len(rest) && rest[i] != 0 {
		i++
	}
	if i == len(rest) {
		c.fail("name has no terminating NUL")
		return ""
	}
	name := string(rest[:i])
	n := i + 1
	if pad {
		n = align8(n)
	}
	c.skip(n)
	return name
}
