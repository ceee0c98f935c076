package tzip

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
)

const (
	sigLocal   = 0x04034b50
	sigCentral = 0x02014b50
	sigEnd     = 0x06054b50
	sigEnd64   = 0x06064b50
	sigLoc64   = 0x07064b50
	sigDesc    = 0x08074b50

	lenLocal   = 30
	lenCentral = 46
	lenEnd     = 22
	lenEnd64   = 56
	lenLoc64   = 20
	maxComment = 65535

	u16max = 0xffff
	u32max = 0xffffffff

	// maxAlternates bounds how many other central directories are listed
	// besides the chosen one.
	maxAlternates = 16
	// maxEndCandidates bounds how many ways to read a central directory
	// are tried in all (the tail can hold thousands of end signatures).
	maxEndCandidates = 1024
)

var le = binary.LittleEndian

// parser holds Open's state.
type parser struct {
	a    *Archive
	r    io.ReaderAt
	size int64

	scratch []byte // names and extras of one local header (<= 128 KiB)

	byOffset     map[int64]int  // header offset → first entry with it
	centralNames map[string]int // name → first central entry with it
	localZip64   map[int64]bool // header offset → local header had a zip64 extra field
	dirStarts    []int64        // starts of the central directories read, sorted
}

func newParser(a *Archive) *parser {
	return &parser{
		a:            a,
		r:            a.r,
		size:         a.Size,
		byOffset:     map[int64]int{},
		centralNames: map[string]int{},
		localZip64:   map[int64]bool{},
	}
}

// readFull reads len(b) bytes at off, all inside [0, size).
func (p *parser) readFull(b []byte, off int64) bool {
	if off < 0 || off > p.size || int64(len(b)) > p.size-off {
		return false
	}
	n, _ := p.r.ReadAt(b, off)
	return n == len(b)
}

func (p *parser) sigAt(off int64, sig uint32) bool {
	var b [4]byte
	return p.readFull(b[:], off) && le.Uint32(b[:]) == sig
}

// endRecord is one end-of-central-directory record candidate.
type endRecord struct {
	off        int64
	commentLen int64
	fits       bool // the comment ends inside the file
	disk       uint16
	diskCD     uint16
	countDisk  uint16
	count      uint16
	size       uint32
	offset     uint32
}

// directory is one way to read a central directory: the values of an end
// record, or of its zip64 end record.
type directory struct {
	end    endRecord
	zip64  bool
	rec64  int64 // offset of the zip64 end record (-1: none)
	count  uint64
	size   uint64
	offset uint64
	recEnd int64   // where the directory should end: the zip64 record or the end record
	notes  []Issue // irregularities to report if this directory is the one used
	label  string
	// forceBase reads the directory only at its stated offset shifted by
	// recEnd - size - offset.
	forceBase bool
}

func (d *directory) note(kind string, off int64, format string, args ...any) {
	d.notes = append(d.notes, Issue{Kind: kind, Offset: off, Message: fmt.Sprintf(format, args...)})
}

// findEnds lists the end records in the last 22+65535 bytes, most preferred
// first: the last one whose comment fits in the file, then earlier fitting
// ones, then those whose comment runs past the end.
func (p *parser) findEnds() []endRecord {
	tail := min(p.size, lenEnd+maxComment)
	if tail < lenEnd {
		return nil
	}
	start := p.size - tail
	buf := make([]byte, tail)
	if !p.readFull(buf, start) {
		return nil
	}
	var fit, nofit []endRecord
	for i := len(buf) - lenEnd; i >= 0; i-- {
		if buf[i] != 'P' || buf[i+1] != 'K' || buf[i+2] != 5 || buf[i+3] != 6 {
			continue
		}
		b := buf[i:]
		er := endRecord{
			off:        start + int64(i),
			disk:       le.Uint16(b[4:]),
			diskCD:     le.Uint16(b[6:]),
			countDisk:  le.Uint16(b[8:]),
			count:      le.Uint16(b[10:]),
			size:       le.Uint32(b[12:]),
			offset:     le.Uint32(b[16:]),
			commentLen: int64(le.Uint16(b[20:])),
		}
		er.fits = er.off+lenEnd+er.commentLen <= p.size
		if er.fits {
			fit = append(fit, er)
		} else {
			nofit = append(nofit, er)
		}
	}
	return append(fit, nofit...)
}

// directoriesFor returns the ways to read er's central directory, the one a
// zip64-aware reader (miniz, Python) uses first.
func (p *parser) directoriesFor(er endRecord) []directory {
	d32 := directory{
		end: er, rec64: -1, count: uint64(er.count), size: uint64(er.size), offset: uint64(er.offset),
		recEnd: er.off, label: fmt.Sprintf("end record at %d", er.off),
	}
	if er.disk != 0 || er.diskCD != 0 {
		d32.note(IssueCentralDir, er.off, "end record names disk %d / %d (multi-disk archive)", er.disk, er.diskCD)
	}
	if er.count != er.countDisk {
		d32.note(IssueCentralDir, er.off, "end record counts %d entries on this disk but %d in total", er.countDisk, er.count)
	}
	sentinel := er.count == u16max || er.countDisk == u16max || er.size == u32max || er.offset == u32max

	var loc [lenLoc64]byte
	if er.off < lenLoc64 || !p.readFull(loc[:], er.off-lenLoc64) || le.Uint32(loc[:]) != sigLoc64 {
		if sentinel {
			d32.note(IssueZip64, er.off, "end record holds 0xFFFF/0xFFFFFFFF values but there is no zip64 locator")
		}
		return []directory{d32}
	}
	locOff := er.off - lenLoc64
	stated := le.Uint64(loc[8:])
	// miniz reads the zip64 end record where the locator says; Python reads
	// the one just before the locator. Both are tried.
	var recs []int64
	var rec [lenEnd64]byte
	if stated <= math.MaxInt64 && p.readFull(rec[:], int64(stated)) && le.Uint32(rec[:]) == sigEnd64 {
		recs = append(recs, int64(stated))
	}
	if adj := locOff - lenEnd64; adj >= 0 && uint64(adj) != stated && p.readFull(rec[:], adj) && le.Uint32(rec[:]) == sigEnd64 {
		recs = append(recs, adj)
	}
	if len(recs) == 0 {
		d32.note(IssueZip64, locOff, "zip64 locator points at %d, where there is no zip64 end record", stated)
		return []directory{d32}
	}
	var out []directory
	disagree := false
	for _, recOff := range recs {
		p.readFull(rec[:], recOff)
		d64 := directory{
			end: er, zip64: true, rec64: recOff,
			count:  le.Uint64(rec[32:]),
			size:   le.Uint64(rec[40:]),
			offset: le.Uint64(rec[48:]),
			recEnd: recOff,
			label:  fmt.Sprintf("zip64 end record at %d", recOff),
		}
		d64.notes = append(d64.notes, d32.notes...)
		if uint64(recOff) != stated {
			d64.note(IssueZip64, locOff, "zip64 locator says the zip64 end record is at %d; it is at %d", stated, recOff)
		}
		if n := le.Uint64(rec[4:]); n < lenEnd64-12 {
			d64.note(IssueZip64, recOff, "zip64 end record declares size %d (< 44)", n)
		}
		if disk, diskCD, disks := le.Uint32(rec[16:]), le.Uint32(rec[20:]), le.Uint32(loc[16:]); disk != 0 || diskCD != 0 || disks > 1 {
			d64.note(IssueCentralDir, recOff, "zip64 records name disk %d / %d of %d (multi-disk archive)", disk, diskCD, disks)
		}
		if countDisk := le.Uint64(rec[24:]); countDisk != d64.count {
			d64.note(IssueZip64, recOff, "zip64 end record counts %d entries on this disk but %d in total", countDisk, d64.count)
		}
		check := func(what string, v32, max32, v64 uint64) {
			if v32 != max32 && v32 != v64 {
				disagree = true
				d64.note(IssueZip64, recOff, "%s is %d in the end record but %d in the zip64 end record", what, v32, v64)
			}
		}
		check("entry count", uint64(er.count), u16max, d64.count)
		check("central directory size", uint64(er.size), u32max, d64.size)
		check("central directory offset", uint64(er.offset), u32max, d64.offset)
		out = append(out, d64)
	}
	if disagree {
		// Readers that consult zip64 only for 0xFFFF… values (Go) use these.
		out = append(out, d32)
	}
	return out
}

// withBase adds to each directory whose end is not where its stated offset
// and size put it a variant read at the shifted offset: Go reads at the
// stated offset when a record is there, Python always shifts.
func (p *parser) withBase(ds []directory) []directory {
	var out []directory
	for _, d := range ds {
		out = append(out, d)
		if d.offset <= math.MaxInt64 && d.size <= math.MaxInt64 {
			if b := d.recEnd - int64(d.size) - int64(d.offset); b > 0 {
				v := d
				v.forceBase = true
				v.label += " (offsets shifted by the bytes before the archive)"
				out = append(out, v)
			}
		}
	}
	return out
}

// readDirectories chooses the central directory and lists its entries, then
// the entries of any other end record's directory that it does not list.
func (p *parser) readDirectories() {
	a := p.a
	ends := p.findEnds()
	if len(ends) == 0 {
		a.addIssue(IssueCentralDir, "", p.size, "no end-of-central-directory record in the last 64 KiB")
		return
	}
	var mainDir *directory
	parsed := map[int64]bool{} // directory starts already listed
	var failures []string
	alternates := 0
	tried := 0
	var altKeys map[altKey]bool
	var firstNotes []Issue // irregularities of the preferred directory, when none is usable
	for ei, er := range ends {
		if alternates >= maxAlternates || tried >= maxEndCandidates {
			break
		}
		for _, d := range p.withBase(p.directoriesFor(er)) {
			if mainDir == nil {
				tried++
				ents, start, base, notes, why := p.readDirectory(&d, a.lim.MaxEntries, a.lim.MaxNameBytes, nil)
				if why != "" {
					if len(failures) == 0 {
						firstNotes = d.notes
					}
					failures = append(failures, d.label+": "+why)
					continue
				}
				for i := range ents {
					a.nameB += int64(len(ents[i].Name))
				}
				dd := d
				mainDir = &dd
				parsed[start] = true
				p.useDirectory(&dd, ents, start, base, notes)
				if len(ends) > 1 {
					other := ends[0].off
					if ei == 0 {
						other = ends[1].off
					}
					a.addIssue(IssueMultipleEOCD, "", other,
						"%d end-of-central-directory signatures in the last 64 KiB; using the one at %d", len(ends), er.off)
				}
				if len(failures) > 0 {
					a.addIssue(IssueCentralDir, "", ends[0].off, "skipped %s", failures[0])
				}
				altKeys = make(map[altKey]bool, len(a.Entries))
				for _, e := range a.Entries {
					altKeys[altKey{e.HeaderOffset, e.Name}] = true
				}
				continue
			}
			if alternates >= maxAlternates || tried >= maxEndCandidates {
				break
			}
			tried++
			budget := a.lim.MaxNameBytes - a.nameB
			ents, start, _, _, why := p.readDirectory(&d, a.lim.MaxEntries, budget, parsed)
			if why != "" {
				continue
			}
			parsed[start] = true
			alternates++
			for _, e := range ents {
				k := altKey{e.HeaderOffset, e.Name}
				if altKeys[k] {
					continue
				}
				if a.entriesFull(e.HeaderOffset, "") {
					break
				}
				if !a.takeName(len(e.Name)) {
					a.entriesFull(e.HeaderOffset, fmt.Sprintf("entry names exceed %d bytes", a.lim.MaxNameBytes))
					break
				}
				altKeys[k] = true
				e.InCentral, e.Index = false, -1
				a.Entries = append(a.Entries, e)
				kind := IssueMultipleEOCD
				if d.end.off == mainDir.end.off {
					// The same end record read another way: with or
					// without its zip64 record (Go reads the 32-bit values
					// unless they are 0xFFFF…), or with offsets shifted by
					// the bytes before the archive (Python always shifts).
					kind = IssueCentralDir
					if d.zip64 != mainDir.zip64 || d.rec64 != mainDir.rec64 {
						kind = IssueZip64
					}
				}
				a.addIssue(kind, e.Name, e.HeaderOffset,
					"entry listed only by the central directory of the %s, not by the %s in use", d.label, mainDir.label)
			}
		}
	}
	for s := range parsed {
		p.dirStarts = append(p.dirStarts, s)
	}
	slices.Sort(p.dirStarts)
	if mainDir == nil {
		why := "no end record"
		if len(failures) > 0 {
			why = failures[0]
		}
		a.addIssue(IssueCentralDir, "", ends[0].off, "no usable central directory (%s)", why)
		for _, n := range firstNotes {
			a.addIssue(n.Kind, n.Entry, n.Offset, "%s", n.Message)
		}
		if len(ends) > 1 {
			a.addIssue(IssueMultipleEOCD, "", ends[1].off, "%d end-of-central-directory signatures in the last 64 KiB", len(ends))
		}
	}
}

type altKey struct {
	off  int64
	name string
}

// useDirectory makes d the archive's central directory.
func (p *parser) useDirectory(d *directory, ents []Entry, start, base int64, notes []Issue) {
	a := p.a
	a.Central = true
	a.DirOffset = start
	a.DirSize = toInt64(d.size)
	a.EndOffset = d.end.off
	a.Zip64 = d.zip64
	a.BaseOffset = base
	cl := min(d.end.commentLen, max(p.size-d.end.off-lenEnd, 0))
	if cl > 0 {
		c := make([]byte, cl)
		if p.readFull(c, d.end.off+lenEnd) {
			a.Comment = string(c)
		}
	}
	for _, n := range d.notes {
		a.addIssue(n.Kind, n.Entry, n.Offset, "%s", n.Message)
	}
	for _, n := range notes {
		if n.Kind == IssueTooManyEntries {
			a.stopEn = true
		}
		a.addIssue(n.Kind, n.Entry, n.Offset, "%s", n.Message)
	}
	if !d.end.fits {
		a.addIssue(IssueCentralDir, "", d.end.off, "end record comment length %d runs past the end of the file", d.end.commentLen)
	} else if end := d.end.off + lenEnd + d.end.commentLen; end < p.size {
		a.addIssue(IssueTrailingData, "", end, "%d bytes after the end record that its comment length does not cover", p.size-end)
	}
	a.Entries = ents
	for i := range a.Entries {
		e := &a.Entries[i]
		if j, ok := p.centralNames[e.Name]; ok {
			a.addIssue(IssueDuplicateName, e.Name, e.HeaderOffset,
				"central directory entry %d has the same name as entry %d (readers that look names up see only one of them)", i, j)
		} else {
			p.centralNames[e.Name] = i
		}
	}
}

// readDirectory reads the central directory d describes: at its stated
// offset, or, when no record is there, shifted by the bytes prepended to
// the archive (as Python and Go do). It reads records while their signature
// matches (whatever the declared size and count say) and reports where the
// declared values disagree. why is non-empty when there is no directory.
func (p *parser) readDirectory(d *directory, maxEntries int, nameBudget int64, skip map[int64]bool) (ents []Entry, start, base int64, notes []Issue, why string) {
	if d.offset > math.MaxInt64 || d.size > math.MaxInt64 {
		return nil, 0, 0, nil, fmt.Sprintf("central directory offset %d / size %d out of range", d.offset, d.size)
	}
	start = int64(d.offset)
	empty := d.count == 0 && d.size == 0
	if d.forceBase {
		base = d.recEnd - int64(d.size) - start
		if base <= 0 || !(empty || p.sigAt(start+base, sigCentral)) {
			return nil, 0, 0, nil, fmt.Sprintf("no central directory record at %d", start+max(base, 0))
		}
		start += base
	} else if !p.sigAt(start, sigCentral) {
		b := d.recEnd - int64(d.size) - start
		switch {
		case b > 0 && p.sigAt(start+b, sigCentral):
			base = b
		case empty:
			if b > 0 {
				base = b
			}
		default:
			return nil, 0, 0, nil, fmt.Sprintf("no central directory record at %d", start)
		}
		start += base
	}
	if skip[start] {
		return nil, start, base, nil, "already read"
	}
	note := func(kind string, off int64, format string, args ...any) {
		notes = append(notes, Issue{Kind: kind, Offset: off, Message: fmt.Sprintf(format, args...)})
	}
	if start > p.size {
		return nil, start, base, notes, ""
	}
	limit := p.size
	if start <= d.end.off {
		limit = d.end.off
	}
	// The directory is read as a stream; nothing is sized from d.size or d.count.
	sec := io.NewSectionReader(p.r, start, limit-start)
	br := bufio.NewReaderSize(sec, int(min(max(limit-start, 16), 64<<10)))
	var hdr [lenCentral]byte
	var buf []byte
	pos := start
	nameBytes := int64(0)
	for {
		if sig, err := br.Peek(4); err != nil || le.Uint32(sig) != sigCentral {
			break
		}
		if len(ents) >= maxEntries {
			note(IssueTooManyEntries, pos, "more than %d entries; later entries are not listed", maxEntries)
			break
		}
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			note(IssueCentralDir, pos, "central directory record %d is truncated", len(ents))
			break
		}
		nl, el, cl := int(le.Uint16(hdr[28:])), int(le.Uint16(hdr[30:])), int(le.Uint16(hdr[32:]))
		if cap(buf) < nl+el {
			buf = make([]byte, nl+el)
		}
		b := buf[:nl+el]
		if _, err := io.ReadFull(br, b); err != nil {
			note(IssueCentralDir, pos, "central directory record %d: name or extra field runs past the directory", len(ents))
			break
		}
		if _, err := br.Discard(cl); err != nil {
			note(IssueCentralDir, pos, "central directory record %d: comment runs past the directory", len(ents))
			break
		}
		if nameBytes+int64(nl) > nameBudget {
			note(IssueTooManyEntries, pos, "entry names exceed %d bytes; later entries are not listed", p.a.lim.MaxNameBytes)
			break
		}
		nameBytes += int64(nl)
		e := Entry{
			Name:             string(b[:nl]),
			Flags:            le.Uint16(hdr[8:]),
			Method:           le.Uint16(hdr[10:]),
			CRC32:            le.Uint32(hdr[16:]),
			CompressedSize:   int64(le.Uint32(hdr[20:])),
			UncompressedSize: int64(le.Uint32(hdr[24:])),
			HeaderOffset:     int64(le.Uint32(hdr[42:])),
			DataOffset:       -1,
			InCentral:        true,
			Index:            len(ents),
		}
		p.zip64Central(&e, hdr[:], b[nl:], pos, note)
		e.HeaderOffset = addClamp(e.HeaderOffset, base)
		ents = append(ents, e)
		pos += int64(lenCentral + nl + el + cl)
	}
	read := pos - start
	switch {
	case read > int64(d.size):
		note(IssueCentralDir, start, "central directory records take %d bytes, more than the %d declared", read, d.size)
	case read < int64(d.size) && len(ents) < maxEntries:
		note(IssueCentralDir, start, "central directory declares %d bytes but its records take %d", d.size, read)
	}
	if n := uint64(len(ents)); n != d.count && len(ents) < maxEntries {
		// Without zip64 a count above 65535 wraps; Go accepts that.
		if d.zip64 || uint16(n) != uint16(d.count) {
			kind := IssueCentralDir
			if d.zip64 {
				kind = IssueZip64
			}
			note(kind, start, "%s declares %d entries; the central directory holds %d records", d.label, d.count, n)
		}
	}
	return ents, start, base, notes, ""
}

// zip64Central applies a central record's zip64 extra field: each 64-bit
// value is present only when its 32-bit field is 0xFFFFFFFF (0xFFFF for the
// disk), in the order uncompressed size, compressed size, offset, disk.
func (p *parser) zip64Central(e *Entry, hdr, extra []byte, pos int64, note func(string, int64, string, ...any)) {
	needU := le.Uint32(hdr[24:]) == u32max
	needC := le.Uint32(hdr[20:]) == u32max
	needO := le.Uint32(hdr[42:]) == u32max
	needD := le.Uint16(hdr[34:]) == u16max
	if !needU && !needC && !needO && !needD {
		return
	}
	f, n := zip64Field(extra)
	if n == 0 {
		note(IssueZip64, pos, "entry %q has 0xFFFFFFFF sizes or offset but no zip64 extra field", e.Name)
		return
	}
	e.Zip64 = true
	if n > 1 {
		note(IssueZip64, pos, "entry %q has %d zip64 extra fields", e.Name, n)
	}
	short := false
	take := func(need bool) (uint64, bool) {
		if !need {
			return 0, false
		}
		if len(f) < 8 {
			short = true
			return 0, false
		}
		v := le.Uint64(f)
		f = f[8:]
		return v, true
	}
	if v, ok := take(needU); ok {
		e.UncompressedSize = toInt64(v)
	}
	if v, ok := take(needC); ok {
		e.CompressedSize = toInt64(v)
	}
	if v, ok := take(needO); ok {
		e.HeaderOffset = toInt64(v)
	}
	if needD && len(f) < 4 {
		short = true
	}
	if short {
		note(IssueZip64, pos, "entry %q: zip64 extra field too short for the values marked 0xFFFFFFFF", e.Name)
	}
}

// zip64Field returns the first zip64 extended information field of an
// extra block and how many there are.
func zip64Field(extra []byte) (first []byte, n int) {
	for len(extra) >= 4 {
		id, sz := le.Uint16(extra), int(le.Uint16(extra[2:]))
		extra = extra[4:]
		if sz > len(extra) {
			break
		}
		if id == 0x0001 {
			if n == 0 {
				first = extra[:sz]
			}
			n++
		}
		extra = extra[sz:]
	}
	return first, n
}
