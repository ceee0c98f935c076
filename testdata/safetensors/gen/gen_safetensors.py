#!/usr/bin/python3
"""Writes the safetensors fixtures of testdata/safetensors and its manifest.json.

Python standard library only (the safetensors package is not installable
here). The benign files are laid out byte for byte the way the safetensors
crate (huggingface/safetensors, safetensors/src/tensor.rs, `prepare` and
`Metadata::serialize`) writes them:

  * tensors sorted by dtype, largest enum value first (the crate's Dtype
    declaration order), then by name; data_offsets assigned in that order;
  * compact JSON (serde_json: no spaces), `__metadata__` first, then each
    tensor as {"dtype", "shape", "data_offsets"} in that field order;
  * the header padded with spaces to a multiple of 8 bytes.

The malicious files break one rule each. Payloads are inert markers.
Deterministic: fixed seeds, no timestamps. Run from the repository root:

    /usr/bin/python3 testdata/safetensors/gen/gen_safetensors.py
"""

import json
import os
import random
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

# The crate's Dtype enum, in declaration order (its derived Ord).
DTYPE_ORDER = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3",
               "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16",
               "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
BITS = {"BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8,
        "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16,
        "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64,
        "F64": 64, "I64": 64, "U64": 64}

MANIFEST = []


def nelem(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def tensor_bytes(rng, dtype, shape):
    """Deterministic, plausible tensor contents."""
    n = nelem(shape)
    if dtype == "F32":
        return b"".join(struct.pack("<f", rng.gauss(0, 0.02)) for _ in range(n))
    if dtype == "F16":
        return b"".join(struct.pack("<e", rng.gauss(0, 0.02)) for _ in range(n))
    if dtype == "BF16":
        return b"".join(struct.pack("<f", rng.gauss(0, 0.02))[2:] for _ in range(n))
    if dtype == "F64":
        return b"".join(struct.pack("<d", rng.gauss(0, 0.02)) for _ in range(n))
    if dtype == "I64":
        return b"".join(struct.pack("<q", rng.randrange(0, 50000)) for _ in range(n))
    if dtype == "I32":
        return b"".join(struct.pack("<i", rng.randrange(0, 50000)) for _ in range(n))
    if dtype == "BOOL":
        return bytes(rng.randrange(0, 2) for _ in range(n))
    nbytes = n * BITS[dtype] // 8
    return bytes(rng.randrange(0, 256) for _ in range(nbytes))


def serialize(tensors, metadata=None):
    """tensors: {name: (dtype, shape, data)} -> file bytes, as the crate writes them."""
    items = sorted(tensors.items(), key=lambda kv: (-DTYPE_ORDER.index(kv[1][0]), kv[0]))
    parts = []
    if metadata is not None:
        parts.append('"__metadata__":' + json.dumps(metadata, separators=(",", ":"), ensure_ascii=False))
    offset = 0
    data = b""
    for name, (dtype, shape, blob) in items:
        assert len(blob) * 8 == nelem(shape) * BITS[dtype], name
        entry = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(blob)]}
        parts.append(json.dumps(name, ensure_ascii=False) + ":" + json.dumps(entry, separators=(",", ":")))
        offset += len(blob)
        data += blob
    header = ("{" + ",".join(parts) + "}").encode("utf-8")
    return frame(header) + data


def frame(header, n=None, pad=True):
    """8-byte length + header padded with spaces to a multiple of 8."""
    if pad:
        header = header + b" " * ((-len(header)) % 8)
    if n is None:
        n = len(header)
    return struct.pack("<Q", n) + header


def write(kind, name, blob, trick, severity, expect, note):
    path = os.path.join(ROOT, kind, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(blob)
    MANIFEST.append({"file": kind + "/" + name, "kind": kind, "trick": trick,
                     "expect_min_severity": severity, "expect": expect, "note": note})


def benign():
    rng = random.Random(20240611)
    t = {}
    for name, dtype, shape in [
        ("model.embed_tokens.weight", "BF16", (32, 16)),
        ("model.layers.0.self_attn.q_proj.weight", "F16", (16, 16)),
        ("model.layers.0.input_layernorm.weight", "F32", (16,)),
        ("model.layers.0.self_attn.rotary_emb.inv_freq", "F32", (8,)),
        ("model.position_ids", "I64", (1, 32)),
        ("model.causal_mask", "BOOL", (8, 8)),
        ("model.vision.patch_bytes", "U8", (12,)),
    ]:
        t[name] = (dtype, shape, tensor_bytes(rng, dtype, shape))
    write("benign", "dtypes_pt.safetensors", serialize(t, {"format": "pt"}), "several dtypes",
          "low", "", "BF16/F16/F32/I64/BOOL/U8 tensors with metadata {\"format\":\"pt\"}, laid out as safetensors.torch.save_file does")

    t = {"step": ("F32", (), struct.pack("<f", 1000.0)),
         "lm_head.bias": ("F32", (4,), tensor_bytes(rng, "F32", (4,)))}
    write("benign", "scalar.safetensors", serialize(t, {"format": "pt"}), "0-dim scalar",
          "low", "", "a 0-rank tensor (shape []) next to a vector; the format allows scalars")

    t = {"empty.weight": ("F32", (0, 4), b""),
         "norm.weight": ("F32", (4,), tensor_bytes(rng, "F32", (4,))),
         "norm.bias": ("F32", (4,), tensor_bytes(rng, "F32", (4,)))}
    write("benign", "empty_tensor.safetensors", serialize(t, {"format": "pt"}), "zero-size tensor",
          "low", "", "a tensor with a 0 dimension holds no bytes; the format allows it")

    write("benign", "empty.safetensors", serialize({}), "no tensors",
          "low", "", "the crate's output for an empty dict: header {} padded to 8 bytes")

    t = {"coef": ("F64", (3, 2), tensor_bytes(rng, "F64", (3, 2))),
         "intercept": ("F64", (2,), tensor_bytes(rng, "F64", (2,))),
         "classes": ("I32", (2,), struct.pack("<2i", 0, 1))}
    write("benign", "no_metadata.safetensors", serialize(t), "no __metadata__",
          "low", "", "as safetensors.numpy.save_file writes without metadata")

    # A tiny GPT-2-shaped state dict: many tensors, one dtype.
    t = {}
    d = 8
    t["wte.weight"] = ("F32", (50, d), tensor_bytes(rng, "F32", (50, d)))
    t["wpe.weight"] = ("F32", (16, d), tensor_bytes(rng, "F32", (16, d)))
    for i in range(12):
        p = "h.%d." % i
        for name, shape in [("ln_1.weight", (d,)), ("ln_1.bias", (d,)),
                            ("attn.c_attn.weight", (d, 3 * d)), ("attn.c_attn.bias", (3 * d,)),
                            ("attn.c_proj.weight", (d, d)), ("attn.c_proj.bias", (d,)),
                            ("ln_2.weight", (d,)), ("ln_2.bias", (d,)),
                            ("mlp.c_fc.weight", (d, 4 * d)), ("mlp.c_fc.bias", (4 * d,)),
                            ("mlp.c_proj.weight", (4 * d, d)), ("mlp.c_proj.bias", (d,))]:
            t[p + name] = ("F32", shape, tensor_bytes(rng, "F32", shape))
    t["ln_f.weight"] = ("F32", (d,), tensor_bytes(rng, "F32", (d,)))
    t["ln_f.bias"] = ("F32", (d,), tensor_bytes(rng, "F32", (d,)))
    write("benign", "many_tensors.safetensors", serialize(t, {"format": "pt"}), "many tensors",
          "low", "", "148 tensors shaped like a (tiny) GPT-2 state dict")

    t = {"w.fp8": ("F8_E4M3", (4, 8), tensor_bytes(rng, "F8_E4M3", (4, 8))),
         "w.fp8_e5m2": ("F8_E5M2", (8,), tensor_bytes(rng, "F8_E5M2", (8,))),
         "w.scale": ("F8_E8M0", (4,), tensor_bytes(rng, "F8_E8M0", (4,))),
         "w.fp4": ("F4", (2, 4), tensor_bytes(rng, "F4", (2, 4))),
         "w.fp6": ("F6_E2M3", (4,), tensor_bytes(rng, "F6_E2M3", (4,))),
         "w.bias": ("F32", (4,), tensor_bytes(rng, "F32", (4,)))}
    write("benign", "fp8_subbyte.safetensors", serialize(t, {"format": "pt"}), "FP8 and sub-byte dtypes",
          "low", "", "F8_E4M3/F8_E5M2/F8_E8M0 and the sub-byte F4 and F6_E2M3 dtypes, sizes in whole bytes")


def mal(name, header, data, trick, severity, expect, note, n=None, pad=True, tail=b""):
    if isinstance(header, str):
        header = header.encode("utf-8")
    write("malicious", name, frame(header, n=n, pad=pad) + data + tail, trick, severity, expect, note)


def f32(n, seed=1):
    rng = random.Random(seed)
    return tensor_bytes(rng, "F32", (n,))


def malicious():
    e = lambda dtype, shape, b, en: '{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}' % (
        dtype, json.dumps(shape, separators=(",", ":")), b, en)

    ok = '{"w":%s}' % e("F32", [4], 0, 16)
    mal("header_len_2p63.safetensors", ok, f32(4), "2^63 header length", "high", "header-too-large",
        "8-byte header length 2^63: parsers that allocate what it says die (research 6.D D6; crate MAX_HEADER_SIZE)", n=1 << 63)
    mal("header_len_beyond_file.safetensors", ok, f32(4), "header length past EOF", "high", "header-out-of-bounds",
        "header length 4096 (< the 100 MB cap) in an 80-byte file: InvalidHeaderLength in the crate", n=4096)
    mal("overlap.safetensors", '{"a":%s,"b":%s}' % (e("F32", [4], 0, 16), e("F32", [4], 8, 24)), f32(6),
        "overlapping tensors", "high", "overlap", "b's bytes alias the second half of a: readers disagree on the data (research 6.D D6)")
    mal("gap.safetensors", '{"a":%s,"b":%s}' % (e("F32", [4], 0, 16), e("F32", [4], 32, 48)),
        f32(4) + b"hallmark-marker\n" + f32(4, 2),
        "hole in the buffer", "medium", "gap", "16 bytes between a and b belong to no tensor (the format forbids holes to prevent polyglots)")
    mal("out_of_bounds.safetensors", '{"a":%s,"b":%s}' % (e("F32", [4], 0, 16), e("F32", [1020], 16, 4096)), f32(8),
        "offsets past EOF", "high", "out-of-bounds", "b claims bytes [16,4096) of a 32-byte buffer")
    mal("dtype_shape_mismatch.safetensors", '{"w":%s}' % e("F32", [4], 0, 8), f32(2),
        "size mismatch", "high", "size-mismatch", "F32 × [4] needs 16 bytes, data_offsets give 8 (TensorInvalidInfo in the crate)")
    mal("shape_overflow.safetensors", '{"w":%s}' % e("F32", [4294967296, 4294967296, 16], 0, 16), f32(4),
        "shape product overflows", "high", "shape-overflow", "2^32 × 2^32 × 16 elements overflows 64 bits; unchecked readers wrap to a small size (ValidationOverflow)")
    mal("duplicate_tensor_key.safetensors", '{"w":%s,"w":%s}' % (e("F32", [4], 0, 16), e("F32", [2], 16, 24)), f32(6),
        "duplicate tensor name", "high", "duplicate-key", "tensor w defined twice: Python json and serde maps keep the last, other parsers the first")
    mal("duplicate_entry_key.safetensors", '{"w":{"dtype":"F32","dtype":"I64","shape":[2],"data_offsets":[0,8]}}', f32(2),
        "duplicate field in an entry", "high", "duplicate-key", "dtype given twice inside one entry (serde: duplicate field)")
    mal("metadata_nonstring.safetensors", '{"__metadata__":{"format":"pt","config":{"auto_map":"evil.Model"}},"w":%s}' % e("F32", [4], 0, 16), f32(4),
        "non-string metadata", "high", "bad-metadata", "__metadata__ holds an object; the format allows only string values")
    mal("unknown_dtype.safetensors", '{"w":%s}' % e("OBJECT", [4], 0, 16), f32(4),
        "unknown dtype", "high", "unknown-dtype", "dtype OBJECT is not a safetensors dtype")
    mal("trailing_json_document.safetensors", '{"w":%s}{"w":%s}' % (e("F32", [4], 0, 16), e("F32", [2], 0, 8)), f32(4),
        "second JSON document in the header", "high", "header-trailing", "a second object after the first: serde refuses, a lenient streaming reader may take either")
    mal("bad_utf8.safetensors", b'{"w\xff":' + e("F32", [4], 0, 16).encode() + b"}", f32(4),
        "invalid UTF-8", "high", "bad-utf8", "tensor name holds byte 0xFF: the crate refuses, Go and others read U+FFFD")
    mal("lone_surrogate.safetensors", '{"w\\ud800":%s}' % e("F32", [4], 0, 16), f32(4),
        "lone surrogate escape", "high", "bad-utf8", "tensor name escapes a lone high surrogate: serde refuses, Go decodes U+FFFD")
    mal("not_object.safetensors", '[%s]' % e("F32", [4], 0, 16), f32(4),
        "header is an array", "high", "not-object", "the header must be a JSON object")
    pickle_payload = b"cos\nsystem\n(S'echo hallmark-marker'\ntR."
    mal("trailing_bytes_pickle.safetensors", ok, f32(4), "appended pickle", "medium", "trailing-data",
        "a valid file with a pickle (os.system marker) appended after the buffer: invisible to tensor readers (research 6.D D6, polyglots)", tail=pickle_payload)
    mal("unknown_field.safetensors", '{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"payload":"echo hallmark-marker"}}', f32(4),
        "extra field in an entry", "low", "unknown-field", "an undefined field the crate ignores: data no tool shows")
    mal("offsets_reversed.safetensors", '{"w":%s}' % e("F32", [0], 16, 0), f32(4),
        "begin after end", "high", "bad-entry", "data_offsets [16,0]: the crate refuses begin > end")
    mal("negative_dim.safetensors", '{"w":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,16]}}', f32(4),
        "negative dimension", "high", "bad-entry", "shape holds -1, not a usize")
    mal("leading_space.safetensors", b" " + ok.encode(), f32(4), "header starts with a space", "low", "header-start",
        "serde skips leading whitespace, the format requires '{' first")


def main():
    benign()
    malicious()
    with open(os.path.join(ROOT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join("  " + json.dumps(m, ensure_ascii=False) for m in MANIFEST) + "\n]\n")


if __name__ == "__main__":
    main()
