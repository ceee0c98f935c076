package tzip

import (
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// localHeader is a parsed local file header. name aliases the parser's
// scratch buffer until the next readLocal.
type localHeader struct {
	flags, method uint16
	crc           uint32
	csize, usize  uint64
	zip64         bool // a zip64 extra field is present
	name          []byte
	dataOff       int64
}

// readLocal parses the local header at off. why is "truncated" when it runs
// past the end of the file, "signature" when off holds no local header.
func (p *parser) readLocal(off int64) (lh localHeader, why string) {
	var h [lenLocal]byte
	if off < 0 || !p.readFull(h[:], off) {
		return lh, "truncated"
	}
	if le.Uint32(h[:]) != sigLocal {
		return lh, "signature"
	}
	nl, el := int(le.Uint16(h[26:])), int(le.Uint16(h[28:]))
	if cap(p.scratch) < nl+el {
		p.scratch = make([]byte, nl+el) // at most 2×65535
	}
	b := p.scratch[:nl+el]
	if !p.readFull(b, off+lenLocal) {
		return lh, "truncated"
	}
	lh.flags = le.Uint16(h[6:])
	lh.method = le.Uint16(h[8:])
	lh.crc = le.Uint32(h[14:])
	lh.csize = uint64(le.Uint32(h[18:]))
	lh.usize = uint64(le.Uint32(h[22:]))
	if f, n := zip64Field(b[nl:]); n > 0 {
		lh.zip64 = true
		if lh.usize == u32max && len(f) >= 8 {
			lh.usize, f = le.Uint64(f), f[8:]
		}
		if lh.csize == u32max && len(f) >= 8 {
			lh.csize = le.Uint64(f)
		}
	}
	lh.name = b[:nl]
	lh.dataOff = off + lenLocal + int64(nl+el)
	return lh, ""
}

// resolveLocals reads the local header of every entry listed by a central
// directory, sets LocalName, LocalFlags and DataOffset, and compares.
func (p *parser) resolveLocals() {
	a := p.a
	for i := range a.Entries {
		e := &a.Entries[i]
		if _, ok := p.byOffset[e.HeaderOffset]; !ok {
			p.byOffset[e.HeaderOffset] = i
		}
		p.resolve(e)
	}
}

func (p *parser) resolve(e *Entry) {
	a := p.a
	lh, why := p.readLocal(e.HeaderOffset)
	switch why {
	case "truncated":
		a.addIssue(IssueTruncated, e.Name, e.HeaderOffset, "local header at %d runs past the end of the file (%d bytes)", e.HeaderOffset, p.size)
	case "signature":
		a.addIssue(IssueLocalHeader, e.Name, e.HeaderOffset, "no local header at %d, where the central directory points", e.HeaderOffset)
	}
	if why != "" {
		p.checkEntry(e)
		return
	}
	p.localZip64[e.HeaderOffset] = lh.zip64
	e.DataOffset = lh.dataOff
	e.LocalFlags = lh.flags
	if string(lh.name) == e.Name {
		e.LocalName = e.Name
	} else {
		n := lh.name
		if !a.takeName(len(n)) {
			n = n[:min(len(n), 256)]
		}
		e.LocalName = string(n)
		a.addIssue(IssueNameMismatch, e.Name, e.HeaderOffset, "local header names the member %q, the central directory %q", e.LocalName, e.Name)
	}
	if e.LocalFlags != e.Flags {
		a.addIssue(IssueFlagBits, e.Name, e.HeaderOffset, "local flags 0x%04x differ from central flags 0x%04x", e.LocalFlags, e.Flags)
	}
	if lh.method != e.Method {
		a.addIssue(IssueHeaderMismatch, e.Name, e.HeaderOffset, "local method %d differs from central method %d (the central one is used)", lh.method, e.Method)
	}
	if lh.flags&0x8 == 0 {
		if lh.crc != e.CRC32 {
			a.addIssue(IssueHeaderMismatch, e.Name, e.HeaderOffset, "local CRC-32 %08x differs from central %08x", lh.crc, e.CRC32)
		}
		if toInt64(lh.csize) != e.CompressedSize || toInt64(lh.usize) != e.UncompressedSize {
			a.addIssue(IssueSizeMismatch, e.Name, e.HeaderOffset, "local sizes %d/%d (compressed/uncompressed) differ from central %d/%d",
				lh.csize, lh.usize, e.CompressedSize, e.UncompressedSize)
		}
	}
	p.checkEntry(e)
}

// usualFlags are the flag bits ordinary writers set: deflate options,
// data descriptor, UTF-8 names.
const usualFlags = 0x2 | 0x4 | 0x8 | 0x800

func flagReasons(f uint16) string {
	var r []string
	if f&0x1 != 0 {
		r = append(r, "encryption bit 0x1 (read as plaintext, as PyTorch does)")
	}
	if f&0x20 != 0 {
		r = append(r, "patched-data bit 0x20")
	}
	if f&0x40 != 0 {
		r = append(r, "strong-encryption bit 0x40")
	}
	if f&0x2000 != 0 {
		r = append(r, "masked-header bit 0x2000")
	}
	if rest := f &^ (usualFlags | 0x1 | 0x20 | 0x40 | 0x2000); rest != 0 {
		r = append(r, fmt.Sprintf("reserved bits 0x%04x", rest))
	}
	return strings.Join(r, ", ")
}

// checkEntry runs the checks every entry gets, wherever it was found.
func (p *parser) checkEntry(e *Entry) {
	a := p.a
	if why := unsafePath(e.Name); why != "" {
		a.addIssue(IssueUnsafePath, e.Name, e.HeaderOffset, "name %q: %s", e.Name, why)
	}
	if e.LocalName != e.Name && e.LocalName != "" {
		if why := unsafePath(e.LocalName); why != "" {
			a.addIssue(IssueUnsafePath, e.Name, e.HeaderOffset, "local name %q: %s", e.LocalName, why)
		}
	}
	if r := flagReasons(e.Flags | e.LocalFlags); r != "" {
		a.addIssue(IssueFlagBits, e.Name, e.HeaderOffset, "flags 0x%04x/0x%04x (central/local): %s", e.Flags, e.LocalFlags, r)
	}
	switch e.Method {
	case 0:
		if e.CompressedSize >= 0 && e.CompressedSize != e.UncompressedSize {
			a.addIssue(IssueSizeMismatch, e.Name, e.HeaderOffset, "stored member with compressed size %d but uncompressed size %d", e.CompressedSize, e.UncompressedSize)
		}
	case 8:
	default:
		a.addIssue(IssueMethod, e.Name, e.HeaderOffset, "compression method %d (%s) cannot be read; its raw bytes can", e.Method, methodName(e.Method))
	}
	if e.DataOffset >= 0 && e.CompressedSize >= 0 {
		if end := addClamp(e.DataOffset, e.CompressedSize); end > p.size {
			a.addIssue(IssueTruncated, e.Name, e.HeaderOffset, "member data [%d, %d) runs past the end of the file (%d bytes)", e.DataOffset, end, p.size)
		}
	}
}

func methodName(m uint16) string {
	switch m {
	case 1:
		return "shrink"
	case 6:
		return "implode"
	case 9:
		return "deflate64"
	case 12:
		return "bzip2"
	case 14:
		return "lzma"
	case 93:
		return "zstd"
	case 95:
		return "xz"
	case 98:
		return "ppmd"
	case 99:
		return "AES"
	}
	return "unknown"
}

// unsafePath says why a member name would escape or confuse an extraction
// directory ("" if it would not).
func unsafePath(name string) string {
	var r []string
	if strings.IndexByte(name, 0) >= 0 {
		r = append(r, "NUL byte")
	}
	if strings.HasPrefix(name, "/") {
		r = append(r, "absolute path")
	}
	if strings.IndexByte(name, '\\') >= 0 {
		r = append(r, "backslash")
	}
	if len(name) >= 2 && name[1] == ':' && (name[0]|0x20 >= 'a' && name[0]|0x20 <= 'z') {
		r = append(r, "drive letter")
	}
	for c := range strings.FieldsFuncSeq(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if c == ".." {
			r = append(r, `".." component`)
			break
		}
	}
	return strings.Join(r, ", ")
}

// walk follows local headers from the first one, skipping each member's
// data, and lists those no central directory references. Where the bytes
// are not a local header (a central directory, a gap) it resumes at the
// next header a central directory lists, reporting bytes that nothing
// accounts for; it stops when there is none.
func (p *parser) walk() {
	a := p.a
	w := &walker{p: p, visited: map[int64]bool{}, dirs: p.dirStarts}
	for i := range a.Entries {
		if e := &a.Entries[i]; e.DataOffset >= 0 {
			w.known = append(w.known, e.HeaderOffset)
		}
	}
	slices.Sort(w.known)
	w.known = slices.Compact(w.known)
	var starts []int64
	if p.sigAt(0, sigLocal) {
		starts = append(starts, 0)
	}
	if len(w.known) > 0 && w.known[0] != 0 {
		starts = append(starts, w.known[0])
	}
	for _, s := range starts {
		w.from(s)
	}
}

type walker struct {
	p       *parser
	known   []int64 // header offsets of entries with a readable local header
	dirs    []int64 // starts of the central directories read, sorted
	visited map[int64]bool
}

// after returns the first value in list greater than pos, or -1.
func after(list []int64, pos int64) int64 {
	if i := sort.Search(len(list), func(i int) bool { return list[i] > pos }); i < len(list) {
		return list[i]
	}
	return -1
}

func (w *walker) from(pos int64) {
	p, a := w.p, w.p.a
	for pos >= 0 && pos < p.size {
		if w.visited[pos] {
			return
		}
		w.visited[pos] = true
		var e *Entry
		var z64 bool
		if i, ok := p.byOffset[pos]; ok && a.Entries[i].DataOffset >= 0 {
			e, z64 = &a.Entries[i], p.localZip64[pos]
		} else {
			lh, why := p.readLocal(pos)
			if why != "" {
				pos = w.skip(pos, true)
				continue
			}
			if a.stopEn || a.entriesFull(pos, "") {
				return
			}
			ne, ok := p.localOnly(pos, &lh, w.regionEnd(pos))
			if !ok {
				return
			}
			a.Entries = append(a.Entries, ne)
			p.byOffset[pos] = len(a.Entries) - 1
			e, z64 = &a.Entries[len(a.Entries)-1], lh.zip64
			p.checkEntry(e)
		}
		if e.CompressedSize < 0 {
			pos = w.skip(pos, false)
			continue
		}
		end := addClamp(e.DataOffset, e.CompressedSize)
		if end > p.size {
			return
		}
		if e.LocalFlags&0x8 != 0 {
			end += p.checkDescriptor(e, end, z64)
		}
		pos = end
	}
}

// regionEnd is where the data of a member whose header is at pos ends at
// the latest: the next listed header or central directory, or the end of
// the file.
func (w *walker) regionEnd(pos int64) int64 {
	end := w.p.size
	for _, v := range []int64{after(w.known, pos), after(w.dirs, pos)} {
		if v >= 0 && v < end {
			end = v
		}
	}
	return end
}

// skip moves the walk past bytes that are not a local header, to the next
// header a central directory lists (-1: none). With gap set, bytes up to
// that header or the next central directory are reported, unless pos
// starts a central directory.
func (w *walker) skip(pos int64, gap bool) int64 {
	next := after(w.known, pos)
	if _, isDir := slices.BinarySearch(w.dirs, pos); gap && !isDir {
		end := int64(-1)
		for _, v := range []int64{next, after(w.dirs, pos)} {
			if v >= 0 && (end < 0 || v < end) {
				end = v
			}
		}
		if end > pos {
			w.p.a.addIssue(IssueGap, "", pos, "%d bytes at %d are not a local header and no entry accounts for them", end-pos, pos)
		}
	}
	return next
}

// localOnly makes an entry of a local header no central directory lists.
// ok is false when the name cap is reached.
func (p *parser) localOnly(pos int64, lh *localHeader, limit int64) (e Entry, ok bool) {
	a := p.a
	if !a.takeName(len(lh.name)) {
		a.entriesFull(pos, fmt.Sprintf("entry names exceed %d bytes", a.lim.MaxNameBytes))
		return e, false
	}
	e = Entry{
		Name: string(lh.name), Method: lh.method, Flags: lh.flags, LocalFlags: lh.flags, CRC32: lh.crc,
		CompressedSize: toInt64(lh.csize), UncompressedSize: toInt64(lh.usize),
		HeaderOffset: pos, DataOffset: lh.dataOff, Index: -1, Zip64: lh.zip64,
	}
	e.LocalName = e.Name
	msg := "local header that no central directory references"
	if !a.Central {
		msg = "entry found by walking local headers (there is no usable central directory)"
	}
	if j, ok := p.centralNames[e.Name]; ok {
		msg += fmt.Sprintf("; central entry %d has the same name (readers that stream local headers see this one)", j)
	}
	if lh.flags&0x8 != 0 && lh.csize == 0 {
		// Sizes follow the data in a descriptor: find the end of the data.
		cs := int64(-1)
		switch lh.method {
		case 8:
			var why string
			cs, why = p.inflateEnd(lh.dataOff, limit)
			if why != "" {
				a.addIssue(IssueBomb, e.Name, pos, "while finding the end of this local-only member: %s", why)
			}
		case 0:
			cs = p.storedEnd(lh.dataOff, limit)
		}
		e.CompressedSize = cs
		if cs >= 0 {
			z64 := lh.zip64 || cs > u32max
			if crc, _, u, _, ok := p.parseDescriptor(addClamp(lh.dataOff, cs), z64); ok {
				e.CRC32, e.UncompressedSize = crc, toInt64(u)
			}
		} else {
			e.UncompressedSize = -1
			msg += "; the end of its data (sizes in a data descriptor) was not found"
		}
	}
	a.addIssue(IssueLocalOnly, e.Name, pos, "%s", msg)
	return e, true
}

// inflateEnd decompresses a deflate stream starting at off (without
// keeping the output) to learn how many compressed bytes it takes. The
// member caps apply.
func (p *parser) inflateEnd(off, limit int64) (csize int64, why string) {
	if limit <= off {
		return -1, ""
	}
	cr := newCountReader(io.NewSectionReader(p.r, off, limit-off), limit-off)
	fr := flate.NewReader(cr.Reader)
	defer fr.Close()
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := fr.Read(buf)
		n += int64(k)
		if n > p.a.lim.MaxMemberSize {
			return -1, fmt.Sprintf("more than %d bytes uncompressed", p.a.lim.MaxMemberSize)
		}
		if overRatio(n, cr.taken(), p.a.lim.MaxRatio) {
			return -1, fmt.Sprintf("ratio above %d (%d bytes from %d)", p.a.lim.MaxRatio, n, cr.taken())
		}
		if err == io.EOF {
			return cr.taken(), ""
		}
		if err != nil {
			return -1, ""
		}
	}
}

// storedEnd finds where a stored member with a data descriptor ends: at a
// descriptor signature whose sizes equal the distance from off.
func (p *parser) storedEnd(off, limit int64) int64 {
	const chunk = 64 << 10
	const tail = 24
	buf := make([]byte, min(chunk+tail, max(limit-off, 0)))
	sig := []byte{'P', 'K', 7, 8}
	for base := off; base < limit; base += chunk {
		n := min(int64(len(buf)), limit-base)
		b := buf[:n]
		if !p.readFull(b, base) {
			return -1
		}
		for i := 0; i < len(b) && i < chunk; {
			j := bytes.Index(b[i:], sig)
			if j < 0 || i+j >= chunk {
				break
			}
			q := i + j
			d := base + int64(q) - off
			r := b[q+4:]
			if len(r) >= 8 && int64(le.Uint32(r[4:])) == d && (len(r) < 12 || int64(le.Uint32(r[8:])) == d) {
				return d
			}
			if len(r) >= 20 && int64(le.Uint64(r[4:])) == d && int64(le.Uint64(r[12:])) == d {
				return d
			}
			i = q + 1
		}
	}
	return -1
}

// parseDescriptor reads a data descriptor at off (the signature is
// optional; 64-bit sizes when z64). length is its size in bytes. When the
// bytes after one layout do not start a zip record but those after the
// other do, the other layout is used.
func (p *parser) parseDescriptor(off int64, z64 bool) (crc uint32, csize, usize uint64, length int64, ok bool) {
	var b [24]byte
	n := min(int64(len(b)), p.size-off)
	if n < 12 || !p.readFull(b[:n], off) {
		return 0, 0, 0, 0, false
	}
	i := int64(0)
	if le.Uint32(b[:]) == sigDesc {
		i = 4
	}
	forms := []bool{z64, !z64}
	chosen := -1
	for k, f := range forms {
		l := i + 12
		if f {
			l = i + 20
		}
		if l > n {
			continue
		}
		if chosen < 0 {
			chosen = k
		}
		if p.zipRecordAt(off + l) {
			chosen = k
			break
		}
	}
	if chosen < 0 {
		return 0, 0, 0, 0, false
	}
	crc = le.Uint32(b[i:])
	if forms[chosen] {
		return crc, le.Uint64(b[i+4:]), le.Uint64(b[i+12:]), i + 20, true
	}
	return crc, uint64(le.Uint32(b[i+4:])), uint64(le.Uint32(b[i+8:])), i + 12, true
}

// zipRecordAt reports whether off starts a zip record ("PK" and a known
// signature) or is the end of the file.
func (p *parser) zipRecordAt(off int64) bool {
	if off == p.size {
		return true
	}
	var b [4]byte
	if !p.readFull(b[:], off) {
		return false
	}
	switch le.Uint32(b[:]) {
	case sigLocal, sigCentral, sigEnd, sigEnd64, sigLoc64:
		return true
	}
	return false
}

// checkDescriptor compares the data descriptor after e's data with e and
// returns its length.
func (p *parser) checkDescriptor(e *Entry, off int64, z64 bool) int64 {
	z64 = z64 || e.CompressedSize > u32max || e.UncompressedSize > u32max
	crc, cs, us, n, ok := p.parseDescriptor(off, z64)
	if !ok {
		p.a.addIssue(IssueTruncated, e.Name, e.HeaderOffset, "data descriptor at %d runs past the end of the file", off)
		return 0
	}
	if crc != e.CRC32 {
		p.a.addIssue(IssueHeaderMismatch, e.Name, e.HeaderOffset, "data descriptor CRC-32 %08x differs from %08x", crc, e.CRC32)
	}
	if toInt64(cs) != e.CompressedSize || toInt64(us) != e.UncompressedSize {
		p.a.addIssue(IssueSizeMismatch, e.Name, e.HeaderOffset, "data descriptor sizes %d/%d (compressed/uncompressed) differ from %d/%d",
			cs, us, e.CompressedSize, e.UncompressedSize)
	}
	return n
}

// checkPrefix reports bytes before the first local header (or before the
// central directory of an archive without entries).
func (p *parser) checkPrefix() {
	a := p.a
	first := int64(-1)
	for i := range a.Entries {
		if o := a.Entries[i].HeaderOffset; o >= 0 && o < p.size && (first < 0 || o < first) {
			first = o
		}
	}
	if a.Central && (first < 0 || a.DirOffset < first) {
		first = min(a.DirOffset, a.EndOffset)
	}
	if first > 0 {
		a.Prefix = first
		a.addIssue(IssuePrefixData, "", 0, "%d bytes before the first local header (another format may start the file: a polyglot)", first)
	}
}

// checkOverlaps reports members whose [header, end of data) ranges overlap
// each other or the central directory.
func (p *parser) checkOverlaps() {
	a := p.a
	type span struct {
		start, end int64
		idx        int // -1: central directory
	}
	spans := make([]span, 0, len(a.Entries)+1)
	for i := range a.Entries {
		e := &a.Entries[i]
		if e.DataOffset < 0 {
			continue
		}
		end := min(addClamp(e.DataOffset, max(e.CompressedSize, 0)), p.size)
		spans = append(spans, span{e.HeaderOffset, end, i})
	}
	if a.Central {
		end := min(addClamp(a.DirOffset, a.DirSize), p.size)
		if end > a.DirOffset {
			spans = append(spans, span{a.DirOffset, end, -1})
		}
	}
	slices.SortFunc(spans, func(x, y span) int {
		if x.start != y.start {
			return cmpInt(x.start, y.start)
		}
		if x.end != y.end {
			return cmpInt(x.end, y.end)
		}
		return x.idx - y.idx
	})
	desc := func(s span) string {
		if s.idx < 0 {
			return fmt.Sprintf("the central directory [%d, %d)", s.start, s.end)
		}
		return fmt.Sprintf("%q [%d, %d)", a.Entries[s.idx].Name, s.start, s.end)
	}
	var top span
	have := false
	for _, s := range spans {
		if have && s.start < top.end {
			name := ""
			if s.idx >= 0 {
				name = a.Entries[s.idx].Name
			} else if top.idx >= 0 {
				name = a.Entries[top.idx].Name
			}
			a.addIssue(IssueOverlap, name, s.start, "%s overlaps %s", desc(s), desc(top))
		}
		if !have || s.end > top.end {
			top, have = s, true
		}
	}
}

func cmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// countReader is the input of a decompressor: a bufio.Reader (which
// compress/flate uses directly, reading exactly what it needs) over a
// reader that counts what the buffer pulled.
type countReader struct {
	*bufio.Reader
	pulled int64
	src    io.Reader
}

func newCountReader(r io.Reader, size int64) *countReader {
	c := &countReader{src: r}
	c.Reader = bufio.NewReaderSize(pull{c}, int(min(max(size, 16), 64<<10)))
	return c
}

// taken is the number of bytes the decompressor consumed.
func (c *countReader) taken() int64 { return c.pulled - int64(c.Buffered()) }

type pull struct{ c *countReader }

func (p pull) Read(b []byte) (int, error) {
	n, err := p.c.src.Read(b)
	p.c.pulled += int64(n)
	return n, err
}

// overRatio reports a decompression ratio above max once more than 1 MiB
// came out of in compressed bytes.
func overRatio(out, in, max int64) bool {
	if out <= 1<<20 {
		return false
	}
	if in <= 0 {
		return true
	}
	return out/in > max || (out/in == max && out%in != 0)
}
