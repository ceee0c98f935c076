package gguf

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/hallmarkdev/hallmark/formats/finding"
)

const corpusDir = "../../testdata/gguf"

// gb builds GGUF files for tests, little-endian unless be is set.
type gb struct {
	version  uint32
	be       bool
	kvs      [][]byte
	infos    [][]byte
	data     []byte
	nkv, nt  *uint64
	align    int
	noTensor bool
}

func (g *gb) order() binary.AppendByteOrder {
	if g.be {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (g *gb) u32(v uint32) []byte { return g.order().AppendUint32(nil, v) }
func (g *gb) u64(v uint64) []byte { return g.order().AppendUint64(nil, v) }

func (g *gb) n(v uint64) []byte {
	if g.version == 1 {
		return g.u32(uint32(v))
	}
	return g.u64(v)
}

func (g *gb) str(s string) []byte { return append(g.n(uint64(len(s))), s...) }

func (g *gb) kv(key string, typ uint32, payload []byte) *gb {
	b := append(g.str(key), g.u32(typ)...)
	g.kvs = append(g.kvs, append(b, payload...))
	return g
}

func (g *gb) kvStr(key, val string) *gb      { return g.kv(key, tString, g.str(val)) }
func (g *gb) kvU32(key string, v uint32) *gb { return g.kv(key, tUint32, g.u32(v)) }

func (g *gb) arr(et uint32, n uint64, elems []byte) []byte {
	return append(append(g.u32(et), g.n(n)...), elems...)
}

func (g *gb) tensor(name string, dims []uint64, typ uint32, off uint64) *gb {
	b := append(g.str(name), g.u32(uint32(len(dims)))...)
	for _, d := range dims {
		if g.version == 1 {
			b = append(b, g.u32(uint32(d))...)
		} else {
			b = append(b, g.u64(d)...)
		}
	}
	b = append(append(b, g.u32(typ)...), g.u64(off)...)
	g.infos = append(g.infos, b)
	return g
}

func (g *gb) bytes() []byte {
	v := g.version
	if v == 0 {
		v = 3
		g.version = 3
	}
	out := append([]byte("GGUF"), g.u32(v)...)
	nt, nkv := uint64(len(g.infos)), uint64(len(g.kvs))
	if g.nt != nil {
		nt = *g.nt
	}
	if g.nkv != nil {
		nkv = *g.nkv
	}
	out = append(out, g.n(nt)...)
	out = append(out, g.n(nkv)...)
	for _, kv := range g.kvs {
		out = append(out, kv...)
	}
	for _, ti := range g.infos {
		out = append(out, ti...)
	}
	a := g.align
	if a == 0 {
		a = 32
	}
	for len(out)%a != 0 {
		out = append(out, 0)
	}
	return append(out, g.data...)
}

// base is a valid file: two F32 tensors of 8 elements at 0 and 32.
func base() *gb {
	g := &gb{version: 3}
	g.kvStr("general.architecture", "llama").kvStr("general.name", "t").kvU32("llama.context_length", 4096)
	g.tensor("a", []uint64{8}, 0, 0).tensor("b", []uint64{8}, 0, 32)
	g.data = make([]byte, 64)
	return g
}

func scanBytes(b []byte, lim Limits) Report {
	return Scan(bytes.NewReader(b), int64(len(b)), lim)
}

func has(r Report, rule string, lvl finding.Level) bool {
	for _, f := range r.Findings {
		if f.Rule == rule && f.Level == lvl {
			return true
		}
	}
	return false
}

func dump(r Report) string {
	var sb strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&sb, "\n  %s %s @%d [%s] %s", f.Level, f.Rule, f.Offset, f.Where, f.Message)
	}
	return sb.String()
}

func u64p(v uint64) *uint64 { return &v }

func TestScanRules(t *testing.T) {
	type tc struct {
		name   string
		in     func() []byte
		lim    Limits
		rule   string // "" means: no findings at all
		level  finding.Level
		incomp bool
	}
	tests := []tc{
		{name: "valid", in: func() []byte { return base().bytes() }},
		{name: "valid v2", in: func() []byte { g := base(); g.version = 2; return rebuild(g).bytes() }},
		{name: "valid no tensors", in: func() []byte { g := &gb{}; g.kvStr("general.architecture", "llama"); return g.bytes() }},
		{name: "valid alignment 64", in: func() []byte {
			g := &gb{align: 64}
			g.kvU32("general.alignment", 64).tensor("a", []uint64{8}, 0, 0).tensor("b", []uint64{8}, 0, 64)
			g.data = make([]byte, 128)
			return g.bytes()
		}},
		{name: "valid quantized", in: func() []byte {
			g := &gb{}
			g.tensor("q", []uint64{256, 2}, 12, 0).tensor("r", []uint64{64, 1}, 8, 288)
			g.data = make([]byte, 288+96)
			return g.bytes()
		}},
		{name: "valid nested array", in: func() []byte {
			g := &gb{}
			g.kv("x", tArray, g.arr(tArray, 1, g.arr(tUint8, 2, []byte{1, 2})))
			return g.bytes()
		}, rule: RuleNestedArray, level: finding.Low},
		{name: "bad magic", in: func() []byte { b := base().bytes(); b[0] = 'X'; return b }, rule: RuleMalformed, level: finding.High, incomp: true},
		{name: "version 0", in: func() []byte { b := base().bytes(); b[4] = 0; return b }, rule: RuleMalformed, level: finding.High, incomp: true},
		{name: "version 4", in: func() []byte { b := base().bytes(); b[4] = 4; return b }, rule: RuleMalformed, level: finding.High, incomp: true},
		{name: "empty file", in: func() []byte { return nil }, rule: RuleTruncated, level: finding.High, incomp: true},
		{name: "v1", in: func() []byte { g := base(); g.version = 1; return rebuild(g).bytes() }, rule: RuleLegacyVersion, level: finding.Low},
		{name: "big endian", in: func() []byte { g := base(); g.be = true; return rebuild(g).bytes() }, rule: RuleBigEndian, level: finding.Info},
		{name: "kv count 2^62", in: func() []byte { g := base(); g.nkv = u64p(1 << 62); return g.bytes() }, rule: RuleBadLength, level: finding.High, incomp: true},
		{name: "kv count 2^64-1", in: func() []byte { g := base(); g.nkv = u64p(^uint64(0)); return g.bytes() }, rule: RuleBadLength, level: finding.High, incomp: true},
		{name: "tensor count 2^62", in: func() []byte { g := base(); g.nt = u64p(1 << 62); return g.bytes() }, rule: RuleBadLength, level: finding.High, incomp: true},
		{name: "kv count above cap", in: func() []byte { return base().bytes() }, lim: Limits{MaxKVs: 2}, rule: RuleLimit, level: finding.Medium, incomp: true},
		{name: "tensor count above cap", in: func() []byte { return base().bytes() }, lim: Limits{MaxTensors: 1}, rule: RuleLimit, level: finding.Medium, incomp: true},
		{name: "key length 2^63", in: func() []byte {
			g := base()
			g.kvs[1] = append(g.u64(1<<63), g.kvs[1][8:]...)
			return g.bytes()
		}, rule: RuleBadLength, level: finding.High, incomp: true},
		{name: "empty key", in: func() []byte { g := base(); g.kvStr("", "x"); return g.bytes() }, rule: RuleBadKey, level: finding.High},
		{name: "key not utf8", in: func() []byte { g := base(); g.kvStr("general.\xff", "x"); return g.bytes() }, rule: RuleBadKey, level: finding.Medium},
		{name: "key control", in: func() []byte { g := base(); g.kvStr("a\nb", "x"); return g.bytes() }, rule: RuleBadKey, level: finding.Medium},
		{name: "key path", in: func() []byte { g := base(); g.kvStr("a/b", "x"); return g.bytes() }, rule: RuleBadKey, level: finding.Low},
		{name: "key above cap", in: func() []byte { g := base(); g.kvStr(strings.Repeat("k", 40), "x"); return g.bytes() }, lim: Limits{MaxKey: 32}, rule: RuleBadKey, level: finding.Medium, incomp: true},
		{name: "duplicate key", in: func() []byte { g := base(); g.kvStr("general.name", "u"); return g.bytes() }, rule: RuleDuplicateKey, level: finding.High},
		{name: "value type 13", in: func() []byte { g := base(); g.kv("x", 13, nil); return g.bytes() }, rule: RuleValueType, level: finding.High, incomp: true},
		{name: "value type 2^31", in: func() []byte { g := base(); g.kv("x", 1<<31, nil); return g.bytes() }, rule: RuleValueType, level: finding.High, incomp: true},
		{name: "array type 200", in: func() []byte { g := base(); g.kv("x", tArray, g.arr(200, 1, []byte{0})); return g.bytes() }, rule: RuleValueType, level: finding.High, incomp: true},
		{name: "array count 2^62", in: func() []byte { g := base(); g.kv("x", tArray, g.arr(tUint8, 1<<62, nil)); return g.bytes() }, rule: RuleBadLength, level: finding.High, incomp: true},
		{name: "string array count 2^62", in: func() []byte { g := base(); g.kv("x", tArray, g.arr(tString, 1<<62, nil)); return g.bytes() }, rule: RuleBadLength, level: finding.High, incomp: true},
		{name: "array string length 2^63", in: func() []byte { g := base(); g.kv("x", tArray, g.arr(tString, 1, g.u64(1<<63))); return g.bytes() }, rule: RuleBadLength, level: finding.High, incomp: true},
		{name: "arrays too deep", in: func() []byte {
			g := base()
			inner := g.arr(tUint8, 0, nil)
			for i := 0; i < 20; i++ {
				inner = g.arr(tArray, 1, inner)
			}
			g.kv("x", tArray, inner)
			return g.bytes()
		}, rule: RuleLimit, level: finding.High, incomp: true},
		{name: "bool 2", in: func() []byte { g := base(); g.kv("b", tBool, []byte{2}); return g.bytes() }, rule: RuleBool, level: finding.Low},
		{name: "bool array 9", in: func() []byte { g := base(); g.kv("b", tArray, g.arr(tBool, 3, []byte{0, 1, 9})); return g.bytes() }, rule: RuleBool, level: finding.Low},
		{name: "alignment u64", in: func() []byte { g := base(); g.kv("general.alignment", tUint64, g.u64(32)); return g.bytes() }, rule: RuleKeyType, level: finding.High},
		{name: "alignment 0", in: func() []byte { g := base(); g.kvU32("general.alignment", 0); return g.bytes() }, rule: RuleAlignment, level: finding.High},
		{name: "alignment 48", in: func() []byte { g := base(); g.kvU32("general.alignment", 48); return g.bytes() }, rule: RuleAlignment, level: finding.High},
		{name: "architecture not string", in: func() []byte {
			g := base()
			g.kvs[0] = nil
			g.kvs = g.kvs[1:]
			g.kvU32("general.architecture", 1)
			return g.bytes()
		}, rule: RuleKeyType, level: finding.Low},
		{name: "template array", in: func() []byte {
			g := base()
			g.kv(templateKey, tArray, g.arr(tString, 1, g.str("{{x}}")))
			return g.bytes()
		}, rule: RuleKeyType, level: finding.Medium},
		{name: "template too long", in: func() []byte { g := base(); g.kvStr(templateKey+".rag", strings.Repeat("x", 100)); return g.bytes() }, lim: Limits{MaxTemplate: 64}, rule: RuleTemplateTooLong, level: finding.High, incomp: true},
		{name: "kept string too long", in: func() []byte { g := base(); g.kvStr("general.description", strings.Repeat("x", 100)); return g.bytes() }, lim: Limits{MaxString: 64}, rule: RuleStringTooLong, level: finding.Medium, incomp: true},
		{name: "other string too long", in: func() []byte { g := base(); g.kvStr("x.y", strings.Repeat("x", 100)); return g.bytes() }, lim: Limits{MaxString: 64}, rule: RuleStringTooLong, level: finding.Medium},
		{name: "array string too long", in: func() []byte {
			g := base()
			g.kv("x", tArray, g.arr(tString, 1, g.str(strings.Repeat("x", 100))))
			return g.bytes()
		}, lim: Limits{MaxString: 64}, rule: RuleStringTooLong, level: finding.Medium},
		{name: "tensor name 64 bytes", in: func() []byte {
			g := base()
			g.infos[0] = nil
			g.infos = g.infos[1:]
			g.tensor(strings.Repeat("n", 64), []uint64{8}, 0, 0)
			return g.bytes()
		}, rule: RuleTensorName, level: finding.High},
		{name: "tensor name control", in: func() []byte {
			g := base()
			g.infos = g.infos[1:]
			g.tensor("a\x1b", []uint64{8}, 0, 0)
			return g.bytes()
		}, rule: RuleTensorName, level: finding.Medium},
		{name: "tensor name length 2^63", in: func() []byte { g := base(); g.infos[0] = append(g.u64(1<<63), g.infos[0][8:]...); return g.bytes() }, rule: RuleBadLength, level: finding.High, incomp: true},
		{name: "duplicate tensor", in: func() []byte { g := base(); g.infos = g.infos[:1]; g.tensor("a", []uint64{8}, 0, 32); return g.bytes() }, rule: RuleDuplicateTensor, level: finding.High},
		{name: "n_dims 5", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{8, 1, 1, 1, 1}, 0, 32)
			return g.bytes()
		}, rule: RuleDims, level: finding.High},
		{name: "n_dims 2^31", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.infos = append(g.infos, append(append(g.str("b"), g.u32(1<<31)...), make([]byte, 12)...))
			return g.bytes()
		}, rule: RuleBadLength, level: finding.High, incomp: true},
		{name: "negative dim", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{8, 1 << 63}, 0, 32)
			return g.bytes()
		}, rule: RuleShape, level: finding.High},
		{name: "dims overflow", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{1 << 32, 1 << 31}, 0, 32)
			return g.bytes()
		}, rule: RuleShapeOverflow, level: finding.High},
		{name: "bytes overflow", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{1 << 61}, 28, 32)
			return g.bytes()
		}, rule: RuleShapeOverflow, level: finding.High},
		{name: "zero dim", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{8, 0}, 0, 32)
			return g.bytes()
		}, rule: RuleEmptyTensor, level: finding.Low},
		{name: "overflow then zero", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{1 << 40, 1 << 40, 0}, 0, 32)
			return g.bytes()
		}, rule: RuleEmptyTensor, level: finding.Low},
		{name: "unknown type", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{8}, 99, 32)
			return g.bytes()
		}, rule: RuleUnknownType, level: finding.High},
		{name: "removed type", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{32}, 5, 32)
			return g.bytes()
		}, rule: RuleUnknownType, level: finding.High},
		{name: "row not whole blocks", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{16, 2}, 8, 32)
			return g.bytes()
		}, rule: RuleShape, level: finding.High},
		{name: "misaligned", in: func() []byte { g := base(); g.infos = g.infos[:1]; g.tensor("b", []uint64{4}, 0, 40); return g.bytes() }, rule: RuleMisaligned, level: finding.High},
		{name: "out of bounds", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{16}, 0, 32)
			return g.bytes()
		}, rule: RuleOutOfBounds, level: finding.High},
		{name: "offset wraps", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{8}, 0, ^uint64(31))
			return g.bytes()
		}, rule: RuleOutOfBounds, level: finding.High},
		{name: "overlap", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{8}, 0, 0)
			g.data = g.data[:32]
			return g.bytes()
		}, rule: RuleOverlap, level: finding.High},
		{name: "gap", in: func() []byte {
			g := base()
			g.infos = g.infos[:1]
			g.tensor("b", []uint64{8}, 0, 64)
			g.data = make([]byte, 96)
			return g.bytes()
		}, rule: RuleGap, level: finding.Medium},
		{name: "order", in: func() []byte {
			g := base()
			g.infos = nil
			g.tensor("b", []uint64{8}, 0, 32).tensor("a", []uint64{8}, 0, 0)
			return g.bytes()
		}, rule: RuleOrder, level: finding.Low},
		{name: "trailing", in: func() []byte { g := base(); g.data = append(g.data, "echo hallmark-marker"...); return g.bytes() }, rule: RuleTrailing, level: finding.Medium},
		{name: "trailing no tensors", in: func() []byte {
			g := &gb{}
			g.kvStr("general.architecture", "llama")
			return append(g.bytes(), "PK\x03\x04"...)
		}, rule: RuleTrailing, level: finding.Medium},
		{name: "truncated in infos", in: func() []byte { b := base().bytes(); return b[:infoEnd(base())-4] }, rule: RuleTruncated, level: finding.High, incomp: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := scanBytes(tc.in(), tc.lim)
			if tc.rule == "" {
				if len(r.Findings) != 0 || !r.Complete {
					t.Fatalf("want no findings, complete; got complete=%v%s", r.Complete, dump(r))
				}
				return
			}
			if !has(r, tc.rule, tc.level) {
				t.Fatalf("want %s at %s; got%s", tc.rule, tc.level, dump(r))
			}
			if tc.incomp == r.Complete {
				t.Fatalf("Complete=%v, want %v%s", r.Complete, !tc.incomp, dump(r))
			}
		})
	}
}

// infoEnd is the offset where g's tensor infos end.
func infoEnd(g *gb) int {
	n := 24
	for _, b := range append(g.kvs, g.infos...) {
		n += len(b)
	}
	return n
}

// rebuild re-encodes base() after its version or byte order changed.
func rebuild(g *gb) *gb {
	h := &gb{version: g.version, be: g.be}
	h.kvStr("general.architecture", "llama").kvStr("general.name", "t").kvU32("llama.context_length", 4096)
	h.tensor("a", []uint64{8}, 0, 0).tensor("b", []uint64{8}, 0, 32)
	h.data = make([]byte, 64)
	return h
}

func TestFacts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version uint32
		be      bool
	}{{"v3", 3, false}, {"v2", 2, false}, {"v1", 1, false}, {"v3 big-endian", 3, true}} {
		t.Run(tc.name, func(t *testing.T) {
			g := &gb{version: tc.version, be: tc.be}
			g.kvU32("mistral.context_length", 32768) // before the architecture, as a hostile file may order it
			g.kvStr("general.architecture", "mistral")
			g.kvStr("general.name", "Mistral 7B Instruct")
			g.kvStr("general.license", "apache-2.0")
			g.kvStr("general.description", strings.Repeat("d", 3000))
			g.kvU32("general.file_type", 15)
			g.kvU32("general.quantization_version", 2)
			g.kvU32("llama.context_length", 4096)
			g.kvStr("tokenizer.ggml.model", "llama")
			g.kv("tokenizer.ggml.tokens", tArray, g.arr(tString, 3, append(append(g.str("<s>"), g.str("</s>")...), g.str("▁a")...)))
			g.kvStr(templateKey, "{{ bos_token }}")
			g.kvStr(templateKey+".tool_use", "{% for m in messages %}{{ m.content }}{% endfor %}")
			g.kv("tokenizer.chat_templates", tArray, g.arr(tString, 1, g.str("tool_use")))
			g.tensor("blk.0.ffn_down.weight", []uint64{256, 2}, 12, 0) // Q4_K, 288 bytes
			g.tensor("output_norm.weight", []uint64{32}, 0, 288)       // F32
			g.tensor("token_embd.weight", []uint64{32, 4}, 30, 416)    // BF16, 256 bytes
			g.data = make([]byte, 672)
			b := g.bytes()
			r := scanBytes(b, Limits{})
			wantFindings := 0
			if tc.version == 1 || tc.be {
				wantFindings = 1
			}
			if len(r.Findings) != wantFindings || !r.Complete {
				t.Fatalf("findings%s", dump(r))
			}
			if r.Version != tc.version || r.BigEndian != tc.be || r.Architecture != "mistral" || r.Name != "Mistral 7B Instruct" ||
				r.License != "apache-2.0" || r.FileType != 15 || r.FileTypeName != "MOSTLY_Q4_K_M" || r.QuantizationVersion != 2 ||
				r.ContextLength != 32768 || r.Alignment != 32 || r.KVs != 13 || r.Tensors != 3 || r.Parameters != 512+32+128 ||
				r.TokenizerModel != "llama" || r.VocabSize != 3 {
				t.Fatalf("facts %+v", r)
			}
			if !reflect.DeepEqual(r.Dtypes, []string{"BF16", "F32", "Q4_K"}) {
				t.Errorf("dtypes %v", r.Dtypes)
			}
			if d := r.General["general.description"]; len(d) > keepValue+len("…") || !strings.HasPrefix(d, "ddd") {
				t.Errorf("description kept as %d bytes", len(d))
			}
			if len(r.Templates) != 2 || r.Templates[0].Name != "default" || r.Templates[1].Name != "tool_use" {
				t.Fatalf("templates %+v", r.Templates)
			}
			for _, tp := range r.Templates {
				sum := sha256.Sum256([]byte(tp.Text))
				if tp.SHA256 != hex.EncodeToString(sum[:]) || string(b[tp.Offset:tp.Offset+int64(len(tp.Text))]) != tp.Text {
					t.Errorf("template %q: hash or offset wrong", tp.Name)
				}
			}
			if r.DataOffset != int64(len(b)-672) {
				t.Errorf("data offset %d, want %d", r.DataOffset, len(b)-672)
			}
		})
	}
}

func TestGGMLTable(t *testing.T) {
	// Block and type sizes as gguf-py's GGML_QUANT_SIZES computes them,
	// except Q8_1: gguf-py still says 4+4+32 (float d and s), ggml-common.h
	// now stores two halves (2*2+32), and ggml is what loads the file.
	const qk = 256
	want := map[string][2]uint64{
		"Q4_0": {32, 2 + 16}, "Q4_1": {32, 2 + 2 + 16}, "Q5_0": {32, 2 + 4 + 16}, "Q5_1": {32, 2 + 2 + 4 + 16},
		"Q8_0": {32, 2 + 32}, "Q8_1": {32, 2 + 2 + 32}, "Q2_K": {qk, 2*2 + qk/16 + qk/4},
		"Q3_K": {qk, 2 + qk/4 + qk/8 + 12}, "Q4_K": {qk, 2 + 2 + 12 + qk/2}, "Q5_K": {qk, 2 + 2 + 12 + qk/2 + qk/8},
		"Q6_K": {qk, 2 + qk/2 + qk/4 + qk/16}, "Q8_K": {qk, 4 + qk + qk/8}, "IQ2_XXS": {qk, 2 + qk/4},
		"IQ2_XS": {qk, 2 + qk/4 + qk/32}, "IQ3_XXS": {qk, 2 + qk/4 + qk/8}, "IQ1_S": {qk, 2 + qk/8 + qk/16},
		"IQ4_NL": {32, 2 + 16}, "IQ3_S": {qk, 2 + qk/4 + qk/8 + qk/32 + 4}, "IQ2_S": {qk, 2 + qk/4 + qk/16},
		"IQ4_XS": {qk, 2 + 2 + qk/2 + qk/64}, "IQ1_M": {qk, qk/8 + qk/16 + qk/32}, "TQ1_0": {qk, 2 + 4*13},
		"TQ2_0": {qk, 2 + 64}, "MXFP4": {32, 1 + 16}, "NVFP4": {64, 4 + 32}, "Q1_0": {128, 2 + 16}, "Q2_0": {64, 2 + 16},
		"F32": {1, 4}, "F16": {1, 2}, "BF16": {1, 2}, "F64": {1, 8}, "I8": {1, 1}, "I16": {1, 2}, "I32": {1, 4}, "I64": {1, 8},
	}
	if len(ggmlTypes) != len(want) {
		t.Fatalf("%d types in the table, %d expected", len(ggmlTypes), len(want))
	}
	for id, tt := range ggmlTypes {
		w, ok := want[tt.name]
		if !ok || w != [2]uint64{tt.block, tt.size} {
			t.Errorf("type %d %s: block %d size %d, want %v", id, tt.name, tt.block, tt.size, w)
		}
		if _, removed := removedTypes[id]; removed {
			t.Errorf("type %d is both known and removed", id)
		}
	}
}

// countReader counts the bytes handed out.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestStopsAtTensorData(t *testing.T) {
	// A 64 GiB "file": a real header, then zeros the scanner must not consume.
	g := &gb{}
	g.kvStr("general.architecture", "llama")
	g.tensor("w", []uint64{1 << 33}, 0, 0) // 32 GiB of F32
	g.tensor("v", []uint64{1 << 33}, 0, 32<<30)
	head := g.bytes()
	size := int64(len(head)) + 64<<30
	cr := &countReader{r: io.MultiReader(bytes.NewReader(head), io.LimitReader(zeros{}, 64<<30))}
	r := Scan(cr, size, Limits{})
	if len(r.Findings) != 0 || r.Parameters != 1<<34 {
		t.Fatalf("params %d%s", r.Parameters, dump(r))
	}
	if cr.n > int64(len(head))+64<<10 {
		t.Fatalf("read %d bytes for a %d-byte header", cr.n, len(head))
	}
}

func TestUnknownSize(t *testing.T) {
	g := base()
	g.data = append(g.data, "tail"...)
	r := Scan(bytes.NewReader(g.bytes()), -1, Limits{})
	if len(r.Findings) != 0 || !r.Complete || r.Tensors != 2 {
		t.Fatalf("complete=%v tensors=%d%s", r.Complete, r.Tensors, dump(r))
	}
	g = base()
	g.nkv = u64p(1 << 40)
	r = Scan(bytes.NewReader(g.bytes()), -1, Limits{})
	high := false
	for _, f := range r.Findings {
		high = high || f.Level == finding.High
	}
	if r.Complete || !high {
		t.Fatalf("complete=%v%s", r.Complete, dump(r))
	}
}

func TestShortStream(t *testing.T) {
	b := base().bytes()
	// The stream ends in the tensor infos although size says there is more.
	r := Scan(bytes.NewReader(b[:infoEnd(base())-4]), int64(len(b)), Limits{})
	if r.Complete || !has(r, RuleTruncated, finding.High) {
		t.Fatalf("complete=%v%s", r.Complete, dump(r))
	}
}

func TestHugeCountsAreCheap(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"kv count 2^62", func() []byte { g := base(); g.nkv = u64p(1 << 62); return g.bytes() }()},
		{"array count 2^62", func() []byte { g := base(); g.kv("x", tArray, g.arr(tString, 1<<62, nil)); return g.bytes() }()},
		{"string length 2^63", func() []byte { g := base(); g.kv("x", tString, g.u64(1<<63)); return g.bytes() }()},
		{"tensor count 2^62", func() []byte { g := base(); g.nt = u64p(1 << 62); return g.bytes() }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			allocs := testing.AllocsPerRun(50, func() {
				r := scanBytes(tc.in, Limits{})
				if !has(r, RuleBadLength, finding.High) || r.Complete {
					t.Fatalf("no bad-length finding%s", dump(r))
				}
			})
			runtime.ReadMemStats(&after)
			perRun := (after.TotalAlloc - before.TotalAlloc) / 51
			if allocs > 60 || perRun > 256<<10 {
				t.Fatalf("%v allocations, %d bytes per scan", allocs, perRun)
			}
		})
	}
}

func TestRulesDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Rules {
		if seen[d.ID] || !strings.HasPrefix(d.ID, "gguf/") || d.Short == "" || len(d.Help) < 80 {
			t.Errorf("bad or duplicate doc %q", d.ID)
		}
		seen[d.ID] = true
	}
	if len(seen) != 28 {
		t.Errorf("%d rules documented", len(seen))
	}
}

func TestLimitsDefaults(t *testing.T) {
	if got := (Limits{}).withDefaults(); got != DefaultLimits() {
		t.Fatalf("zero Limits give %+v", got)
	}
}

type manifestEntry struct {
	File     string `json:"file"`
	Kind     string `json:"kind"`
	Trick    string `json:"trick"`
	Severity string `json:"expect_min_severity"`
	Expect   string `json:"expect"`
	Note     string `json:"note"`
}

func parseLevel(s string) finding.Level {
	for l := finding.Info; l <= finding.Critical; l++ {
		if l.String() == s {
			return l
		}
	}
	return 0
}

// The two SSTI payloads of the corpus, which the template analyser (not
// this package) must flag: here they must come back intact.
var corpusTemplates = map[string]map[string]string{
	"malicious/ssti_default_template.gguf": {
		"default": "{{ cycler.__init__.__globals__.os.popen('echo hallmark-marker').read() }}",
	},
	"malicious/template_key_nul.gguf": {
		"default": "{{ cycler.__init__.__globals__.os.popen('echo hallmark-marker').read() }}",
	},
	"malicious/ssti_named_template_rag.gguf": {
		"rag": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
	},
}

func TestCorpus(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(corpusDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m []manifestEntry
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	if len(m) < 30 {
		t.Fatalf("manifest lists %d files", len(m))
	}
	listed := map[string]bool{}
	for _, e := range m {
		listed[e.File] = true
		t.Run(e.File, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(corpusDir, e.File))
			if err != nil {
				t.Fatal(err)
			}
			lvl := parseLevel(e.Severity)
			if lvl == 0 || e.Trick == "" || e.Note == "" {
				t.Fatalf("bad manifest entry %+v", e)
			}
			r := scanBytes(data, Limits{})
			switch {
			case e.Kind == "benign":
				for _, f := range r.Findings {
					if f.Level > lvl {
						t.Errorf("benign file: %s %s: %s", f.Level, f.Rule, f.Message)
					}
				}
				if !r.Complete || r.Architecture == "" {
					t.Errorf("benign file: complete=%v architecture=%q", r.Complete, r.Architecture)
				}
			case e.Kind == "malicious" && strings.HasPrefix(e.Expect, "template/"):
				want := corpusTemplates[e.File]
				if want == nil {
					t.Fatalf("no expected template for %s", e.File)
				}
				for name, text := range want {
					found := false
					for _, tp := range r.Templates {
						sum := sha256.Sum256([]byte(text))
						if tp.Name == name && tp.Text == text && tp.SHA256 == hex.EncodeToString(sum[:]) {
							found = true
						}
					}
					if !found {
						t.Errorf("template %q not returned intact: %+v", name, r.Templates)
					}
				}
			case e.Kind == "malicious":
				ok := false
				for _, f := range r.Findings {
					if f.Level >= lvl && (strings.Contains(f.Rule, e.Expect) || strings.Contains(f.Message, e.Expect)) {
						ok = true
					}
				}
				if !ok || e.Expect == "" {
					t.Errorf("want %q at >= %s; got%s", e.Expect, e.Severity, dump(r))
				}
			default:
				t.Errorf("kind %q", e.Kind)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.gguf"))
	for _, f := range files {
		rel, _ := filepath.Rel(corpusDir, f)
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("%s is not in the manifest", rel)
		}
	}
}

func TestCorpusFacts(t *testing.T) {
	scan := func(name string) Report {
		b, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return scanBytes(b, Limits{})
	}
	le, be := scan("benign/llama3_q8_0_v3.gguf"), scan("benign/llama3_big_endian.gguf")
	if le.Version != 3 || !be.BigEndian || le.Parameters != be.Parameters || le.KVs != be.KVs || le.Tensors != 12 ||
		!reflect.DeepEqual(le.Templates, be.Templates) || le.FileTypeName != "MOSTLY_Q8_0" || le.ContextLength != 8192 || le.VocabSize != 300 {
		t.Errorf("llama3 facts: le %+v be %+v", le, be)
	}
	if len(le.Templates) != 1 || le.Templates[0].SHA256 != "ba03a121d097859c7b5b9cd03af99aafe95275210d2876f642ad9929a150f122" {
		t.Errorf("llama-3 template %+v", le.Templates)
	}
	cr := scan("benign/command_r_named_templates.gguf")
	if len(cr.Templates) != 2 || cr.Templates[0].Name != "tool_use" || cr.Templates[1].Name != "default" {
		t.Errorf("command-r templates %+v", cr.Templates)
	}
	v1 := scan("benign/llama_f16_v1.gguf")
	if v1.Version != 1 || v1.Tensors != 3 || v1.VocabSize != 264 {
		t.Errorf("v1 facts %+v", v1)
	}
}

// llama.cpp compares keys as C strings: a key continuing after a NUL is
// the shorter key for it.
func TestNULKeys(t *testing.T) {
	const tpl = "{{ messages[0]['content'] }}"
	t.Run("template key with NUL", func(t *testing.T) {
		g := base()
		g.kvStr("tokenizer.chat_template\x00x", tpl)
		r := scanBytes(g.bytes(), Limits{})
		if !has(r, RuleBadKey, finding.High) {
			t.Fatalf("no high bad-key: %s", dump(r))
		}
		if len(r.Templates) != 1 || r.Templates[0].Name != "default" || r.Templates[0].Text != tpl {
			t.Fatalf("templates = %+v", r.Templates)
		}
	})
	t.Run("named template key with NUL", func(t *testing.T) {
		g := base()
		g.kvStr("tokenizer.chat_template.tool_use\x00", tpl)
		r := scanBytes(g.bytes(), Limits{})
		if len(r.Templates) != 1 || r.Templates[0].Name != "tool_use" {
			t.Fatalf("templates = %+v", r.Templates)
		}
	})
	t.Run("duplicate up to NUL", func(t *testing.T) {
		g := base()
		g.kvStr("tokenizer.chat_template", tpl)
		g.kvStr("tokenizer.chat_template\x00evil", "{{ cycler }}")
		r := scanBytes(g.bytes(), Limits{})
		if !has(r, RuleDuplicateKey, finding.High) || len(r.Templates) != 2 {
			t.Fatalf("want duplicate-key and both templates: %s %+v", dump(r), r.Templates)
		}
	})
	t.Run("general key with NUL", func(t *testing.T) {
		g := base()
		g.kvStr("general.license\x00x", "mit")
		r := scanBytes(g.bytes(), Limits{})
		if r.License != "mit" {
			t.Fatalf("License = %q", r.License)
		}
	})
}
