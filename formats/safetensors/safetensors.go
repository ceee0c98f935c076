// Package safetensors validates a safetensors file statically: the 8-byte
// header length, the JSON header (strict syntax, UTF-8, duplicate keys,
// every tensor entry's dtype, shape and data_offsets) and the layout of
// the byte buffer the header describes. It mirrors the checks of the
// safetensors crate (huggingface/safetensors, safetensors/src/tensor.rs)
// and adds the ones where readers can disagree, such as duplicate keys.
//
// Scan reads only the header through an io.ReaderAt; tensor bytes are
// never read. Memory is bounded by Limits: the header is streamed through
// encoding/json's tokenizer, tensor names are kept as 64-bit hashes for
// duplicate detection and shortened for messages.
package safetensors

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// Rule ids. They are part of the JSON and SARIF output and of policy files:
// never rename one.
const (
	RuleMalformed      = "safetensors/malformed"            // file too small or unreadable
	RuleHeaderTooLarge = "safetensors/header-too-large"     // declared header length above the cap
	RuleHeaderBounds   = "safetensors/header-out-of-bounds" // declared header length beyond the file
	RuleHeaderStart    = "safetensors/header-start"         // header does not begin with '{'
	RuleBadUTF8        = "safetensors/bad-utf8"             // header is not valid UTF-8 (or has lone surrogate escapes)
	RuleBadJSON        = "safetensors/bad-json"             // header is not valid JSON
	RuleNotObject      = "safetensors/not-object"           // header is JSON but not an object
	RuleTrailingJSON   = "safetensors/header-trailing"      // bytes after the JSON object inside the header
	RuleDuplicateKey   = "safetensors/duplicate-key"        // a key appears twice in one object
	RuleBadEntry       = "safetensors/bad-entry"            // a tensor entry lacks or mistypes dtype/shape/data_offsets
	RuleUnknownField   = "safetensors/unknown-field"        // a tensor entry has a field the format does not define
	RuleUnknownDtype   = "safetensors/unknown-dtype"        // dtype string the format does not define
	RuleShapeOverflow  = "safetensors/shape-overflow"       // element or bit count overflows 64 bits
	RuleSizeMismatch   = "safetensors/size-mismatch"        // data_offsets span differs from dtype × shape
	RuleOutOfBounds    = "safetensors/out-of-bounds"        // tensor data ends beyond the file
	RuleOverlap        = "safetensors/overlap"              // two tensors share bytes
	RuleGap            = "safetensors/gap"                  // buffer bytes no tensor covers
	RuleTrailingData   = "safetensors/trailing-data"        // bytes after the last tensor
	RuleBadMetadata    = "safetensors/bad-metadata"         // __metadata__ is not a string→string object
	RuleLimit          = "safetensors/limit-exceeded"       // a hallmark cap was reached: coverage is incomplete
)

// Rules documents every rule id the package reports.
var Rules = []finding.Doc{
	{ID: RuleMalformed, Short: "The file is too small or unreadable to be a safetensors file.",
		Help: "A safetensors file starts with an 8-byte little-endian header length. This file is shorter than that, or could not be read. It cannot be loaded, and a file that claims to be a model but cannot be parsed is treated as unscannable: find out where it came from before using it."},
	{ID: RuleHeaderTooLarge, Short: "The declared header length is larger than the safetensors library accepts.",
		Help: "The first 8 bytes give the JSON header's length. The safetensors library refuses headers above 100,000,000 bytes (MAX_HEADER_SIZE) so that a hostile length cannot make a loader allocate unbounded memory. A length above this cap is either a corrupt file or a denial-of-service attempt against parsers that trust it. hallmark reads nothing further. Do not load the file."},
	{ID: RuleHeaderBounds, Short: "The declared header length runs past the end of the file.",
		Help: "The 8-byte header length says the JSON header is longer than the bytes that follow it. The safetensors library refuses such a file (InvalidHeaderLength). Parsers that trust the length over-read or allocate what it says. The file is truncated or crafted. Do not load it."},
	{ID: RuleHeaderStart, Short: "The JSON header does not begin with '{'.",
		Help: "The format requires the header to start with '{' (0x7B). serde_json, which the safetensors library uses, skips leading whitespace, but stricter readers and content sniffers refuse such a file. That gap between readers is where a file can look like one thing to a scanner and another to a loader. Rewrite the file with the safetensors library."},
	{ID: RuleBadUTF8, Short: "The JSON header is not valid UTF-8, or it escapes a lone UTF-16 surrogate.",
		Help: "The header must be UTF-8. The safetensors library refuses invalid bytes and lone \\uD800-\\uDFFF escapes. Other JSON decoders (Go, some Python paths) silently replace them with U+FFFD instead. So two readers can see different tensor names or metadata in the same file. Treat the file as crafted."},
	{ID: RuleBadJSON, Short: "The JSON header is not valid JSON.",
		Help: "The header cannot be parsed as JSON, so the safetensors library refuses the file. A hand-written parser might still read part of it. The file is corrupt or crafted to confuse parsers. Do not load it."},
	{ID: RuleNotObject, Short: "The JSON header is not a JSON object.",
		Help: "The header must be one JSON object that maps tensor names to entries. Anything else (an array, a string, a number) is refused by the safetensors library. The file is corrupt or crafted."},
	{ID: RuleTrailingJSON, Short: "There are bytes after the JSON object inside the header.",
		Help: "The header may be padded with spaces after the JSON object, and nothing else. serde_json refuses any other trailing character (other whitespace is accepted, reported at low). Bytes after the object are hidden from JSON readers but counted in the header length, a place to smuggle data or a second document that a lenient reader might parse instead."},
	{ID: RuleDuplicateKey, Short: "A key appears twice in the same JSON object.",
		Help: "JSON parsers disagree on duplicate keys. Python's json and serde's maps keep the last value, others keep the first, and serde's struct fields reject the file. A duplicated tensor name or entry field lets a scanner validate one tensor while a loader uses another. The format forbids duplicates. Treat the file as crafted."},
	{ID: RuleBadEntry, Short: "A tensor entry is not exactly {dtype, shape, data_offsets} with the right types.",
		Help: "Every tensor entry must be an object with a dtype string, a shape array of non-negative integers and a data_offsets array of two non-negative integers with begin <= end. The safetensors library refuses anything else, so the file cannot be loaded as it stands, and its layout cannot be checked."},
	{ID: RuleUnknownField, Short: "A tensor entry has a field the format does not define.",
		Help: "The safetensors library ignores unknown fields in a tensor entry. So they load, but they carry data no tool shows. That is harmless in itself and worth knowing if you did not expect it."},
	{ID: RuleUnknownDtype, Short: "A tensor's dtype is not one the format defines.",
		Help: "The dtype must be one of the safetensors dtypes (BOOL, U8, I8, F8_*, F6_*, F4, I16, U16, F16, BF16, I32, U32, F32, F64, C64, I64, U64). The library refuses an unknown one, and the tensor's byte size cannot be checked."},
	{ID: RuleShapeOverflow, Short: "A tensor's element or byte count overflows 64 bits.",
		Help: "The product of the shape's dimensions, times the dtype's bit width, does not fit in 64 bits. The safetensors library refuses this (ValidationOverflow). A reader that multiplies without checking wraps around to a small size and then reads or writes outside the tensor's buffer. This is a classic heap-overflow trigger. Treat the file as hostile."},
	{ID: RuleSizeMismatch, Short: "A tensor's data_offsets span differs from the size its dtype and shape imply.",
		Help: "end - begin must equal the element count times the dtype's width in bytes (and sub-byte dtypes must fill whole bytes). The safetensors library refuses a mismatch. Readers that trust one or the other disagree on the tensor's bytes, or read past its buffer."},
	{ID: RuleOutOfBounds, Short: "A tensor's data ends beyond the end of the file.",
		Help: "data_offsets point past the byte buffer. The safetensors library refuses the file. A memory-mapping reader that does not check reads out of bounds. The file is truncated or crafted."},
	{ID: RuleOverlap, Short: "Two tensors share bytes of the buffer.",
		Help: "Each tensor must own its own span of the buffer. Overlapping spans are refused by the safetensors library. They let one write alias another tensor, and they make scanners and loaders disagree on what the data is. (A zero-size tensor that points inside another tensor is reported at low.)"},
	{ID: RuleGap, Short: "Part of the byte buffer is not covered by any tensor.",
		Help: "The buffer must be fully indexed with no holes, so that it cannot carry a second, hidden payload (a polyglot). The safetensors library refuses the file. The uncovered bytes are invisible to every tool that reads tensors. Find out what they hold."},
	{ID: RuleTrailingData, Short: "There are bytes after the last tensor.",
		Help: "The file continues past the end of the last tensor's data. The safetensors library refuses such a file (MetadataIncompleteBuffer). Appended bytes are invisible to tensor readers and are a common way to hide a second file (an archive, a pickle) inside a model."},
	{ID: RuleBadMetadata, Short: "__metadata__ is not an object of string values.",
		Help: "The format allows one free-form __metadata__ object whose values must all be strings. The safetensors library refuses anything else. Non-string values (objects, arrays, numbers) make readers disagree and can carry structured payloads to tools that consume the metadata."},
	{ID: RuleLimit, Short: "A hallmark limit was reached, so part of the header was not analysed.",
		Help: "The header holds more tensor entries than hallmark tracks (Limits.MaxTensors). Entries beyond the cap are still checked one by one, but not for layout (overlap, gaps) or duplicates. The report is incomplete. Raise the limit if the file is expected to be that large."},
}

// Limits are the caps of one scan. A zero field means its default.
type Limits struct {
	// MaxHeader is the largest header length accepted: 100,000,000 bytes, the
	// safetensors crate's MAX_HEADER_SIZE. Peak memory is bounded by a small
	// multiple of the longest single JSON token, so at most a few times this.
	MaxHeader int64
	// MaxTensors is how many tensor entries are tracked for the layout and
	// duplicate checks (1<<20).
	MaxTensors int
	// MaxMetadata is how many __metadata__ entries Report.Metadata keeps (64).
	MaxMetadata int
	// MaxValue is how many bytes of one metadata value are kept (1024).
	MaxValue int
}

// DefaultLimits returns the documented defaults.
func DefaultLimits() Limits {
	return Limits{MaxHeader: 100_000_000, MaxTensors: 1 << 20, MaxMetadata: 64, MaxValue: 1 << 10}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxHeader <= 0 {
		l.MaxHeader = d.MaxHeader
	}
	if l.MaxTensors <= 0 {
		l.MaxTensors = d.MaxTensors
	}
	if l.MaxMetadata <= 0 {
		l.MaxMetadata = d.MaxMetadata
	}
	if l.MaxValue <= 0 {
		l.MaxValue = d.MaxValue
	}
	return l
}

// Report is what Scan found out about one file.
type Report struct {
	Findings []finding.Finding
	// Complete is false when part of the file could not be analysed (it is
	// malformed, or a cap was reached); a finding then says why.
	Complete bool

	Tensors    int               // tensor entries in the header (every key but __metadata__)
	Parameters int64             // sum of the element counts of the entries with a well-formed shape (saturates)
	Dtypes     []string          // dtypes used, sorted, unique
	Metadata   map[string]string // __metadata__, at most Limits.MaxMetadata entries, values shortened
	HeaderSize int64             // the declared header length (saturates at MaxInt64)
}

// dtypeBits is every dtype of the safetensors crate with its width in bits.
var dtypeBits = map[string]uint64{
	"BOOL": 8, "U8": 8, "I8": 8,
	"F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
	"F6_E2M3": 6, "F6_E3M2": 6, "F4": 4,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32,
	"I64": 64, "U64": 64, "F64": 64, "C64": 64,
}

// nameKeep is how many bytes of a tensor name are kept for messages.
const nameKeep = 200

// entry is one tensor's span, kept for the layout checks.
type entry struct {
	begin, end uint64
	name       string // shortened
}

type scanner struct {
	lim      Limits
	size     int64
	hdrLen   int64
	list     finding.List
	complete bool
	seed     maphash.Seed

	tensors   []entry
	tracked   bool // false once MaxTensors is reached
	topKeys   map[uint64]struct{}
	dtypes    map[string]bool
	params    int64
	meta      map[string]string
	nTensors  int
	dec       *json.Decoder
	in        *checkReader
	fatalJSON bool
	depth     int
	tooDeep   bool
}

// Scan validates the safetensors file of the given size read through ra.
func Scan(ra io.ReaderAt, size int64, lim Limits) Report {
	s := &scanner{lim: lim.withDefaults(), size: size, complete: true, seed: maphash.MakeSeed(), tracked: true}
	s.run(ra)
	rep := Report{
		Findings:   s.list.Findings,
		Complete:   s.complete,
		Tensors:    s.nTensors,
		Parameters: s.params,
		Metadata:   s.meta,
		HeaderSize: s.hdrLen,
	}
	for d := range s.dtypes {
		rep.Dtypes = append(rep.Dtypes, d)
	}
	sort.Strings(rep.Dtypes)
	if rep.Findings == nil {
		rep.Findings = []finding.Finding{}
	}
	return rep
}

func (s *scanner) add(rule string, lvl finding.Level, off int64, where, evidence, format string, args ...any) {
	s.list.Add(finding.Finding{Rule: rule, Level: lvl, Offset: off, Where: printable(where),
		Message: fmt.Sprintf(format, args...), Evidence: printable(finding.Shorten(evidence, 200))})
}

// printable quotes text from the file that holds invalid UTF-8 or control
// characters, so that a report cannot be forged by what it quotes.
func printable(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return strconv.QuoteToASCII(s)
		}
	}
	if !utf8.ValidString(s) {
		return strconv.QuoteToASCII(s)
	}
	return s
}

// fail records a finding after which the file cannot be analysed further.
func (s *scanner) fail(rule string, off int64, where, evidence, format string, args ...any) {
	s.add(rule, finding.High, off, where, evidence, format, args...)
	s.complete = false
}

func (s *scanner) run(ra io.ReaderAt) {
	if s.size < 8 {
		s.fail(RuleMalformed, 0, "", "", "file is %d bytes, shorter than the 8-byte header length: not a loadable safetensors file", max(s.size, 0))
		return
	}
	var b [8]byte
	// A ReaderAt may return io.EOF with a full read at the end of the file.
	if got, err := ra.ReadAt(b[:], 0); got < len(b) {
		s.fail(RuleMalformed, 0, "", errText(err), "cannot read the 8-byte header length: file unscannable")
		return
	}
	n := binary.LittleEndian.Uint64(b[:])
	s.hdrLen = int64(min(n, math.MaxInt64))
	ev := strconv.FormatUint(n, 10)
	if n > uint64(s.lim.MaxHeader) {
		s.fail(RuleHeaderTooLarge, 0, "", ev, "header length %d exceeds the %d-byte cap the safetensors library enforces: parsers that trust it allocate without bound", n, s.lim.MaxHeader)
		return
	}
	if n > uint64(s.size-8) {
		s.fail(RuleHeaderBounds, 0, "", ev, "header length %d runs past the end of the file (%d bytes follow it): truncated or crafted", n, s.size-8)
		return
	}
	if n == 0 {
		s.fail(RuleBadJSON, 8, "", "", "header is empty: the safetensors library refuses the file")
		return
	}
	var first [1]byte
	if got, err := ra.ReadAt(first[:], 8); got < 1 {
		s.fail(RuleMalformed, 8, "", errText(err), "cannot read the header: file unscannable")
		return
	}
	if isSpace(first[0]) {
		s.add(RuleHeaderStart, finding.Low, 8, "", "", "header starts with whitespace, not '{': the format requires '{' and strict readers refuse the file")
	}

	s.in = &checkReader{r: bufio.NewReaderSize(io.NewSectionReader(ra, 8, int64(n)), 64<<10), badUTF8: -1, badSurrogate: -1}
	s.dec = json.NewDecoder(s.in)
	s.dec.UseNumber()
	s.parseHeader()
	if !s.fatalJSON {
		s.checkTrailing()
	}
	if s.in.badUTF8 >= 0 {
		s.add(RuleBadUTF8, finding.High, 8+s.in.badUTF8, "", "", "header is not valid UTF-8: the safetensors library refuses it while lenient readers substitute U+FFFD, so readers disagree on names")
	}
	if s.in.badSurrogate >= 0 {
		s.add(RuleBadUTF8, finding.High, 8+s.in.badSurrogate, "", "", "header escapes a lone UTF-16 surrogate: serde_json refuses it while Go and others substitute U+FFFD, so readers disagree on names")
	}
	if s.fatalJSON {
		s.complete = false
		return
	}
	s.checkLayout()
}

// jsonErr records a JSON syntax or I/O error; nothing after it is analysed.
func (s *scanner) jsonErr(err error) {
	if s.fatalJSON {
		return
	}
	s.fatalJSON = true
	off := 8 + s.dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = 8 + se.Offset
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		s.fail(RuleBadJSON, off, "", "", "header ends before its JSON object does: the safetensors library refuses the file")
		return
	}
	if s.in.ioErr != nil {
		s.fail(RuleMalformed, off, "", s.in.ioErr.Error(), "cannot read the header: file unscannable")
		return
	}
	s.fail(RuleBadJSON, off, "", err.Error(), "header is not valid JSON: the safetensors library refuses the file")
}

// token returns the next JSON token, or false after recording an error.
func (s *scanner) token() (json.Token, bool) {
	if s.fatalJSON {
		return nil, false
	}
	t, err := s.dec.Token()
	if err != nil {
		s.jsonErr(err)
		return nil, false
	}
	if d, ok := t.(json.Delim); ok {
		switch d {
		case '{', '[':
			s.depth++
			if s.depth > serdeDepth && !s.tooDeep {
				s.tooDeep = true
				s.add(RuleBadJSON, finding.High, s.off(), "", "", "header nests deeper than %d levels: serde_json refuses it (recursion limit), other readers may not", serdeDepth)
			}
		default:
			s.depth--
		}
	}
	return t, true
}

// serdeDepth is the deepest nesting serde_json accepts: its recursion
// limit of 128 fails on reaching the 128th level.
const serdeDepth = 127

func (s *scanner) off() int64 { return 8 + s.dec.InputOffset() }

func (s *scanner) parseHeader() {
	t, ok := s.token()
	if !ok {
		return
	}
	if d, isDelim := t.(json.Delim); !isDelim || d != '{' {
		s.fail(RuleNotObject, 8, "", tokenText(t), "header is JSON but not an object (%s): the safetensors library refuses the file", kind(t))
		s.fatalJSON = true
		return
	}
	s.topKeys = map[uint64]struct{}{}
	for !s.fatalJSON && s.dec.More() {
		keyOff := s.off()
		kt, ok := s.token()
		if !ok {
			return
		}
		key, _ := kt.(string)
		h := maphash.String(s.seed, key)
		if _, dup := s.topKeys[h]; dup {
			s.add(RuleDuplicateKey, finding.High, keyOff, finding.Shorten(key, nameKeep), key, "header key %q appears twice: JSON readers disagree on which entry wins", finding.Shorten(key, 80))
		} else if s.tracked || key == "__metadata__" {
			s.topKeys[h] = struct{}{}
		}
		if key == "__metadata__" {
			s.parseMetadata(keyOff)
		} else {
			s.nTensors++
			s.parseTensor(key, keyOff)
		}
	}
	s.token() // the closing '}'
}

func (s *scanner) parseMetadata(keyOff int64) {
	t, ok := s.token()
	if !ok {
		return
	}
	if t == nil { // null: serde reads it as no metadata
		return
	}
	if d, isDelim := t.(json.Delim); !isDelim || d != '{' {
		s.add(RuleBadMetadata, finding.High, keyOff, "__metadata__", tokenText(t), "__metadata__ is %s, not an object of strings: the safetensors library refuses the file", kind(t))
		s.skipRest(t)
		return
	}
	if s.meta == nil {
		s.meta = map[string]string{}
	}
	seen := map[uint64]struct{}{}
	for !s.fatalJSON && s.dec.More() {
		kOff := s.off()
		kt, ok := s.token()
		if !ok {
			return
		}
		k, _ := kt.(string)
		h := maphash.String(s.seed, k)
		if _, dup := seen[h]; dup {
			s.add(RuleDuplicateKey, finding.High, kOff, "__metadata__."+finding.Shorten(k, 80), k, "metadata key %q appears twice: JSON readers disagree on which value wins", finding.Shorten(k, 80))
		}
		if len(seen) < s.lim.MaxTensors {
			seen[h] = struct{}{}
		}
		vt, ok := s.token()
		if !ok {
			return
		}
		v, isStr := vt.(string)
		if !isStr {
			s.add(RuleBadMetadata, finding.High, kOff, "__metadata__."+finding.Shorten(k, 80), tokenText(vt), "metadata value of %q is %s, not a string: the safetensors library refuses the file", finding.Shorten(k, 80), kind(vt))
			s.skipRest(vt)
			continue
		}
		if len(s.meta) < s.lim.MaxMetadata {
			s.meta[k] = finding.Shorten(v, s.lim.MaxValue)
		}
	}
	s.token()
}

func (s *scanner) parseTensor(name string, keyOff int64) {
	where := finding.Shorten(name, nameKeep)
	t, ok := s.token()
	if !ok {
		return
	}
	if d, isDelim := t.(json.Delim); !isDelim || d != '{' {
		s.add(RuleBadEntry, finding.High, keyOff, where, tokenText(t), "tensor entry is %s, not an object: the safetensors library refuses the file", kind(t))
		s.skipRest(t)
		return
	}
	var (
		dtype                  string
		bitsPer                uint64
		haveDtype, dtypeOK     bool
		haveShape, shapeOK     bool
		haveOffsets, offsetsOK bool
		elems                  uint64
		overflow               bool
		begin, end             uint64
		seenDtype, seenShape   bool
	)
	bad := func(format string, args ...any) {
		s.add(RuleBadEntry, finding.High, keyOff, where, "", format, args...)
	}
	for !s.fatalJSON && s.dec.More() {
		fOff := s.off()
		kt, ok := s.token()
		if !ok {
			return
		}
		field, _ := kt.(string)
		switch field {
		case "dtype":
			if seenDtype {
				s.add(RuleDuplicateKey, finding.High, fOff, where, field, "field %q appears twice in one tensor entry: serde refuses it and lenient readers pick either value", field)
			}
			seenDtype = true
			haveDtype = true
			vt, ok := s.token()
			if !ok {
				return
			}
			str, isStr := vt.(string)
			if !isStr {
				bad("dtype is %s, not a string: the safetensors library refuses the file", kind(vt))
				s.skipRest(vt)
				dtypeOK = false
				continue
			}
			b, known := dtypeBits[str]
			if !known {
				s.add(RuleUnknownDtype, finding.High, fOff, where, str, "dtype %q is not a safetensors dtype: the library refuses the file and the tensor's size cannot be checked", finding.Shorten(str, 40))
				dtypeOK = false
				continue
			}
			dtype, bitsPer, dtypeOK = str, b, true
		case "shape":
			if seenShape {
				s.add(RuleDuplicateKey, finding.High, fOff, where, field, "field %q appears twice in one tensor entry: serde refuses it and lenient readers pick either value", field)
			}
			seenShape = true
			haveShape = true
			var okShape bool
			elems, overflow, okShape = s.parseShape(where, fOff)
			if s.fatalJSON {
				return
			}
			shapeOK = okShape
		case "data_offsets":
			if haveOffsets {
				s.add(RuleDuplicateKey, finding.High, fOff, where, field, "field %q appears twice in one tensor entry: serde refuses it and lenient readers pick either value", field)
			}
			haveOffsets = true
			var okOff bool
			begin, end, okOff = s.parseOffsets(where, fOff)
			if s.fatalJSON {
				return
			}
			offsetsOK = okOff
		default:
			s.add(RuleUnknownField, finding.Low, fOff, where, field, "tensor entry has field %q, which the format does not define: loaders ignore it, so it carries data no tool shows", finding.Shorten(field, 80))
			vt, ok := s.token()
			if !ok {
				return
			}
			s.skipRest(vt)
		}
	}
	if _, ok := s.token(); !ok { // '}'
		return
	}
	var missing []string
	if !haveDtype {
		missing = append(missing, "dtype")
	}
	if !haveShape {
		missing = append(missing, "shape")
	}
	if !haveOffsets {
		missing = append(missing, "data_offsets")
	}
	if len(missing) > 0 {
		bad("tensor entry lacks %v: the safetensors library refuses the file", missing)
	}
	if dtypeOK {
		if s.dtypes == nil {
			s.dtypes = map[string]bool{}
		}
		s.dtypes[dtype] = true
	}
	if shapeOK && !overflow {
		s.params = satAdd(s.params, elems)
	}
	if shapeOK && overflow {
		s.add(RuleShapeOverflow, finding.High, keyOff, where, "", "the product of the shape overflows 64 bits: unchecked readers wrap to a small size and read or write out of bounds")
	}
	if !offsetsOK {
		return
	}
	if shapeOK && dtypeOK && !overflow {
		hi, nbits := bits.Mul64(elems, bitsPer)
		switch {
		case hi != 0:
			s.add(RuleShapeOverflow, finding.High, keyOff, where, "", "%d elements × %d bits overflows 64 bits: unchecked readers wrap to a small size and read or write out of bounds", elems, bitsPer)
		case nbits%8 != 0:
			s.add(RuleSizeMismatch, finding.High, keyOff, where, "", "%d elements of %s fill %d bits, not whole bytes: the safetensors library refuses the file", elems, dtype, nbits)
		case nbits/8 != end-begin:
			s.add(RuleSizeMismatch, finding.High, keyOff, where, fmt.Sprintf("[%d,%d]", begin, end), "data_offsets span %d bytes but %d × %s needs %d: readers disagree on the tensor's bytes", end-begin, elems, dtype, nbits/8)
		}
	}
	if !s.tracked {
		return
	}
	if len(s.tensors) >= s.lim.MaxTensors {
		s.tracked = false
		s.complete = false
		s.add(RuleLimit, finding.Medium, keyOff, where, "", "more than %d tensors: later ones are not checked for overlap, gaps or duplicate names (raise Limits.MaxTensors)", s.lim.MaxTensors)
		return
	}
	s.tensors = append(s.tensors, entry{begin: begin, end: end, name: where})
}

// parseShape reads a shape array: element count, whether it overflowed, and
// whether the shape was well-formed.
func (s *scanner) parseShape(where string, off int64) (uint64, bool, bool) {
	t, ok := s.token()
	if !ok {
		return 0, false, false
	}
	if d, isDelim := t.(json.Delim); !isDelim || d != '[' {
		s.add(RuleBadEntry, finding.High, off, where, tokenText(t), "shape is %s, not an array of integers: the safetensors library refuses the file", kind(t))
		s.skipRest(t)
		return 0, false, false
	}
	elems, overflow, good := uint64(1), false, true
	for !s.fatalJSON && s.dec.More() {
		vt, ok := s.token()
		if !ok {
			return 0, false, false
		}
		v, isNum := parseUint(vt)
		if !isNum {
			if good {
				s.add(RuleBadEntry, finding.High, off, where, tokenText(vt), "shape holds %s, not a non-negative integer: the safetensors library refuses the file", kind(vt))
			}
			good = false
			s.skipRest(vt)
			continue
		}
		hi, lo := bits.Mul64(elems, v)
		if hi != 0 {
			overflow = true
		}
		elems = lo
	}
	if _, ok := s.token(); !ok {
		return 0, false, false
	}
	if overflow {
		// A later zero dimension does not undo an overflow in readers that
		// multiply left to right, so it stays reported.
		elems = math.MaxUint64
	}
	return elems, overflow, good
}

func (s *scanner) parseOffsets(where string, off int64) (uint64, uint64, bool) {
	t, ok := s.token()
	if !ok {
		return 0, 0, false
	}
	if d, isDelim := t.(json.Delim); !isDelim || d != '[' {
		s.add(RuleBadEntry, finding.High, off, where, tokenText(t), "data_offsets is %s, not [begin, end]: the safetensors library refuses the file", kind(t))
		s.skipRest(t)
		return 0, 0, false
	}
	var vals [2]uint64
	n, good := 0, true
	for !s.fatalJSON && s.dec.More() {
		vt, ok := s.token()
		if !ok {
			return 0, 0, false
		}
		v, isNum := parseUint(vt)
		if !isNum {
			good = false
			s.skipRest(vt)
		} else if n < 2 {
			vals[n] = v
		}
		n++
	}
	if _, ok := s.token(); !ok {
		return 0, 0, false
	}
	if !good || n != 2 {
		s.add(RuleBadEntry, finding.High, off, where, "", "data_offsets is not two non-negative integers [begin, end]: the safetensors library refuses the file")
		return 0, 0, false
	}
	if vals[0] > vals[1] {
		s.add(RuleBadEntry, finding.High, off, where, fmt.Sprintf("[%d,%d]", vals[0], vals[1]), "data_offsets begin %d is after end %d: the safetensors library refuses the file", vals[0], vals[1])
		return 0, 0, false
	}
	return vals[0], vals[1], true
}

// skipRest skips the remainder of a value whose first token is t, without
// recursion, still reporting duplicate keys in the objects it passes over.
func (s *scanner) skipRest(t json.Token) {
	d, isDelim := t.(json.Delim)
	if !isDelim || (d != '{' && d != '[') {
		return
	}
	type frame struct {
		obj       bool
		expectKey bool
		keys      map[uint64]struct{}
	}
	stack := []frame{{obj: d == '{', expectKey: d == '{'}}
	for len(stack) > 0 {
		off := s.off()
		t, ok := s.token()
		if !ok {
			return
		}
		top := &stack[len(stack)-1]
		if d, isDelim := t.(json.Delim); isDelim {
			if d == '}' || d == ']' {
				stack = stack[:len(stack)-1]
				continue
			}
			if top.obj {
				top.expectKey = true // after this value, a key
			}
			stack = append(stack, frame{obj: d == '{', expectKey: d == '{'})
			continue
		}
		if !top.obj {
			continue
		}
		if !top.expectKey {
			top.expectKey = true
			continue
		}
		top.expectKey = false
		key, _ := t.(string)
		if top.keys == nil {
			top.keys = map[uint64]struct{}{}
		}
		h := maphash.String(s.seed, key)
		if _, dup := top.keys[h]; dup {
			s.add(RuleDuplicateKey, finding.High, off, "", key, "key %q appears twice in one object: JSON readers disagree on which value wins", finding.Shorten(key, 80))
		} else if len(top.keys) < s.lim.MaxTensors {
			top.keys[h] = struct{}{}
		}
	}
}

// checkTrailing reads what follows the JSON object inside the header.
func (s *scanner) checkTrailing() {
	rest := io.MultiReader(s.dec.Buffered(), s.in)
	off := s.off()
	var buf [4096]byte
	reportedWS := false
	for {
		n, err := rest.Read(buf[:])
		for i := 0; i < n; i++ {
			c := buf[i]
			switch {
			case c == ' ':
			case isSpace(c):
				if !reportedWS {
					reportedWS = true
					s.add(RuleTrailingJSON, finding.Low, off+int64(i), "", "", "header is padded with whitespace other than spaces: accepted by serde_json but not by the format's rule")
				}
			default:
				s.add(RuleTrailingJSON, finding.High, off+int64(i), "", string(buf[i:n]), "header has bytes after its JSON object: serde_json refuses them, and a lenient reader may parse a different document")
				return
			}
		}
		off += int64(n)
		if err != nil {
			if err != io.EOF {
				s.add(RuleMalformed, finding.High, off, "", err.Error(), "cannot read the header: file unscannable")
				s.complete = false
			}
			return
		}
	}
}

func (s *scanner) checkLayout() {
	bufLen := uint64(s.size - 8 - s.hdrLen)
	dataStart := 8 + s.hdrLen
	ts := s.tensors
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].begin != ts[j].begin {
			return ts[i].begin < ts[j].begin
		}
		return ts[i].end < ts[j].end
	})
	var pos uint64 // end of the bytes covered so far
	owner := ""
	for _, e := range ts {
		at := satOff(dataStart, e.begin)
		if e.end > bufLen {
			s.add(RuleOutOfBounds, finding.High, at, e.name, fmt.Sprintf("[%d,%d]", e.begin, e.end), "tensor data ends at buffer offset %d, past the %d-byte buffer: the file is truncated or crafted", e.end, bufLen)
		}
		switch {
		case e.begin > pos:
			s.add(RuleGap, finding.Medium, satOff(dataStart, pos), e.name, fmt.Sprintf("[%d,%d)", pos, e.begin), "%d buffer bytes before this tensor belong to no tensor: hidden data no loader reads", e.begin-pos)
		case e.begin < pos && e.begin == e.end:
			s.add(RuleOverlap, finding.Low, at, e.name, owner, "zero-size tensor points inside tensor %q: harmless, but the safetensors library refuses the file", owner)
		case e.begin < pos:
			s.add(RuleOverlap, finding.High, at, e.name, owner, "tensor bytes [%d,%d) overlap tensor %q, which ends at %d: readers disagree on the data", e.begin, e.end, owner, pos)
		}
		if e.end > pos {
			pos, owner = e.end, e.name
		}
	}
	if pos < bufLen {
		s.add(RuleTrailingData, finding.Medium, satOff(dataStart, pos), "", "", "%d bytes after the last tensor belong to no tensor: appended data that loaders never read", bufLen-pos)
	}
}

// checkReader passes bytes through while checking that they are UTF-8 and
// that \u escapes pair their surrogates; both are checked on the raw bytes
// because encoding/json silently replaces offenders with U+FFFD.
type checkReader struct {
	r       io.Reader
	off     int64
	carry   [4]byte // an incomplete UTF-8 sequence from the previous read
	ncarry  int
	badUTF8 int64 // -1 until an invalid byte is found
	ioErr   error

	badSurrogate int64
	// escape scanner state
	st      uint8
	hex     int
	code    rune
	pending bool // a high surrogate awaits its low half
}

const (
	stOut = iota
	stStr
	stEsc
	stHex
)

func (c *checkReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		c.ioErr = err
	}
	c.checkUTF8(p[:n], err == io.EOF)
	c.scanEscapes(p[:n])
	c.off += int64(n)
	return n, err
}

func (c *checkReader) checkUTF8(b []byte, eof bool) {
	if c.badUTF8 >= 0 {
		return
	}
	i := 0
	if c.ncarry > 0 {
		// Complete the carried sequence with bytes from b.
		var tmp [4]byte
		k := copy(tmp[:], c.carry[:c.ncarry])
		for k < 4 && i < len(b) && !utf8.FullRune(tmp[:k]) {
			tmp[k] = b[i]
			k++
			i++
		}
		if !utf8.FullRune(tmp[:k]) {
			if eof {
				c.badUTF8 = c.off - int64(c.ncarry)
			} else {
				c.ncarry = copy(c.carry[:], tmp[:k])
			}
			return
		}
		if r, _ := utf8.DecodeRune(tmp[:k]); r == utf8.RuneError {
			c.badUTF8 = c.off - int64(c.ncarry)
			return
		}
		c.ncarry = 0
	}
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		if !utf8.FullRune(b[i:]) {
			if eof {
				c.badUTF8 = c.off + int64(i)
			} else {
				c.ncarry = copy(c.carry[:], b[i:])
			}
			return
		}
		r, sz := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && sz <= 1 {
			c.badUTF8 = c.off + int64(i)
			return
		}
		i += sz
	}
	if eof && c.ncarry > 0 {
		c.badUTF8 = c.off
	}
}

// scanEscapes follows JSON strings and their \uXXXX escapes to find lone
// surrogates. It assumes well-formed JSON; on malformed input the JSON
// error is reported anyway.
func (c *checkReader) scanEscapes(b []byte) {
	for i, ch := range b {
		switch c.st {
		case stOut:
			if ch == '"' {
				c.st = stStr
			}
		case stStr:
			switch ch {
			case '\\':
				c.st = stEsc
			case '"':
				c.lone(i)
				c.st = stOut
			default:
				c.lone(i)
			}
		case stEsc:
			if ch == 'u' {
				c.st, c.hex, c.code = stHex, 0, 0
			} else {
				c.lone(i)
				c.st = stStr
			}
		case stHex:
			c.code = c.code<<4 | rune(hexVal(ch))
			c.hex++
			if c.hex == 4 {
				c.st = stStr
				switch {
				case c.code >= 0xD800 && c.code < 0xDC00:
					c.lone(i)
					c.pending = true
				case c.code >= 0xDC00 && c.code < 0xE000:
					if !c.pending {
						c.mark(i)
					}
					c.pending = false
				default:
					c.lone(i)
				}
			}
		}
	}
}

// lone is called on any string content that is not a low-surrogate escape:
// a pending high surrogate is then unpaired.
func (c *checkReader) lone(i int) {
	if c.pending {
		c.pending = false
		c.mark(i)
	}
}

func (c *checkReader) mark(i int) {
	if c.badSurrogate < 0 {
		c.badSurrogate = c.off + int64(i)
	}
}

func hexVal(ch byte) int {
	switch {
	case ch >= '0' && ch <= '9':
		return int(ch - '0')
	case ch >= 'a' && ch <= 'f':
		return int(ch-'a') + 10
	case ch >= 'A' && ch <= 'F':
		return int(ch-'A') + 10
	}
	return 0
}

func errText(err error) string {
	if err == nil {
		return "short read"
	}
	return err.Error()
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// parseUint accepts a JSON number token that serde would read as a usize:
// plain decimal digits, no sign, fraction or exponent, fitting 64 bits.
func parseUint(t json.Token) (uint64, bool) {
	n, ok := t.(json.Number)
	if !ok {
		return 0, false
	}
	s := string(n)
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

func kind(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "the number " + finding.Shorten(string(v), 40)
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "an unexpected value"
}

func tokenText(t json.Token) string {
	switch v := t.(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	case json.Delim:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return "null"
}

func satAdd(a int64, b uint64) int64 {
	if b > uint64(math.MaxInt64-a) {
		return math.MaxInt64
	}
	return a + int64(b)
}

func satOff(base int64, rel uint64) int64 {
	if rel > uint64(math.MaxInt64-base) {
		return math.MaxInt64
	}
	return base + int64(rel)
}
