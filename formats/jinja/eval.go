package jinja

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// mkStr makes a folded string, enforcing the length cap.
func (in *interp) mkStr(s string, sp span) (cv, bool) {
	if len(s) > in.maxStr {
		in.a.limitAt(sp.off, "folded string length")
		return cv{}, false
	}
	in.step(len(s)/32, sp.off)
	return strV(s), true
}

// product applies f to every combination of candidates of vals; the
// unknown part of a top value takes part as a kUnk element. f returns
// ok=false for a result it cannot fold: that combination is then an unknown
// value whose flags come from its inputs. A kUnk result is unknown, a kAlt
// result the union of its elements.
func (in *interp) product(vals []av, sp span, str bool, f func([]cv) (cv, bool)) av {
	n := 1
	for _, v := range vals {
		k := len(v.cs)
		if v.top {
			k++
		}
		n *= max(k, 1)
		if n > 4*maxCands {
			n = -1
			break
		}
	}
	if n < 0 || in.degraded {
		fl := fPure
		for _, v := range vals {
			g := v.flagsAV()
			if g&fPure == 0 {
				fl &^= fPure
			}
			fl |= g & (fUsc | fInternal)
		}
		if str {
			fl |= fStr
		}
		return avOfFlags(fl)
	}
	var out av
	cur := make([]cv, len(vals))
	var rec func(i int) bool
	rec = func(i int) bool {
		if i == len(vals) {
			c, ok := f(cur)
			if !ok {
				c = cv{k: kUnk, i: combineFlags(cur, str)}
			}
			out = join(out, one(c))
			return !out.top || len(out.cs) > 0 || true
		}
		if len(vals[i].cs) == 0 && !vals[i].top {
			cur[i] = cv{k: kUndef}
			return rec(i + 1)
		}
		for _, c := range vals[i].cs {
			cur[i] = c
			if !rec(i + 1) {
				return false
			}
		}
		if vals[i].top {
			cur[i] = vals[i].unkOf()
			return rec(i + 1)
		}
		return true
	}
	rec(0)
	if !out.top && len(out.cs) == 0 {
		return topOf(true, str)
	}
	return out
}

// concat is the ~ operator (and template output): str() of every part.
func (in *interp) concat(parts []av, sp span) av {
	n := 1
	for _, v := range parts {
		k := len(v.cs)
		if v.top {
			k++
		}
		n *= max(k, 1)
		if n > 4*maxCands {
			break
		}
	}
	if n > 4*maxCands && !in.degraded {
		// too many combinations: a part with several candidates becomes
		// one hole, so the string keeps its constant pieces
		coll := make([]av, len(parts))
		for i, v := range parts {
			if v.top || len(v.cs) > 1 {
				coll[i] = av{cs: []cv{{k: kUnk, i: v.flagsAV() | fStr}}} // local to this product
			} else {
				coll[i] = v
			}
		}
		parts = coll
	}
	return in.product(parts, sp, true, func(cs []cv) (cv, bool) {
		p := patB{max: in.maxStr}
		for _, c := range cs {
			p.add(c)
		}
		return in.patDone(&p, sp)
	})
}

// patDone finishes a string or pattern, enforcing the caps.
func (in *interp) patDone(p *patB, sp span) (cv, bool) {
	if p.n > in.maxStr {
		in.a.limitAt(sp.off, "folded string length")
		return cv{}, false
	}
	c, ok := p.done()
	if !ok {
		return cv{}, false
	}
	if c.k == kStr {
		return in.mkStr(c.s, sp)
	}
	in.step(p.n/32+len(c.elems), sp.off)
	return c, true
}

func (in *interp) eval(x expr) av {
	in.step(1, x.pos().off)
	switch x := x.(type) {
	case *constExpr:
		if x.v.k == kStr {
			in.checkString(x.v.s, x.span)
		}
		return one(x.v)
	case *nameExpr:
		in.checkIdent(x.name, x.span)
		if v, ok := in.lookup(x.name); ok {
			return v
		}
		if sensitiveBare[x.name] {
			in.a.add(RuleGlobal, finding.Medium, x.span, x.name,
				"template uses the global "+quote(x.name)+", which real chat templates never need and which leads to Python internals")
		}
		return in.globalValue(x.name)
	case *getattrExpr:
		base := in.eval(x.obj)
		in.checkAccess(x.attr, x.span, viaAttr, acc{internal: base.internal, data: in.nsData(base, x.attr)})
		in.checkBase(base, x.span, x.attr)
		return internalIf(in.getattr(base, x.attr), strings.HasPrefix(x.attr, "_") || reachesInternals(base))
	case *getitemExpr:
		return in.evalGetitem(x, false)
	case *sliceExpr:
		in.evalOpt(x.start)
		in.evalOpt(x.stop)
		in.evalOpt(x.step)
		return topOf(true, false)
	case *callExpr:
		return in.evalCall(x)
	case *filterExpr:
		var input av
		if x.node != nil {
			input = in.eval(x.node)
		} else {
			input = topImpure
		}
		return in.evalFilter(x, input)
	case *testExpr:
		v := in.eval(x.node)
		args, kw := in.evalArgs(&x.callArgs, x.span)
		return in.applyTest(x.name, v, args, kw, x.span)
	case *binExpr:
		l := in.eval(x.l)
		r := in.eval(x.r)
		return in.binary(x.op, l, r, x.span)
	case *unaryExpr:
		v := in.eval(x.x)
		switch x.op {
		case "not":
			return in.product([]av{v}, x.span, false, func(cs []cv) (cv, bool) {
				t := cs[0].truth()
				return boolV(t == 0), t >= 0
			})
		case "-":
			return in.product([]av{v}, x.span, false, func(cs []cv) (cv, bool) {
				switch c := cs[0]; c.k {
				case kInt, kBool:
					if c.big || c.i == math.MinInt64 {
						return cv{}, false
					}
					return intV(-c.i), true
				case kFloat:
					return cv{k: kFloat, f: -c.f}, true
				}
				return cv{}, false
			})
		}
		return v
	case *compareExpr:
		vals := []av{in.eval(x.x)}
		for _, o := range x.ops {
			vals = append(vals, in.eval(o.x))
		}
		return in.product(vals, x.span, false, func(cs []cv) (cv, bool) {
			for i, o := range x.ops {
				r, ok := compare(o.op, cs[i], cs[i+1])
				if !ok {
					return cv{}, false
				}
				if !r {
					return boolV(false), true
				}
			}
			return boolV(true), true
		})
	case *concatExpr:
		parts := make([]av, len(x.parts))
		for i, p := range x.parts {
			parts[i] = in.eval(p)
		}
		r := in.concat(parts, x.span)
		in.checkValueStrings(r, x.span)
		return r
	case *condExpr:
		in.eval(x.test)
		t := in.eval(x.then)
		e := undefAV
		if x.els != nil {
			e = in.eval(x.els)
		}
		return join(t, e)
	case *listExpr:
		vals := make([]av, len(x.items))
		for i, it := range x.items {
			vals[i] = in.eval(it)
		}
		if len(vals) > maxItems {
			return topOf(allPure(vals), false)
		}
		return in.product(vals, x.span, false, func(cs []cv) (cv, bool) { return in.mkList(cs, x.span) })
	case *dictExpr:
		vals := make([]av, 0, 2*len(x.pairs))
		for _, p := range x.pairs {
			vals = append(vals, in.eval(p.k), in.eval(p.v))
		}
		if len(x.pairs) > maxItems {
			return topOf(allPure(vals), false)
		}
		return in.product(vals, x.span, false, func(cs []cv) (cv, bool) {
			d := cv{k: kDict}
			for i := 0; i+1 < len(cs); i += 2 {
				if cs[i].k == kUnk || cs[i].k == kPat {
					return cv{}, false
				}
				d = dictSet(d, cs[i], cs[i+1])
			}
			return in.checkWeight(d, x.span)
		})
	case *nsrefExpr:
		return topImpure
	}
	return topImpure
}

// evalGetitem is x[key] (and x[a:b]); called says the result is called.
func (in *interp) evalGetitem(x *getitemExpr, called bool) av {
	base := in.eval(x.obj)
	if sl, ok := x.arg.(*sliceExpr); ok {
		parts := []av{base, in.evalOpt(sl.start), in.evalOpt(sl.stop), in.evalOpt(sl.step)}
		r := in.product(parts, x.span, base.mayStr(), func(cs []cv) (cv, bool) { return in.slice(cs[0], cs[1], cs[2], cs[3], x.span) })
		in.checkValueStrings(r, x.span)
		return r
	}
	key := in.eval(x.arg)
	for _, c := range key.defined() {
		if c.k == kStr {
			in.checkBase(base, x.span, c.s)
		}
	}
	may := in.judgeName(key, x.span, sinkItem, "item key", acc{called: called, internal: base.internal})
	r := in.product([]av{base, key}, x.span, true, func(cs []cv) (cv, bool) {
		if c, ok := getitemConst(cs[0], cs[1]); ok {
			return c, true
		}
		// an element of an unknown object: the key's own text does not flow
		// into it
		f := cvFlags(cs[0]) | fStr
		if cvFlags(cs[1])&fPure == 0 {
			f &^= fPure
		}
		return cv{k: kUnk, i: f}, true
	})
	return internalIf(r, may || reachesInternals(base))
}

// reachesInternals says whether reading from v leads further into Python
// internals: v came from a dunder chain, or is a global object itself.
func reachesInternals(v av) bool {
	if v.top && v.internal {
		return true
	}
	for _, c := range v.cs {
		if c.k == kGlobal && globalObjects[c.s] {
			return true
		}
	}
	return false
}

// internalIf marks a value read from Python internals.
func internalIf(v av, yes bool) av {
	if !yes {
		return v
	}
	return join(v, av{top: true, str: true, internal: true})
}

// nsData says whether every object v may be is a namespace on which the
// template itself set attr (then reading it reads the template's data).
func (in *interp) nsData(v av, attr string) bool {
	if v.top || len(v.cs) == 0 {
		return false
	}
	for _, c := range v.cs {
		if c.k != kNS {
			return false
		}
		if _, ok := in.st.heap[nsKey{int(c.i), attr}]; !ok {
			return false
		}
	}
	return true
}

// mkList makes a folded list, enforcing the size caps.
func (in *interp) mkList(cs []cv, sp span) (cv, bool) {
	if len(cs) > maxItems {
		return cv{}, false
	}
	return in.checkWeight(cv{k: kList, elems: append([]cv(nil), cs...)}, sp)
}

func (in *interp) checkWeight(c cv, sp span) (cv, bool) {
	w := c.weight()
	if w > maxWeight {
		return cv{}, false
	}
	in.step(w/8, sp.off)
	return c, true
}

func allPure(vals []av) bool {
	for _, v := range vals {
		if !v.isPure() {
			return false
		}
	}
	return true
}

func (in *interp) evalOpt(x expr) av {
	if x == nil {
		return one(cv{k: kNone})
	}
	return in.eval(x)
}

func dictSet(d cv, k, v cv) cv {
	ks := k.keyString()
	for i, e := range d.elems {
		if e.keyString() == ks {
			vals := append([]cv(nil), d.vals...)
			vals[i] = v
			return cv{k: kDict, elems: d.elems, vals: vals}
		}
	}
	return cv{k: kDict, elems: append(append([]cv(nil), d.elems...), k), vals: append(append([]cv(nil), d.vals...), v)}
}

func dictGet(d cv, k cv) (cv, bool) {
	ks := k.keyString()
	for i, e := range d.elems {
		if e.keyString() == ks && i < len(d.vals) {
			return d.vals[i], true
		}
	}
	return cv{}, false
}

func (in *interp) getattr(base av, name string) av {
	var out av
	first := true
	add := func(v av) {
		if first {
			out, first = v, false
		} else {
			out = join(out, v)
		}
	}
	if base.top {
		add(av{top: true, pure: base.pure, str: true, internal: base.internal})
	}
	for _, c := range base.cs {
		switch c.k {
		case kDict:
			if v, ok := dictGet(c, strV(name)); ok {
				add(one(v))
			} else {
				add(undefAV)
			}
		case kNS:
			if v, ok := in.st.heap[nsKey{int(c.i), name}]; ok {
				add(v)
			} else {
				add(undefAV)
			}
		case kUndef:
			add(undefAV)
		case kStr, kList, kInt, kFloat, kBool, kNone:
			// a method or property of a constant, else Undefined
			if constAttrs[c.k][name] {
				add(topOf(cvFlags(c)&fPure != 0, false))
			} else {
				add(undefAV)
			}
		default:
			add(topImpure)
		}
	}
	if first {
		return topImpure
	}
	return out
}

// alternatives is a kAlt of distinct constants (false past maxCands).
func alternatives(cs []cv) (cv, bool) {
	var out []cv
	for _, c := range cs {
		dup := false
		for _, o := range out {
			if sameCV(o, c) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c)
			if len(out) > maxCands {
				return cv{}, false
			}
		}
	}
	return cv{k: kAlt, elems: out}, true
}

func getitemConst(base, key cv) (cv, bool) {
	if key.k == kUnk && key.i&fInts == 0 {
		// an unknown index or key selects any element (or nothing, or a
		// method when it is a string)
		var elems []cv
		switch base.k {
		case kStr, kList:
			items, ok := base.items()
			if !ok {
				return cv{}, false
			}
			elems = items
		case kDict:
			elems = base.vals
		default:
			return cv{}, false
		}
		alts := append(append([]cv(nil), elems...), cv{k: kUndef})
		if key.i&fStr != 0 {
			alts = append(alts, cv{k: kUnk, i: key.i &^ fPure})
		}
		return alternatives(alts)
	}
	switch base.k {
	case kDict:
		if v, ok := dictGet(base, key); ok {
			return v, true
		}
		if key.k == kStr {
			return cv{k: kUndef}, true
		}
	case kList, kStr:
		if key.k == kInt && !key.big {
			items, ok := base.items()
			if !ok {
				return cv{}, false
			}
			i := key.i
			if i < 0 {
				i += int64(len(items))
			}
			if i < 0 || i >= int64(len(items)) {
				return cv{k: kUndef}, true
			}
			return items[i], true
		}
		if key.k == kStr {
			return cv{k: kUndef}, true
		}
	case kUndef:
		return cv{k: kUndef}, true
	}
	return cv{}, false
}

func optInt(c cv) (int64, bool, bool) { // value, present, ok
	switch c.k {
	case kNone, kUndef:
		return 0, false, true
	case kInt, kBool:
		if c.big {
			return 0, false, false
		}
		return c.i, true, true
	}
	return 0, false, false
}

// slice is Python's seq[start:stop:step] on a string or list.
func (in *interp) slice(base, a, b, c cv, sp span) (cv, bool) {
	if (a.k == kUnk || b.k == kUnk) && base.k == kStr && (c.k == kNone || c.k == kUndef) {
		return in.substrings(base.s, a.k == kUnk, b.k == kUnk, a, b, sp)
	}
	start, hasStart, ok1 := optInt(a)
	stop, hasStop, ok2 := optInt(b)
	step, hasStep, ok3 := optInt(c)
	if !ok1 || !ok2 || !ok3 {
		return cv{}, false
	}
	if !hasStep {
		step = 1
	}
	if step == 0 || step == math.MinInt64 {
		return cv{}, false
	}
	var n int64
	var rs []rune
	switch base.k {
	case kStr:
		rs = []rune(base.s)
		n = int64(len(rs))
	case kList:
		n = int64(len(base.elems))
	default:
		return cv{}, false
	}
	norm := func(v int64, has bool, def int64) int64 {
		if !has {
			return def
		}
		if v < 0 {
			v += n
			if v < 0 {
				if step < 0 {
					return -1
				}
				return 0
			}
		} else if v >= n {
			if step < 0 {
				return n - 1
			}
			return n
		}
		return v
	}
	var idx []int64
	if step > 0 {
		s, e := norm(start, hasStart, 0), norm(stop, hasStop, n)
		for i := s; i < e; i += step {
			idx = append(idx, i)
			if uint64(e)-uint64(i) <= uint64(step) {
				break // the next index would pass the end (or overflow)
			}
		}
	} else {
		s, e := norm(start, hasStart, n-1), norm(stop, hasStop, -1)
		for i := s; i > e; i += step {
			idx = append(idx, i)
			if uint64(i)-uint64(e) <= -uint64(step) {
				break
			}
		}
	}
	in.step(len(idx)/8, sp.off)
	if base.k == kStr {
		var b strings.Builder
		for _, i := range idx {
			b.WriteRune(rs[i])
		}
		return in.mkStr(b.String(), sp)
	}
	out := make([]cv, len(idx))
	for k, i := range idx {
		out[k] = base.elems[i]
	}
	return cv{k: kList, elems: out}, true
}

// substrings lists what s[a:b] can be when a or b is unknown.
func (in *interp) substrings(s string, ua, ub bool, a, b cv, sp span) (cv, bool) {
	rs := []rune(s)
	n := len(rs)
	if n > maxCands*4 {
		return cv{}, false
	}
	var out []cv
	add := func(i, j int) bool {
		if i < 0 {
			i = 0
		}
		if j > n {
			j = n
		}
		if i > j {
			i = j
		}
		out = append(out, strV(string(rs[i:j])))
		return len(out) <= 8*maxCands
	}
	lo, hi := 0, n
	if !ua {
		v, has, ok := optInt(a)
		if !ok {
			return cv{}, false
		}
		if has {
			lo = int(max(min(v, int64(n)), -int64(n)))
			if lo < 0 {
				lo += n
			}
		}
	}
	if !ub {
		v, has, ok := optInt(b)
		if !ok {
			return cv{}, false
		}
		if has {
			hi = int(max(min(v, int64(n)), -int64(n)))
			if hi < 0 {
				hi += n
			}
		}
	}
	in.step(n, sp.off)
	for i := 0; i <= n; i++ {
		if !ua && i != lo {
			continue
		}
		for j := i; j <= n; j++ {
			if !ub && j != hi {
				continue
			}
			if !add(i, j) {
				return cv{}, false
			}
		}
	}
	if !ub && len(out) == 0 {
		out = append(out, strV(""))
	}
	return alternatives(out)
}

func numOf(c cv) (float64, bool) {
	switch c.k {
	case kInt, kBool:
		if c.big {
			return 0, false
		}
		return float64(c.i), true
	case kFloat:
		return c.f, true
	}
	return 0, false
}

func compare(op string, a, b cv) (bool, bool) {
	if a.k == kUnk || b.k == kUnk || a.k == kPat || b.k == kPat {
		return false, false
	}
	switch op {
	case "eq", "ne":
		if a.k == kUndef || b.k == kUndef {
			return false, false
		}
		eq := a.keyString() == b.keyString()
		if fa, ok := numOf(a); ok {
			if fb, ok := numOf(b); ok {
				eq = fa == fb
			}
		}
		return eq == (op == "eq"), true
	case "in", "notin":
		var r bool
		switch b.k {
		case kStr:
			if a.k != kStr {
				return false, false
			}
			r = strings.Contains(b.s, a.s)
		case kList, kDict:
			ks := a.keyString()
			unk := false
			for _, e := range b.elems {
				if e.keyString() == ks {
					r = true
				}
				unk = unk || e.k == kUnk || e.k == kPat
			}
			if !r && unk {
				return false, false
			}
		default:
			return false, false
		}
		return r == (op == "in"), true
	}
	if a.k == kStr && b.k == kStr {
		c := strings.Compare(a.s, b.s)
		return cmpResult(op, c), true
	}
	fa, ok1 := numOf(a)
	fb, ok2 := numOf(b)
	if !ok1 || !ok2 {
		return false, false
	}
	c := 0
	if fa < fb {
		c = -1
	} else if fa > fb {
		c = 1
	}
	return cmpResult(op, c), true
}

func cmpResult(op string, c int) bool {
	switch op {
	case "lt":
		return c < 0
	case "lteq":
		return c <= 0
	case "gt":
		return c > 0
	case "gteq":
		return c >= 0
	}
	return false
}

func (in *interp) binary(op string, l, r av, sp span) av {
	switch op {
	case "and", "or":
		// Python returns one of the operands.
		var out av
		first := true
		if l.top {
			out, first = join(avOfFlags(l.topFlags()), r), false
		}
		for _, c := range l.cs {
			t := c.truth()
			var v av
			switch {
			case t < 0:
				v = join(one(c), r)
			case (t == 1) == (op == "or"):
				v = one(c)
			default:
				v = r
			}
			if first {
				out, first = v, false
			} else {
				out = join(out, v)
			}
		}
		if first {
			return r
		}
		return out
	}
	str := (op == "+" || op == "*" || op == "%") && (l.mayStr() || r.mayStr())
	res := in.product([]av{l, r}, sp, str, func(cs []cv) (cv, bool) { return in.arith(op, cs[0], cs[1], sp) })
	if str {
		in.checkValueStrings(res, sp)
	}
	return res
}

func (in *interp) arith(op string, a, b cv, sp span) (cv, bool) {
	switch op {
	case "+":
		switch {
		case (a.k == kPat || b.k == kPat || a.k == kUnk || b.k == kUnk) && isStrish(a) && isStrish(b):
			p := patB{max: in.maxStr}
			p.add(a)
			p.add(b)
			return in.patDone(&p, sp)
		case a.k == kStr && b.k == kStr:
			if len(a.s)+len(b.s) > in.maxStr {
				in.a.limitAt(sp.off, "folded string length")
				return cv{}, false
			}
			return in.mkStr(a.s+b.s, sp)
		case a.k == kList && b.k == kList:
			if len(a.elems)+len(b.elems) > maxItems {
				return cv{}, false
			}
			return in.mkList(append(append([]cv(nil), a.elems...), b.elems...), sp)
		}
	case "*":
		if (a.k == kInt || a.k == kBool) && (b.k == kStr || b.k == kList || b.k == kPat) {
			a, b = b, a
		}
		if a.k == kPat && (b.k == kInt || b.k == kBool) && !b.big {
			if b.i > 16 {
				return cv{}, false
			}
			p := patB{max: in.maxStr}
			for i := int64(0); i < b.i; i++ {
				p.add(a)
			}
			return in.patDone(&p, sp)
		}
		if (a.k == kStr || a.k == kList) && (b.k == kInt || b.k == kBool) {
			n := b.i
			if b.big {
				in.a.limitAt(sp.off, "folded string length")
				return cv{}, false
			}
			if n <= 0 {
				if a.k == kStr {
					return strV(""), true
				}
				return cv{k: kList}, true
			}
			if a.k == kStr {
				if len(a.s) > 0 && n > int64(in.maxStr/len(a.s)) {
					in.a.limitAt(sp.off, "folded string length")
					return cv{}, false
				}
				return in.mkStr(strings.Repeat(a.s, int(n)), sp)
			}
			if len(a.elems) == 0 {
				return cv{k: kList}, true
			}
			if n > int64(maxItems/len(a.elems)) {
				return cv{}, false
			}
			var out []cv
			for i := int64(0); i < n; i++ {
				out = append(out, a.elems...)
			}
			return in.mkList(out, sp)
		}
	case "%":
		if a.k == kStr {
			var args []cv
			var mapping *cv
			switch b.k {
			case kUnk:
				return in.printfUnknown(a.s, b.i, sp)
			case kList:
				args = b.elems
			case kDict:
				mapping = &b
				args = []cv{b}
			default:
				args = []cv{b}
			}
			return in.printf(a.s, args, mapping, sp)
		}
	}
	if (a.k == kInt || a.k == kBool) && (b.k == kInt || b.k == kBool) && !a.big && !b.big {
		x, y := a.i, b.i
		switch op {
		case "+":
			if s, ok := addOK(x, y); ok {
				return intV(s), true
			}
		case "-":
			if y != math.MinInt64 {
				if s, ok := addOK(x, -y); ok {
					return intV(s), true
				}
			}
		case "*":
			if s, ok := mulOK(x, y); ok {
				return intV(s), true
			}
		case "//", "%":
			if y == 0 || (x == math.MinInt64 && y == -1) {
				return cv{}, false
			}
			q, m := x/y, x%y
			if m != 0 && (m < 0) != (y < 0) {
				q--
				m += y
			}
			if op == "//" {
				return intV(q), true
			}
			return intV(m), true
		case "/":
			if y == 0 {
				return cv{}, false
			}
			return cv{k: kFloat, f: float64(x) / float64(y)}, true
		case "**":
			if y < 0 {
				return cv{}, false
			}
			r := int64(1)
			for i := int64(0); i < y; i++ {
				var ok bool
				if r, ok = mulOK(r, x); !ok {
					return cv{}, false
				}
				if r == 0 || r == 1 {
					break
				}
			}
			return intV(r), true
		}
	}
	return cv{}, false
}

func addOK(x, y int64) (int64, bool) {
	s := x + y
	if (x > 0 && y > 0 && s < 0) || (x < 0 && y < 0 && s >= 0) {
		return 0, false
	}
	return s, true
}

func mulOK(x, y int64) (int64, bool) {
	if x == 0 || y == 0 {
		return 0, true
	}
	if (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
		return 0, false
	}
	p := x * y
	if p/y != x {
		return 0, false
	}
	return p, true
}

// printf is Python's %-formatting for the conversions chat templates and
// payloads use; anything else is not folded.
func (in *interp) printf(f string, args []cv, mapping *cv, sp span) (cv, bool) {
	b := patB{max: in.maxStr}
	ai := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b.str(string(c))
			continue
		}
		i++
		if i >= len(f) {
			return cv{}, false
		}
		var arg cv
		if f[i] == '%' {
			b.str("%")
			continue
		}
		if f[i] == '(' {
			k := strings.IndexByte(f[i:], ')')
			if k < 0 || mapping == nil {
				return cv{}, false
			}
			v, ok := dictGet(*mapping, strV(f[i+1:i+k]))
			if !ok {
				return cv{}, false
			}
			arg = v
			i += k + 1
			if i >= len(f) {
				return cv{}, false
			}
		} else {
			if ai >= len(args) {
				return cv{}, false
			}
			arg = args[ai]
			ai++
		}
		var s string
		if arg.k == kUnk || arg.k == kPat {
			switch f[i] {
			case 's', 'r', 'a', 'c', 'd', 'i', 'u', 'x', 'X', 'o':
			default:
				return cv{}, false
			}
			if arg.k == kPat && (f[i] == 's') {
				b.add(arg)
				continue
			}
			fl := cvFlags(arg)
			if f[i] == 'c' {
				fl |= fUsc // one unknown character: it can be '_'
			}
			b.hole(fl)
			continue
		}
		switch f[i] {
		case 's':
			v, ok := arg.pyStr()
			if !ok || arg.k == kUndef {
				return cv{}, false
			}
			s = v
		case 'r', 'a':
			v, ok := arg.pyRepr()
			if !ok {
				return cv{}, false
			}
			s = v
		case 'd', 'i', 'u':
			if arg.k != kInt && arg.k != kBool || arg.big {
				return cv{}, false
			}
			s = strconv.FormatInt(arg.i, 10)
		case 'x', 'X', 'o':
			if arg.k != kInt && arg.k != kBool || arg.big {
				return cv{}, false
			}
			base := 16
			if f[i] == 'o' {
				base = 8
			}
			s = strconv.FormatInt(arg.i, base)
			if f[i] == 'X' {
				s = strings.ToUpper(s)
			}
		case 'c':
			switch {
			case arg.k == kInt && !arg.big && arg.i >= 0 && arg.i <= 0x10FFFF:
				var rb strings.Builder
				writeCode(&rb, rune(arg.i))
				s = rb.String()
			case arg.k == kStr && len([]rune(arg.s)) == 1:
				s = arg.s
			default:
				return cv{}, false
			}
		default:
			return cv{}, false // flags, width, precision, floats: not folded
		}
		b.str(s)
	}
	if mapping == nil && ai != len(args) {
		return cv{}, false // Python: not all arguments converted
	}
	return in.patDone(&b, sp)
}

// printfUnknown is fmt % x where x is not known: every conversion is a
// hole (a %c hole is one character, which may be '_').
func (in *interp) printfUnknown(f string, fl int64, sp span) (cv, bool) {
	b := patB{max: in.maxStr}
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.str(string(f[i]))
			continue
		}
		i++
		if i >= len(f) {
			return cv{}, false
		}
		switch f[i] {
		case '%':
			b.str("%")
		case 'c':
			b.hole(fl | fUsc)
		case 's', 'r', 'a', 'd', 'i', 'u', 'x', 'X', 'o':
			b.hole(fl)
		default:
			return cv{}, false
		}
	}
	return in.patDone(&b, sp)
}

func isStrish(c cv) bool { return c.k == kStr || c.k == kPat || (c.k == kUnk && c.i&fStr != 0) }

// ---- calls ----

func (in *interp) evalArgs(c *callArgs, sp span) ([]av, map[string]av) {
	args := make([]av, len(c.args))
	for i, a := range c.args {
		args[i] = in.eval(a)
	}
	var kw map[string]av
	if len(c.kwargs) > 0 {
		kw = make(map[string]av, len(c.kwargs))
		for _, k := range c.kwargs {
			in.checkIdent(k.key, span{k.off, k.off + len(k.key)})
			kw[k.key] = in.eval(k.val)
		}
	}
	if c.dynArgs != nil {
		args = append(args, in.eval(c.dynArgs))
	}
	if c.dynKwargs != nil {
		in.eval(c.dynKwargs)
	}
	return args, kw
}

func (in *interp) evalCall(x *callExpr) av {
	if ga, ok := x.fn.(*getattrExpr); ok {
		recv := in.eval(ga.obj)
		in.checkAccess(ga.attr, ga.span, viaAttr, acc{called: true, internal: recv.internal, data: in.nsData(recv, ga.attr)})
		in.checkBase(recv, ga.span, ga.attr)
		args, kw := in.evalArgs(&x.callArgs, x.span)
		r := in.callMethod(recv, ga, args, kw, x)
		return internalIf(r, isDunder(ga.attr) || reachesInternals(recv))
	}
	if n, ok := x.fn.(*nameExpr); ok && !in.bound(n.name) && dangerFuncs[n.name] {
		in.a.add(RuleDangerCall, finding.High, x.span, n.name,
			"template calls "+quote(n.name)+": a Python builtin that a chat template has no use for and that runs code where a renderer exposes it")
	}
	var fn av
	if gi, ok := x.fn.(*getitemExpr); ok {
		fn = in.evalGetitem(gi, true)
	} else {
		fn = in.eval(x.fn)
	}
	args, kw := in.evalArgs(&x.callArgs, x.span)
	if fn.top || in.degraded {
		for _, c := range fn.defined() {
			if c.k == kGlobal && c.s == "namespace" {
				return one(cv{k: kNS, i: int64(x.off)})
			}
		}
		return topOf(fn.isPure() && allPure(args), true).withInternal(fn.top && fn.internal)
	}
	var out av
	first := true
	for _, c := range fn.cs {
		var v av
		switch c.k {
		case kMacro:
			v = in.invoke(int(c.i), args, kw, x.span)
		case kGlobal:
			v = in.callGlobal(c.s, args, kw, x)
		default:
			v = topImpure
		}
		if first {
			out, first = v, false
		} else {
			out = join(out, v)
		}
	}
	if first {
		return topImpure
	}
	return out
}

// paramDefault is a parameter's default, or Undefined when it has none
// (Jinja passes Undefined for a missing argument).
func (in *interp) paramDefault(params []string, defaults []expr, i int) av {
	d := len(params) - len(defaults)
	if i >= d && i-d < len(defaults) {
		return in.eval(defaults[i-d])
	}
	return undefAV
}

// invoke analyses a macro body with the given arguments and returns its
// output. Calls with arguments already seen reuse the earlier result. The
// definition itself is analysed with args nil: parameters without a
// default are then Undefined, as in a call that omits them, so a name the
// body takes from a parameter is judged by what the call sites pass.
func (in *interp) invoke(idx int, args []av, kw map[string]av, sp span) av {
	m := in.macros[idx]
	if in.callDepth >= maxCallDepth+2 || (in.degraded && args != nil) {
		return topImpure
	}
	deep := in.callDepth >= maxCallDepth
	bind := make([]av, len(m.params))
	var key strings.Builder
	key.WriteString(strconv.Itoa(idx))
	for i, p := range m.params {
		switch {
		case i < len(args):
			bind[i] = args[i]
		case kw != nil && kw[p].cs != nil || kw != nil && kw[p].top:
			bind[i] = kw[p]
		default:
			bind[i] = in.paramDefault(m.params, m.defaults, i)
		}
		if deep {
			// past the depth cap the arguments are widened so that a
			// recursion converges on one memoised analysis
			bind[i] = widen(bind[i], bind[i])
		}
		key.WriteByte('|')
		key.WriteString(bind[i].keyString())
	}
	// extra positional arguments are varargs, unknown keywords kwargs
	var extra []av
	if len(args) > len(m.params) {
		extra = args[len(m.params):]
	}
	var kwNames []string
	for k := range kw {
		isParam := false
		for _, p := range m.params {
			isParam = isParam || p == k
		}
		if !isParam {
			kwNames = append(kwNames, k)
		}
	}
	sort.Strings(kwNames)
	varargs := in.product(extra, sp, false, func(cs []cv) (cv, bool) { return in.mkList(cs, sp) })
	kwVals := make([]av, len(kwNames))
	for i, k := range kwNames {
		kwVals[i] = kw[k]
	}
	kwargs := in.product(kwVals, sp, false, func(cs []cv) (cv, bool) {
		d := cv{k: kDict}
		for i, c := range cs {
			d = dictSet(d, strV(kwNames[i]), c)
		}
		return in.checkWeight(d, sp)
	})
	if deep {
		varargs, kwargs = widen(varargs, varargs), widen(kwargs, kwargs)
	}
	key.WriteString("|*" + varargs.keyString() + "|**" + kwargs.keyString())
	caller, hasCaller := in.lookup("caller")
	if hasCaller {
		key.WriteString("|c" + caller.keyString())
	}
	k := key.String()
	if v, ok := in.memo[k]; ok {
		return v
	}
	in.memo[k] = topImpure // a recursive call sees "unknown"
	in.callDepth++
	in.push()
	for i, p := range m.params {
		in.checkIdent(p, m.span)
		in.assign(p, bind[i])
	}
	in.assign("varargs", varargs)
	in.assign("kwargs", kwargs)
	if !hasCaller {
		in.assign("caller", undefAV)
	}
	out := one(strV(""))
	in.exec(m.body, &out)
	in.pop()
	in.callDepth--
	in.memo[k] = out
	return out
}

func (in *interp) callGlobal(name string, args []av, kw map[string]av, x *callExpr) av {
	switch name {
	case "range":
		if len(args) < 1 || len(args) > 3 || kw != nil {
			return av{top: true, pure: allPure(args), ints: true}
		}
		r := in.product(args, x.span, false, func(cs []cv) (cv, bool) {
			var n [3]int64
			for i, c := range cs {
				if (c.k != kInt && c.k != kBool) || c.big {
					return cv{}, false
				}
				n[i] = c.i
			}
			start, stop, step := int64(0), n[0], int64(1)
			if len(cs) >= 2 {
				start, stop = n[0], n[1]
			}
			if len(cs) == 3 {
				step = n[2]
			}
			if step == 0 {
				return cv{}, false
			}
			var out []cv
			for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
				if len(out) >= maxItems {
					return cv{}, false
				}
				out = append(out, intV(i))
				if (step > 0 && uint64(stop)-uint64(i) <= uint64(step)) || (step < 0 && uint64(i)-uint64(stop) <= -uint64(step)) {
					break // the next value would pass stop (or overflow)
				}
			}
			return cv{k: kList, elems: out}, true
		})
		if r.top {
			r.ints, r.str = true, false
		}
		return r
	case "dict":
		vals := []av{}
		var keys []string
		if len(args) == 1 {
			vals = append(vals, args[0])
		} else if len(args) > 1 {
			return topOf(allPure(args), false)
		}
		for k := range kw {
			keys = append(keys, k)
		}
		// keyword order is source order
		keys = in.kwOrder(x, keys)
		for _, k := range keys {
			vals = append(vals, kw[k])
		}
		return in.product(vals, x.span, false, func(cs []cv) (cv, bool) {
			d := cv{k: kDict}
			i := 0
			if len(args) == 1 {
				base := cs[0]
				i = 1
				switch base.k {
				case kDict:
					d = base
				case kList:
					for _, p := range base.elems {
						if p.k != kList || len(p.elems) != 2 {
							return cv{}, false
						}
						d = dictSet(d, p.elems[0], p.elems[1])
					}
				default:
					return cv{}, false
				}
			}
			for j, k := range keys {
				d = dictSet(d, strV(k), cs[i+j])
			}
			return d, true
		})
	case "namespace":
		site := x.off
		for k, v := range kw {
			in.st.heap[nsKey{site, k}] = v
		}
		if len(args) == 1 {
			for _, c := range args[0].defined() {
				if c.k == kDict {
					for i, k := range c.elems {
						if k.k == kStr && i < len(c.vals) {
							in.st.heap[nsKey{site, k.s}] = one(c.vals[i])
						}
					}
				}
			}
		}
		return one(cv{k: kNS, i: int64(site)})
	case "cycler", "joiner":
		return one(cv{k: kObj, s: name})
	}
	return topImpure
}

func (in *interp) kwOrder(x *callExpr, keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range x.kwargs {
		out = append(out, k.key)
	}
	return out
}

// widenRoot forgets a variable whose value a method call mutates
// (list.append, dict.update…), as the analysis does not model mutation.
func (in *interp) widenRoot(x expr, pure bool) {
	for {
		switch e := x.(type) {
		case *nameExpr:
			if v, ok := in.lookup(e.name); ok {
				for l := len(in.st.scopes) - 1; l >= 0; l-- {
					if _, ok := in.st.scopes[l][e.name]; ok {
						in.st.scopes[l][e.name] = topOf(v.isPure() && pure, true)
						break
					}
				}
			}
			return
		case *getattrExpr:
			if n, ok := e.obj.(*nameExpr); ok {
				if v, ok := in.lookup(n.name); ok {
					for _, c := range v.defined() {
						if c.k == kNS {
							k := nsKey{int(c.i), e.attr}
							old := in.st.heap[k]
							in.st.heap[k] = topOf(old.isPure() && pure, true)
						}
					}
				}
				return
			}
			x = e.obj
		case *getitemExpr:
			x = e.obj
		case *filterExpr:
			if e.node == nil {
				return
			}
			x = e.node
		default:
			return
		}
	}
}

var mutators = map[string]bool{
	"append": true, "extend": true, "insert": true, "update": true, "pop": true, "remove": true, "clear": true,
	"setdefault": true, "sort": true, "reverse": true, "popitem": true, "add": true, "discard": true,
}

func (in *interp) callMethod(recv av, ga *getattrExpr, args []av, kw map[string]av, x *callExpr) av {
	name := ga.attr
	if name == "cycle" && !recv.top && len(recv.cs) == 1 && recv.cs[0].k == kObj && recv.cs[0].s == "loop" {
		// loop.cycle(a, b) gives one of its arguments
		var out av
		for _, a := range args {
			out = join(out, a)
		}
		if !out.top && len(out.cs) == 0 {
			return undefAV
		}
		return out
	}
	if mutators[name] {
		in.widenRoot(ga.obj, allPure(args))
		return topOf(recv.isPure() && allPure(args), true)
	}
	if name == "format" || name == "format_map" {
		for _, c := range recv.defined() {
			if c.k == kStr || c.k == kPat {
				in.checkFormatFields(c, x.span)
			}
		}
		if recv.top && (recv.usc || recv.pure && recv.str) {
			in.a.add(RuleDynamicAttr, finding.High, x.span, "format",
				"str.format is called on a format string built from the template's own strings in a way the analysis cannot resolve: its fields can read any attribute, such as __globals__")
		}
	}
	vals := append([]av{recv}, args...)
	if kw != nil {
		if name != "format" {
			return topOf(allPure(vals) && allPureMap(kw), true)
		}
	}
	r := in.product(vals, x.span, true, func(cs []cv) (cv, bool) {
		return in.method(cs[0], name, cs[1:], kw, x.span)
	})
	if !r.top || r.pure {
		in.checkValueStrings(r, x.span)
	}
	if !allPureMap(kw) && r.top {
		r.pure = false
	}
	return r
}

func allPureMap(m map[string]av) bool {
	for _, v := range m {
		if !v.isPure() {
			return false
		}
	}
	return true
}

func strArg(args []cv, i int) (string, bool, bool) { // value, present, ok
	if i >= len(args) {
		return "", false, true
	}
	switch args[i].k {
	case kStr:
		return args[i].s, true, true
	case kNone:
		return "", false, true
	}
	return "", false, false
}

func (in *interp) method(r cv, name string, args []cv, kw map[string]av, sp span) (cv, bool) {
	switch r.k {
	case kStr:
		s := r.s
		switch name {
		case "upper":
			return in.mkStr(strings.ToUpper(s), sp)
		case "lower", "casefold":
			return in.mkStr(strings.ToLower(s), sp)
		case "title":
			return in.mkStr(pyTitle(s), sp)
		case "capitalize":
			return in.mkStr(pyCapitalize(s), sp)
		case "swapcase":
			return in.mkStr(swapcase(s), sp)
		case "strip", "lstrip", "rstrip":
			chars, has, ok := strArg(args, 0)
			if !ok {
				return cv{}, false
			}
			return in.mkStr(pyStrip(s, name, chars, has), sp)
		case "replace":
			old, _, ok1 := strArg(args, 0)
			nw, _, ok2 := strArg(args, 1)
			if len(args) < 2 || !ok1 || !ok2 {
				return cv{}, false
			}
			n := -1
			if len(args) > 2 {
				if args[2].k == kUnk {
					return in.replaceAny(s, old, nw, sp)
				}
				if args[2].k != kInt || args[2].big {
					return cv{}, false
				}
				n = int(max(min(args[2].i, 1<<30), -1))
			}
			return in.replace(s, old, nw, n, sp)
		case "removeprefix", "removesuffix":
			p, _, ok := strArg(args, 0)
			if len(args) != 1 || !ok {
				return cv{}, false
			}
			if name == "removeprefix" {
				return strV(strings.TrimPrefix(s, p)), true
			}
			return strV(strings.TrimSuffix(s, p)), true
		case "startswith", "endswith":
			p, _, ok := strArg(args, 0)
			if len(args) != 1 || !ok {
				return cv{}, false
			}
			if name == "startswith" {
				return boolV(strings.HasPrefix(s, p)), true
			}
			return boolV(strings.HasSuffix(s, p)), true
		case "split":
			sep, has, ok := strArg(args, 0)
			if !ok || len(args) > 1 || (has && sep == "") {
				return cv{}, false
			}
			var parts []string
			if has {
				parts = strings.Split(s, sep)
			} else {
				parts = strings.FieldsFunc(s, pySpace)
			}
			if len(parts) > maxItems {
				return cv{}, false
			}
			out := make([]cv, len(parts))
			for i, p := range parts {
				out[i] = strV(p)
			}
			return cv{k: kList, elems: out}, true
		case "join":
			if len(args) != 1 {
				return cv{}, false
			}
			return in.joinItems(args[0], s, sp)
		case "format":
			return in.strFormat(s, args, kw, sp)
		case "format_map":
			if len(args) != 1 || args[0].k != kDict {
				return cv{}, false
			}
			m := map[string]av{}
			for i, k := range args[0].elems {
				if k.k == kStr && i < len(args[0].vals) {
					m[k.s] = one(args[0].vals[i])
				}
			}
			return in.strFormat(s, nil, m, sp)
		}
	case kDict:
		switch name {
		case "get":
			if len(args) < 1 || len(args) > 2 {
				return cv{}, false
			}
			if args[0].k == kUnk || args[0].k == kPat {
				alts := append([]cv(nil), r.vals...)
				if len(args) == 2 {
					alts = append(alts, args[1])
				} else {
					alts = append(alts, cv{k: kNone})
				}
				return alternatives(alts)
			}
			if v, ok := dictGet(r, args[0]); ok {
				return v, true
			}
			if len(args) == 2 {
				return args[1], true
			}
			return cv{k: kNone}, true
		case "keys":
			return cv{k: kList, elems: r.elems}, true
		case "values":
			return cv{k: kList, elems: r.vals}, true
		case "items":
			out := make([]cv, len(r.elems))
			for i := range r.elems {
				if i < len(r.vals) {
					out[i] = cv{k: kList, elems: []cv{r.elems[i], r.vals[i]}}
				}
			}
			return cv{k: kList, elems: out}, true
		}
	}
	return cv{}, false
}

func (in *interp) replace(s, old, nw string, n int, sp span) (cv, bool) {
	if old != "" {
		cnt := strings.Count(s, old)
		if n >= 0 && n < cnt {
			cnt = n
		}
		if len(s)+cnt*(len(nw)-len(old)) > in.maxStr {
			in.a.limitAt(sp.off, "folded string length")
			return cv{}, false
		}
	} else if len(s)+(len([]rune(s))+1)*len(nw) > in.maxStr {
		in.a.limitAt(sp.off, "folded string length")
		return cv{}, false
	}
	return in.mkStr(strings.Replace(s, old, nw, n), sp)
}

// replaceAny is s.replace(old, new, n) for an unknown n: any count of
// replacements from none to all.
func (in *interp) replaceAny(s, old, nw string, sp span) (cv, bool) {
	cnt := strings.Count(s, old)
	if old == "" || cnt > maxCands {
		return cv{}, false
	}
	var out []cv
	for n := 0; n <= cnt; n++ {
		c, ok := in.replace(s, old, nw, n, sp)
		if !ok {
			return cv{}, false
		}
		out = append(out, c)
	}
	return alternatives(out)
}

func (in *interp) joinItems(seq cv, sep string, sp span) (cv, bool) {
	items, ok := seq.items()
	if !ok {
		return cv{}, false
	}
	b := patB{max: in.maxStr}
	for i, it := range items {
		if i > 0 {
			b.str(sep)
		}
		if it.k == kUndef {
			return cv{}, false
		}
		b.add(it)
		if b.bad {
			break
		}
	}
	return in.patDone(&b, sp)
}

// formatField is one replacement field of str.format.
type formatField struct {
	arg      string
	path     []string // attribute or key names after the argument
	conv     string
	spec     string
	lit      string // literal text before the field
	hasField bool
}

// parseFormat splits a str.format string; ok is false where Python raises.
func parseFormat(s string) ([]formatField, bool) {
	var out []formatField
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '}':
			return nil, false
		case c == '{':
			depth := 1
			j := i + 1
			for ; j < len(s) && depth > 0; j++ {
				if s[j] == '{' {
					depth++
				} else if s[j] == '}' {
					depth--
				}
			}
			if depth != 0 {
				return nil, false
			}
			body := s[i+1 : j-1]
			f := formatField{lit: lit.String(), hasField: true}
			lit.Reset()
			name := body
			// the field name ends at the first '!' or ':' outside brackets
			inBr := false
			for k := 0; k < len(body); k++ {
				if body[k] == '[' {
					inBr = true
				} else if body[k] == ']' {
					inBr = false
				} else if !inBr && (body[k] == '!' || body[k] == ':') {
					name = body[:k]
					rest := body[k:]
					if rest[0] == '!' {
						if len(rest) < 2 {
							return nil, false
						}
						f.conv = rest[1:2]
						rest = rest[2:]
					}
					if strings.HasPrefix(rest, ":") {
						f.spec = rest[1:]
					} else if rest != "" {
						return nil, false
					}
					break
				}
			}
			// arg_name ("." attribute | "[" key "]")*
			k := 0
			for k < len(name) && name[k] != '.' && name[k] != '[' {
				k++
			}
			f.arg = name[:k]
			for k < len(name) {
				if name[k] == '.' {
					e := k + 1
					for e < len(name) && name[e] != '.' && name[e] != '[' {
						e++
					}
					f.path = append(f.path, name[k+1:e])
					k = e
				} else {
					e := strings.IndexByte(name[k:], ']')
					if e < 0 {
						return nil, false
					}
					f.path = append(f.path, name[k+1:k+e])
					k += e + 1
				}
			}
			out = append(out, f)
			i = j - 1
		default:
			lit.WriteByte(c)
		}
	}
	out = append(out, formatField{lit: lit.String()})
	return out, true
}

// checkFormatFields reports attribute access hidden in str.format fields
// ('{0.__class__}'.format(x) reads x.__class__).
func (in *interp) checkFormatFields(c cv, sp span) {
	const mark = "\x00"
	s, fl := c.s, int64(0)
	if c.k == kPat {
		s, fl = patText(c, mark), holeFlags(c)
	}
	fields, ok := parseFormat(s)
	if !ok {
		return
	}
	for _, f := range fields {
		for _, p := range f.path {
			in.judgeName(one(patFromText(p, mark, fl)), sp, sinkFormat, "a str.format field", acc{})
		}
	}
}

func (in *interp) strFormat(s string, args []cv, kw map[string]av, sp span) (cv, bool) {
	fields, ok := parseFormat(s)
	if !ok {
		return cv{}, false
	}
	sb := patB{max: in.maxStr}
	auto := 0
	for _, f := range fields {
		sb.str(f.lit)
		if !f.hasField {
			continue
		}
		if len(f.path) > 0 || (f.spec != "" && f.spec != "s" && f.spec != "d") || (f.conv != "" && f.conv != "s" && f.conv != "r") {
			return cv{}, false
		}
		var v cv
		switch {
		case f.arg == "":
			if auto >= len(args) {
				return cv{}, false
			}
			v = args[auto]
			auto++
		case allDigits(f.arg):
			n, err := strconv.Atoi(f.arg)
			if err != nil || n >= len(args) {
				return cv{}, false
			}
			v = args[n]
		default:
			a, ok := kw[f.arg]
			switch {
			case !ok || len(a.cs) > 1 || (a.top && len(a.cs) > 0):
				return cv{}, false
			case a.top:
				v = a.unkOf()
			default:
				v = a.cs[0]
			}
		}
		if v.k == kUnk || v.k == kPat {
			sb.add(v)
			continue
		}
		var str string
		var ok bool
		if f.conv == "r" {
			str, ok = v.pyRepr()
		} else {
			str, ok = v.pyStr()
		}
		if !ok || v.k == kUndef {
			return cv{}, false
		}
		if f.spec == "d" && v.k != kInt {
			return cv{}, false
		}
		sb.str(str)
	}
	return in.patDone(&sb, sp)
}
