package scan

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// numpy reads a .npy header (versions 1–3) without numpy and, when the
// dtype holds Python objects, scans the pickle that follows it (what
// numpy.load(allow_pickle=True) unpickles). Numeric data is never read.
func (w *walker) numpy(in input) {
	var pre [10]byte
	if _, err := io.ReadFull(in.r, pre[:8]); err != nil {
		w.npyBad(in, "truncated before the header length")
		return
	}
	major := pre[6]
	var hlen int64
	var lenBytes int
	switch major {
	case 1:
		lenBytes = 2
	case 2, 3:
		lenBytes = 4
	default:
		w.npyBad(in, fmt.Sprintf("unknown format version %d.%d", pre[6], pre[7]))
		return
	}
	lb := make([]byte, lenBytes)
	if _, err := io.ReadFull(in.r, lb); err != nil {
		w.npyBad(in, "truncated header length")
		return
	}
	if lenBytes == 2 {
		hlen = int64(binary.LittleEndian.Uint16(lb))
	} else {
		hlen = int64(binary.LittleEndian.Uint32(lb))
	}
	if hlen > w.lim.MaxNumpyHeader {
		w.npyBad(in, fmt.Sprintf("header of %d bytes exceeds the %d-byte cap", hlen, w.lim.MaxNumpyHeader))
		return
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(in.r, hdr); err != nil {
		w.npyBad(in, "truncated header")
		return
	}
	v, err := parseLiteral(string(hdr))
	if err != nil {
		w.npyBad(in, "header is not a Python literal: "+err.Error())
		return
	}
	d, ok := v.(map[string]any)
	if !ok {
		w.npyBad(in, "header is not a dict")
		return
	}
	descr, ok := d["descr"]
	if !ok {
		w.npyBad(in, "header has no 'descr'")
		return
	}
	object, err := hasObject(descr, 0)
	if err != nil {
		w.npyBad(in, err.Error())
		return
	}
	if !object {
		return
	}
	// numpy.save pickles object arrays right after the header.
	dataOff := int64(6+2+lenBytes) + hlen
	rest := input{member: in.member, name: in.name, r: in.r, size: -1, base: in.base + dataOff, depth: in.depth}
	if in.ra != nil && in.size >= 0 {
		rest.ra = io.NewSectionReader(in.ra, dataOff, in.size-dataOff)
		rest.size = in.size - dataOff
	}
	w.add(in, Finding{Rule: RuleNumpyObject, Severity: Info, Offset: dataOff, Message: "object-dtype array: numpy.load(allow_pickle=True) unpickles the data that follows the header; it was scanned as a pickle"})
	w.pickle(rest)
}

func (w *walker) npyBad(in input, why string) {
	w.add(in, Finding{Rule: RuleNumpyMalformed, Severity: High, Offset: 0, Message: "malformed .npy: " + why + "; numpy would refuse it, but its content is not known to be clean"})
}

// hasObject reports whether a numpy descr (a typestr, or a list of
// (name, format[, shape]) fields) contains the object type.
func hasObject(descr any, depth int) (bool, error) {
	if depth > 32 {
		return false, fmt.Errorf("descr nested too deeply")
	}
	switch d := descr.(type) {
	case string:
		t := strings.TrimLeft(d, "<>|=")
		return strings.HasPrefix(t, "O"), nil
	case []any:
		for _, f := range d {
			field, ok := f.([]any)
			if !ok || len(field) < 2 {
				return false, fmt.Errorf("descr field is not a (name, format) tuple")
			}
			o, err := hasObject(field[1], depth+1)
			if err != nil || o {
				return o, err
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("descr is neither a type string nor a field list")
}

// parseLiteral parses the Python literal subset numpy headers use: dicts,
// lists, tuples, strings, ints, True/False/None.
func parseLiteral(s string) (any, error) {
	p := &litParser{s: s}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at %d", p.s[p.i], p.i)
	}
	return v, nil
}

type litParser struct {
	s string
	i int
}

func (p *litParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *litParser) value(depth int) (any, error) {
	if depth > 64 {
		return nil, fmt.Errorf("nested too deeply")
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		m := map[string]any{}
		for {
			p.space()
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return m, nil
			}
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("dict key is not a string")
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, fmt.Errorf("expected ':' at %d", p.i)
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			m[ks] = v
			if !p.sep('}') {
				return nil, fmt.Errorf("expected ',' or '}' at %d", p.i)
			}
		}
	case c == '[' || c == '(':
		end := byte(']')
		if c == '(' {
			end = ')'
		}
		p.i++
		var l []any
		for {
			p.space()
			if p.i < len(p.s) && p.s[p.i] == end {
				p.i++
				return l, nil
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
			if !p.sep(end) {
				return nil, fmt.Errorf("expected ',' or %q at %d", end, p.i)
			}
		}
	case c == '\'' || c == '"':
		p.i++
		var b strings.Builder
		for p.i < len(p.s) && p.s[p.i] != c {
			if p.s[p.i] == '\\' && p.i+1 < len(p.s) {
				p.i++
			}
			b.WriteByte(p.s[p.i])
			p.i++
		}
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("unterminated string")
		}
		p.i++
		return b.String(), nil
	case c == '-' || (c >= '0' && c <= '9'):
		j := p.i + 1
		for j < len(p.s) && (p.s[j] >= '0' && p.s[j] <= '9' || p.s[j] == 'L') {
			j++
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(p.s[p.i:j], "L"), 10, 64)
		if err != nil {
			return nil, err
		}
		p.i = j
		return n, nil
	default:
		for _, w := range []struct {
			word string
			val  any
		}{{"True", true}, {"False", false}, {"None", nil}} {
			if strings.HasPrefix(p.s[p.i:], w.word) {
				p.i += len(w.word)
				return w.val, nil
			}
		}
	}
	return nil, fmt.Errorf("unexpected %q at %d", p.s[p.i], p.i)
}

// sep consumes a ',' or sees the closing byte.
func (p *litParser) sep(end byte) bool {
	p.space()
	if p.i >= len(p.s) {
		return false
	}
	if p.s[p.i] == ',' {
		p.i++
		return true
	}
	return p.s[p.i] == end
}
