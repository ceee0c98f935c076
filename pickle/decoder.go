package pickle

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Op is one decoded opcode with its operand. Only the fields that the opcode's
// operand kind uses are set.
type Op struct {
	Code Opcode
	Pos  int64 // offset of the opcode byte
	End  int64 // offset just past the operand

	Int   int64 // integer operand (BININT*, memo keys, EXT codes, lengths)
	IntOK bool  // Int holds the exact value (false for ints beyond int64)
	Big   string
	Bool  int8 // INT "00"/"01": -1 none, 0 false, 1 true
	Float float64

	// Str holds text or bytes operands (GLOBAL/INST: the module), Str2 the
	// GLOBAL/INST name. When Trunc is set Str holds only a prefix of an
	// operand of Len bytes that was skipped, never allocated.
	Str   string
	Str2  string
	Len   int64
	Trunc bool
	Bytes bool // Str is a bytes value rather than text

	// FrameIssue is set when this opcode breaks CPython's framing rules: a
	// FRAME opened inside another, or an operand that runs past the frame end.
	// AltResume is where CPython's C unpickler, reading from a file, reads
	// this opcode's operand from instead (-1 if it reads it in place).
	FrameIssue string
	AltResume  int64
	AltOperand bool // at AltResume the C unpickler reads this opcode's operand, not a new opcode
}

// DecodeError says the stream is not a valid pickle at Pos.
type DecodeError struct {
	Pos       int64
	Op        string
	Msg       string
	Truncated bool // the input ended inside an opcode or operand
}

func (e *DecodeError) Error() string {
	if e.Op != "" {
		return fmt.Sprintf("offset %d: %s: %s", e.Pos, e.Op, e.Msg)
	}
	return fmt.Sprintf("offset %d: %s", e.Pos, e.Msg)
}

// prefetch is CPython's PREFETCH (8192 * 16): a FRAME at least this long is
// read from a file with one exact read(), which is what makes an operand that
// crosses its end read differently by the C unpickler (cpython#154848).
const prefetch = 8192 * 16

// previewLen is how much of a skipped operand is kept for evidence and sniffing.
const previewLen = 4096

// Decoder reads pickle opcodes one at a time from a stream. It never
// allocates more than Limits.MaxOperand for one operand, whatever length the
// stream declares.
type Decoder struct {
	r        *bufio.Reader
	pos      int64
	base     int64
	maxKeep  int64
	maxLine  int
	frameEnd int64 // -1 when no frame is open
	frameLen int64
}

// NewDecoder returns a decoder reading from r. base is added to every offset
// it reports (the position of r within its file). Operands longer than
// maxOperand bytes are skipped and only a prefix is kept.
func NewDecoder(r io.Reader, base int64, maxOperand int64) *Decoder {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	if maxOperand <= 0 {
		maxOperand = 1 << 20
	}
	ml := int(maxOperand)
	if ml > 1<<20 {
		ml = 1 << 20
	}
	return &Decoder{r: br, base: base, pos: base, maxKeep: maxOperand, maxLine: ml, frameEnd: -1}
}

// Pos is the offset of the next byte the decoder will read.
func (d *Decoder) Pos() int64 { return d.pos }

func (d *Decoder) errf(pos int64, op Opcode, format string, args ...any) error {
	return &DecodeError{Pos: pos, Op: op.Name(), Msg: fmt.Sprintf(format, args...)}
}

// Next decodes the next opcode. It returns io.EOF when the stream ends
// cleanly before an opcode, and a *DecodeError for anything malformed,
// including a stream that ends inside an operand.
func (d *Decoder) Next() (Op, error) {
	var op Op
	err := d.next(&op)
	return op, err
}

// next is Next filling a caller's Op, which the machine reuses so that an
// opcode costs no copy of the struct.
func (d *Decoder) next(op *Op) error {
	if d.frameEnd >= 0 && d.pos >= d.frameEnd {
		d.frameEnd = -1
	}
	*op = Op{Pos: d.pos, Bool: -1, AltResume: -1}
	b, err := d.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			if d.frameEnd >= 0 {
				return &DecodeError{Pos: d.pos, Msg: fmt.Sprintf("stream ends inside a FRAME (%d bytes short)", d.frameEnd-d.pos), Truncated: true}
			}
			return io.EOF
		}
		return err
	}
	d.pos++
	op.Code = Opcode(b)
	info := opTable[b]
	if info == nil {
		return &DecodeError{Pos: op.Pos, Msg: fmt.Sprintf("invalid opcode byte 0x%02x", b)}
	}
	hdrEnd := int64(-1) // end of a length prefix, for frame checks on data operands
	if err := d.operand(op, info.arg, &hdrEnd); err != nil {
		return err
	}
	op.End = d.pos
	if op.Code == FRAME {
		if op.Int < 0 || !op.IntOK {
			return d.errf(op.Pos, op.Code, "frame length %s too large", op.Big)
		}
		if d.frameEnd >= 0 && op.Pos < d.frameEnd {
			op.FrameIssue = fmt.Sprintf("FRAME opened at offset %d inside the frame that ends at %d", op.Pos, d.frameEnd)
			if d.pos < d.frameEnd {
				// The C unpickler reads the inner frame's bytes afresh
				// after the outer frame, skipping what is left of it.
				op.AltResume = d.frameEnd
			}
		}
		d.frameEnd = d.pos + op.Int
		d.frameLen = op.Int
		return nil
	}
	if d.frameEnd >= 0 && op.End > d.frameEnd {
		op.FrameIssue = fmt.Sprintf("%s at offset %d runs %d bytes past the FRAME end at %d", info.name, op.Pos, op.End-d.frameEnd, d.frameEnd)
		if hdrEnd < 0 || hdrEnd > d.frameEnd {
			// A fixed-size read (a length, an integer, a line) that the C
			// unpickler cannot serve from a frame it read with one exact
			// read() (frames of prefetch bytes or more) drops the rest of the
			// frame and reads the operand afresh after it. Counted data is
			// read contiguously, so only these reads diverge. The other view
			// is scanned whatever the frame's size: it can only add findings.
			op.AltResume = d.frameEnd
			op.AltOperand = true
		}
		d.frameEnd = -1
	}
	return nil
}

func (d *Decoder) operand(op *Op, kind argKind, hdrEnd *int64) error {
	switch kind {
	case argNone:
		return nil
	case argUint1:
		b, err := d.fixed(op, 1)
		if err != nil {
			return err
		}
		op.Int, op.IntOK = int64(b[0]), true
	case argUint2:
		b, err := d.fixed(op, 2)
		if err != nil {
			return err
		}
		op.Int, op.IntOK = int64(binary.LittleEndian.Uint16(b)), true
	case argInt4:
		b, err := d.fixed(op, 4)
		if err != nil {
			return err
		}
		op.Int, op.IntOK = int64(int32(binary.LittleEndian.Uint32(b))), true
	case argUint4:
		b, err := d.fixed(op, 4)
		if err != nil {
			return err
		}
		op.Int, op.IntOK = int64(binary.LittleEndian.Uint32(b)), true
	case argUint8:
		b, err := d.fixed(op, 8)
		if err != nil {
			return err
		}
		u := binary.LittleEndian.Uint64(b)
		op.Int, op.IntOK = int64(u), u <= math.MaxInt64
		if !op.IntOK {
			op.Big = strconv.FormatUint(u, 10)
		}
	case argFloat8:
		b, err := d.fixed(op, 8)
		if err != nil {
			return err
		}
		op.Float = math.Float64frombits(binary.BigEndian.Uint64(b))
	case argLong1, argLong4:
		var n int64
		if kind == argLong1 {
			b, err := d.fixed(op, 1)
			if err != nil {
				return err
			}
			n = int64(b[0])
		} else {
			b, err := d.fixed(op, 4)
			if err != nil {
				return err
			}
			n = int64(int32(binary.LittleEndian.Uint32(b)))
			if n < 0 {
				return d.errf(op.Pos, op.Code, "LONG pickle has negative byte count")
			}
		}
		*hdrEnd = d.pos
		data, trunc, err := d.data(op, n, 64)
		if err != nil {
			return err
		}
		op.Len = n
		if trunc {
			op.Trunc = true
			op.Big = fmt.Sprintf("<%d-byte integer>", n)
			return nil
		}
		decodeLong(op, data)
	case argDecimalNL, argLongNL:
		line, err := d.line(op)
		if err != nil {
			return err
		}
		s := string(line)
		if kind == argDecimalNL {
			if s == "00" || s == "01" {
				op.Bool = int8(s[1] - '0')
				op.Int, op.IntOK = int64(op.Bool), true
				return nil
			}
		} else if strings.HasSuffix(s, "L") {
			s = s[:len(s)-1]
		}
		if !parsePyInt(op, s) {
			return d.errf(op.Pos, op.Code, "invalid literal for int(): %q", clip(s, 40))
		}
	case argFloatNL:
		line, err := d.line(op)
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(strings.TrimLeft(string(line), " \t"), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return d.errf(op.Pos, op.Code, "could not convert string to float: %q", clip(string(line), 40))
		}
		op.Float = f
	case argStringNL:
		line, err := d.line(op)
		if err != nil {
			return err
		}
		n := len(line)
		if op.Trunc {
			v, _ := escapeDecode(line[1:])
			op.Str, op.Len = v, int64(len(v))
			return nil
		}
		if n < 2 || line[0] != line[n-1] || (line[0] != '\'' && line[0] != '"') {
			return d.errf(op.Pos, op.Code, "the STRING opcode argument must be quoted")
		}
		v, err := escapeDecode(line[1 : n-1])
		if err != nil {
			return d.errf(op.Pos, op.Code, "%v", err)
		}
		op.Str, op.Len, op.Bytes = v, int64(len(v)), false
	case argUnicodeNL:
		line, err := d.line(op)
		if err != nil {
			return err
		}
		v, err := rawUnicodeEscapeDecode(line)
		if err != nil && !op.Trunc {
			return d.errf(op.Pos, op.Code, "%v", err)
		}
		op.Str, op.Len = v, int64(len(v))
	case argStringNLNoEscape:
		line, err := d.line(op)
		if err != nil {
			return err
		}
		op.Str = string(line)
		if op.Code == GET || op.Code == PUT {
			v, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(op.Str), "_", ""), 10, 64)
			if err != nil || v < 0 {
				return d.errf(op.Pos, op.Code, "invalid memo key %q", clip(op.Str, 40))
			}
			op.Int, op.IntOK = v, true
		}
	case argTwoLines:
		mod, err := d.line(op)
		if err != nil {
			return err
		}
		op.Str = string(mod)
		name, err := d.line(op)
		if err != nil {
			return err
		}
		op.Str2 = string(name)
		// CPython decodes both lines as strict UTF-8 and stops otherwise.
		if !utf8.ValidString(op.Str) || !utf8.ValidString(op.Str2) {
			return d.errf(op.Pos, op.Code, "module or name is not valid UTF-8")
		}
	case argBytes1, argBytes4, argBytes8, argString4, argUnicode1, argUnicode4, argUnicode8:
		var n int64
		switch kind {
		case argBytes1, argUnicode1:
			b, err := d.fixed(op, 1)
			if err != nil {
				return err
			}
			n = int64(b[0])
		case argBytes4, argUnicode4:
			b, err := d.fixed(op, 4)
			if err != nil {
				return err
			}
			n = int64(binary.LittleEndian.Uint32(b))
		case argString4:
			b, err := d.fixed(op, 4)
			if err != nil {
				return err
			}
			n = int64(int32(binary.LittleEndian.Uint32(b)))
			if n < 0 {
				return d.errf(op.Pos, op.Code, "BINSTRING pickle has negative byte count")
			}
		case argBytes8, argUnicode8:
			b, err := d.fixed(op, 8)
			if err != nil {
				return err
			}
			u := binary.LittleEndian.Uint64(b)
			if u > math.MaxInt64 {
				return d.errf(op.Pos, op.Code, "declared length %d exceeds the maximum size", u)
			}
			n = int64(u)
		}
		*hdrEnd = d.pos
		data, trunc, err := d.data(op, n, d.maxKeep)
		if err != nil {
			return err
		}
		op.Str, op.Len, op.Trunc = string(data), n, trunc
		op.Bytes = kind == argBytes1 || kind == argBytes4 || kind == argBytes8
		if kind == argString4 || (kind == argBytes1 && op.Code == SHORT_BINSTRING) {
			op.Bytes = false // py2 str: decoded by the unpickler's encoding
		}
	}
	return nil
}

func (d *Decoder) eof(op *Op, what string) error {
	return &DecodeError{Pos: op.Pos, Op: op.Code.Name(), Msg: fmt.Sprintf("stream ends inside the operand (%s)", what), Truncated: true}
}

// fixed reads an n-byte (n ≤ 8) operand.
func (d *Decoder) fixed(op *Op, n int) ([]byte, error) {
	b, err := d.r.Peek(n)
	if len(b) < n {
		if err == nil || err == io.EOF || err == bufio.ErrBufferFull {
			return nil, d.eof(op, fmt.Sprintf("needs %d bytes", n))
		}
		return nil, err
	}
	// Discarding bytes that are already buffered does not refill the
	// buffer, so b stays valid until the next read: no allocation per operand.
	d.r.Discard(n)
	d.pos += int64(n)
	return b, nil
}

// data reads an n-byte operand, keeping it whole when n ≤ keep and only a
// prefix otherwise; the rest is discarded without being allocated.
func (d *Decoder) data(op *Op, n int64, keep int64) ([]byte, bool, error) {
	if n <= keep {
		buf := make([]byte, n)
		got, err := io.ReadFull(d.r, buf)
		d.pos += int64(got)
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, false, d.eof(op, fmt.Sprintf("declared %d bytes, %d present", n, got))
			}
			return nil, false, err
		}
		return buf, false, nil
	}
	pre := int64(previewLen)
	if pre > keep {
		pre = keep
	}
	buf := make([]byte, pre)
	got, err := io.ReadFull(d.r, buf)
	d.pos += int64(got)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, false, d.eof(op, fmt.Sprintf("declared %d bytes, %d present", n, got))
		}
		return nil, false, err
	}
	if left, err := d.discard(n - pre); err != nil {
		if err == io.EOF {
			return nil, false, d.eof(op, fmt.Sprintf("declared %d bytes, %d present", n, n-left))
		}
		return nil, false, err
	}
	return buf, true, nil
}

// discard skips n bytes without holding them; it returns how many were
// left unread when the stream ended (io.EOF) or failed.
func (d *Decoder) discard(n int64) (int64, error) {
	for n > 0 {
		k, err := d.r.Discard(int(min(n, 1<<30)))
		d.pos += int64(k)
		n -= int64(k)
		if err != nil {
			return n, err
		}
	}
	return 0, nil
}

// line reads a protocol-0 operand up to and excluding '\n'. A line longer
// than maxLine (protocol-0 numpy arrays carry their data in one) is skipped
// to its newline and only a prefix is kept.
func (d *Decoder) line(op *Op) ([]byte, error) {
	var acc []byte
	over := false
	for {
		chunk, err := d.r.ReadSlice('\n')
		d.pos += int64(len(chunk))
		if err == nil {
			chunk = chunk[:len(chunk)-1]
		} else if err != bufio.ErrBufferFull {
			if err == io.EOF {
				return nil, d.eof(op, "no newline before the end")
			}
			return nil, err
		}
		if room := d.maxLine - len(acc); room > 0 {
			if len(chunk) > room {
				acc = append(acc, chunk[:room]...)
				over = true
			} else if acc == nil && err == nil {
				return chunk, nil // the common case: no copy
			} else {
				acc = append(acc, chunk...)
			}
		} else if len(chunk) > 0 {
			over = true
		}
		if err == nil {
			if over {
				op.Trunc = true
			}
			return acc, nil
		}
	}
}

// parsePyInt parses a Python int literal as int() with base 0 would, for the
// forms the unpickler accepts.
func parsePyInt(op *Op, s string) bool {
	t := strings.TrimSpace(s)
	if t == "" {
		return false
	}
	neg := false
	body := t
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	base := 10
	if len(body) > 2 && body[0] == '0' {
		switch body[1] {
		case 'x', 'X':
			base, body = 16, body[2:]
		case 'o', 'O':
			base, body = 8, body[2:]
		case 'b', 'B':
			base, body = 2, body[2:]
		}
	}
	if base == 10 && len(body) > 1 && body[0] == '0' && strings.Trim(body, "0_") != "" {
		return false // Python 3 rejects leading zeros
	}
	body = strings.TrimPrefix(body, "_")
	if body == "" || strings.HasSuffix(body, "_") || strings.Contains(body, "__") {
		return false
	}
	z, ok := new(big.Int).SetString(strings.ReplaceAll(body, "_", ""), base)
	if !ok {
		return false
	}
	if neg {
		z.Neg(z)
	}
	if z.IsInt64() {
		op.Int, op.IntOK = z.Int64(), true
	} else {
		op.Big = clip(z.String(), 64)
	}
	return true
}

// decodeLong decodes a little-endian two's complement integer (LONG1/LONG4).
func decodeLong(op *Op, data []byte) {
	if len(data) == 0 {
		op.Int, op.IntOK = 0, true
		return
	}
	be := make([]byte, len(data))
	for i, b := range data {
		be[len(data)-1-i] = b
	}
	z := new(big.Int).SetBytes(be)
	if data[len(data)-1]&0x80 != 0 {
		z.Sub(z, new(big.Int).Lsh(big.NewInt(1), uint(8*len(data))))
	}
	if z.IsInt64() {
		op.Int, op.IntOK = z.Int64(), true
	} else {
		op.Big = clip(z.String(), 64)
	}
}

// escapeDecode is Python's codecs.escape_decode, which the STRING opcode uses.
func escapeDecode(b []byte) (string, error) {
	var out strings.Builder
	out.Grow(len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out.WriteByte(c)
			continue
		}
		i++
		if i >= len(b) {
			return "", errors.New("trailing \\ in string")
		}
		c = b[i]
		switch c {
		case '\n':
		case '\\', '\'', '"':
			out.WriteByte(c)
		case 'b':
			out.WriteByte('\b')
		case 'f':
			out.WriteByte('\f')
		case 't':
			out.WriteByte('\t')
		case 'n':
			out.WriteByte('\n')
		case 'r':
			out.WriteByte('\r')
		case 'v':
			out.WriteByte('\v')
		case 'a':
			out.WriteByte('\a')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(b[i]-'0')
			}
			out.WriteByte(byte(v))
		case 'x':
			if i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
				out.WriteByte(byte(hexVal(b[i+1])<<4 | hexVal(b[i+2])))
				i += 2
			} else {
				return "", fmt.Errorf("invalid \\x escape at position %d", i-1)
			}
		default:
			out.WriteByte('\\')
			out.WriteByte(c)
		}
	}
	return out.String(), nil
}

// rawUnicodeEscapeDecode is Python's raw_unicode_escape codec, which the
// UNICODE opcode uses: only \uXXXX and \UXXXXXXXX are escapes, other bytes
// are Latin-1 code points.
func rawUnicodeEscapeDecode(b []byte) (string, error) {
	var out strings.Builder
	out.Grow(len(b))
	for i := 0; i < len(b); {
		c := b[i]
		i++
		if c != '\\' || i >= len(b) {
			out.WriteRune(rune(c))
			continue
		}
		c = b[i]
		i++
		count := 0
		switch c {
		case 'u':
			count = 4
		case 'U':
			count = 8
		default:
			out.WriteByte('\\')
			out.WriteRune(rune(c))
			continue
		}
		var r rune
		for k := 0; k < count; k++ {
			if i >= len(b) {
				return "", fmt.Errorf("truncated \\%c escape", c)
			}
			if !isHex(b[i]) {
				return "", fmt.Errorf("truncated \\%c escape", c)
			}
			r = r<<4 | rune(hexVal(b[i]))
			i++
		}
		if r > unicodeMax {
			return "", errors.New("\\Uxxxxxxxx out of range")
		}
		if r >= 0xD800 && r <= 0xDFFF {
			r = utf8.RuneError // lone surrogate: Go strings cannot hold it
		}
		out.WriteRune(r)
	}
	return out.String(), nil
}

const unicodeMax = 0x10FFFF

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Skip discards n raw bytes that are not opcodes (joblib writes array data
// inside the pickle stream), without allocating them.
func (d *Decoder) Skip(n int64) error {
	left, err := d.discard(n)
	if err == io.EOF {
		return &DecodeError{Pos: d.pos, Msg: fmt.Sprintf("stream ends %d bytes before the end of raw array data", left), Truncated: true}
	}
	return err
}

// RawByte reads one raw byte that is not an opcode.
func (d *Decoder) RawByte() (byte, error) {
	b, err := d.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			return 0, &DecodeError{Pos: d.pos, Msg: "stream ends inside raw array data", Truncated: true}
		}
		return 0, err
	}
	d.pos++
	return b, nil
}
