package jinja

// A recursive-descent parser that follows jinja2/parser.py (3.1) with the
// extensions chat-template renderers enable: loopcontrols (break,
// continue), transformers' {% generation %} block, and the do extension.
// Recursion is depth-counted: nesting beyond Limits.MaxDepth stops the
// parse with a limit error instead of growing the Go stack.

type parser struct {
	toks     []token
	p        int
	depth    int
	maxDepth int
}

func (ps *parser) cur() *token { return &ps.toks[ps.p] }

func (ps *parser) look() *token {
	if ps.p+1 < len(ps.toks) {
		return &ps.toks[ps.p+1]
	}
	return &ps.toks[len(ps.toks)-1]
}

func (ps *parser) next() *token {
	t := &ps.toks[ps.p]
	if ps.p < len(ps.toks)-1 {
		ps.p++
	}
	return t
}

func (ps *parser) fail(t *token, msg string) {
	panic(&syntaxError{off: t.off, msg: msg})
}

func (ps *parser) enter() {
	ps.depth++
	if ps.depth > ps.maxDepth {
		panic(&limitError{off: ps.cur().off, what: "nesting depth"})
	}
}

func (ps *parser) leave() { ps.depth-- }

func isOp(t *token, op string) bool     { return t.kind == tOp && t.text == op }
func isName(t *token, name string) bool { return t.kind == tName && t.text == name }

func (ps *parser) skipOp(op string) bool {
	if isOp(ps.cur(), op) {
		ps.next()
		return true
	}
	return false
}

func (ps *parser) skipName(name string) bool {
	if isName(ps.cur(), name) {
		ps.next()
		return true
	}
	return false
}

func describe(t *token) string {
	switch t.kind {
	case tEOF:
		return "end of template"
	case tData:
		return "template data"
	case tVarBegin:
		return "begin of print statement"
	case tVarEnd:
		return "end of print statement"
	case tBlockBegin:
		return "begin of statement block"
	case tBlockEnd:
		return "end of statement block"
	case tString:
		return "string"
	case tInt:
		return "integer"
	case tFloat:
		return "float"
	}
	return t.text
}

func (ps *parser) expectOp(op string) *token {
	t := ps.cur()
	if !isOp(t, op) {
		ps.fail(t, "expected '"+op+"', got '"+describe(t)+"'")
	}
	return ps.next()
}

func (ps *parser) expectKind(k tokKind, what string) *token {
	t := ps.cur()
	if t.kind != k {
		ps.fail(t, "expected "+what+", got '"+describe(t)+"'")
	}
	return ps.next()
}

func (ps *parser) expectName(name string) *token {
	t := ps.cur()
	if !isName(t, name) {
		ps.fail(t, "expected '"+name+"', got '"+describe(t)+"'")
	}
	return ps.next()
}

// parse returns the template body or panics with *syntaxError/*limitError
// (recovered by parseTemplate).
func parseTemplate(toks []token, srcLen, maxDepth int) (body []stmt, err error) {
	toks = append(toks, token{kind: tEOF, off: srcLen, end: srcLen})
	ps := &parser{toks: toks, maxDepth: maxDepth}
	defer func() {
		if r := recover(); r != nil {
			switch e := r.(type) {
			case *syntaxError:
				err = e
			case *limitError:
				err = e
			default:
				panic(r)
			}
		}
	}()
	body = ps.subparse(nil)
	if ps.cur().kind != tEOF {
		ps.fail(ps.cur(), "unexpected '"+describe(ps.cur())+"'")
	}
	return body, nil
}

func (ps *parser) atEnd(end []string) bool {
	t := ps.cur()
	if t.kind != tName {
		return false
	}
	for _, e := range end {
		if t.text == e {
			return true
		}
	}
	return false
}

func (ps *parser) subparse(end []string) []stmt {
	var body []stmt
	for ps.cur().kind != tEOF {
		t := ps.cur()
		switch t.kind {
		case tData:
			body = append(body, &dataStmt{span: span{t.off, t.end}, text: t.text})
			ps.next()
		case tVarBegin:
			ps.next()
			x := ps.parseTuple(false, true, nil, false, false)
			e := ps.expectKind(tVarEnd, "end of print statement")
			body = append(body, &printStmt{span: span{t.off, e.end}, x: x})
		case tBlockBegin:
			ps.next()
			if end != nil && ps.atEnd(end) {
				return body
			}
			s := ps.parseStatement()
			ps.expectKind(tBlockEnd, "end of statement block")
			if s != nil {
				body = append(body, s)
			}
		default:
			ps.fail(t, "unexpected '"+describe(t)+"'")
		}
	}
	return body
}

func (ps *parser) parseStatements(end []string, drop bool) []stmt {
	ps.skipOp(":")
	ps.expectKind(tBlockEnd, "end of statement block")
	body := ps.subparse(end)
	if ps.cur().kind == tEOF {
		ps.fail(ps.cur(), "unexpected end of template, expected '"+end[0]+"'")
	}
	if drop {
		ps.next()
	}
	return body
}

func (ps *parser) parseStatement() stmt {
	ps.enter()
	defer ps.leave()
	t := ps.cur()
	if t.kind != tName {
		ps.fail(t, "tag name expected")
	}
	start := t.off
	sp := func() span { return span{start, ps.cur().off} }
	switch t.text {
	case "for":
		return ps.parseFor()
	case "if":
		return ps.parseIf()
	case "set":
		return ps.parseSet()
	case "macro":
		ps.next()
		name := ps.expectKind(tName, "name").text
		m := &macroStmt{name: name}
		m.params, m.defaults = ps.parseSignature()
		m.body = ps.parseStatements([]string{"endmacro"}, true)
		m.span = sp()
		return m
	case "call":
		ps.next()
		c := &callBlockStmt{}
		if isOp(ps.cur(), "(") {
			c.params, c.defaults = ps.parseSignature()
		}
		x := ps.parseExpression(true)
		call, ok := x.(*callExpr)
		if !ok {
			ps.fail(t, "expected call")
		}
		c.call = call
		c.body = ps.parseStatements([]string{"endcall"}, true)
		c.span = sp()
		return c
	case "filter":
		ps.next()
		f := ps.parseFilter(nil, true).(*filterExpr)
		body := ps.parseStatements([]string{"endfilter"}, true)
		return &filterBlockStmt{span: sp(), filter: f, body: body}
	case "with":
		ps.next()
		w := &withStmt{}
		for ps.cur().kind != tBlockEnd {
			if len(w.targets) > 0 {
				ps.expectOp(",")
			}
			w.targets = append(w.targets, ps.parseAssignTarget(true, false, nil, false))
			ps.expectOp("=")
			w.values = append(w.values, ps.parseExpression(true))
		}
		w.body = ps.parseStatements([]string{"endwith"}, true)
		w.span = sp()
		return w
	case "autoescape":
		ps.next()
		x := ps.parseExpression(true)
		body := ps.parseStatements([]string{"endautoescape"}, true)
		return &scopeStmt{span: sp(), x: x, body: body}
	case "generation":
		ps.next()
		body := ps.parseStatements([]string{"endgeneration"}, true)
		return &scopeStmt{span: sp(), body: body}
	case "block":
		ps.next()
		name := ps.expectKind(tName, "name").text
		ps.skipName("scoped")
		ps.skipName("required")
		if isOp(ps.cur(), "-") {
			ps.fail(ps.cur(), "block names may not contain hyphens")
		}
		body := ps.parseStatements([]string{"endblock"}, true)
		ps.skipName(name)
		return &blockStmt{span: sp(), name: name, body: body}
	case "extends":
		ps.next()
		x := ps.parseExpression(true)
		return &loadStmt{span: sp(), kind: "extends", template: x}
	case "include":
		ps.next()
		x := ps.parseExpression(true)
		if isName(ps.cur(), "ignore") && isName(ps.look(), "missing") {
			ps.next()
			ps.next()
		}
		ps.importContext()
		return &loadStmt{span: sp(), kind: "include", template: x}
	case "import":
		ps.next()
		x := ps.parseExpression(true)
		ps.expectName("as")
		target := ps.expectKind(tName, "name").text
		ps.importContext()
		return &loadStmt{span: sp(), kind: "import", template: x, target: target}
	case "from":
		return ps.parseFrom()
	case "print":
		ps.next()
		var parts []expr
		for ps.cur().kind != tBlockEnd {
			if len(parts) > 0 {
				ps.expectOp(",")
			}
			parts = append(parts, ps.parseExpression(true))
		}
		return &printStmt{span: sp(), x: &listExpr{span: sp(), items: parts, tuple: true}}
	case "break", "continue":
		ps.next()
		return &loopCtlStmt{span: sp(), kind: t.text}
	case "do":
		ps.next()
		x := ps.parseTuple(false, true, nil, false, false)
		return &doStmt{span: sp(), x: x}
	}
	ps.fail(t, "unknown tag '"+t.text+"'")
	return nil
}

func (ps *parser) importContext() {
	if (isName(ps.cur(), "with") || isName(ps.cur(), "without")) && isName(ps.look(), "context") {
		ps.next()
		ps.next()
	}
}

func (ps *parser) parseFrom() stmt {
	start := ps.next().off
	x := ps.parseExpression(true)
	ps.expectName("import")
	l := &loadStmt{kind: "from", template: x}
	ctx := func() bool {
		c := ps.cur()
		if c.kind == tName && (c.text == "with" || c.text == "without") && isName(ps.look(), "context") {
			ps.next()
			ps.next()
			return true
		}
		return false
	}
	first := true
	for {
		if !first {
			ps.expectOp(",")
		}
		first = false
		if ps.cur().kind != tName {
			ps.expectKind(tName, "name")
		}
		if ctx() {
			break
		}
		nt := ps.next()
		if len(nt.text) > 0 && nt.text[0] == '_' {
			ps.fail(nt, "names starting with an underline can not be imported")
		}
		local := nt.text
		if ps.skipName("as") {
			local = ps.expectKind(tName, "name").text
		}
		l.names = append(l.names, local)
		if ctx() || !isOp(ps.cur(), ",") {
			break
		}
	}
	l.span = span{start, ps.cur().off}
	return l
}

func (ps *parser) parseSignature() ([]string, []expr) {
	var params []string
	var defaults []expr
	ps.expectOp("(")
	for !isOp(ps.cur(), ")") {
		if len(params) > 0 {
			ps.expectOp(",")
		}
		n := ps.expectKind(tName, "name")
		if !assignableName(n.text) {
			ps.fail(n, "can't assign to '"+n.text+"'")
		}
		if ps.skipOp("=") {
			defaults = append(defaults, ps.parseExpression(true))
		} else if len(defaults) > 0 {
			ps.fail(n, "non-default argument follows default argument")
		}
		params = append(params, n.text)
	}
	ps.expectOp(")")
	return params, defaults
}

func (ps *parser) parseSet() stmt {
	start := ps.next().off
	target := ps.parseAssignTarget(true, false, nil, true)
	if ps.skipOp("=") {
		v := ps.parseTuple(false, true, nil, false, false)
		return &setStmt{span: span{start, ps.cur().off}, target: target, value: v}
	}
	var f *filterExpr
	if x := ps.parseFilter(nil, false); x != nil {
		f = x.(*filterExpr)
	}
	body := ps.parseStatements([]string{"endset"}, true)
	return &setBlockStmt{span: span{start, ps.cur().off}, target: target, filter: f, body: body}
}

func (ps *parser) parseFor() stmt {
	start := ps.next().off
	target := ps.parseAssignTarget(true, false, []string{"in"}, false)
	ps.expectName("in")
	iter := ps.parseTuple(false, false, []string{"recursive"}, false, false)
	var test expr
	if ps.skipName("if") {
		test = ps.parseExpression(true)
	}
	rec := ps.skipName("recursive")
	body := ps.parseStatements([]string{"endfor", "else"}, false)
	var els []stmt
	if ps.next().text != "endfor" {
		els = ps.parseStatements([]string{"endfor"}, true)
	}
	return &forStmt{span: span{start, ps.cur().off}, target: target, iter: iter, test: test, recursive: rec, body: body, els: els}
}

func (ps *parser) parseIf() stmt {
	start := ps.next().off
	root := &ifStmt{}
	node := root
	for {
		node.test = ps.parseTuple(false, false, nil, false, false)
		node.body = ps.parseStatements([]string{"elif", "else", "endif"}, false)
		node.span = span{start, ps.cur().off}
		t := ps.next()
		if t.text == "elif" {
			n := &ifStmt{}
			node.els = []stmt{n}
			node = n
			start = t.off
			continue
		}
		if t.text == "else" {
			node.els = ps.parseStatements([]string{"endif"}, true)
		}
		break
	}
	return root
}

func assignableName(n string) bool {
	switch n {
	case "true", "false", "none", "True", "False", "None":
		return false
	}
	return true
}

func canAssign(x expr) bool {
	switch x := x.(type) {
	case *nameExpr:
		return assignableName(x.name)
	case *nsrefExpr:
		return true
	case *listExpr:
		if !x.tuple {
			return false
		}
		for _, it := range x.items {
			if !canAssign(it) {
				return false
			}
		}
		return true
	}
	return false
}

func (ps *parser) parseAssignTarget(withTuple, nameOnly bool, extraEnd []string, withNamespace bool) expr {
	var target expr
	t := ps.cur()
	switch {
	case nameOnly:
		n := ps.expectKind(tName, "name")
		target = &nameExpr{span: span{n.off, n.end}, name: n.text}
	case withTuple:
		target = ps.parseTuple(true, true, extraEnd, false, withNamespace)
	default:
		target = ps.parsePrimary(withNamespace)
	}
	if !canAssign(target) {
		ps.fail(t, "can't assign to this target")
	}
	return target
}

func (ps *parser) parseExpression(withCondexpr bool) expr {
	if withCondexpr {
		return ps.parseCondexpr()
	}
	return ps.parseOr()
}

func (ps *parser) parseCondexpr() expr {
	ps.enter()
	defer ps.leave()
	start := ps.cur().off
	x := ps.parseOr()
	for ps.skipName("if") {
		test := ps.parseOr()
		var els expr
		if ps.skipName("else") {
			els = ps.parseCondexpr()
		}
		x = &condExpr{span: span{start, ps.toks[ps.p-1].end}, test: test, then: x, els: els}
	}
	return x
}

func (ps *parser) endOf() int { return ps.toks[max(ps.p-1, 0)].end }

func (ps *parser) parseOr() expr {
	start := ps.cur().off
	x := ps.parseAnd()
	for ps.skipName("or") {
		r := ps.parseAnd()
		x = &binExpr{span: span{start, ps.endOf()}, op: "or", l: x, r: r}
	}
	return x
}

func (ps *parser) parseAnd() expr {
	start := ps.cur().off
	x := ps.parseNot()
	for ps.skipName("and") {
		r := ps.parseNot()
		x = &binExpr{span: span{start, ps.endOf()}, op: "and", l: x, r: r}
	}
	return x
}

func (ps *parser) parseNot() expr {
	if isName(ps.cur(), "not") {
		ps.enter()
		defer ps.leave()
		start := ps.next().off
		x := ps.parseNot()
		return &unaryExpr{span: span{start, ps.endOf()}, op: "not", x: x}
	}
	return ps.parseCompare()
}

var compareOps = map[string]string{"==": "eq", "!=": "ne", "<": "lt", "<=": "lteq", ">": "gt", ">=": "gteq"}

func (ps *parser) parseCompare() expr {
	start := ps.cur().off
	x := ps.parseMath1()
	var ops []operand
	for {
		t := ps.cur()
		if op, ok := compareOps[t.text]; ok && t.kind == tOp {
			ps.next()
			ops = append(ops, operand{op, ps.parseMath1()})
		} else if ps.skipName("in") {
			ops = append(ops, operand{"in", ps.parseMath1()})
		} else if isName(t, "not") && isName(ps.look(), "in") {
			ps.next()
			ps.next()
			ops = append(ops, operand{"notin", ps.parseMath1()})
		} else {
			break
		}
	}
	if len(ops) == 0 {
		return x
	}
	return &compareExpr{span: span{start, ps.endOf()}, x: x, ops: ops}
}

func (ps *parser) parseMath1() expr {
	start := ps.cur().off
	x := ps.parseConcat()
	for isOp(ps.cur(), "+") || isOp(ps.cur(), "-") {
		op := ps.next().text
		r := ps.parseConcat()
		x = &binExpr{span: span{start, ps.endOf()}, op: op, l: x, r: r}
	}
	return x
}

func (ps *parser) parseConcat() expr {
	start := ps.cur().off
	parts := []expr{ps.parseMath2()}
	for ps.skipOp("~") {
		parts = append(parts, ps.parseMath2())
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return &concatExpr{span: span{start, ps.endOf()}, parts: parts}
}

func (ps *parser) parseMath2() expr {
	start := ps.cur().off
	x := ps.parsePow()
	for {
		t := ps.cur()
		if t.kind != tOp || (t.text != "*" && t.text != "/" && t.text != "//" && t.text != "%") {
			break
		}
		ps.next()
		r := ps.parsePow()
		x = &binExpr{span: span{start, ps.endOf()}, op: t.text, l: x, r: r}
	}
	return x
}

func (ps *parser) parsePow() expr {
	start := ps.cur().off
	x := ps.parseUnary(true)
	for ps.skipOp("**") {
		r := ps.parseUnary(true)
		x = &binExpr{span: span{start, ps.endOf()}, op: "**", l: x, r: r}
	}
	return x
}

func (ps *parser) parseUnary(withFilter bool) expr {
	ps.enter()
	defer ps.leave()
	t := ps.cur()
	var x expr
	switch {
	case isOp(t, "-"), isOp(t, "+"):
		ps.next()
		inner := ps.parseUnary(false)
		x = &unaryExpr{span: span{t.off, ps.endOf()}, op: t.text, x: inner}
	default:
		x = ps.parsePrimary(false)
	}
	x = ps.parsePostfix(x)
	if withFilter {
		x = ps.parseFilterExpr(x)
	}
	return x
}

func (ps *parser) parsePrimary(withNamespace bool) expr {
	t := ps.cur()
	switch t.kind {
	case tName:
		ps.next()
		switch t.text {
		case "true", "True":
			return &constExpr{span: span{t.off, t.end}, v: cv{k: kBool, i: 1}}
		case "false", "False":
			return &constExpr{span: span{t.off, t.end}, v: cv{k: kBool}}
		case "none", "None":
			return &constExpr{span: span{t.off, t.end}, v: cv{k: kNone}}
		}
		if withNamespace && isOp(ps.cur(), ".") {
			ps.next()
			a := ps.expectKind(tName, "name")
			return &nsrefExpr{span: span{t.off, a.end}, name: t.text, attr: a.text}
		}
		return &nameExpr{span: span{t.off, t.end}, name: t.text}
	case tString:
		ps.next()
		s := t.sval
		end := t.end
		for ps.cur().kind == tString {
			n := ps.next()
			s += n.sval
			end = n.end
		}
		return &constExpr{span: span{t.off, end}, v: cv{k: kStr, s: s}}
	case tInt:
		ps.next()
		return &constExpr{span: span{t.off, t.end}, v: cv{k: kInt, i: t.ival, big: t.big}}
	case tFloat:
		ps.next()
		return &constExpr{span: span{t.off, t.end}, v: cv{k: kFloat, f: t.fval}}
	case tOp:
		switch t.text {
		case "(":
			ps.enter()
			defer ps.leave()
			ps.next()
			x := ps.parseTuple(false, true, nil, true, false)
			ps.expectOp(")")
			return x
		case "[":
			ps.enter()
			defer ps.leave()
			ps.next()
			l := &listExpr{}
			for !isOp(ps.cur(), "]") {
				if len(l.items) > 0 {
					ps.expectOp(",")
				}
				if isOp(ps.cur(), "]") {
					break
				}
				l.items = append(l.items, ps.parseExpression(true))
			}
			e := ps.expectOp("]")
			l.span = span{t.off, e.end}
			return l
		case "{":
			ps.enter()
			defer ps.leave()
			ps.next()
			d := &dictExpr{}
			for !isOp(ps.cur(), "}") {
				if len(d.pairs) > 0 {
					ps.expectOp(",")
				}
				if isOp(ps.cur(), "}") {
					break
				}
				k := ps.parseExpression(true)
				ps.expectOp(":")
				v := ps.parseExpression(true)
				d.pairs = append(d.pairs, pair{k, v})
			}
			e := ps.expectOp("}")
			d.span = span{t.off, e.end}
			return d
		}
	}
	ps.fail(t, "unexpected '"+describe(t)+"'")
	return nil
}

func (ps *parser) isTupleEnd(extra []string) bool {
	t := ps.cur()
	if t.kind == tVarEnd || t.kind == tBlockEnd || isOp(t, ")") {
		return true
	}
	return extra != nil && ps.atEnd(extra)
}

func (ps *parser) parseTuple(simplified, withCondexpr bool, extraEnd []string, explicitParens, withNamespace bool) expr {
	start := ps.cur().off
	var items []expr
	isTuple := false
	for {
		if len(items) > 0 {
			ps.expectOp(",")
		}
		if ps.isTupleEnd(extraEnd) {
			break
		}
		if simplified {
			items = append(items, ps.parsePrimary(withNamespace))
		} else {
			items = append(items, ps.parseExpression(withCondexpr))
		}
		if isOp(ps.cur(), ",") {
			isTuple = true
		} else {
			break
		}
	}
	if !isTuple {
		if len(items) > 0 {
			return items[0]
		}
		if !explicitParens {
			ps.fail(ps.cur(), "expected an expression, got '"+describe(ps.cur())+"'")
		}
	}
	return &listExpr{span: span{start, ps.endOf()}, items: items, tuple: true}
}

func (ps *parser) parsePostfix(x expr) expr {
	for {
		t := ps.cur()
		switch {
		case isOp(t, "."), isOp(t, "["):
			x = ps.parseSubscript(x)
		case isOp(t, "("):
			x = ps.parseCall(x)
		default:
			return x
		}
	}
}

func (ps *parser) parseFilterExpr(x expr) expr {
	for {
		t := ps.cur()
		switch {
		case isOp(t, "|"):
			x = ps.parseFilter(x, false)
		case isName(t, "is"):
			x = ps.parseTest(x)
		case isOp(t, "("):
			x = ps.parseCall(x)
		default:
			return x
		}
	}
}

func (ps *parser) parseSubscript(x expr) expr {
	t := ps.next()
	start := x.pos().off
	if t.text == "." {
		a := ps.next()
		switch a.kind {
		case tName:
			return &getattrExpr{span: span{start, a.end}, obj: x, attr: a.text, attrOff: a.off}
		case tInt:
			return &getitemExpr{span: span{start, a.end}, obj: x, arg: &constExpr{span: span{a.off, a.end}, v: cv{k: kInt, i: a.ival, big: a.big}}}
		}
		ps.fail(a, "expected name or number")
	}
	ps.enter()
	defer ps.leave()
	var args []expr
	for !isOp(ps.cur(), "]") {
		if len(args) > 0 {
			ps.expectOp(",")
		}
		args = append(args, ps.parseSubscribed())
	}
	e := ps.expectOp("]")
	var arg expr
	if len(args) == 1 {
		arg = args[0]
	} else {
		arg = &listExpr{span: span{t.off, e.end}, items: args, tuple: true}
	}
	return &getitemExpr{span: span{start, e.end}, obj: x, arg: arg}
}

func (ps *parser) parseSubscribed() expr {
	start := ps.cur().off
	var a [3]expr
	if isOp(ps.cur(), ":") {
		ps.next()
	} else {
		x := ps.parseExpression(true)
		if !isOp(ps.cur(), ":") {
			return x
		}
		ps.next()
		a[0] = x
	}
	if !isOp(ps.cur(), ":") && !isOp(ps.cur(), "]") && !isOp(ps.cur(), ",") {
		a[1] = ps.parseExpression(true)
	}
	if isOp(ps.cur(), ":") {
		ps.next()
		if !isOp(ps.cur(), "]") && !isOp(ps.cur(), ",") {
			a[2] = ps.parseExpression(true)
		}
	}
	return &sliceExpr{span: span{start, ps.endOf()}, start: a[0], stop: a[1], step: a[2]}
}

func (ps *parser) parseCallArgs() callArgs {
	ps.enter()
	defer ps.leave()
	lp := ps.expectOp("(")
	var c callArgs
	requireComma := false
	for !isOp(ps.cur(), ")") {
		if requireComma {
			ps.expectOp(",")
			if isOp(ps.cur(), ")") {
				break
			}
		}
		switch {
		case isOp(ps.cur(), "*"):
			if c.dynArgs != nil || c.dynKwargs != nil {
				ps.fail(lp, "invalid syntax for function call expression")
			}
			ps.next()
			c.dynArgs = ps.parseExpression(true)
		case isOp(ps.cur(), "**"):
			if c.dynKwargs != nil {
				ps.fail(lp, "invalid syntax for function call expression")
			}
			ps.next()
			c.dynKwargs = ps.parseExpression(true)
		case ps.cur().kind == tName && isOp(ps.look(), "="):
			if c.dynKwargs != nil {
				ps.fail(lp, "invalid syntax for function call expression")
			}
			k := ps.next()
			ps.next()
			c.kwargs = append(c.kwargs, keyword{key: k.text, off: k.off, val: ps.parseExpression(true)})
		default:
			if c.dynArgs != nil || c.dynKwargs != nil || len(c.kwargs) > 0 {
				ps.fail(lp, "invalid syntax for function call expression")
			}
			c.args = append(c.args, ps.parseExpression(true))
		}
		requireComma = true
	}
	ps.expectOp(")")
	return c
}

func (ps *parser) parseCall(x expr) expr {
	c := ps.parseCallArgs()
	return &callExpr{span: span{x.pos().off, ps.endOf()}, fn: x, callArgs: c}
}

func (ps *parser) parseFilter(x expr, startInline bool) expr {
	for isOp(ps.cur(), "|") || startInline {
		if !startInline {
			ps.next()
		}
		n := ps.expectKind(tName, "filter name")
		name := n.text
		for isOp(ps.cur(), ".") {
			ps.next()
			name += "." + ps.expectKind(tName, "name").text
		}
		var c callArgs
		if isOp(ps.cur(), "(") {
			c = ps.parseCallArgs()
		}
		start := n.off
		if x != nil {
			start = x.pos().off
		}
		x = &filterExpr{span: span{start, ps.endOf()}, node: x, name: name, nameOff: n.off, callArgs: c}
		startInline = false
	}
	return x
}

func (ps *parser) parseTest(x expr) expr {
	is := ps.next()
	negated := ps.skipName("not")
	name := ps.expectKind(tName, "test name").text
	for isOp(ps.cur(), ".") {
		ps.next()
		name += "." + ps.expectKind(tName, "name").text
	}
	var c callArgs
	t := ps.cur()
	if isOp(t, "(") {
		c = ps.parseCallArgs()
	} else if (t.kind == tName || t.kind == tString || t.kind == tInt || t.kind == tFloat ||
		isOp(t, "(") || isOp(t, "[") || isOp(t, "{")) &&
		!isName(t, "else") && !isName(t, "or") && !isName(t, "and") {
		if isName(t, "is") {
			ps.fail(t, "you cannot chain multiple tests with is")
		}
		a := ps.parsePostfix(ps.parsePrimary(false))
		c.args = []expr{a}
	}
	var out expr = &testExpr{span: span{x.pos().off, ps.endOf()}, node: x, name: name, callArgs: c}
	if negated {
		out = &unaryExpr{span: span{is.off, ps.endOf()}, op: "not", x: out}
	}
	return out
}
