package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
)

// Sniff strengths.
const (
	NotPickle    = 0
	WeakPickle   = 1 // only a first operand longer than the window: another format's magic wins
	StrongPickle = 2
)

// SniffStrength says whether head, the first bytes of a file of size bytes,
// is the start of a pickle, and how sure that is. Protocol 0/1 pickles have
// no magic and even PROTO is two common bytes, so head must also decode as
// opcodes: reach STOP, import a name, or run valid to the end of the window
// (or of the file). Bytes that fail before any of that would stop the
// unpickler before it did anything, so they are not called a pickle.
func SniffStrength(head []byte, size int64) int {
	complete := int64(len(head)) >= size
	proto := len(head) >= 2 && head[0] == byte(PROTO) && head[1] <= 5
	if len(head) == 0 || !Opcode(head[0]).Valid() {
		return NotPickle
	}
	minOps := 8
	if proto {
		minOps = 3
	}
	dec := NewDecoder(bytes.NewReader(head), 0, int64(len(head)))
	n := 0
	var prev [2]Opcode
	var st sniffStack
	for {
		op, err := dec.Next()
		if err != nil {
			if err == io.EOF {
				// Whole opcodes to the end of the window, or a whole file
				// that ends without STOP (the unpickler runs it, then fails).
				return strength(n >= minOps || (complete && n >= 3))
			}
			var de *DecodeError
			if errors.As(err, &de) && de.Truncated && !complete {
				// An operand runs past the window: valid so far. A first
				// operand that long must fit in the file and be a value.
				if proto || n >= minOps {
					return StrongPickle
				}
				if n == 0 && firstValueFits(head, size) {
					return WeakPickle
				}
				return NotPickle
			}
			return strength(proto && n >= minOps)
		}
		n++
		if !st.apply(op.Code) {
			// CPython stops here ("stack underflow", "could not find
			// MARK") before anything ran.
			return NotPickle
		}
		switch op.Code {
		case STOP:
			return strength(n >= 2)
		case GLOBAL, INST:
			if identifier(op.Str) && identifier(op.Str2) {
				return StrongPickle
			}
		case STACK_GLOBAL:
			// Two strings, then STACK_GLOBAL: an import, with or without PROTO.
			if proto || (isString(prev[0]) && isString(prev[1])) {
				return StrongPickle
			}
		}
		prev[0], prev[1] = prev[1], op.Code
	}
}

func strength(ok bool) int {
	if ok {
		return StrongPickle
	}
	return NotPickle
}

func isString(o Opcode) bool {
	switch o {
	case SHORT_BINUNICODE, BINUNICODE, BINUNICODE8, STRING, BINSTRING, SHORT_BINSTRING, UNICODE:
		return true
	}
	return false
}

// firstValueFits reports whether head starts with a string or bytes opcode
// whose operand, longer than the sniff window, fits in the file.
func firstValueFits(head []byte, size int64) bool {
	if len(head) < 2 {
		return false
	}
	switch Opcode(head[0]) {
	case STRING:
		return head[1] == '\'' || head[1] == '"'
	case UNICODE:
		return true
	case BINUNICODE, BINBYTES, BINSTRING:
		if len(head) < 5 {
			return false
		}
		n := int64(binary.LittleEndian.Uint32(head[1:5]))
		return n <= size-5
	case BINUNICODE8, BINBYTES8, BYTEARRAY8:
		if len(head) < 9 {
			return false
		}
		n := binary.LittleEndian.Uint64(head[1:9])
		return n <= uint64(size-9)
	}
	return false
}

// identifier reports whether s looks like a dotted Python name.
func identifier(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// sniffStack tracks only stack depth and marks, enough to reject bytes
// that CPython's unpickler would refuse at their first opcodes.
type sniffStack struct {
	depth int   // values above the innermost mark
	marks []int // depths saved by MARK
}

func (st *sniffStack) need(n int) bool { return st.depth >= n }

func (st *sniffStack) popMark() bool {
	if len(st.marks) == 0 {
		return false
	}
	st.depth = st.marks[len(st.marks)-1]
	st.marks = st.marks[:len(st.marks)-1]
	return true
}

func (st *sniffStack) apply(op Opcode) bool {
	switch op {
	case MARK:
		st.marks = append(st.marks, st.depth)
		st.depth = 0
	case STOP, POP:
		if op == POP && st.depth == 0 && len(st.marks) > 0 {
			return st.popMark()
		}
		if !st.need(1) {
			return false
		}
		st.depth--
	case POP_MARK:
		return st.popMark()
	case DUP, PUT, BINPUT, LONG_BINPUT, MEMOIZE, READONLY_BUFFER, BINPERSID:
		if !st.need(1) {
			return false
		}
		if op == DUP {
			st.depth++
		}
	case REDUCE, APPEND, BUILD, NEWOBJ, STACK_GLOBAL:
		if !st.need(2) {
			return false
		}
		st.depth--
	case SETITEM, NEWOBJ_EX:
		if !st.need(3) {
			return false
		}
		st.depth -= 2
	case TUPLE1, TUPLE2, TUPLE3:
		k := int(op-TUPLE1) + 1
		if !st.need(k) {
			return false
		}
		st.depth -= k - 1
	case DICT, LIST, TUPLE, FROZENSET, INST, OBJ:
		if !st.popMark() {
			return false
		}
		st.depth++
	case APPENDS, SETITEMS, ADDITEMS:
		if !st.popMark() || !st.need(1) {
			return false
		}
	case PROTO, FRAME:
	default:
		st.depth++ // every other opcode pushes one value
	}
	return true
}
