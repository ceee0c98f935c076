package pickle

import (
	"strconv"
	"strings"
)

// Kind is the kind of a symbolic value on the machine's stack.
type Kind uint8

const (
	KUnknown Kind = iota
	KNone
	KBool
	KInt
	KFloat
	KStr
	KBytes
	KTuple
	KList
	KDict
	KSet
	KFrozenSet
	KGlobal // a module attribute named by GLOBAL/STACK_GLOBAL/INST
	KModule // a module object, e.g. the result of importlib.import_module("os")
	KObject // the result of a call
)

// maxItems is how many elements of a container are kept for evidence and
// resolution; the rest are only counted.
const maxItems = 16

// Value is a symbolic pickle value. Nothing is ever evaluated: a KObject only
// records which callable produced it and with what.
type Value struct {
	Kind  Kind
	S     string // KStr, KBytes (possibly a prefix: Trunc), KModule name
	Trunc bool
	I     int64
	IOK   bool
	G     Global   // KGlobal
	Items []*Value // kept elements; a dict keeps key, value, key, value…
	N     int64    // total number of elements
	Call  *Call    // KObject
	State *Value   // KObject: the state BUILD gave it
}

// Call is one call site the machine saw.
type Call struct {
	Fn   *Value
	Args *Value
	Kw   *Value
	Op   Opcode
	Pos  int64
}

var (
	vUnknown = &Value{Kind: KUnknown}
	vNone    = &Value{Kind: KNone}
	vTrue    = &Value{Kind: KBool, I: 1, IOK: true}
	vFalse   = &Value{Kind: KBool, I: 0, IOK: true}
	vFloat   = &Value{Kind: KFloat}
	smallInt [256]*Value
)

func init() {
	for i := range smallInt {
		smallInt[i] = &Value{Kind: KInt, I: int64(i), IOK: true}
	}
}

func intValue(i int64, ok bool) *Value {
	if ok && i >= 0 && i < int64(len(smallInt)) {
		return smallInt[i]
	}
	return &Value{Kind: KInt, I: i, IOK: ok}
}

func container(k Kind, items []*Value) *Value {
	v := &Value{Kind: k, N: int64(len(items))}
	if k == KDict {
		v.N /= 2
	}
	if len(items) > maxItems {
		items = items[:maxItems]
	}
	v.Items = append([]*Value(nil), items...)
	return v
}

func (v *Value) add(items ...*Value) {
	for _, it := range items {
		if len(v.Items) < maxItems {
			v.Items = append(v.Items, it)
		}
	}
	if v.Kind == KDict {
		v.N += int64(len(items) / 2)
	} else {
		v.N += int64(len(items))
	}
}

// str returns the value's text when it is a fully known string.
func (v *Value) str() (string, bool) {
	if v != nil && (v.Kind == KStr || v.Kind == KBytes) && !v.Trunc {
		return v.S, true
	}
	return "", false
}

// item returns the i-th kept element of a tuple or list.
func (v *Value) item(i int) *Value {
	if v == nil || (v.Kind != KTuple && v.Kind != KList) || i >= len(v.Items) {
		return vUnknown
	}
	return v.Items[i]
}

// Preview renders v as short Python-like text for evidence.
func (v *Value) Preview() string {
	var b strings.Builder
	v.preview(&b, 0)
	s := b.String()
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func (v *Value) preview(b *strings.Builder, depth int) {
	if b.Len() > 200 {
		return
	}
	if v == nil {
		b.WriteString("?")
		return
	}
	switch v.Kind {
	case KUnknown:
		b.WriteString("?")
	case KNone:
		b.WriteString("None")
	case KBool:
		if v.I != 0 {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case KInt:
		if v.IOK {
			b.WriteString(strconv.FormatInt(v.I, 10))
		} else {
			b.WriteString("<int>")
		}
	case KFloat:
		b.WriteString("<float>")
	case KStr, KBytes:
		if v.Kind == KBytes {
			b.WriteByte('b')
		}
		s := v.S
		if len(s) > 80 {
			s = s[:80]
		}
		q := strconv.QuoteToASCII(s)
		b.WriteString("'" + strings.ReplaceAll(q[1:len(q)-1], `'`, `\'`))
		if v.Trunc || len(v.S) > 80 {
			b.WriteString("…")
		}
		b.WriteString("'")
	case KGlobal:
		b.WriteString(v.G.String())
	case KModule:
		b.WriteString("<module " + v.S + ">")
	case KObject:
		if depth > 3 {
			b.WriteString("…")
			return
		}
		if v.Call != nil {
			v.Call.Fn.preview(b, depth+1)
			b.WriteString("(")
			previewItems(b, v.Call.Args, depth+1)
			b.WriteString(")")
		} else {
			b.WriteString("<object>")
		}
	case KTuple, KList, KSet, KFrozenSet, KDict:
		open, close := "(", ")"
		switch v.Kind {
		case KList:
			open, close = "[", "]"
		case KSet, KFrozenSet:
			open, close = "{", "}"
		case KDict:
			open, close = "{", "}"
		}
		if depth > 3 {
			b.WriteString(open + "…" + close)
			return
		}
		b.WriteString(open)
		if v.Kind == KDict {
			for i := 0; i+1 < len(v.Items); i += 2 {
				if i > 0 {
					b.WriteString(", ")
				}
				v.Items[i].preview(b, depth+1)
				b.WriteString(": ")
				v.Items[i+1].preview(b, depth+1)
			}
		} else {
			previewItems(b, v, depth+1)
			if v.Kind == KTuple && v.N == 1 {
				b.WriteString(",")
			}
		}
		if int64(len(v.Items)) < v.N && v.Kind != KDict || v.Kind == KDict && int64(len(v.Items)/2) < v.N {
			b.WriteString(", …")
		}
		b.WriteString(close)
	}
}

func previewItems(b *strings.Builder, v *Value, depth int) {
	if v == nil || (v.Kind != KTuple && v.Kind != KList) {
		if v != nil && v.Kind != KUnknown {
			b.WriteString("*")
			v.preview(b, depth)
		} else {
			b.WriteString("?")
		}
		return
	}
	for i, it := range v.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		it.preview(b, depth)
	}
}
