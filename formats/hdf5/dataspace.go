package hdf5

// Dataspace kinds.
const (
	spaceScalar = 0
	spaceSimple = 1
	spaceNull   = 2
)

type dspace struct {
	kind  int
	dims  []uint64
	count uint64 // number of elements
}

// parseDataspace decodes a dataspace message (versions 1 and 2).
func parseDataspace(c *cursor) *dspace {
	ver := c.u8()
	rank := int(c.u8())
	flags := c.u8()
	s := &dspace{kind: spaceSimple}
	switch ver {
	case 1:
		c.skip(5)
		if rank == 0 {
			s.kind = spaceScalar
		}
	case 2:
		s.kind = int(c.u8())
		if s.kind > spaceNull {
			c.fail("dataspace type %d (HDF5 defines scalar 0, simple 1, null 2)", s.kind)
		}
	default:
		c.fail("dataspace version %d (HDF5 defines 1 and 2)", ver)
	}
	if c.err != nil {
		return nil
	}
	if rank > maxRank {
		c.fail("dataspace of rank %d (HDF5 allows at most %d)", rank, maxRank)
		return nil
	}
	if s.kind != spaceSimple && rank != 0 {
		c.fail("scalar or null dataspace with rank %d", rank)
		return nil
	}
	s.count = 1
	if s.kind == spaceNull {
		s.count = 0
	}
	for i := 0; i < rank; i++ {
		d := c.length()
		if c.err != nil {
			return nil
		}
		s.dims = append(s.dims, d)
		var ok bool
		if s.count, ok = mulOK(s.count, d); !ok {
			c.fail("dataspace dimensions multiply past 2^64 elements")
			return nil
		}
	}
	if flags&1 != 0 {
		c.skip(rank * c.lsz) // maximum dimensions
	}
	if ver == 1 && flags&2 != 0 {
		c.skip(rank * 4) // permutation index (never implemented by HDF5)
	}
	if c.err != nil {
		return nil
	}
	return s
}
