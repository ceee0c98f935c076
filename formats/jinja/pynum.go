package jinja

import (
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Jinja's |int and |float, with Python's int() and float() string syntax,
// so that '5f'|int(0, 16), '95.0'|int and ' 9_5 '|int fold as they render.

// hostGlobal names globals an application may or may not provide, so
// `name|default(x)` may be x.
var hostGlobal = map[string]bool{
	"raise_exception": true, "strftime_now": true, "config": true, "request": true, "url_for": true,
	"get_flashed_messages": true, "g": true, "session": true, "self": false,
}

func pyIsSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// pyASCII is CPython's first step of int() and float() on a str: Unicode
// whitespace becomes ' ' and Unicode decimal digits their ASCII digit;
// ok is false when another non-ASCII character remains.
func pyASCII(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case pyIsSpace(r):
			b.WriteByte(' ')
		case unicode.Is(unicode.Nd, r):
			start := r
			for k := 0; k < 64 && unicode.Is(unicode.Nd, start-1); k++ {
				start--
			}
			b.WriteByte(byte('0' + (r-start)%10))
		default:
			return "", false
		}
	}
	return strings.Trim(b.String(), " \t\n\v\f\r\x1c\x1d\x1e\x1f"), true
}

func pyDigitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// pyInt is Python's int(s, base). big reports a value beyond int64.
func pyInt(s string, base int64) (n int64, big, ok bool) {
	if base != 0 && (base < 2 || base > 36) {
		return 0, false, false
	}
	s, ok = pyASCII(s)
	if !ok {
		return 0, false, false
	}
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	prefixed := false
	if len(s) >= 2 && s[0] == '0' {
		p := byte(0)
		switch s[1] {
		case 'x', 'X':
			p = 16
		case 'o', 'O':
			p = 8
		case 'b', 'B':
			p = 2
		}
		if p != 0 && (base == 0 || base == int64(p)) {
			base = int64(p)
			s = s[2:]
			prefixed = true
		}
	}
	zeroOnly := false
	if base == 0 {
		base = 10
		zeroOnly = s != "" && s[0] == '0' // base 0 forbids leading zeros
	}
	if prefixed && s != "" && s[0] == '_' {
		s = s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return 0, false, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		if s[i] == '_' {
			continue
		}
		d := pyDigitVal(s[i])
		if d >= int(base) {
			return 0, false, false
		}
		if zeroOnly && d != 0 {
			return 0, false, false
		}
		if !big {
			if v > (math.MaxUint64-uint64(d))/uint64(base) {
				big = true
			} else {
				v = v*uint64(base) + uint64(d)
			}
		}
	}
	if big || v > 1<<63 || (v == 1<<63 && !neg) {
		return 0, true, true
	}
	if neg {
		return -int64(v), false, true
	}
	return int64(v), false, true
}

// pyFloatParse is Python's float(s); ok is false where Python raises.
func pyFloatParse(s string) (float64, bool) {
	s, ok := pyASCII(s)
	if !ok || s == "" {
		return 0, false
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case "nan":
		return math.NaN(), true
	}
	// digitpart ('.' digitpart?)? | '.' digitpart, then an optional exponent
	digits := func(i int) int { // end of a digitpart starting at i, or i
		j := i
		for j < len(body) && body[j] >= '0' && body[j] <= '9' {
			j++
			if j+1 < len(body) && body[j] == '_' && body[j+1] >= '0' && body[j+1] <= '9' {
				j++
			}
		}
		return j
	}
	i := digits(0)
	mant := i > 0
	if i < len(body) && body[i] == '.' {
		j := digits(i + 1)
		mant = mant || j > i+1
		i = j
	}
	if !mant {
		return 0, false
	}
	if i < len(body) && (body[i] == 'e' || body[i] == 'E') {
		k := i + 1
		if k < len(body) && (body[k] == '+' || body[k] == '-') {
			k++
		}
		j := digits(k)
		if j == k {
			return 0, false
		}
		i = j
	}
	if i != len(body) {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true // Python gives inf or 0.0
		}
		return 0, false
	}
	return f, true
}

// floatToInt is Python's int(float); ok false for inf (OverflowError, which
// Jinja does not catch), nan reports nan.
func floatToInt(f float64) (n cv, isNaN, ok bool) {
	switch {
	case math.IsNaN(f):
		return cv{}, true, false
	case math.IsInf(f, 0):
		return cv{}, false, false
	}
	t := math.Trunc(f)
	if t >= 9.223372036854775807e18 || t < -9.223372036854775808e18 {
		return cv{k: kInt, big: true}, false, false
	}
	return intV(int64(t)), false, true
}

// doInt is Jinja's do_int(value, default=0, base=10).
func doInt(v, dflt cv, base int64) (cv, bool) {
	switch v.k {
	case kStr:
		if n, big, ok := pyInt(v.s, base); ok {
			if big {
				return cv{}, false
			}
			return intV(n), true
		}
		f, ok := pyFloatParse(v.s)
		if !ok {
			return dflt, true
		}
		n, isNaN, ok := floatToInt(f)
		if isNaN {
			return dflt, true
		}
		return n, ok
	case kInt, kBool:
		return intV(v.i), !v.big
	case kFloat:
		n, isNaN, ok := floatToInt(v.f)
		if isNaN {
			return dflt, true // int(nan) and int(float(nan)) raise ValueError
		}
		return n, ok
	case kNone, kList, kDict, kNS, kGlobal, kMacro, kObj:
		return dflt, true // TypeError twice
	}
	return cv{}, false // Undefined raises; unknown values are not folded
}

// doFloat is Jinja's do_float(value, default=0.0).
func doFloat(v, dflt cv) (cv, bool) {
	switch v.k {
	case kStr:
		f, ok := pyFloatParse(v.s)
		if !ok {
			return dflt, true
		}
		return cv{k: kFloat, f: f}, true
	case kInt, kBool:
		if v.big {
			return cv{}, false
		}
		return cv{k: kFloat, f: float64(v.i)}, true
	case kFloat:
		return v, true
	case kNone, kList, kDict, kNS, kGlobal, kMacro, kObj:
		return dflt, true
	}
	return cv{}, false
}
