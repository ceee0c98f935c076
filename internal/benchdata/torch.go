package benchdata

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Torch describes a PyTorch checkpoint as torch.save writes it for
//
//	sd = collections.OrderedDict()
//	for k in range(Tensors):
//	    sd[f"layers.{k}.weight"] = torch.full((Numel,), float(k))   # float32
//	torch.save(sd, f)
//
// where f is a file-like object (the archive's folder is then "archive") or
// a path whose base name without extension is Archive.
type Torch struct {
	Tensors int    // number of float32 tensors, each its own storage
	Numel   int64  // elements per tensor (4 bytes each)
	Archive string // top-level folder of every member ("archive" when empty)
	// Legacy selects the records torch 1.x writes (data.pkl, data/N,
	// version). Otherwise the records of the current torch writer are
	// written: data.pkl, .format_version, .storage_alignment, byteorder,
	// data/N, version, .data/serialization_id.
	Legacy bool
}

// TorchCheckpoint writes the checkpoint described by t to w, laid out as
// PyTorch's PyTorchStreamWriter (caffe2/serialize/inline_container.cc, on
// miniz with MZ_ZIP_FLAG_WRITE_ZIP64) lays it out: every member STORED,
// with zeroed times, flags 0x0808 (data descriptor, UTF-8), CRC and sizes
// in a data descriptor after the data, and a "FB" extra field of 'Z' bytes
// in the local header that puts the data at a multiple of 64 bytes. A
// member whose local header starts at or beyond 4 GiB has a zip64 extra
// field holding that offset (in its local and central headers) and a
// 24-byte descriptor; the archive ends with a zip64 end record, its locator
// and the classic end record. Tensor data is streamed, so a 4 GiB
// checkpoint costs about 1 MiB of memory to write.
//
// With Legacy set the output is byte for byte what torch 1.13's torch.save
// writes. Otherwise it is what the current writer writes, except for the
// first 20 digits of .data/serialization_id: torch derives them from
// std::hash of the record names, in the iteration order of an
// unordered_set, which cannot be reproduced portably; here they are an
// FNV-1a hash of the names in write order. The last 20 digits (the
// combined CRC-32 of the records) are computed as torch does.
func TorchCheckpoint(w io.Writer, t Torch) error {
	if t.Tensors < 0 || t.Numel < 0 {
		return fmt.Errorf("benchdata: negative tensor count or size")
	}
	if t.Numel > math.MaxInt64/4 {
		return fmt.Errorf("benchdata: tensor of %d elements too large", t.Numel)
	}
	archive := t.Archive
	if archive == "" {
		archive = "archive"
	}
	z := &torchZip{w: bufio.NewWriterSize(w, 1<<20), prefix: archive + "/"}
	pkl := torchStateDict(t.Tensors, t.Numel)
	z.bytes("data.pkl", pkl)
	if !t.Legacy {
		z.bytes(".format_version", []byte("1"))
		z.bytes(".storage_alignment", []byte("64"))
		z.bytes("byteorder", []byte("little"))
	}
	// Storages are written in key order: numeric in the current writer
	// (.format_version 1), by string in torch 1.x ("10" before "2").
	keys := make([]int, t.Tensors)
	for k := range keys {
		keys[k] = k
	}
	if t.Legacy {
		slices.SortFunc(keys, func(a, b int) int { return strings.Compare(strconv.Itoa(a), strconv.Itoa(b)) })
	}
	for _, k := range keys {
		z.record("data/"+strconv.Itoa(k), t.Numel*4, func(w io.Writer) error { return fillFloat32(w, float32(k), t.Numel) })
	}
	z.bytes("version", []byte("3\n"))
	if !t.Legacy {
		z.bytes(".data/serialization_id", []byte(z.serializationID()))
	}
	return z.finish()
}

// WriteTorchCheckpoint writes TorchCheckpoint(t) to the file at path,
// replacing it, and returns the file's size.
func WriteTorchCheckpoint(path string, t Torch) (int64, error) {
	return writeFile(path, func(w io.Writer) error { return TorchCheckpoint(w, t) })
}

// fillFloat32 writes n little-endian float32 copies of v.
func fillFloat32(w io.Writer, v float32, n int64) error {
	const chunkElems = 256 << 10 // 1 MiB
	chunk := make([]byte, 4*min(n, chunkElems))
	bits := math.Float32bits(v)
	for i := 0; i < len(chunk); i += 4 {
		binary.LittleEndian.PutUint32(chunk[i:], bits)
	}
	for n > 0 {
		k := min(n, chunkElems)
		if _, err := w.Write(chunk[:4*k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// torchStateDict is data.pkl for the state dict: what the C pickler writes
// at protocol 2 (torch.save's default) with torch's persistent_id, which
// stands each tensor's storage for ('storage', torch.FloatStorage, key,
// 'cpu', numel), key being "0", "1", … in order of first appearance.
func torchStateDict(tensors int, numel int64) []byte {
	p := &p2{}
	p.b = append(p.b, opProto, 2)
	p.global("collections", "OrderedDict") // memo 0
	p.b = append(p.b, ')', 'R')
	p.put() // memo 1: the OrderedDict
	var rebuild, storageStr, floatStorage, cpu int
	item := func(k int) {
		p.str(fmt.Sprintf("layers.%d.weight", k))
		if k == 0 {
			rebuild = p.global("torch._utils", "_rebuild_tensor_v2")
		} else {
			p.get(rebuild)
		}
		p.b = append(p.b, opMark, opMark)
		if k == 0 {
			storageStr = p.str("storage")
			floatStorage = p.global("torch", "FloatStorage")
		} else {
			p.get(storageStr)
			p.get(floatStorage)
		}
		p.str(strconv.Itoa(k))
		if k == 0 {
			cpu = p.str("cpu")
		} else {
			p.get(cpu)
		}
		p.int(numel)
		p.b = append(p.b, 't')
		p.put()
		p.b = append(p.b, 'Q') // BINPERSID
		p.int(0)               // storage_offset
		p.int(numel)           // size
		p.b = append(p.b, 0x85)
		p.put()
		p.int(1) // stride
		p.b = append(p.b, 0x85)
		p.put()
		p.b = append(p.b, 0x89) // requires_grad=False
		p.get(0)                // backward_hooks: OrderedDict()
		p.b = append(p.b, ')', 'R')
		p.put()
		p.b = append(p.b, 't')
		p.put()
		p.b = append(p.b, 'R')
		p.put()
	}
	// batch_dict: SETITEMS batches of up to 1000 items; a batch of one
	// item is written with SETITEM.
	for k := 0; k < tensors; {
		if tensors-k == 1 {
			item(k)
			p.b = append(p.b, 's')
			break
		}
		p.b = append(p.b, opMark)
		for n := 0; n < batchSize && k < tensors; n++ {
			item(k)
			k++
		}
		p.b = append(p.b, 'u')
	}
	p.b = append(p.b, opStop)
	return p.b
}

// p2 writes protocol-2 opcodes with the C pickler's memo numbering.
type p2 struct {
	b    []byte
	memo int
}

// put memoizes the object just written and returns its memo index.
func (p *p2) put() int {
	if p.memo < 256 {
		p.b = append(p.b, opBinput, byte(p.memo))
	} else {
		p.b = binary.LittleEndian.AppendUint32(append(p.b, 'r'), uint32(p.memo))
	}
	p.memo++
	return p.memo - 1
}

func (p *p2) get(i int) {
	if i < 256 {
		p.b = append(p.b, 'h', byte(i))
	} else {
		p.b = binary.LittleEndian.AppendUint32(append(p.b, 'j'), uint32(i))
	}
}

func (p *p2) str(s string) int {
	p.b = binary.LittleEndian.AppendUint32(append(p.b, 'X'), uint32(len(s)))
	p.b = append(p.b, s...)
	return p.put()
}

func (p *p2) global(module, name string) int {
	p.b = append(p.b, 'c')
	p.b = append(p.b, module+"\n"+name+"\n"...)
	return p.put()
}

// int is save_long at protocol 2: BININT1, BININT2, BININT, else LONG1.
func (p *p2) int(v int64) {
	switch {
	case v >= 0 && v <= 0xff:
		p.b = append(p.b, 'K', byte(v))
	case v >= 0 && v <= 0xffff:
		p.b = binary.LittleEndian.AppendUint16(append(p.b, 'M'), uint16(v))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		p.b = binary.LittleEndian.AppendUint32(append(p.b, 'J'), uint32(int32(v)))
	default:
		// LONG1: little-endian two's complement, shortest form.
		var le []byte
		for x := v; ; x >>= 8 {
			le = append(le, byte(x))
			if rest := x >> 8; (rest == 0 && byte(x)&0x80 == 0) || (rest == -1 && byte(x)&0x80 != 0) {
				break
			}
		}
		p.b = append(append(p.b, 0x8a, byte(len(le))), le...)
	}
}

// torchZip is the part of miniz's writer that torch uses.
type torchZip struct {
	w       *bufio.Writer
	prefix  string
	off     int64
	entries []torchEntry
	crcs    uint64 // c10::hash_combine of every record's CRC-32, as PyTorchStreamWriter keeps it
	names   uint64
	err     error
}

type torchEntry struct {
	name  string
	off   int64
	size  int64
	crc   uint32
	flags uint16
	z64   bool // zip64 extra field with the local header offset
}

const (
	zipAlign = 64 // torch's kFieldAlignment
	u32max   = math.MaxUint32
)

func (z *torchZip) raw(p []byte) {
	if z.err != nil {
		return
	}
	_, z.err = z.w.Write(p)
	z.off += int64(len(p))
}

func (z *torchZip) bytes(name string, data []byte) {
	z.record(name, int64(len(data)), func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// record is PyTorchStreamWriter::writeRecord (detail::getPadding) and
// miniz's mz_zip_writer_add_mem_ex_v2 for a stored member of size bytes.
func (z *torchZip) record(name string, size int64, fill func(io.Writer) error) {
	if z.err != nil {
		return
	}
	full := z.prefix + name
	// An empty record has no data descriptor (and only the UTF-8 flag).
	e := torchEntry{name: full, off: z.off, size: size, flags: 0x0800}
	if size > 0 {
		e.flags |= 0x0008
	}
	// getPadding: the data starts after the 30-byte header, the name, the
	// zip64 extra (when miniz writes one) and the 4-byte FB header.
	start := z.off + 30 + int64(len(full)) + 4
	if size >= u32max || z.off >= u32max {
		start += 4
		if size >= u32max {
			start += 16
		}
		if z.off >= u32max {
			start += 8
		}
	}
	pad := (zipAlign - start%zipAlign) % zipAlign
	var z64extra []byte
	if size >= u32max || z.off >= u32max {
		e.z64 = true
		z64extra = zip64Extra(size, z.off)
	}
	extra := append(z64extra, 'F', 'B', byte(pad), byte(pad>>8))
	for range pad {
		extra = append(extra, 'Z')
	}
	var h [30]byte
	binary.LittleEndian.PutUint32(h[0:], 0x04034b50)
	// version needed 0, flags: data descriptor | UTF-8, method 0 (stored),
	// time and date 0, CRC and sizes 0 (they are in the descriptor).
	binary.LittleEndian.PutUint16(h[6:], e.flags)
	binary.LittleEndian.PutUint16(h[26:], uint16(len(full)))
	binary.LittleEndian.PutUint16(h[28:], uint16(len(extra)))
	z.raw(h[:])
	z.raw([]byte(full))
	z.raw(extra)
	if z.err != nil {
		return
	}
	cw := &crcWriter{w: z.w}
	if err := fill(cw); err != nil {
		z.err = err
		return
	}
	if cw.n != size {
		z.err = fmt.Errorf("benchdata: %s: wrote %d bytes, want %d", full, cw.n, size)
		return
	}
	z.off += size
	e.crc = cw.crc
	z.names = fnv1a(z.names, full)
	z.entries = append(z.entries, e)
	if size == 0 {
		return
	}
	// Data descriptor: 32-bit sizes, or 64-bit ones when the entry has a
	// zip64 extra field.
	d := binary.LittleEndian.AppendUint32(nil, 0x08074b50)
	d = binary.LittleEndian.AppendUint32(d, e.crc)
	if e.z64 {
		d = binary.LittleEndian.AppendUint64(d, uint64(size))
		d = binary.LittleEndian.AppendUint64(d, uint64(size))
	} else {
		d = binary.LittleEndian.AppendUint32(d, uint32(size))
		d = binary.LittleEndian.AppendUint32(d, uint32(size))
	}
	z.raw(d)
	// PyTorchStreamWriter combines the CRC of each descriptor it writes.
	z.crcs = hashCombine(z.crcs, uint64(e.crc))
}

// zip64Extra is mz_zip_writer_create_zip64_extra_data: the sizes when the
// member is 4 GiB or more, the local header offset when it is at or past
// 4 GiB.
func zip64Extra(size, off int64) []byte {
	var body []byte
	if size >= u32max {
		body = binary.LittleEndian.AppendUint64(body, uint64(size))
		body = binary.LittleEndian.AppendUint64(body, uint64(size))
	}
	if off >= u32max {
		body = binary.LittleEndian.AppendUint64(body, uint64(off))
	}
	x := binary.LittleEndian.AppendUint16(nil, 1)
	x = binary.LittleEndian.AppendUint16(x, uint16(len(body)))
	return append(x, body...)
}

// hashCombine is c10::hash_combine (boost's).
func hashCombine(seed, value uint64) uint64 {
	return seed ^ (value + 0x9e3779b9 + (seed << 6) + (seed >> 2))
}

func fnv1a(h uint64, s string) uint64 {
	if h == 0 {
		h = 14695981039346656037
	}
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// serializationID is PyTorchStreamWriter::writeSerializationId's layout:
// two zero-padded 20-digit numbers (see TorchCheckpoint for the first).
func (z *torchZip) serializationID() string {
	return fmt.Sprintf("%020d%020d", z.names, z.crcs)
}

// finish writes the central directory and miniz's end records
// (mz_zip_writer_finalize_archive with zip64 on).
func (z *torchZip) finish() error {
	cdStart := z.off
	for _, e := range z.entries {
		var h [46]byte
		binary.LittleEndian.PutUint32(h[0:], 0x02014b50)
		// version made by 0, needed 0, flags, method 0, time and date 0
		binary.LittleEndian.PutUint16(h[8:], e.flags)
		binary.LittleEndian.PutUint32(h[16:], e.crc)
		binary.LittleEndian.PutUint32(h[20:], uint32(min(e.size, u32max)))
		binary.LittleEndian.PutUint32(h[24:], uint32(min(e.size, u32max)))
		binary.LittleEndian.PutUint16(h[28:], uint16(len(e.name)))
		var extra []byte
		if e.z64 {
			extra = zip64Extra(e.size, e.off)
		}
		binary.LittleEndian.PutUint16(h[30:], uint16(len(extra)))
		binary.LittleEndian.PutUint32(h[42:], uint32(min(e.off, u32max)))
		z.raw(h[:])
		z.raw([]byte(e.name))
		z.raw(extra)
	}
	cdSize := z.off - cdStart
	n := uint64(len(z.entries))
	// zip64 end of central directory record.
	eocd64 := z.off
	r := binary.LittleEndian.AppendUint32(nil, 0x06064b50)
	r = binary.LittleEndian.AppendUint64(r, 44)
	r = binary.LittleEndian.AppendUint16(r, 0x031e) // made by: Unix, 3.0
	r = binary.LittleEndian.AppendUint16(r, 0x002d) // needed: 4.5
	r = binary.LittleEndian.AppendUint32(r, 0)
	r = binary.LittleEndian.AppendUint32(r, 0)
	r = binary.LittleEndian.AppendUint64(r, n)
	r = binary.LittleEndian.AppendUint64(r, n)
	r = binary.LittleEndian.AppendUint64(r, uint64(cdSize))
	r = binary.LittleEndian.AppendUint64(r, uint64(cdStart))
	// Locator.
	r = binary.LittleEndian.AppendUint32(r, 0x07064b50)
	r = binary.LittleEndian.AppendUint32(r, 0)
	r = binary.LittleEndian.AppendUint64(r, uint64(eocd64))
	r = binary.LittleEndian.AppendUint32(r, 1)
	// End of central directory record.
	r = binary.LittleEndian.AppendUint32(r, 0x06054b50)
	r = binary.LittleEndian.AppendUint32(r, 0)
	r = binary.LittleEndian.AppendUint16(r, uint16(min(n, 0xffff)))
	r = binary.LittleEndian.AppendUint16(r, uint16(min(n, 0xffff)))
	r = binary.LittleEndian.AppendUint32(r, uint32(min(cdSize, u32max)))
	r = binary.LittleEndian.AppendUint32(r, uint32(min(cdStart, u32max)))
	r = binary.LittleEndian.AppendUint16(r, 0)
	z.raw(r)
	if z.err != nil {
		return z.err
	}
	return z.w.Flush()
}

// crcWriter passes bytes on and keeps their CRC-32 and count.
type crcWriter struct {
	w   io.Writer
	crc uint32
	n   int64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc = crc32.Update(c.crc, crc32.IEEETable, p[:n])
	c.n += int64(n)
	return n, err
}
