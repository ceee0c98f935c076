#!/usr/bin/python3
"""Writes the BOM fixtures of testdata/bom: a Hugging Face-style model
folder and a GGUF quantization of it, each carrying the facts an ML-BOM
should report (licence, architecture, datasets, base model, evaluation
results, chat template).

Python standard library only; the GGUF writer is testdata/gguf/gen's.
The files mirror what transformers 4.44 (save_pretrained), huggingface_hub
model cards and llama.cpp's convert_hf_to_gguf.py write. Deterministic.
Run from the repository root:

    /usr/bin/python3 testdata/bom/gen/gen_bom.py
"""

import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "..", "gguf", "gen"))
import gen_gguf  # noqa: E402

CHAT_TEMPLATE = gen_gguf.template("llama-3-8b-instruct.jinja")

CARD = """---
license: apache-2.0
language:
- en
- fr
library_name: transformers
pipeline_tag: text-generation
base_model: hallmark-test/Tiny-Base-1M
base_model_relation: finetune
datasets:
- HuggingFaceH4/ultrachat_200k
- hallmark-test/tiny-instructions
tags:
- text-generation
- hallmark-fixture
model-index:
- name: Tiny-Chat-1M
  results:
  - task:
      type: text-generation
      name: Text Generation
    dataset:
      name: HellaSwag (10-Shot)
      type: hellaswag
      split: validation
      args:
        num_few_shot: 10
    metrics:
    - type: acc_norm
      value: 31.42
      name: normalized accuracy
  - task:
      type: text-generation
    dataset:
      name: MMLU (5-Shot)
      type: cais/mmlu
      config: all
      split: test
    metrics:
    - type: acc
      value: 25.1
      name: accuracy
co2_eq_emissions:
  emissions: 12.5
  source: codecarbon
  training_type: fine-tuning
  geographical_location: Paris, France
  hardware_used: 1 x A100
---

# Tiny-Chat-1M

A tiny chat model used as a hallmark test fixture. Its weights are random.
"""

CONFIG = {
    "_name_or_path": "hallmark-test/Tiny-Chat-1M",
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "head_dim": 8,
    "hidden_act": "silu",
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 64,
    "max_position_embeddings": 4096,
    "mlp_bias": False,
    "model_type": "llama",
    "num_attention_heads": 4,
    "num_hidden_layers": 1,
    "num_key_value_heads": 1,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": None,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.44.2",
    "use_cache": True,
    "vocab_size": 128,
}

GENERATION = {
    "_from_model_config": True,
    "bos_token_id": 1,
    "do_sample": True,
    "eos_token_id": 2,
    "temperature": 0.6,
    "top_p": 0.9,
    "transformers_version": "4.44.2",
}

TOKENIZER_CONFIG = {
    "add_bos_token": True,
    "add_eos_token": False,
    "bos_token": "<|begin_of_text|>",
    "chat_template": CHAT_TEMPLATE,
    "clean_up_tokenization_spaces": True,
    "eos_token": "<|eot_id|>",
    "model_input_names": ["input_ids", "attention_mask"],
    "model_max_length": 4096,
    "tokenizer_class": "PreTrainedTokenizerFast",
}


def safetensors(tensors, metadata):
    """safetensors' layout: u64 header length, JSON header, data."""
    header = {"__metadata__": metadata}
    data = b""
    for name, dtype, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        size = n * {"BF16": 2, "F32": 4}[dtype]
        blob = bytes((i * 7 + len(name)) % 251 for i in range(size))
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + size]}
        data += blob
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + data


def write(rel, data):
    p = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def js(obj):
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def hf_folder():
    d = "hf-model/"
    write(d + "README.md", CARD)
    write(d + "config.json", js(CONFIG))
    write(d + "generation_config.json", js(GENERATION))
    write(d + "tokenizer_config.json", js(TOKENIZER_CONFIG))
    write(d + "special_tokens_map.json", js({"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}))
    write(d + "model.safetensors", safetensors([
        ("lm_head.weight", "BF16", [128, 32]),
        ("model.embed_tokens.weight", "BF16", [128, 32]),
        ("model.layers.0.input_layernorm.weight", "BF16", [32]),
        ("model.layers.0.mlp.down_proj.weight", "BF16", [32, 64]),
        ("model.layers.0.mlp.gate_proj.weight", "BF16", [64, 32]),
        ("model.layers.0.mlp.up_proj.weight", "BF16", [64, 32]),
        ("model.layers.0.self_attn.k_proj.weight", "BF16", [8, 32]),
        ("model.layers.0.self_attn.o_proj.weight", "BF16", [32, 32]),
        ("model.layers.0.self_attn.q_proj.weight", "BF16", [32, 32]),
        ("model.layers.0.self_attn.v_proj.weight", "BF16", [8, 32]),
        ("model.norm.weight", "BF16", [32]),
    ], {"format": "pt"}))


def gguf_file():
    """What convert_hf_to_gguf.py writes from the folder above, plus the
    general.base_model.* / general.dataset.* keys it copies from the card."""
    w = gen_gguf.llama3_writer(chat_template=CHAT_TEMPLATE)
    keys = [k for k in w.kvs if not k[0].startswith("general.license")]
    w.kvs = []
    for k in keys:
        w.kvs.append(k)
        if k[0] == "general.size_label":
            S = gen_gguf.STR
            w.kv("general.license", S, "apache-2.0")
            w.kv("general.license.link", S, "https://www.apache.org/licenses/LICENSE-2.0")
            w.kv("general.author", S, "Hallmark Test")
            w.kv("general.organization", S, "Hallmark Test")
            w.kv("general.base_model.count", gen_gguf.U32, 1)
            w.kv("general.base_model.0.name", S, "Tiny Chat 1M")
            w.kv("general.base_model.0.organization", S, "Hallmark Test")
            w.kv("general.base_model.0.repo_url", S, "https://huggingface.co/hallmark-test/Tiny-Chat-1M")
            w.kv("general.dataset.count", gen_gguf.U32, 1)
            w.kv("general.dataset.0.name", S, "Ultrachat 200k")
            w.kv("general.dataset.0.repo_url", S, "https://huggingface.co/datasets/HuggingFaceH4/ultrachat_200k")
    write("tiny-chat-q8_0.gguf", w.build())


if __name__ == "__main__":
    hf_folder()
    gguf_file()
