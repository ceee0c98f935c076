// Package tzip is a tolerant zip reader for a scanner.
//
// It reads archives the way PyTorch's loader (miniz) and Python's relaxed
// readers do — names and sizes from the central directory, flag bits and
// CRCs ignored for reading, data before the archive tolerated — and reports
// every irregularity it meets as an Issue instead of failing. Besides the
// central directory it walks the local headers from the first one, so a
// member that only a streaming reader would see is listed too, and it parses
// the central directory of every other end record it finds, so an archive
// hidden in a comment is listed as well.
//
// Every length read from the file is checked against the file size or a cap
// in Limits before it is used; nothing the file declares is allocated.
// Members are decompressed as a stream (stored and deflate only), with the
// size and ratio caps enforced while reading. Nothing is written to disk.
//
// Standard library only.
package tzip

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
)

// Issue kinds.
const (
	IssueDuplicateName  = "duplicate-name"     // two central entries with the same name (both are kept and both are readable)
	IssueNameMismatch   = "name-mismatch"      // local header name differs from central
	IssueFlagBits       = "flag-bits"          // encryption bit (0x1), 0x20, 0x40 or other unusual bits set, or local/central flags differ
	IssueCRCMismatch    = "crc-mismatch"       // reported by the member reader at EOF
	IssuePrefixData     = "prefix-data"        // bytes before the first local header (e.g. a pickle before a zip: a polyglot)
	IssueTrailingData   = "trailing-data"      // bytes after the end record that the comment length does not explain
	IssueOverlap        = "overlap"            // two members' data ranges overlap, or a member overlaps the central directory
	IssueUnsafePath     = "unsafe-path"        // absolute path, "..", backslashes, NUL, drive letters
	IssueZip64          = "zip64-inconsistent" // zip64 fields disagree with the 32-bit fields or each other
	IssueLocalOnly      = "local-only-entry"   // a local header the central directory does not reference
	IssueMethod         = "unsupported-method" // compression other than stored/deflate (the member cannot be read)
	IssueSizeMismatch   = "size-mismatch"      // local sizes, data descriptor or decoded length differ from the central directory
	IssueBomb           = "bomb"               // ratio or size limit hit while reading
	IssueTooManyEntries = "too-many-entries"   // MaxEntries or MaxNameBytes reached; later entries are not listed
	IssueMultipleEOCD   = "multiple-eocd"      // more than one end-of-central-directory signature in the tail
	IssueCentralDir     = "central-directory"  // central directory missing, unusable, truncated, or its count/size disagree with its records
	IssueLocalHeader    = "bad-local-header"   // a central entry points at bytes that are not a local header
	IssueTruncated      = "truncated"          // a member's header or data runs past the end of the file
	IssueHeaderMismatch = "header-mismatch"    // local and central method or CRC differ
	IssueGap            = "gap"                // bytes between members (or before the central directory) that no entry accounts for
)

// Errors.
var (
	ErrNotZip         = errors.New("tzip: no usable central directory and no local header at offset 0")
	ErrBomb           = errors.New("tzip: member decompression ratio exceeds the limit")
	ErrMemberTooLarge = errors.New("tzip: member exceeds the uncompressed size limit")
	ErrTotalTooLarge  = errors.New("tzip: archive exceeds the total uncompressed size limit")
	ErrMethod         = errors.New("tzip: unsupported compression method")
	ErrNoData         = errors.New("tzip: member has no readable local header")
)

// Limits caps what one archive may cost. Zero fields take the defaults of
// DefaultLimits.
type Limits struct {
	MaxEntries    int   // entries in the central directory + local walk (default 100_000)
	MaxMemberSize int64 // uncompressed bytes read from one member (default 16 GiB); reads stop there with ErrMemberTooLarge
	MaxRatio      int64 // uncompressed/compressed ratio before a member counts as a bomb (default 200), checked while reading once more than 1 MiB came out
	MaxTotal      int64 // uncompressed bytes Members of one Archive deliver in all (default 64 GiB): Reads past it fail with ErrTotalTooLarge; Archive.BytesRead gives the count, for a caller that sums nested archives
	MaxNameBytes  int64 // bytes of entry names held in memory (default 64 MiB); reaching it stops the listing like MaxEntries
	MaxIssues     int   // issues kept per kind (default 1000); one more issue of that kind says the rest were dropped
}

// DefaultLimits returns the documented defaults.
func DefaultLimits() Limits {
	return Limits{
		MaxEntries:    100_000,
		MaxMemberSize: 16 << 30,
		MaxRatio:      200,
		MaxTotal:      64 << 30,
		MaxNameBytes:  64 << 20,
		MaxIssues:     1000,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxMemberSize <= 0 {
		l.MaxMemberSize = d.MaxMemberSize
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = d.MaxTotal
	}
	if l.MaxNameBytes <= 0 {
		l.MaxNameBytes = d.MaxNameBytes
	}
	if l.MaxIssues <= 0 {
		l.MaxIssues = d.MaxIssues
	}
	return l
}

// Entry is one member. Offsets are offsets in the file (BaseOffset already
// added).
type Entry struct {
	Name             string // from the central directory (or the local header for local-only entries); raw bytes
	LocalName        string // from the local header ("" when the local header is unreadable)
	Method           uint16 // central (local for local-only entries); used for reading
	Flags            uint16 // central directory flags (the local flags for an entry no central directory lists)
	LocalFlags       uint16
	CRC32            uint32
	CompressedSize   int64 // -1: unknown (a local-only member with a data descriptor whose end was not found; its data runs to the end of the file)
	UncompressedSize int64 // -1: unknown (likewise)
	HeaderOffset     int64 // offset of the local file header
	DataOffset       int64 // offset of the member's (compressed) data; -1 when the local header is unreadable
	InCentral        bool  // listed in the chosen central directory
	Index            int   // position in the central directory (or -1)
	Zip64            bool  // sizes or offset came from a zip64 extra field
}

// Encrypted reports whether the central or local encryption bit is set. The
// member is still read as plaintext, as PyTorch does.
func (e *Entry) Encrypted() bool { return (e.Flags|e.LocalFlags)&0x1 != 0 }

// Issue is one irregularity.
type Issue struct {
	Kind    string // one of the Issue* constants
	Entry   string // entry name, if any
	Offset  int64
	Message string // one line, human readable
}

func (i Issue) String() string {
	if i.Entry != "" {
		return fmt.Sprintf("%s at %d (%q): %s", i.Kind, i.Offset, i.Entry, i.Message)
	}
	return fmt.Sprintf("%s at %d: %s", i.Kind, i.Offset, i.Message)
}

// Archive is an opened archive. Entries lists every record of the central
// directory in use, in order (InCentral, Index = position); then entries
// that only another reading of the directories lists — another end record's
// central directory (IssueMultipleEOCD), the 32-bit view of a zip64 end
// record (IssueZip64), offsets shifted by prepended bytes (IssueCentralDir);
// then entries found only by the local-header walk (IssueLocalOnly). Those
// have InCentral false and Index -1.
//
// The directory in use is the one PyTorch's miniz reads: the last end
// record (the last whose comment fits in the file, as Go requires; when
// none fits, the last), its zip64 end record where the locator says, and
// the offsets as stated when a central record is there (shifted by the
// prepended bytes otherwise, see BaseOffset). A directory that cannot be
// read is skipped for the next candidate.
//
// Issues holds what Open found; Member reads append CRC, size and bomb
// issues under a lock, so while members are being read concurrently use
// IssueList or IssuesFor rather than the field.
type Archive struct {
	Entries []Entry
	Issues  []Issue
	Size    int64

	Central    bool   // a usable central directory was found
	DirOffset  int64  // where the chosen central directory starts in the file (-1: none)
	DirSize    int64  // its size as declared
	EndOffset  int64  // offset of the chosen end record (-1: none)
	Zip64      bool   // the chosen end record has a zip64 end record
	BaseOffset int64  // added to every offset the central directory states (data prepended after writing)
	Prefix     int64  // bytes before the first local header or the central directory
	Comment    string // end record comment (raw bytes, clipped to the file)

	r   io.ReaderAt
	lim Limits

	mu     sync.Mutex
	kinds  map[string]int
	seen   map[seenKey]bool
	total  atomic.Int64
	nameB  int64 // name bytes held
	stopEn bool  // an entries cap was reported
}

type seenKey struct {
	kind string
	off  int64
	name string
}

// Limits returns the caps in force (defaults filled in).
func (a *Archive) Limits() Limits { return a.lim }

// BytesRead is the number of uncompressed bytes Members of this archive have
// delivered so far (all reads, counted once per read).
func (a *Archive) BytesRead() int64 { return a.total.Load() }

// IssueList returns a copy of the issues recorded so far.
func (a *Archive) IssueList() []Issue {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Issue(nil), a.Issues...)
}

// IssuesFor returns the issues recorded for entries with this name (central
// or local name).
func (a *Archive) IssuesFor(name string) []Issue {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Issue
	for _, is := range a.Issues {
		if is.Entry == name {
			out = append(out, is)
		}
	}
	return out
}

// addIssue records an issue, keeping at most MaxIssues per kind.
func (a *Archive) addIssue(kind, entry string, off int64, format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.addLocked(kind, entry, off, format, args...)
}

func (a *Archive) addLocked(kind, entry string, off int64, format string, args ...any) {
	n := a.kinds[kind]
	a.kinds[kind] = n + 1
	switch {
	case n < a.lim.MaxIssues:
		a.Issues = append(a.Issues, Issue{Kind: kind, Entry: entry, Offset: off, Message: fmt.Sprintf(format, args...)})
	case n == a.lim.MaxIssues:
		a.Issues = append(a.Issues, Issue{Kind: kind, Offset: off,
			Message: fmt.Sprintf("more than %d %s issues; the rest are not listed", a.lim.MaxIssues, kind)})
	}
}

// addOnce records an issue once per (kind, entry): used by Member reads, so
// reading a member twice does not repeat its issues.
func (a *Archive) addOnce(kind string, e *Entry, format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := seenKey{kind, e.HeaderOffset, e.Name}
	if a.seen[k] {
		return
	}
	a.seen[k] = true
	a.addLocked(kind, e.Name, e.HeaderOffset, format, args...)
}

// Open reads the archive's structure. It fails only when there is neither a
// usable central directory nor a walkable local header at offset 0; every
// other irregularity becomes an Issue.
func Open(r io.ReaderAt, size int64, lim Limits) (*Archive, error) {
	if r == nil || size < 0 {
		return nil, errors.New("tzip: nil reader or negative size")
	}
	a := &Archive{
		Size:      size,
		DirOffset: -1,
		EndOffset: -1,
		r:         r,
		lim:       lim.withDefaults(),
		kinds:     map[string]int{},
		seen:      map[seenKey]bool{},
	}
	p := newParser(a)
	p.readDirectories()
	p.resolveLocals()
	p.walk()
	if !a.Central && len(a.Entries) == 0 {
		return nil, ErrNotZip
	}
	p.checkPrefix()
	p.checkOverlaps()
	return a, nil
}

// takeName charges n name bytes against MaxNameBytes.
func (a *Archive) takeName(n int) bool {
	if a.nameB+int64(n) > a.lim.MaxNameBytes {
		return false
	}
	a.nameB += int64(n)
	return true
}

// entriesFull reports (once) that no more entries may be added.
func (a *Archive) entriesFull(off int64, why string) bool {
	if len(a.Entries) < a.lim.MaxEntries && why == "" {
		return false
	}
	if !a.stopEn {
		a.stopEn = true
		if why == "" {
			why = fmt.Sprintf("more than %d entries", a.lim.MaxEntries)
		}
		a.addIssue(IssueTooManyEntries, "", off, "%s; later entries are not listed", why)
	}
	return true
}

// addClamp adds two non-negative offsets without overflowing.
func addClamp(x, y int64) int64 {
	if y > 0 && x > math.MaxInt64-y {
		return math.MaxInt64
	}
	return x + y
}

// toInt64 converts a declared 64-bit value, clamping at MaxInt64.
func toInt64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}
