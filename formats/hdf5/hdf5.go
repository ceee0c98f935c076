// Package hdf5 is a small, bounded, read-only HDF5 reader in pure Go. It
// reads the structure of a file (superblock, object headers, groups and
// links, attributes, datatypes, dataspaces) so that hallmark can read the
// Keras model_config, training_config, keras_version and backend
// attributes without cgo or libhdf5. It never reads the raw data of a
// dataset, only its shape and type.
//
// It covers what HDF5 writes for h5py (checked against HDF5 1.10.8 output
// of every kind h5py makes): superblocks 0–3, object
// headers 1 and 2 with continuation blocks, symbol-table groups (v1
// B-trees, symbol nodes, local heaps), compact and dense link storage and
// dense attribute storage (fractal heaps, v2 B-trees), attribute messages
// 1–3, fixed and variable-length strings (global heap), numbers, enums,
// arrays, and enough of compound, opaque and reference types to name and
// skip them. Version-2 checksums are verified.
//
// Every address and length read from the file is checked against the file
// size and a cap from Limits before anything is read or allocated; the
// total bytes read are capped; B-tree levels must descend and visited
// structures are remembered, so loops end. Problems are findings (Scan,
// File.Findings), not errors.
package hdf5

import (
	"bytes"
	"fmt"
	"io"
	"math"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

var signature = []byte{0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'}

// Superblock holds what the superblock says.
type Superblock struct {
	Version    int
	OffsetSize int
	LengthSize int
	// UserBlock is the number of bytes before the superblock (HDF5 looks
	// for it at 0, 512, 1024, 2048…); they are not part of the HDF5 data.
	UserBlock int64
	// EOF is the absolute end of the HDF5 data the superblock declares.
	EOF uint64
	// Root is the address of the root group's object header.
	Root uint64
}

// File is an open HDF5 file. It is not safe for concurrent use.
type File struct {
	Superblock Superblock

	r        *reader
	list     finding.List
	complete bool

	rootStab *stabInfo // the root entry's cached symbol table (superblock 0/1)
	leafK    int       // group leaf node K: symbols per symbol-table node / 2
	internK  int       // group internal node K: children per v1 B-tree node / 2

	btNodes int
	gheaps  map[uint64]*gcol
	blocks  map[uint64][]byte // verified fractal heap blocks
	cached  int64             // bytes in blocks
	noted   map[string]bool   // finding de-duplication (rule+offset+message)
	perRule map[string]int
}

// perRule is how many findings of one rule are kept (finding.List's
// default).
const perRule = 16

// Findings returns what Open and the walks so far found.
func (f *File) Findings() []finding.Finding { return f.list.Findings }

// Complete reports whether everything reached so far was read: false after
// a malformed structure, a limit or an unsupported feature.
func (f *File) Complete() bool { return f.complete }

// Open reads the superblock. The error, if any, is a *FormatError (not an
// HDF5 file, or a superblock that cannot be used) or a *LimitError.
// Non-fatal problems (checksum mismatch, truncation, user block, trailing
// bytes) are recorded as findings.
func Open(ra io.ReaderAt, size int64, lim Limits) (*File, error) {
	lim = lim.withDefaults()
	if size < 0 {
		size = 0
	}
	r := &reader{ra: ra, size: size, lim: lim, eof: undef}
	f := &File{r: r, complete: true, leafK: 4, internK: 16}

	// HDF5 looks for the signature at 0 and at every power of two from 512.
	sb := int64(-1)
	var sig [8]byte
	for off := int64(0); off <= size-8; {
		if err := r.readRaw(off, sig[:]); err != nil {
			return nil, err
		}
		if bytes.Equal(sig[:], signature) {
			sb = off
			break
		}
		if off == 0 {
			off = 512
		} else if off > math.MaxInt64/2 {
			break
		} else {
			off *= 2
		}
	}
	if sb < 0 {
		return nil, formatErr(0, "no HDF5 signature at offset 0 or at any power of two from 512")
	}
	f.Superblock.UserBlock = sb
	if err := f.readSuperblock(sb); err != nil {
		return nil, err
	}
	if sb > 0 {
		f.checkUserBlock(sb)
	}
	return f, nil
}

func (f *File) readSuperblock(sb int64) error {
	r := f.r
	// Read what the largest superblock (version 1, 8-byte fields) needs,
	// or what the file has.
	n := int64(28 + 4*8 + 2*8 + 24)
	if sb+n > r.size {
		n = r.size - sb
	}
	buf := make([]byte, n)
	if err := r.readRaw(sb, buf); err != nil {
		return err
	}
	r.spent += n
	c := &cursor{b: buf, off: sb}
	c.skip(8)
	ver := c.u8()
	f.Superblock.Version = int(ver)
	var storedBase, eof, root uint64
	extAddr := undef
	switch ver {
	case 0, 1:
		c.skip(3) // free-space, root entry and shared header versions
		if v := c.u8(); v != 0 && c.err == nil {
			return formatErr(sb+11, "shared header message format version %d (only 0 exists)", v)
		}
		c.osz, c.lsz = int(c.u8()), int(c.u8())
		c.skip(1)
		if err := f.sizes(c, sb+13); err != nil {
			return err
		}
		f.leafK, f.internK = int(c.u16()), int(c.u16())
		c.skip(4) // consistency flags
		if ver == 1 {
			c.skip(4) // indexed storage K, reserved
		}
		storedBase = c.addr()
		c.addr() // free-space info
		eof = c.addr()
		c.addr() // driver info block
		entryOff := c.pos()
		c.addr() // root link name offset
		root = c.addr()
		cache := c.u32()
		c.skip(4)
		scratch := c.bytes(16)
		if c.err != nil {
			return c.err
		}
		if f.leafK == 0 || f.internK == 0 {
			return formatErr(sb+16, "group B-tree K values are zero (leaf %d, internal %d)", f.leafK, f.internK)
		}
		if cache == 1 {
			sc := c.sub(scratch, entryOff+24)
			f.rootStab = &stabInfo{btree: sc.addr(), heap: sc.addr()}
		}
	case 2, 3:
		c.osz, c.lsz = int(c.u8()), int(c.u8())
		if err := f.sizes(c, sb+9); err != nil {
			return err
		}
		c.skip(1) // consistency flags
		storedBase = c.addr()
		ext := c.addr()
		eof = c.addr()
		root = c.addr()
		end := c.p
		c.skip(4)
		if c.err != nil {
			return c.err
		}
		if !checksumOK(buf[:end+4]) {
			f.issue(RuleChecksum, finding.Medium, sb, "", "superblock checksum does not match: the superblock was altered after it was written", "")
		}
		extAddr = ext
	default:
		return formatErr(sb+8, "superblock version %d is not one HDF5 defines (0-3)", ver)
	}
	r.osz, r.lsz = c.osz, c.lsz
	f.Superblock.OffsetSize, f.Superblock.LengthSize = c.osz, c.lsz
	r.base = uint64(sb)
	f.Superblock.Root = root

	// HDF5 rebases a superblock that moved (stored base != where it was
	// found) and shifts the end-of-file address with it.
	if eof == undef {
		return formatErr(sb, "end-of-file address is undefined")
	}
	shifted, ok := addU(eof, uint64(sb))
	if ok && storedBase <= shifted {
		eof = shifted - storedBase
	} else {
		return formatErr(sb, "end-of-file address %#x does not fit the base address %#x", eof, storedBase)
	}
	r.eof = eof
	f.Superblock.EOF = eof
	switch {
	case uint64(r.size) < eof:
		f.issueF(RuleTruncated, finding.High, r.size, "", "",
			"file is %d bytes but its superblock says the HDF5 data ends at %d: it was cut short, so part of the model cannot be checked", r.size, eof)
		f.complete = false
	case uint64(r.size) > eof:
		tail := make([]byte, min(uint64(r.size)-eof, 32))
		ev := ""
		if r.readRaw(int64(eof), tail) == nil {
			ev = fmt.Sprintf("%q", tail)
		}
		f.issueF(RuleTrailingData, finding.Medium, int64(eof), "", ev,
			"%d bytes follow the end of the HDF5 data: HDF5 ignores them, so they can carry a second file (polyglot) no HDF5 reader sees", uint64(r.size)-eof)
	}
	if root == undef {
		return formatErr(sb, "root group address is undefined")
	}
	if a, ok := r.abs(root); !ok || a >= eof {
		return formatErr(sb, "root group object header address %#x lies outside the HDF5 data (%d bytes)", root, eof)
	}
	if extAddr != undef {
		f.readExtension(extAddr)
	}
	return nil
}

func (f *File) sizes(c *cursor, off int64) error {
	if c.err != nil {
		return c.err
	}
	for _, s := range []int{c.osz, c.lsz} {
		if s != 2 && s != 4 && s != 8 {
			return formatErr(off, "size of offsets/lengths %d/%d: HDF5 uses 2, 4 or 8", c.osz, c.lsz)
		}
	}
	return nil
}

// readExtension reads the superblock extension (superblock 2/3) for the
// group B-tree K values; nothing else in it matters to a reader.
func (f *File) readExtension(addr uint64) {
	h, err := f.readHeader(addr, "superblock extension")
	if err != nil {
		f.record(err, "superblock extension")
	}
	if h == nil {
		return
	}
	for _, m := range h.msgs {
		if m.typ != msgBTreeK {
			continue
		}
		c := f.r.cursor(m.data, m.off)
		c.u8()
		c.u16() // indexed storage K
		ik, lk := c.u16(), c.u16()
		if c.err == nil && ik > 0 && lk > 0 {
			f.internK, f.leafK = int(ik), int(lk)
		}
	}
}

// checkUserBlock reports a user block that is not all zeros: HDF5 skips
// it, so another format (a pickle, a zip) can live there.
func (f *File) checkUserBlock(n int64) {
	buf := make([]byte, min(n, 4096))
	if f.r.readRaw(0, buf) != nil {
		return
	}
	f.r.spent += int64(len(buf))
	if bytes.Count(buf, []byte{0}) == len(buf) {
		return
	}
	f.issueF(RuleUserBlock, finding.Medium, 0, "", fmt.Sprintf("%q", buf[:min(len(buf), 32)]),
		"the %d bytes before the HDF5 superblock (user block) are not empty: HDF5 skips them, so they can hold another file format that other loaders read", n)
}

// issue records a finding once per (rule, offset, where, message). Once a
// rule has filled its share of the list, later ones are only counted, so
// the de-duplication set stays small whatever the file repeats.
func (f *File) issue(rule string, lvl finding.Level, off int64, where, msg, ev string) {
	if f.noted == nil {
		f.noted, f.perRule = map[string]bool{}, map[string]int{}
	}
	if f.perRule[rule] >= perRule {
		f.list.Dropped++
		return
	}
	k := fmt.Sprintf("%s\x00%d\x00%s\x00%s", rule, off, where, msg)
	if f.noted[k] {
		return
	}
	f.noted[k] = true
	f.perRule[rule]++
	f.list.Add(finding.Finding{Rule: rule, Level: lvl, Offset: off, Where: finding.Shorten(where, 256), Message: msg, Evidence: ev})
}

func (f *File) issueF(rule string, lvl finding.Level, off int64, where, ev, format string, args ...any) {
	f.issue(rule, lvl, off, where, fmt.Sprintf(format, args...), ev)
}

// record turns an error met while reading into a finding.
func (f *File) record(err error, where string) {
	switch e := err.(type) {
	case nil:
	case *FormatError:
		f.complete = false
		if e.Truncated {
			f.issue(RuleTruncated, finding.High, e.Offset, where, "truncated: "+e.Msg, "")
		} else {
			f.issue(RuleMalformed, finding.High, e.Offset, where, "malformed: "+e.Msg, "")
		}
	case *LimitError:
		f.complete = false
		f.issue(RuleLimit, finding.High, e.Offset, where, "analysis stopped: "+e.Msg, "")
	case *unsupportedError:
		f.complete = false
		f.issue(RuleUnsupported, finding.High, e.Offset, where, "cannot check: "+e.Msg, "")
	default:
		f.complete = false
		f.issue(RuleMalformed, finding.High, -1, where, "malformed: "+err.Error(), "")
	}
}

// unsupportedError is a valid HDF5 feature this reader does not decode.
type unsupportedError struct {
	Offset int64
	Msg    string
}

func (e *unsupportedError) Error() string { return "hdf5: unsupported: " + e.Msg }

func unsupported(off int64, format string, args ...any) *unsupportedError {
	return &unsupportedError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}
