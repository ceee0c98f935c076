#!/usr/bin/python3
"""Writes the GGUF fixtures of testdata/gguf and its manifest.json.

Python standard library only. The writer mirrors gguf-py's GGUFWriter
(llama.cpp gguf-py/gguf/gguf_writer.py): magic "GGUF" as bytes, version,
tensor count, KV count, the KV pairs in insertion order, the tensor infos
(dimensions in ggml order, ne[0] first, offsets the running sum of sizes
padded to the alignment), zero padding to the alignment, then each
tensor's data padded to the alignment. Version 1 uses 32-bit counts,
lengths and dimensions, as ggml's GGUFv1 reader did. Big-endian files
encode every number big-endian (the magic stays "GGUF").

The benign files use real metadata keys in the order convert_hf_to_gguf.py
writes them; the llama-3 and command-r chat templates are read from
gen/templates/, byte-for-byte copies of shared/vectors/chat-templates
(llama-3-8b-instruct.jinja, command-r-v01.jinja, command-r-v01-tool-use.jinja;
attribution in gen/templates/README.md). The malicious files break one rule each; payloads are inert
markers (echo hallmark-marker). Deterministic: fixed seeds, no timestamps.
Run from the repository root:

    /usr/bin/python3 testdata/gguf/gen/gen_gguf.py
"""

import json
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
TEMPLATES = os.path.join(HERE, "templates")

# gguf value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
PACK = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f",
        BOOL: "B", U64: "Q", I64: "q", F64: "d"}

# ggml types: id -> (block size, type size)
GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q8_0": (8, 32, 34),
        "Q4_K": (12, 256, 144), "Q6_K": (14, 256, 210)}

SSTI_CYCLER = "{{ cycler.__init__.__globals__.os.popen('echo hallmark-marker').read() }}"
SSTI_SUBCLASSES = "{{ ''.__class__.__mro__[1].__subclasses__() }}"

MANIFEST = []


def template(name):
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
        return f.read()


class Str(bytes):
    """A string value given as raw bytes (to write invalid UTF-8)."""


class Writer:
    def __init__(self, version=3, endian="<", alignment=32):
        self.version = version
        self.e = endian
        self.alignment = alignment
        self.kvs = []  # (key, type, value, subtype)
        self.tensors = []  # (name, ne, type name, data)

    # -- values ------------------------------------------------------------
    def _n(self, n):
        return struct.pack(self.e + ("I" if self.version == 1 else "Q"), n)

    def _str(self, s):
        b = s if isinstance(s, bytes) else s.encode("utf-8")
        return self._n(len(b)) + b

    def _val(self, vtype, value, subtype=None):
        if vtype == STR:
            return self._str(value)
        if vtype == ARR:
            out = struct.pack(self.e + "I", subtype[0] if isinstance(subtype, tuple) else subtype)
            out += self._n(len(value))
            inner = subtype[1] if isinstance(subtype, tuple) else None
            st = subtype[0] if isinstance(subtype, tuple) else subtype
            for item in value:
                out += self._val(st, item, inner)
            return out
        return struct.pack(self.e + PACK[vtype], value)

    def kv(self, key, vtype, value, subtype=None):
        self.kvs.append((key, vtype, value, subtype))
        return self

    def tensor(self, name, ne, tname, data=None, seed=0):
        _, blk, tsz = GGML[tname]
        n = 1
        for d in ne:
            n *= d
        nbytes = n // blk * tsz
        if data is None:
            data = tensor_data(tname, n, nbytes, seed, self.e)
        assert len(data) == nbytes, (name, len(data), nbytes)
        self.tensors.append((name, ne, tname, data))
        return self

    # -- file --------------------------------------------------------------
    def pad(self, n):
        return (-n) % self.alignment

    def build(self, n_tensors=None, n_kv=None, offsets=None, types=None, tail=b"", raw_infos=None):
        out = b"GGUF" + struct.pack(self.e + "I", self.version)
        out += self._n(len(self.tensors) if n_tensors is None else n_tensors)
        out += self._n(len(self.kvs) if n_kv is None else n_kv)
        for key, vtype, value, subtype in self.kvs:
            out += self._str(key) + struct.pack(self.e + "I", vtype) + self._val(vtype, value, subtype)
        off = 0
        data = b""
        for i, (name, ne, tname, blob) in enumerate(self.tensors):
            tid = GGML[tname][0] if types is None or types[i] is None else types[i]
            o = off if offsets is None or offsets[i] is None else offsets[i]
            if raw_infos is not None and raw_infos[i] is not None:
                out += raw_infos[i]
            else:
                out += self._str(name) + struct.pack(self.e + "I", len(ne))
                for d in ne:
                    out += struct.pack(self.e + ("I" if self.version == 1 else "Q"), d)
                out += struct.pack(self.e + "I", tid) + struct.pack(self.e + "Q", o)
            off += len(blob) + self.pad(len(blob))
            data += blob + b"\x00" * self.pad(len(blob))
        out += b"\x00" * self.pad(len(out))
        return out + data + tail


def tensor_data(tname, n, nbytes, seed, endian):
    rng = random.Random(seed * 7919 + n)
    if tname == "F32":
        return b"".join(struct.pack(endian + "f", 1.0 + rng.gauss(0, 0.01)) for _ in range(n))
    if tname == "F16":
        return b"".join(struct.pack(endian + "e", rng.gauss(0, 0.02)) for _ in range(n))
    # quantized blocks: a plausible f16 scale then random quants
    _, blk, tsz = GGML[tname]
    out = b""
    for _ in range(nbytes // tsz):
        out += struct.pack(endian + "e", abs(rng.gauss(0, 0.001)) + 1e-4) + rng.randbytes(tsz - 2)
    return out


def write(kind, name, blob, trick, severity, expect, note):
    path = os.path.join(ROOT, kind, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(blob)
    MANIFEST.append({"file": kind + "/" + name, "kind": kind, "trick": trick,
                     "expect_min_severity": severity, "expect": expect, "note": note})


# -- tokenizers ---------------------------------------------------------------

def bytes_to_unicode():
    """GPT-2's byte-level alphabet."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


MERGES = ["Ġ t", "Ġ a", "h e", "i n", "r e", "o n", "Ġt he", "e r", "Ġ s", "a t", "Ġ w", "Ġ o",
          "e n", "Ġ c", "i t", "i s", "a n", "o r", "e s", "Ġ b", "e d", "Ġ f", "in g", "Ġ p",
          "o u", "Ġa n", "a l", "a r", "Ġt o", "Ġ m", "Ġo f", "Ġ in", "Ġ d", "Ġ h", "Ġan d", "i c",
          "a s", "l e"]


def bpe_vocab(specials):
    tokens = bytes_to_unicode()
    tokens += ["".join(m.split(" ")) for m in MERGES]
    types = [1] * len(tokens)
    for s in specials:
        tokens.append(s)
        types.append(3)
    return tokens, types


def spm_vocab(n):
    tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    scores = [0.0, 0.0, 0.0] + [0.0] * 256
    pieces = ["▁t", "er", "in", "▁a", "en", "on", "▁th", "es", "▁s", "▁d", "at", "or", "an",
              "▁c", "is", "re", "it", "▁the", "ar", "le", "▁w", "▁p", "ou", "al", "▁f", "▁m",
              "ed", "▁o", "▁b", "om", "ion", "ing", "ic", "as", "el", "ent", "▁in", "▁h", "nd",
              "et", "▁l"]
    for i, p in enumerate(pieces[: n - len(tokens)]):
        tokens.append(p)
        types.append(1)
        scores.append(-float(i))
    return tokens, types, scores


LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                   "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]


def llama3_writer(version=3, endian="<", chat_template=None, alignment=None):
    tokens, types = bpe_vocab(LLAMA3_SPECIALS)
    n_vocab = len(tokens)
    w = Writer(version, endian)
    w.kv("general.architecture", STR, "llama")
    w.kv("general.type", STR, "model")
    w.kv("general.name", STR, "Hallmark Tiny Llama 3 Instruct")
    w.kv("general.finetune", STR, "Instruct")
    w.kv("general.basename", STR, "Hallmark-Tiny-Llama-3")
    w.kv("general.size_label", STR, "70K")
    w.kv("general.license", STR, "llama3")
    w.kv("general.tags", ARR, ["facebook", "meta", "llama", "llama-3", "text-generation"], STR)
    w.kv("general.languages", ARR, ["en"], STR)
    if alignment is not None:
        w.kv("general.alignment", U32, alignment)
    w.kv("llama.block_count", U32, 1)
    w.kv("llama.context_length", U32, 8192)
    w.kv("llama.embedding_length", U32, 32)
    w.kv("llama.feed_forward_length", U32, 256)
    w.kv("llama.attention.head_count", U32, 4)
    w.kv("llama.attention.head_count_kv", U32, 1)
    w.kv("llama.rope.freq_base", F32, 500000.0)
    w.kv("llama.attention.layer_norm_rms_epsilon", F32, 1e-05)
    w.kv("general.file_type", U32, 7)
    w.kv("llama.vocab_size", U32, n_vocab)
    w.kv("llama.rope.dimension_count", U32, 8)
    w.kv("tokenizer.ggml.model", STR, "gpt2")
    w.kv("tokenizer.ggml.pre", STR, "llama-bpe")
    w.kv("tokenizer.ggml.tokens", ARR, tokens, STR)
    w.kv("tokenizer.ggml.token_type", ARR, types, I32)
    w.kv("tokenizer.ggml.merges", ARR, MERGES, STR)
    w.kv("tokenizer.ggml.bos_token_id", U32, n_vocab - 6)
    w.kv("tokenizer.ggml.eos_token_id", U32, n_vocab - 1)
    if chat_template is not None:
        w.kv("tokenizer.chat_template", STR, chat_template)
    w.kv("general.quantization_version", U32, 2)
    w.tensor("token_embd.weight", [32, n_vocab], "F16", seed=1)
    w.tensor("blk.0.attn_norm.weight", [32], "F32", seed=2)
    w.tensor("blk.0.attn_q.weight", [32, 32], "Q8_0", seed=3)
    w.tensor("blk.0.attn_k.weight", [32, 8], "Q8_0", seed=4)
    w.tensor("blk.0.attn_v.weight", [32, 8], "Q8_0", seed=5)
    w.tensor("blk.0.attn_output.weight", [32, 32], "Q8_0", seed=6)
    w.tensor("blk.0.ffn_norm.weight", [32], "F32", seed=7)
    w.tensor("blk.0.ffn_gate.weight", [32, 256], "Q8_0", seed=8)
    w.tensor("blk.0.ffn_up.weight", [32, 256], "Q8_0", seed=9)
    w.tensor("blk.0.ffn_down.weight", [256, 32], "Q4_K", seed=10)
    w.tensor("output_norm.weight", [32], "F32", seed=11)
    w.tensor("output.weight", [32, n_vocab], "Q8_0", seed=12)
    return w


def benign():
    llama3 = template("llama-3-8b-instruct.jinja")
    write("benign", "llama3_q8_0_v3.gguf", llama3_writer(chat_template=llama3).build(),
          "llama-3 style v3", "low", "",
          "v3, alignment 32 (implicit), convert_hf_to_gguf.py key order, 300-token byte-level BPE vocabulary, "
          "llama-3 chat template (copied from shared/vectors/chat-templates/llama-3-8b-instruct.jinja), F32/F16/Q8_0/Q4_K tensors")

    # v2, Sep 2023 style: SentencePiece vocabulary with scores, no chat template.
    tokens, types, scores = spm_vocab(300)
    w = Writer(2)
    w.kv("general.architecture", STR, "llama")
    w.kv("general.name", STR, "LLaMA v2")
    w.kv("llama.context_length", U32, 4096)
    w.kv("llama.embedding_length", U32, 32)
    w.kv("llama.block_count", U32, 1)
    w.kv("llama.feed_forward_length", U32, 64)
    w.kv("llama.rope.dimension_count", U32, 8)
    w.kv("llama.attention.head_count", U32, 4)
    w.kv("llama.attention.head_count_kv", U32, 4)
    w.kv("llama.attention.layer_norm_rms_epsilon", F32, 1e-05)
    w.kv("general.file_type", U32, 2)
    w.kv("tokenizer.ggml.model", STR, "llama")
    w.kv("tokenizer.ggml.tokens", ARR, tokens, STR)
    w.kv("tokenizer.ggml.scores", ARR, scores, F32)
    w.kv("tokenizer.ggml.token_type", ARR, types, I32)
    w.kv("tokenizer.ggml.bos_token_id", U32, 1)
    w.kv("tokenizer.ggml.eos_token_id", U32, 2)
    w.kv("tokenizer.ggml.unknown_token_id", U32, 0)
    w.kv("general.quantization_version", U32, 2)
    w.tensor("token_embd.weight", [32, 300], "Q4_0", seed=21)
    w.tensor("blk.0.attn_norm.weight", [32], "F32", seed=22)
    w.tensor("blk.0.attn_q.weight", [32, 32], "Q4_0", seed=23)
    w.tensor("output_norm.weight", [32], "F32", seed=24)
    w.tensor("output.weight", [32, 300], "F16", seed=25)
    write("benign", "llama2_q4_0_v2.gguf", w.build(), "GGUF v2", "low", "",
          "v2 (64-bit counts), SentencePiece vocabulary with scores and byte tokens, Q4_0/F32/F16, no chat template")

    # v1, Aug 2023 style: 32-bit counts, lengths and dimensions.
    tokens, types, scores = spm_vocab(264)
    w = Writer(1)
    w.kv("general.architecture", STR, "llama")
    w.kv("general.name", STR, "llama")
    w.kv("llama.context_length", U32, 2048)
    w.kv("llama.embedding_length", U32, 32)
    w.kv("llama.block_count", U32, 1)
    w.kv("llama.feed_forward_length", U32, 64)
    w.kv("llama.rope.dimension_count", U32, 8)
    w.kv("llama.attention.head_count", U32, 4)
    w.kv("llama.attention.layer_norm_rms_epsilon", F32, 1e-06)
    w.kv("tokenizer.ggml.model", STR, "llama")
    w.kv("tokenizer.ggml.tokens", ARR, tokens, STR)
    w.kv("tokenizer.ggml.scores", ARR, scores, F32)
    w.kv("tokenizer.ggml.token_type", ARR, types, I32)
    w.tensor("token_embd.weight", [32, 264], "F16", seed=31)
    w.tensor("output_norm.weight", [32], "F32", seed=32)
    w.tensor("output.weight", [32, 264], "F16", seed=33)
    write("benign", "llama_f16_v1.gguf", w.build(), "GGUF v1", "low", "",
          "v1 (32-bit counts, lengths and dimensions, as the Aug 2023 GGUFv1 reader in ggml.c); current llama.cpp no longer loads v1 (reported low)")

    # command-r style: default + named templates, explicit alignment.
    tokens, types = bpe_vocab(["<PAD>", "<UNK>", "<BOS_TOKEN>", "<EOS_TOKEN>", "<|START_OF_TURN_TOKEN|>", "<|END_OF_TURN_TOKEN|>"])
    w = Writer(3)
    w.kv("general.architecture", STR, "command-r")
    w.kv("general.type", STR, "model")
    w.kv("general.name", STR, "C4Ai Command R v01")
    w.kv("general.license", STR, "cc-by-nc-4.0")
    w.kv("general.alignment", U32, 32)
    w.kv("command-r.block_count", U32, 1)
    w.kv("command-r.context_length", U32, 131072)
    w.kv("command-r.embedding_length", U32, 32)
    w.kv("command-r.feed_forward_length", U32, 64)
    w.kv("command-r.attention.head_count", U32, 4)
    w.kv("command-r.attention.head_count_kv", U32, 4)
    w.kv("command-r.rope.freq_base", F32, 8000000.0)
    w.kv("command-r.attention.layer_norm_epsilon", F32, 1e-05)
    w.kv("general.file_type", U32, 1)
    w.kv("command-r.logit_scale", F32, 0.0625)
    w.kv("command-r.rope.scaling.type", STR, "none")
    w.kv("tokenizer.ggml.model", STR, "gpt2")
    w.kv("tokenizer.ggml.pre", STR, "command-r")
    w.kv("tokenizer.ggml.tokens", ARR, tokens, STR)
    w.kv("tokenizer.ggml.token_type", ARR, types, I32)
    w.kv("tokenizer.ggml.merges", ARR, MERGES, STR)
    w.kv("tokenizer.ggml.bos_token_id", U32, len(tokens) - 4)
    w.kv("tokenizer.ggml.eos_token_id", U32, len(tokens) - 3)
    w.kv("tokenizer.ggml.add_bos_token", BOOL, 1)
    w.kv("tokenizer.ggml.add_eos_token", BOOL, 0)
    w.kv("tokenizer.chat_template.tool_use", STR, template("command-r-v01-tool-use.jinja"))
    w.kv("tokenizer.chat_templates", ARR, ["tool_use"], STR)
    w.kv("tokenizer.chat_template", STR, template("command-r-v01.jinja"))
    w.kv("general.quantization_version", U32, 2)
    w.tensor("token_embd.weight", [32, len(tokens)], "F16", seed=41)
    w.tensor("blk.0.attn_norm.weight", [32], "F32", seed=42)
    w.tensor("output_norm.weight", [32], "F32", seed=43)
    write("benign", "command_r_named_templates.gguf", w.build(), "named chat templates", "low", "",
          "default + tokenizer.chat_template.tool_use + tokenizer.chat_templates, as gguf-py's add_chat_template writes them; "
          "templates copied from shared/vectors/chat-templates/command-r-v01.jinja and command-r-v01-tool-use.jinja")

    w = llama3_writer(endian=">", chat_template=llama3)
    write("benign", "llama3_big_endian.gguf", w.build(), "big-endian v3", "low", "",
          "the llama-3 fixture written with GGUFWriter(endianess=BIG): every number and tensor big-endian, magic unchanged")

    tokens, types = bpe_vocab(LLAMA3_SPECIALS)
    w = Writer(3)
    w.kv("general.architecture", STR, "llama")
    w.kv("general.name", STR, "llama-bpe")
    w.kv("llama.vocab_size", U32, len(tokens))
    w.kv("llama.context_length", U32, 8192)
    w.kv("tokenizer.ggml.model", STR, "gpt2")
    w.kv("tokenizer.ggml.pre", STR, "llama-bpe")
    w.kv("tokenizer.ggml.tokens", ARR, tokens, STR)
    w.kv("tokenizer.ggml.token_type", ARR, types, I32)
    w.kv("tokenizer.ggml.merges", ARR, MERGES, STR)
    w.kv("tokenizer.chat_template", STR, llama3)
    write("benign", "vocab_only.gguf", w.build(), "vocabulary only", "low", "",
          "no tensors, like llama.cpp's models/ggml-vocab-*.gguf; padded to the alignment after the metadata as gguf-py does")


def small(version=3, extra=None, tensors=True):
    """A minimal valid llama-like file to break."""
    w = Writer(version)
    w.kv("general.architecture", STR, "llama")
    w.kv("general.name", STR, "hallmark-fixture")
    w.kv("llama.context_length", U32, 4096)
    for kv in extra or []:
        w.kv(*kv)
    if tensors:
        w.tensor("output_norm.weight", [8], "F32", seed=51)
        w.tensor("token_embd.weight", [8, 4], "F32", seed=52)
    return w


def malicious():
    M = lambda name, blob, trick, sev, expect, note: write("malicious", name, blob, trick, sev, expect, note)

    M("kv_count_2p62.gguf", small().build(n_kv=1 << 62), "2^62 metadata count", "high", "bad-length",
      "metadata count 2^62: readers that reserve n_kv entries up front exhaust memory (research 6.D D5)")

    w = small(extra=[("tokenizer.ggml.tokens", ARR, ["a", "b"], STR)])
    blob = w.build()
    i = blob.index(b"tokenizer.ggml.tokens") + len("tokenizer.ggml.tokens") + 4 + 4
    blob = blob[:i] + struct.pack("<Q", 1 << 62) + blob[i + 8:]
    M("array_count_2p62.gguf", blob, "2^62 array count", "high", "bad-length",
      "tokenizer.ggml.tokens declares 2^62 strings: the array-length heap overflows in llama.cpp's GGUF reader (2024) began this way")

    blob = small().build()
    i = blob.index(b"general.name") + len("general.name") + 4
    blob = blob[:i] + struct.pack("<Q", 1 << 63) + blob[i + 8:]
    M("string_len_2p63.gguf", blob, "2^63 string length", "high", "bad-length",
      "general.name declares 2^63 bytes: trusting readers allocate or overflow len+1")

    M("tensor_count_huge.gguf", small().build(n_tensors=1 << 40), "2^40 tensor count", "high", "bad-length",
      "tensor count 2^40 in a small file")

    w = small()
    info = w._str("output_norm.weight") + struct.pack("<I", 5) + b"".join(struct.pack("<Q", d) for d in [8, 1, 1, 1, 1]) + struct.pack("<IQ", 0, 0)
    M("ndims_5.gguf", w.build(raw_infos=[info, None]), "n_dims 5", "high", "too-many-dims",
      "n_dims 5 > GGML_MAX_DIMS: readers copying into ne[4] overflow it (llama.cpp GGUF heap overflows, 2024)")

    w = small()
    info = w._str("output_norm.weight") + struct.pack("<I", 3) + b"".join(struct.pack("<Q", d) for d in [1 << 32, 1 << 32, 16]) + struct.pack("<IQ", 0, 0)
    M("dim_overflow.gguf", w.build(raw_infos=[info, None]), "dimension product overflows", "high", "shape-overflow",
      "2^32 × 2^32 × 16 elements: the product wraps in unchecked readers")

    M("offset_beyond_file.gguf", small().build(offsets=[None, 1 << 30]), "tensor offset past EOF", "high", "out-of-bounds",
      "token_embd.weight points 1 GiB into a file of a few hundred bytes: mmap readers read outside the mapping")

    w = small()
    w.tensors[1] = ("token_embd.weight", [8], "F32", w.tensors[1][3][:32])
    M("overlapping_tensors.gguf", w.build(offsets=[0, 0])[:-32], "overlapping tensors", "high", "overlap",
      "two tensors share the same 32 bytes")

    w = Writer(3)
    w.kv("general.architecture", STR, "llama")
    w.tensor("a.weight", [4], "F32", seed=61)
    w.tensor("b.weight", [4], "F32", seed=62)
    M("misaligned_offset.gguf", w.build(offsets=[0, 16]), "misaligned tensor offset", "high", "misaligned",
      "offset 16 with alignment 32")

    M("unknown_ggml_type.gguf", small().build(types=[99, None]), "unknown ggml type", "high", "unknown-type",
      "ggml type 99: readers indexing type_traits with it read out of bounds")
    M("removed_ggml_type.gguf", small().build(types=[4, None]), "removed ggml type", "high", "unknown-type",
      "ggml type 4 (Q4_2), removed from ggml")

    blob = small().build()
    i = blob.index(b"llama.context_length") + len("llama.context_length")
    blob = blob[:i] + struct.pack("<I", 13) + blob[i + 4:]
    M("invalid_value_type.gguf", blob, "value type 13", "high", "bad-value-type",
      "a KV type outside 0..12: the value's size is unknown")

    w = small(extra=[("tokenizer.chat_template", STR, template("llama-3-8b-instruct.jinja")),
                     ("tokenizer.chat_template", STR, SSTI_CYCLER)])
    M("duplicate_key_template.gguf", w.build(), "duplicate chat template key", "high", "duplicate-key",
      "a benign llama-3 template, then the same key with an SSTI payload: readers that keep the first and those that keep the last see different templates")

    w = small(extra=[("tokenizer.chat_template\x00x", STR, SSTI_CYCLER)])
    M("template_key_nul.gguf", w.build(), "chat template key with a NUL", "critical", "template/",
      "key 'tokenizer.chat_template\\x00x': llama.cpp's gguf_find_key compares keys as C strings, so this is its chat template, "
      "while readers comparing whole keys skip it; the template is an SSTI payload")

    w = small(extra=[("tokenizer.chat_template", STR, template("llama-3-8b-instruct.jinja")),
                     ("tokenizer.chat_template\x00evil", STR, SSTI_CYCLER)])
    M("duplicate_key_template_nul.gguf", w.build(), "duplicate template key up to a NUL", "high", "duplicate-key",
      "tokenizer.chat_template twice as llama.cpp's C-string lookups see it (the second key continues after a NUL): "
      "llama.cpp renders the first, readers comparing whole keys may render the SSTI one")

    w = small()
    w.tensors[1] = ("output_norm.weight",) + w.tensors[1][1:]
    M("duplicate_tensor_name.gguf", w.build(), "duplicate tensor name", "high", "duplicate-tensor",
      "two tensors named output_norm.weight")

    M("alignment_0.gguf", small(extra=[("general.alignment", U32, 0)]).build(), "alignment 0", "high", "bad-alignment",
      "general.alignment 0: division by zero in readers computing padding")
    w = small(extra=[("general.alignment", U32, 3)])
    w.alignment = 3
    M("alignment_3.gguf", w.build(), "alignment 3", "high", "bad-alignment", "general.alignment 3 is not a power of two")

    blob = small(extra=[("tokenizer.ggml.bos_token_id", U32, 1), ("tokenizer.ggml.eos_token_id", U32, 2)]).build()
    i = blob.index(b"tokenizer.ggml.bos_token_id") + len("tokenizer.ggml.bos_token_id") + 2
    M("truncated_in_kvs.gguf", blob[:i], "truncated in the metadata", "high", "truncated",
      "the file ends inside a KV's value type")

    w = small(extra=[("tokenizer.chat_template", STR, SSTI_CYCLER)])
    M("ssti_default_template.gguf", w.build(), "SSTI in tokenizer.chat_template", "critical", "template/",
      "CVE-2024-34359 (Llama Drama) payload reaching os.popen through cycler.__init__.__globals__; the template analyser must flag it")
    w = small(extra=[("tokenizer.chat_template", STR, template("llama-3-8b-instruct.jinja")),
                     ("tokenizer.chat_template.rag", STR, SSTI_SUBCLASSES),
                     ("tokenizer.chat_templates", ARR, ["rag"], STR)])
    M("ssti_named_template_rag.gguf", w.build(), "SSTI in a named template", "critical", "template/",
      "benign default template, payload in tokenizer.chat_template.rag (named templates are rendered too, e.g. for RAG/tool use)")

    # nested arrays, 64 deep
    inner = (U8, None)
    sub = inner
    value = [1]
    for _ in range(63):
        value = [value]
        sub = (ARR, sub)
    w = small(extra=[("general.nested", ARR, value, sub)])
    M("nested_array_bomb.gguf", w.build(), "arrays nested 64 deep", "high", "limit-exceeded",
      "llama.cpp refuses nested arrays; recursive readers use stack per level")

    M("bool_not_0_1.gguf", small(extra=[("tokenizer.ggml.add_bos_token", BOOL, 7)]).build(), "bool value 7", "low", "bad-bool",
      "BOOL byte 7: the spec calls the file invalid, C readers take it as true")
    M("key_path_traversal.gguf", small(extra=[("../../.bashrc", STR, "echo hallmark-marker")]).build(), "key with ../", "low", "bad-key",
      "a key shaped like a relative path (research 4.3: ModelAudit warns on path separators in keys)")
    M("key_control_chars.gguf", small(extra=[("general.description\x1b[2K\rOK", STR, "hallmark-marker")]).build(), "key with terminal escapes", "medium", "bad-key",
      "a key holding an ANSI escape and carriage return, to forge tool output")
    M("gap_between_tensors.gguf", gap_file(), "hidden bytes between tensors", "medium", "gap",
      "32 bytes between the two tensors belong to neither")
    M("trailing_pickle.gguf", small().build(tail=b"cos\nsystem\n(S'echo hallmark-marker'\ntR."), "appended pickle", "medium", "trailing-data",
      "a valid file with a pickle (os.system marker) appended after the last tensor")
    w = small()
    w.tensors[0] = ("blk.0.attn_norm.weight" + ".x" * 30,) + w.tensors[0][1:]
    M("tensor_name_too_long.gguf", w.build(), "tensor name of 82 bytes", "high", "tensor-name",
      "ggml's name buffer holds 63 bytes: llama.cpp refuses, truncating readers merge names")
    w = small()
    info = w._str("output_norm.weight") + struct.pack("<I", 1) + struct.pack("<Q", 32) + struct.pack("<IQ", 12, 0)
    M("row_not_block_multiple.gguf", w.build(raw_infos=[info, None]), "Q4_K row of 32", "high", "bad-shape",
      "Q4_K rows hold 256-element blocks; 32 elements is not a whole block")
    w = small()
    info = w._str("output_norm.weight") + struct.pack("<I", 2) + struct.pack("<QQ", 8, (1 << 64) - 8) + struct.pack("<IQ", 0, 0)
    M("negative_dim.gguf", w.build(raw_infos=[info, None]), "negative dimension", "high", "bad-shape",
      "a dimension of 2^64-8 (-8 as int64)")
    w = small(extra=[("tokenizer.chat_template", ARR, [SSTI_CYCLER], STR)])
    M("template_not_string.gguf", w.build(), "chat template stored as an array", "medium", "key-type",
      "tokenizer.chat_template holding an array of strings: not returned for analysis")


def gap_file():
    w = small()
    w.tensors[1] = ("token_embd.weight", [8], "F32", w.tensors[1][3][:32])
    # a at 0 (32 bytes), b at 64: bytes [32, 64) hold a marker no tensor covers
    blob = w.build(offsets=[0, 64])
    data_start = len(blob) - 64
    a = blob[data_start:data_start + 32]
    b = blob[data_start + 32:data_start + 64]
    hidden = b"hallmark-marker\n" + b"\x00" * 16
    return blob[:data_start] + a + hidden + b


def main():
    benign()
    malicious()
    with open(os.path.join(ROOT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join("  " + json.dumps(m, ensure_ascii=False) for m in MANIFEST) + "\n]\n")


if __name__ == "__main__":
    main()
