package hdf5

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// Attribute is one attribute of an object.
type Attribute struct {
	Name  string
	Dtype string   // see Object.Dtype
	Shape []uint64 // nil for a scalar or null dataspace
	// Value is string or []string (fixed or variable-length strings, also
	// inside array types), int64 or []int64 (integers, enums, booleans),
	// float64 or []float64, []byte (opaque), or nil (null dataspace, or a
	// type this reader only names: compound, reference, vlen sequence…).
	// Scalars give the single form, simple dataspaces the slice form.
	Value any
	// Truncated: the value was cut at Limits.MaxAttribute bytes or
	// Limits.MaxAttrElements elements.
	Truncated bool
	// Offset is the file offset of the attribute message (-1 if unknown).
	Offset int64
}

// parseAttribute decodes an attribute message. cut says the message was
// read only in part (a huge dense attribute), so its data may end early.
func (f *File) parseAttribute(data []byte, off int64, cut bool) (*Attribute, error) {
	r := f.r
	c := r.cursor(data, off)
	ver := c.u8()
	flags := c.u8()
	nameLen := int(c.u16())
	dtLen := int(c.u16())
	dsLen := int(c.u16())
	if ver == 3 {
		c.u8() // name character set
	}
	if c.err != nil {
		return nil, c.err
	}
	if ver < 1 || ver > 3 {
		return nil, formatErr(off, "attribute message version %d (HDF5 defines 1-3)", ver)
	}
	if ver == 1 && flags != 0 {
		flags = 0 // reserved byte in version 1
	}
	pad := func(n int) int {
		if ver == 1 {
			return align8(n)
		}
		return n
	}
	if nameLen == 0 {
		return nil, formatErr(off, "attribute name length is 0")
	}
	nb := c.bytes(nameLen)
	c.skip(pad(nameLen) - nameLen)
	if c.err != nil {
		return nil, formatErr(off, "attribute name of %d bytes does not fit its message", nameLen)
	}
	name := string(nb)
	if i := bytes.IndexByte(nb, 0); i >= 0 {
		name = string(nb[:i])
	}
	a := &Attribute{Name: name, Offset: off}

	dtOff := c.pos()
	dtb := c.bytes(dtLen)
	c.skip(pad(dtLen) - dtLen)
	dsOff := c.pos()
	dsb := c.bytes(dsLen)
	c.skip(pad(dsLen) - dsLen)
	if c.err != nil {
		return a, formatErr(off, "attribute %q: datatype and dataspace (%d+%d bytes) do not fit its message", name, dtLen, dsLen)
	}
	var t *dtype
	var err error
	if flags&1 != 0 {
		t, err = f.sharedDatatype(dtb, dtOff)
	} else {
		dc := c.sub(dtb, dtOff)
		t = parseDatatype(dc, 0)
		err = dc.err
	}
	if err != nil {
		return a, err
	}
	a.Dtype = t.String()
	if flags&2 != 0 {
		return a, unsupported(dsOff, "attribute %q has a shared dataspace (shared object header messages)", name)
	}
	sc := c.sub(dsb, dsOff)
	s := parseDataspace(sc)
	if sc.err != nil {
		return a, sc.err
	}
	if s.kind == spaceSimple {
		a.Shape = s.dims
	}
	if s.kind == spaceNull {
		return a, nil
	}
	total, ok := mulOK(s.count, uint64(t.size))
	rest := uint64(c.rest())
	if !ok || (total > rest && !cut) {
		return a, formatErr(off, "attribute %q declares %d elements of %d bytes (%s) but its message holds %d bytes of data", name, s.count, t.size, bigBytes(s.count, uint64(t.size)), rest)
	}
	raw := c.b[c.p:]
	if total < rest {
		raw = raw[:total]
	}
	a.Value, a.Truncated, err = f.decodeValue(t, s, raw, c.pos())
	if cut {
		a.Truncated = true
	}
	return a, err
}

func bigBytes(n, size uint64) string {
	if v, ok := mulOK(n, size); ok {
		return fmt.Sprintf("%d bytes", v)
	}
	return "more than 2^64 bytes"
}

// sharedDatatype resolves a shared (committed) datatype: the message is a
// pointer to another object header that holds the real datatype message.
func (f *File) sharedDatatype(b []byte, off int64) (*dtype, error) {
	c := f.r.cursor(b, off)
	ver := c.u8()
	typ := c.u8()
	switch ver {
	case 1:
		c.skip(6)
	case 2:
	case 3:
		if typ != 2 {
			return nil, unsupported(off, "datatype stored in the shared object header message heap")
		}
	default:
		return nil, formatErr(off, "shared message version %d", ver)
	}
	addr := c.addr()
	if c.err != nil {
		return nil, c.err
	}
	h, err := f.readHeader(addr, "committed datatype")
	if err != nil {
		return nil, err
	}
	m := h.find(msgDatatype)
	if m == nil {
		return nil, formatErr(f.r.off(addr), "shared datatype points at an object without a datatype")
	}
	if m.flags&msgFlagShared != 0 {
		return nil, formatErr(m.off, "committed datatype is itself shared (a chain)")
	}
	dc := f.r.cursor(m.data, m.off)
	t := parseDatatype(dc, 0)
	return t, dc.err
}

// scalarKind says how an element type decodes.
const (
	kindNone = iota
	kindInt
	kindFloat
	kindFixedStr
	kindVlenStr
	kindOpaque
)

// leaf returns the element type after flattening arrays and how many
// leaves one element holds.
func leaf(t *dtype) (*dtype, uint64, bool) {
	n := uint64(1)
	for t.class == classArray {
		for _, d := range t.dims {
			var ok bool
			if n, ok = mulOK(n, uint64(d)); !ok {
				return nil, 0, false
			}
		}
		t = t.base
	}
	return t, n, true
}

func kindOf(t *dtype) int {
	switch t.class {
	case classFixed:
		if t.size <= 8 {
			return kindInt
		}
	case classEnum:
		if t.base.class == classFixed && t.base.size <= 8 && t.base.size == t.size {
			return kindInt
		}
	case classFloat:
		if t.size == 2 || t.size == 4 || t.size == 8 {
			return kindFloat
		}
	case classString:
		return kindFixedStr
	case classVlen:
		if t.vlenStr {
			return kindVlenStr
		}
	case classOpaque:
		return kindOpaque
	}
	return kindNone
}

// decodeValue turns raw attribute data into a Go value, bounded by
// MaxAttribute bytes of strings and MaxAttrElements elements.
func (f *File) decodeValue(t *dtype, s *dspace, raw []byte, off int64) (any, bool, error) {
	lim := f.r.lim
	lt, per, ok := leaf(t)
	if !ok || lt.size == 0 {
		return nil, false, nil
	}
	k := kindOf(lt)
	if k == kindNone {
		return nil, false, nil
	}
	scalar := s.kind == spaceScalar && per == 1
	if k == kindOpaque {
		truncated := uint64(len(raw)) > uint64(lim.MaxAttribute)
		return append([]byte(nil), raw[:min(uint64(len(raw)), uint64(lim.MaxAttribute))]...), truncated, nil
	}
	count := uint64(len(raw)) / uint64(lt.size)
	truncated := false
	if count > uint64(lim.MaxAttrElements) {
		count, truncated = uint64(lim.MaxAttrElements), true
	}
	es := int(lt.size)
	switch k {
	case kindInt:
		vals := make([]int64, count)
		st := lt
		if lt.class == classEnum {
			st = lt.base
		}
		for i := range vals {
			vals[i] = intAt(raw[i*es:(i+1)*es], st)
		}
		if scalar && len(vals) == 1 {
			return vals[0], truncated, nil
		}
		return vals, truncated, nil
	case kindFloat:
		vals := make([]float64, count)
		for i := range vals {
			vals[i] = floatAt(raw[i*es:(i+1)*es], lt)
		}
		if scalar && len(vals) == 1 {
			return vals[0], truncated, nil
		}
		return vals, truncated, nil
	case kindFixedStr:
		budget := uint64(lim.MaxAttribute)
		vals := make([]string, 0, min(count, 1024))
		for i := uint64(0); i < count; i++ {
			v := fixedString(raw[i*uint64(es) : (i+1)*uint64(es)])
			if uint64(len(v)) > budget {
				v, truncated = v[:budget], true
			}
			budget -= uint64(len(v))
			vals = append(vals, v)
			if budget == 0 && i+1 < count {
				truncated = true
				break
			}
		}
		if scalar && len(vals) == 1 {
			return vals[0], truncated, nil
		}
		return vals, truncated, nil
	case kindVlenStr:
		budget := uint64(lim.MaxAttribute)
		vals := make([]string, 0, min(count, 1024))
		for i := uint64(0); i < count; i++ {
			e := raw[i*uint64(es) : (i+1)*uint64(es)]
			v, cut, err := f.vlenString(e, off+int64(i)*int64(es), budget)
			if err != nil {
				return nil, truncated, err
			}
			truncated = truncated || cut
			budget -= uint64(len(v))
			vals = append(vals, v)
			if budget == 0 && i+1 < count {
				truncated = true
				break
			}
		}
		if scalar && len(vals) == 1 {
			return vals[0], truncated, nil
		}
		return vals, truncated, nil
	}
	return nil, false, nil
}

func intAt(b []byte, t *dtype) int64 {
	var v uint64
	if t.bigEndian() {
		for _, x := range b {
			v = v<<8 | uint64(x)
		}
	} else {
		v = leUint(b)
	}
	if t.signed() && len(b) < 8 {
		shift := uint(64 - 8*len(b))
		return int64(v<<shift) >> shift
	}
	return int64(v)
}

func floatAt(b []byte, t *dtype) float64 {
	var v uint64
	if t.bigEndian() {
		for _, x := range b {
			v = v<<8 | uint64(x)
		}
	} else {
		v = leUint(b)
	}
	switch len(b) {
	case 8:
		return math.Float64frombits(v)
	case 4:
		return float64(math.Float32frombits(uint32(v)))
	case 2:
		if t.expSize == 8 && t.mantSize == 7 { // bfloat16
			return float64(math.Float32frombits(uint32(v) << 16))
		}
		return half(uint16(v))
	}
	return 0
}

// half converts an IEEE 754 binary16 value.
func half(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

// fixedString returns a fixed-length string the way h5py hands it to
// Keras (a numpy bytes_ value): whatever the padding rule, only trailing
// NULs go. Stopping at the first NUL of a null-terminated string would
// hide whatever follows it from the analysis while h5py still returns it.
func fixedString(b []byte) string {
	return string(bytes.TrimRight(b, "\x00"))
}

// vlenString reads one variable-length string element: a 4-byte length
// and a global heap id (collection address, object index).
func (f *File) vlenString(e []byte, off int64, budget uint64) (string, bool, error) {
	r := f.r
	if len(e) < 4+r.osz+4 {
		return "", false, formatErr(off, "variable-length element of %d bytes is too short for a heap id", len(e))
	}
	n := uint64(binary.LittleEndian.Uint32(e))
	c := r.cursor(e[4:], off+4)
	addr := c.addr()
	idx := c.u32()
	if n == 0 {
		return "", false, nil
	}
	if addr == undef || addr == 0 {
		return "", false, formatErr(off, "variable-length string of %d bytes has no heap address", n)
	}
	b, err := f.globalObject(addr, idx, n, budget)
	if err != nil {
		return "", false, err
	}
	return string(b), n > budget, nil
}
