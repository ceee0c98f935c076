package jinja

import "strings"

// Strings with unknown parts. A kPat value is a sequence of literal pieces
// and holes (kUnk: text known only at render time). Patterns keep what the
// template's own constants contribute to a string mixed with runtime data,
// so that `hm_unset|default('_') ~ 'init' ~ …` or `'%c' % unknown ~ 'class'`
// can still be recognised as a name that may be a dunder.

const maxPatParts = 32

type patB struct {
	parts []cv
	lit   strings.Builder
	n     int // bytes of literal text
	max   int
	bad   bool
}

func (p *patB) str(s string) {
	p.n += len(s)
	if p.n > p.max {
		p.bad = true
		return
	}
	p.lit.WriteString(s)
}

func (p *patB) flush() {
	if p.lit.Len() > 0 {
		p.parts = append(p.parts, strV(p.lit.String()))
		p.lit.Reset()
	}
}

// hole adds unknown text; adjacent holes merge.
func (p *patB) hole(f int64) {
	p.flush()
	f |= fStr
	if k := len(p.parts); k > 0 && p.parts[k-1].k == kUnk {
		g := p.parts[k-1].i
		m := (f | g) &^ fPure
		m |= f & g & fPure
		p.parts[k-1].i = m
		return
	}
	p.parts = append(p.parts, cv{k: kUnk, i: f})
	if len(p.parts) > maxPatParts {
		p.bad = true
	}
}

// add appends the str() of a constant, a hole for an unknown value.
func (p *patB) add(c cv) {
	switch c.k {
	case kStr:
		p.str(c.s)
	case kPat:
		for _, e := range c.elems {
			if e.k == kStr {
				p.str(e.s)
			} else {
				p.hole(e.i)
			}
		}
	case kUnk:
		p.hole(c.i)
	default:
		s, ok := c.pyStr()
		if !ok {
			p.hole(cvFlags(c))
			return
		}
		p.str(s)
	}
}

// done returns the string or pattern; ok is false past the caps.
func (p *patB) done() (cv, bool) {
	if p.bad {
		return cv{}, false
	}
	if len(p.parts) == 0 {
		return strV(p.lit.String()), true
	}
	p.flush()
	return cv{k: kPat, elems: p.parts}, true
}

func isIdentByte(c byte) bool { return isASCIIAlnum(c) || c == '_' }

// patMayDunder says whether some filling of the holes (each any run of
// identifier characters, possibly empty) makes p a dunder name, and
// whether '_' material (a literal underscore, an underscore-tainted or
// template-built hole) takes part: a key that is pure runtime data is not
// judged.
func patMayDunder(p cv) bool {
	if p.k != kPat || len(p.elems) == 0 {
		return false
	}
	usc := false
	lits := 0
	for _, e := range p.elems {
		if e.k == kStr {
			for i := 0; i < len(e.s); i++ {
				if !isIdentByte(e.s[i]) {
					return false
				}
			}
			if e.s != "" {
				lits++
			}
			if strings.IndexByte(e.s, '_') >= 0 {
				usc = true
			}
		} else if e.i&(fUsc|fPure) != 0 {
			usc = true
		}
	}
	if lits == 0 || !usc {
		return false
	}
	first, last := p.elems[0], p.elems[len(p.elems)-1]
	if first.k == kStr && !compatPrefix(first.s) {
		return false
	}
	if last.k == kStr && !compatPrefix(reverseASCII(last.s)) {
		return false
	}
	return true
}

// compatPrefix: a literal that starts the name (followed by a hole) can
// begin "__".
func compatPrefix(s string) bool {
	return strings.HasPrefix(s, "__") || s == "_"
}

func reverseASCII(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// patLiterals returns the literal pieces of a pattern.
func patLiterals(p cv) []string {
	var out []string
	for _, e := range p.elems {
		if e.k == kStr {
			out = append(out, e.s)
		}
	}
	return out
}

// patText renders a pattern with holes as the given marker.
func patText(p cv, hole string) string {
	var b strings.Builder
	for _, e := range p.elems {
		if e.k == kStr {
			b.WriteString(e.s)
		} else {
			b.WriteString(hole)
		}
	}
	return b.String()
}

// patFromText splits text rendered by patText back into a pattern.
func patFromText(s, hole string, f int64) cv {
	parts := strings.Split(s, hole)
	var out []cv
	for i, p := range parts {
		if i > 0 {
			out = append(out, cv{k: kUnk, i: f | fStr})
		}
		if p != "" {
			out = append(out, strV(p))
		}
	}
	if len(parts) == 1 {
		return strV(s)
	}
	return cv{k: kPat, elems: out}
}

// holeFlags are the combined flags of a pattern's holes.
func holeFlags(p cv) int64 {
	f := fPure
	for _, e := range p.elems {
		if e.k == kUnk {
			if e.i&fPure == 0 {
				f &^= fPure
			}
			f |= e.i & (fUsc | fInternal)
		}
	}
	return f
}
