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
	kUnk    // an unknown value inside a list, dict or pattern; i holds its flags
	kPat    // a string with unknown parts: elems are kStr literals and kUnk holes
	kAlt    // product results only: one of elems (see one)
)

// Flags of an unknown value (kUnk.i, and the top part of an av).
const (
	fPure     int64 = 1 << iota // built from template constants alone
	fStr                        // may be a string
	fInts                       // a sequence of integers
	fUsc                        // a template constant containing '_' may have flowed in
	fInternal                   // derived from Python internals (a dunder or a global object)
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

// An av with top set may also keep candidates: it is then "one of cs, or an
// unknown value" described by the flags (pure, str, ints, usc, internal).
type av struct {
	cs       []cv
	top      bool
	pure     bool // top only: built from template constants alone
	str      bool // top only: may be a string
	ints     bool // top only: a sequence of integers (range with unknown bounds)
	usc      bool // top only: a template constant containing '_' may have flowed in
	internal bool // top only: derived from Python internals (dunder chain, global object)
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

// one makes a value of one constant; an unknown element becomes top and
// alternatives become their union.
func one(c cv) av {
	switch c.k {
	case kUnk:
		return avOfFlags(c.i)
	case kAlt:
		out := av{}
		for _, e := range c.elems {
			out = join(out, one(e))
		}
		if !out.top && len(out.cs) == 0 {
			return undefAV
		}
		return out
	}
	return av{cs: []cv{c}}
}

func avOfFlags(f int64) av {
	return av{top: true, pure: f&fPure != 0, str: f&fStr != 0, ints: f&fInts != 0, usc: f&fUsc != 0, internal: f&fInternal != 0}
}

// topFlags are the flags of v's unknown part.
func (v av) topFlags() int64 {
	var f int64
	if v.pure {
		f |= fPure
	}
	if v.str {
		f |= fStr
	}
	if v.ints {
		f |= fInts
	}
	if v.usc {
		f |= fUsc
	}
	if v.internal {
		f |= fInternal
	}
	return f
}

// unkOf is v's unknown part as an element (for product).
func (v av) unkOf() cv { return cv{k: kUnk, i: v.topFlags()} }

// flagsOf summarises what a constant could contribute to an unknown value
// made from it. budget bounds the walk; past it the answer is pessimistic.
func flagsOf(c cv, budget *int) int64 {
	*budget--
	if *budget < 0 {
		return fPure | fUsc
	}
	switch c.k {
	case kStr:
		f := fPure | fStr
		if strings.IndexByte(c.s, '_') >= 0 {
			f |= fUsc
		}
		return f
	case kUnk:
		return c.i
	case kUndef:
		return 0 // a missing variable or argument: render-time data
	case kPat, kList, kDict, kAlt:
		f := fPure
		if c.k == kPat {
			f |= fStr
		}
		for _, es := range [][]cv{c.elems, c.vals} {
			for _, e := range es {
				g := flagsOf(e, budget)
				if g&fPure == 0 {
					f &^= fPure
				}
				f |= g & (fUsc | fInternal)
			}
		}
		return f
	}
	return fPure
}

// cvFlags is flagsOf with a fixed budget.
func cvFlags(c cv) int64 {
	b := 256
	return flagsOf(c, &b)
}

// combineFlags is the flags of an unknown value computed from all of cs.
func combineFlags(cs []cv, str bool) int64 {
	f := fPure
	for _, c := range cs {
		g := cvFlags(c)
		if g&fPure == 0 {
			f &^= fPure
		}
		f |= g & (fUsc | fInternal)
	}
	if str {
		f |= fStr
	}
	return f
}

// flagsAV summarises a whole value (candidates and unknown part).
func (v av) flagsAV() int64 {
	f := fPure
	if v.top {
		f = v.topFlags()
	}
	for _, c := range v.cs {
		g := cvFlags(c)
		if g&fPure == 0 {
			f &^= fPure
		}
		f |= g & (fUsc | fInternal | fStr)
	}
	return f
}

func strV(s string) cv        { return cv{k: kStr, s: s} }
func intV(i int64) cv         { return cv{k: kInt, i: i} }
func boolV(b bool) cv         { return cv{k: kBool, i: b2i(b)} }
func topOf(pure, str bool) av { return av{top: true, pure: pure, str: str} }

// withInternal marks the unknown part of a top value as Python internals.
func (v av) withInternal(yes bool) av {
	if yes && v.top {
		v.internal = true
	}
	return v
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// isPure says whether v was built from template constants only.
func (v av) isPure() bool {
	if v.top && !v.pure {
		return false
	}
	for _, c := range v.cs {
		if c.k == kPat || c.k == kList || c.k == kDict {
			if cvFlags(c)&fPure == 0 {
				return false
			}
		}
	}
	return true
}

func (v av) mayStr() bool {
	if v.top && v.str {
		return true
	}
	for _, c := range v.cs {
		if c.k == kStr || c.k == kPat {
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
	case kInt, kBool, kNS, kMacro, kUnk:
		b.WriteString(strconv.FormatInt(c.i, 10))
		if c.big {
			b.WriteByte('B')
		}
	case kFloat:
		b.WriteString(strconv.FormatFloat(c.f, 'g', -1, 64))
	case kList, kDict, kPat, kAlt:
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
	var b strings.Builder
	if v.top {
		b.WriteString("T" + strconv.FormatInt(v.topFlags(), 10) + "/")
	}
	for _, c := range v.cs {
		c.key(&b)
		b.WriteByte(';')
	}
	return b.String()
}

func eqAV(a, b av) bool {
	if a.top != b.top || (a.top && a.topFlags() != b.topFlags()) {
		return false
	}
	if len(a.cs) != len(b.cs) {
		return false
	}
	return a.keyString() == b.keyString()
}

// join is the union of two values. An av that is neither top nor has
// candidates is "nothing" (the start of a union).
func join(a, b av) av {
	if !a.top && len(a.cs) == 0 {
		return b
	}
	if !b.top && len(b.cs) == 0 {
		return a
	}
	out := av{cs: make([]cv, 0, len(a.cs)+len(b.cs))}
	if a.top || b.top {
		var f int64
		switch {
		case a.top && b.top:
			fa, fb := a.topFlags(), b.topFlags()
			f = (fa | fb) &^ (fPure | fInts)
			f |= fa & fb & (fPure | fInts)
		case a.top:
			f = a.topFlags()
		default:
			f = b.topFlags()
		}
		out = avOfFlags(f)
		out.cs = make([]cv, 0, len(a.cs)+len(b.cs))
	}
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
		f := combineFlags(out.cs, false)
		if out.top {
			g := out.topFlags()
			f = (f | g) &^ (fPure | fInts)
			f |= cvFlagsAnd(out.cs, g)
		}
		if out.mayStr() {
			f |= fStr
		}
		return avOfFlags(f)
	}
	return out
}

// cvFlagsAnd keeps fPure when both the constants and the unknown part are pure.
func cvFlagsAnd(cs []cv, g int64) int64 {
	if g&fPure != 0 && combineFlags(cs, false)&fPure != 0 {
		return fPure
	}
	return 0
}

// sameCV compares two constants.
func sameCV(a, b cv) bool {
	if a.k != b.k {
		return false
	}
	switch a.k {
	case kStr, kGlobal, kObj:
		return a.s == b.s
	case kInt, kBool, kNS, kMacro, kUnk:
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
	if v.top && !v.ints {
		return false
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
	fa, fb := a.flagsAV(), b.flagsAV()
	f := (fa | fb) &^ (fPure | fInts | fStr)
	f |= fa & fb & fPure
	if a.mayStr() || b.mayStr() {
		f |= fStr
	}
	if a.intSeq() && b.intSeq() {
		f |= fInts
	}
	return avOfFlags(f)
}

// defined drops undefined candidates (for sinks); a top value keeps the
// candidates it may be.
func (v av) defined() []cv {
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
	case kPat:
		for _, e := range c.elems {
			if e.k == kStr && e.s != "" {
				return 1
			}
		}
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
	case kUndef:
		return nil, true // iterating Undefined yields nothing
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

// dundersIn lists up to max distinct dunder-shaped names in s, the Python
// special names first.
func dundersIn(s string, max int) []string {
	var special, other []string
	seen := map[string]bool{}
	for i := 0; i < len(s) && len(special)+len(other) < 4*max; {
		d := dunderIn(s[i:])
		if d == "" {
			break
		}
		k := strings.Index(s[i:], d)
		i += k + len(d)
		if seen[d] {
			continue
		}
		seen[d] = true
		if pySpecial[d] {
			special = append(special, d)
		} else {
			other = append(other, d)
		}
	}
	out := append(special, other...)
	if len(out) > max {
		out = out[:max]
	}
	return out
}

// frameWordIn finds a frame, generator or code attribute name (f_globals,
// gi_frame…) standing as a word in s.
func frameWordIn(s string) string {
	for i := 0; i < len(s); {
		if !isIdentByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isIdentByte(s[j]) {
			j++
		}
		if pyFrameWords[s[i:j]] {
			return s[i:j]
		}
		i = j
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
