#!/usr/bin/python3
"""Generate the container fixtures: pickles inside PyTorch checkpoints, joblib dumps, NumPy
files, zip, tar, 7z and compressed streams, benign and hostile.

Run from anywhere with the Debian interpreter (it has torch, numpy, sklearn, joblib, lz4,
zstandard):

    /usr/bin/python3 testdata/containers/gen/gen_containers.py [--no-bombs]

It rewrites testdata/containers/benign/, testdata/containers/malicious/ and
testdata/containers/manifest.json. `--no-bombs` keeps the four existing limit fixtures
(zip bombs, 7z bomb, 10^6-entry tar, 50-deep nest) instead of rebuilding them (the 7z bomb
alone takes about 40 s of LZMA2).

NOTHING HOSTILE IS EVER LOADED. The payloads are the existing inert marker pickles of
testdata/pickles/malicious/ (os.system('echo hallmark-test-marker')), read as bytes and
embedded; checks on hostile files are structural (zlib/struct/pickletools.genops). Only the
benign files are loaded, by gen/verify_benign.py.

Byte-identical output on every run (PYTHONHASHSEED=0, fixed seeds, fixed mtimes, sorted
members), see the README for the two exceptions.
"""

import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    env = dict(os.environ, PYTHONHASHSEED="0", TZ="UTC")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import bz2
import collections
import gzip
import hashlib
import io
import itertools
import json
import lzma
import pickle
import pickletools
import shutil
import struct
import subprocess
import tarfile
import tempfile
import warnings
import zlib

warnings.filterwarnings("ignore")

import joblib
import joblib.numpy_pickle
import numpy as np
import torch

try:
    import lz4.frame as lz4frame
except Exception:  # optional
    lz4frame = None
try:
    import zstandard
except Exception:  # optional
    zstandard = None

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ziputil import (DEFLATED, STORED, Entry, build_zip, crc32_zeros, deflate_zeros,  # noqa: E402
                     fix_zip_times, read_zip_central, rebuild_zip, selftest,
                     zip_bomb_full_overlap, zip_bomb_quoted_overlap)

ROOT = os.path.normpath(os.path.join(HERE, ".."))
BENIGN = os.path.join(ROOT, "benign")
MAL = os.path.join(ROOT, "malicious")
PICKLES = os.path.normpath(os.path.join(ROOT, "..", "pickles", "malicious"))

NO_BOMBS = "--no-bombs" in sys.argv[1:]
BOMB_FILES = ("zip_bomb_quoted_overlap.zip", "zip_bomb_full_overlap.zip", "sevenzip_bomb.7z",
              "tar_1e6_entries.tar.gz", "nested_zip_50.zip")

TAR_MTIME = 1500000000  # 2017-07-14, fixed
SEVENZIP = shutil.which("7z") or shutil.which("7za")


def payload(name):
    with open(os.path.join(PICKLES, name), "rb") as f:
        return f.read()


# Inert payloads: os.system('echo hallmark-test-marker').
P2 = payload("g_os_system_p2.pkl")        # protocol 2: GLOBAL, BINUNICODE, TUPLE1, REDUCE
P0 = payload("g_os_system_p0.pkl")        # protocol 0: text opcodes only, no PROTO byte
P4 = payload("g_os_system_p4.pkl")        # protocol 4: FRAME, STACK_GLOBAL, MEMOIZE
NULLIFAI = payload("b9_nullifai_garbage_p2.pkl")  # os.system call, then 0xf0.. garbage, no STOP
MARKER = b"hallmark-test-marker"
assert MARKER in P2 and MARKER in P0 and MARKER in P4 and MARKER in NULLIFAI

manifest = []


def sha(b):
    return hashlib.sha256(b).hexdigest()


def write(kind, name, data, trick, expect="", sev=None, note=""):
    """Write one fixture and record it. kind: benign|malicious."""
    d = BENIGN if kind == "benign" else MAL
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    if sev is None:
        sev = "low" if kind == "benign" else "critical"
    manifest.append({"file": f"{kind}/{name}", "kind": kind, "trick": trick,
                     "expect_min_severity": sev, "expect": expect, "note": note})


def keep(kind, name, trick, expect, sev, note):
    """Record a fixture that --no-bombs left in place."""
    path = os.path.join(BENIGN if kind == "benign" else MAL, name)
    if not os.path.exists(path):
        raise SystemExit(f"--no-bombs: {path} is missing; run without --no-bombs once")
    manifest.append({"file": f"{kind}/{name}", "kind": kind, "trick": trick,
                     "expect_min_severity": sev, "expect": expect, "note": note})


def ops(data):
    """pickletools.genops listing of one pickle (never executes anything)."""
    return list(pickletools.genops(io.BytesIO(data)))


def split_pickles(data, count):
    """Offsets of `count` pickles back to back at the start of data; returns [(start,end)]."""
    f = io.BytesIO(data)
    spans = []
    for _ in range(count):
        start = f.tell()
        for op, _a, _p in pickletools.genops(f):
            pass
        spans.append((start, f.tell()))
    return spans


def gz(data, name=None, level=9):
    """gzip with mtime 0 and an optional FNAME (what `gzip -n` would not store)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name or "", mode="wb", fileobj=buf, compresslevel=level,
                       mtime=0) as g:
        g.write(data)
    return buf.getvalue()


def tarinfo(name, size=0, type_=tarfile.REGTYPE, mode=0o644, **kw):
    ti = tarfile.TarInfo(name)
    ti.size = size
    ti.type = type_
    ti.mode = mode
    ti.mtime = TAR_MTIME
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def make_tar(members, fmt=tarfile.USTAR_FORMAT):
    """members: list of (TarInfo, bytes or None). Returns the tar bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for ti, data in members:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def tar_file(name, data, fmt=tarfile.USTAR_FORMAT, **kw):
    return make_tar([(tarinfo(name, len(data), **kw), data)], fmt)


def run7z(args, cwd, stdin=None):
    subprocess.run([SEVENZIP] + args, cwd=cwd, check=True, stdin=stdin,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


SEVENZIP_OPTS = ["-t7z", "-m0=LZMA2", "-mx=9", "-mmt=1", "-mtm=off", "-mtc=off", "-mta=off"]


def sevenzip(files):
    """7z archive of {relative path: bytes}, no timestamps stored, modes 0644/0755."""
    with tempfile.TemporaryDirectory() as td:
        for rel, data in sorted(files.items()):
            p = os.path.join(td, "in", rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
            os.chmod(p, 0o644)
        for dp, dns, _ in os.walk(os.path.join(td, "in")):
            for dn in dns:
                os.chmod(os.path.join(dp, dn), 0o755)
        tops = sorted({rel.split("/")[0] for rel in files})
        run7z(["a"] + SEVENZIP_OPTS + [os.path.join(td, "out.7z")] + tops,
              cwd=os.path.join(td, "in"))
        with open(os.path.join(td, "out.7z"), "rb") as f:
            return f.read()


def sevenzip_list(data):
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, "x.7z")
        with open(p, "wb") as f:
            f.write(data)
        r = subprocess.run([SEVENZIP, "l", "-slt", p], check=True, capture_output=True,
                           text=True)
        return r.stdout


# ---------------------------------------------------------------------------
# Benign sources made by the real libraries
# ---------------------------------------------------------------------------

torch.manual_seed(0)
np.random.seed(0)


class Net(torch.nn.Module):
    """Scripted for the TorchScript archive (its code lands in code/__torch__.py)."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 3)
        self.fc2 = torch.nn.Linear(3, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def torch_bytes(obj, **kw):
    buf = io.BytesIO()
    torch.save(obj, buf, **kw)  # a buffer: the zip's top folder is "archive/"
    return buf.getvalue()


SEQ = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
STATE = SEQ.state_dict()
TORCH_SD = torch_bytes(STATE)
TORCH_MODULE = torch_bytes(SEQ)


def torch_legacy_stacked():
    """torch.save(..., _use_new_zipfile_serialization=False): 5 pickles + raw storages.

    The storage keys torch writes are str(storage._cdata), heap addresses that change
    every run, and the keys pickle and the raw storages follow their sorted (so random)
    order. They are renamed "0", "1", ... in order of first use in the data pickle, in
    place (same pickle opcodes, BINUNICODE lengths adjusted), and the keys list and raw
    storages (int64 numel + float32 bytes each) are put in that order, so that the file is
    reproducible. torch.load reads it unchanged.
    """
    raw = torch_bytes(STATE, _use_new_zipfile_serialization=False)
    spans = split_pickles(raw, 5)
    data_pickle = raw[spans[3][0]:spans[3][1]]
    keys_pickle = raw[spans[4][0]:spans[4][1]]
    keys = [a for op, a, _ in ops(keys_pickle) if op.name == "BINUNICODE"]
    assert {a for op, a, _ in ops(data_pickle) if op.name == "GLOBAL" and "Storage" in a} \
        == {"torch FloatStorage"}  # every storage float32: 4-byte elements
    first_use = []
    for op, a, _ in ops(data_pickle):
        if op.name == "BINUNICODE" and a in keys and a not in first_use:
            first_use.append(a)
    assert sorted(first_use) == sorted(keys)
    rename = {k: str(i) for i, k in enumerate(first_use)}
    assert len(keys) <= 10  # "0".."9" sort like the new order
    # raw storages, in the old keys-list order
    tail = raw[spans[4][1]:]
    chunks, p = {}, 0
    for k in keys:
        (numel,) = struct.unpack("<q", tail[p:p + 8])
        chunks[k] = tail[p:p + 8 + 4 * numel]
        p += 8 + 4 * numel
    assert p == len(tail)

    def rewrite(chunk, fn):
        new = bytearray()
        listing = ops(chunk)
        for j, (op, arg, pos) in enumerate(listing):
            end = listing[j + 1][2] if j + 1 < len(listing) else len(chunk)
            if op.name == "BINUNICODE" and arg in rename:
                b = fn(arg).encode()
                new += b"X" + struct.pack("<I", len(b)) + b
            else:
                new += chunk[pos:end]
        return bytes(new)

    seq = iter(range(len(keys)))
    out = raw[:spans[3][0]]
    out += rewrite(data_pickle, lambda k: rename[k])
    out += rewrite(keys_pickle, lambda k: str(next(seq)))  # the list becomes "0", "1", ...
    out += b"".join(chunks[k] for k in first_use)
    return bytes(out), len(keys)


TORCH_LEGACY, _ = torch_legacy_stacked()


class _Ref:
    def __init__(self, key):
        self.key = key


class _PersPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return str(obj.key) if isinstance(obj, _Ref) else None


def torch_legacy_tar(main_pickle=None):
    """The PyTorch <= 0.1.x checkpoint: a PAX tar with members sys_info, pickle, tensors,
    storages, as torch/serialization.py `_legacy_load.legacy_load` (torch 1.13) reads it:

      storages: pickle(n) then per storage pickle((key, location, StorageClass)) + int64
                numel + raw bytes; then pickle(list of storage views) (empty here)
      tensors:  pickle(n) then per tensor pickle((key, storage_key, TensorClass)) + int32
                ndim + 4 pad bytes + ndim int64 sizes + ndim int64 strides + int64 offset
      pickle:   the object, tensors as BINPERSID str(tensor key)
      sys_info: the same dict torch still writes in the stacked format (not read)

    torch 1.13 cannot write this format, so it is assembled here with tarfile + pickle
    (protocol 2) from the same state dict as torch_state_dict.pt.
    """
    items = [(k, v.detach().contiguous()) for k, v in STATE.items()]
    storages = io.BytesIO()
    storages.write(pickle.dumps(len(items), protocol=2))
    tensors = io.BytesIO()
    tensors.write(pickle.dumps(len(items), protocol=2))
    obj = collections.OrderedDict()
    for i, (name, t) in enumerate(items):
        skey, tkey = 100 + i, 200 + i
        storages.write(pickle.dumps((skey, "cpu", torch.FloatStorage), protocol=2))
        storages.write(struct.pack("<q", t.numel()))
        storages.write(t.numpy().astype("<f4").tobytes())
        tensors.write(pickle.dumps((tkey, skey, torch.FloatTensor), protocol=2))
        tensors.write(struct.pack("<i", t.dim()) + b"\0\0\0\0")
        tensors.write(struct.pack("<%dq" % t.dim(), *t.shape))
        tensors.write(struct.pack("<%dq" % t.dim(), *t.stride()))
        tensors.write(struct.pack("<q", 0))
        obj[name] = _Ref(tkey)
    storages.write(pickle.dumps([], protocol=2))
    if main_pickle is None:
        buf = io.BytesIO()
        _PersPickler(buf, protocol=2).dump(obj)
        main_pickle = buf.getvalue()
    sys_info = pickle.dumps(dict(protocol_version=1001, little_endian=True,
                                 type_sizes=dict(short=2, int=4, long=4)), protocol=2)
    members = [("sys_info", sys_info), ("pickle", main_pickle),
               ("tensors", tensors.getvalue()), ("storages", storages.getvalue())]
    return make_tar([(tarinfo(n, len(d)), d) for n, d in members], tarfile.PAX_FORMAT)


def torchscript_bytes():
    torch.manual_seed(0)
    m = torch.jit.script(Net())
    buf = io.BytesIO()
    torch.jit.save(m, buf)
    return buf.getvalue()


TORCHSCRIPT = torchscript_bytes()

# joblib: a dict of two arrays. joblib writes each array's raw bytes straight into the
# file right after the pickled NumpyArrayWrapper (+1 padding-length byte and 0xff
# padding to a 16-byte boundary); the unpickler reads them there when it sees BUILD.
JOBLIB_DICT = {"first": np.arange(16, dtype=np.float64) / 8.0,
               "second": np.arange(6, dtype=np.int32).reshape(2, 3)}
_array_spans = []
_ORIG_WRITE_ARRAY = joblib.numpy_pickle.NumpyArrayWrapper.write_array


def _recording_write_array(self, array, pickler):
    start = pickler.file_handle.tell()
    _ORIG_WRITE_ARRAY(self, array, pickler)
    _array_spans.append((start, pickler.file_handle.tell(), array.dtype.hasobject))


def joblib_dump(obj, compress=0):
    """joblib.dump to bytes; returns (bytes, [(start, end, is_object)] of raw array regions)
    for uncompressed dumps."""
    _array_spans.clear()
    joblib.numpy_pickle.NumpyArrayWrapper.write_array = _recording_write_array
    try:
        with tempfile.TemporaryDirectory() as td:
            p = os.path.join(td, "x.joblib")
            joblib.dump(obj, p, compress=compress)
            with open(p, "rb") as f:
                data = f.read()
    finally:
        joblib.numpy_pickle.NumpyArrayWrapper.write_array = _ORIG_WRITE_ARRAY
    return data, list(_array_spans)


def joblib_walk(data, spans):
    """genops over a joblib stream, jumping over the raw array regions. Yields (pos, op
    name, arg). Nothing is executed."""
    f = io.BytesIO(data)
    regions = {s: e for s, e, _ in spans}
    while True:
        for op, arg, pos in pickletools.genops(f):
            yield pos, op.name, arg
            if f.tell() in regions:
                f.seek(regions[f.tell()])
        if f.tell() >= len(data):
            return
        # an object array's own pickle (joblib pickle.dump()s it after the wrapper)
        # ends the inner genops; continue with the outer stream


def np_save(arr, version=None, allow_pickle=False):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, arr, allow_pickle=allow_pickle)
    else:
        np.lib.format.write_array(buf, arr, version=version, allow_pickle=allow_pickle)
    return buf.getvalue()


def npy_header(descr, shape=(1,), version=(1, 0)):
    """A .npy header written by numpy's own header writer (no data)."""
    buf = io.BytesIO()
    d = {"descr": descr, "fortran_order": False, "shape": shape}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buf, d)
    else:
        np.lib.format.write_array_header_2_0(buf, d)
    return buf.getvalue()


def np_savez(compressed, **arrays):
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return fix_zip_times(buf.getvalue())


# A benign pickle for the plain containers: builtins + a numpy array (allowlisted globals).
BENIGN_PKL = pickle.dumps({"name": "hallmark-benign", "epoch": 3, "lr": 0.001,
                           "weights": np.arange(8, dtype=np.float32).reshape(2, 4)},
                          protocol=4)
PANDAS_STYLE = pickle.dumps({"columns": ["a", "b"], "index": [0, 1, 2],
                             "data": {"a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]}},
                            protocol=5)


def torch_zip_with(data_pkl, prefix="archive/"):
    """A PyTorch-zip-shaped archive (stored members, like torch) whose data.pkl is given;
    the other members come from the real torch_state_dict.pt."""
    entries = rebuild_zip(TORCH_SD, replace={"archive/data.pkl": data_pkl})
    for e in entries:
        e.name = e.lname = (prefix + e.name.decode()[len("archive/"):]).encode()
    return build_zip(entries)


def member(zipdata, name):
    """Read a member of a well-formed archive without zipfile (no name/CRC checks)."""
    for e in read_zip_central(zipdata):
        if e["name"] == name:
            lo = e["offset"]
            nlen, xlen = struct.unpack("<HH", zipdata[lo + 26:lo + 30])
            raw = zipdata[lo + 30 + nlen + xlen:lo + 30 + nlen + xlen + e["csize"]]
            return raw if e["method"] == STORED else zlib.decompress(raw, -15)
    raise KeyError(name)


# ---------------------------------------------------------------------------
# Benign twins
# ---------------------------------------------------------------------------

def gen_benign():
    tv = torch.__version__
    write("benign", "torch_state_dict.pt", TORCH_SD, "torch zip state_dict",
          note=f"torch {tv} torch.save(state_dict) default zip format, stored members under archive/")
    write("benign", "torch_module.pt", TORCH_MODULE, "torch zip full module",
          note=f"torch {tv} torch.save(nn.Sequential(Linear, ReLU, Linear)): torch.nn.modules.* globals")
    write("benign", "torch_legacy_stacked.pt", TORCH_LEGACY, "torch legacy stacked pickles",
          note="torch.save(_use_new_zipfile_serialization=False): magic, protocol, sys_info, data, keys pickles + raw storages; storage keys renamed 0,1,.. for reproducibility")
    write("benign", "torch_legacy_tar.pt", torch_legacy_tar(), "torch legacy tar (<=0.1.x)",
          note="PAX tar sys_info/pickle/tensors/storages built to torch 1.13 _legacy_load's tar reader; torch.load reads it")
    write("benign", "torchscript.pt", TORCHSCRIPT, "torchscript archive",
          note=f"torch {tv} torch.jit.save(torch.jit.script(Net)): data.pkl, constants.pkl, code/__torch__.py + .debug_pkl")
    # joblib
    data, spans = joblib_dump(JOBLIB_DICT)
    assert len(spans) == 2
    write("benign", "joblib_arrays.joblib", data, "joblib uncompressed with raw arrays",
          note=f"joblib {joblib.__version__} dump of a dict of 2 arrays; raw array bytes sit inside the pickle stream after each NumpyArrayWrapper BUILD")
    codecs = ["zlib", "gzip", "bz2", "xz", "lzma"] + (["lz4"] if lz4frame else [])
    for c in codecs:
        d, _ = joblib_dump(JOBLIB_DICT, compress=(c, 3))
        write("benign", f"joblib_arrays_{c}.joblib", d, f"joblib compressed {c}",
              note=f"joblib.dump(compress=('{c}', 3)) of the same dict")
    from sklearn.ensemble import RandomForestClassifier
    rng = np.random.RandomState(0)
    X = rng.rand(40, 3)
    y = (X[:, 0] > 0.5).astype(int)
    rf = RandomForestClassifier(n_estimators=2, max_depth=2, random_state=0).fit(X, y)
    d, _ = joblib_dump(rf)
    write("benign", "joblib_sklearn_rf.joblib", d, "joblib sklearn estimator",
          note="joblib.dump of a 2-tree RandomForestClassifier (uncompressed; tree node arrays raw)")
    # numpy
    write("benign", "numpy_float.npy", np_save(np.arange(12, dtype=np.float32).reshape(3, 4)),
          "npy float32", note="numpy.save float32 (3,4), v1.0 header")
    write("benign", "numpy_object_strings.npy",
          np_save(np.array(["alpha", "beta", None], dtype=object), allow_pickle=True),
          "npy object array (pickle)", note="numpy.save(allow_pickle=True) of an object array of strings: the body is a pickle of numpy globals")
    st = np.zeros(3, dtype=[("x", "<f4"), ("y", "<i4"), ("tag", "S4")])
    st["x"] = [1.5, 2.5, 3.5]; st["y"] = [1, 2, 3]; st["tag"] = [b"a", b"b", b"c"]
    write("benign", "numpy_structured.npy", np_save(st), "npy structured dtype",
          note="numpy.save of a structured array [('x','<f4'),('y','<i4'),('tag','S4')]")
    write("benign", "numpy_fortran.npy", np_save(np.asfortranarray(np.arange(6.0).reshape(2, 3))),
          "npy fortran order", note="numpy.save fortran_order=True")
    write("benign", "numpy_v2_header.npy", np_save(np.arange(5, dtype=np.int16), version=(2, 0)),
          "npy v2.0 header", note="numpy.lib.format.write_array(version=(2,0)): 4-byte header length")
    write("benign", "numpy_v3_header.npy", np_save(np.arange(5, dtype=np.int16), version=(3, 0)),
          "npy v3.0 header", note="numpy.lib.format.write_array(version=(3,0)): utf-8 header")
    write("benign", "numpy_savez.npz",
          np_savez(False, weights=np.arange(6, dtype=np.float32), bias=np.ones(2)),
          "npz stored", note="numpy.savez (stored zip, zip64 extras); DOS times normalised to 1980-01-01")
    write("benign", "numpy_savez_compressed.npz",
          np_savez(True, weights=np.arange(6, dtype=np.float32), bias=np.ones(2)),
          "npz deflated", note="numpy.savez_compressed (deflated zip); DOS times normalised")
    # tar
    write("benign", "tar_ustar.tar", tar_file("data.bin", BENIGN_PKL), "tar ustar",
          note="ustar tar, member data.bin = a benign pickle (twin of malicious/tar_payload_data_bin.tar)")
    pax = make_tar([(tarinfo("modèle/weights.pkl", len(BENIGN_PKL),
                             pax_headers={"comment": "hallmark benign"}), BENIGN_PKL)],
                   tarfile.PAX_FORMAT)
    assert b"path=" in pax and b"comment=" in pax
    write("benign", "tar_pax.tar", pax, "tar pax",
          note="POSIX pax tar: pax extended header (non-ASCII path, comment) before a benign pickle")
    longname = "checkpoints/" + "long-directory-name/" * 5 + "weights.pkl"
    gnu = make_tar([(tarinfo(longname, len(BENIGN_PKL)), BENIGN_PKL)], tarfile.GNU_FORMAT)
    assert b"././@LongLink" in gnu
    write("benign", "tar_gnu.tar", gnu, "tar gnu longlink",
          note="GNU tar: ././@LongLink entry carries the >100-byte name of a benign pickle")
    write("benign", "tar_pickle.tar.gz", gz(tar_file("data.bin", BENIGN_PKL), "tar_pickle.tar"),
          "tar.gz", note="gzip of the ustar tar")
    # compressed streams
    write("benign", "pickle.pkl.gz", gz(BENIGN_PKL, "pickle.pkl"), "gzip stream",
          note="gzip (mtime 0) of a benign pickle")
    write("benign", "pickle.pkl.bz2", bz2.compress(BENIGN_PKL, 9), "bzip2 stream", note="bz2 of a benign pickle")
    write("benign", "pickle.pkl.xz", lzma.compress(BENIGN_PKL, preset=6), "xz stream", note="xz of a benign pickle")
    write("benign", "pickle.pkl.lzma", lzma.compress(BENIGN_PKL, format=lzma.FORMAT_ALONE),
          "lzma-alone stream", note="legacy .lzma (FORMAT_ALONE, what joblib 'lzma' writes) of a benign pickle")
    write("benign", "pickle.pkl.zlib", zlib.compress(BENIGN_PKL, 9), "zlib stream",
          note="raw zlib stream (78 DA) of a benign pickle")
    if zstandard:
        write("benign", "pickle.pkl.zst",
              zstandard.ZstdCompressor(level=3, write_content_size=True).compress(BENIGN_PKL),
              "zstd stream", note=f"zstandard {zstandard.__version__} frame of a benign pickle")
    if lz4frame:
        write("benign", "pickle.pkl.lz4", lz4frame.compress(BENIGN_PKL), "lz4 frame stream",
              note="lz4 frame of a benign pickle")
    write("benign", "pandas_style.pkl.gz", gz(PANDAS_STYLE, "pandas_style.pkl"), "pkl.gz",
          note="gzip of a protocol-5 pickle of a dict (what DataFrame.to_pickle('x.pkl.gz') wraps)")
    # 7z
    if SEVENZIP:
        write("benign", "sevenzip_pickle.7z", sevenzip({"model/weights.pkl": BENIGN_PKL}), "7z",
              note="7z a (LZMA2, no timestamps) of a benign pickle")
    # zip in zip, safetensors
    write("benign", "zip_in_zip.zip",
          build_zip([Entry("checkpoints/torch_state_dict.pt", TORCH_SD, DEFLATED),
                     Entry("README.txt", b"benign bundle\n", DEFLATED)]),
          "zip inside zip", note="deflated outer zip holding the benign torch zip")
    header = json.dumps({"__metadata__": {"format": "pt"},
                         "weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
                         "bias": {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]}},
                        separators=(",", ":"), sort_keys=True).encode()
    header += b" " * (-len(header) % 8)
    write("benign", "model.safetensors", struct.pack("<Q", len(header)) + header + bytes(24),
          "safetensors", note="hand-written safetensors: u64 header length, JSON header, 24 zero bytes")


# ---------------------------------------------------------------------------
# Malicious fixtures
# ---------------------------------------------------------------------------

def gen_malicious():
    # --- PyTorch zip --------------------------------------------------------------------
    mal_torch = torch_zip_with(P2)
    write("malicious", "torch_zip_payload.pt", mal_torch, "torch zip data.pkl payload",
          "os.system", note="torch zip layout (archive/data.pkl, data/N, version), data.pkl = os.system payload, stored")
    entries = rebuild_zip(TORCH_SD, replace={"archive/data.pkl": P2},
                          method_of=lambda n, m: DEFLATED if n.endswith("data.pkl") else m)
    write("malicious", "torch_zip_deflated_payload.pt", build_zip(entries),
          "torch zip deflated data.pkl", "os.system", note="same, data.pkl deflate-compressed (miniz inflates it)")

    def torch_entries(**override):
        es = rebuild_zip(TORCH_SD, replace={"archive/data.pkl": P2})
        for e in es:
            if e.name == b"archive/data.pkl":
                for k, v in override.items():
                    setattr(e, k, v)
                if "flags" in override and "lflags" not in override:
                    e.lflags = override["flags"]
        return es

    bad_crc = zlib.crc32(P2) ^ 0xDEADBEEF
    write("malicious", "zip_bad_crc.pt", build_zip(torch_entries(crc=bad_crc)), "zip CRC mismatch",
          "os.system", note="data.pkl payload with a wrong CRC-32 in both headers: zipfile raises Bad CRC only after reading, Go's archive/zip only at EOF")
    write("malicious", "zip_flag_encrypted.pt", build_zip(torch_entries(flags=0x01)),
          "zip encrypted flag on stored member", "os.system",
          note="general-purpose bit 0 (encrypted) set on a STORED data.pkl whose bytes are plain: readers that skip encrypted members miss it")
    write("malicious", "zip_flag_0x20.pt", build_zip(torch_entries(flags=0x20)),
          "zip flag bit 5 (patched data)", "os.system", note="bit 5 (compressed patched data) set: zipfile raises NotImplementedError, the bytes are a plain pickle")
    write("malicious", "zip_flag_0x40.pt", build_zip(torch_entries(flags=0x40)),
          "zip flag bit 6 (strong encryption)", "os.system", note="bit 6 (strong encryption) set on a plain stored pickle")
    write("malicious", "zip_flag_encrypted_central_only.pt",
          build_zip(torch_entries(flags=0x01, lflags=0x00)),
          "zip encrypted flag in central header only", "os.system",
          note="bit 0 set in the central directory only; the local header says not encrypted")
    write("malicious", "zip_data_descriptor.pt", build_zip(torch_entries(descriptor=True)),
          "zip data descriptor on stored member", "os.system",
          note="bit 3 set, local header CRC/sizes 0, PK\\x07\\x08 descriptor after a STORED data.pkl: a streaming reader cannot find its end")
    write("malicious", "zip_local_name_mismatch.pt",
          build_zip(torch_entries(lname=b"archive/notes.txt")),
          "zip local name != central name", "os.system",
          note="central directory says archive/data.pkl (what torch/miniz/Go load), the local header says archive/notes.txt")
    es = rebuild_zip(TORCH_SD)
    es.append(Entry("archive/notes.txt", P2, lname="archive/data.pkl"))
    write("malicious", "zip_local_name_mismatch_rev.pt", build_zip(es),
          "zip local name != central name (reverse)", "os.system",
          note="benign torch zip plus a member the central directory calls archive/notes.txt whose local header says archive/data.pkl (streaming readers see a second data.pkl)")
    benign_pkl = member(TORCH_SD, "archive/data.pkl")
    rest = [e for e in rebuild_zip(TORCH_SD) if e.name != b"archive/data.pkl"]
    write("malicious", "zip_duplicate_data_pkl_first.pt",
          build_zip([Entry("archive/data.pkl", P2), Entry("archive/data.pkl", benign_pkl)] + rest),
          "zip duplicate data.pkl (malicious first)", "os.system",
          note="two archive/data.pkl entries: payload first, benign torch data.pkl second (zipfile returns the last, other readers the first)")
    write("malicious", "zip_duplicate_data_pkl_last.pt",
          build_zip([Entry("archive/data.pkl", benign_pkl)] + rest + [Entry("archive/data.pkl", P2)]),
          "zip duplicate data.pkl (malicious last)", "os.system",
          note="two archive/data.pkl entries: benign first, payload last")
    write("malicious", "zip_payload_named_txt.zip",
          build_zip([Entry("model/config.json", b'{"hidden": 3}\n', DEFLATED),
                     Entry("notes/readme.txt", P2)]),
          "pickle in a member named .txt", "os.system", note="payload in notes/readme.txt: name-based member filters skip it")
    write("malicious", "zip_protocol0_member.zip",
          build_zip([Entry("model/config.json", b'{"hidden": 3}\n'),
                     Entry("config/settings.cfg", P0)]),
          "protocol-0 pickle with a non-pickle name", "os.system",
          note="protocol-0 payload (text opcodes, no \\x80 PROTO byte) in config/settings.cfg")
    write("malicious", "polyglot_pickle_then_zip.pt", P2 + TORCH_SD, "pickle prepended to zip",
          "os.system", note="payload pickle, then the benign torch zip (offsets not adjusted, as cat makes it): torch.load sees no PK magic and pickle.load()s the file")
    write("malicious", "polyglot_pickle_then_zip_adjusted.pt",
          build_zip(rebuild_zip(TORCH_SD), prefix=P2), "pickle prepended to zip, offsets adjusted",
          "os.system", note="payload pickle, then the benign torch members with every zip offset counted from byte 0: a valid zip for every reader (Go's archive/zip too) and a valid pickle")
    write("malicious", "zip_appended_pickle.pt", TORCH_SD + P2, "pickle appended after zip end record",
          "os.system", sev="high",
          note="benign torch zip followed by a payload pickle after the end-of-central-directory record")
    write("malicious", "zip_in_zip_payload.zip",
          build_zip([Entry("checkpoints/model.pt", mal_torch, DEFLATED),
                     Entry("README.txt", b"bundle\n", DEFLATED)]),
          "zip inside zip with payload", "os.system", note="deflated outer zip holding torch_zip_payload.pt")
    write("malicious", "torch_zip_named.safetensors", mal_torch, "torch zip named .safetensors",
          "os.system", note="torch_zip_payload.pt bytes under a .safetensors name")
    write("malicious", "pickle_named.json", P0, "pickle named .json", "os.system",
          note="protocol-0 payload (printable text) named .json")

    # --- PyTorch legacy formats ------------------------------------------------------------
    spans = split_pickles(TORCH_LEGACY, 5)
    pk = [TORCH_LEGACY[s:e] for s, e in spans]
    tail = TORCH_LEGACY[spans[4][1]:]
    write("malicious", "torch_legacy_payload_protocol.pt", pk[0] + P2 + pk[2] + pk[3] + pk[4] + tail,
          "torch legacy 2nd pickle payload", "os.system",
          note="legacy stacked torch file whose 2nd pickle (protocol version, loaded by torch.load before anything else is checked) is the payload")
    write("malicious", "torch_legacy_payload_data.pt", pk[0] + pk[1] + pk[2] + P2 + pk[4] + tail,
          "torch legacy data pickle payload", "os.system",
          note="legacy stacked torch file whose 4th (data) pickle is the payload; raw storages follow")
    write("malicious", "torch_legacy_tar_payload.pt", torch_legacy_tar(main_pickle=P2),
          "torch legacy tar pickle member payload", "os.system",
          note="PyTorch 0.1.x tar checkpoint whose 'pickle' member is the payload")

    # --- TorchScript -------------------------------------------------------------------------
    code = member(TORCHSCRIPT, "archive/code/__torch__.py")
    evil = (b"import os\nos.system(\"echo hallmark-test-marker\")\n" + code)
    es = rebuild_zip(TORCHSCRIPT, replace={"archive/code/__torch__.py": evil})
    write("malicious", "torchscript_code_os_system.pt", build_zip(es), "torchscript code import os",
          "os.system", sev="high",
          note="real torch.jit.save archive whose code/__torch__.py starts with import os / os.system(...) text")
    es = rebuild_zip(TORCHSCRIPT, replace={"archive/constants.pkl": P2})
    write("malicious", "torchscript_constants_payload.pt", build_zip(es),
          "torchscript constants.pkl payload", "os.system",
          note="real torch.jit.save archive whose constants.pkl is the payload")

    # --- joblib ---------------------------------------------------------------------------------
    data, aspans = joblib_dump(JOBLIB_DICT)
    first_end = aspans[0][1]
    # The payload's opcodes without PROTO, memo writes or STOP, plus POP: GLOBAL os.system,
    # BINUNICODE cmd, TUPLE1, REDUCE, POP. Stack-neutral, so the dict still builds.
    listing = ops(P2)
    body = b""
    for j, (op, arg, pos) in enumerate(listing):
        end = listing[j + 1][2] if j + 1 < len(listing) else len(P2)
        if op.name in ("GLOBAL", "BINUNICODE", "TUPLE1", "REDUCE"):
            body += P2[pos:end]
    inserted = body + b"0"
    doctored = data[:first_end] + inserted + data[first_end:]
    shifted = [(s if s < first_end else s + len(inserted), e if e <= first_end else e + len(inserted), o)
               for s, e, o in aspans]
    walk = list(joblib_walk(doctored, shifted))
    names = [n for _, n, _ in walk]
    assert names[-1] == "STOP" and ("GLOBAL" in names)
    g = [(p, a) for p, n, a in walk if n == "GLOBAL"]
    assert g == [(first_end, "os system")], g
    write("malicious", "joblib_payload_after_first_array.joblib", doctored,
          "joblib payload after first raw array", "os.system",
          note=f"real joblib.dump of {{'first': float64[16], 'second': int32[2,3]}} with GLOBAL os.system, BINUNICODE, TUPLE1, REDUCE, POP inserted at byte {first_end} (end of the first array's raw bytes, outside any FRAME); joblib framing still parses")
    JOBLIB_INSERT = {"offset": first_end, "bytes": len(inserted)}
    write("malicious", "joblib_zlib_payload.joblib", zlib.compress(doctored, 3),
          "joblib zlib-compressed with payload", "os.system",
          note="the previous file compressed as joblib compress=('zlib',3) writes it (one zlib stream)")
    obj, ospans = joblib_dump({"weights": np.arange(4, dtype=np.float32),
                               "labels": np.array(["cat", "dog"], dtype=object)})
    (os_, oe_, isobj), = [s for s in ospans if s[2]]
    assert isobj and doctored is not None
    write("malicious", "joblib_object_array_payload.joblib", obj[:os_] + P2 + obj[oe_:],
          "joblib object-array sub-pickle payload", "os.system",
          note=f"real joblib.dump with an object array; the separate protocol-2 pickle joblib writes for it (bytes {os_}..{oe_}) replaced by the payload, which joblib pickle.load()s")

    # --- compressed streams ---------------------------------------------------------------------
    write("malicious", "payload.pkl.gz", gz(P2, "payload.pkl"), "gzip stream payload", "os.system",
          note="gzip of the payload")
    write("malicious", "payload.pkl.bz2", bz2.compress(P2, 9), "bzip2 stream payload", "os.system", note="bz2 of the payload")
    write("malicious", "payload.pkl.xz", lzma.compress(P4), "xz stream payload", "os.system",
          note="xz of the protocol-4 payload")
    write("malicious", "payload.pkl.lzma", lzma.compress(P2, format=lzma.FORMAT_ALONE),
          "lzma-alone stream payload", "os.system", note="legacy .lzma of the payload")
    write("malicious", "payload.pkl.zlib", zlib.compress(P2, 9), "zlib stream payload", "os.system",
          note="raw zlib stream of the payload")
    if zstandard:
        write("malicious", "payload.pkl.zst",
              zstandard.ZstdCompressor(level=3, write_content_size=True).compress(P2),
              "zstd stream payload", "os.system", note="zstd frame of the payload")
    if lz4frame:
        write("malicious", "payload.pkl.lz4", lz4frame.compress(P2), "lz4 frame payload",
              "os.system", note="lz4 frame of the payload")
    write("malicious", "payload_model.gz", gz(P0), "gzip stream, no name, no .pkl",
          "os.system", note="gzip without FNAME of the protocol-0 payload, named like a model")

    # --- numpy -----------------------------------------------------------------------------------
    obj_npy = npy_header("|O") + P2
    write("malicious", "numpy_object_payload.npy", obj_npy, "npy object dtype payload", "os.system",
          note="v1.0 header {'descr': '|O', shape (1,)} written by numpy, body = payload (np.load(allow_pickle=True) unpickles it)")
    write("malicious", "numpy_structured_object_payload.npy", npy_header([("a", "|O")]) + P2,
          "npy structured object field payload", "os.system",
          note="descr [('a', '|O')]: a structured dtype with an object field also makes numpy pickle.load the body")
    write("malicious", "numpy_object_payload_v2.npy", npy_header("|O", version=(2, 0)) + P4,
          "npy v2.0 object payload", "os.system", note="v2.0 header, descr '|O', protocol-4 payload")
    write("malicious", "npz_object_payload.npz",
          build_zip([Entry("weights.npy", np_save(np.arange(6, dtype=np.float32)), DEFLATED),
                     Entry("meta.npy", obj_npy, DEFLATED)]),
          "npz with object .npy payload", "os.system",
          note="npz (deflated) with a benign weights.npy and meta.npy = numpy_object_payload.npy")

    # --- 7z ---------------------------------------------------------------------------------------
    if SEVENZIP:
        write("malicious", "nullifai_7z_pytorch_model.bin",
              sevenzip({"archive/data.pkl": NULLIFAI, "archive/version": b"3\n"}),
              "7z .bin with broken pickle (nullifAI)", "os.system",
              note="pytorch_model.bin that is a 7z archive (not zip); archive/data.pkl = os.system payload then 0xf0.. garbage, no STOP")
        write("malicious", "sevenzip_payload.7z", sevenzip({"model/weights.bin": NULLIFAI}),
              "7z member payload then garbage", "os.system",
              note="7z with model/weights.bin = payload followed by garbage (nullifAI)")

    # --- tar ---------------------------------------------------------------------------------------
    write("malicious", "tar_payload_data_bin.tar", tar_file("data.bin", P2), "tar member payload",
          "os.system", note="ustar tar, member data.bin = payload")
    pax_override = make_tar([(tarinfo("notes.txt", len(P2), pax_headers={"path": "archive/data.pkl"}), P2)],
                            tarfile.PAX_FORMAT)
    assert b"path=archive/data.pkl" in pax_override and b"notes.txt" in pax_override
    write("malicious", "tar_pax_path_override.tar", pax_override, "tar pax path != ustar name",
          "os.system", note="payload member: ustar name notes.txt, pax header path=archive/data.pkl (what pax readers use)")
    links = make_tar([
        (tarinfo("model/benign.pkl", len(BENIGN_PKL)), BENIGN_PKL),
        (tarinfo("model/weights.pkl", type_=tarfile.SYMTYPE, mode=0o777,
                 linkname="../../../../../../tmp/hallmark-test-marker"), None),
        (tarinfo("model/abs.pkl", type_=tarfile.SYMTYPE, mode=0o777,
                 linkname="/tmp/hallmark-test-marker-abs"), None),
        (tarinfo("model/hard.pkl", type_=tarfile.LNKTYPE, linkname="/tmp/hallmark-test-marker-hard"), None),
    ])
    write("malicious", "tar_links_escape.tar", links, "tar symlink/hardlink out of archive",
          "link", sev="medium",
          note="benign pickle plus symlinks (relative ../.., absolute) and a hard link to /tmp/hallmark-test-marker*: report, never follow")
    devs = make_tar([
        (tarinfo("model/benign.pkl", len(BENIGN_PKL)), BENIGN_PKL),
        (tarinfo("dev/zero", type_=tarfile.CHRTYPE, devmajor=1, devminor=5), None),
        (tarinfo("dev/sda", type_=tarfile.BLKTYPE, devmajor=8, devminor=0, mode=0o660), None),
        (tarinfo("dev/fifo", type_=tarfile.FIFOTYPE), None),
    ])
    write("malicious", "tar_devices.tar", devs, "tar device and fifo members", "device", sev="info",
          note="benign pickle plus a character device (1,5), a block device (8,0) and a FIFO: report, never open")

    # --- nested, inside the limits ------------------------------------------------------------------
    inner_tgz = gz(tar_file("model/weights.pkl.xz", lzma.compress(P2)), "bundle.tar")
    write("malicious", "nested_mixed_payload.zip",
          build_zip([Entry("bundle.tar.gz", inner_tgz, STORED)]),
          "zip > tar.gz > xz > pickle", "os.system",
          note="zip holding bundle.tar.gz holding model/weights.pkl.xz holding the payload (4 layers)")
    return JOBLIB_INSERT


# ---------------------------------------------------------------------------
# Limits: bombs, entry count, depth
# ---------------------------------------------------------------------------

KERNEL_U = 100 << 20  # 100 MiB of zeros per entry
BOMB_N = 103          # 103 x 100 MiB > 10 GiB
SEVENZIP_BOMB = 10 << 30
TAR_ENTRIES = 1_000_000
NEST = 50

BOMB_META = {
    "zip_bomb_quoted_overlap.zip": ("zip bomb (quoted overlap)", "limit", "high",
                                    f"David Fifield's overlapping zip bomb: {BOMB_N} deflate entries sharing one 100 MiB-zeros kernel, 10.06 GiB total"),
    "zip_bomb_full_overlap.zip": ("zip bomb (full overlap)", "limit", "high",
                                  f"{BOMB_N} central-directory entries pointing at one local header (100 MiB of zeros each), 10.06 GiB total"),
    "sevenzip_bomb.7z": ("7z bomb", "limit", "high", "7z LZMA2, one member of 10 GiB zeros"),
    "tar_1e6_entries.tar.gz": ("tar with 10^6 entries", "limit", "high",
                               "gzip of a ustar tar with 1,000,000 empty regular files (8-digit names, digit sum 36)"),
    "nested_zip_50.zip": ("50-deep nested zip", "limit", "high",
                          "zip in zip 50 levels deep (deflated), innermost payload.pkl = os.system payload: a depth cap must report, os.system if the cap is above 50"),
}


def tar_many_entries(n):
    """A ustar tar of n empty files, gzip-compressed, streamed. Names are 8-digit strings with
    digit sum 36 in lexicographic order, so every header has the same checksum and consecutive
    headers differ in two name bytes (gzip -9 then takes about 4.4 bytes per entry)."""
    ti = tarinfo("99990000")
    base = bytearray(ti.tobuf(format=tarfile.USTAR_FORMAT))
    assert len(base) == 512 and base[0:8] == b"99990000"
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = []
    names = ("".join(map(str, t)) for t in itertools.product(range(10), repeat=8) if sum(t) == 36)
    for k, name in enumerate(names):
        if k == n:
            break
        base[0:8] = name.encode()
        out.append(co.compress(bytes(base)))
    out.append(co.compress(bytes(1024)))
    out.append(co.flush())
    data = b"".join(out)
    # gzip header via zlib (wbits 31): mtime 0, no name, OS byte 3 (unix)
    assert data[:4] == b"\x1f\x8b\x08\x00" and data[4:8] == b"\0\0\0\0"
    return data


def check_tar_count(data, n):
    d = zlib.decompressobj(31)
    raw = d.decompress(data)
    assert d.eof and len(raw) == 512 * n + 1024
    # every header checksum valid (tarfile recomputes it), count entries
    t = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
    k = sum(1 for _ in t)
    assert k == n, k


def nested_zip(depth):
    data, name = P2, "payload.pkl"
    for level in range(depth, 0, -1):
        data = build_zip([Entry(name, data, DEFLATED)])
        name = "level%02d.zip" % level
    return data


def sevenzip_bomb(size):
    with tempfile.TemporaryDirectory() as td:
        out = os.path.join(td, "bomb.7z")
        p = subprocess.Popen([SEVENZIP, "a"] + SEVENZIP_OPTS[:2] + ["-mx=1"] + SEVENZIP_OPTS[3:]
                             + ["-sizeros.bin", out], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        chunk = bytes(1 << 24)
        left = size
        while left:
            k = min(left, len(chunk))
            p.stdin.write(chunk[:k])
            left -= k
        p.stdin.close()
        if p.wait() != 0:
            raise SystemExit("7z failed: " + p.stderr.read().decode())
        with open(out, "rb") as f:
            return f.read()


def gen_limits():
    if NO_BOMBS:
        for name, (trick, expect, sev, note) in BOMB_META.items():
            keep("malicious", name, trick, expect, sev, note)
        return
    selftest()
    kernel_c = deflate_zeros(KERNEL_U)
    kernel_crc = crc32_zeros(KERNEL_U)
    data, total = zip_bomb_quoted_overlap(BOMB_N, kernel_c, KERNEL_U, kernel_crc)
    assert total >= 10 << 30, total
    # structural check: the first entry's stream starts by quoting the second local header
    first = read_zip_central(data)[0]
    d = zlib.decompressobj(-15)
    head = d.decompress(data[first["offset"] + 30 + 8:first["offset"] + 30 + 8 + 4096], 64)
    assert head.startswith(b"PK\x03\x04"), head[:8]
    write("malicious", "zip_bomb_quoted_overlap.zip", data, *BOMB_META["zip_bomb_quoted_overlap.zip"])
    data, total = zip_bomb_full_overlap(BOMB_N, kernel_c, KERNEL_U, kernel_crc)
    assert total >= 10 << 30
    write("malicious", "zip_bomb_full_overlap.zip", data, *BOMB_META["zip_bomb_full_overlap.zip"])
    if SEVENZIP:
        data = sevenzip_bomb(SEVENZIP_BOMB)
        assert "Size = %d" % SEVENZIP_BOMB in sevenzip_list(data)
        write("malicious", "sevenzip_bomb.7z", data, *BOMB_META["sevenzip_bomb.7z"])
    data = tar_many_entries(TAR_ENTRIES)
    check_tar_count(data, TAR_ENTRIES)
    if len(data) > 5 << 20:
        raise SystemExit("tar_1e6_entries.tar.gz is over 5 MiB")
    write("malicious", "tar_1e6_entries.tar.gz", data, *BOMB_META["tar_1e6_entries.tar.gz"])
    data = nested_zip(NEST)
    # walk down without zipfile, check the depth and the payload at the bottom
    cur, depth = data, 0
    while cur.startswith(b"PK\x03\x04"):
        (e,) = read_zip_central(cur)
        cur = member(cur, e["name"])
        depth += 1
    assert depth == NEST and cur == P2
    write("malicious", "nested_zip_50.zip", data, *BOMB_META["nested_zip_50.zip"])


def main():
    if SEVENZIP is None:
        print("warning: 7z not found (apt-get install -y p7zip-full); 7z fixtures skipped",
              file=sys.stderr)
    for d in (BENIGN, MAL):
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if NO_BOMBS and d == MAL and f in BOMB_FILES:
                continue
            os.remove(os.path.join(d, f))
    gen_benign()
    info = gen_malicious()
    gen_limits()
    manifest.sort(key=lambda m: (m["kind"], m["file"]))
    with open(os.path.join(ROOT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(m, ensure_ascii=False) for m in manifest) + "\n]\n")
    total = 0
    for m in manifest:
        total += os.path.getsize(os.path.join(ROOT, m["file"]))
    print(f"{len(manifest)} fixtures, {total} bytes; joblib payload inserted at {info}")


if __name__ == "__main__":
    main()
