package scan

import (
	"bytes"
	"encoding/binary"
	"path"
	"strings"

	"github.com/hallmarkdev/hallmark/formats/hfrepo"
	"github.com/hallmarkdev/hallmark/formats/onnx"
	"github.com/hallmarkdev/hallmark/formats/tfgraph"
	"github.com/hallmarkdev/hallmark/pickle"
)

// Formats the engine recognises by content.
const (
	FormatPickle      = "pickle"
	FormatZip         = "zip"
	FormatGzip        = "gzip"
	FormatBzip2       = "bzip2"
	FormatXz          = "xz"
	FormatZstd        = "zstd"
	FormatLz4         = "lz4"
	Format7z          = "7z"
	FormatTar         = "tar"
	FormatNumpy       = "numpy"
	FormatSafetensors = "safetensors"
	FormatGGUF        = "gguf"
	FormatHDF5        = "hdf5"
	FormatZlib        = "zlib"
	FormatLzma        = "lzma"
	FormatUnknown     = "unknown"
)

// containers may carry pickles; this build does not open them yet, so a
// file in one of them is not clean.
var containers = map[string]bool{
	FormatZip: true, FormatGzip: true, FormatBzip2: true, FormatXz: true, FormatZstd: true,
	FormatLz4: true, Format7z: true, FormatTar: true, FormatNumpy: true, FormatZlib: true, FormatLzma: true,
}

// Sniff decides a file's format from its first bytes and its size; the name
// is never consulted. A pickle is recognised before any other format, since
// the unpickler does not care what else the bytes look like; magic is
// returned too when the bytes also carry another format's magic (a polyglot).
func Sniff(head []byte, size int64) (format, magic string) {
	magic = sniffMagic(head)
	switch pickle.SniffStrength(head, size) {
	case pickle.StrongPickle:
		return FormatPickle, magic
	case pickle.WeakPickle:
		if magic == "" {
			return FormatPickle, ""
		}
	}
	if magic == "" {
		// Formats without a magic number, recognised by parsing their start.
		switch {
		case onnx.Looks(head):
			return FormatONNX, ""
		case tfgraph.Kind(head, size) != "":
			return FormatTF, ""
		case hfrepo.IsJSONObject(head):
			return FormatJSON, ""
		}
		return FormatUnknown, ""
	}
	return magic, ""
}

// parsed are the formats with a parser of their own (besides containers).
var parsed = map[string]bool{
	FormatPickle: true, FormatSafetensors: true, FormatGGUF: true, FormatHDF5: true, FormatONNX: true,
	FormatTF: true, FormatJSON: true, FormatPython: true, FormatJinja: true,
}

func sniffMagic(head []byte) string {
	switch {
	case isSafetensors(head):
		// First: a safetensors header length whose low bytes are 1f 8b
		// (N ≡ 0x8b1f mod 65536) would otherwise read as gzip magic, and
		// a real model would be "a corrupt gzip stream".
		return FormatSafetensors
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return FormatZip
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return FormatGzip
	case bytes.HasPrefix(head, []byte("BZh")) && len(head) > 3 && head[3] >= '1' && head[3] <= '9':
		return FormatBzip2
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return FormatXz
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return FormatZstd
	case bytes.HasPrefix(head, []byte{0x04, 0x22, 0x4d, 0x18}):
		return FormatLz4
	case bytes.HasPrefix(head, []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}):
		return Format7z
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		return FormatNumpy
	case bytes.HasPrefix(head, []byte("GGUF")):
		return FormatGGUF
	case isHDF5(head):
		return FormatHDF5
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return FormatTar
	case isZlib(head):
		return FormatZlib
	case len(head) >= 13 && head[0] == 0x5d && head[1] == 0 && head[2] == 0:
		// lzma "alone" (joblib's lzma compressor): properties 0x5d, then
		// a little-endian dictionary size.
		return FormatLzma
	}
	return ""
}

// isZlib checks a zlib header (RFC 1950): deflate, 32 KiB window or less,
// check bits right, no preset dictionary.
func isZlib(head []byte) bool {
	return len(head) >= 2 && head[0]&0x0f == 8 && head[0]>>4 <= 7 && (uint16(head[0])<<8|uint16(head[1]))%31 == 0 && head[1]&0x20 == 0
}

// isSafetensors: an 8-byte length, then what starts a JSON header. The
// length is not judged here (a 2^63 length is the parser's finding), so
// the JSON start is checked a little further instead.
func isSafetensors(head []byte) bool {
	if len(head) < 10 || binary.LittleEndian.Uint64(head) == 0 {
		return false
	}
	// A real length has zero (or, forged, high-bit) bytes; eight printable
	// bytes are text, such as JSON whose ninth byte happens to open a list.
	text := true
	for _, c := range head[:8] {
		if c < 0x09 || (c > 0x0d && c < 0x20) || c > 0x7e {
			text = false
		}
	}
	if text {
		return false
	}
	j := bytes.TrimLeft(head[8:], " \t\r\n")
	if len(j) < 2 || (j[0] != '{' && j[0] != '[') {
		return false
	}
	j = bytes.TrimLeft(j[1:], " \t\r\n")
	return len(j) > 0 && (j[0] == '"' || j[0] == '}' || j[0] == ']' || j[0] == '{')
}

// isHDF5: the signature sits at 0 or, after a user block, at 512, 1024,
// 2048… (the HDF5 specification's search order).
func isHDF5(head []byte) bool {
	const sig = "\x89HDF\r\n\x1a\n"
	for off := 0; off+len(sig) <= len(head); off = max(512, off*2) {
		if string(head[off:off+len(sig)]) == sig {
			return true
		}
	}
	return false
}

// pickleExts are names under which a pickle is expected; a pickle under a
// name that promises another format is a finding.
var otherExts = map[string]string{
	".json": "JSON", ".txt": "text", ".md": "Markdown", ".yaml": "YAML", ".yml": "YAML",
	".safetensors": "safetensors", ".gguf": "GGUF", ".onnx": "ONNX", ".h5": "HDF5", ".hdf5": "HDF5",
	".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".csv": "CSV", ".npy": "NumPy", ".npz": "NumPy zip",
	".tflite": "TFLite", ".pb": "protobuf", ".msgpack": "msgpack", ".model": "SentencePiece", ".jinja": "Jinja", ".py": "Python source", ".keras": "Keras",
}

func extensionMismatch(name, format string) (string, bool) {
	ext := strings.ToLower(path.Ext(name))
	if kind, ok := otherExts[ext]; ok && format == FormatPickle {
		return kind, true
	}
	return "", false
}
