#!/usr/bin/python3
"""Writes the model-card fixtures that are awkward to keep by hand.

Python standard library only, deterministic. From formats/modelcard:
    /usr/bin/python3 testdata/gen/gen.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CARDS = os.path.join(HERE, "..", "cards")

# A sentence-transformers card (modelled on all-MiniLM-L6-v2) saved with
# Windows line ends, as editors on Windows write it.
CRLF = """---
language: en
license: apache-2.0
library_name: sentence-transformers
tags:
- sentence-transformers
- feature-extraction
- sentence-similarity
- transformers
datasets:
- s2orc
- flax-sentence-embeddings/stackexchange_xml
- ms_marco
- gooaq
pipeline_tag: sentence-similarity
---

# all-MiniLM-L6-v2-example

This is a sentence-transformers model: it maps sentences and paragraphs to a
384 dimensional dense vector space.

## Usage (Sentence-Transformers)

```
pip install -U sentence-transformers
```
"""


def billion_laughs(levels=9, fan=10):
    """The classic exponential alias bomb: 10**9 strings from ~500 bytes."""
    out = ["---", "license: mit", 'lol0: &lol0 "lol"']
    for i in range(1, levels + 1):
        refs = ", ".join("*lol%d" % (i - 1) for _ in range(fan))
        out.append("lol%d: &lol%d [%s]" % (i, i, refs))
    out += ["---", "", "# A card that expands to a billion strings", ""]
    return "\n".join(out)


def string_amplifier(size=20000, refs=500):
    """Few aliases, one long string: 500 references to a 20 KB string expand
    to 10 MB. yaml.v2's alias-ratio check does not see it (under 1000
    decodes); tools that write the expansion out as JSON do."""
    out = ["---", "license: mit", "blob: &blob " + "A" * size, "tags:"]
    out += ["- *blob"] * refs
    out += ["---", "", "# A card whose aliases repeat one long string", ""]
    return "\n".join(out)


def write(name, text, newline="\n"):
    with open(os.path.join(CARDS, name), "w", encoding="utf-8", newline=newline) as f:
        f.write(text)


def main():
    write("crlf.md", CRLF, newline="\r\n")
    write("billion-laughs.md", billion_laughs())
    write("alias-amplify.md", string_amplifier())


if __name__ == "__main__":
    main()
