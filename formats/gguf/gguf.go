// Package gguf validates a GGUF file (llama.cpp / ggml models) statically:
// the header, every metadata key-value pair and every tensor info, and the
// layout of the tensor data those infos describe. It follows the spec in
// ggml/docs/gguf.md and the checks of ggml's gguf.cpp reader, and reports
// where readers disagree or where llama.cpp's loader had memory-safety
// bugs (oversized lengths, n_dims > 4, overflowing shapes, offsets outside
// the file, overlapping tensors).
//
// Scan streams: it reads the header, the metadata and the tensor infos from
// an io.Reader and stops there; the tensor data is never read (the caller
// drains the rest of the stream, for hashing). Every length or count is
// checked against Limits and against the bytes left in the file before
// anything is allocated, and only the values a report needs are kept: a
// 256k-token vocabulary is skipped as it is read.
//
// Chat templates (tokenizer.chat_template and tokenizer.chat_template.NAME)
// are returned, not analysed: the template analyser judges them.
package gguf

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// Limits are the caps of one scan. A zero field means its default.
type Limits struct {
	MaxKVs      int   // metadata pairs tracked for duplicate keys (1<<20)
	MaxTensors  int   // tensor infos tracked for duplicates and layout (1<<20)
	MaxKey      int64 // bytes of one metadata key (65535, the spec's limit)
	MaxString   int64 // bytes of a string value kept, and of any string before it is called suspicious (1 MiB)
	MaxTemplate int64 // bytes of a chat template returned (1 MiB)
	MaxDepth    int   // arrays nested in arrays (8)
	MaxGeneral  int   // general.* string values kept in Report.General (64)
}

// DefaultLimits returns the documented defaults.
func DefaultLimits() Limits {
	return Limits{MaxKVs: 1 << 20, MaxTensors: 1 << 20, MaxKey: 65535, MaxString: 1 << 20,
		MaxTemplate: 1 << 20, MaxDepth: 8, MaxGeneral: 64}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxKVs <= 0 {
		l.MaxKVs = d.MaxKVs
	}
	if l.MaxTensors <= 0 {
		l.MaxTensors = d.MaxTensors
	}
	if l.MaxKey <= 0 {
		l.MaxKey = d.MaxKey
	}
	if l.MaxString <= 0 {
		l.MaxString = d.MaxString
	}
	if l.MaxTemplate <= 0 {
		l.MaxTemplate = d.MaxTemplate
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxGeneral <= 0 {
		l.MaxGeneral = d.MaxGeneral
	}
	return l
}

// Template is a chat template found in the metadata.
type Template struct {
	Name   string // "default" for tokenizer.chat_template, else the suffix of tokenizer.chat_template.NAME
	Text   string
	Offset int64  // file offset of the template's first byte
	SHA256 string // hex SHA-256 of Text's bytes
}

// Report is what Scan found out about one file. Integer facts that the file
// does not state are -1.
type Report struct {
	Findings []finding.Finding
	// Complete is false when part of the file could not be analysed (it is
	// malformed, or a cap was reached); a finding then says why.
	Complete bool

	Version             uint32 // GGUF version (1, 2 or 3); 0 if unreadable
	BigEndian           bool
	Architecture        string   // general.architecture
	Name                string   // general.name
	License             string   // general.license
	FileType            int64    // general.file_type
	FileTypeName        string   // llama.cpp's LLAMA_FTYPE name of FileType, e.g. "MOSTLY_Q4_K_M"; "" if unknown
	QuantizationVersion int64    // general.quantization_version
	ContextLength       int64    // <architecture>.context_length
	Alignment           int64    // general.alignment as declared, else the default 32
	KVs                 int      // metadata pairs read
	Tensors             int      // tensor infos read
	Parameters          int64    // sum of the element counts of the valid tensors (saturates)
	Dtypes              []string // ggml type names of the valid tensors (F32, Q4_K, IQ2_XXS, …), sorted, unique
	Templates           []Template

	General        map[string]string // general.* string values (Limits.MaxGeneral entries, values shortened to 1 KiB)
	TokenizerModel string            // tokenizer.ggml.model
	VocabSize      int64             // elements of tokenizer.ggml.tokens
	DataOffset     int64             // file offset where the tensor data starts; -1 if not reached
}

const (
	defaultAlignment = 32
	maxDims          = 4  // GGML_MAX_DIMS
	maxName          = 64 // GGML_MAX_NAME, including the terminating NUL
	keepValue        = 1 << 10
	templateKey      = "tokenizer.chat_template"
)

// tinfo is one tensor's span, kept for the layout checks.
type tinfo struct {
	name   string
	at     int64 // file offset of the tensor info
	offset uint64
	nbytes uint64
}

type parser struct {
	lim      Limits
	br       *bufio.Reader
	pos      int64
	size     int64
	order    binary.ByteOrder
	v1       bool
	nulKeys  bool // a key held a NUL: duplicates are compared as C strings
	list     finding.List
	complete bool
	stop     bool
	rep      *Report
	seed     maphash.Seed
	buf      [8]byte

	keys      map[uint64]struct{}
	names     map[uint64]struct{}
	tensors   []tinfo
	ctxLens   map[string]int64
	align     uint64 // the alignment in force
	alignOK   bool   // false when general.alignment is invalid
	dtypes    map[string]bool
	reported  map[string]bool // once-per-key findings
	partial   bool            // some tensor's span is unknown: gaps and trailing bytes are not judged
	sizeKnown bool
}

// Scan validates the GGUF file of the given size read from r. It reads r up
// to the end of the tensor infos, plus at most 64 KiB of read-ahead
// buffering, and never interprets tensor data; the caller drains whatever
// remains of r. A negative size means unknown: then only Limits bound what
// a declared length may claim.
func Scan(r io.Reader, size int64, lim Limits) Report {
	rep := Report{Complete: true, FileType: -1, QuantizationVersion: -1, ContextLength: -1,
		Alignment: defaultAlignment, VocabSize: -1, DataOffset: -1}
	p := &parser{lim: lim.withDefaults(), br: bufio.NewReaderSize(r, 64<<10), size: size,
		order: binary.LittleEndian, complete: true, rep: &rep, seed: maphash.MakeSeed(),
		align: defaultAlignment, alignOK: true}
	if size < 0 {
		p.size = math.MaxInt64 // unknown: only the caps bound the scan
	} else {
		p.sizeKnown = true
	}
	p.run()
	p.finishKVs()
	rep.Findings = p.list.Findings
	if rep.Findings == nil {
		rep.Findings = []finding.Finding{}
	}
	rep.Complete = p.complete && !p.stop
	for d := range p.dtypes {
		rep.Dtypes = append(rep.Dtypes, d)
	}
	sort.Strings(rep.Dtypes)
	return rep
}

func (p *parser) add(rule string, lvl finding.Level, off int64, where, evidence, format string, args ...any) {
	p.list.Add(finding.Finding{Rule: rule, Level: lvl, Offset: off, Where: printable(where),
		Message: escapeControl(fmt.Sprintf(format, args...)), Evidence: printable(finding.Shorten(evidence, 200))})
}

// escapeControl keeps a message on one line whatever key names it embeds:
// control characters from the file are written as \xNN.
func escapeControl(s string) string {
	if !hasControl(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// printable quotes text from the file that holds invalid UTF-8 or control
// characters, so that a report cannot be forged by what it quotes.
func printable(s string) string {
	if utf8.ValidString(s) && !hasControl(s) {
		return s
	}
	return strconv.QuoteToASCII(s)
}

// fatal records a finding after which the rest of the file cannot be parsed.
func (p *parser) fatal(rule string, off int64, where, evidence, format string, args ...any) {
	if p.stop {
		return
	}
	p.add(rule, finding.High, off, where, evidence, format, args...)
	p.stop = true
}

func (p *parser) once(key string) bool {
	if p.reported == nil {
		p.reported = map[string]bool{}
	}
	if p.reported[key] {
		return false
	}
	p.reported[key] = true
	return true
}

func (p *parser) remaining() int64 { return p.size - p.pos }

// read returns the next n (<= 8) bytes.
func (p *parser) read(n int, what string) ([]byte, bool) {
	if p.stop {
		return nil, false
	}
	if int64(n) > p.remaining() {
		p.fatal(RuleTruncated, p.pos, "", "", "file ends inside %s at offset %d: truncated or crafted, loaders refuse it", what, p.pos)
		return nil, false
	}
	got, err := io.ReadFull(p.br, p.buf[:n])
	p.pos += int64(got)
	if err != nil {
		p.streamEnded(err, what)
		return nil, false
	}
	return p.buf[:n], true
}

func (p *parser) streamEnded(err error, what string) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		p.fatal(RuleTruncated, p.pos, "", "", "file ends inside %s at offset %d, before its stated size: truncated", what, p.pos)
		return
	}
	p.fatal(RuleMalformed, p.pos, "", err.Error(), "cannot read %s at offset %d: file unscannable", what, p.pos)
}

func (p *parser) u32(what string) (uint32, bool) {
	b, ok := p.read(4, what)
	if !ok {
		return 0, false
	}
	return p.order.Uint32(b), true
}

func (p *parser) u64(what string) (uint64, bool) {
	b, ok := p.read(8, what)
	if !ok {
		return 0, false
	}
	return p.order.Uint64(b), true
}

// length reads a string length or element count: u32 in GGUF v1, u64 since.
func (p *parser) length(what string) (uint64, bool) {
	if p.v1 {
		v, ok := p.u32(what)
		return uint64(v), ok
	}
	return p.u64(what)
}

func (p *parser) lenSize() uint64 {
	if p.v1 {
		return 4
	}
	return 8
}

// fits checks that n bytes remain, recording a finding if not.
func (p *parser) fits(n uint64, off int64, where, what string) bool {
	if n > uint64(p.remaining()) {
		p.fatal(RuleBadLength, off, where, strconv.FormatUint(n, 10), "%s of %d bytes exceeds the %d bytes left in the file: a hostile length that makes trusting readers over-allocate or over-read", what, n, p.remaining())
		return false
	}
	return true
}

// skip discards n bytes known to be inside the file.
func (p *parser) skip(n uint64, what string) bool {
	for n > 0 && !p.stop {
		chunk := int(min(n, 1<<30))
		got, err := p.br.Discard(chunk)
		p.pos += int64(got)
		n -= uint64(got)
		if err != nil {
			p.streamEnded(err, what)
			return false
		}
	}
	return !p.stop
}

// bytes reads n bytes (n already checked against a cap and the file).
func (p *parser) bytes(n uint64, what string) ([]byte, bool) {
	b := make([]byte, n)
	got, err := io.ReadFull(p.br, b)
	p.pos += int64(got)
	if err != nil {
		p.streamEnded(err, what)
		return nil, false
	}
	return b, true
}

func (p *parser) run() {
	magic, ok := p.read(4, "the magic")
	if !ok {
		return
	}
	if string(magic) != "GGUF" {
		p.fatal(RuleMalformed, 0, "", string(magic), "magic is %q, not \"GGUF\": not a GGUF file", magic)
		return
	}
	vb, ok := p.read(4, "the version")
	if !ok {
		return
	}
	le, be := binary.LittleEndian.Uint32(vb), binary.BigEndian.Uint32(vb)
	switch {
	case le >= 1 && le <= 3:
		p.rep.Version = le
	case be >= 1 && be <= 3:
		p.rep.Version, p.rep.BigEndian, p.order = be, true, binary.BigEndian
		p.add(RuleBigEndian, finding.Info, 4, "", "", "big-endian GGUF: loaders on little-endian machines refuse it")
	default:
		p.fatal(RuleMalformed, 4, "", strconv.FormatUint(uint64(le), 10), "unsupported GGUF version %d: the file cannot be parsed", le)
		return
	}
	if p.rep.Version == 1 {
		p.v1 = true
		p.add(RuleLegacyVersion, finding.Low, 4, "", "", "GGUF version 1: current llama.cpp no longer loads it (dropped in late 2023)")
	}
	nTensors, ok := p.length("the tensor count")
	if !ok {
		return
	}
	nKV, ok := p.length("the metadata count")
	if !ok {
		return
	}
	minKV := p.lenSize() + 1 + 4 + 1 // key length, one key byte, type, one value byte
	if hi, need := bits.Mul64(nKV, minKV); hi != 0 || need > uint64(p.remaining()) {
		p.fatal(RuleBadLength, 8+int64(p.lenSize()), "", strconv.FormatUint(nKV, 10), "metadata count %d needs at least %d bytes per pair but only %d bytes remain: a hostile count that makes trusting readers over-allocate", nKV, minKV, p.remaining())
		return
	}
	if nKV > uint64(p.lim.MaxKVs) {
		p.add(RuleLimit, finding.Medium, 8+int64(p.lenSize()), "", strconv.FormatUint(nKV, 10), "%d metadata pairs: pairs beyond %d are not checked for duplicate keys (raise Limits.MaxKVs)", nKV, p.lim.MaxKVs)
		p.complete = false
	}
	p.keys = map[uint64]struct{}{}
	for i := uint64(0); i < nKV && !p.stop; i++ {
		if p.kv(); !p.stop {
			p.rep.KVs++
		}
	}
	if p.stop {
		return
	}
	p.tensorInfos(nTensors)
	if p.stop {
		return
	}
	p.layout()
}

func isTemplateKey(key string) bool {
	return key == templateKey || strings.HasPrefix(key, templateKey+".")
}

// kv parses one metadata pair.
func (p *parser) kv() {
	keyOff := p.pos
	klen, ok := p.length("a key length")
	if !ok || !p.fits(klen, keyOff, "", "key length") {
		return
	}
	var key string
	keyKnown := true
	if klen > uint64(p.lim.MaxKey) {
		p.add(RuleBadKey, finding.Medium, keyOff, "", strconv.FormatUint(klen, 10), "key of %d bytes, longer than the spec's 65535: skipped unread, so its value is not analysed", klen)
		p.complete = false
		keyKnown = false
		if !p.skip(klen, "a key") {
			return
		}
	} else {
		b, ok := p.bytes(klen, "a key")
		if !ok {
			return
		}
		key = string(b)
		p.checkKey(key, keyOff)
	}
	where := finding.Shorten(key, 200)
	if i := strings.IndexByte(key, 0); i >= 0 {
		// llama.cpp looks keys up as C strings (gguf_find_key: strcmp on
		// key.c_str()), so the key ends at its first NUL for it while other
		// readers see the whole key: judge it by what llama.cpp sees.
		p.nulKeys = true
		p.add(RuleBadKey, finding.High, keyOff, where, key, "key holds a NUL byte: llama.cpp compares keys as C strings and sees it as %q, other tools see a different key", finding.Shorten(key[:i], 80))
		key = key[:i]
	}
	if keyKnown {
		h := maphash.String(p.seed, key)
		if _, dup := p.keys[h]; dup && p.nulKeys {
			p.add(RuleDuplicateKey, finding.High, keyOff, where, key, "key %q appears twice when compared up to the first NUL, as llama.cpp's lookups compare keys: llama.cpp uses the first pair, other readers may use either", finding.Shorten(key, 80))
		} else if dup {
			p.add(RuleDuplicateKey, finding.High, keyOff, where, key, "key %q appears twice: llama.cpp refuses the file, other readers keep the first or the last value, so tools disagree on it", finding.Shorten(key, 80))
		} else if len(p.keys) < p.lim.MaxKVs {
			p.keys[h] = struct{}{}
		}
	}
	typOff := p.pos
	typ, ok := p.u32("a value type")
	if !ok {
		return
	}
	if typ >= nValueTypes {
		p.fatal(RuleValueType, typOff, where, strconv.FormatUint(uint64(typ), 10), "value type %d is not a GGUF type (0-12): the value's size is unknown, so nothing after it can be parsed", typ)
		return
	}
	if !keyKnown {
		key = "\x00unread" // matches no kept key
	}
	p.value(key, where, typ, typOff)
}

func (p *parser) checkKey(key string, off int64) {
	where := finding.Shorten(key, 200)
	switch {
	case key == "":
		p.add(RuleBadKey, finding.High, off, "", "", "empty metadata key: llama.cpp refuses the file")
		return
	case !utf8.ValidString(key):
		p.add(RuleBadKey, finding.Medium, off, where, key, "key is not valid UTF-8 (the spec requires ASCII): tools print and compare it differently")
	case hasControl(key):
		p.add(RuleBadKey, finding.Medium, off, where, key, "key holds control characters: they can forge log lines or terminal output of tools that print metadata")
	}
	if strings.ContainsAny(key, "/\\") || strings.Contains(key, "..") {
		p.add(RuleBadKey, finding.Low, off, where, key, "key holds path separators or '..': tools that turn keys into file names could write outside their directory")
	}
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// expectType reports a well-known key whose value has the wrong type.
func (p *parser) expectType(key, where string, typ uint32, off int64) {
	var want string
	lvl := finding.Low
	ok := true
	switch {
	case key == "general.alignment":
		want, lvl, ok = "UINT32", finding.High, typ == tUint32
	case isTemplateKey(key):
		want, lvl, ok = "STRING", finding.Medium, typ == tString
	case key == "general.architecture" || key == "general.name" || key == "general.license" || key == "tokenizer.ggml.model":
		want, ok = "STRING", typ == tString
	case key == "general.file_type" || key == "general.quantization_version" || strings.HasSuffix(key, ".context_length"):
		want, ok = "an integer", isInt(typ)
	}
	if ok {
		return
	}
	why := "loaders that read it fail"
	switch lvl {
	case finding.High:
		why = "llama.cpp refuses the file"
	case finding.Medium:
		why = "the template is not returned for analysis, yet some loaders may still render it"
	}
	p.add(RuleKeyType, lvl, off, where, valueTypeNames[typ], "%s has type %s, not %s: %s", finding.Shorten(key, 80), valueTypeNames[typ], want, why)
}

// value parses the value of a top-level pair.
func (p *parser) value(key, where string, typ uint32, typOff int64) {
	p.expectType(key, where, typ, typOff)
	switch typ {
	case tString:
		p.stringValue(key, where)
	case tArray:
		etOff := p.pos
		et, ok := p.u32("an array type")
		if !ok {
			return
		}
		if et >= nValueTypes {
			p.fatal(RuleValueType, etOff, where, strconv.FormatUint(uint64(et), 10), "array element type %d is not a GGUF type (0-12): nothing after it can be parsed", et)
			return
		}
		nOff := p.pos
		n, ok := p.length("an array count")
		if !ok {
			return
		}
		p.array(where, et, n, nOff, 1)
		if key == "tokenizer.ggml.tokens" && !p.stop {
			p.rep.VocabSize = int64(n) // n fitted in the file, so it is far below 2^63
		}
	default:
		p.scalar(key, where, typ)
	}
}

func (p *parser) stringValue(key, where string) {
	lenOff := p.pos
	n, ok := p.length("a string length")
	if !ok || !p.fits(n, lenOff, where, "string") {
		return
	}
	textOff := p.pos
	kept := keepString(key)
	switch {
	case isTemplateKey(key) && n > uint64(p.lim.MaxTemplate):
		p.add(RuleTemplateTooLong, finding.High, textOff, where, strconv.FormatUint(n, 10), "chat template of %d bytes exceeds the %d-byte cap: it is not analysed, and loaders will render it", n, p.lim.MaxTemplate)
		p.complete = false
		p.skip(n, "a chat template")
	case isTemplateKey(key):
		b, ok := p.bytes(n, "a chat template")
		if !ok {
			return
		}
		name := "default"
		if key != templateKey {
			name = key[len(templateKey)+1:]
		}
		sum := sha256.Sum256(b)
		p.rep.Templates = append(p.rep.Templates, Template{Name: name, Text: string(b), Offset: textOff, SHA256: hex.EncodeToString(sum[:])})
	case n > uint64(p.lim.MaxString):
		p.add(RuleStringTooLong, finding.Medium, textOff, where, strconv.FormatUint(n, 10), "string value of %d bytes, above the %d-byte cap: skipped unread; real metadata strings are far smaller", n, p.lim.MaxString)
		if kept {
			p.complete = false
		}
		p.skip(n, "a string")
	case kept:
		b, ok := p.bytes(n, "a string")
		if !ok {
			return
		}
		p.keep(key, string(b))
	default:
		p.skip(n, "a string")
	}
}

func keepString(key string) bool {
	return strings.HasPrefix(key, "general.") || key == "tokenizer.ggml.model"
}

func (p *parser) keep(key, v string) {
	v = finding.Shorten(v, keepValue)
	switch key {
	case "general.architecture":
		p.rep.Architecture = v
	case "general.name":
		p.rep.Name = v
	case "general.license":
		p.rep.License = v
	case "tokenizer.ggml.model":
		p.rep.TokenizerModel = v
		return
	}
	if p.rep.General == nil {
		p.rep.General = map[string]string{}
	}
	if _, seen := p.rep.General[key]; seen || len(p.rep.General) < p.lim.MaxGeneral {
		p.rep.General[key] = v
	}
}

func (p *parser) scalar(key, where string, typ uint32) {
	off := p.pos
	b, ok := p.read(int(fixedSize[typ]), "a value")
	if !ok {
		return
	}
	if typ == tBool {
		if b[0] > 1 {
			p.add(RuleBool, finding.Low, off, where, strconv.Itoa(int(b[0])), "boolean holds %d, not 0 or 1: the spec calls the file invalid and readers disagree on its value", b[0])
		}
		return
	}
	if !isInt(typ) {
		return
	}
	v := p.intValue(b, typ)
	switch {
	case key == "general.alignment" && typ == tUint32:
		p.rep.Alignment = v
		if v == 0 || v&(v-1) != 0 {
			p.add(RuleAlignment, finding.High, off, where, strconv.FormatInt(v, 10), "general.alignment %d is not a power of two: llama.cpp refuses the file, and offsets computed with it are meaningless", v)
			p.alignOK = false
		} else {
			p.align = uint64(v)
		}
	case key == "general.file_type":
		p.rep.FileType = v
		p.rep.FileTypeName = fileTypes[v]
	case key == "general.quantization_version":
		p.rep.QuantizationVersion = v
	case strings.HasSuffix(key, ".context_length"):
		if p.ctxLens == nil {
			p.ctxLens = map[string]int64{}
		}
		if len(p.ctxLens) < 16 {
			p.ctxLens[key] = v
		}
	}
}

// intValue decodes an integer value, saturating unsigned 64-bit ones.
func (p *parser) intValue(b []byte, typ uint32) int64 {
	switch typ {
	case tUint8:
		return int64(b[0])
	case tInt8:
		return int64(int8(b[0]))
	case tUint16:
		return int64(p.order.Uint16(b))
	case tInt16:
		return int64(int16(p.order.Uint16(b)))
	case tUint32:
		return int64(p.order.Uint32(b))
	case tInt32:
		return int64(int32(p.order.Uint32(b)))
	case tUint64:
		return int64(min(p.order.Uint64(b), math.MaxInt64))
	case tInt64:
		return int64(p.order.Uint64(b))
	}
	return 0
}

// array skips the elements of an array, checking its count against the
// bytes left before reading any of them.
func (p *parser) array(where string, et uint32, n uint64, nOff int64, depth int) {
	if depth > p.lim.MaxDepth {
		p.fatal(RuleLimit, nOff, where, strconv.Itoa(depth), "arrays nested %d deep, beyond the cap of %d: the rest of the file is not parsed (llama.cpp refuses nested arrays)", depth, p.lim.MaxDepth)
		return
	}
	if et == tArray && depth == 1 {
		p.add(RuleNestedArray, finding.Low, nOff, where, "", "array of arrays: the spec allows it but llama.cpp refuses the file")
	}
	var minElem uint64
	switch et {
	case tString:
		minElem = p.lenSize()
	case tArray:
		minElem = 4 + p.lenSize()
	default:
		minElem = uint64(fixedSize[et])
	}
	hi, need := bits.Mul64(n, minElem)
	if hi != 0 || need > uint64(p.remaining()) {
		p.fatal(RuleBadLength, nOff, where, strconv.FormatUint(n, 10), "array count %d of %s needs at least %d bytes per element but only %d bytes remain: a hostile count that makes trusting readers over-allocate", n, valueTypeNames[et], minElem, p.remaining())
		return
	}
	switch et {
	case tString:
		for i := uint64(0); i < n && !p.stop; i++ {
			off := p.pos
			l, ok := p.length("a string length")
			if !ok || !p.fits(l, off, where, "string") {
				return
			}
			if l > uint64(p.lim.MaxString) && p.once("long:"+where) {
				p.add(RuleStringTooLong, finding.Medium, p.pos, where, strconv.FormatUint(l, 10), "array string of %d bytes, above the %d-byte cap: real metadata strings are far smaller", l, p.lim.MaxString)
			}
			p.skip(l, "a string")
		}
	case tArray:
		for i := uint64(0); i < n && !p.stop; i++ {
			etOff := p.pos
			et2, ok := p.u32("an array type")
			if !ok {
				return
			}
			if et2 >= nValueTypes {
				p.fatal(RuleValueType, etOff, where, strconv.FormatUint(uint64(et2), 10), "array element type %d is not a GGUF type (0-12): nothing after it can be parsed", et2)
				return
			}
			off := p.pos
			n2, ok := p.length("an array count")
			if !ok {
				return
			}
			p.array(where, et2, n2, off, depth+1)
		}
	case tBool:
		p.bools(where, n)
	default:
		p.skip(need, "an array")
	}
}

// bools checks each byte of a BOOL array.
func (p *parser) bools(where string, n uint64) {
	for n > 0 && !p.stop {
		chunk := int(min(n, 4096))
		b, err := p.br.Peek(chunk)
		for i, c := range b {
			if c > 1 && p.once("bool:"+where) {
				p.add(RuleBool, finding.Low, p.pos+int64(i), where, strconv.Itoa(int(c)), "boolean array element holds %d, not 0 or 1: the spec calls the file invalid and readers disagree on its value", c)
			}
		}
		got, _ := p.br.Discard(len(b))
		p.pos += int64(got)
		n -= uint64(got)
		if err != nil {
			p.streamEnded(err, "an array")
			return
		}
	}
}

// finishKVs resolves facts that depend on several pairs.
func (p *parser) finishKVs() {
	if v, ok := p.ctxLens[p.rep.Architecture+".context_length"]; ok && p.rep.Architecture != "" {
		p.rep.ContextLength = v
	}
}

func (p *parser) tensorInfos(n uint64) {
	minTI := p.lenSize() + 4 + 4 + 8 // name length, n_dims, type, offset
	if hi, need := bits.Mul64(n, minTI); hi != 0 || need > uint64(p.remaining()) {
		p.fatal(RuleBadLength, 8, "", strconv.FormatUint(n, 10), "tensor count %d needs at least %d bytes per tensor info but only %d bytes remain: a hostile count that makes trusting readers over-allocate", n, minTI, p.remaining())
		return
	}
	if n > uint64(p.lim.MaxTensors) {
		p.add(RuleLimit, finding.Medium, 8, "", strconv.FormatUint(n, 10), "%d tensors: tensors beyond %d are not checked for duplicates or layout (raise Limits.MaxTensors)", n, p.lim.MaxTensors)
		p.complete = false
	}
	p.names = map[uint64]struct{}{}
	for i := uint64(0); i < n && !p.stop; i++ {
		if p.tensorInfo(); !p.stop {
			p.rep.Tensors++
		}
	}
}

func (p *parser) tensorInfo() {
	at := p.pos
	l, ok := p.length("a tensor name length")
	if !ok || !p.fits(l, at, "", "tensor name") {
		return
	}
	keep := min(l, 256)
	nb, ok := p.bytes(keep, "a tensor name")
	if !ok || !p.skip(l-keep, "a tensor name") {
		return
	}
	name := string(nb)
	where := finding.Shorten(name, 200)
	switch {
	case l >= maxName:
		p.add(RuleTensorName, finding.High, at, where, name, "tensor name of %d bytes, ggml's limit is %d: llama.cpp refuses the file and truncating readers may merge it with another tensor", l, maxName-1)
	case !utf8.ValidString(name) || hasControl(name):
		p.add(RuleTensorName, finding.Medium, at, where, name, "tensor name holds invalid UTF-8 or control characters: tools print and match it differently")
	}
	h := maphash.String(p.seed, name)
	if _, dup := p.names[h]; dup {
		p.add(RuleDuplicateTensor, finding.High, at, where, name, "tensor name %q appears twice: llama.cpp refuses the file, other readers pick either tensor", finding.Shorten(name, 80))
	} else if len(p.names) < p.lim.MaxTensors {
		p.names[h] = struct{}{}
	}

	ndOff := p.pos
	nd, ok := p.u32("n_dims")
	if !ok {
		return
	}
	dimSize := uint64(8)
	if p.v1 {
		dimSize = 4
	}
	if nd > maxDims {
		p.add(RuleDims, finding.High, ndOff, where, strconv.FormatUint(uint64(nd), 10), "tensor has %d dimensions, ggml allows %d: loaders that index a fixed array overflow it (llama.cpp heap overflows)", nd, maxDims)
		if !p.fits(uint64(nd)*dimSize, ndOff, where, "dimension list") {
			return
		}
	}
	nelem, overflow, negative, zero := uint64(1), false, false, false
	var ne0 uint64
	for j := uint32(0); j < nd; j++ {
		var d uint64
		if p.v1 {
			v, ok := p.u32("a dimension")
			if !ok {
				return
			}
			d = uint64(v)
		} else {
			v, ok := p.u64("a dimension")
			if !ok {
				return
			}
			d = v
		}
		if j == 0 {
			ne0 = d
		}
		switch {
		case d > math.MaxInt64:
			negative = true
		case d == 0:
			zero = true
		}
		hi, lo := bits.Mul64(nelem, d)
		if hi != 0 || lo > math.MaxInt64 {
			overflow = true
		}
		nelem = lo
	}
	if nd == 0 {
		ne0 = 1
	}
	typOff := p.pos
	typ, ok := p.u32("a tensor type")
	if !ok {
		return
	}
	offOff := p.pos
	offset, ok := p.u64("a tensor offset")
	if !ok {
		return
	}

	switch {
	case negative:
		p.add(RuleShape, finding.High, ndOff, where, "", "a dimension is negative as ggml's int64: llama.cpp refuses it, unchecked readers compute a bogus size")
	case overflow && !zero:
		p.add(RuleShapeOverflow, finding.High, ndOff, where, "", "the product of the dimensions overflows int64: unchecked readers wrap to a small size and read or write out of bounds")
	case zero:
		p.add(RuleEmptyTensor, finding.Low, ndOff, where, "", "a dimension is 0: the tensor holds no data (allowed, but unusual in a released model)")
	}
	tt, known := ggmlTypes[typ]
	if !known {
		ev := strconv.FormatUint(uint64(typ), 10)
		if old, removed := removedTypes[typ]; removed {
			p.add(RuleUnknownType, finding.High, typOff, where, ev, "ggml type %d (%s) was removed from ggml: current loaders refuse the tensor and its size is unknown", typ, old)
		} else {
			p.add(RuleUnknownType, finding.High, typOff, where, ev, "ggml type %d is not a ggml type: loaders that index their type table with it read out of bounds, and its size is unknown", typ)
		}
	}
	if p.alignOK && offset%p.align != 0 {
		p.add(RuleMisaligned, finding.High, offOff, where, strconv.FormatUint(offset, 10), "data offset %d is not a multiple of the %d-byte alignment: llama.cpp refuses the file", offset, p.align)
	}
	if !known || negative || (overflow && !zero) {
		p.partial = true
		return
	}
	if ne0%tt.block != 0 {
		p.add(RuleShape, finding.High, ndOff, where, strconv.FormatUint(ne0, 10), "rows of %d elements are not a multiple of %s's %d-element block: llama.cpp refuses the tensor", ne0, tt.name, tt.block)
		p.partial = true
		return
	}
	if zero {
		nelem = 0
	}
	hi, nbytes := bits.Mul64(nelem/tt.block, tt.size)
	if hi != 0 || nbytes > math.MaxInt64 {
		p.add(RuleShapeOverflow, finding.High, ndOff, where, "", "the tensor's byte size overflows int64: unchecked readers wrap to a small size and read or write out of bounds")
		p.partial = true
		return
	}
	if p.dtypes == nil {
		p.dtypes = map[string]bool{}
	}
	p.dtypes[tt.name] = true
	p.rep.Parameters = satAdd(p.rep.Parameters, nelem)
	if len(p.tensors) < p.lim.MaxTensors {
		p.tensors = append(p.tensors, tinfo{name: where, at: at, offset: offset, nbytes: nbytes})
	} else {
		p.partial = true
	}
}

func alignUp(x, a uint64) (uint64, bool) {
	r := x % a
	if r == 0 {
		return x, true
	}
	s, c := bits.Add64(x, a-r, 0)
	return s, c == 0
}

// layout checks where the tensors sit in the data section.
func (p *parser) layout() {
	infoEnd := uint64(p.pos)
	start, _ := alignUp(infoEnd, p.align) // infoEnd < 2^63 and align <= 2^32: no overflow
	p.rep.DataOffset = int64(min(start, math.MaxInt64))
	var dataSize uint64
	if start < uint64(p.size) {
		dataSize = uint64(p.size) - start
	}
	// Tensors must be stored in offset order (ggml requires offsets to be the
	// running sum of padded sizes, in the order of the infos).
	for i := 1; i < len(p.tensors); i++ {
		if p.tensors[i].offset < p.tensors[i-1].offset {
			p.add(RuleOrder, finding.Low, p.tensors[i].at, p.tensors[i].name, "", "tensor data is not in the order of the tensor infos: llama.cpp refuses the file, other readers accept it")
			break
		}
	}
	ts := p.tensors
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].offset < ts[j].offset })
	var covered, next uint64 // end of the bytes covered so far, and that end aligned
	owner := ""
	for _, t := range ts {
		end, carry := bits.Add64(t.offset, t.nbytes, 0)
		if carry != 0 || end > dataSize && p.sizeKnown {
			p.add(RuleOutOfBounds, finding.High, t.at, t.name, fmt.Sprintf("[%d,+%d)", t.offset, t.nbytes), "tensor data [%d, %d+%d) runs past the %d-byte data section: mmap-based loaders read outside the file", t.offset, t.offset, t.nbytes, dataSize)
		}
		switch {
		case t.nbytes > 0 && t.offset < covered:
			p.add(RuleOverlap, finding.High, t.at, t.name, owner, "tensor data at %d overlaps tensor %q, which ends at %d: readers disagree on the data and writes through one corrupt the other", t.offset, owner, covered)
		case t.offset > next && !p.partial:
			p.add(RuleGap, finding.Medium, satOff(start, next), t.name, fmt.Sprintf("[%d,%d)", next, t.offset), "%d bytes of the data section before this tensor belong to no tensor: hidden data no loader reads", t.offset-next)
		}
		if carry == 0 && end > covered {
			covered, owner = end, t.name
			if a, ok := alignUp(covered, p.align); ok {
				next = a
			} else {
				next = math.MaxUint64
			}
		}
	}
	if len(ts) == 0 {
		next = 0
	}
	if next < dataSize && !p.partial && p.sizeKnown {
		p.add(RuleTrailing, finding.Medium, satOff(start, next), "", "", "%d bytes after the last tensor belong to no tensor: appended data that loaders never read", dataSize-next)
	}
}

func satAdd(a int64, b uint64) int64 {
	if b > uint64(math.MaxInt64-a) {
		return math.MaxInt64
	}
	return a + int64(b)
}

func satOff(base, rel uint64) int64 {
	s, c := bits.Add64(base, rel, 0)
	if c != 0 || s > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(s)
}
