package pickle

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// joblibWrappers are the classes after whose BUILD joblib's unpickler reads
// raw array bytes straight from the file (joblib/numpy_pickle.py).
var joblibWrappers = map[Global]bool{
	{"joblib.numpy_pickle", "NumpyArrayWrapper"}:                   true,
	{"sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper"}: true,
}

// joblibArray follows joblib's framing after a NumpyArrayWrapper BUILD: an
// object array is a protocol-2 pickle written in place; any other array is
// an optional alignment padding (one length byte, then that many bytes)
// and prod(shape) × itemsize raw bytes, which are skipped unread. pickle.load
// (not joblib) would parse those bytes as opcodes, so that view is scanned
// too.
func (m *machine) joblibArray(state *Value, pos int64) error {
	m.produced = true
	var shape, dtype *Value
	aligned := false
	if state.Kind == KDict {
		for i := 0; i+1 < len(state.Items); i += 2 {
			switch k, _ := state.Items[i].str(); k {
			case "shape":
				shape = state.Items[i+1]
			case "dtype":
				dtype = state.Items[i+1]
			case "numpy_array_alignment_bytes":
				aligned = state.Items[i+1].Kind != KNone
			}
		}
	}
	count, ok := shapeCount(shape)
	itemsize, object, ok2 := dtypeSize(dtype)
	if !ok || !ok2 {
		m.find(RuleJoblib, LevelHigh, pos, Global{}, "", "joblib array wrapper whose shape or dtype cannot be read: joblib would read raw bytes here whose length hallmark cannot tell; the rest was parsed as opcodes", "NumpyArrayWrapper("+state.Preview()+")")
		return nil
	}
	after := m.dec.Pos()
	if object {
		// joblib pickles object arrays in place with protocol 2.
		sub := &machine{opt: m.opt, pol: m.pol, lim: m.lim, rep: m.rep, findIdx: m.findIdx, globals: m.globals, prefix: m.prefix + "in a joblib object array: "}
		err := sub.stream(m.dec, false)
		sub.flushRefs()
		if err != nil {
			return fmt.Errorf("joblib object array at offset %d: %w", after, err)
		}
		m.altResumes = append(m.altResumes, sub.altResumes...)
		return nil
	}
	if aligned {
		pad, err := m.dec.RawByte()
		if err != nil {
			return err
		}
		if err := m.dec.Skip(int64(pad)); err != nil {
			return err
		}
	}
	hi, n := bits.Mul64(uint64(count), uint64(itemsize))
	if hi != 0 || n > math.MaxInt64/2 {
		return fmt.Errorf("joblib array of %d × %d bytes is larger than any file", count, itemsize)
	}
	if err := m.dec.Skip(int64(n)); err != nil {
		return err
	}
	if n > 0 && len(m.joblibViews) < m.lim.MaxAltViews*16 {
		m.joblibViews = append(m.joblibViews, altView{at: after})
	}
	return nil
}

func shapeCount(v *Value) (int64, bool) {
	if v == nil || v.Kind != KTuple || int64(len(v.Items)) != v.N {
		return 0, false
	}
	count := int64(1)
	for _, d := range v.Items {
		if d.Kind != KInt || !d.IOK || d.I < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(uint64(count), uint64(d.I))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		count = int64(lo)
	}
	return count, true
}

// dtypeSize reads a numpy.dtype(typestr, …) value: its item size, and
// whether it holds Python objects (then the array is a pickle).
func dtypeSize(v *Value) (int64, bool, bool) {
	if v == nil || v.Kind != KObject || v.Call == nil || v.Call.Fn.Kind != KGlobal {
		return 0, false, false
	}
	if g := v.Call.Fn.G; g.Name != "dtype" || !strings.HasPrefix(g.Module, "numpy") {
		return 0, false, false
	}
	ts, ok := v.Call.Args.item(0).str()
	if !ok {
		return 0, false, false
	}
	// dtype state (version, endian, subarray, names, fields, elsize, alignment, flags):
	// flags bit 0 is NPY_ITEM_HASOBJECT, set for records with object fields.
	if st := v.State; st != nil && st.Kind == KTuple && len(st.Items) >= 8 {
		if f := st.Items[7]; f.Kind == KInt && f.IOK && f.I&1 != 0 {
			return 8, true, true
		}
		if e := st.Items[5]; e.Kind == KInt && e.IOK && e.I > 0 {
			if ts != "" && (ts[0] == 'V') {
				return e.I, false, true
			}
		}
	}
	ts = strings.TrimLeft(ts, "<>|=")
	if ts == "" {
		return 0, false, false
	}
	kind, digits := ts[0], ts[1:]
	if kind == 'O' {
		return 8, true, true
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || n > 1<<30 {
		return 0, false, false
	}
	switch kind {
	case 'b', 'i', 'u', 'f', 'c', 'm', 'M', 'V', 'S', 'a':
		return n, false, true
	case 'U':
		return 4 * n, false, true
	}
	return 0, false, false
}
