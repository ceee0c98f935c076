package pickle

// Opcode is one pickle opcode byte.
type Opcode byte

// The opcodes of pickle protocols 0–5, as CPython's Lib/pickle.py names them.
const (
	MARK            Opcode = '('
	STOP            Opcode = '.'
	POP             Opcode = '0'
	POP_MARK        Opcode = '1'
	DUP             Opcode = '2'
	FLOAT           Opcode = 'F'
	INT             Opcode = 'I'
	BININT          Opcode = 'J'
	BININT1         Opcode = 'K'
	LONG            Opcode = 'L'
	BININT2         Opcode = 'M'
	NONE            Opcode = 'N'
	PERSID          Opcode = 'P'
	BINPERSID       Opcode = 'Q'
	REDUCE          Opcode = 'R'
	STRING          Opcode = 'S'
	BINSTRING       Opcode = 'T'
	SHORT_BINSTRING Opcode = 'U'
	UNICODE         Opcode = 'V'
	BINUNICODE      Opcode = 'X'
	APPEND          Opcode = 'a'
	BUILD           Opcode = 'b'
	GLOBAL          Opcode = 'c'
	DICT            Opcode = 'd'
	EMPTY_DICT      Opcode = '}'
	APPENDS         Opcode = 'e'
	GET             Opcode = 'g'
	BINGET          Opcode = 'h'
	INST            Opcode = 'i'
	LONG_BINGET     Opcode = 'j'
	LIST            Opcode = 'l'
	EMPTY_LIST      Opcode = ']'
	OBJ             Opcode = 'o'
	PUT             Opcode = 'p'
	BINPUT          Opcode = 'q'
	LONG_BINPUT     Opcode = 'r'
	SETITEM         Opcode = 's'
	TUPLE           Opcode = 't'
	EMPTY_TUPLE     Opcode = ')'
	SETITEMS        Opcode = 'u'
	BINFLOAT        Opcode = 'G'

	PROTO    Opcode = 0x80
	NEWOBJ   Opcode = 0x81
	EXT1     Opcode = 0x82
	EXT2     Opcode = 0x83
	EXT4     Opcode = 0x84
	TUPLE1   Opcode = 0x85
	TUPLE2   Opcode = 0x86
	TUPLE3   Opcode = 0x87
	NEWTRUE  Opcode = 0x88
	NEWFALSE Opcode = 0x89
	LONG1    Opcode = 0x8a
	LONG4    Opcode = 0x8b

	BINBYTES       Opcode = 'B'
	SHORT_BINBYTES Opcode = 'C'

	SHORT_BINUNICODE Opcode = 0x8c
	BINUNICODE8      Opcode = 0x8d
	BINBYTES8        Opcode = 0x8e
	EMPTY_SET        Opcode = 0x8f
	ADDITEMS         Opcode = 0x90
	FROZENSET        Opcode = 0x91
	NEWOBJ_EX        Opcode = 0x92
	STACK_GLOBAL     Opcode = 0x93
	MEMOIZE          Opcode = 0x94
	FRAME            Opcode = 0x95

	BYTEARRAY8      Opcode = 0x96
	NEXT_BUFFER     Opcode = 0x97
	READONLY_BUFFER Opcode = 0x98
)

// argKind says how an opcode's operand is encoded in the stream.
type argKind uint8

const (
	argNone             argKind = iota
	argUint1                    // 1-byte unsigned
	argUint2                    // 2-byte little-endian unsigned
	argInt4                     // 4-byte little-endian signed
	argUint4                    // 4-byte little-endian unsigned
	argUint8                    // 8-byte little-endian unsigned
	argFloat8                   // 8-byte big-endian IEEE double
	argLong1                    // uint1 length + two's complement little-endian
	argLong4                    // int4 length + two's complement little-endian
	argDecimalNL                // protocol-0 int line (INT: "00"/"01" are booleans)
	argLongNL                   // protocol-0 long line, optional trailing 'L'
	argFloatNL                  // protocol-0 float line
	argStringNL                 // quoted, escaped protocol-0 string line
	argUnicodeNL                // raw-unicode-escape line
	argStringNLNoEscape         // plain line (PERSID, memo keys)
	argTwoLines                 // GLOBAL / INST: module line then name line
	argBytes1                   // uint1 length + bytes
	argBytes4                   // uint4 length + bytes
	argBytes8                   // uint8 length + bytes
	argString4                  // int4 length + bytes (BINSTRING)
	argUnicode1                 // uint1 length + UTF-8
	argUnicode4                 // uint4 length + UTF-8
	argUnicode8                 // uint8 length + UTF-8
)

type opInfo struct {
	name  string
	arg   argKind
	proto uint8 // protocol that introduced it
}

var opTable [256]*opInfo

func def(op Opcode, name string, arg argKind, proto uint8) {
	opTable[op] = &opInfo{name: name, arg: arg, proto: proto}
}

func init() {
	def(MARK, "MARK", argNone, 0)
	def(STOP, "STOP", argNone, 0)
	def(POP, "POP", argNone, 0)
	def(POP_MARK, "POP_MARK", argNone, 1)
	def(DUP, "DUP", argNone, 0)
	def(FLOAT, "FLOAT", argFloatNL, 0)
	def(INT, "INT", argDecimalNL, 0)
	def(BININT, "BININT", argInt4, 1)
	def(BININT1, "BININT1", argUint1, 1)
	def(LONG, "LONG", argLongNL, 0)
	def(BININT2, "BININT2", argUint2, 1)
	def(NONE, "NONE", argNone, 0)
	def(PERSID, "PERSID", argStringNLNoEscape, 0)
	def(BINPERSID, "BINPERSID", argNone, 1)
	def(REDUCE, "REDUCE", argNone, 0)
	def(STRING, "STRING", argStringNL, 0)
	def(BINSTRING, "BINSTRING", argString4, 1)
	def(SHORT_BINSTRING, "SHORT_BINSTRING", argBytes1, 1)
	def(UNICODE, "UNICODE", argUnicodeNL, 0)
	def(BINUNICODE, "BINUNICODE", argUnicode4, 1)
	def(APPEND, "APPEND", argNone, 0)
	def(BUILD, "BUILD", argNone, 0)
	def(GLOBAL, "GLOBAL", argTwoLines, 0)
	def(DICT, "DICT", argNone, 0)
	def(EMPTY_DICT, "EMPTY_DICT", argNone, 1)
	def(APPENDS, "APPENDS", argNone, 1)
	def(GET, "GET", argStringNLNoEscape, 0)
	def(BINGET, "BINGET", argUint1, 1)
	def(INST, "INST", argTwoLines, 0)
	def(LONG_BINGET, "LONG_BINGET", argUint4, 1)
	def(LIST, "LIST", argNone, 0)
	def(EMPTY_LIST, "EMPTY_LIST", argNone, 1)
	def(OBJ, "OBJ", argNone, 1)
	def(PUT, "PUT", argStringNLNoEscape, 0)
	def(BINPUT, "BINPUT", argUint1, 1)
	def(LONG_BINPUT, "LONG_BINPUT", argUint4, 1)
	def(SETITEM, "SETITEM", argNone, 0)
	def(TUPLE, "TUPLE", argNone, 0)
	def(EMPTY_TUPLE, "EMPTY_TUPLE", argNone, 1)
	def(SETITEMS, "SETITEMS", argNone, 1)
	def(BINFLOAT, "BINFLOAT", argFloat8, 1)
	def(PROTO, "PROTO", argUint1, 2)
	def(NEWOBJ, "NEWOBJ", argNone, 2)
	def(EXT1, "EXT1", argUint1, 2)
	def(EXT2, "EXT2", argUint2, 2)
	def(EXT4, "EXT4", argInt4, 2)
	def(TUPLE1, "TUPLE1", argNone, 2)
	def(TUPLE2, "TUPLE2", argNone, 2)
	def(TUPLE3, "TUPLE3", argNone, 2)
	def(NEWTRUE, "NEWTRUE", argNone, 2)
	def(NEWFALSE, "NEWFALSE", argNone, 2)
	def(LONG1, "LONG1", argLong1, 2)
	def(LONG4, "LONG4", argLong4, 2)
	def(BINBYTES, "BINBYTES", argBytes4, 3)
	def(SHORT_BINBYTES, "SHORT_BINBYTES", argBytes1, 3)
	def(SHORT_BINUNICODE, "SHORT_BINUNICODE", argUnicode1, 4)
	def(BINUNICODE8, "BINUNICODE8", argUnicode8, 4)
	def(BINBYTES8, "BINBYTES8", argBytes8, 4)
	def(EMPTY_SET, "EMPTY_SET", argNone, 4)
	def(ADDITEMS, "ADDITEMS", argNone, 4)
	def(FROZENSET, "FROZENSET", argNone, 4)
	def(NEWOBJ_EX, "NEWOBJ_EX", argNone, 4)
	def(STACK_GLOBAL, "STACK_GLOBAL", argNone, 4)
	def(MEMOIZE, "MEMOIZE", argNone, 4)
	def(FRAME, "FRAME", argUint8, 4)
	def(BYTEARRAY8, "BYTEARRAY8", argBytes8, 5)
	def(NEXT_BUFFER, "NEXT_BUFFER", argNone, 5)
	def(READONLY_BUFFER, "READONLY_BUFFER", argNone, 5)
}

// Name returns the opcode's CPython name, or "" for a byte that is no opcode.
func (o Opcode) Name() string {
	if info := opTable[o]; info != nil {
		return info.name
	}
	return ""
}

// Valid reports whether o is an opcode of some protocol 0–5.
func (o Opcode) Valid() bool { return opTable[o] != nil }
