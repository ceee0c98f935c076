package jinja

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// unescape decodes the body of a string literal exactly as Jinja does:
// value.encode("ascii", "backslashreplace").decode("unicode-escape").
// It returns a non-empty error text where Python raises.
func unescape(body string) (string, string) {
	if strings.IndexByte(body, '\\') < 0 {
		return body, ""
	}
	// backslashreplace: every non-ASCII character becomes an escape first,
	// so a backslash just before one pairs with the inserted backslash.
	var a strings.Builder
	a.Grow(len(body) + 8)
	for i := 0; i < len(body); {
		r, n := decodeRune(body, i)
		i += n
		switch {
		case r < utf8.RuneSelf:
			a.WriteByte(byte(r))
		case r < 0x100:
			a.WriteString(`\x`)
			a.WriteString(hex(uint32(r), 2))
		case r < 0x10000:
			a.WriteString(`\u`)
			a.WriteString(hex(uint32(r), 4))
		default:
			a.WriteString(`\U`)
			a.WriteString(hex(uint32(r), 8))
		}
	}
	return decodeUnicodeEscape(a.String())
}

func hex(v uint32, width int) string {
	s := strconv.FormatUint(uint64(v), 16)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func isOct(c byte) bool { return c >= '0' && c <= '7' }

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// writeCode appends a code point; lone surrogates (which Python keeps)
// cannot be held in UTF-8 and become U+FFFD.
func writeCode(b *strings.Builder, c rune) {
	if c >= 0xD800 && c <= 0xDFFF {
		b.WriteRune(utf8.RuneError)
		return
	}
	b.WriteRune(c)
}

// decodeUnicodeEscape is CPython's unicode-escape decoder on ASCII input.
func decodeUnicodeEscape(s string) (string, string) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c) // ASCII after backslashreplace: Latin-1 is identity
			i++
			continue
		}
		i++
		if i >= len(s) {
			return "", `\ at end of string`
		}
		c = s[i]
		i++
		switch c {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(c)
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'f':
			b.WriteByte(12)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte(11)
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := rune(c - '0')
			for k := 0; k < 2 && i < len(s) && isOct(s[i]); k++ {
				v = v*8 + rune(s[i]-'0')
				i++
			}
			writeCode(&b, v)
		case 'x', 'u', 'U':
			n := 2
			what := `truncated \xXX escape`
			if c == 'u' {
				n, what = 4, `truncated \uXXXX escape`
			} else if c == 'U' {
				n, what = 8, `truncated \UXXXXXXXX escape`
			}
			var v uint32
			for k := 0; k < n; k++ {
				if i >= len(s) || hexVal(s[i]) < 0 {
					return "", what
				}
				v = v<<4 | uint32(hexVal(s[i]))
				i++
			}
			if v > 0x10FFFF {
				return "", "illegal Unicode character"
			}
			writeCode(&b, rune(v))
		case 'N':
			if i >= len(s) || s[i] != '{' {
				return "", `malformed \N character escape`
			}
			k := strings.IndexByte(s[i+1:], '}')
			if k <= 0 {
				return "", `malformed \N character escape`
			}
			name := s[i+1 : i+1+k]
			i += k + 2
			r, ok := lookupName(name)
			if !ok {
				return "", "unknown Unicode character name"
			}
			writeCode(&b, r)
		default:
			b.WriteByte('\\')
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

// lookupName resolves a character name or alias case-insensitively, as
// Python's \N{} does. Names outside the generated table resolve only for
// CJK unified ideographs and Hangul syllables (computed names).
func lookupName(name string) (rune, bool) {
	if len(name) > 256 {
		return 0, false
	}
	up := strings.ToUpper(name)
	if r, ok := unicodeNames[up]; ok {
		return r, true
	}
	if h, ok := strings.CutPrefix(up, "CJK UNIFIED IDEOGRAPH-"); ok && (len(h) == 4 || len(h) == 5) {
		v, err := strconv.ParseUint(h, 16, 32)
		if err == nil && isUnifiedIdeograph(rune(v)) {
			return rune(v), true
		}
		return 0, false
	}
	if h, ok := strings.CutPrefix(up, "HANGUL SYLLABLE "); ok {
		hangulOnce.Do(buildHangul)
		r, ok := hangulNames[h]
		return r, ok
	}
	return 0, false
}

func isUnifiedIdeograph(r rune) bool {
	for _, rg := range [][2]rune{{0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0x20000, 0x2A6DF}, {0x2A700, 0x2B738},
		{0x2B740, 0x2B81D}, {0x2B820, 0x2CEA1}, {0x2CEB0, 0x2EBE0}, {0x30000, 0x3134A}} {
		if r >= rg[0] && r <= rg[1] {
			return true
		}
	}
	return false
}

var (
	hangulOnce  sync.Once
	hangulNames map[string]rune
)

func buildHangul() {
	l := []string{"G", "GG", "N", "D", "DD", "R", "M", "B", "BB", "S", "SS", "", "J", "JJ", "C", "K", "T", "P", "H"}
	v := []string{"A", "AE", "YA", "YAE", "EO", "E", "YEO", "YE", "O", "WA", "WAE", "OE", "YO", "U", "WEO", "WE", "WI", "YU", "EU", "YI", "I"}
	t := []string{"", "G", "GG", "GS", "N", "NJ", "NH", "D", "L", "LG", "LM", "LB", "LS", "LT", "LP", "LH", "M", "B", "BS", "S", "SS", "NG", "J", "C", "K", "T", "P", "H"}
	m := make(map[string]rune, len(l)*len(v)*len(t))
	for i, a := range l {
		for j, b := range v {
			for k, c := range t {
				m[a+b+c] = rune(0xAC00 + (i*len(v)+j)*len(t) + k)
			}
		}
	}
	hangulNames = m
}
