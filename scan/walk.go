package scan

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/onnx"
	"github.com/hallmarkdev/hallmark/internal/limits"
	"github.com/hallmarkdev/hallmark/internal/tzip"
)

// walker scans one file and every member inside it, recursively.
type walker struct {
	e        *Engine
	ctx      context.Context
	res      *FileResult
	lim      limits.Limits
	members  int   // members opened across all containers of the file
	inflated int64 // bytes decompressed across the file
	globals  map[string]bool
	facts    Facts
	warned   map[string]bool
	partial  bool // something inside the file could not be scanned
	perRule  map[string]int
	summary  map[string]int // index of each rule's summary finding
	// kerasDone: members whose Keras config was analysed already.
	kerasDone map[string]bool
}

// input is one byte stream to scan: the file itself or a member.
type input struct {
	member string      // path inside the file ("" for the file); nested levels joined with "!"
	name   string      // the name the bytes go by (file or member name), for extension checks
	r      io.Reader   // the bytes, from the start
	ra     io.ReaderAt // the same bytes with random access, or nil
	size   int64       // -1 when unknown
	base   int64       // offset of r's first byte in the file or member, for reported offsets
	depth  int
	tensor bool // raw tensor storage (PyTorch data/<key>): only a working pickle there matters
}

// join names a member inside in.
func (in input) join(name string) string {
	if in.member == "" {
		return name
	}
	return in.member + "!" + name
}

func (w *walker) add(in input, f Finding) {
	f.Member = in.member
	if f.Count == 0 {
		f.Count = 1
	}
	if incomplete[f.Rule] {
		w.partial = true
	}
	// A bomb or a forged archive repeats one finding per member: keep the
	// first few of each rule and count the rest in one summary finding.
	w.perRule[f.Rule]++
	if n := w.perRule[f.Rule]; n > maxPerRule {
		if n == maxPerRule+1 {
			w.summary[f.Rule] = len(w.res.Findings)
			w.res.add(Finding{Rule: f.Rule, Severity: f.Severity, Offset: -1, Message: "more findings of this rule in this file (count)", Count: 0})
		}
		s := &w.res.Findings[w.summary[f.Rule]]
		s.Count++
		s.Severity = max(s.Severity, f.Severity)
		return
	}
	w.res.add(f)
}

const maxPerRule = 16

// incomplete rules mean some bytes of the file were not scanned.
var incomplete = map[string]bool{
	RuleContainerMalformed: true, RuleDepth: true, RuleLimit: true, RuleBomb: true,
	RuleNumpyMalformed: true, "pickle/malformed": true, "pickle/limit-exceeded": true,
	"zip/unsupported-method": true, "zip/too-many-entries": true, "zip/bomb": true, "zip/truncated": true,
}

// once records a finding only the first time key is seen in this file.
func (w *walker) once(key string, in input, f Finding) {
	if w.warned[key] {
		return
	}
	w.warned[key] = true
	w.add(in, f)
}

var errBudget = errors.New("decompressed-bytes budget for this file exhausted")

// scan decides the format of in and runs its scanner. It returns the format.
func (w *walker) scan(in input) string {
	if w.ctx.Err() != nil {
		return FormatUnknown
	}
	var head []byte
	if in.ra != nil && in.size >= 0 {
		head = make([]byte, min(int64(w.lim.SniffBytes), in.size))
		n, err := in.ra.ReadAt(head, 0)
		if err != nil && err != io.EOF {
			w.add(in, Finding{Rule: RuleContainerMalformed, Severity: High, Offset: 0, Message: fmt.Sprintf("cannot read: %v", err)})
			return FormatUnknown
		}
		head = head[:n]
	} else {
		br := bufio.NewReaderSize(in.r, w.lim.SniffBytes)
		head, _ = br.Peek(w.lim.SniffBytes)
		in.r = br
		if len(head) < w.lim.SniffBytes && in.size < 0 {
			in.size = int64(len(head))
		}
	}
	size := in.size
	if size < 0 {
		size = 1 << 62
	}
	format, magic := Sniff(head, size)
	if format == FormatUnknown {
		if tf := textFormat(in.name); tf != "" {
			format = tf
		} else if in.ra != nil && in.size > 0 && onnx.LooksWhole(in.ra, in.size) {
			// An ONNX model whose first field is not ir_version: protobuf
			// readers accept any field order and unknown fields.
			format = FormatONNX
		} else if pf := parserHint(in.name); pf != "" {
			// Named like a format whose parser can judge it: a damaged or
			// forged file gets that parser's precise findings, never "not
			// scanned".
			format = pf
		} else if in.member == "" && strings.EqualFold(path.Base(in.name), "README.md") {
			w.modelCard(in)
		}
		if format == FormatUnknown {
			// Native code or compiled Python in no model format: policies
			// that allow only some formats must not wave it through as a
			// document.
			setIf(&w.facts.Executable, executableKind(head))
		}
	}
	if in.member != "" || in.depth > 0 {
		w.facts.Members++
		if format != FormatUnknown && len(w.facts.Contains) < maxFactList {
			// What loaders meet inside: the policy's formats judge it.
			w.facts.Contains = union(w.facts.Contains, []string{format})
		}
	}
	if magic != "" {
		w.add(in, Finding{Rule: RulePolyglot, Severity: Medium, Offset: 0, Message: fmt.Sprintf("starts like %s but is also a valid pickle: a loader that sniffs content runs the pickle", magic)})
	}
	if kind, ok := extensionMismatch(in.name, format); ok {
		w.add(in, Finding{Rule: RuleExtensionMismatch, Severity: Medium, Offset: 0, Message: fmt.Sprintf("named like %s but its content is a %s", kind, format)})
	}
	if containers[format] && format != FormatNumpy && in.depth >= w.lim.MaxDepth {
		w.add(in, Finding{Rule: RuleDepth, Severity: High, Offset: 0, Message: fmt.Sprintf("%s nested %d levels deep: not opened (limit %d); its content is not known to be clean", format, in.depth, w.lim.MaxDepth)})
		return format
	}
	if format == FormatPickle && (containers[magic] || parsed[magic]) && in.ra != nil && in.size >= 0 {
		// A polyglot: loaders that trust the magic read the container;
		// the unpickler runs the pickle. Scan both.
		w.pickle(in)
		w.view(in, magic)
	} else {
		w.dispatch(in, format)
	}
	w.alternates(in, format, magic, head)
	return format
}

// view scans the bytes of in once more as format.
func (w *walker) view(in input, format string) {
	alt := in
	alt.r = io.NewSectionReader(in.ra, 0, in.size)
	w.dispatch(alt, format)
}

// alternates scans the other ways loaders read the same bytes: the format
// the name promises (onnx.load and TensorFlow read protobuf fields after a
// prefix that sniffs as JSON or a pickle), an HDF5 file after a user block
// (HDF5 looks for its signature at 0, 512, 1024…, whatever the block
// holds), and a zip found from its end (Python's zipfile, which Keras
// uses, accepts any prefix).
func (w *walker) alternates(in input, format, magic string, head []byte) {
	if in.ra == nil || in.size < 0 || in.tensor || in.depth >= w.lim.MaxDepth || w.ctx.Err() != nil {
		return // raw tensor storage is read as bytes by its loader, nothing else
	}
	done := map[string]bool{format: true, magic: true}
	if hint := parserHint(in.name); hint != "" && !done[hint] {
		done[hint] = true
		w.add(in, Finding{Rule: RulePolyglot, Severity: Medium, Offset: 0, Message: fmt.Sprintf("named like %s but its content starts like %s: loaders that go by the name parse it as %s; it was scanned both ways", hint, format, hint)})
		w.view(in, hint)
	}
	if !done[FormatONNX] && (format == FormatPickle || format == FormatJSON) && onnx.LooksWhole(in.ra, in.size) {
		done[FormatONNX] = true
		w.add(in, Finding{Rule: RulePolyglot, Severity: Medium, Offset: 0, Message: fmt.Sprintf("starts like %s but the whole file is also an ONNX model (protobuf keeps unknown leading fields): onnx.load and onnxruntime read the model; it was scanned both ways", format)})
		w.view(in, FormatONNX)
	}
	if !done[FormatHDF5] {
		if off := hdf5Offset(in.ra, in.size, head); off > 0 {
			done[FormatHDF5] = true
			w.add(in, Finding{Rule: RulePolyglot, Severity: Medium, Offset: off, Message: fmt.Sprintf("also an HDF5 file whose superblock sits at %d after a user block that holds the %s: h5py and Keras read the HDF5 file; it was scanned both ways", off, format)})
			w.view(in, FormatHDF5)
		}
	}
	if !done[FormatZip] && format != FormatPickle && in.size > 22 && hasEOCD(in.ra, in.size) {
		if a, err := tzip.Open(in.ra, in.size, w.zipLimits()); err == nil && len(a.Entries) > 0 {
			w.add(in, Finding{Rule: RulePolyglot, Severity: Medium, Offset: -1, Message: fmt.Sprintf("a %s that is also a zip archive (its directory is at the end): Python's zipfile, and Keras with it, reads the members; they were scanned", format)})
			w.zipMembers(in, a)
		}
	}
}

// hdf5Offset finds an HDF5 signature after a user block (512, 1024, …),
// in the sniffed head or, beyond it, by reading 8 bytes at each power of
// two. 0 means none.
func hdf5Offset(ra io.ReaderAt, size int64, head []byte) int64 {
	const sig = "\x89HDF\r\n\x1a\n"
	var b [8]byte
	for off := int64(512); off+8 <= size; off *= 2 {
		var got []byte
		if off+8 <= int64(len(head)) {
			got = head[off : off+8]
		} else if n, _ := ra.ReadAt(b[:], off); n == 8 {
			got = b[:]
		}
		if string(got) == sig {
			return off
		}
	}
	return 0
}

// dispatch runs the scanner of format over in.
func (w *walker) dispatch(in input, format string) {
	if in.member == "" && format != FormatUnknown && (containers[format] || parsed[format]) {
		w.res.Scanned = true
	}
	switch format {
	case FormatPickle:
		w.pickle(in)
	case FormatZip:
		w.zip(in)
	case FormatTar:
		w.tar(in)
	case Format7z:
		w.sevenZip(in)
	case FormatNumpy:
		w.numpy(in)
	case FormatGzip, FormatBzip2, FormatXz, FormatZstd, FormatLz4, FormatZlib, FormatLzma:
		w.decompress(in, format)
	case FormatSafetensors:
		w.safetensors(in)
	case FormatGGUF:
		w.gguf(in)
	case FormatHDF5:
		w.hdf5(in)
	case FormatONNX:
		w.onnx(in)
	case FormatTF:
		w.tensorflow(in, tfKindByName(in.name))
	case FormatJSON:
		w.json(in)
	case FormatPython:
		w.python(in)
	case FormatJinja:
		w.jinjaFile(in)
	default:
		if hint := hintedFormat(in.name); in.member == "" && hint != "" {
			sev := High
			if hint == FormatTF {
				sev = Medium
			}
			w.add(in, Finding{Rule: RuleUnrecognised, Severity: sev, Offset: 0, Message: "named like " + hint + " but its content is not " + hint + " nor any format hallmark parses: a loader would refuse or misread it, and it is not known to be clean"})
			return
		}
		if in.member == "" {
			what := "no model format hallmark parses"
			if format != FormatUnknown {
				what = format + ", a format this build does not parse yet"
			}
			w.add(in, Finding{Rule: RuleNotScanned, Severity: Info, Offset: -1, Message: "not scanned: " + what + " (its bytes still count in hashes)"})
		}
	}
}

// randomAccess gives in random access: members inside compressed streams
// are read into memory when they are small enough.
func (w *walker) randomAccess(in input, format string) (io.ReaderAt, int64, bool) {
	if in.ra != nil && in.size >= 0 {
		return in.ra, in.size, true
	}
	if in.size > w.lim.MaxInMemory {
		w.add(in, Finding{Rule: RuleLimit, Severity: High, Offset: -1, Message: fmt.Sprintf("%s of %d MiB inside a compressed member: hallmark needs random access to read it and never extracts to disk, so it was not opened (in-memory limit %d MiB)", format, in.size>>20, w.lim.MaxInMemory>>20)})
		return nil, 0, false
	}
	data, err := io.ReadAll(io.LimitReader(in.r, w.lim.MaxInMemory+1))
	if err != nil {
		w.add(in, Finding{Rule: RuleContainerMalformed, Severity: High, Offset: -1, Message: fmt.Sprintf("%s: cannot read: %v", format, err)})
		return nil, 0, false
	}
	if int64(len(data)) > w.lim.MaxInMemory {
		w.add(in, Finding{Rule: RuleLimit, Severity: High, Offset: -1, Message: fmt.Sprintf("%s inside a compressed stream is larger than %d MiB: hallmark needs random access to read it and never extracts to disk, so it was not opened", format, w.lim.MaxInMemory>>20)})
		return nil, 0, false
	}
	return strings.NewReader(string(data)), int64(len(data)), true
}

// guard caps what one decompressed stream may produce: its own size, its
// ratio to the compressed bytes, and the file's budget.
type guard struct {
	w      *walker
	in     input
	r      io.Reader
	src    *counter
	out    int64
	format string
	err    error
}

type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if err := g.w.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := g.r.Read(p)
	g.out += int64(n)
	g.w.inflated += int64(n)
	switch {
	case g.w.inflated > g.w.lim.MaxInflated:
		g.err = errBudget
		g.w.once("budget", g.in, Finding{Rule: RuleBomb, Severity: High, Offset: -1, Message: fmt.Sprintf("more than %d GiB decompressed from this file: the rest was not scanned (decompression bomb?)", g.w.lim.MaxInflated>>30)})
	case g.out > 64<<20 && g.src != nil && g.out/max(g.src.n, 1) > g.w.lim.MaxRatio:
		g.err = errBomb
		g.w.add(g.in, Finding{Rule: RuleBomb, Severity: High, Offset: -1, Message: fmt.Sprintf("%s stream expands more than %d:1 (%d MiB from %d KiB): decompression bomb; the rest was not scanned", g.format, g.w.lim.MaxRatio, g.out>>20, g.src.n>>10)})
	}
	if g.err != nil {
		return n, g.err
	}
	return n, err
}

var errBomb = errors.New("decompression bomb")

// strippedName is the name a decompressed stream goes by: "model.pkl.gz"
// becomes "model.pkl".
func strippedName(name, format string) string {
	base := path.Base(name)
	ext := strings.ToLower(path.Ext(base))
	switch ext {
	case ".gz", ".gzip", ".bz2", ".xz", ".zst", ".zstd", ".lz4", ".z", ".zlib", ".lzma":
		return strings.TrimSuffix(base, path.Ext(base))
	}
	return "[" + format + "]"
}

// declaredBomb flags an archive whose compressed members declare more
// output than the file's budget, or an extreme ratio at a large size.
func (w *walker) declaredBomb(in input, declared, packed int64) {
	switch {
	case declared > w.lim.MaxInflated:
		w.add(in, Finding{Rule: RuleBomb, Severity: High, Offset: -1, Message: fmt.Sprintf("compressed members declare %d GiB, more than the %d GiB decompression limit for one file: a decompression bomb; members were read only as far as their format needs", declared>>30, w.lim.MaxInflated>>30)})
	case declared > 1<<30 && declared/max(packed, 1) > w.lim.MaxRatio:
		w.add(in, Finding{Rule: RuleBomb, Severity: High, Offset: -1, Message: fmt.Sprintf("compressed members declare %d MiB from %d KiB (over the %d:1 ratio limit): a decompression bomb; members were read only as far as their format needs", declared>>20, packed>>10, w.lim.MaxRatio)})
	}
}

// executableKind names native executables and libraries (ELF, Mach-O,
// PE, WebAssembly) and compiled Python by their magic, or "".
func executableKind(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "elf"
	case len(head) >= 4 && (bytes.Equal(head[:4], []byte{0xfe, 0xed, 0xfa, 0xce}) || bytes.Equal(head[:4], []byte{0xfe, 0xed, 0xfa, 0xcf}) ||
		bytes.Equal(head[:4], []byte{0xce, 0xfa, 0xed, 0xfe}) || bytes.Equal(head[:4], []byte{0xcf, 0xfa, 0xed, 0xfe}) ||
		bytes.Equal(head[:4], []byte{0xca, 0xfe, 0xba, 0xbe}) && len(head) >= 8 && head[7] < 0x20): // fat Mach-O, not a Java class
		return "mach-o"
	case bytes.HasPrefix(head, []byte("MZ")) && len(head) >= 0x40 && peSignature(head):
		return "pe"
	case bytes.HasPrefix(head, []byte("\x00asm")):
		return "wasm"
	case len(head) >= 16 && head[2] == '\r' && head[3] == '\n' && binary.LittleEndian.Uint16(head[:2]) >= 2900 && binary.LittleEndian.Uint16(head[:2]) < 4000:
		return "pyc" // CPython 3.x magic: a 16-bit number, then \r\n
	}
	return ""
}

// peSignature checks that the MZ header points at a "PE\0\0" signature
// within the head.
func peSignature(head []byte) bool {
	off := int(binary.LittleEndian.Uint32(head[0x3c:0x40]))
	return off >= 0x40 && off+4 <= len(head) && bytes.Equal(head[off:off+4], []byte("PE\x00\x00"))
}
