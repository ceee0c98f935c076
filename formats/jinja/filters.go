package jinja

import (
	"sort"
	"strings"
	"unicode"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

func (in *interp) evalFilter(f *filterExpr, input av) av {
	args, kw := in.evalArgs(&f.callArgs, f.span)
	r := in.applyFilter(f.name, input, args, kw, f.span, 0)
	if !r.top || r.pure {
		in.checkValueStrings(r, f.span)
	}
	return r
}

// attribute-path parameters of Jinja's built-in filters: the positional
// index (counted after the filtered value) and the keyword name.
var attrParams = map[string]int{
	"map": -1, "selectattr": 0, "rejectattr": 0, "sort": 2, "groupby": 0, "sum": 0,
	"unique": 1, "min": 1, "max": 1,
}

func (in *interp) applyFilter(name string, input av, args []av, kw map[string]av, sp span, depth int) av {
	// attribute names reached by the filter
	if name == "attr" {
		may := false
		if len(args) > 0 {
			may = in.judgeName(args[0], sp, sinkAttr, "|attr()", acc{internal: input.internal})
			for _, c := range args[0].defined() {
				if c.k == kStr {
					in.checkBase(input, sp, c.s)
				}
			}
		}
		return topOf(input.isPure(), true).withInternal(may || reachesInternals(input))
	}
	if v, ok := kw["attribute"]; ok {
		in.judgeName(v, sp, sinkPath, "|"+name+"(attribute=)", acc{})
	} else if i, ok := attrParams[name]; ok && i >= 0 && i < len(args) {
		in.judgeName(args[i], sp, sinkPath, "|"+name+"()", acc{})
	}
	pure := input.isPure() && allPure(args) && allPureMap(kw)
	if name == "map" {
		if _, ok := kw["attribute"]; ok || len(args) == 0 {
			return in.mapAttribute(input, kw, sp)
		}
		fn := args[0]
		if fn.top {
			in.a.add(RuleDynamicAttr, finding.High, sp, "map",
				"|map() applies a filter whose name is computed at render time: it can be |attr with a hidden dunder")
			return topOf(pure, true)
		}
		if depth > 3 {
			return topOf(pure, true)
		}
		var out av
		first := true
		for _, c := range fn.defined() {
			if c.k != kStr {
				continue
			}
			var r av
			elems, _, ep := in.iterate(input)
			var elemAV av
			if ep != nil {
				elemAV = *ep
			} else {
				elemAV = unionOf(elems)
			}
			if elems != nil && !input.top && len(input.defined()) == 1 {
				vals := make([]av, len(elems))
				for i, e := range elems {
					vals[i] = in.applyFilter(c.s, one(e), args[1:], kw, sp, depth+1)
				}
				r = in.product(vals, sp, false, func(cs []cv) (cv, bool) {
					return cv{k: kList, elems: append([]cv(nil), cs...)}, true
				})
			} else {
				in.applyFilter(c.s, elemAV, args[1:], kw, sp, depth+1)
				r = topOf(pure, false)
			}
			if first {
				out, first = r, false
			} else {
				out = join(out, r)
			}
		}
		if first {
			return topOf(pure, false)
		}
		return out
	}
	if in.degraded {
		return topOf(pure, true)
	}
	vals := append([]av{input}, args...)
	switch name {
	case "int", "float", "dictsort":
		return in.filterParams(name, input, args, kw, sp, pure)
	case "default", "d":
		var out av
		first := true
		if input.top {
			// an unknown value may be undefined: then the default
			out = avOfFlags(input.topFlags())
			if len(args) > 0 {
				out = join(out, args[0])
			}
			first = false
		}
		for _, c := range input.cs {
			var v av
			switch {
			case c.k == kUndef:
				if len(args) > 0 {
					v = args[0]
				} else {
					v = one(strV(""))
				}
			case c.k == kGlobal && hostGlobal[c.s] && len(args) > 0:
				// a global the application may or may not provide
				v = join(one(c), args[0])
			default:
				v = one(c)
			}
			if first {
				out, first = v, false
			} else {
				out = join(out, v)
			}
		}
		return out
	case "select", "reject", "selectattr", "rejectattr", "batch", "slice", "groupby",
		"tojson", "pprint", "urlencode", "urlize", "xmlattr", "indent", "center", "truncate",
		"wordwrap", "striptags", "filesizeformat", "random", "round", "wordcount":
		if name == "select" || name == "reject" {
			return in.product(vals, sp, false, func(cs []cv) (cv, bool) { return in.selectReject(name, cs, kw, sp) })
		}
		return topOf(pure, true)
	}
	if kw != nil && name != "replace" && name != "join" && name != "sort" && name != "unique" {
		return topOf(pure, true)
	}
	return in.product(vals, sp, true, func(cs []cv) (cv, bool) { return in.filterConst(name, cs[0], cs[1:], kw, sp) })
}

// filterParams folds |int, |float and |dictsort, whose parameters may be
// given by position or keyword.
func (in *interp) filterParams(name string, input av, args []av, kw map[string]av, sp span, pure bool) av {
	var names []string
	switch name {
	case "int":
		names = []string{"default", "base"}
	case "float":
		names = []string{"default"}
	default:
		names = []string{"case_sensitive", "by", "reverse"}
	}
	if len(args) > len(names) {
		return topOf(pure, true)
	}
	notGiven := cv{k: kNone, big: true}
	ps := make([]av, len(names))
	for i := range names {
		ps[i] = av{cs: []cv{notGiven}}
		if i < len(args) {
			ps[i] = args[i]
		}
	}
	for k, v := range kw {
		i := -1
		for j, n := range names {
			if n == k {
				i = j
			}
		}
		if i < 0 || i < len(args) {
			return topOf(pure, true)
		}
		ps[i] = v
	}
	return in.product(append([]av{input}, ps...), sp, name == "dictsort", func(cs []cv) (cv, bool) {
		opt := cs[1:]
		given := func(i int) bool { return !(opt[i].k == kNone && opt[i].big) }
		switch name {
		case "int":
			dflt, base := intV(0), int64(10)
			if given(0) {
				dflt = opt[0]
			}
			if given(1) {
				if (opt[1].k != kInt && opt[1].k != kBool) || opt[1].big {
					return cv{}, false
				}
				base = opt[1].i
			}
			return doInt(cs[0], dflt, base)
		case "float":
			dflt := cv{k: kFloat}
			if given(0) {
				dflt = opt[0]
			}
			return doFloat(cs[0], dflt)
		}
		caseSens, by, rev := false, "key", false
		if given(0) {
			caseSens = opt[0].truth() == 1
		}
		if given(1) {
			if opt[1].k != kStr {
				return cv{}, false
			}
			by = opt[1].s
		}
		if given(2) {
			rev = opt[2].truth() == 1
		}
		return dictsort(cs[0], caseSens, by, rev)
	})
}

// dictsort is Jinja's |dictsort of a constant dict: its (key, value) pairs
// sorted by key or value, strings compared case-insensitively unless asked.
func dictsort(d cv, caseSens bool, by string, rev bool) (cv, bool) {
	if d.k != kDict || len(d.vals) != len(d.elems) {
		return cv{}, false
	}
	pos := 0
	switch by {
	case "key":
	case "value":
		pos = 1
	default:
		return cv{}, false // Jinja raises
	}
	pairs := make([]cv, len(d.elems))
	for i := range d.elems {
		pairs[i] = cv{k: kList, elems: []cv{d.elems[i], d.vals[i]}}
	}
	allStr, allNum := true, true
	for _, p := range pairs {
		switch p.elems[pos].k {
		case kStr:
			allNum = false
		case kInt, kBool, kFloat:
			allStr = false
			if p.elems[pos].big {
				return cv{}, false
			}
		default:
			return cv{}, false
		}
	}
	if !allStr && !allNum {
		return cv{}, false // Python cannot compare them
	}
	less := func(a, b cv) bool {
		if allStr {
			x, y := a.s, b.s
			if !caseSens {
				x, y = strings.ToLower(x), strings.ToLower(y)
			}
			return x < y
		}
		x, _ := numOf(a)
		y, _ := numOf(b)
		return x < y
	}
	sort.SliceStable(pairs, func(i, j int) bool {
		if rev {
			return less(pairs[j].elems[pos], pairs[i].elems[pos])
		}
		return less(pairs[i].elems[pos], pairs[j].elems[pos])
	})
	return cv{k: kList, elems: pairs}, true
}

// mapAttribute is |map(attribute=...) on a constant list.
func (in *interp) mapAttribute(input av, kw map[string]av, sp span) av {
	a, ok := kw["attribute"]
	if !ok || a.top || input.top {
		return topOf(input.isPure() && a.isPure(), false)
	}
	var dflt *av
	if d, ok := kw["default"]; ok {
		dflt = &d
	}
	return in.product([]av{input, a}, sp, false, func(cs []cv) (cv, bool) {
		if cs[1].k != kStr || strings.Contains(cs[1].s, ".") {
			return cv{}, false
		}
		items, ok := cs[0].items()
		if !ok {
			return cv{}, false
		}
		out := make([]cv, len(items))
		for i, it := range items {
			if it.k != kDict {
				return cv{}, false
			}
			v, ok := dictGet(it, cs[1])
			if !ok {
				if dflt == nil || dflt.top || len(dflt.cs) != 1 {
					return cv{}, false
				}
				v = dflt.cs[0]
			}
			out[i] = v
		}
		return cv{k: kList, elems: out}, true
	})
}

func (in *interp) selectReject(name string, cs []cv, kw map[string]av, sp span) (cv, bool) {
	items, ok := cs[0].items()
	if !ok || kw != nil {
		return cv{}, false
	}
	var out []cv
	for _, it := range items {
		keep := it.truth()
		if len(cs) > 1 {
			if cs[1].k != kStr {
				return cv{}, false
			}
			r := in.applyTest(cs[1].s, one(it), constAVs(cs[2:]), nil, sp)
			if r.top || len(r.cs) != 1 {
				return cv{}, false
			}
			keep = r.cs[0].truth()
		}
		if keep < 0 {
			return cv{}, false
		}
		if (keep == 1) == (name == "select") {
			out = append(out, it)
		}
	}
	return cv{k: kList, elems: out}, true
}

func constAVs(cs []cv) []av {
	out := make([]av, len(cs))
	for i, c := range cs {
		out[i] = one(c)
	}
	return out
}

func (in *interp) filterConst(name string, v cv, args []cv, kw map[string]av, sp span) (cv, bool) {
	str := func() (string, bool) {
		if v.k == kUndef {
			return "", true
		}
		return v.pyStr()
	}
	switch name {
	case "lower", "upper", "capitalize", "title", "trim", "string", "safe", "e", "escape", "forceescape":
		s, ok := str()
		if !ok {
			return cv{}, false
		}
		switch name {
		case "lower":
			s = strings.ToLower(s)
		case "upper":
			s = strings.ToUpper(s)
		case "capitalize":
			s = pyCapitalize(s)
		case "title":
			s = jinjaTitle(s)
		case "trim":
			chars, has, ok := strArg(args, 0)
			if !ok {
				return cv{}, false
			}
			s = pyStrip(s, "strip", chars, has)
		case "e", "escape", "forceescape":
			s = htmlEscape(s)
		}
		return in.mkStr(s, sp)
	case "reverse":
		switch v.k {
		case kStr:
			rs := []rune(v.s)
			for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
				rs[i], rs[j] = rs[j], rs[i]
			}
			return strV(string(rs)), true
		case kList:
			out := make([]cv, len(v.elems))
			for i, e := range v.elems {
				out[len(out)-1-i] = e
			}
			return cv{k: kList, elems: out}, true
		}
	case "first", "last":
		items, ok := v.items()
		if !ok {
			return cv{}, false
		}
		if len(items) == 0 {
			return cv{k: kUndef}, true
		}
		if name == "first" {
			return items[0], true
		}
		return items[len(items)-1], true
	case "list":
		items, ok := v.items()
		if !ok {
			return cv{}, false
		}
		return cv{k: kList, elems: items}, true
	case "length", "count":
		if v.k == kStr {
			return intV(int64(len([]rune(v.s)))), true
		}
		if v.k == kList || v.k == kDict {
			return intV(int64(len(v.elems))), true
		}
	case "join":
		sep, _, ok := strArg(args, 0)
		if !ok || len(args) > 1 {
			return cv{}, false
		}
		if a, ok := kw["attribute"]; ok {
			if a.top || len(a.cs) != 1 || a.cs[0].k != kStr {
				return cv{}, false
			}
			items, ok := v.items()
			if !ok {
				return cv{}, false
			}
			mapped := make([]cv, len(items))
			for i, it := range items {
				x, ok := dictGet(it, a.cs[0])
				if it.k != kDict || !ok {
					return cv{}, false
				}
				mapped[i] = x
			}
			v = cv{k: kList, elems: mapped}
		} else if kw != nil {
			return cv{}, false
		}
		return in.joinItems(v, sep, sp)
	case "replace":
		s, ok := str()
		old, _, ok1 := strArg(args, 0)
		nw, _, ok2 := strArg(args, 1)
		if !ok || !ok1 || !ok2 || len(args) < 2 || kw != nil {
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
	case "format":
		s, ok := str()
		if !ok {
			return cv{}, false
		}
		var mapping *cv
		if len(args) == 1 && args[0].k == kDict {
			mapping = &args[0]
		}
		return in.printf(s, args, mapping, sp)
	case "abs":
		if (v.k == kInt) && !v.big && v.i != -1<<63 {
			if v.i < 0 {
				return intV(-v.i), true
			}
			return v, true
		}
	case "unique", "sort", "min", "max", "sum":
		items, ok := v.items()
		if !ok || kw != nil {
			return cv{}, false
		}
		return foldSeq(name, items, args)
	case "items":
		if v.k == kDict {
			out := make([]cv, len(v.elems))
			for i := range v.elems {
				out[i] = cv{k: kList, elems: []cv{v.elems[i], v.vals[i]}}
			}
			return cv{k: kList, elems: out}, true
		}
	}
	return cv{}, false
}

func foldSeq(name string, items []cv, args []cv) (cv, bool) {
	allStr, allInt := true, true
	for _, it := range items {
		if it.k != kStr {
			allStr = false
		}
		if (it.k != kInt && it.k != kBool) || it.big {
			allInt = false
		}
	}
	if !allStr && !allInt {
		return cv{}, false
	}
	switch name {
	case "unique":
		var out []cv
		seen := map[string]bool{}
		for _, it := range items {
			k := it.keyString()
			if allStr {
				k = strings.ToLower(it.s) // case_sensitive=False by default
			}
			if !seen[k] {
				seen[k] = true
				out = append(out, it)
			}
		}
		return cv{k: kList, elems: out}, true
	case "sort":
		if len(args) > 0 && args[0].k != kBool {
			return cv{}, false
		}
		out := append([]cv(nil), items...)
		sort.SliceStable(out, func(i, j int) bool {
			if allStr {
				return strings.ToLower(out[i].s) < strings.ToLower(out[j].s)
			}
			return out[i].i < out[j].i
		})
		if len(args) > 0 && args[0].i != 0 {
			for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
				out[i], out[j] = out[j], out[i]
			}
		}
		return cv{k: kList, elems: out}, true
	case "min", "max":
		if len(items) == 0 {
			return cv{k: kUndef}, true
		}
		best := items[0]
		for _, it := range items[1:] {
			less := false
			if allStr {
				less = strings.ToLower(it.s) < strings.ToLower(best.s)
			} else {
				less = it.i < best.i
			}
			if less == (name == "min") && it.keyString() != best.keyString() {
				best = it
			}
		}
		return best, true
	case "sum":
		if !allInt || len(args) > 0 {
			return cv{}, false
		}
		var s int64
		for _, it := range items {
			var ok bool
			if s, ok = addOK(s, it.i); !ok {
				return cv{}, false
			}
		}
		return intV(s), true
	}
	return cv{}, false
}

// applyTest folds the Jinja tests whose result depends only on constants.
func (in *interp) applyTest(name string, v av, args []av, kw map[string]av, sp span) av {
	if kw != nil || in.degraded {
		return topOf(v.isPure() && allPure(args), false)
	}
	vals := append([]av{v}, args...)
	return in.product(vals, sp, false, func(cs []cv) (cv, bool) {
		c := cs[0]
		var arg cv
		if len(cs) > 1 {
			arg = cs[1]
		}
		switch name {
		case "defined":
			return boolV(c.k != kUndef), true
		case "undefined":
			return boolV(c.k == kUndef), true
		case "none":
			return boolV(c.k == kNone), true
		case "string":
			return boolV(c.k == kStr), true
		case "number":
			return boolV(c.k == kInt || c.k == kFloat), true
		case "integer":
			return boolV(c.k == kInt), true
		case "boolean":
			return boolV(c.k == kBool), true
		case "true", "false":
			return boolV(c.k == kBool && (c.i != 0) == (name == "true")), true
		case "mapping":
			return boolV(c.k == kDict || c.k == kNS), true
		case "sequence", "iterable":
			return boolV(c.k == kStr || c.k == kList || c.k == kDict), true
		case "eq", "==", "equalto", "ne", "!=", "lt", "<", "lessthan", "le", "<=", "gt", ">", "greaterthan", "ge", ">=", "in":
			if len(cs) < 2 {
				return cv{}, false
			}
			op := map[string]string{"eq": "eq", "==": "eq", "equalto": "eq", "ne": "ne", "!=": "ne", "lt": "lt", "<": "lt",
				"lessthan": "lt", "le": "lteq", "<=": "lteq", "gt": "gt", ">": "gt", "greaterthan": "gt", "ge": "gteq",
				">=": "gteq", "in": "in"}[name]
			r, ok := compare(op, c, arg)
			return boolV(r), ok
		case "lower", "upper":
			if c.k != kStr {
				return boolV(false), true
			}
			if name == "lower" {
				return boolV(strings.ToLower(c.s) == c.s), true
			}
			return boolV(strings.ToUpper(c.s) == c.s), true
		case "odd", "even":
			if c.k != kInt || c.big {
				return cv{}, false
			}
			return boolV((c.i%2 != 0) == (name == "odd")), true
		}
		return cv{}, false
	})
}

func pyCapitalize(s string) string {
	rs := []rune(s)
	for i, r := range rs {
		if i == 0 {
			rs[i] = unicode.ToTitle(r)
		} else {
			rs[i] = unicode.ToLower(r)
		}
	}
	return string(rs)
}

func cased(r rune) bool { return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) }

// pyTitle is Python's str.title.
func pyTitle(s string) string {
	rs := []rune(s)
	prev := false
	for i, r := range rs {
		if prev {
			rs[i] = unicode.ToLower(r)
		} else {
			rs[i] = unicode.ToTitle(r)
		}
		prev = cased(r)
	}
	return string(rs)
}

// jinjaTitle is Jinja's |title: words split on whitespace and -({[<, each
// capitalised.
func jinjaTitle(s string) string {
	var b strings.Builder
	start := true
	word := []rune{}
	flush := func() {
		if len(word) > 0 {
			b.WriteString(pyCapitalize(string(word)))
			word = word[:0]
		}
	}
	for _, r := range s {
		if pySpace(r) || strings.ContainsRune("-({[<", r) {
			flush()
			b.WriteRune(r)
			start = true
			continue
		}
		_ = start
		word = append(word, r)
	}
	flush()
	return b.String()
}

func swapcase(s string) string {
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			rs[i] = unicode.ToLower(r)
		} else if unicode.IsLower(r) {
			rs[i] = unicode.ToUpper(r)
		}
	}
	return string(rs)
}

func pyStrip(s, how, chars string, has bool) string {
	cut := pySpace
	if has {
		cut = func(r rune) bool { return strings.ContainsRune(chars, r) }
	}
	switch how {
	case "lstrip":
		return strings.TrimLeftFunc(s, cut)
	case "rstrip":
		return strings.TrimRightFunc(s, cut)
	}
	return strings.TrimFunc(s, cut)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&#39;", `"`, "&#34;").Replace(s)
}
