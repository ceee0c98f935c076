package keras

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The config is parsed with a small parser of our own instead of
// encoding/json because the analysis must see what Python's json module
// sees: NaN/Infinity literals (Keras writes them), duplicate keys (Python
// keeps the last one, and a scanner that keeps the first can be fooled),
// UTF-16/32 input (json.loads(bytes) detects it), and a bounded tree that
// does not grow with numeric arrays.

type kind uint8

const (
	kNull kind = iota + 1
	kBool
	kNumber
	kString
	kArray
	kObject
	kKey // an object member's key; its value is the next node
)

// node is one JSON value in the arena. Containers own the children
// arena[first : first+n]; an object's children alternate key, value.
// Numbers, booleans and nulls inside arrays are not stored (they never
// matter to the analysis and would make big numeric lists expensive), so an
// array element carries its original index in idx.
type node struct {
	s     string
	first uint32
	n     uint32
	idx   uint32
	kind  kind
}

type parseError struct {
	limit bool // a cap stopped the parse (not a syntax error)
	off   int
	msg   string
}

type dupKey struct {
	path string
	key  string
	off  int
}

type parser struct {
	data     []byte
	pos      int
	arena    []node
	scratch  []node
	maxDepth int
	maxNodes int
	nodes    int
	err      *parseError
	dups     []dupKey
	path     []seg // for duplicate-key locations
}

func (p *parser) fail(limit bool, msg string) {
	if p.err == nil {
		p.err = &parseError{limit: limit, off: p.pos, msg: msg}
	}
}

// parseJSON parses data (UTF-8, already transcoded) into an arena; the root
// is the returned node. On error the tree is unusable and err says why.
func parseJSON(data []byte, maxDepth, maxNodes int) (node, []node, []dupKey, *parseError) {
	p := &parser{data: data, maxDepth: maxDepth, maxNodes: maxNodes}
	p.skipWS()
	root := p.value(0)
	if p.err == nil {
		p.skipWS()
		if p.pos != len(p.data) {
			p.fail(false, "extra data after the JSON value")
		}
	}
	if p.err != nil {
		return node{}, nil, p.dups, p.err
	}
	return root, p.arena, p.dups, nil
}

func (p *parser) skipWS() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) count() bool {
	p.nodes++
	if p.nodes > p.maxNodes {
		p.fail(true, "more than "+strconv.Itoa(p.maxNodes)+" JSON values")
		return false
	}
	return true
}

func (p *parser) lit(s string) bool {
	if len(p.data)-p.pos >= len(s) && string(p.data[p.pos:p.pos+len(s)]) == s {
		p.pos += len(s)
		return true
	}
	return false
}

func (p *parser) value(depth int) node {
	if p.err != nil {
		return node{}
	}
	if p.pos >= len(p.data) {
		p.fail(false, "unexpected end of input")
		return node{}
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		s, ok := p.str()
		if !ok {
			return node{}
		}
		return node{kind: kString, s: s}
	case c == 'n' && p.lit("null"):
		return node{kind: kNull}
	case c == 't' && p.lit("true"), c == 'f' && p.lit("false"):
		return node{kind: kBool}
	case c == 'N' && p.lit("NaN"), c == 'I' && p.lit("Infinity"):
		return node{kind: kNumber}
	case c == '-' || c >= '0' && c <= '9':
		if p.number() {
			return node{kind: kNumber}
		}
		return node{}
	}
	p.fail(false, "unexpected character "+strconv.QuoteRune(rune(p.data[p.pos])))
	return node{}
}

// number accepts Python's json NUMBER_RE plus -Infinity.
func (p *parser) number() bool {
	if p.data[p.pos] == '-' {
		p.pos++
		if p.lit("Infinity") {
			return true
		}
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
	} else if digits() == 0 {
		p.fail(false, "invalid number")
		return false
	}
	if p.pos+1 < len(p.data) && p.data[p.pos] == '.' && p.data[p.pos+1] >= '0' && p.data[p.pos+1] <= '9' {
		p.pos++
		digits()
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		save := p.pos
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			p.pos = save // Python's regex leaves the 'e' unmatched; the caller then fails on it
		}
	}
	return true
}

func (p *parser) str() (string, bool) {
	p.pos++ // opening quote
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := string(p.data[start:p.pos])
			p.pos++
			return s, true
		}
		if c == '\\' {
			return p.strSlow(start)
		}
		if c < 0x20 {
			p.fail(false, "control character in a string")
			return "", false
		}
		p.pos++
	}
	p.fail(false, "unterminated string")
	return "", false
}

func (p *parser) strSlow(start int) (string, bool) {
	buf := make([]byte, 0, p.pos-start+16)
	buf = append(buf, p.data[start:p.pos]...)
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(buf), true
		case c < 0x20:
			p.fail(false, "control character in a string")
			return "", false
		case c != '\\':
			buf = append(buf, c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.data) {
			break
		}
		e := p.data[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) && r < 0xdc00 && p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
				save := p.pos
				p.pos += 2
				r2, ok := p.hex4()
				if !ok {
					return "", false
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
				} else {
					p.pos = save
				}
			}
			// Python keeps lone surrogates; Go strings cannot: U+FFFD stands in.
			buf = utf8.AppendRune(buf, r)
		default:
			p.pos -= 2
			p.fail(false, "invalid escape in a string")
			return "", false
		}
	}
	p.fail(false, "unterminated string")
	return "", false
}

func (p *parser) hex4() (rune, bool) {
	if len(p.data)-p.pos < 4 {
		p.fail(false, "truncated \\u escape")
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			p.fail(false, "invalid \\u escape")
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

// finish moves the children pushed since mark from scratch to the arena.
func (p *parser) finish(k kind, mark int) node {
	n := node{kind: k, first: uint32(len(p.arena)), n: uint32(len(p.scratch) - mark)}
	p.arena = append(p.arena, p.scratch[mark:]...)
	clear(p.scratch[mark:])
	p.scratch = p.scratch[:mark]
	return n
}

func (p *parser) object(depth int) node {
	if depth > p.maxDepth {
		p.fail(true, "nesting deeper than "+strconv.Itoa(p.maxDepth))
		return node{}
	}
	p.pos++ // '{'
	mark := len(p.scratch)
	var seen map[string]struct{}
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return p.finish(kObject, mark)
	}
	for p.err == nil {
		p.skipWS()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			p.fail(false, "expected a string key")
			break
		}
		keyOff := p.pos
		key, ok := p.str()
		if !ok {
			break
		}
		// Duplicates: a linear scan while the object is small, a set after.
		members := (len(p.scratch) - mark) / 2
		dup := false
		if seen == nil && members < 16 {
			for i := mark; i < len(p.scratch); i += 2 {
				if p.scratch[i].s == key {
					dup = true
					break
				}
			}
		} else {
			if seen == nil {
				seen = make(map[string]struct{}, members*2)
				for i := mark; i < len(p.scratch); i += 2 {
					seen[p.scratch[i].s] = struct{}{}
				}
			}
			_, dup = seen[key]
			seen[key] = struct{}{}
		}
		if dup && len(p.dups) < 64 {
			p.dups = append(p.dups, dupKey{path: renderPath(p.path), key: key, off: keyOff})
		}
		p.skipWS()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			p.fail(false, "expected ':' after a key")
			break
		}
		p.pos++
		p.skipWS()
		if !p.count() || !p.count() {
			break
		}
		p.path = append(p.path, seg{key: key})
		v := p.value(depth)
		p.path = p.path[:len(p.path)-1]
		if p.err != nil {
			break
		}
		p.scratch = append(p.scratch, node{kind: kKey, s: key}, v)
		p.skipWS()
		if p.pos < len(p.data) && p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			return p.finish(kObject, mark)
		}
		p.fail(false, "expected ',' or '}' in an object")
	}
	clear(p.scratch[mark:])
	p.scratch = p.scratch[:mark]
	return node{}
}

func (p *parser) array(depth int) node {
	if depth > p.maxDepth {
		p.fail(true, "nesting deeper than "+strconv.Itoa(p.maxDepth))
		return node{}
	}
	p.pos++ // '['
	mark := len(p.scratch)
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return p.finish(kArray, mark)
	}
	for i := 0; p.err == nil; i++ {
		p.skipWS()
		if !p.count() {
			break
		}
		p.path = append(p.path, seg{idx: i, isIdx: true})
		v := p.value(depth)
		p.path = p.path[:len(p.path)-1]
		if p.err != nil {
			break
		}
		if v.kind == kString || v.kind == kArray || v.kind == kObject {
			v.idx = uint32(i)
			p.scratch = append(p.scratch, v)
		} else {
			p.nodes-- // not stored
		}
		p.skipWS()
		if p.pos < len(p.data) && p.data[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.data) && p.data[p.pos] == ']' {
			p.pos++
			return p.finish(kArray, mark)
		}
		p.fail(false, "expected ',' or ']' in an array")
	}
	clear(p.scratch[mark:])
	p.scratch = p.scratch[:mark]
	return node{}
}

// decodeText does what Python's json.loads does to bytes before parsing:
// detect UTF-8 (with or without BOM), UTF-16 or UTF-32 and decode. The
// result is UTF-8. note is non-empty when the encoding is one Keras never
// writes; ok is false when the bytes cannot be decoded (Python raises).
func decodeText(b []byte) (out []byte, note string, ok bool) {
	enc := detectEncoding(b)
	switch enc {
	case "utf-8":
		return b, "", validUTF8Surrogatepass(b)
	case "utf-8-sig":
		return b[3:], enc, validUTF8Surrogatepass(b[3:])
	}
	var be, bom bool
	var width int
	switch enc {
	case "utf-16":
		width, bom, be = 2, true, b[0] == 0xfe
	case "utf-16-be":
		width, be = 2, true
	case "utf-16-le":
		width = 2
	case "utf-32":
		width, bom, be = 4, true, b[0] == 0
	case "utf-32-be":
		width, be = 4, true
	case "utf-32-le":
		width = 4
	}
	if bom {
		b = b[width:]
	}
	if len(b)%width != 0 {
		return nil, enc, false
	}
	out = make([]byte, 0, len(b))
	unit := func(i int) uint32 {
		if width == 2 {
			if be {
				return uint32(b[i])<<8 | uint32(b[i+1])
			}
			return uint32(b[i+1])<<8 | uint32(b[i])
		}
		if be {
			return uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		}
		return uint32(b[i+3])<<24 | uint32(b[i+2])<<16 | uint32(b[i+1])<<8 | uint32(b[i])
	}
	for i := 0; i < len(b); i += width {
		r := rune(unit(i))
		if width == 2 && r >= 0xd800 && r < 0xdc00 && i+2 < len(b) {
			if r2 := rune(unit(i + 2)); r2 >= 0xdc00 && r2 < 0xe000 {
				r = utf16.DecodeRune(r, r2)
				i += 2
			}
		}
		if r > utf8.MaxRune || r < 0 {
			return nil, enc, false
		}
		out = utf8.AppendRune(out, r)
	}
	return out, enc, true
}

// detectEncoding mirrors json.detect_encoding (CPython Lib/json/__init__.py).
func detectEncoding(b []byte) string {
	switch {
	case len(b) >= 4 && (b[0] == 0 && b[1] == 0 && b[2] == 0xfe && b[3] == 0xff || b[0] == 0xff && b[1] == 0xfe && b[2] == 0 && b[3] == 0):
		return "utf-32"
	case len(b) >= 2 && (b[0] == 0xfe && b[1] == 0xff || b[0] == 0xff && b[1] == 0xfe):
		return "utf-16"
	case len(b) >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf:
		return "utf-8-sig"
	}
	if len(b) >= 4 {
		if b[0] == 0 {
			if b[1] != 0 {
				return "utf-16-be"
			}
			return "utf-32-be"
		}
		if b[1] == 0 {
			if b[2] != 0 || b[3] != 0 {
				return "utf-16-le"
			}
			return "utf-32-le"
		}
	} else if len(b) == 2 {
		if b[0] == 0 {
			return "utf-16-be"
		}
		if b[1] == 0 {
			return "utf-16-le"
		}
	}
	return "utf-8"
}

// validUTF8Surrogatepass reports whether b decodes as UTF-8 under Python's
// "surrogatepass" handler, which also accepts encoded surrogates (ED A0..BF xx).
func validUTF8Surrogatepass(b []byte) bool {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			if i+2 < len(b) && b[i] == 0xed && b[i+1] >= 0xa0 && b[i+1] <= 0xbf && b[i+2] >= 0x80 && b[i+2] <= 0xbf {
				i += 3
				continue
			}
			return false
		}
		i += n
	}
	return true
}
