package onnx

import (
	"io"

	"github.com/hallmarkdev/hallmark/formats/internal/pb"
	"google.golang.org/protobuf/encoding/protowire"
)

// ModelProto fields and their wire types, for sniffing.
var modelWire = map[protowire.Number]protowire.Type{
	modelIRVersion: protowire.VarintType, modelProducerName: protowire.BytesType,
	modelProducerVersion: protowire.BytesType, modelDomain: protowire.BytesType,
	modelModelVersion: protowire.VarintType, modelDocString: protowire.BytesType,
	modelGraph: protowire.BytesType, modelOpsetImport: protowire.BytesType,
	modelMetadataProps: protowire.BytesType, modelTrainingInfo: protowire.BytesType,
	modelFunctions: protowire.BytesType, 26: protowire.BytesType, // 26: configuration (IR 11)
}

// GraphProto fields, all length-delimited.
var graphFields = map[protowire.Number]bool{1: true, 2: true, 5: true, 10: true, 11: true, 12: true, 13: true, 14: true, 15: true, 16: true}

// Looks reports whether head (the first bytes of a file) is the start of an
// ONNX ModelProto: field 1 (ir_version) as a varint between 1 and 20 first,
// then at least one more field, every field a ModelProto field with its
// proper wire type, producer_name/producer_version/domain printable text,
// and a graph that starts with a GraphProto field.
//
// Tie-break with tfgraph.Kind: a SavedModel also starts 0x08 0x01 0x12, but
// its field 2 is a MetaGraphDef whose first byte is a tag (0x0a or 0x12), a
// control character, whereas ONNX's field 2 is producer_name, text. Looks
// requires that text and tfgraph.Kind requires the tag, so no input is
// claimed by both. A fingerprint.pb starts with a 64-bit hash in field 1,
// far above any IR version; GraphDef and SavedMetadata start with field 1
// as a message (0x0a), not a varint.
func Looks(head []byte) bool {
	num, typ, n := protowire.ConsumeTag(head)
	if n < 0 || num != modelIRVersion || typ != protowire.VarintType {
		return false
	}
	v, m := protowire.ConsumeVarint(head[n:])
	if m < 0 || v < 1 || v > 20 {
		return false
	}
	b := head[n+m:]
	fields := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fields > 0 && len(b) < 5 // a tag cut by the end of head
		}
		want, ok := modelWire[num]
		if !ok || typ != want {
			return false
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			_, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return fields > 0 && len(b) < 10
			}
			b = b[m:]
		case protowire.BytesType:
			l, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return fields > 0 && len(b) < 10
			}
			b = b[m:]
			val, cut := b, true
			if l <= uint64(len(b)) {
				val, cut = b[:l], false
			}
			if !fieldLooksRight(num, l, val, cut) {
				return false
			}
			if cut {
				return true // the rest of the file is past head
			}
			b = b[l:]
		}
		fields++
	}
	return fields > 0
}

func fieldLooksRight(num protowire.Number, declared uint64, val []byte, cut bool) bool {
	switch num {
	case modelProducerName, modelProducerVersion, modelDomain:
		// Text, and short: a name longer than 4 KiB is not a producer name.
		return declared <= 4096 && pb.Printable(val) && (!cut || len(val) > 0)
	case modelGraph:
		if len(val) == 0 {
			return !cut
		}
		gnum, gtyp, n := protowire.ConsumeTag(val)
		return n > 0 && gtyp == protowire.BytesType && graphFields[gnum]
	case modelOpsetImport:
		if cut {
			return false
		}
		// OperatorSetIdProto: domain (1, text) and version (2, varint).
		for len(val) > 0 {
			onum, otyp, n := protowire.ConsumeTag(val)
			if n < 0 {
				return false
			}
			val = val[n:]
			switch {
			case onum == 1 && otyp == protowire.BytesType:
				s, m := protowire.ConsumeBytes(val)
				if m < 0 || !pb.Printable(s) {
					return false
				}
				val = val[m:]
			case onum == 2 && otyp == protowire.VarintType:
				_, m := protowire.ConsumeVarint(val)
				if m < 0 {
					return false
				}
				val = val[m:]
			default:
				return false
			}
		}
	}
	return true
}

// LooksWhole reports whether the whole of ra parses as a ModelProto that
// carries a graph, whatever comes first: protobuf readers (onnx.load,
// onnxruntime) accept fields in any order and keep unknown fields, so a
// model can start with a field that Looks does not expect, or with bytes
// that also read as a pickle or JSON. It reads only field headers (large
// fields are skipped, not read) and gives up after a few thousand fields.
func LooksWhole(ra io.ReaderAt, size int64) bool {
	// Most files fail at their first tag: check it before the reader
	// fills a 64 KiB window.
	var first [16]byte
	n, _ := ra.ReadAt(first[:min(int64(len(first)), size)], 0)
	if num, typ, k := protowire.ConsumeTag(first[:n]); k < 0 || num < 1 || typ > protowire.Fixed32Type || typ == protowire.EndGroupType {
		return false
	}
	r := pb.NewReader(ra, size)
	it := r.Fields(0, size)
	graph, ir := false, false
	for n := 0; it.Next(); n++ {
		if n > 4096 {
			return false
		}
		f := it.Field()
		switch want, known := modelWire[f.Num]; {
		case known && f.Type != want:
			return false
		case f.Num == modelGraph:
			if head, _, err := r.Bytes(f, 2); err != nil || len(head) == 0 {
				return false
			} else if num, typ, k := protowire.ConsumeTag(head); k < 0 || !graphFields[num] || typ != protowire.BytesType {
				return false
			}
			graph = true
		case f.Num == modelIRVersion:
			ir = f.Value >= 1 && f.Value <= 20
		}
	}
	return it.Err() == nil && graph && ir
}
