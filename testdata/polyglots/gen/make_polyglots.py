#!/usr/bin/env python3
"""Builds testdata/polyglots: files that one reader sees as one format and
the loader that matters as another (found by red-teaming hallmark's format
dispatch). Each is derived from a fixture of another corpus; payloads are
those fixtures' inert markers.

Run from the repository root:  /usr/bin/python3 testdata/polyglots/gen/make_polyglots.py
(needs h5py and onnx, as Debian's python3-h5py and python3-onnx provide).
"""
import bz2
import gzip
import json
import os

import h5py
import onnx

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TD = os.path.join(ROOT, "..")


def read(p):
    with open(os.path.join(TD, p), "rb") as f:
        return f.read()


def write(name, data):
    with open(os.path.join(ROOT, name), "wb") as f:
        f.write(data)


def h5_with_userblock(src, dst, block):
    """Copies an HDF5 file into one with a 512-byte user block, then fills
    the block: HDF5 finds its superblock at 512 whatever the block holds."""
    tmp = os.path.join(ROOT, dst)
    with h5py.File(os.path.join(TD, src), "r") as s, h5py.File(tmp, "w", userblock_size=512, libver="earliest") as d:
        for k, v in s.attrs.items():
            d.attrs[k] = v
        for k in s:
            s.copy(k, d)
    assert len(block) <= 512
    with open(tmp, "r+b") as f:
        f.write(block)


def main():
    manifest = []

    def case(name, trick, minsev, expect, note):
        manifest.append({"file": name, "kind": "malicious", "trick": trick, "expect_min_severity": minsev,
                         "expect": expect, "note": note})

    lam = "keras/malicious/lambda_top_tf215.h5"
    h5_with_userblock(lam, "h5_userblock_gzip.h5", gzip.compress(b"hello", mtime=0))
    case("h5_userblock_gzip.h5", "gzip in an HDF5 user block", "critical", "keras/lambda",
         "Keras 2 .h5 with a Lambda behind a 512-byte user block that starts with a gzip stream: content sniffing says gzip, h5py reads the model")
    h5_with_userblock(lam, "h5_userblock_npy.h5", b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }" + b" " * 46 + b"\n")
    case("h5_userblock_npy.h5", "npy header in an HDF5 user block", "critical", "keras/lambda", "the same behind a .npy header")
    h5_with_userblock(lam, "h5_userblock_bzip2.h5", bz2.compress(b"hello"))
    case("h5_userblock_bzip2.h5", "bzip2 in an HDF5 user block", "critical", "keras/lambda", "the same behind a bzip2 stream")

    keras = read("keras/malicious/lambda_top.keras")
    write("keras_gzip_prefix.keras", gzip.compress(b"hello", mtime=0) + keras)
    case("keras_gzip_prefix.keras", "zip behind a gzip prefix", "critical", "keras/lambda",
         "Python's zipfile (Keras 3's loader) finds the directory at the end and ignores the prefix")

    ext = read("onnx/malicious/ext_abs_etc_passwd.onnx")
    write("onnx_json_prefix.onnx", b'{"\x00|' + ext)
    case("onnx_json_prefix.onnx", "ONNX behind a JSON-looking prefix", "high", "onnx/external-data-path",
         "the prefix is an unknown protobuf group: onnx.load keeps it, content sniffing says JSON")
    # PROTO 4, BININT1 74, STOP is a complete pickle; as protobuf it is an
    # unknown varint field 64 and an unknown 46-byte field 9.
    write("onnx_pickle_prefix.bin", b"\x80\x04KJ." + b" " * 46 + ext)
    case("onnx_pickle_prefix.bin", "ONNX behind a pickle, neutral name", "high", "onnx/external-data-path",
         "pickle.loads returns 74; onnx.load reads the model with /etc/passwd as external data")
    m = onnx.load_from_string(ext)
    graph = m.graph.SerializeToString()
    m.ClearField("graph")
    rest = m.SerializeToString()

    def varint(n):
        out = b""
        while True:
            b = n & 0x7F
            n >>= 7
            if n:
                out += bytes([b | 0x80])
            else:
                return out + bytes([b])
    write("onnx_graph_first.bin", b"\x3a" + varint(len(graph)) + graph + rest)
    case("onnx_graph_first.bin", "ONNX with the graph before ir_version", "high", "onnx/external-data-path",
         "protobuf fields may come in any order; onnx.load and the checker accept it")

    sm = read("tf/malicious/readfile_writefile_main_graph/saved_model.pb")
    os.makedirs(os.path.join(ROOT, "tf_json_prefix"), exist_ok=True)
    write("tf_json_prefix/saved_model.pb", b'{"\x00|' + sm)
    case("tf_json_prefix/saved_model.pb", "SavedModel behind a JSON-looking prefix", "high", "tf/file-op",
         "an unknown protobuf group first: TensorFlow's parser keeps it")

    with open(os.path.join(ROOT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(c) for c in manifest) + "\n]\n")


if __name__ == "__main__":
    main()
