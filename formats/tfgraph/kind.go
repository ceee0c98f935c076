package tfgraph

import (
	"strings"

	"github.com/hallmarkdev/hallmark/formats/internal/pb"
	"google.golang.org/protobuf/encoding/protowire"
)

// headField is one field decoded from the bytes at the start of a file; val
// is the value of a length-delimited field, cut short when cut is true (the
// field runs past the bytes available).
type headField struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	val []byte
	cut bool
}

// headFields decodes the fields of b until fn returns false, the bytes run
// out or a field cannot be decoded; it reports whether decoding stopped
// cleanly (end of b, a cut last field, or fn's choice).
func headFields(b []byte, fn func(headField) bool) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return len(b) < 5 // the tag itself cut by the end of head
		}
		b = b[n:]
		f := headField{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return len(b) < 10
			}
			f.v, b = v, b[m:]
		case protowire.BytesType:
			l, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return len(b) < 10
			}
			b = b[m:]
			if l > uint64(len(b)) {
				f.val, f.cut = b, true
				fn(f)
				return true
			}
			f.val, b = b[:l], b[l:]
		case protowire.Fixed32Type:
			if len(b) < 4 {
				return true
			}
			b = b[4:]
		case protowire.Fixed64Type:
			if len(b) < 8 {
				return true
			}
			b = b[8:]
		default:
			return false
		}
		if !fn(f) {
			return true
		}
	}
	return true
}

// Kind tells which TensorFlow protobuf head (the first bytes of a file of
// size bytes) starts, by content alone: KindSavedModel, KindGraphDef,
// KindMetaGraph, KindKerasMetadata, KindFingerprint, or "" when unsure
// (the caller may then fall back on the file name and call ScanKind).
//
//   - SavedModel: 0x08 schema_version (1), then 0x12 meta_graphs whose
//     MetaGraphDef starts with meta_info_def (0x0a) or graph_def (0x12).
//     ONNX also starts 0x08 <ir_version> 0x12, but there field 2 is
//     producer_name, printable text, never a tag byte below 0x20; onnx.Looks
//     requires that text and Kind requires the tag, so none is claimed twice.
//   - fingerprint: fields 1–5 are 64-bit hashes as varints (0x08 … 0x10 …),
//     6 a VersionDef, 7 a UUID, and the whole file fits in head.
//   - GraphDef: 0x0a node, a NodeDef that starts with its name (0x0a,
//     printable) and its op (0x12, an op identifier).
//   - Keras SavedMetadata: 0x0a nodes, a SavedObject with version (0x0a,
//     a VersionDef), node_id (0x10), node_path "root…" (0x1a) or identifier
//     "_tf_keras…" (0x22).
//   - MetaGraphDef (.meta): 0x0a meta_info_def whose fields are MetaInfoDef
//     fields (stripped_op_list 0x12 is a message, not an op name), followed
//     by graph_def.
func Kind(head []byte, size int64) string {
	if len(head) < 2 {
		return ""
	}
	switch head[0] {
	case 0x08:
		return kindVarintFirst(head, size)
	case 0x0a:
		num, typ, n := protowire.ConsumeTag(head)
		if num != 1 || typ != protowire.BytesType {
			return ""
		}
		l, m := protowire.ConsumeVarint(head[n:])
		if m < 0 {
			return ""
		}
		first := head[n+m:]
		var rest []byte
		if l <= uint64(len(first)) {
			first, rest = first[:l], first[l:]
		}
		switch {
		case looksNodeDef(first):
			return KindGraphDef
		case looksKerasObject(first):
			return KindKerasMetadata
		case looksMetaInfo(first, rest):
			return KindMetaGraph
		}
	}
	return ""
}

func kindVarintFirst(head []byte, size int64) string {
	_, _, n := protowire.ConsumeTag(head)
	v, m := protowire.ConsumeVarint(head[n:])
	if m < 0 {
		return ""
	}
	b := head[n+m:]
	num, typ, k := protowire.ConsumeTag(b)
	if k < 0 {
		return ""
	}
	switch {
	case num == 2 && typ == protowire.BytesType && v >= 1 && v <= 16:
		// SavedModel: a MetaGraphDef message follows.
		l, m := protowire.ConsumeVarint(b[k:])
		if m < 0 || l == 0 {
			return ""
		}
		mg := b[k+m:]
		if len(mg) == 0 {
			return ""
		}
		mnum, mtyp, _ := protowire.ConsumeTag(mg)
		if (mnum == 1 || mnum == 2) && mtyp == protowire.BytesType {
			return KindSavedModel
		}
	case num == 2 && typ == protowire.VarintType:
		if size > int64(len(head)) || size > 4096 {
			return ""
		}
		ok, fields := true, 0
		clean := headFields(head, func(f headField) bool {
			fields++
			switch {
			case f.num >= 1 && f.num <= 5:
				ok = ok && f.typ == protowire.VarintType
			case f.num == 6:
				ok = ok && f.typ == protowire.BytesType && !f.cut
			case f.num == 7:
				ok = ok && f.typ == protowire.BytesType && !f.cut && pb.Printable(f.val)
			default:
				ok = false
			}
			return ok
		})
		if clean && ok && fields >= 3 {
			return KindFingerprint
		}
	}
	return ""
}

// looksNodeDef: name (1) printable, then op (2) an op identifier.
func looksNodeDef(b []byte) bool {
	var name, op bool
	i := 0
	headFields(b, func(f headField) bool {
		i++
		switch {
		case i == 1 && f.num == 1 && f.typ == protowire.BytesType:
			name = len(f.val) > 0 && pb.Printable(f.val)
		case i == 2 && f.num == 2 && f.typ == protowire.BytesType && !f.cut:
			op = isOpName(f.val)
		}
		return i < 2
	})
	return name && op
}

func isOpName(b []byte) bool {
	if len(b) == 0 || len(b) > 256 {
		return false
	}
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c == '_':
		case (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '>') && i > 0:
		default:
			return false
		}
	}
	return true
}

// looksKerasObject: a SavedObject whose node_path or identifier is Keras'.
func looksKerasObject(b []byte) bool {
	found, ok := false, true
	headFields(b, func(f headField) bool {
		switch f.num {
		case 1: // VersionDef
			ok = ok && f.typ == protowire.BytesType
		case 2:
			ok = ok && f.typ == protowire.VarintType
		case 3:
			ok = ok && f.typ == protowire.BytesType
			found = found || f.typ == protowire.BytesType && strings.HasPrefix(string(f.val), "root")
		case 4:
			ok = ok && f.typ == protowire.BytesType
			found = found || f.typ == protowire.BytesType && strings.HasPrefix(string(f.val), "_tf_keras")
		case 5:
			ok = ok && f.typ == protowire.BytesType
		default:
			ok = false
		}
		return ok
	})
	return ok && found
}

// looksMetaInfo: MetaInfoDef fields with text where text belongs and a
// message in stripped_op_list, then graph_def (2) in the enclosing message.
func looksMetaInfo(b, rest []byte) bool {
	ok, seen := true, 0
	headFields(b, func(f headField) bool {
		seen++
		switch f.num {
		case 1, 4, 5, 6: // meta_graph_version, tags, tensorflow_version, git version
			ok = ok && f.typ == protowire.BytesType && pb.Printable(f.val)
		case 2: // stripped_op_list: OpList { op (1) }
			ok = ok && f.typ == protowire.BytesType && len(f.val) > 0 && f.val[0] == 0x0a
		case 3, 8:
			ok = ok && f.typ == protowire.BytesType
		case 7:
			ok = ok && f.typ == protowire.VarintType
		default:
			ok = false
		}
		return ok
	})
	if !ok || seen == 0 {
		return false
	}
	if rest == nil {
		return true // meta_info_def runs past head: trust what was seen
	}
	num, typ, n := protowire.ConsumeTag(rest)
	return n > 0 && num >= 2 && num <= 7 && typ == protowire.BytesType
}
