#!/usr/bin/env python3
"""Writes the Hugging Face repository fixtures of testdata/hf (stdlib only).

Each fixture is a folder laid out as `huggingface_hub.snapshot_download`
leaves a model repository: config.json, generation_config.json,
tokenizer_config.json, a model card, weights, and for the custom-code
cases the Python modules auto_map names. Payloads call a harmless marker.

Run from the repository root:  /usr/bin/python3 testdata/hf/gen/make_hf.py
"""
import json
import os
import shutil
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TEMPLATES = os.path.join(ROOT, "..", "chat-templates")
MARK = "echo hallmark-marker"


def template(name):
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
        return f.read()


def safetensors(tensors):
    """A safetensors file as the safetensors library writes it: sorted keys,
    __metadata__ first, header padded with spaces to a multiple of 8."""
    header = {"__metadata__": {"format": "pt"}}
    data = b""
    for name in sorted(tensors):
        dtype, shape = tensors[name]
        n = 1
        for d in shape:
            n *= d
        size = n * {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}[dtype]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + size]}
        data += bytes((i * 7) & 0xFF for i in range(size))
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def write(folder, files):
    path = os.path.join(ROOT, folder)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    for name, content in files.items():
        p = os.path.join(path, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if isinstance(content, (dict, list)):
            content = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        if isinstance(content, str):
            content = content.encode("utf-8")
        with open(p, "wb") as f:
            f.write(content)


LLAMA_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "bos_token_id": 128000,
    "eos_token_id": [128001, 128008, 128009],
    "hidden_act": "silu",
    "hidden_size": 16,
    "intermediate_size": 32,
    "max_position_embeddings": 131072,
    "model_type": "llama",
    "num_attention_heads": 4,
    "num_hidden_layers": 1,
    "num_key_value_heads": 2,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.43.0.dev0",
    "use_cache": True,
    "vocab_size": 64,
}

CARD = """---
license: llama3.1
base_model: meta-llama/Llama-3.1-8B
pipeline_tag: text-generation
language:
- en
---

# tiny-llama (test fixture)

A tiny model laid out like a Hugging Face repository, for hallmark's tests.
"""

WEIGHTS = safetensors({
    "model.embed_tokens.weight": ("BF16", [64, 16]),
    "model.norm.weight": ("BF16", [16]),
    "lm_head.weight": ("BF16", [64, 16]),
})


def tokenizer_config(chat_template):
    return {
        "add_bos_token": True,
        "add_eos_token": False,
        "added_tokens_decoder": {
            "128000": {"content": "<|begin_of_text|>", "lstrip": False, "normalized": False,
                       "rstrip": False, "single_word": False, "special": True},
        },
        "bos_token": "<|begin_of_text|>",
        "chat_template": chat_template,
        "clean_up_tokenization_spaces": True,
        "eos_token": "<|eot_id|>",
        "model_input_names": ["input_ids", "attention_mask"],
        "model_max_length": 131072,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }


GEN = {"bos_token_id": 128000, "do_sample": True, "eos_token_id": [128001, 128008, 128009],
       "temperature": 0.6, "top_p": 0.9, "transformers_version": "4.43.0.dev0"}

MODELING_BENIGN = '''# coding=utf-8
"""Tiny custom architecture (test fixture)."""
import math
import os
from typing import Optional

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import is_flash_attn_2_available, logging

from .configuration_tiny import TinyConfig

logger = logging.get_logger(__name__)
CACHE = os.path.join(os.path.dirname(__file__), "cache")


class TinyModel(PreTrainedModel):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__(config)
        self.proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.scale = 1 / math.sqrt(config.hidden_size)

    def forward(self, x: Optional[torch.Tensor] = None):
        """Example:

        >>> model.eval()
        >>> exec(open("demo.py").read())  # docstring examples are not code
        """
        self.proj.eval()
        return self.proj(x) * self.scale
'''

CONFIGURATION = '''from transformers import PretrainedConfig


class TinyConfig(PretrainedConfig):
    model_type = "tiny"

    def __init__(self, hidden_size=64, **kwargs):
        self.hidden_size = hidden_size
        super().__init__(**kwargs)
'''

MODELING_EVIL = MODELING_BENIGN.replace(
    'logger = logging.get_logger(__name__)',
    'logger = logging.get_logger(__name__)\nos.system("%s")' % MARK)

MODELING_SNEAKY = MODELING_BENIGN.replace(
    'logger = logging.get_logger(__name__)',
    'logger = logging.get_logger(__name__)\n'
    '_p = __import__("base64").b64decode("ZWNobyBoYWxsbWFyay1tYXJrZXI=")\n'
    'getattr(__import__("subprocess"), "run")(_p.decode(), shell=True)')

CUSTOM_CONFIG = dict(LLAMA_CONFIG, architectures=["TinyModel"], model_type="tiny",
                     auto_map={"AutoConfig": "configuration_tiny.TinyConfig",
                               "AutoModel": "modeling_tiny.TinyModel"})

SSTI = "{{ cycler.__init__.__globals__.os.popen('%s').read() }}" % MARK
HIDDEN = template("llama-3.1-8b-instruct.jinja").replace(
    "{%- for message in messages %}",
    "{%- for message in messages %}{%- if message['role'] == 'ipython' %}{{ ''['\\x5f\\x5fclass\\x5f\\x5f'] }}{%- endif %}", 1)
assert HIDDEN != template("llama-3.1-8b-instruct.jinja")


def main():
    manifest = []

    def case(folder, files, kind, trick, minsev, expect, note):
        write(folder, files)
        manifest.append({"file": folder, "kind": kind, "trick": trick, "expect_min_severity": minsev,
                         "expect": expect, "note": note})

    base = {"config.json": LLAMA_CONFIG, "generation_config.json": GEN, "README.md": CARD,
            "model.safetensors": WEIGHTS}
    case("benign/llama", dict(base, **{"tokenizer_config.json": tokenizer_config(template("llama-3.1-8b-instruct.jinja"))}),
         "benign", "transformers repository", "low", "", "Llama 3.1 layout, real chat template from the corpus")
    case("benign/named-templates", dict(base, **{"tokenizer_config.json": tokenizer_config([
        {"name": "default", "template": template("llama-3.1-8b-instruct.jinja")},
        {"name": "tool_use", "template": template("hermes-3-llama-3.1-8b-tool-use.jinja")}])}),
         "benign", "named chat templates", "low", "", "chat_template as a list of {name, template}")
    case("benign/template-file", dict(base, **{"chat_template.jinja": template("llama-3.2-3b-instruct.jinja"),
                                               "tokenizer_config.json": tokenizer_config(None)}),
         "benign", "chat_template.jinja", "low", "", "transformers >= 4.43 writes the template to its own file")
    # Custom code is a finding by nature (trust_remote_code); benign code
    # stays at that one high finding with no host access.
    case("malicious/remote-code", dict(base, **{"config.json": CUSTOM_CONFIG, "modeling_tiny.py": MODELING_BENIGN,
                                                "configuration_tiny.py": CONFIGURATION}),
         "malicious", "auto_map custom code", "high", "hf/remote-code", "needs trust_remote_code; code itself harmless")
    case("malicious/remote-code-os-system", dict(base, **{"config.json": CUSTOM_CONFIG, "modeling_tiny.py": MODELING_EVIL,
                                                          "configuration_tiny.py": CONFIGURATION}),
         "malicious", "custom code runs a process", "high", "os.system", "modeling file calls os.system at import")
    case("malicious/remote-code-obfuscated", dict(base, **{"config.json": CUSTOM_CONFIG, "modeling_tiny.py": MODELING_SNEAKY,
                                                           "configuration_tiny.py": CONFIGURATION}),
         "malicious", "custom code, obfuscated", "high", "hf/python-host-access", "__import__ + getattr + base64")
    case("malicious/remote-code-other-repo", dict(base, **{"config.json": dict(CUSTOM_CONFIG, auto_map={
        "AutoModel": "attacker/helpers--modeling_tiny.TinyModel"})}),
         "malicious", "auto_map into another repository", "high", "another repository", "code fetched from a second repo at load time")
    case("malicious/tokenizer-ssti", dict(base, **{"tokenizer_config.json": tokenizer_config(SSTI)}),
         "malicious", "SSTI in tokenizer_config.json", "critical", "template/", "CVE-2024-34359 payload shape")
    case("malicious/tokenizer-ssti-hidden", dict(base, **{"tokenizer_config.json": tokenizer_config(HIDDEN)}),
         "malicious", "SSTI hidden in a real template", "critical", "template/", "hex-escaped dunder subscript inside Llama 3.1's loop")
    case("malicious/template-file-ssti", dict(base, **{"chat_template.jinja": SSTI, "tokenizer_config.json": tokenizer_config(None)}),
         "malicious", "SSTI in chat_template.jinja", "critical", "template/", "")
    dup = json.dumps(tokenizer_config(template("llama-3.1-8b-instruct.jinja")), indent=2)
    dup = dup.replace('"chat_template":', '"chat_template": %s,\n  "chat_template":' % json.dumps(SSTI), 1)
    case("malicious/duplicate-template", dict(base, **{"tokenizer_config.json": dup}),
         "malicious", "chat_template defined twice", "critical", "template/", "json keeps the last; a reviewer may read the first")

    with open(os.path.join(ROOT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(m) for m in manifest) + "\n]\n")


if __name__ == "__main__":
    main()
