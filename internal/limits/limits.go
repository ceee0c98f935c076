// Package limits holds every cap hallmark applies to what it reads, with
// its default, in one place. A cap that is reached is reported as a finding
// (coverage is incomplete), never silently.
package limits

import "github.com/hallmarkdev/hallmark/pickle"

// Limits are the caps of one run.
type Limits struct {
	// Pickle engine.
	PickleOperand     int64 // bytes of one pickle string/bytes operand held in memory; longer ones are skipped (1 MiB)
	PickleStack       int   // symbolic stack depth before value tracking stops (1,048,576)
	PickleMemo        int   // memo entries before value tracking stops (1,048,576)
	PickleFindings    int   // distinct findings per file (256)
	PickleNestedDepth int   // pickles within pickles (3)
	PickleNestedBytes int64 // bytes of nested pickles scanned per file (64 MiB)
	PickleStreams     int   // stacked pickles per file (4096)
	PickleResync      int64 // bytes searched for a further pickle after junk (64 KiB)
	PickleResyncs     int   // junk regions searched per file (16)

	// Containers (archives, compressed streams).
	MaxDepth       int   // containers inside containers (10)
	MaxMembers     int   // archive members opened per file (100,000)
	MaxInflated    int64 // bytes decompressed per file, all members together (16 GiB)
	MaxRatio       int64 // decompressed/compressed ratio above which a stream is a bomb, checked after 64 MiB (1000)
	MaxInMemory    int64 // an archive inside a compressed stream is read into memory up to this size, never to disk (64 MiB)
	MaxNumpyHeader int64 // bytes of a .npy header (1 MiB)
	MaxDictionary  int64 // xz/lzma dictionary and zstd window a stream may declare (128 MiB; xz -9 uses 64 MiB)

	// Engine.
	SniffBytes int   // bytes read from the start of a file to decide its format (64 KiB)
	MaxFiles   int   // files in one target (1,000,000)
	Jobs       int   // files scanned at once (0: GOMAXPROCS)
	MaxFile    int64 // size of one file (0: no cap; the scanners stream)
}

// Default returns the documented defaults.
func Default() Limits {
	return Limits{
		PickleOperand:     1 << 20,
		PickleStack:       1 << 20,
		PickleMemo:        1 << 20,
		PickleFindings:    256,
		PickleNestedDepth: 3,
		PickleNestedBytes: 64 << 20,
		PickleStreams:     4096,
		PickleResync:      64 << 10,
		PickleResyncs:     16,
		MaxDepth:          10,
		MaxMembers:        100_000,
		MaxInflated:       16 << 30,
		MaxRatio:          1000,
		MaxInMemory:       64 << 20,
		MaxNumpyHeader:    1 << 20,
		MaxDictionary:     128 << 20,
		SniffBytes:        64 << 10,
		MaxFiles:          1_000_000,
	}
}

// Pickle returns the pickle engine's share of the caps.
func (l Limits) Pickle() pickle.Limits {
	return pickle.Limits{
		MaxOperand:     l.PickleOperand,
		MaxStack:       l.PickleStack,
		MaxMemo:        l.PickleMemo,
		MaxFindings:    l.PickleFindings,
		MaxNestedDepth: l.PickleNestedDepth,
		MaxNestedBytes: l.PickleNestedBytes,
		MaxStreams:     l.PickleStreams,
		ResyncWindow:   l.PickleResync,
		MaxResyncs:     l.PickleResyncs,
	}
}
