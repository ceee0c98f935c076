#!/usr/bin/python3
"""Generate the HDF5 fixtures for formats/hdf5 and the scan engine's corpus.

Run from anywhere with Debian's interpreter (it has h5py 3.7 / HDF5 1.10.8 and numpy):

    /usr/bin/python3 testdata/hdf5/gen/make_hdf5.py

It rewrites testdata/hdf5/benign/, testdata/hdf5/malicious/ and testdata/hdf5/manifest.json.
Output is byte-identical on every run: h5py stores no timestamps by default, every input is
fixed, and the hostile files are benign h5py output with bytes patched at offsets found by
parsing the file (never by guessing).

NOTHING IS EVER LOADED OR RUN. The Keras-like files are written with h5py directly (no
TensorFlow); the Lambda payloads are marshal bytecode of a lambda that would run
`echo hallmark-marker`, created with marshal.dumps and never executed. The only file read
back is duplicate_model_config.h5, whose model_config attribute text is read with h5py to
confirm that HDF5 returns the first of two attributes of one name. The user-block
pickle and the appended zip hold the same inert marker.
"""

import base64
import ctypes
import io
import json
import marshal
import os
import shutil
import struct
import sys
import tempfile
import types
import zipfile

if os.environ.get("PYTHONHASHSEED") != "0":
    env = dict(os.environ, PYTHONHASHSEED="0", TZ="UTC")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import h5py
import numpy as np

# Version-2 object headers store access/modification/change/birth times when HDF5 tracks
# them, which it does by default for groups (datasets: h5py passes track_times=False).
# Turn tracking off for the root group (file creation list) and every new group so the
# output is byte-stable.
_make_fcpl = h5py._hl.files.make_fcpl
_h5g_create = h5py._hl.group.h5g.create


def _fcpl_no_times(*a, **kw):
    plist = _make_fcpl(*a, **kw) or h5py.h5p.create(h5py.h5p.FILE_CREATE)
    plist.set_obj_track_times(False)
    return plist


class _H5G:
    def __getattr__(self, name):
        return getattr(h5py.h5g, name)

    @staticmethod
    def create(loc, name, lcpl=None, gcpl=None):
        gcpl = gcpl.copy() if gcpl is not None else h5py.h5p.create(h5py.h5p.GROUP_CREATE)
        gcpl.set_obj_track_times(False)
        return _h5g_create(loc, name, lcpl=lcpl, gcpl=gcpl)


h5py._hl.files.make_fcpl = _fcpl_no_times
h5py._hl.group.h5g = _H5G()

# h5py exposes neither H5Pset_istore_k (superblock 1) nor datatype creation lists (to
# commit a type without timestamps): call them in the libhdf5 h5py itself loaded.
LIBHDF5 = ctypes.CDLL([l.split()[-1] for l in open("/proc/self/maps")
                       if "/libhdf5" in l and "_hl" not in l][0])
LIBHDF5.H5Pcreate.restype = ctypes.c_int64


def commit_type(group, name, dtype):
    cls = ctypes.c_int64.in_dll(LIBHDF5, "H5P_CLS_DATATYPE_CREATE_ID_g").value
    tcpl = ctypes.c_int64(LIBHDF5.H5Pcreate(ctypes.c_int64(cls)))
    try:
        assert LIBHDF5.H5Pset_obj_track_times(tcpl, ctypes.c_uint(0)) >= 0
        tid = h5py.h5t.py_create(np.dtype(dtype))
        assert LIBHDF5.H5Tcommit2(ctypes.c_int64(group.id.id), name.encode(), ctypes.c_int64(tid.id),
                                  ctypes.c_int64(0), tcpl, ctypes.c_int64(0)) >= 0
    finally:
        LIBHDF5.H5Pclose(tcpl)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENIGN = os.path.join(ROOT, "benign")
MALICIOUS = os.path.join(ROOT, "malicious")
MANIFEST = []
UNDEF = 0xFFFFFFFFFFFFFFFF


def entry(path, kind, trick, sev, expect, note):
    MANIFEST.append({"file": os.path.relpath(path, ROOT), "kind": kind, "trick": trick,
                     "expect_min_severity": sev, "expect": expect, "note": note})


# ---------------------------------------------------------------- byte helpers

def lookup3(data, initval=0):
    """Bob Jenkins' hashlittle, the checksum of HDF5 version-2 metadata."""
    M = 0xFFFFFFFF

    def rot(x, k):
        return ((x << k) | (x >> (32 - k))) & M

    length = len(data)
    a = b = c = (0xDEADBEEF + length + initval) & M
    i = 0
    while length - i > 12:
        a = (a + struct.unpack_from("<I", data, i)[0]) & M
        b = (b + struct.unpack_from("<I", data, i + 4)[0]) & M
        c = (c + struct.unpack_from("<I", data, i + 8)[0]) & M
        a = (a - c) & M; a ^= rot(c, 4); c = (c + b) & M
        b = (b - a) & M; b ^= rot(a, 6); a = (a + c) & M
        c = (c - b) & M; c ^= rot(b, 8); b = (b + a) & M
        a = (a - c) & M; a ^= rot(c, 16); c = (c + b) & M
        b = (b - a) & M; b ^= rot(a, 19); a = (a + c) & M
        c = (c - b) & M; c ^= rot(b, 4); b = (b + a) & M
        i += 12
    if length - i == 0:
        return c
    tail = data[i:] + b"\0" * (12 - (length - i))
    a = (a + struct.unpack_from("<I", tail, 0)[0]) & M
    b = (b + struct.unpack_from("<I", tail, 4)[0]) & M
    c = (c + struct.unpack_from("<I", tail, 8)[0]) & M
    c ^= b; c = (c - rot(b, 14)) & M
    a ^= c; a = (a - rot(c, 11)) & M
    b ^= a; b = (b - rot(a, 25)) & M
    c ^= b; c = (c - rot(b, 16)) & M
    a ^= c; a = (a - rot(c, 4)) & M
    b ^= a; b = (b - rot(a, 14)) & M
    c ^= b; c = (c - rot(b, 24)) & M
    return c


def fix_checksum(buf, start, end):
    """Rewrite the 4-byte checksum at buf[end:end+4] over buf[start:end]."""
    struct.pack_into("<I", buf, end, lookup3(bytes(buf[start:end])))


def obj_addr(f, path):
    return h5py.h5o.get_info(f[path].id).addr


def v1_messages(buf, addr):
    """Messages of a version-1 object header (first block and continuations):
    list of (type, data_offset, size, header_offset)."""
    nmsgs, = struct.unpack_from("<H", buf, addr + 2)
    size, = struct.unpack_from("<I", buf, addr + 8)
    blocks = [(addr + 16, size)]
    out = []
    i = 0
    while i < len(blocks):
        start, n = blocks[i]
        p = start
        while p + 8 <= start + n:
            typ, sz = struct.unpack_from("<HH", buf, p)
            out.append((typ, p + 8, sz, p))
            if typ == 0x10:
                blocks.append(struct.unpack_from("<QQ", buf, p + 8))
            p += 8 + sz
        i += 1
    return out


def v2_messages(buf, addr):
    """Messages of a version-2 object header: list of (type, data_offset, size,
    block_start, checksum_offset)."""
    assert buf[addr:addr + 4] == b"OHDR"
    flags = buf[addr + 5]
    p = addr + 6
    if flags & 0x20:
        p += 16
    if flags & 0x10:
        p += 4
    sl = 1 << (flags & 3)
    size = int.from_bytes(buf[p:p + sl], "little")
    p += sl
    blocks = [(addr, p, p + size)]  # (block start, first message, checksum offset)
    hl = 6 if flags & 0x04 else 4
    out = []
    i = 0
    while i < len(blocks):
        bstart, q, end = blocks[i]
        while q + hl <= end:
            typ = buf[q]
            sz, = struct.unpack_from("<H", buf, q + 1)
            out.append((typ, q + hl, sz, bstart, end))
            if typ == 0x10:
                a, n = struct.unpack_from("<QQ", buf, q + hl)
                blocks.append((a, a + 4, a + n - 4))
            q += hl + sz
        i += 1
    return out


def snod_entries(buf):
    """Symbol table entries of every SNOD node: (entry offset, object header address,
    cache type)."""
    out = []
    p = buf.find(b"SNOD")
    while p >= 0:
        n, = struct.unpack_from("<H", buf, p + 6)
        for i in range(n):
            e = p + 8 + 40 * i
            obj, cache = struct.unpack_from("<QI", buf, e + 8)
            out.append((e, obj, cache))
        p = buf.find(b"SNOD", p + 4)
    return out


def patch(src, dst, fn):
    buf = bytearray(open(src, "rb").read())
    fn(buf)
    with open(dst, "wb") as out:
        out.write(bytes(buf))


# ---------------------------------------------------------------- Keras-like content

def dense_layer(name, units, activation):
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": "float32", "units": units,
        "activation": activation, "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None}}


def sequential_config(layers, name="sequential", inputs=32):
    return {"class_name": "Sequential", "config": {"name": name, "layers": [
        {"class_name": "InputLayer", "config": {
            "batch_input_shape": [None, inputs], "dtype": "float32", "sparse": False,
            "ragged": False, "name": "dense_input"}}] + layers}}


TRAINING_CONFIG = {
    "loss": "sparse_categorical_crossentropy",
    "metrics": [[{"class_name": "MeanMetricWrapper", "config": {
        "name": "accuracy", "dtype": "float32", "fn": "sparse_categorical_accuracy"}}]],
    "weighted_metrics": None, "loss_weights": None,
    "optimizer_config": {"class_name": "Custom>Adam", "config": {
        "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
        "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
        "ema_overwrite_frequency": None, "jit_compile": True, "is_legacy_optimizer": False,
        "learning_rate": 0.0010000000474974513, "beta_1": 0.9, "beta_2": 0.999,
        "epsilon": 1e-07, "amsgrad": False}}}


def marker_lambda_config(name):
    """A Keras 2 Lambda layer config as tf.keras 2.11 func_dump writes it: base64 of the
    marshalled code object (never executed here)."""
    # Compiled from source with a fixed file name so the bytecode does not depend on where
    # this script lives (co_filename, co_firstlineno are part of the marshal data).
    module = compile('lambda x: __import__("os").system("echo hallmark-marker") or x',
                     "train.py", "eval")
    fn_code = [c for c in module.co_consts if isinstance(c, types.CodeType)][0]
    code = base64.encodebytes(marshal.dumps(fn_code)).decode("ascii")
    return {"class_name": "Lambda", "config": {
        "name": name, "trainable": True, "dtype": "float32",
        "function": [code, None, None], "function_type": "lambda", "module": "__main__",
        "output_shape": None, "output_shape_type": "raw", "output_shape_module": None,
        "arguments": {}}}


def write_keras2_weights(group, layers, rng):
    """What tf.keras save_weights_to_hdf5_group writes: layer_names, backend and
    keras_version attributes, one group per layer with weight_names, and datasets at
    <layer>/<layer>/kernel:0."""
    names = [l[0] for l in layers]
    group.attrs["layer_names"] = np.array([n.encode("utf8") for n in names])
    group.attrs["backend"] = "tensorflow".encode("utf8")
    group.attrs["keras_version"] = "2.11.0".encode("utf8")
    for name, shapes in sorted(layers, key=lambda l: l[0]):
        g = group.create_group(name)
        wn = [("%s/%s:0" % (name, w)).encode("utf8") for w, _ in shapes]
        g.attrs["weight_names"] = np.array(wn, dtype="S%d" % max([len(x) for x in wn] + [1]))
        for (w, shape), full in zip(shapes, wn):
            g.create_dataset(full.decode(), data=rng.standard_normal(shape).astype("float32"))
    top = group.create_group("top_level_model_weights")
    top.attrs["weight_names"] = np.array([], dtype="S1")


def keras2_model(path, config, layers, rng, libver=None):
    kw = {} if libver is None else {"libver": libver}
    with h5py.File(path, "w", **kw) as f:
        # model_metadata: keras_version and backend are str, the configs are
        # json.dumps(...).encode("utf8").
        f.attrs["keras_version"] = "2.11.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        f.attrs["training_config"] = json.dumps(TRAINING_CONFIG).encode("utf8")
        write_keras2_weights(f.create_group("model_weights"), layers, rng)
        ow = f.create_group("optimizer_weights")
        names = [b"Adam/iter:0"]
        for name, shapes in layers:
            for w, shape in shapes:
                for slot in ("m", "v"):
                    names.append(("Adam/%s/%s/%s:0" % (name, w, slot)).encode())
        ow.attrs["weight_names"] = np.array(names)
        ow.create_dataset("Adam/iter:0", data=np.int64(10))
        for name, shapes in layers:
            for w, shape in shapes:
                for slot in ("m", "v"):
                    ow.create_dataset("Adam/%s/%s/%s:0" % (name, w, slot),
                                      data=np.zeros(shape, dtype="float32"))


MLP = [("dense", [("kernel", (32, 16)), ("bias", (16,))]),
       ("dense_1", [("kernel", (16, 10)), ("bias", (10,))])]
MLP_CONFIG = sequential_config([dense_layer("dense", 16, "relu"),
                                dense_layer("dense_1", 10, "softmax")])


# ---------------------------------------------------------------- benign

def all_types(f):
    """Groups, datasets and attributes of every class h5py writes for models."""
    g = f.create_group("data")
    g.create_dataset("f16", data=np.arange(6, dtype="f2").reshape(2, 3))
    g.create_dataset("f32", data=np.arange(12, dtype="f4").reshape(3, 4))
    g.create_dataset("f64_be", data=np.arange(3, dtype=">f8"))
    g.create_dataset("i8", data=np.arange(5, dtype="i1"))
    g.create_dataset("u8", data=np.arange(5, dtype="u1"))
    g.create_dataset("i64", data=np.arange(5, dtype="i8"))
    g.create_dataset("bool", data=np.array([True, False]))
    g.create_dataset("fixed_str", data=np.array([b"alpha", b"beta"], dtype="S10"))
    g.create_dataset("vlen_str", data=["one", "two"], dtype=h5py.string_dtype())
    g.create_dataset("compound", data=np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]))
    g.create_dataset("enum", data=np.array([0, 1], dtype="i1"),
                     dtype=h5py.enum_dtype({"RED": 0, "GREEN": 1}, basetype="i1"))
    g.create_dataset("array", shape=(2,), dtype=np.dtype(("f4", (3,))))  # array class
    g.create_dataset("chunked", data=np.arange(64, dtype="f4").reshape(8, 8), chunks=(4, 4),
                     compression="gzip")
    g.create_dataset("scalar", data=np.float32(1.5))
    g.create_dataset("empty", data=h5py.Empty("f4"))
    f["data_alias"] = g["f32"]  # a second hard link to one dataset
    f["soft"] = h5py.SoftLink("/data/f32")
    commit_type(f, "named_type", "f4")  # committed datatype
    g.create_dataset("uses_named", shape=(2,), dtype=f["named_type"])
    a = g.attrs
    a["int"] = np.int32(-7)
    a["float"] = 0.25
    a["ints"] = np.arange(4, dtype="i2")
    a["floats"] = np.array([0.5, 1.5], dtype="f4")
    a["str"] = "vlen unicode string"
    a["bytes"] = b"vlen ascii bytes"
    a["fixed"] = np.bytes_(b"fixed-length")
    a["fixed_list"] = np.array([b"dense", b"dense_1", b"dropout"])
    a["vlen_list"] = ["a", "bb", "ccc"]
    a["bool"] = True
    a["empty"] = h5py.Empty("f8")
    # HDF5 array datatypes (class 10): a scalar S2[3] and a (2,) f4[3]
    a.create("str_array", data=np.array([b"ab", b"cd", b"ef"], dtype="S2"),
             dtype=np.dtype(("S2", (3,))))
    a.create("f_array", data=np.arange(6, dtype="f4").reshape(2, 3), dtype=np.dtype(("f4", (3,))))
    a["be_int"] = np.array([258], dtype=">i4")
    f.attrs["title"] = "hallmark fixture"


def make_benign():
    rng = np.random.default_rng(0)

    p = os.path.join(BENIGN, "types_earliest.h5")
    with h5py.File(p, "w", libver="earliest") as f:
        all_types(f)
    entry(p, "benign", "libver earliest: superblock 0, v1 object headers, symbol-table groups",
          "low", "", "h5py 3.7 / HDF5 1.10.8 libver='earliest': every datatype class h5py writes "
          "for models (float 16/32/64 incl. big-endian, ints, bool enum, fixed and vlen strings, "
          "compound, enum, array, chunked+gzip, scalar, null), attributes of each kind, a soft "
          "link, a second hard link, a committed datatype")

    p = os.path.join(BENIGN, "types_latest.h5")
    with h5py.File(p, "w", libver="latest") as f:
        all_types(f)
    entry(p, "benign", "libver latest: superblock 3, OHDR v2 with checksums, compact links",
          "low", "", "the same content with libver='latest': version-2 object headers, link "
          "messages, attribute messages v3, dense attributes on /data (13 > 8 attributes)")

    p = os.path.join(BENIGN, "times_latest.h5")
    h5py._hl.files.make_fcpl, h5py._hl.group.h5g = _make_fcpl, h5py.h5g  # HDF5 defaults
    try:
        with h5py.File(p, "w", libver="latest") as f:
            g = f.create_group("model_weights")
            g.attrs["backend"] = "tensorflow"
            g.create_group("dense").create_dataset("kernel:0", data=np.ones((2, 2), "f4"),
                                                   track_times=True)
    finally:
        h5py._hl.files.make_fcpl, h5py._hl.group.h5g = _fcpl_no_times, _H5G()

    def fixed_times(buf):
        # every OHDR that stores times gets 2020-01-01T00:00:00Z, checksum recomputed
        q = buf.find(b"OHDR")
        while q >= 0:
            flags = buf[q + 5]
            if flags & 0x20:
                struct.pack_into("<4I", buf, q + 6, *[1577836800] * 4)
                p2 = q + 6 + 16 + (4 if flags & 0x10 else 0)
                sl = 1 << (flags & 3)
                end = p2 + sl + int.from_bytes(buf[p2:p2 + sl], "little")
                fix_checksum(buf, q, end)
            q = buf.find(b"OHDR", q + 4)
    patch(p, p, fixed_times)
    entry(p, "benign", "OHDR with access/modification/change/birth times", "low", "",
          "libver='latest' with HDF5's default time tracking on groups and a dataset; the "
          "times are then set to 2020-01-01 and the checksums recomputed so the file is stable")

    p = os.path.join(BENIGN, "superblock_v2.h5")
    with h5py.File(p, "w", libver=("v108", "latest")) as f:
        all_types(f)
    entry(p, "benign", "superblock version 2", "low", "",
          "libver=('v108', 'latest') writes superblock 2")

    p = os.path.join(BENIGN, "superblock_v1.h5")
    # HDF5 writes superblock 1 only for a non-default indexed-storage K.
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    assert LIBHDF5.H5Pset_istore_k(ctypes.c_int64(fcpl.id), ctypes.c_uint(64)) >= 0
    fid = h5py.h5f.create(p.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl)
    with h5py.File(fid) as f:
        f.create_dataset("x", data=np.arange(10, dtype="f4"))
        f.attrs["note"] = "superblock version 1"
    entry(p, "benign", "superblock version 1", "low", "",
          "H5Pset_istore_k(64) on the file creation property list (through ctypes): HDF5 "
          "writes superblock 1")

    p = os.path.join(BENIGN, "dense_attrs_latest.h5")
    with h5py.File(p, "w", libver="latest") as f:
        d = f.create_dataset("w", data=np.zeros((4, 4), dtype="f4"))
        for i in range(20):
            f.attrs["attr_%02d" % i] = "value %d" % i
            d.attrs["n_%02d" % i] = i
        f.attrs["big_vlen"] = "x" * (100 << 10)  # 100 KiB in the global heap
        f.attrs["big_fixed"] = np.bytes_(b"y" * (80 << 10))  # a huge fractal heap object
        f.attrs["many_strings"] = np.array([("s%04d" % i).encode() for i in range(2000)])
    entry(p, "benign", "dense attribute storage, >64 KiB attributes", "low", "",
          "libver='latest' with 23 root attributes: attribute info message, fractal heap, "
          "v2 B-tree (type 8); a 100 KiB vlen string (global heap) and an 80 KiB fixed string "
          "(huge heap object found through the huge-object v2 B-tree)")

    p = os.path.join(BENIGN, "dense_links_latest.h5")
    with h5py.File(p, "w", libver="latest") as f:
        d = f.create_dataset("target", data=np.arange(3, dtype="f4"))
        g = f.create_group("many")
        for i in range(1500):
            g["link_%04d" % i] = d
        t = f.create_group("ordered", track_order=True)
        for i in range(20):
            t.create_group("sub_%02d" % i)
    entry(p, "benign", "dense link storage, 2-level v2 B-tree", "low", "",
          "a group of 1500 hard links (link info message, fractal heap with indirect blocks, "
          "v2 B-tree of depth 2) and a track_order group (creation-order index)")

    p = os.path.join(BENIGN, "big_group_earliest.h5")
    with h5py.File(p, "w", libver="earliest") as f:
        d = f.create_dataset("target", data=np.arange(3, dtype="f4"))
        g = f.create_group("many")
        for i in range(400):
            g["link_%04d" % i] = d
    entry(p, "benign", "symbol-table group with a multi-level v1 B-tree", "low", "",
          "400 entries in an old-style group: v1 B-tree with internal nodes, 50+ SNOD nodes, "
          "one local heap")

    p = os.path.join(BENIGN, "keras2_weights.h5")
    with h5py.File(p, "w") as f:
        write_keras2_weights(f, MLP, rng)
    entry(p, "benign", "Keras 2 save_weights layout", "low", "",
          "layout of tf.keras 2.11 save_weights('x.h5'): layer_names (fixed-string array), "
          "backend, keras_version, <layer>/weight_names, <layer>/<layer>/kernel:0")

    p = os.path.join(BENIGN, "keras2_model.h5")
    keras2_model(p, MLP_CONFIG, MLP, rng)
    entry(p, "benign", "Keras 2 full model (model.save h5)", "low", "",
          "layout of tf.keras 2.11 model.save('x.h5') of a 2-layer Sequential MLP: root "
          "keras_version '2.11.0', backend 'tensorflow', model_config and training_config "
          "JSON, model_weights/, optimizer_weights/")

    p = os.path.join(BENIGN, "keras2_model_large_config.h5")
    layers, weights = [], []
    for i in range(300):
        n = "dense_%d" % i if i else "dense"
        layers.append(dense_layer(n, 2, "relu"))
        weights.append((n, [("kernel", (2, 2)), ("bias", (2,))]))
    keras2_model(p, sequential_config(layers, inputs=2), weights[:3], rng)
    entry(p, "benign", "Keras 2 model with a 150 KiB model_config", "low", "",
          "300-layer Sequential config (json > 64 KiB, stored as a vlen string in a large "
          "global heap collection); weights for 3 layers only to keep the file small")

    p = os.path.join(BENIGN, "keras3_model.weights.h5")
    with h5py.File(p, "w") as f:
        # keras 3 H5IOStore layout: <path>/vars/<index>
        for name, shapes in MLP:
            v = f.require_group("layers").create_group(name).create_group("vars")
            for i, (w, shape) in enumerate(shapes):
                v.create_dataset(str(i), data=rng.standard_normal(shape).astype("float32"))
        o = f.create_group("optimizer").create_group("vars")
        o.create_dataset("0", data=np.int64(10))
        f.create_group("vars")
    entry(p, "benign", "Keras 3 model.weights.h5 layout", "low", "",
          "layout Keras 3 H5IOStore writes inside a .keras zip: layers/<name>/vars/<i>, "
          "optimizer/vars/<i>, vars")

    p = os.path.join(BENIGN, "userblock_zero.h5")
    with h5py.File(p, "w", userblock_size=512) as f:
        f.create_dataset("x", data=np.arange(4, dtype="f4"))
    entry(p, "benign", "empty 512-byte user block", "low", "",
          "userblock_size=512 left as zeros: the superblock sits at 512")

    p = os.path.join(BENIGN, "hardlink_cycle.h5")
    with h5py.File(p, "w") as f:
        g = f.create_group("g")
        g.create_dataset("d", data=np.arange(2, dtype="f4"))
        g["loop"] = g
    entry(p, "benign", "hard-link cycle h5py can make", "low", "",
          "g['loop'] = g: a group that contains itself, legal HDF5; reported at low, "
          "walked once")
    return rng


# ---------------------------------------------------------------- malicious / malformed

def make_malicious(rng):
    tmp = tempfile.mkdtemp(prefix="hallmark-h5-")
    try:
        _make_malicious(rng, tmp)
    finally:
        shutil.rmtree(tmp)


def _make_malicious(rng, tmp):
    def t(name):
        return os.path.join(tmp, name)

    def m(name):
        return os.path.join(MALICIOUS, name)

    # Keras 2 models with Lambda payloads (the integrator's Keras checks report these).
    cfg = sequential_config([dense_layer("dense", 16, "relu"), marker_lambda_config("lambda"),
                             dense_layer("dense_1", 10, "softmax")])
    keras2_model(m("keras2_lambda.h5"), cfg, MLP, rng)
    entry(m("keras2_lambda.h5"), "malicious", "Keras 2 Lambda layer (marshal bytecode)", "high",
          "Lambda", "CVE-2024-3660 / CVE-2025-9905 (research 6.D D1): model_config holds a "
          "Lambda whose function is base64 marshal bytecode calling os.system('echo "
          "hallmark-marker'); HDF5 structure is clean, the finding comes from the Keras checks")

    inner = sequential_config([marker_lambda_config("inner_lambda")], name="inner", inputs=16)
    nested = {"class_name": "Sequential", "config": {"name": "outer", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 32],
                                                "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "dense_input"}},
        dense_layer("dense", 16, "relu"),
        {"class_name": "TimeDistributed", "config": {"name": "td", "trainable": True,
                                                     "dtype": "float32", "layer": inner}}]}}
    keras2_model(m("keras2_nested_lambda.h5"), nested, MLP[:1], rng)
    entry(m("keras2_nested_lambda.h5"), "malicious", "Lambda nested in a wrapper and a sub-model",
          "high", "Lambda", "research 6.D D1 miss: the Lambda sits in a Sequential inside "
          "TimeDistributed, not at the top level where ModelScan looks")

    # Two root attributes named model_config: the first, which h5py returns, holds the
    # Lambda; the second is benign. Written as model_config and xodel_config, then renamed.
    src = t("dup.h5")
    with h5py.File(src, "w") as f:
        f.attrs["keras_version"] = "2.11.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(cfg).encode("utf8")
        f.attrs["xodel_config"] = json.dumps(MLP_CONFIG).encode("utf8")
        write_keras2_weights(f.create_group("model_weights"), MLP, rng)
        root = obj_addr(f, "/")

    def rename_dup(buf):
        for typ, data, size, _ in v1_messages(buf, root):
            p = buf.find(b"xodel_config\0", data, data + size)
            if typ == 0x0C and p >= 0:
                buf[p] = ord("m")
                return
        raise AssertionError("attribute not found")
    patch(src, m("duplicate_model_config.h5"), rename_dup)
    with h5py.File(m("duplicate_model_config.h5"), "r") as f:  # reads attribute text only
        assert "Lambda" in f.attrs["model_config"], "h5py should return the first model_config"
    entry(m("duplicate_model_config.h5"), "malicious", "two model_config attributes", "high",
          "hdf5/duplicate-name", "the root has two attributes named model_config: h5py returns "
          "the first (a Lambda payload), a reader that keeps the last sees a benign config")

    # Hand-patched child address pointing at its parent's header.
    src = t("nest.h5")
    with h5py.File(src, "w", libver="earliest") as f:
        a = f.create_group("a")
        b = a.create_group("b")
        b.create_dataset("d", data=np.arange(2, dtype="f4"))
        a_addr, b_addr = obj_addr(f, "a"), obj_addr(f, "a/b")

    def child_to_parent(buf):
        hits = [e for e in snod_entries(buf) if e[1] == b_addr]
        assert len(hits) == 1 and hits[0][2] == 1, hits  # "b", with cached B-tree/heap
        struct.pack_into("<Q", buf, hits[0][0] + 8, a_addr)
    patch(src, m("cycle_patched_child.h5"), child_to_parent)
    entry(m("cycle_patched_child.h5"), "malicious", "child link patched to its parent's header",
          "medium", "hdf5/inconsistent", "the symbol-table entry of /a/b now points at /a's "
          "object header: a loop for naive recursive readers; its cached B-tree/heap no longer "
          "match the target")

    # Continuation loop, version-1 header: the last continuation points at the first block.
    src = t("cont1.h5")
    with h5py.File(src, "w", libver="earliest") as f:
        g = f.create_group("g")
        for i in range(40):
            g.attrs["attribute_with_a_long_name_%02d" % i] = "v" * 40
        g_addr = obj_addr(f, "g")

    def cont_loop_v1(buf):
        conts = [x for x in v1_messages(buf, g_addr) if x[0] == 0x10]
        assert conts, "no continuation"
        first_block = struct.unpack_from("<Q", buf, conts[0][1])[0]
        struct.pack_into("<Q", buf, conts[-1][1], first_block)
    patch(src, m("continuation_loop_v1.h5"), cont_loop_v1)
    entry(m("continuation_loop_v1.h5"), "malicious", "object header continuation loop (v1)",
          "high", "hdf5/malformed", "the last continuation message of /g points back at the "
          "first continuation block: a reader without loop detection never ends")

    # Continuation loop, version-2 header: an OCHK block continues to itself (checksums fixed).
    src = t("cont2.h5")
    with h5py.File(src, "w", libver="latest") as f:
        g = f.create_group("g")
        for i in range(6):  # the header cannot grow in place: OCHK blocks
            g.attrs["a%d" % i] = np.zeros(100)
            f.create_group("pad%d" % i)
        g_addr = obj_addr(f, "g")

    def cont_loop_v2(buf):
        msgs = v2_messages(buf, g_addr)
        ochk = [x for x in msgs if x[3] != g_addr]
        assert ochk, "no OCHK block"
        typ, data, size, bstart, csum = ochk[0]
        assert size >= 16
        buf[data - 4] = 0x10  # turn this message into a continuation
        struct.pack_into("<QQ", buf, data, bstart, csum + 4 - bstart)
        fix_checksum(buf, bstart, csum)
    patch(src, m("continuation_loop_v2.h5"), cont_loop_v2)
    entry(m("continuation_loop_v2.h5"), "malicious", "OCHK block that continues to itself",
          "high", "hdf5/malformed", "a message of /g's OCHK block is rewritten into a "
          "continuation message pointing at the same OCHK block (checksum recomputed)")

    # Truncated file.
    src = os.path.join(BENIGN, "keras2_model.h5")
    data = open(src, "rb").read()
    with open(m("truncated.h5"), "wb") as out:
        out.write(data[: len(data) * 6 // 10])
    entry(m("truncated.h5"), "malicious", "truncated file", "high", "hdf5/truncated",
          "benign/keras2_model.h5 cut at 60%: the superblock's end-of-file address lies past "
          "the end")

    # Root object header beyond the end of the file (superblock 0 and 3).
    def root_far_v0(buf):
        # root symbol table entry: after 24 + 4*8 bytes; object header address is its 2nd field
        struct.pack_into("<Q", buf, 24 + 32 + 8, 1 << 40)
    patch(os.path.join(BENIGN, "keras2_weights.h5"), m("root_beyond_eof.h5"), root_far_v0)
    entry(m("root_beyond_eof.h5"), "malicious", "root group address beyond EOF (superblock 0)",
          "high", "hdf5/malformed", "the root symbol table entry's object header address is "
          "2^40 in a file of a few KB")

    def root_far_v3(buf):
        struct.pack_into("<Q", buf, 12 + 24, 1 << 40)
        fix_checksum(buf, 0, 44)
    patch(os.path.join(BENIGN, "types_latest.h5"), m("root_beyond_eof_v3.h5"), root_far_v3)
    entry(m("root_beyond_eof_v3.h5"), "malicious", "root group address beyond EOF (superblock 3)",
          "high", "hdf5/malformed", "superblock 3 root address set to 2^40, checksum "
          "recomputed so only the address is wrong")

    # An attribute whose dataspace declares 2^40 elements.
    src = t("attr.h5")
    with h5py.File(src, "w", libver="earliest") as f:
        f.attrs["hallmark_big"] = np.arange(4, dtype="f8")
        root = obj_addr(f, "/")

    def huge_attr(buf):
        for typ, data, size, _ in v1_messages(buf, root):
            if typ == 0x0C and b"hallmark_big" in buf[data:data + size]:
                nl, dl, sl = struct.unpack_from("<HHH", buf, data + 2)
                ds = data + 8 + (nl + 7) // 8 * 8 + (dl + 7) // 8 * 8
                assert buf[ds] == 1 and buf[ds + 1] == 1  # dataspace v1, rank 1
                struct.pack_into("<Q", buf, ds + 8, 1 << 40)
                return
        raise AssertionError("attribute not found")
    patch(src, m("attr_declared_2p40.h5"), huge_attr)
    entry(m("attr_declared_2p40.h5"), "malicious", "attribute declaring 2^40 elements", "high",
          "hdf5/malformed", "the root attribute hallmark_big's dataspace says 2^40 float64 "
          "elements (8 TiB) in a 32-byte value: readers that allocate what the header says die")

    # Global heap: object size past its collection, and an index that does not exist.
    src = t("gheap.h5")
    with h5py.File(src, "w", libver="earliest") as f:
        f.attrs["model_config"] = json.dumps(MLP_CONFIG).encode("utf8")
        root = obj_addr(f, "/")

    def gheap_size(buf):
        g = buf.index(b"GCOL")
        # first object: index(2) refcount(2) reserved(4) size(8) after the 16-byte header
        assert struct.unpack_from("<H", buf, g + 16)[0] == 1
        struct.pack_into("<Q", buf, g + 24, 1 << 40)
    patch(src, m("gheap_object_outside.h5"), gheap_size)
    entry(m("gheap_object_outside.h5"), "malicious", "global heap object larger than its collection",
          "high", "hdf5/malformed", "the vlen model_config's global heap object says it is 2^40 "
          "bytes long inside a 4 KiB collection")

    def gheap_index(buf):
        for typ, data, size, _ in v1_messages(buf, root):
            if typ == 0x0C and b"model_config" in buf[data:data + size]:
                # v1 attribute: name, datatype, dataspace (each padded to 8), then the
                # value: length(4) collection address(8) index(4)
                nl, dl, sl = struct.unpack_from("<HHH", buf, data + 2)
                value = data + 8 + (nl + 7) // 8 * 8 + (dl + 7) // 8 * 8 + (sl + 7) // 8 * 8
                struct.pack_into("<I", buf, value + 12, 999)
                return
        raise AssertionError("attribute not found")
    patch(src, m("gheap_bad_index.h5"), gheap_index)
    entry(m("gheap_bad_index.h5"), "malicious", "global heap id naming a missing object", "high",
          "hdf5/malformed", "model_config's heap id names object 999 of a collection that "
          "holds one object")

    # v1 B-tree with a huge entries-used count.
    def tree_used(buf):
        trees = []
        p = buf.find(b"TREE")
        while p >= 0:
            trees.append(p)
            p = buf.find(b"TREE", p + 4)
        # the root node of the largest group B-tree: highest level, then most entries
        best = max(trees, key=lambda q: (buf[q + 5], struct.unpack_from("<H", buf, q + 6)[0]))
        struct.pack_into("<H", buf, best + 6, 0xFFFF)
    patch(os.path.join(BENIGN, "big_group_earliest.h5"), m("btree_huge_entries.h5"), tree_used)
    entry(m("btree_huge_entries.h5"), "malicious", "v1 B-tree node with 65535 entries used",
          "high", "hdf5/malformed", "the root node of /many's group B-tree says 65535 entries "
          "are used; its nodes hold 32")

    def bt2_nrec(buf):
        p = 0
        best = None
        while True:
            p = buf.find(b"BTHD", p)
            if p < 0:
                break
            depth, = struct.unpack_from("<H", buf, p + 12)
            if best is None or depth > best[1]:
                best = (p, depth)
            p += 4
        h = best[0]
        # sig4 ver1 type1 node4 rec2 depth2 split1 merge1 root8 nrec2 total8 checksum4
        struct.pack_into("<H", buf, h + 24, 0xFFFF)
        fix_checksum(buf, h, h + 34)
    patch(os.path.join(BENIGN, "dense_links_latest.h5"), m("btree2_huge_records.h5"), bt2_nrec)
    entry(m("btree2_huge_records.h5"), "malicious", "v2 B-tree root with 65535 records", "high",
          "hdf5/malformed", "the link-name B-tree header of /many says its root node holds "
          "65535 records (checksum recomputed)")

    # Dense attribute whose heap id points past the heap.
    def heap_id(buf):
        # the v2 B-tree header of the attribute name index (type 8) and its root leaf
        q = buf.find(b"BTHD")
        while q >= 0 and buf[q + 5] != 8:
            q = buf.find(b"BTHD", q + 4)
        assert q >= 0
        rec, depth = struct.unpack_from("<HH", buf, q + 10)
        leaf, nrec = struct.unpack_from("<QH", buf, q + 16)
        assert depth == 0 and buf[leaf:leaf + 4] == b"BTLF"
        # record: heap id (flags, offset, length), message flags, creation order, hash;
        # set the offset bytes of the first id to a value far past the heap
        buf[leaf + 6 + 1:leaf + 6 + 5] = b"\xff\xff\xff\x7f"
        fix_checksum(buf, leaf, leaf + 6 + nrec * rec)
    patch(os.path.join(BENIGN, "dense_attrs_latest.h5"), m("dense_attr_bad_heap_id.h5"), heap_id)
    entry(m("dense_attr_bad_heap_id.h5"), "malicious", "dense attribute heap id past the heap",
          "high", "hdf5/malformed", "the first record of the root's attribute name index "
          "points at a heap offset outside the fractal heap (B-tree checksum recomputed)")

    # A header message that runs past its block.
    def msg_overrun(buf):
        root = 96  # the root object header of a superblock-0 file with 8-byte fields
        for typ, data, size, hdr in v1_messages(buf, root):
            if typ == 0x0C:
                struct.pack_into("<H", buf, hdr + 2, 0xFFF8)
                return
        raise AssertionError("no attribute")
    patch(os.path.join(BENIGN, "keras2_weights.h5"), m("message_overrun.h5"), msg_overrun)
    entry(m("message_overrun.h5"), "malicious", "header message larger than its block", "high",
          "hdf5/malformed", "the root's first attribute message says 65528 bytes in a block of "
          "a few hundred")

    # Checksum mismatch: an attribute renamed in place inside a v2 object header.
    def edit_value(buf):
        # rename the root attribute "title" inside the root's OHDR block
        typ, data, size, bstart, csum = [x for x in v2_messages(buf, 48) if x[0] == 0x0C][0]
        p = buf.index(b"title\0", data, data + size)
        buf[p:p + 5] = b"TITLE"
    patch(os.path.join(BENIGN, "types_latest.h5"), m("checksum_mismatch.h5"), edit_value)
    entry(m("checksum_mismatch.h5"), "malicious", "OHDR checksum mismatch after an edit",
          "medium", "hdf5/checksum", "the root attribute 'title' was renamed in place; the "
          "OHDR lookup3 checksum no longer matches")

    # External link and external raw storage.
    p = m("external_link.h5")
    with h5py.File(p, "w", libver="earliest") as f:
        f.create_dataset("w", data=np.arange(3, dtype="f4"))
        f["ext"] = h5py.ExternalLink("/etc/hallmark-marker.h5", "/secret")
    entry(p, "malicious", "external link to another file", "medium", "hdf5/external-link",
          "link /ext names /etc/hallmark-marker.h5:/secret; following it makes HDF5 open "
          "that file")

    cwd = os.getcwd()
    work = os.path.join(tmp, "a", "b")
    os.makedirs(work)
    os.chdir(work)  # anything HDF5 touches for the external file stays in tmp
    try:
        p = m("external_storage.h5")
        with h5py.File(p, "w", libver="earliest") as f:
            f.create_dataset("kernel", shape=(16,), dtype="u1",
                             external=[("../../hallmark-marker.bin", 0, 16)])
    finally:
        os.chdir(cwd)
    entry(p, "malicious", "dataset stored in an external file", "medium",
          "hdf5/external-storage", "dataset /kernel keeps its raw data in "
          "../../hallmark-marker.bin: reading the weights reads that path")

    # A pickle in the user block (polyglot) and a zip after the end of the HDF5 data.
    marker_pickle = (b"\x80\x02cposix\nsystem\nq\x00X\x15\x00\x00\x00echo hallmark-marker"
                     b"q\x01\x85q\x02Rq\x03.")
    p = m("userblock_pickle.h5")
    with h5py.File(p, "w", userblock_size=512) as f:
        f.create_dataset("x", data=np.arange(4, dtype="f4"))
    buf = bytearray(open(p, "rb").read())
    buf[:len(marker_pickle)] = marker_pickle
    open(p, "wb").write(bytes(buf))
    entry(p, "malicious", "pickle in the user block (polyglot)", "medium", "hdf5/userblock",
          "a pickle calling posix.system('echo hallmark-marker') fills the first bytes of a "
          "512-byte user block; HDF5 skips it, pickle loaders read it")

    p = m("trailing_zip.h5")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        info = zipfile.ZipInfo("data.pkl", date_time=(2020, 1, 1, 0, 0, 0))
        zf.writestr(info, marker_pickle)
    data = open(os.path.join(BENIGN, "keras2_weights.h5"), "rb").read()
    open(p, "wb").write(data + z.getvalue())
    entry(p, "malicious", "zip appended after the HDF5 data", "medium", "hdf5/trailing-data",
          "benign/keras2_weights.h5 followed by a zip holding the marker pickle: zip readers "
          "find it from the end, HDF5 ignores it")

    # Groups nested deeper than MaxDepth (512).
    p = m("deep_nesting.h5")
    with h5py.File(p, "w", libver="latest") as f:
        g = f
        for i in range(600):
            g = g.create_group("g")
    entry(p, "malicious", "600 nested groups", "high", "hdf5/limit",
          "a chain of 600 groups, deeper than hallmark's default MaxDepth of 512: the rest is "
          "reported as unchecked")

    # Signature and garbage.
    p = m("bad_superblock.h5")
    open(p, "wb").write(b"\x89HDF\r\n\x1a\n" + bytes([7]) + b"\x00" * 100)
    entry(p, "malicious", "superblock of unknown version", "high", "hdf5/malformed",
          "the HDF5 signature followed by superblock version 7")


def main():
    for d in (BENIGN, MALICIOUS):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    rng = make_benign()
    make_malicious(rng)
    MANIFEST.sort(key=lambda e: e["file"])
    with open(os.path.join(ROOT, "manifest.json"), "w") as out:
        out.write("[\n" + ",\n".join(json.dumps(e) for e in MANIFEST) + "\n]\n")
    print("wrote %d fixtures" % len(MANIFEST))


if __name__ == "__main__":
    main()
