package scan

import (
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// decompress scans what a single compressed stream holds. The codec is
// chosen by the stream's magic (joblib and pandas do the same), never by
// the name; output is capped by size, ratio and the file's budget.
func (w *walker) decompress(in input, format string) {
	src := &counter{r: in.r}
	var (
		r   io.Reader
		err error
	)
	switch format {
	case FormatGzip:
		r, err = gzip.NewReader(src)
	case FormatBzip2:
		r = bzip2.NewReader(src)
	case FormatXz:
		// The dictionary is allocated at the size the header declares:
		// cap it, or one crafted header costs gigabytes.
		r, err = xz.ReaderConfig{DictCap: int(w.lim.MaxDictionary)}.NewReader(src)
	case FormatLzma:
		r, err = lzma.ReaderConfig{DictCap: int(w.lim.MaxDictionary)}.NewReader(src)
	case FormatZstd:
		var d *zstd.Decoder
		d, err = zstd.NewReader(src, zstd.WithDecoderMaxMemory(uint64(w.lim.MaxDictionary)), zstd.WithDecoderMaxWindow(uint64(w.lim.MaxDictionary)), zstd.WithDecoderConcurrency(1))
		if err == nil {
			defer d.Close()
			r = d
		}
	case FormatLz4:
		r = lz4.NewReader(src)
	case FormatZlib:
		r, err = zlib.NewReader(src)
	}
	if err != nil {
		w.add(in, Finding{Rule: RuleContainerMalformed, Severity: High, Offset: 0, Message: fmt.Sprintf("%s stream cannot be opened: %v; its content is not known to be clean", format, err)})
		return
	}
	g := &guard{w: w, in: in, r: r, src: src, format: format}
	inner := input{member: in.join(strippedName(in.name, format)), name: strippedName(in.name, format), r: g, size: -1, depth: in.depth + 1}
	// Only what the inner scanner needs is decompressed: a bomb costs
	// nothing unless its content has to be read.
	w.scan(inner)
}
