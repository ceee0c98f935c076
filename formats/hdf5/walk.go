package hdf5

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

// Object is a group, dataset or committed datatype reached from the root.
type Object struct {
	Path  string      // "/" for the root, "/model_weights/dense/dense/kernel:0" below it
	Kind  string      // "group", "dataset", "datatype" or "unknown" (no message says what it is)
	Addr  uint64      // object header address, relative to the superblock
	Attrs []Attribute // in HDF5's lookup order: the first of a name is what HDF5 returns
	// Datasets only: Shape is nil for a scalar; Elements is the number of
	// numbers it holds (dataspace elements times the elements of an array
	// type; 0 for a null dataspace); Layout is "compact", "contiguous",
	// "chunked" or "virtual".
	Shape    []uint64
	Elements uint64
	Layout   string
	// Dtype names the type of a dataset or committed datatype: "f32",
	// "f16", "bf16", "i64", "u8", "bool", "S10" (fixed string), "vlen-str",
	// "enum-i8", "compound", "opaque8", "ref-obj", "f32[3]" (array)…
	Dtype string
}

type walker struct {
	f       *File
	fn      func(*Object) error
	count   int
	visited map[uint64]bool
	onPath  map[uint64]bool
	stabs   map[uint64]stabInfo // groups' own symbol table messages
}

// errStop wraps an error from the callback so the walk returns it as is.
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }

// Walk calls fn for every group, dataset and committed datatype reachable
// from the root by hard links, depth-first, children in name order, each
// object once (by object header address). A structure that cannot be read
// is recorded as a finding (see Findings) and skipped. Walk returns fn's
// error, or a *LimitError when a cap stopped the whole walk.
func (f *File) Walk(fn func(o *Object) error) error {
	w := &walker{f: f, fn: fn, visited: map[uint64]bool{}, onPath: map[uint64]bool{}, stabs: map[uint64]stabInfo{}}
	err := w.visit(f.Superblock.Root, "/", 0, f.rootStab)
	var s errStop
	if errors.As(err, &s) {
		return s.err
	}
	return err
}

func (w *walker) visit(addr uint64, path string, depth int, cached *stabInfo) error {
	f := w.f
	lim := f.r.lim
	if w.count >= lim.MaxObjects {
		err := &LimitError{Offset: f.r.off(addr), Fatal: true, Msg: fmt.Sprintf("more than %d objects (MaxObjects)", lim.MaxObjects)}
		f.record(err, path)
		return err
	}
	w.count++
	w.visited[addr] = true
	h, err := f.readHeader(addr, path)
	if err != nil {
		f.record(err, path)
		if isFatal(err) {
			return err
		}
		if h == nil {
			return nil
		}
	}
	o := &Object{Path: path, Addr: addr, Kind: kindOfHeader(h)}
	if path == "/" && o.Kind == "unknown" {
		o.Kind = "group"
	}
	attrs, err := f.attributes(h, path)
	o.Attrs = attrs
	if err != nil {
		return err // fatal: recorded already
	}
	w.checkStrings(o)
	var own *stabInfo
	if m := h.find(msgSymbolTable); m != nil {
		c := f.r.cursor(m.data, m.off)
		s := stabInfo{btree: c.addr(), heap: c.addr()}
		if c.err == nil {
			own = &s
			w.stabs[addr] = s
		}
	}
	if cached != nil && own != nil && *cached != *own {
		w.inconsistent(path, addr, *cached, *own)
	}
	switch o.Kind {
	case "dataset":
		if err := f.datasetInfo(h, o); err != nil {
			f.record(err, path)
			if isFatal(err) {
				return err
			}
		}
	case "datatype":
		if t, err := f.headerDatatype(h); err != nil {
			f.record(err, path)
		} else {
			o.Dtype = t.String()
		}
	}
	if err := w.fn(o); err != nil {
		return errStop{err}
	}
	if o.Kind != "group" {
		return nil
	}
	links, err := f.links(h, path)
	if err != nil {
		f.record(err, path)
		if isFatal(err) {
			return err
		}
	}
	if len(links) == 0 {
		return nil
	}
	if depth >= lim.MaxDepth {
		f.record(&LimitError{Offset: f.r.off(addr), Msg: fmt.Sprintf("groups nest deeper than %d (MaxDepth); the rest is not checked", lim.MaxDepth)}, path)
		return nil
	}
	sort.SliceStable(links, func(i, j int) bool { return links[i].name < links[j].name })
	for i := 1; i < len(links); i++ {
		if links[i].name == links[i-1].name {
			f.issueF(RuleDuplicateName, finding.High, links[i].off, joinPath(path, links[i].name), "",
				"two links in one group are named %q: HDF5 finds only one of them by name, so a loader and a scanner can reach different objects under the same path", links[i].name)
		}
	}
	w.onPath[addr] = true
	defer delete(w.onPath, addr)
	for _, l := range links {
		child := joinPath(path, l.name)
		switch {
		case l.typ == linkExternal:
			f.issue(RuleExternalLink, finding.Medium, l.off, child,
				"external link to another file: opening this path makes HDF5 open that file, so loading the model reads files outside it",
				finding.Shorten(l.target, 200))
			continue
		case l.typ != linkHard:
			continue // soft links name paths inside the file; user-defined links are not followed by h5py
		}
		if l.addr == undef {
			f.record(formatErr(l.off, "hard link %q has the undefined address", l.name), child)
			continue
		}
		if l.stab != nil {
			if s, ok := w.stabs[l.addr]; ok && s != *l.stab {
				w.inconsistent(child, l.addr, *l.stab, s)
			}
		}
		if w.onPath[l.addr] {
			f.issueF(RuleCycle, finding.Low, l.off, child, "",
				"hard link %q points back at an enclosing group (%s): the group contains itself, and naive recursive readers never finish", l.name, fmtAddr(l.addr))
			continue
		}
		if w.visited[l.addr] {
			continue // a second name for an object already seen
		}
		if len(child) > lim.MaxPathLen {
			f.record(&LimitError{Offset: l.off, Msg: fmt.Sprintf("object path longer than %d bytes (MaxPathLen); that subtree is not checked", lim.MaxPathLen)}, finding.Shorten(child, 200))
			continue
		}
		if err := f.r.charge(len(child), "building object paths"); err != nil {
			f.record(err, finding.Shorten(child, 200))
			return err
		}
		if err := w.visit(l.addr, child, depth+1, l.stab); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) inconsistent(path string, addr uint64, cached, own stabInfo) {
	w.f.issueF(RuleInconsistent, finding.Medium, w.f.r.off(addr), path, "",
		"the link caches B-tree %s / heap %s but the group it points to (%s) has B-tree %s / heap %s: the link address was edited by hand",
		fmtAddr(cached.btree), fmtAddr(cached.heap), fmtAddr(addr), fmtAddr(own.btree), fmtAddr(own.heap))
}

// checkStrings reports string attributes cut at MaxAttribute: whoever
// analyses them (the Keras config checks) sees only part.
func (w *walker) checkStrings(o *Object) {
	for _, a := range o.Attrs {
		if !a.Truncated {
			continue
		}
		switch a.Value.(type) {
		case string, []string:
			w.f.record(&LimitError{Offset: a.Offset, Msg: fmt.Sprintf("string attribute %q is longer than MaxAttribute (%d bytes) or has more than MaxAttrElements elements: only the start is checked", a.Name, w.f.r.lim.MaxAttribute)}, o.Path+"@"+a.Name)
		}
	}
}

func joinPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

func kindOfHeader(h *header) string {
	var hasType, hasSpace, hasLayout bool
	for _, m := range h.msgs {
		switch m.typ {
		case msgSymbolTable, msgLinkInfo, msgLink, msgGroupInfo:
			return "group"
		case msgDatatype:
			hasType = true
		case msgDataspace:
			hasSpace = true
		case msgLayout:
			hasLayout = true
		}
	}
	switch {
	case hasLayout || (hasType && hasSpace):
		return "dataset"
	case hasType:
		return "datatype"
	}
	return "unknown"
}

func (f *File) headerDatatype(h *header) (*dtype, error) {
	m := h.find(msgDatatype)
	if m == nil {
		return nil, formatErr(f.r.off(h.addr), "dataset has no datatype message")
	}
	if m.flags&msgFlagShared != 0 {
		return f.sharedDatatype(m.data, m.off)
	}
	c := f.r.cursor(m.data, m.off)
	t := parseDatatype(c, 0)
	return t, c.err
}

// datasetInfo fills shape, type and layout, and reports raw data stored
// outside the file. It never reads the data.
func (f *File) datasetInfo(h *header, o *Object) error {
	r := f.r
	t, err := f.headerDatatype(h)
	if err != nil {
		return err
	}
	o.Dtype = t.String()
	m := h.find(msgDataspace)
	if m == nil {
		return formatErr(r.off(h.addr), "dataset has no dataspace message")
	}
	if m.flags&msgFlagShared != 0 {
		return unsupported(m.off, "dataset with a shared dataspace (shared object header messages)")
	}
	c := r.cursor(m.data, m.off)
	s := parseDataspace(c)
	if c.err != nil {
		return c.err
	}
	if s.kind == spaceSimple {
		o.Shape = s.dims
	}
	o.Elements = s.count
	if _, per, ok := leaf(t); ok {
		if n, ok := mulOK(s.count, per); ok {
			o.Elements = n
		}
	}
	if m := h.find(msgLayout); m != nil && len(m.data) >= 2 {
		class := m.data[1]
		if m.data[0] < 3 && len(m.data) >= 3 {
			class = m.data[2]
		}
		switch class {
		case 0:
			o.Layout = "compact"
		case 1:
			o.Layout = "contiguous"
		case 2:
			o.Layout = "chunked"
		case 3:
			o.Layout = "virtual"
			f.issue(RuleExternalStorage, finding.Medium, m.off, o.Path,
				"virtual dataset: its data is assembled from source datasets that can live in other files, so reading the weights reads other files", "")
		}
	}
	if m := h.find(msgExternal); m != nil {
		names := f.externalFiles(m)
		f.issue(RuleExternalStorage, finding.Medium, m.off, o.Path,
			"dataset raw data is stored in external files: reading the weights reads whatever those paths name on the loading machine",
			finding.Shorten(strings.Join(names, ", "), 200))
	}
	return nil
}

// externalFiles returns the file names of an external data files message.
func (f *File) externalFiles(m *message) []string {
	r := f.r
	c := r.cursor(m.data, m.off)
	c.u8()
	c.skip(3)
	c.u16() // allocated slots
	used := int(c.u16())
	heapAddr := c.addr()
	if c.err != nil {
		return nil
	}
	heap, err := f.readLocalHeap(heapAddr)
	if err != nil {
		f.record(err, "")
		return nil
	}
	var names []string
	for i := 0; i < used && i < 16; i++ {
		off := c.length()
		c.length()
		c.length()
		if c.err != nil {
			break
		}
		if n, err := heap.name(off); err == nil {
			names = append(names, fmt.Sprintf("%q", n))
		}
	}
	return names
}

// RootAttributes returns the root group's attributes (model_config,
// keras_version… in a Keras file) in the order HDF5 looks a name up, so
// the first of a duplicated name is the one HDF5 returns. Problems are
// also recorded as findings.
func (f *File) RootAttributes() ([]Attribute, error) {
	h, err := f.readHeader(f.Superblock.Root, "/")
	if err != nil {
		f.record(err, "/")
		if h == nil {
			return nil, err
		}
	}
	attrs, aerr := f.attributes(h, "/")
	if err == nil {
		err = aerr
	}
	return attrs, err
}
