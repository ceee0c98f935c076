package tzip

import (
	"compress/flate"
	"errors"
	"hash/crc32"
	"io"
)

// Member streams one member's uncompressed bytes. It is not safe for
// concurrent use; different Members of one Archive may be read concurrently.
type Member struct {
	a   *Archive
	e   Entry
	src io.Reader
	cnt *countReader // deflate: compressed bytes taken so far
	fr  io.ReadCloser
	crc uint32
	n   int64
	err error // sticky
}

var errClosed = errors.New("tzip: read from a closed member")

// Open returns a reader of e's uncompressed bytes: stored or deflate. The
// encryption flag is ignored (the bytes are read as plaintext) and the CRC
// does not stop the read, as in PyTorch's loader. Other methods return
// ErrMethod (Raw still gives the bytes); an entry whose local header is
// unreadable returns ErrNoData.
func (a *Archive) Open(e *Entry) (*Member, error) {
	if e == nil || e.DataOffset < 0 {
		return nil, ErrNoData
	}
	raw := a.Raw(e)
	m := &Member{a: a, e: *e}
	switch e.Method {
	case 0:
		m.src = raw
	case 8:
		m.cnt = newCountReader(raw, raw.Size())
		m.fr = flate.NewReader(m.cnt.Reader)
		m.src = m.fr
	default:
		return nil, ErrMethod
	}
	return m, nil
}

// Raw returns e's stored bytes, clipped to the file: the compressed data, or
// for a stored member random access to its content. An entry without a
// readable local header gives an empty section; one whose size is unknown
// (CompressedSize -1) runs to the end of the file.
func (a *Archive) Raw(e *Entry) *io.SectionReader {
	if e == nil || e.DataOffset < 0 || e.DataOffset > a.Size {
		return io.NewSectionReader(a.r, 0, 0)
	}
	n := a.Size - e.DataOffset
	if e.CompressedSize >= 0 && e.CompressedSize < n {
		n = e.CompressedSize
	}
	return io.NewSectionReader(a.r, e.DataOffset, n)
}

// Entry returns the entry being read.
func (m *Member) Entry() Entry { return m.e }

// N returns the uncompressed bytes delivered so far.
func (m *Member) N() int64 { return m.n }

// Close ends reading; later Reads fail.
func (m *Member) Close() error {
	if m.err == nil {
		m.err = errClosed
	}
	return nil
}

// Read delivers uncompressed bytes. It stops with ErrMemberTooLarge after
// MaxMemberSize bytes, ErrTotalTooLarge once the archive's Members together
// delivered MaxTotal bytes, and ErrBomb when more than 1 MiB came out at a
// ratio above MaxRatio (each also records an IssueBomb). Data that ends
// before the member does (a truncated file) gives io.ErrUnexpectedEOF after
// the bytes that exist. At the end a CRC or length that differs from the
// directory is recorded as an issue; the read still ends with io.EOF.
func (m *Member) Read(b []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	if len(b) == 0 {
		return 0, nil
	}
	lim := &m.a.lim
	allow := lim.MaxMemberSize - m.n
	byTotal := false
	if left := lim.MaxTotal - m.a.total.Load(); left < allow {
		allow, byTotal = left, true
	}
	if allow <= 0 {
		return 0, m.probe(byTotal)
	}
	if int64(len(b)) > allow {
		b = b[:allow]
	}
	n, err := m.src.Read(b)
	if n > 0 {
		m.crc = crc32.Update(m.crc, crc32.IEEETable, b[:n])
		m.n += int64(n)
		m.a.total.Add(int64(n))
		if m.cnt != nil && overRatio(m.n, m.cnt.taken(), lim.MaxRatio) {
			m.a.addOnce(IssueBomb, &m.e, "decompression ratio above %d: %d bytes out of %d compressed bytes; reading stopped",
				lim.MaxRatio, m.n, m.cnt.taken())
			m.err = ErrBomb
			return n, m.err
		}
	}
	switch {
	case err == io.EOF:
		m.err = m.finish()
		return n, m.err
	case err != nil:
		m.err = err
	}
	return n, err
}

// probe runs when a cap allows no more bytes: the member is over the cap
// only if it has more.
func (m *Member) probe(byTotal bool) error {
	var one [1]byte
	for range 100 {
		k, err := m.src.Read(one[:])
		switch {
		case k > 0:
			if byTotal {
				m.a.addOnce(IssueBomb, &m.e, "the archive's members exceed %d uncompressed bytes in total; reading stopped", m.a.lim.MaxTotal)
				m.err = ErrTotalTooLarge
			} else {
				m.a.addOnce(IssueBomb, &m.e, "member exceeds %d uncompressed bytes; reading stopped", m.a.lim.MaxMemberSize)
				m.err = ErrMemberTooLarge
			}
		case err == io.EOF:
			m.err = m.finish()
		case err != nil:
			m.err = err
		default:
			continue
		}
		return m.err
	}
	m.err = io.ErrNoProgress
	return m.err
}

// finish runs at the end of the data and returns io.EOF, or
// io.ErrUnexpectedEOF when a stored member's data is cut short.
func (m *Member) finish() error {
	e := &m.e
	if e.Method == 0 && e.CompressedSize >= 0 && m.n < e.CompressedSize {
		return io.ErrUnexpectedEOF
	}
	if e.CompressedSize < 0 {
		return io.EOF // a local-only member of unknown size: nothing to compare with
	}
	if m.cnt != nil && m.cnt.taken() != e.CompressedSize {
		m.a.addOnce(IssueSizeMismatch, e, "deflate stream ends after %d of the member's %d compressed bytes", m.cnt.taken(), e.CompressedSize)
	}
	if m.crc != e.CRC32 {
		m.a.addOnce(IssueCRCMismatch, e, "CRC-32 of the content is %08x, the directory says %08x (bytes kept)", m.crc, e.CRC32)
	}
	if e.UncompressedSize >= 0 && m.n != e.UncompressedSize && !(e.Method == 0 && e.UncompressedSize != e.CompressedSize) {
		m.a.addOnce(IssueSizeMismatch, e, "content is %d bytes, the directory says %d", m.n, e.UncompressedSize)
	}
	return io.EOF
}
