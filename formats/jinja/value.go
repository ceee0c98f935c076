package jinja

import (
	"math"
	"strconv"
	"strings"
)

// Values of the abstract interpreter. A cv is one concrete constant the
// template could build from its own text; an av is a small set of them or
// "top" (not known). Top remembers whether it was built only from template
// constants (pure: the analysis lost track of a value the template author
// chose) or involves runtime data such as the messages (impure).

type kind uint8

const (
	kStr kind = iota + 1
	kInt
	kFloat
	kBool
	kNone
	kUndef
	kList   // list or tuple
	kDict   // elems are the keys, vals the values
	kNS     // a namespace() object; i is its allocation site
	kGlobal // a global object or function by name (range, cycler, self…)
	kMacro  // i indexes interp.macros
	kObj    // an opaque object (loop, a cycler instance…); s names it
)

type cv struct {
	k     kind
	s     string
	i     int64
	big   bool // an integer beyond int64
	f     float64
	elems []cv
	vals  []cv
}

type av struct {
	cs   []cv
	top  bool
	pure bool // top only: built from template constants alone
	str  bool // top only: may be a string
	ints bool // top only: a sequence of integers (range with unknown bounds)
}

const (
	maxCands  = 16      // candidates per value before it becomes top
	maxItems  = 1024    // items of a folded list or dict
	maxWeight = 1 << 14 // weight of one folded list or dict (see weight)
)

// weight bounds the work of hashing and copying a composite constant:
// one per node plus one per 64 bytes of string.
func (c cv) weight() int {
	w := 1 + len(c.s)/64
	for _, e := range c.elems {
		w += e.weight()
		if w > maxWeight {
			return w
		}
	}
	for _, e := range c.vals {
		w += e.weight()
		if w > maxWeight {
			return w
		}
	}
	return w
}

var (
	topImpure = av{top: true, str: true}
	undefAV   = av{cs: []cv{{k: kUndef}}}
)

func one(c cv) av             { return av{cs: []cv{c}} }
func strV(s string) cv        { return cv{k: kStr, s: s} }
func intV(i int64) cv         { return cv{k: kInt, i: i} }
func boolV(b bool) cv         { return cv{k: kBool, i: b2i(b)} }
func topOf(pure, str bool) av { return av{top: true, pure: pure, str: str} }

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// isPure says whether v was built from template constants only.
func (v av) isPure() bool { return !v.top || v.pure }

func (v av) mayStr() bool {
	if v.top {
		return v.str
	}
	for _, c := range v.cs {
		if c.k == kStr {
			return true
		}
	}
	return false
}

func (c cv) key(b *strings.Builder) {
	b.WriteByte(byte(c.k))
	switch c.k {
	case kStr, kGlobal, kObj:
		b.WriteString(strconv.Itoa(len(c.s)))
		b.WriteByte(':')
		b.WriteString(c.s)
	case kInt, kBool, kNS, kMacro:
		b.WriteString(strconv.FormatInt(c.i, 10))
		if c.big {
			b.WriteByte('B')
		}
	case kFloat:
		b.WriteString(strconv.FormatFloat(c.f, 'g', -1, 64))
	case kList, kDict:
		b.WriteString(strconv.Itoa(len(c.elems)))
		b.WriteByte('[')
		for i, e := range c.elems {
			e.key(b)
			if c.k == kDict && i < len(c.vals) {
				b.WriteByte('=')
				c.vals[i].key(b)
			}
			b.WriteByte(',')
		}
		b.WriteByte(']')
	}
}

func (c cv) keyString() string {
	var b strings.Builder
	c.key(&b)
	return b.String()
}

func (v av) keyString() string {
	if v.top {
		return "T" + strconv.FormatBool(v.pure) + strconv.FormatBool(v.str) + strconv.FormatBool(v.ints)
	}
	var b strings.Builder
	for _, c := range v.cs {
		c.key(&b)
		b.WriteByte(';')
	}
	return b.String()
}

func eqAV(a, b av) bool {
	if a.top || b.top {
		return a.top == b.top && a.pure == b.pure && a.str == b.str && a.ints == b.ints
	}
	if len(a.cs) != len(b.cs) {
		return false
	}
	return a.keyString() == b.keyString()
}

// join is the union of two values.
func join(a, b av) av {
	if a.top || b.top {
		return av{top: true, pure: a.isPure() && b.isPure(), str: a.mayStr() || b.mayStr(), ints: a.intSeq() && b.intSeq()}
	}
	if len(a.cs) == 0 {
		return b
	}
	if len(b.cs) == 0 {
		return a
	}
	out := av{cs: make([]cv, 0, len(a.cs)+len(b.cs))}
	out.cs = append(out.cs, a.cs...)
	for _, c := range b.cs {
		dup := false
		for _, o := range out.cs[:len(a.cs)] {
			if sameCV(o, c) {
				dup = true
				break
			}
		}
		if !dup {
			out.cs = append(out.cs, c)
		}
	}
	if len(out.cs) > maxCands {
		return av{top: true, pure: true, str: out.mayStr()}
	}
	return out
}

// sameCV compares two constants.
func sameCV(a, b cv) bool {
	if a.k != b.k {
		return false
	}
	switch a.k {
	case kStr, kGlobal, kObj:
		return a.s == b.s
	case kInt, kBool, kNS, kMacro:
		return a.i == b.i && a.big == b.big
	case kFloat:
		return a.f == b.f || (a.f != a.f && b.f != b.f)
	case kNone, kUndef:
		return true
	}
	return a.keyString() == b.keyString()
}

// intSeq says whether every candidate is a sequence of integers.
func (v av) intSeq() bool {
	if v.top {
		return v.ints
	}
	for _, c := range v.cs {
		if c.k != kList {
			return false
		}
		for _, e := range c.elems {
			if e.k != kInt {
				return false
			}
		}
	}
	return true
}

// widen turns a value that keeps changing in a loop into top.
func widen(a, b av) av {
	return av{top: true, pure: a.isPure() && b.isPure(), str: a.mayStr() || b.mayStr(), ints: a.intSeq() && b.intSeq()}
}

// defined drops undefined candidates (for sinks).
func (v av) defined() []cv {
	if v.top {
		return nil
	}
	out := v.cs[:0:0]
	for _, c := range v.cs {
		if c.k != kUndef {
			out = append(out, c)
		}
	}
	return out
}

// truth is Python truthiness: 1 true, 0 false, -1 unknown.
func (c cv) truth() int {
	switch c.k {
	case kStr:
		return int(b2i(c.s != ""))
	case kInt, kBool:
		if c.big {
			return 1
		}
		return int(b2i(c.i != 0))
	case kFloat:
		return int(b2i(c.f != 0))
	case kNone, kUndef:
		return 0
	case kList, kDict:
		return int(b2i(len(c.elems) > 0))
	case kNS, kGlobal, kMacro, kObj:
		return 1
	}
	return -1
}

// pyStr is Python's str() of a constant; ok is false for values whose text
// the analysis does not reproduce.
func (c cv) pyStr() (string, bool) {
	switch c.k {
	case kStr:
		return c.s, true
	case kInt:
		if c.big {
			return "", false
		}
		return strconv.FormatInt(c.i, 10), true
	case kBool:
		if c.i != 0 {
			return "True", true
		}
		return "False", true
	case kNone:
		return "None", true
	case kUndef:
		return "", true // Undefined renders as the empty string
	case kFloat:
		return pyFloat(c.f), true
	case kList, kDict:
		return c.pyRepr()
	}
	return "", false
}

func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	a := math.Abs(f)
	if a != 0 && (a >= 1e16 || a < 1e-4) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Python writes e+16 / e-05 with at least two exponent digits
		if i := strings.IndexByte(s, 'e'); i >= 0 {
			mant, exp := s[:i], s[i+1:]
			sign := exp[0]
			digits := exp[1:]
			if len(digits) < 2 {
				digits = "0" + digits
			}
			return mant + "e" + string(sign) + digits
		}
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// pyRepr is Python's repr() of a constant.
func (c cv) pyRepr() (string, bool) {
	switch c.k {
	case kStr:
		return pyStrRepr(c.s), true
	case kList:
		var b strings.Builder
		b.WriteByte('[')
		for i, e := range c.elems {
			if i > 0 {
				b.WriteString(", ")
			}
			s, ok := e.pyRepr()
			if !ok {
				return "", false
			}
			b.WriteString(s)
		}
		b.WriteByte(']')
		return b.String(), true
	case kDict:
		var b strings.Builder
		b.WriteByte('{')
		for i, e := range c.elems {
			if i > 0 {
				b.WriteString(", ")
			}
			ks, ok := e.pyRepr()
			if !ok || i >= len(c.vals) {
				return "", false
			}
			vs, ok := c.vals[i].pyRepr()
			if !ok {
				return "", false
			}
			b.WriteString(ks)
			b.WriteString(": ")
			b.WriteString(vs)
		}
		b.WriteByte('}')
		return b.String(), true
	case kUndef:
		return "", false
	}
	return c.pyStr()
}

func pyStrRepr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(hex(uint32(r), 2))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// items returns the elements Python would iterate over.
func (c cv) items() ([]cv, bool) {
	switch c.k {
	case kList, kDict:
		return c.elems, true
	case kStr:
		rs := []rune(c.s)
		if len(rs) > maxItems {
			return nil, false
		}
		out := make([]cv, len(rs))
		for i, r := range rs {
			out[i] = strV(string(r))
		}
		return out, true
	}
	return nil, false
}

func isDunder(s string) bool {
	return len(s) > 4 && strings.HasPrefix(s, "__") && strings.HasSuffix(s, "__")
}

// dunderIn finds a dunder-shaped name (`__`, letters or digits, `__`)
// inside a run of identifier characters of s.
func dunderIn(s string) string {
	for i := 0; i < len(s); {
		if !isASCIIAlnum(s[i]) && s[i] != '_' {
			i++
			continue
		}
		j := i
		for j < len(s) && (isASCIIAlnum(s[j]) || s[j] == '_') {
			j++
		}
		w := s[i:j]
		i = j
		a := strings.Index(w, "__")
		b := strings.LastIndex(w, "__")
		if a < 0 || b <= a+2 {
			continue
		}
		for k := a + 2; k < b; k++ {
			if isASCIIAlnum(w[k]) {
				return w[a : b+2]
			}
		}
	}
	return ""
}

func isASCIIAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// isMangled matches Python's private-name mangling, _Class__name.
func isMangled(s string) bool {
	if len(s) < 4 || s[0] != '_' || s[1] == '_' {
		return false
	}
	k := strings.Index(s[1:], "__")
	return k > 0 && 1+k+2 < len(s)
}
