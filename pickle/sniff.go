package pickle

import (
	"bytes"
	"errors"
	"io"
)

// Sniff reports whether head, the first bytes of a file, is the start of a
// pickle. complete says head is the whole file. Protocol 0/1 pickles have no
// magic and even PROTO is two common bytes, so head must also decode as
// opcodes: reach STOP, import a name, or run valid to the end of the window.
// Bytes that fail before any of that would stop the unpickler before it did
// anything, so they are not called a pickle.
func Sniff(head []byte, complete bool) bool {
	proto := len(head) >= 2 && head[0] == byte(PROTO) && head[1] <= 5
	if len(head) == 0 || !Opcode(head[0]).Valid() {
		return false
	}
	minOps := 8
	if proto {
		minOps = 3
	}
	dec := NewDecoder(bytes.NewReader(head), 0, int64(len(head)))
	n := 0
	for {
		op, err := dec.Next()
		if err != nil {
			if err == io.EOF {
				// The window held only whole opcodes and the file goes on.
				return !complete && n >= minOps
			}
			var de *DecodeError
			if errors.As(err, &de) && de.Truncated && !complete {
				// An operand runs past the window: valid so far.
				return proto || n >= minOps
			}
			return proto && n >= minOps
		}
		n++
		switch op.Code {
		case STOP:
			return n >= 2
		case GLOBAL, INST:
			if identifier(op.Str) && identifier(op.Str2) {
				return true
			}
		case STACK_GLOBAL:
			if proto {
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
