package hdf5

// Limits caps what the reader does for one file. A zero field means its
// default; DefaultLimits documents them. Hitting a cap is a finding
// (hdf5/limit) and makes Report.Complete false.
type Limits struct {
	// MaxObjects caps the groups, datasets and committed datatypes visited.
	// Default 1<<20.
	MaxObjects int
	// MaxDepth caps group nesting below the root. Default 512.
	MaxDepth int
	// MaxPathLen caps the bytes of one object path. Default 16 KiB.
	MaxPathLen int
	// MaxMessages caps the messages of one object header. Default 1<<16
	// (a version-1 header counts them in 16 bits).
	MaxMessages int
	// MaxContinuations caps the continuation blocks of one object header.
	// Default 4096.
	MaxContinuations int
	// MaxHeaderBytes caps the bytes of one object header, all blocks
	// together. Default 16 MiB.
	MaxHeaderBytes int64
	// MaxBTreeDepth caps the depth of a version 1 or 2 B-tree. Default 32.
	MaxBTreeDepth int
	// MaxBTreeNodes caps the B-tree nodes read in the whole file.
	// Default 1<<20.
	MaxBTreeNodes int
	// MaxHeapBytes caps one heap structure: a local heap's data segment, a
	// fractal heap block, a global heap collection. Default 64 MiB.
	MaxHeapBytes int64
	// MaxAttribute caps the bytes of one attribute value that are decoded;
	// a longer string value is cut there. Default 16 MiB.
	MaxAttribute int64
	// MaxAttrElements caps the elements decoded from one attribute value.
	// Default 1<<20.
	MaxAttrElements int
	// MaxAttrStrings caps Report.AttrStrings. Default 1<<16.
	MaxAttrStrings int
	// MaxMetadataBytes caps the bytes read from the file in total (each
	// read also costs 64 bytes, each object path its length): the bound on
	// the time and memory of a scan. Default 256 MiB.
	MaxMetadataBytes int64
}

// DefaultLimits returns the documented defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxObjects:       1 << 20,
		MaxDepth:         512,
		MaxPathLen:       16 << 10,
		MaxMessages:      1 << 16,
		MaxContinuations: 4096,
		MaxHeaderBytes:   16 << 20,
		MaxBTreeDepth:    32,
		MaxBTreeNodes:    1 << 20,
		MaxHeapBytes:     64 << 20,
		MaxAttribute:     16 << 20,
		MaxAttrElements:  1 << 20,
		MaxAttrStrings:   1 << 16,
		MaxMetadataBytes: 256 << 20,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxObjects <= 0 {
		l.MaxObjects = d.MaxObjects
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxPathLen <= 0 {
		l.MaxPathLen = d.MaxPathLen
	}
	if l.MaxMessages <= 0 {
		l.MaxMessages = d.MaxMessages
	}
	if l.MaxContinuations <= 0 {
		l.MaxContinuations = d.MaxContinuations
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if l.MaxBTreeDepth <= 0 {
		l.MaxBTreeDepth = d.MaxBTreeDepth
	}
	if l.MaxBTreeNodes <= 0 {
		l.MaxBTreeNodes = d.MaxBTreeNodes
	}
	if l.MaxHeapBytes <= 0 {
		l.MaxHeapBytes = d.MaxHeapBytes
	}
	if l.MaxAttribute <= 0 {
		l.MaxAttribute = d.MaxAttribute
	}
	if l.MaxAttrElements <= 0 {
		l.MaxAttrElements = d.MaxAttrElements
	}
	if l.MaxAttrStrings <= 0 {
		l.MaxAttrStrings = d.MaxAttrStrings
	}
	if l.MaxMetadataBytes <= 0 {
		l.MaxMetadataBytes = d.MaxMetadataBytes
	}
	return l
}
