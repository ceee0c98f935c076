"""Hash a model with model_signing's own serializers; print JSON.

Used by python_golden_test.go to (re)generate testdata/python-golden.json:

    HALLMARK_PYTHON_REF="python3 testdata/python_ref.py" go test -run TestPythonGolden ./verify/manifest/

It needs model_signing's sources on PYTHONPATH, from
github.com/sigstore/model-transparency at e3430730bca924e672b2e59f10524a7ffb5adf79:
src/model_signing/{manifest.py,hashing.py,_hashing/*.py,_serialization/*.py}
with empty __init__.py files (the package __init__ pulls in sigstore, which is
not needed here) and typing_extensions installed. The serializers import the
`blake3` module but the files/shards paths used here never call it, so a stub
module `blake3.py` with `class blake3: AUTO = -1` is enough.

Argument: one JSON object {model, method, hash, shard_size, git, symlinks,
ignore, files}. Output: {"serialization": ..., "resources": [...]} or
{"error": "..."}.
"""

import json
import pathlib
import sys

from model_signing import hashing


def main():
    a = json.loads(sys.argv[1])
    cfg = hashing.Config()
    alg = {"sha256": "sha256", "blake2b": "blake2"}[a.get("hash") or "sha256"]
    if a.get("method") == "shards":
        cfg.use_shard_serialization(
            hashing_algorithm=alg,
            shard_size=a.get("shard_size") or 1000000000,
            max_workers=2,
        )
    else:
        cfg.use_file_serialization(hashing_algorithm=alg, max_workers=2)
    cfg.set_ignored_paths(
        paths=a.get("ignore") or [], ignore_git_paths=a.get("git", True)
    )
    cfg.set_allow_symlinks(a.get("symlinks", False))
    files = a.get("files")
    if files is not None:
        files = [pathlib.Path(a["model"]) / f for f in files]
    try:
        m = cfg.hash(a["model"], files_to_hash=files)
    except Exception as e:  # noqa: BLE001
        print(json.dumps({"error": str(e)}))
        return
    print(
        json.dumps(
            {
                "serialization": m.serialization_type,
                "resources": [
                    {
                        "name": r.identifier,
                        "algorithm": r.digest.algorithm,
                        "digest": r.digest.digest_hex,
                    }
                    for r in m.resource_descriptors()
                ],
            }
        )
    )


main()
