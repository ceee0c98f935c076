package jinja

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lexer follows jinja2/lexer.py (Jinja2 3.1) with the environment the
// chat-template renderers use: default delimiters, trim_blocks and
// lstrip_blocks on, no line statements. It works on the source after
// Jinja's own newline normalisation (\r\n and \r become \n, one trailing
// newline dropped); offsets are mapped back to the caller's text by srcMap.

type tokKind uint8

const (
	tEOF tokKind = iota
	tData
	tVarBegin
	tVarEnd
	tBlockBegin
	tBlockEnd
	tName
	tString
	tInt
	tFloat
	tOp
)

type token struct {
	kind tokKind
	off  int    // start, in the normalised source
	end  int    // end (exclusive)
	text string // data (after whitespace control), name, operator, raw literal
	sval string // decoded string literal
	ival int64
	big  bool // integer literal that does not fit in int64
	fval float64
}

// syntaxError is a template Jinja itself would reject (or one we cannot
// follow); off is in the normalised source.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

// limitError stops the analysis at a cap.
type limitError struct {
	off  int
	what string
}

func (e *limitError) Error() string { return e.what }

// srcMap maps offsets in the normalised source back to the original text:
// only "\r\n" pairs shorten the text (a lone "\r" becomes "\n" in place).
type srcMap struct {
	removed []int // normalised offsets at which one byte was dropped, ascending
}

func (m *srcMap) orig(off int) int64 {
	// number of dropped bytes strictly before or at off
	lo, hi := 0, len(m.removed)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if m.removed[mid] <= off {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return int64(off + lo)
}

// normalize applies Jinja's newline handling: split on \r\n|\r|\n, drop one
// trailing empty line (keep_trailing_newline is off), join with \n.
func normalize(src string) (string, srcMap) {
	var m srcMap
	if strings.IndexByte(src, '\r') < 0 {
		if strings.HasSuffix(src, "\n") {
			return src[:len(src)-1], m
		}
		return src, m
	}
	var b strings.Builder
	b.Grow(len(src))
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '\r' {
			if i+1 < len(src) && src[i+1] == '\n' {
				m.removed = append(m.removed, b.Len())
				i++
			}
			b.WriteByte('\n')
			continue
		}
		b.WriteByte(c)
	}
	s := b.String()
	if strings.HasSuffix(s, "\n") {
		s = s[:len(s)-1]
	}
	return s, m
}

// pySpace is Python's str.isspace, which is what `\s` and str.rstrip use.
func pySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

func decodeRune(s string, i int) (rune, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// skipSpace returns the end of a run of Python whitespace starting at i.
func skipSpace(s string, i int) int {
	for i < len(s) {
		r, n := decodeRune(s, i)
		if !pySpace(r) {
			break
		}
		i += n
	}
	return i
}

func pyRstrip(s string) string {
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		if !pySpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}

func allSpace(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); {
		r, n := decodeRune(s, i)
		if !pySpace(r) {
			return false
		}
		i += n
	}
	return true
}

type lexer struct {
	s            string
	toks         []token
	maxTokens    int
	lineStarting bool
}

func (lx *lexer) emit(t token) error {
	if len(lx.toks) >= lx.maxTokens {
		return &limitError{off: t.off, what: "token count"}
	}
	lx.toks = append(lx.toks, t)
	return nil
}

// stripData applies the `-` sign and lstrip_blocks to the text before a tag.
func (lx *lexer) stripData(text, sign string, lstrip bool) string {
	if sign == "-" {
		return pyRstrip(text)
	}
	if sign != "+" && lstrip {
		lpos := strings.LastIndexByte(text, '\n') + 1
		if lpos > 0 || lx.lineStarting {
			if allSpace(text[lpos:]) {
				return text[:lpos]
			}
		}
	}
	return text
}

func lex(s string, maxTokens int) ([]token, error) {
	lx := &lexer{s: s, maxTokens: maxTokens, lineStarting: true}
	err := lx.run()
	return lx.toks, err
}

func (lx *lexer) run() error {
	s := lx.s
	pos := 0
	for pos < len(s) {
		i := indexOpener(s, pos)
		if i < 0 {
			if err := lx.emit(token{kind: tData, off: pos, end: len(s), text: s[pos:]}); err != nil {
				return err
			}
			return nil
		}
		text := s[pos:i]
		opener := s[i+1]
		j := i + 2
		sign := ""
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			sign = s[j : j+1]
			j++
		}
		if opener == '%' {
			if rawEnd, ok := matchRawBegin(s, i); ok {
				text = lx.stripData(text, rawSign(s, i), true)
				if text != "" {
					if err := lx.emit(token{kind: tData, off: pos, end: i, text: text}); err != nil {
						return err
					}
				}
				lx.lineStarting = s[rawEnd-1] == '\n'
				np, err := lx.raw(rawEnd)
				if err != nil {
					return err
				}
				pos = np
				continue
			}
		}
		text = lx.stripData(text, sign, opener != '{')
		if text != "" {
			if err := lx.emit(token{kind: tData, off: pos, end: i, text: text}); err != nil {
				return err
			}
		}
		lx.lineStarting = false
		var err error
		switch opener {
		case '#':
			pos, err = lx.comment(j)
		case '%':
			if err = lx.emit(token{kind: tBlockBegin, off: i, end: j, text: s[i:j]}); err == nil {
				pos, err = lx.tag(j, true)
			}
		default:
			if err = lx.emit(token{kind: tVarBegin, off: i, end: j, text: s[i:j]}); err == nil {
				pos, err = lx.tag(j, false)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// indexOpener finds the first "{{", "{%" or "{#" at or after pos.
func indexOpener(s string, pos int) int {
	for {
		k := strings.IndexByte(s[pos:], '{')
		if k < 0 {
			return -1
		}
		k += pos
		if k+1 < len(s) {
			switch s[k+1] {
			case '{', '%', '#':
				return k
			}
		}
		pos = k + 1
	}
}

// rawSign is the whitespace sign of a "{%" at i.
func rawSign(s string, i int) string {
	if i+2 < len(s) && (s[i+2] == '-' || s[i+2] == '+') {
		return s[i+2 : i+3]
	}
	return ""
}

// matchRawBegin matches `{%(-|+|)\s*raw\s*(?:-%}\s*|%})` at i and returns its end.
func matchRawBegin(s string, i int) (int, bool) {
	j := i + 2
	if j < len(s) && (s[j] == '-' || s[j] == '+') {
		j++
	}
	j = skipSpace(s, j)
	if !strings.HasPrefix(s[j:], "raw") {
		return 0, false
	}
	j = skipSpace(s, j+3)
	if strings.HasPrefix(s[j:], "-%}") {
		return skipSpace(s, j+3), true
	}
	if strings.HasPrefix(s[j:], "%}") {
		return j + 2, true
	}
	return 0, false
}

// raw consumes a raw block body up to and including its endraw tag.
func (lx *lexer) raw(start int) (int, error) {
	s := lx.s
	if start >= len(s) {
		return start, nil // Jinja's tokenizer stops quietly at the end
	}
	p := start
	for {
		k := strings.Index(s[p:], "{%")
		if k < 0 {
			return 0, &syntaxError{off: start, msg: "missing end of raw directive"}
		}
		k += p
		j := k + 2
		sign := ""
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			sign = s[j : j+1]
			j++
		}
		j = skipSpace(s, j)
		if strings.HasPrefix(s[j:], "endraw") {
			j = skipSpace(s, j+6)
			end := -1
			switch {
			case strings.HasPrefix(s[j:], "+%}"):
				end = j + 3
			case strings.HasPrefix(s[j:], "-%}"):
				end = skipSpace(s, j+3)
			case strings.HasPrefix(s[j:], "%}"):
				end = j + 2
				if end < len(s) && s[end] == '\n' {
					end++
				}
			}
			if end >= 0 {
				text := lx.stripData(s[start:k], sign, true)
				if text != "" {
					if err := lx.emit(token{kind: tData, off: start, end: k, text: text}); err != nil {
						return 0, err
					}
				}
				lx.lineStarting = s[end-1] == '\n'
				return end, nil
			}
		}
		p = k + 2
	}
}

// comment skips a comment; i is just past "{#" and its sign.
func (lx *lexer) comment(i int) (int, error) {
	s := lx.s
	if i >= len(s) {
		return i, nil // Jinja's tokenizer stops quietly at the end
	}
	q := strings.Index(s[i:], "#}")
	if q < 0 {
		return 0, &syntaxError{off: i, msg: "missing end of comment tag"}
	}
	q += i
	end := q + 2
	if q-1 >= i && s[q-1] == '-' {
		end = skipSpace(s, end)
	} else if q-1 >= i && s[q-1] == '+' {
		// nothing
	} else if end < len(s) && s[end] == '\n' {
		end++
	}
	lx.lineStarting = s[end-1] == '\n'
	return end, nil
}

var operators3 = []string{"//", "**", "==", "!=", ">=", "<="}

// tag lexes the inside of {% %} (block) or {{ }}; i is just past the opener.
func (lx *lexer) tag(i int, block bool) (int, error) {
	s := lx.s
	var balance []byte
	for {
		if i >= len(s) {
			// Jinja's tokenizer just stops here; the parser reports it.
			return i, nil
		}
		if len(balance) == 0 {
			if end, ok := matchTagEnd(s, i, block); ok {
				k := tBlockEnd
				if !block {
					k = tVarEnd
				}
				if err := lx.emit(token{kind: k, off: i, end: end, text: s[i:end]}); err != nil {
					return 0, err
				}
				lx.lineStarting = s[end-1] == '\n'
				return end, nil
			}
		}
		r, n := decodeRune(s, i)
		if pySpace(r) {
			end := skipSpace(s, i)
			lx.lineStarting = s[end-1] == '\n'
			i = end
			continue
		}
		lx.lineStarting = false
		if t, ok, err := lexNumber(s, i); err != nil {
			return 0, err
		} else if ok {
			if err := lx.emit(t); err != nil {
				return 0, err
			}
			i = t.end
			continue
		}
		if isNameChar(r) {
			end := i + n
			for end < len(s) {
				r2, n2 := decodeRune(s, end)
				if !isNameChar(r2) {
					break
				}
				end += n2
			}
			name := s[i:end]
			if !isIdentifier(name) {
				return 0, &syntaxError{off: i, msg: "invalid character in identifier"}
			}
			if err := lx.emit(token{kind: tName, off: i, end: end, text: name}); err != nil {
				return 0, err
			}
			i = end
			continue
		}
		if r == '\'' || r == '"' {
			end, ok := scanString(s, i)
			if ok {
				v, uerr := unescape(s[i+1 : end-1])
				if uerr != "" {
					return 0, &syntaxError{off: i, msg: "string literal: " + uerr}
				}
				if err := lx.emit(token{kind: tString, off: i, end: end, text: s[i:end], sval: v}); err != nil {
					return 0, err
				}
				i = end
				continue
			}
			return 0, &syntaxError{off: i, msg: "unterminated string literal"}
		}
		op := ""
		for _, o := range operators3 {
			if strings.HasPrefix(s[i:], o) {
				op = o
				break
			}
		}
		if op == "" && strings.IndexByte("+-/*%~[](){}=.:|,;<>", s[i]) >= 0 {
			op = s[i : i+1]
		}
		if op == "" {
			return 0, &syntaxError{off: i, msg: "unexpected character " + strconv.QuoteRune(r)}
		}
		switch op {
		case "(":
			balance = append(balance, ')')
		case "[":
			balance = append(balance, ']')
		case "{":
			balance = append(balance, '}')
		case ")", "]", "}":
			if len(balance) == 0 || balance[len(balance)-1] != op[0] {
				return 0, &syntaxError{off: i, msg: "unbalanced " + strconv.Quote(op)}
			}
			balance = balance[:len(balance)-1]
		}
		if err := lx.emit(token{kind: tOp, off: i, end: i + len(op), text: op}); err != nil {
			return 0, err
		}
		i += len(op)
	}
}

// matchTagEnd matches the end of a block (`+%}`, `-%}\s*`, `%}\n?`) or of a
// print statement (`-}}\s*`, `}}`) at i.
func matchTagEnd(s string, i int, block bool) (int, bool) {
	if block {
		switch {
		case strings.HasPrefix(s[i:], "+%}"):
			return i + 3, true
		case strings.HasPrefix(s[i:], "-%}"):
			return skipSpace(s, i+3), true
		case strings.HasPrefix(s[i:], "%}"):
			if i+2 < len(s) && s[i+2] == '\n' {
				return i + 3, true
			}
			return i + 2, true
		}
		return 0, false
	}
	switch {
	case strings.HasPrefix(s[i:], "-}}"):
		return skipSpace(s, i+3), true
	case strings.HasPrefix(s[i:], "}}"):
		return i + 2, true
	}
	return 0, false
}

// scanString matches Jinja's string_re at i; it returns the end after the
// closing quote.
func scanString(s string, i int) (int, bool) {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++ // any character, newline included (re.S)
			if j < len(s) && s[j] >= utf8.RuneSelf {
				_, n := utf8.DecodeRuneInString(s[j:])
				j += n - 1
			}
		case q:
			return j + 1, true
		}
	}
	return 0, false
}

// isNameChar is the character class of Jinja's name_re: Python's \w plus
// the identifier-continue characters \w lacks.
func isNameChar(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Pc, unicode.Other_ID_Start, unicode.Other_ID_Continue)
}

func idStart(r rune) bool {
	if r == '_' {
		return true
	}
	return (unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_ID_Start, r)) &&
		!unicode.Is(unicode.Pattern_Syntax, r) && !unicode.Is(unicode.Pattern_White_Space, r)
}

func idContinue(r rune) bool {
	return idStart(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc, unicode.Other_ID_Continue)
}

// isIdentifier approximates Python's str.isidentifier.
func isIdentifier(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			return false
		}
		if i == 0 {
			if !idStart(r) {
				return false
			}
		} else if !idContinue(r) {
			return false
		}
	}
	return s != ""
}

// digitVal is the value of a Unicode decimal digit (Nd characters come in
// contiguous runs of ten, 0 to 9).
func digitVal(r rune) int {
	if r >= '0' && r <= '9' {
		return int(r - '0')
	}
	start := r
	for unicode.IsDigit(start - 1) {
		start--
	}
	return int(r-start) % 10
}

// digitsRun matches `(\d+_)*\d+` at i and returns its end, or -1.
func digitsRun(s string, i int) int {
	end := -1
	for i < len(s) {
		r, n := decodeRune(s, i)
		if !unicode.IsDigit(r) {
			break
		}
		i += n
		end = i
		if i < len(s) && s[i] == '_' {
			if i+1 < len(s) {
				r2, _ := decodeRune(s, i+1)
				if unicode.IsDigit(r2) {
					i++
					continue
				}
			}
			break
		}
	}
	return end
}

// lexNumber tries float_re then integer_re at i.
func lexNumber(s string, i int) (token, bool, error) {
	r, _ := decodeRune(s, i)
	if !unicode.IsDigit(r) {
		return token{}, false, nil
	}
	// float: (?<!\.)(\d+_)*\d+((\.(\d+_)*\d+)?e[+\-]?(\d+_)*\d+|\.(\d+_)*\d+)
	if i == 0 || s[i-1] != '.' {
		m1 := digitsRun(s, i)
		end := -1
		expAt := func(p int) int {
			if p < len(s) && (s[p] == 'e' || s[p] == 'E') {
				q := p + 1
				if q < len(s) && (s[q] == '+' || s[q] == '-') {
					q++
				}
				return digitsRun(s, q)
			}
			return -1
		}
		if m1 < len(s) && s[m1] == '.' {
			if f := digitsRun(s, m1+1); f > 0 {
				if e := expAt(f); e > 0 {
					end = e
				}
			}
		}
		if end < 0 {
			if e := expAt(m1); e > 0 {
				end = e
			}
		}
		if end < 0 && m1 < len(s) && s[m1] == '.' {
			if f := digitsRun(s, m1+1); f > 0 {
				end = f
			}
		}
		if end > 0 {
			txt := s[i:end]
			clean := asciiDigits(strings.ReplaceAll(txt, "_", ""))
			v, err := strconv.ParseFloat(clean, 64)
			if err != nil && !isRangeErr(err) {
				return token{}, false, &syntaxError{off: i, msg: "bad float literal"}
			}
			return token{kind: tFloat, off: i, end: end, text: txt, fval: v}, true, nil
		}
	}
	// integer
	end := -1
	base := 10
	if s[i] == '0' && i+1 < len(s) {
		switch s[i+1] {
		case 'b', 'B':
			end, base = radixRun(s, i+2, 2), 2
		case 'o', 'O':
			end, base = radixRun(s, i+2, 8), 8
		case 'x', 'X':
			end, base = radixRun(s, i+2, 16), 16
		}
	}
	if end < 0 {
		base = 10
		if s[i] >= '1' && s[i] <= '9' {
			// [1-9](_?\d)*
			end = i + 1
			for end < len(s) {
				q := end
				if s[q] == '_' {
					q++
				}
				if q >= len(s) {
					break
				}
				r2, n2 := decodeRune(s, q)
				if !unicode.IsDigit(r2) {
					break
				}
				end = q + n2
			}
		} else if s[i] == '0' {
			// 0(_?0)*
			end = i + 1
			for end < len(s) {
				q := end
				if s[q] == '_' {
					q++
				}
				if q < len(s) && s[q] == '0' {
					end = q + 1
					continue
				}
				break
			}
		} else {
			return token{}, false, nil // a non-ASCII digit that starts no integer
		}
	}
	txt := s[i:end]
	t := token{kind: tInt, off: i, end: end, text: txt}
	digits := strings.ReplaceAll(txt, "_", "")
	if base != 10 {
		digits = digits[2:]
	} else {
		digits = asciiDigits(digits)
	}
	v, err := strconv.ParseInt(digits, base, 64)
	if err != nil {
		t.big = true
		t.ival = math.MaxInt64
	} else {
		t.ival = v
	}
	return t, true, nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// radixRun matches `(_?[digits])+` for the base and returns its end, or -1.
func radixRun(s string, i, base int) int {
	end := -1
	for i < len(s) {
		q := i
		if s[q] == '_' {
			q++
		}
		if q >= len(s) {
			break
		}
		r, n := decodeRune(s, q)
		ok := false
		switch base {
		case 2:
			ok = r == '0' || r == '1'
		case 8:
			ok = r >= '0' && r <= '7'
		case 16:
			ok = unicode.IsDigit(r) || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F')
		}
		if !ok {
			break
		}
		i = q + n
		end = i
	}
	return end
}

// asciiDigits replaces non-ASCII decimal digits by their ASCII value, as
// Python's int() and float() accept them.
func asciiDigits(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			var b strings.Builder
			for _, r := range s {
				if r >= utf8.RuneSelf && unicode.IsDigit(r) {
					b.WriteByte(byte('0' + digitVal(r)))
				} else {
					b.WriteRune(r)
				}
			}
			return b.String()
		}
	}
	return s
}
