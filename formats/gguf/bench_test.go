package gguf

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkGGUF scans the metadata of a llama-3-sized vocabulary: 128,256
// token strings, their INT32 types and 128,000 merges (about 3 MB), then a
// few tensor infos. Throughput is over the bytes up to the tensor data.
func BenchmarkGGUF(b *testing.B) {
	g := &gb{version: 3}
	g.kvStr("general.architecture", "llama").kvStr("general.name", "Meta Llama 3 8B Instruct")
	g.kvU32("llama.context_length", 8192)
	g.kvStr("tokenizer.ggml.model", "gpt2")
	const nTok, nMerge = 128256, 128000
	var toks, types, merges []byte
	for i := 0; i < nTok; i++ {
		toks = append(toks, g.str(fmt.Sprintf("Ġtok%d", i))...)
		types = append(types, g.u32(1)...)
	}
	for i := 0; i < nMerge; i++ {
		merges = append(merges, g.str(fmt.Sprintf("Ġt ok%d", i))...)
	}
	g.kv("tokenizer.ggml.tokens", tArray, g.arr(tString, nTok, toks))
	g.kv("tokenizer.ggml.token_type", tArray, g.arr(tInt32, nTok, types))
	g.kv("tokenizer.ggml.merges", tArray, g.arr(tString, nMerge, merges))
	g.kvStr(templateKey, "{% for m in messages %}{{ m['content'] }}{% endfor %}")
	g.tensor("token_embd.weight", []uint64{4096, nTok}, 12, 0)
	head := g.bytes()
	size := int64(len(head)) + 4096/256*144*nTok
	b.SetBytes(int64(len(head)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := Scan(bytes.NewReader(head), size, Limits{})
		if len(r.Findings) != 0 || r.VocabSize != nTok {
			b.Fatalf("unexpected result: vocab %d %v", r.VocabSize, r.Findings)
		}
	}
}
