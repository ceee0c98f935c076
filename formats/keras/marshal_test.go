package keras

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"testing"
)

// marshal builders, enough to write code objects of each CPython layout.
func mI32(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

func mShort(s string) []byte { return append([]byte{'z', byte(len(s))}, s...) }

func mBytes(s string) []byte { return append(append([]byte{'s'}, mI32(int32(len(s)))...), s...) }

func mTuple(items ...[]byte) []byte {
	out := []byte{')', byte(len(items))}
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

func mCode(lay codeLayout, consts, names []byte) []byte {
	out := []byte{'c' | mFlagRef}
	for i := 0; i < lay.ints; i++ {
		out = append(out, mI32(int32(i))...)
	}
	out = append(out, mBytes("\x97\x00d\x01S\x00")...) // co_code
	out = append(out, consts...)
	out = append(out, names...)
	for i := 0; i < 5; i++ {
		switch i {
		case 3:
			out = append(out, mShort("<hallmark>")...) // filename slot in every layout
		default:
			out = append(out, mTuple()...)
		}
	}
	out = append(out, mI32(1)...)
	for i := 0; i < lay.trailing; i++ {
		out = append(out, mBytes("")...)
	}
	return out
}

func TestMarshalLayouts(t *testing.T) {
	for _, lay := range codeLayouts {
		t.Run(lay.name, func(t *testing.T) {
			inner := mCode(lay, mTuple([]byte{'N'}, mShort("echo hallmark-marker")), mTuple(mShort("popen")))
			b := mCode(lay, mTuple([]byte{'N'}, inner, mShort("os")), mTuple(mShort("__import__"), mShort("system")))
			ci := analyseMarshal(b, 1000, 32)
			if !ci.isCode || !ci.parsed || ci.layout != lay.name || ci.codes != 2 {
				t.Fatalf("%+v", ci)
			}
			if d := ci.dangerous(); !slices.Equal(d, []string{"__import__", "os", "popen", "system"}) {
				t.Fatalf("dangerous %v (names %v strs %v)", d, ci.names, ci.strs)
			}
			if !slices.Contains(ci.strs, "echo hallmark-marker") {
				t.Fatalf("strings %v", ci.strs)
			}
		})
	}
}

func TestMarshalRefs(t *testing.T) {
	lay := codeLayouts[0]
	// names tuple refers back (TYPE_REF) to a string flagged in consts.
	consts := mTuple([]byte{'N'}, append([]byte{'z' | mFlagRef, 6}, "system"...))
	names := mTuple(append([]byte{'r'}, mI32(1)...)) // ref 0 is the code object itself
	ci := analyseMarshal(mCode(lay, consts, names), 1000, 32)
	if !ci.parsed || !slices.Contains(ci.names, "system") {
		t.Fatalf("%+v", ci)
	}
}

func TestMarshalHostile(t *testing.T) {
	lay := codeLayouts[0]
	huge := func(typ byte) []byte { return append([]byte{typ}, mI32(0x7fffffff)...) }
	deep := bytes.Repeat([]byte{')', 1}, 10000)
	cases := map[string][]byte{
		"empty":          nil,
		"not code":       []byte("hello"),
		"truncated":      mCode(lay, mTuple(), mTuple())[:20],
		"huge tuple":     mCode(lay, huge('('), mTuple()),
		"huge string":    mCode(lay, mTuple(huge('u')), mTuple()),
		"huge long":      mCode(lay, mTuple(huge('l')), mTuple()),
		"negative len":   mCode(lay, mTuple(append([]byte{'s'}, mI32(-5)...)), mTuple()),
		"bad ref":        mCode(lay, mTuple(append([]byte{'r'}, mI32(99)...)), mTuple()),
		"unknown type":   mCode(lay, mTuple([]byte{'!'}), mTuple()),
		"deep":           append([]byte{'c'}, deep...),
		"unterminated {": mCode(lay, mTuple([]byte{'{', 'N', 'N'}), mTuple()),
	}
	for name, b := range cases {
		ci := analyseMarshal(b, 1000, 32)
		if ci.parsed {
			t.Errorf("%s: parsed %+v", name, ci)
		}
	}
	// Many objects: the object cap stops it.
	many := mCode(lay, append(append([]byte{'('}, mI32(5000)...), bytes.Repeat([]byte{'N'}, 5000)...), mTuple())
	if ci := analyseMarshal(many, 100, 32); ci.parsed || !ci.limit {
		t.Errorf("object cap: %+v", ci)
	}
}

// A lambda whose bytes cannot be parsed under any layout is still a code
// object to CPython: critical, with the reason in the evidence.
func TestUnparsedCodeStaysCritical(t *testing.T) {
	b := append([]byte{0xe3}, bytes.Repeat([]byte{0xff}, 40)...)
	r := AnalyseConfig([]byte(`{"class_name": "__lambda__", "config": {"code": "`+base64.StdEncoding.EncodeToString(b)+`"}}`), "", Limits{})
	if len(r.Findings) != 1 || r.Findings[0].Level != 5 || !bytes.Contains([]byte(r.Findings[0].Evidence), []byte("not fully parsed")) {
		t.Fatalf("%s", dump(r))
	}
}
