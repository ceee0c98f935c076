package hdf5

import (
	"bytes"
	"fmt"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// walkGroupBTree walks a version-1 B-tree of group nodes ("TREE", type 0)
// and calls fn with the address of every symbol table node. Each child
// must sit exactly one level below its parent, so the walk cannot loop;
// a node reached twice is reported, never walked twice.
func (f *File) walkGroupBTree(addr uint64, fn func(snod uint64) error) error {
	return f.walkBT1(addr, -1, map[uint64]bool{}, fn)
}

func (f *File) walkBT1(addr uint64, level int, seen map[uint64]bool, fn func(uint64) error) error {
	r := f.r
	if seen[addr] {
		return formatErr(r.off(addr), "v1 B-tree node is reached twice (a loop or a shared subtree)")
	}
	seen[addr] = true
	if f.btNodes++; f.btNodes > r.lim.MaxBTreeNodes {
		return &LimitError{Offset: r.off(addr), Fatal: true, Msg: "more B-tree nodes than MaxBTreeNodes"}
	}
	pre := uint64(8 + 2*r.osz)
	b, err := r.read(addr, pre, "v1 B-tree node")
	if err != nil {
		return err
	}
	if !bytes.Equal(b[:4], []byte("TREE")) {
		return formatErr(r.off(addr), "v1 B-tree node has no TREE signature")
	}
	typ, lvl := b[4], int(b[5])
	used := int(b[6]) | int(b[7])<<8
	if typ != 0 {
		return formatErr(r.off(addr)+4, "group B-tree node of type %d (groups use type 0)", typ)
	}
	if level >= 0 && lvl != level {
		return formatErr(r.off(addr)+5, "v1 B-tree node at level %d where its parent expects level %d", lvl, level)
	}
	if lvl > r.lim.MaxBTreeDepth {
		return &LimitError{Offset: r.off(addr) + 5, Msg: fmt.Sprintf("v1 B-tree of depth %d is deeper than MaxBTreeDepth", lvl)}
	}
	if used > 2*f.internK {
		return formatErr(r.off(addr)+6, "v1 B-tree node says %d entries are used; its nodes hold at most %d", used, 2*f.internK)
	}
	entry := uint64(r.lsz + r.osz)
	a, _ := addU(addr, pre) // cannot overflow: the prefix was read
	body, err := r.read(a, uint64(used)*entry+uint64(r.lsz), "v1 B-tree node entries")
	if err != nil {
		return err
	}
	c := r.cursor(body, r.off(addr)+int64(pre))
	children := make([]uint64, 0, used)
	for i := 0; i < used; i++ {
		c.length() // key: heap offset of the largest name in the child
		children = append(children, c.addr())
	}
	if c.err != nil {
		return c.err
	}
	for _, ch := range children {
		if lvl == 0 {
			if err := fn(ch); err != nil {
				return err
			}
			continue
		}
		if err := f.walkBT1(ch, lvl-1, seen, fn); err != nil {
			return err
		}
	}
	return nil
}

// bt2 is an open version-2 B-tree ("BTHD").
type bt2 struct {
	addr     uint64
	typ      uint8
	nodeSize uint64
	recSize  int
	depth    int
	root     uint64
	rootNrec uint64
	maxNrec  []uint64 // per depth: records a node holds
	cumMax   []uint64 // per depth: records a subtree holds
	nrecSize int      // bytes of a child's record count
	cumSize  []int    // per depth: bytes of a subtree's record count
}

const bt2Prefix = 10 // signature, version, type, checksum

func (f *File) openBT2(addr uint64, wantType uint8) (*bt2, error) {
	r := f.r
	n := uint64(4 + 1 + 1 + 4 + 2 + 2 + 1 + 1 + r.osz + 2 + r.lsz + 4)
	b, err := r.read(addr, n, "v2 B-tree header")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(b[:4], []byte("BTHD")) {
		return nil, formatErr(r.off(addr), "v2 B-tree header has no BTHD signature")
	}
	if !checksumOK(b) {
		f.issue(RuleChecksum, finding.Medium, r.off(addr), "", "v2 B-tree header checksum does not match: it was altered after HDF5 wrote it", "")
	}
	c := r.cursor(b, r.off(addr))
	c.skip(4)
	ver := c.u8()
	t := &bt2{addr: addr, typ: c.u8()}
	t.nodeSize = uint64(c.u32())
	t.recSize = int(c.u16())
	t.depth = int(c.u16())
	c.skip(2) // split and merge percent
	t.root = c.addr()
	t.rootNrec = uint64(c.u16())
	c.length() // total records
	if c.err != nil {
		return nil, c.err
	}
	switch {
	case ver != 0:
		return nil, formatErr(r.off(addr)+4, "v2 B-tree version %d (only 0 exists)", ver)
	case t.typ != wantType:
		return nil, formatErr(r.off(addr)+5, "v2 B-tree of type %d where type %d belongs", t.typ, wantType)
	case t.recSize == 0 || t.nodeSize < bt2Prefix+uint64(t.recSize):
		return nil, formatErr(r.off(addr)+6, "v2 B-tree node size %d cannot hold one %d-byte record", t.nodeSize, t.recSize)
	case t.nodeSize > uint64(r.lim.MaxHeapBytes):
		return nil, &LimitError{Offset: r.off(addr) + 6, Msg: fmt.Sprintf("v2 B-tree node size %d is larger than MaxHeapBytes", t.nodeSize)}
	case t.depth > r.lim.MaxBTreeDepth:
		return nil, &LimitError{Offset: r.off(addr) + 12, Msg: fmt.Sprintf("v2 B-tree of depth %d is deeper than MaxBTreeDepth", t.depth)}
	}
	// Node capacities, as H5B2__hdr_init computes them: a leaf holds
	// (node - prefix) / record records; an internal node at depth d also
	// stores, per child, its address, its record count and (d > 1) its
	// subtree's record count, each in the fewest bytes that hold the
	// maximum.
	t.maxNrec = []uint64{(t.nodeSize - bt2Prefix) / uint64(t.recSize)}
	t.cumMax = []uint64{t.maxNrec[0]}
	t.cumSize = []int{0}
	t.nrecSize = limitEncSize(t.maxNrec[0])
	for d := 1; d <= t.depth; d++ {
		ptr := uint64(r.osz + t.nrecSize)
		if d > 1 {
			ptr += uint64(t.cumSize[d-1])
		}
		if t.nodeSize < bt2Prefix+ptr+uint64(t.recSize)+ptr {
			return nil, formatErr(r.off(addr)+6, "v2 B-tree node size %d is too small for an internal node at depth %d", t.nodeSize, d)
		}
		m := (t.nodeSize - (bt2Prefix + ptr)) / (uint64(t.recSize) + ptr)
		cum, ok1 := mulOK(m+1, t.cumMax[d-1])
		cum, ok2 := addU(cum, m)
		if !ok1 || !ok2 {
			return nil, formatErr(r.off(addr), "v2 B-tree capacity overflows at depth %d", d)
		}
		t.maxNrec = append(t.maxNrec, m)
		t.cumMax = append(t.cumMax, cum)
		t.cumSize = append(t.cumSize, limitEncSize(cum))
	}
	if t.rootNrec > t.maxNrec[t.depth] {
		return nil, formatErr(r.off(addr)+4+1+1+4+2+2+1+1+int64(r.osz), "v2 B-tree root says it holds %d records; a node of its size holds at most %d", t.rootNrec, t.maxNrec[t.depth])
	}
	return t, nil
}

// each calls fn with every record, in tree order.
func (f *File) eachBT2(t *bt2, fn func(rec []byte, off int64) error) error {
	if t.root == undef || t.rootNrec == 0 {
		return nil
	}
	return f.bt2Node(t, t.root, t.rootNrec, t.depth, map[uint64]bool{}, fn)
}

func (f *File) bt2Node(t *bt2, addr, nrec uint64, depth int, seen map[uint64]bool, fn func([]byte, int64) error) error {
	r := f.r
	if seen[addr] {
		return formatErr(r.off(addr), "v2 B-tree node is reached twice (a loop or a shared subtree)")
	}
	seen[addr] = true
	if f.btNodes++; f.btNodes > r.lim.MaxBTreeNodes {
		return &LimitError{Offset: r.off(addr), Fatal: true, Msg: "more B-tree nodes than MaxBTreeNodes"}
	}
	if nrec > t.maxNrec[depth] {
		return formatErr(r.off(addr), "v2 B-tree node says it holds %d records; a node at depth %d holds at most %d", nrec, depth, t.maxNrec[depth])
	}
	recs := nrec * uint64(t.recSize)
	ptr := uint64(r.osz + t.nrecSize)
	if depth > 1 {
		ptr += uint64(t.cumSize[depth-1])
	}
	n := 6 + recs + 4
	sig := "BTLF"
	if depth > 0 {
		n += (nrec + 1) * ptr
		sig = "BTIN"
	}
	b, err := r.read(addr, n, "v2 B-tree node")
	if err != nil {
		return err
	}
	if !bytes.Equal(b[:4], []byte(sig)) {
		return formatErr(r.off(addr), "v2 B-tree node has no %s signature", sig)
	}
	if b[4] != 0 || b[5] != t.typ {
		return formatErr(r.off(addr)+4, "v2 B-tree node version %d type %d in a tree of type %d", b[4], b[5], t.typ)
	}
	if !checksumOK(b) {
		f.issue(RuleChecksum, finding.Medium, r.off(addr), "", "v2 B-tree node checksum does not match: it was altered after HDF5 wrote it", "")
	}
	base := r.off(addr)
	if depth == 0 {
		for i := uint64(0); i < nrec; i++ {
			p := 6 + i*uint64(t.recSize)
			if err := fn(b[p:p+uint64(t.recSize)], base+int64(p)); err != nil {
				return err
			}
		}
		return nil
	}
	c := r.cursor(b[:len(b)-4], base)
	c.p = int(6 + recs)
	type child struct{ addr, nrec uint64 }
	kids := make([]child, 0, nrec+1)
	for i := uint64(0); i <= nrec; i++ {
		a := c.addr()
		k := c.uvar(t.nrecSize)
		if depth > 1 {
			c.uvar(t.cumSize[depth-1])
		}
		kids = append(kids, child{a, k})
	}
	if c.err != nil {
		return c.err
	}
	// Records of an internal node sit between its children.
	for i, k := range kids {
		if err := f.bt2Node(t, k.addr, k.nrec, depth-1, seen, fn); err != nil {
			return err
		}
		if uint64(i) < nrec {
			p := 6 + uint64(i)*uint64(t.recSize)
			if err := fn(b[p:p+uint64(t.recSize)], base+int64(p)); err != nil {
				return err
			}
		}
	}
	return nil
}
