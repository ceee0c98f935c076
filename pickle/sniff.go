package pickle

import (
	"bytes"
	"io"
)

// Sniff reports whether head, the first bytes of a file, is the start of a
// pickle. complete says head is the whole file. Protocol 2+ pickles start
// with PROTO; protocol 0/1 pickles have no magic, so head must decode as
// opcodes and either reach STOP, fill the window, or import a name.
func Sniff(head []byte, complete bool) bool {
	if len(head) >= 2 && head[0] == byte(PROTO) && head[1] <= 5 {
		return true
	}
	if len(head) == 0 || !Opcode(head[0]).Valid() {
		return false
	}
	dec := NewDecoder(bytes.NewReader(head), 0, int64(len(head)))
	n := 0
	for {
		op, err := dec.Next()
		if err != nil {
			if err == io.EOF {
				// The window held only whole opcodes and the file goes on.
				return !complete && n >= 8
			}
			// Ran off the end of the window with everything valid so far.
			if !complete && op.Pos > int64(len(head))-256 && n >= 8 {
				return true
			}
			return false
		}
		n++
		switch op.Code {
		case STOP:
			return n >= 2
		case GLOBAL, INST:
			if identifier(op.Str) && identifier(op.Str2) {
				return true
			}
		}
	}
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
