package tzip

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"sort"
)

// Archive builders for the tests and the fuzz seeds. Everything is built in
// memory; errors cannot happen there, so they panic.

type file struct {
	name   string
	data   []byte
	method uint16 // zip.Store or zip.Deflate
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// zipOf writes files with archive/zip's streaming writer: sizes and CRC in
// a data descriptor after each member (flag 0x8).
func zipOf(files ...file) []byte {
	return zipAt(0, "", files...)
}

// zipAt is zipOf with the writer told that offset bytes precede the archive
// (zip.Writer.SetOffset) and an archive comment.
func zipAt(offset int64, comment string, files ...file) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	if offset > 0 {
		w.SetOffset(offset)
	}
	for _, f := range files {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: f.name, Method: f.method})
		must(err)
		_, err = fw.Write(f.data)
		must(err)
	}
	if comment != "" {
		must(w.SetComment(comment))
	}
	must(w.Close())
	return buf.Bytes()
}

// rawZipOf writes files with CreateRaw: sizes and CRC in the local header,
// no data descriptor (like PyTorch's writer).
func rawZipOf(files ...file) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range files {
		body := f.data
		if f.method == zip.Deflate {
			body = deflate(f.data)
		}
		fw, err := w.CreateRaw(&zip.FileHeader{
			Name: f.name, Method: f.method, CRC32: crc32.ChecksumIEEE(f.data),
			CompressedSize64: uint64(len(body)), UncompressedSize64: uint64(len(f.data)),
		})
		must(err)
		_, err = fw.Write(body)
		must(err)
	}
	must(w.Close())
	return buf.Bytes()
}

func deflate(b []byte) []byte {
	var out bytes.Buffer
	fw, err := flate.NewWriter(&out, flate.BestCompression)
	must(err)
	_, err = fw.Write(b)
	must(err)
	must(fw.Close())
	return out.Bytes()
}

// Byte surgery on archives with no comment, written by the builders above.

type centralRec struct {
	off       int // offset of the record
	length    int // 46 + name + extra + comment
	name      string
	localOff  int
	nameLen   int
	extraLen  int
	cdOffset  int
	cdSize    int
	endOffset int
}

// records lists the central directory records of b (end record at the
// very end, no comment).
func records(b []byte) []centralRec {
	end := len(b) - 22
	le := binary.LittleEndian
	if le.Uint32(b[end:]) != sigEnd {
		panic("records: no end record at len-22")
	}
	cdOff := int(le.Uint32(b[end+16:]))
	cdSize := int(le.Uint32(b[end+12:]))
	var out []centralRec
	for p := cdOff; p < cdOff+cdSize; {
		nl, el, cl := int(le.Uint16(b[p+28:])), int(le.Uint16(b[p+30:])), int(le.Uint16(b[p+32:]))
		out = append(out, centralRec{
			off: p, length: 46 + nl + el + cl, name: string(b[p+46 : p+46+nl]),
			localOff: int(le.Uint32(b[p+42:])), nameLen: nl, extraLen: el,
			cdOffset: cdOff, cdSize: cdSize, endOffset: end,
		})
		p += 46 + nl + el + cl
	}
	return out
}

func put16(b []byte, off int, v uint16) { binary.LittleEndian.PutUint16(b[off:], v) }
func put32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }

// withCentral rebuilds b with a new list of central records (raw bytes of
// each record), fixing the end record's count, size and offset.
func withCentral(b []byte, recs [][]byte) []byte {
	rs := records(b)
	cdOff := rs[0].cdOffset
	out := append([]byte(nil), b[:cdOff]...)
	size := 0
	for _, r := range recs {
		out = append(out, r...)
		size += len(r)
	}
	end := append([]byte(nil), b[len(b)-22:]...)
	put16(end, 8, uint16(len(recs)))
	put16(end, 10, uint16(len(recs)))
	put32(end, 12, uint32(size))
	put32(end, 16, uint32(cdOff))
	return append(out, end...)
}

func recBytes(b []byte, r centralRec) []byte {
	return append([]byte(nil), b[r.off:r.off+r.length]...)
}

// dropCentral removes the central records at the given indexes.
func dropCentral(b []byte, drop ...int) []byte {
	skip := map[int]bool{}
	for _, d := range drop {
		skip[d] = true
	}
	var keep [][]byte
	for i, r := range records(b) {
		if !skip[i] {
			keep = append(keep, recBytes(b, r))
		}
	}
	return withCentral(b, keep)
}

// craftEntry is one stored member for craft, which writes every byte itself.
type craftEntry struct {
	name       string
	data       []byte
	gap        []byte // written before the local header
	zip64      bool   // central sizes and offset are 0xFFFFFFFF, values in a zip64 extra field
	zip64Extra []byte // replaces the central zip64 extra field's data when non-nil
}

type craftOpts struct {
	zip64End bool // zip64 end record + locator; the 32-bit end record holds 0xFFFF… values
	// Overrides of the 32-bit end record (applied after zip64End).
	count32  *uint16
	size32   *uint32
	offset32 *uint32
	count64  *uint64
	noLoc    bool // omit the locator (and the zip64 record)
	extraDir []craftEntry
}

func craft(entries []craftEntry, o craftOpts) []byte {
	le := binary.LittleEndian
	var b []byte
	offs := make([]int, len(entries))
	for i, e := range entries {
		b = append(b, e.gap...)
		offs[i] = len(b)
		h := make([]byte, 30)
		put32(h, 0, sigLocal)
		put16(h, 4, 20)
		put32(h, 14, crc32.ChecksumIEEE(e.data))
		put32(h, 18, uint32(len(e.data)))
		put32(h, 22, uint32(len(e.data)))
		put16(h, 26, uint16(len(e.name)))
		b = append(b, h...)
		b = append(b, e.name...)
		b = append(b, e.data...)
	}
	cdOff := len(b)
	for i, e := range entries {
		h := make([]byte, 46)
		put32(h, 0, sigCentral)
		put16(h, 4, 45)
		put16(h, 6, 20)
		put32(h, 16, crc32.ChecksumIEEE(e.data))
		var extra []byte
		if e.zip64 {
			put32(h, 20, u32max)
			put32(h, 24, u32max)
			put32(h, 42, u32max)
			x := e.zip64Extra
			if x == nil {
				x = le.AppendUint64(nil, uint64(len(e.data)))
				x = le.AppendUint64(x, uint64(len(e.data)))
				x = le.AppendUint64(x, uint64(offs[i]))
			}
			extra = le.AppendUint16(nil, 1)
			extra = le.AppendUint16(extra, uint16(len(x)))
			extra = append(extra, x...)
		} else {
			put32(h, 20, uint32(len(e.data)))
			put32(h, 24, uint32(len(e.data)))
			put32(h, 42, uint32(offs[i]))
		}
		put16(h, 28, uint16(len(e.name)))
		put16(h, 30, uint16(len(extra)))
		b = append(b, h...)
		b = append(b, e.name...)
		b = append(b, extra...)
	}
	cdSize := len(b) - cdOff
	count := uint64(len(entries))
	if o.count64 != nil {
		count = *o.count64
	}
	if o.zip64End && !o.noLoc {
		rec := make([]byte, 56)
		put32(rec, 0, sigEnd64)
		le.PutUint64(rec[4:], 44)
		put16(rec, 12, 45)
		put16(rec, 14, 45)
		le.PutUint64(rec[24:], count)
		le.PutUint64(rec[32:], count)
		le.PutUint64(rec[40:], uint64(cdSize))
		le.PutUint64(rec[48:], uint64(cdOff))
		recOff := len(b)
		b = append(b, rec...)
		loc := make([]byte, 20)
		put32(loc, 0, sigLoc64)
		le.PutUint64(loc[8:], uint64(recOff))
		put32(loc, 16, 1)
		b = append(b, loc...)
	}
	end := make([]byte, 22)
	put32(end, 0, sigEnd)
	c16, s32, o32 := uint16(len(entries)), uint32(cdSize), uint32(cdOff)
	if o.zip64End {
		c16, s32, o32 = u16max, u32max, u32max
	}
	if o.count32 != nil {
		c16 = *o.count32
	}
	if o.size32 != nil {
		s32 = *o.size32
	}
	if o.offset32 != nil {
		o32 = *o.offset32
	}
	put16(end, 8, c16)
	put16(end, 10, c16)
	put32(end, 12, s32)
	put32(end, 16, o32)
	return append(b, end...)
}

func ptr[T any](v T) *T { return &v }

// testArchives returns every archive the tests build, by name (also the
// fuzz seeds).
func testArchives() map[string][]byte {
	pk := []byte("\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.")
	two := []file{{"archive/data.pkl", pk, zip.Deflate}, {"archive/data/0", bytes.Repeat([]byte{1, 2, 3, 4}, 100), zip.Store}}
	m := map[string][]byte{
		"clean":       zipOf(two...),
		"clean-raw":   rawZipOf(two...),
		"empty":       zipOf(),
		"comment":     zipAt(0, "a comment", two...),
		"dup":         zipOf(file{"archive/data.pkl", []byte("first"), zip.Store}, file{"archive/data.pkl", []byte("second"), zip.Deflate}),
		"prefix":      append(append([]byte(nil), pk...), rawZipOf(two...)...),
		"prefix-adj":  append(append([]byte(nil), pk...), zipAt(int64(len(pk)), "", two...)...),
		"trailing":    append(rawZipOf(two...), "trailing junk"...),
		"unsafe":      zipOf(file{"../../etc/passwd", []byte("x"), zip.Store}, file{`C:\evil`, []byte("y"), zip.Store}),
		"zip64":       craft([]craftEntry{{name: "a", data: []byte("hello"), zip64: true}, {name: "b", data: []byte("world"), zip64: true}}, craftOpts{zip64End: true}),
		"gap":         craft([]craftEntry{{name: "a", data: []byte("hello")}, {name: "b", data: []byte("world"), gap: []byte("hidden bytes")}}, craftOpts{}),
		"local-only":  dropCentral(zipOf(file{"a", []byte("aaa"), zip.Deflate}, file{"b", pk, zip.Deflate}, file{"c", []byte("ccc"), zip.Store}), 1),
		"local-only2": dropCentral(zipOf(file{"a", []byte("aaa"), zip.Store}, file{"b", pk, zip.Store}, file{"c", []byte("ccc"), zip.Store}), 1),
	}
	var unsup bytes.Buffer
	w := zip.NewWriter(&unsup)
	fw, _ := w.CreateRaw(&zip.FileHeader{Name: "x.bz2", Method: 12, CompressedSize64: 4, UncompressedSize64: 4})
	_, _ = fw.Write([]byte("BZh9"))
	must(w.Close())
	m["unsupported"] = unsup.Bytes()
	// A hidden archive in the comment of another.
	hidden := zipOf(file{"evil.pkl", pk, zip.Store})
	outer := zipOf(file{"benign", []byte("ok"), zip.Store})
	put16(outer, len(outer)-2, uint16(len(hidden)))
	m["hidden"] = append(outer, hidden...)
	// Two archives back to back.
	one := rawZipOf(file{"a", []byte("first"), zip.Deflate})
	m["concatenated"] = append(append([]byte(nil), one...), one...)
	// A small deflate bomb (4 MiB of zeros).
	m["bomb"] = rawZipOf(file{"zeros", make([]byte, 4<<20), zip.Deflate})
	// Truncated: the central directory is cut off.
	c := rawZipOf(two...)
	m["truncated"] = c[:records(c)[0].cdOffset-10]
	return m
}

// sortedNames returns the archive names of testArchives in order.
func sortedNames(m map[string][]byte) []string {
	var n []string
	for k := range m {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
