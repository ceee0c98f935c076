#!/usr/bin/python3
"""Check the container fixtures after gen_containers.py.

    /usr/bin/python3 testdata/containers/gen/verify_containers.py

1. Every BENIGN fixture is opened with the real loader it was made for (torch.load,
   torch.jit.load, joblib.load, numpy.load, pickle.loads after tar/7z/gzip/...), and the
   result is compared with what was saved where that is cheap.
2. Every MALICIOUS fixture is only decoded, never loaded: a small stdlib reference walker
   opens zip (by the central directory, ignoring CRC/flags/local names), tar, gzip, bz2,
   xz/lzma, zlib, zstd, lz4, 7z and npy layers and asserts that the inert payload marker
   (b"hallmark-test-marker") is reachable, or, for the link/device/limit fixtures, that the
   structure is what the manifest says. No unpickler runs on a malicious file.
"""

import bz2
import gzip
import io
import json
import lzma
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ziputil import STORED, read_zip_central  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, ".."))
BENIGN = os.path.join(ROOT, "benign")
MARKER = b"hallmark-test-marker"
SEVENZIP = shutil.which("7z") or shutil.which("7za")
LIMIT_FILES = {"zip_bomb_quoted_overlap.zip", "zip_bomb_full_overlap.zip", "sevenzip_bomb.7z",
               "tar_1e6_entries.tar.gz", "nested_zip_50.zip"}


# ---------------------------------------------------------------------------
# benign: real loaders
# ---------------------------------------------------------------------------

def benign_path(name):
    p = os.path.normpath(os.path.join(BENIGN, name))
    assert os.path.dirname(p) == BENIGN, p  # never load anything outside benign/
    return p


def load_benign(name):
    import joblib
    import numpy as np
    import torch
    p = benign_path(name)
    data = open(p, "rb").read()
    if name == "torchscript.pt":
        m = torch.jit.load(p)
        return m(torch.ones(1, 4)).shape == (1, 2)
    if name.endswith(".pt"):
        obj = torch.load(p)
        if name == "torch_module.pt":
            obj = obj.state_dict()
        # the generator's state dict: the first random draw after torch.manual_seed(0)
        torch.manual_seed(0)
        ref = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(),
                                  torch.nn.Linear(3, 2)).state_dict()
        return list(obj) == list(ref) and all(torch.equal(obj[k], ref[k]) for k in ref)
    if name.endswith(".joblib"):
        obj = joblib.load(p)
        if name.startswith("joblib_arrays"):
            assert (obj["first"] == np.arange(16) / 8.0).all() and obj["second"].shape == (2, 3)
        return True
    if name.endswith(".npy"):
        arr = np.load(p, allow_pickle=(name == "numpy_object_strings.npy"))
        return arr.size > 0
    if name.endswith(".npz"):
        with np.load(p) as z:
            return sorted(z.files) == ["bias", "weights"] and z["weights"].shape == (6,)
    if name.endswith(".safetensors"):
        (n,) = struct.unpack("<Q", data[:8])
        hdr = json.loads(data[8:8 + n])
        end = max(v["data_offsets"][1] for k, v in hdr.items() if k != "__metadata__")
        return len(data) == 8 + n + end
    if name == "zip_in_zip.zip":
        with zipfile.ZipFile(p) as z:
            inner = z.read("checkpoints/torch_state_dict.pt")
        return torch.load(io.BytesIO(inner)) is not None
    if name.endswith(".7z"):
        out = subprocess.run([SEVENZIP, "x", "-so", p], check=True, capture_output=True).stdout
        return isinstance(pickle.loads(out), dict)
    if name.endswith(".tar") or name.endswith(".tar.gz"):
        with tarfile.open(p) as t:
            ms = [m for m in t.getmembers() if m.isfile()]
            assert len(ms) == 1
            return isinstance(pickle.loads(t.extractfile(ms[0]).read()), dict)
    dec = {".gz": gzip.decompress, ".bz2": bz2.decompress, ".xz": lzma.decompress,
           ".lzma": lzma.decompress, ".zlib": zlib.decompress}
    for ext, fn in dec.items():
        if name.endswith(ext):
            return isinstance(pickle.loads(fn(data)), dict)
    if name.endswith(".zst"):
        import zstandard
        return isinstance(pickle.loads(zstandard.ZstdDecompressor().decompress(data)), dict)
    if name.endswith(".lz4"):
        import lz4.frame
        return isinstance(pickle.loads(lz4.frame.decompress(data)), dict)
    raise SystemExit(f"no loader for benign/{name}")


# ---------------------------------------------------------------------------
# malicious: decode only
# ---------------------------------------------------------------------------

def zip_members(data):
    """(name, bytes) per central-directory entry, read at its local header offset, whatever
    the CRC, flags or local name say. A pickle before the first local header is accepted
    (the archive is located by its end record)."""
    cd = read_zip_central(data)
    shift = 0
    if cd and data[cd[0]["offset"]:cd[0]["offset"] + 4] != b"PK\x03\x04":
        shift = data.find(b"PK\x03\x04")
    out = []
    for e in cd:
        lo = e["offset"] + shift
        nlen, xlen = struct.unpack("<HH", data[lo + 26:lo + 30])
        raw = data[lo + 30 + nlen + xlen:lo + 30 + nlen + xlen + e["csize"]]
        out.append((e["name"], raw if e["method"] == STORED else zlib.decompress(raw, -15)))
    return out


def layers(data, depth=0):
    """Yield every decoded byte string reachable from data (itself included)."""
    yield data
    if depth > 8:
        return
    subs = []
    if data[:4] == b"PK\x03\x04" or (b"PK\x05\x06" in data[-70000:] and b"PK\x01\x02" in data):
        try:
            subs += [b for _, b in zip_members(data)]
        except Exception:
            pass
    if data[:2] == b"\x1f\x8b":
        subs.append(gzip.decompress(data))
    if data[:3] == b"BZh":
        subs.append(bz2.decompress(data))
    if data[:6] == b"\xfd7zXZ\x00" or data[:3] == b"\x5d\x00\x00":
        subs.append(lzma.decompress(data))
    if data[:1] == b"\x78":
        try:
            subs.append(zlib.decompress(data))
        except zlib.error:
            pass
    if data[:4] == b"\x28\xb5\x2f\xfd":
        import zstandard
        subs.append(zstandard.ZstdDecompressor().decompress(data))
    if data[:4] == b"\x04\x22\x4d\x18":
        import lz4.frame
        subs.append(lz4.frame.decompress(data))
    if data[:6] == b"7z\xbc\xaf\x27\x1c":
        with tempfile.TemporaryDirectory() as td:
            p = os.path.join(td, "x.7z")
            open(p, "wb").write(data)
            subprocess.run([SEVENZIP, "x", "-o" + os.path.join(td, "o"), p], check=True,
                           capture_output=True)
            for dp, _, fs in os.walk(os.path.join(td, "o")):
                for f in fs:
                    subs.append(open(os.path.join(dp, f), "rb").read())
    if len(data) >= 512 and data[257:262] == b"ustar":
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as t:
            for m in t.getmembers():
                if m.isfile():
                    subs.append(t.extractfile(m).read())
    for s in subs:
        yield from layers(s, depth + 1)


def check_malicious(m):
    name = os.path.basename(m["file"])
    data = open(os.path.join(ROOT, m["file"]), "rb").read()
    if name in LIMIT_FILES:
        return check_limit(name, data)
    if m["expect"] == "link":
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            ls = [x for x in t.getmembers() if x.issym() or x.islnk()]
            return len(ls) == 3 and all("hallmark-test-marker" in x.linkname for x in ls)
    if m["expect"] == "device":
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            return sum(1 for x in t.getmembers() if x.ischr() or x.isblk() or x.isfifo()) == 3
    return any(MARKER in layer for layer in layers(data))


def check_limit(name, data):
    if name.startswith("zip_bomb"):
        cd = read_zip_central(data)
        return sum(e["usize"] for e in cd) >= 10 << 30 and len(data) < 10 << 20
    if name == "sevenzip_bomb.7z":
        with tempfile.TemporaryDirectory() as td:
            p = os.path.join(td, "b.7z")
            open(p, "wb").write(data)
            out = subprocess.run([SEVENZIP, "l", "-slt", p], check=True, capture_output=True,
                                 text=True).stdout
        return "Size = %d" % (10 << 30) in out and len(data) < 2 << 20
    if name == "tar_1e6_entries.tar.gz":
        d = zlib.decompressobj(31)
        n = 0
        buf = b""
        for i in range(0, len(data), 1 << 16):
            buf += d.decompress(data[i:i + (1 << 16)])
            k = len(buf) // 512
            for j in range(k):
                h = buf[j * 512:(j + 1) * 512]
                if h[257:262] == b"ustar":
                    n += 1
            buf = buf[k * 512:]
        return n == 1_000_000
    if name == "nested_zip_50.zip":
        depth = 0
        while data[:4] == b"PK\x03\x04":
            ((_, data),) = zip_members(data)
            depth += 1
        return depth == 50 and MARKER in data
    return False


def main():
    manifest = json.load(open(os.path.join(ROOT, "manifest.json")))
    on_disk = {f"{k}/{f}" for k in ("benign", "malicious") for f in os.listdir(os.path.join(ROOT, k))}
    listed = {m["file"] for m in manifest}
    assert on_disk == listed, (on_disk ^ listed)
    bad = 0
    for m in manifest:
        if m["kind"] == "benign":
            ok = load_benign(os.path.basename(m["file"]))
        else:
            ok = check_malicious(m)
        if not ok:
            bad += 1
            print("FAIL", m["file"])
    total = sum(os.path.getsize(os.path.join(ROOT, f)) for f in listed)
    print(f"{len(manifest) - bad}/{len(manifest)} ok; {total} bytes")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
