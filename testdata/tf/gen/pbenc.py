"""A minimal protobuf encoder (Python standard library only) and builders for the
TensorFlow messages the fixtures need. Field numbers follow tensorflow/core/framework
(graph, node_def, function, attr_value, tensor, tensor_shape, op_def, versions),
tensorflow/core/protobuf (saved_model, meta_graph, saver, saved_object_graph,
fingerprint) and keras/protobuf/saved_metadata.proto.

Fields are written in field-number order and map entries sorted by key, as
protobuf's deterministic serialization does, so output is byte-identical run to run.
"""
import struct

VARINT, I64, LEN, I32 = 0, 1, 2, 5

DT_FLOAT, DT_INT32, DT_STRING, DT_INT64, DT_BOOL, DT_RESOURCE = 1, 3, 7, 9, 10, 20


def varint(v):
    if v < 0:
        v += 1 << 64
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def tag(num, wt):
    return varint((num << 3) | wt)


def fv(num, v):
    """varint field; zero values are omitted (proto3)"""
    if v in (0, False, None):
        return b""
    return tag(num, VARINT) + varint(int(v))


def fb(num, data):
    if data is None:
        return b""
    if isinstance(data, str):
        data = data.encode()
    return tag(num, LEN) + varint(len(data)) + data


def fs(num, s):
    """string field; empty strings are omitted (proto3)"""
    return fb(num, s) if s else b""


def fm(num, *parts):
    return fb(num, b"".join(parts))


def ff32(num, v):
    return tag(num, I32) + struct.pack("<f", v)


def packed(num, values):
    return fb(num, b"".join(varint(v) for v in values)) if values else b""


def mapf(num, entries):
    """map<string, message-bytes or str>: entries is a dict key -> bytes (already encoded value message) or str"""
    out = b""
    for k in sorted(entries):
        v = entries[k]
        val = fb(2, v) if isinstance(v, (bytes, str)) else b""
        out += fm(num, fs(1, k), val)
    return out


# ---------------------------------------------------------------- framework

def shape(dims=None, unknown_rank=False):
    if unknown_rank:
        return fv(3, 1)
    return b"".join(fm(2, fv(1, d)) for d in (dims or []))


def tensor(dtype, dims=(), content=None, strings=None, ints=None, floats=None):
    out = fv(1, dtype) + fm(2, shape(list(dims)))
    if content is not None:
        out += fb(4, content)
    if floats:
        out += fb(5, b"".join(struct.pack("<f", f) for f in floats))
    if ints:
        out += packed(7, ints)
    for s in strings or []:
        out += fb(8, s)
    return out


# AttrValue
def a_s(s):
    return fb(2, s)


def a_i(i):
    return tag(3, VARINT) + varint(i)


def a_b(b):
    return tag(5, VARINT) + varint(1 if b else 0)


def a_type(t):
    return tag(6, VARINT) + varint(t)


def a_shape(dims=None, unknown_rank=False):
    return fm(7, shape(dims, unknown_rank))


def a_tensor(t):
    return fm(8, t)


def a_func(name, attrs=None):
    return fm(10, fs(1, name), mapf(2, attrs or {}))


def a_list(types=None, shapes=None, strings=None, ints=None, funcs=None):
    body = b""
    for s in strings or []:
        body += fb(2, s)
    if ints:
        body += packed(3, ints)
    if types:
        body += packed(6, types)
    for sh in shapes or []:
        body += fm(7, sh)
    for f in funcs or []:
        body += fm(9, fs(1, f))
    return fm(1, body)


def node(name, op, inputs=(), attrs=None, device=""):
    return fs(1, name) + fs(2, op) + b"".join(fb(3, i) for i in inputs) + fs(4, device) + mapf(5, attrs or {})


def const_str(name, value, dims=()):
    values = value if isinstance(value, list) else [value]
    return node(name, "Const", attrs={"dtype": a_type(DT_STRING),
                                      "value": a_tensor(tensor(DT_STRING, dims, strings=values))})


def const_int(name, v):
    return node(name, "Const", attrs={"dtype": a_type(DT_INT32), "value": a_tensor(tensor(DT_INT32, ints=[v]))})


def arg(name, dtype=None, type_attr=None):
    return fs(1, name) + fv(3, dtype) + fs(4, type_attr)


def opdef(name, inputs=(), outputs=(), attrs=(), stateful=False):
    return (fs(1, name) + b"".join(fm(2, a) for a in inputs) + b"".join(fm(3, a) for a in outputs)
            + b"".join(fm(4, fs(1, n) + fs(2, t)) for n, t in attrs) + fv(17, stateful))


def function(name, inputs, outputs, nodes, ret, stateful=True, control_ret=None, attrs=None):
    sig = (fs(1, name) + b"".join(fm(2, a) for a in inputs) + b"".join(fm(3, a) for a in outputs)
           + fv(17, stateful) + b"".join(fs(20, c) for c in (control_ret or {})))
    return (fm(1, sig) + b"".join(fm(3, n) for n in nodes) + mapf(4, ret) + mapf(5, attrs or {})
            + mapf(6, control_ret or {}))


def graph_def(nodes, functions=(), producer=1482, min_consumer=12):
    lib = b"".join(fm(1, f) for f in functions)
    return (b"".join(fm(1, n) for n in nodes) + (fm(2, lib) if lib else b"")
            + fm(4, fv(1, producer) + fv(2, min_consumer)))


# ---------------------------------------------------------------- protobuf/

def tensor_info(name, dtype, dims=None, unknown_rank=False):
    return fs(1, name) + fv(2, dtype) + fm(3, shape(dims, unknown_rank))


def signature(inputs, outputs, method):
    return mapf(1, inputs) + mapf(2, outputs) + fs(3, method)


def meta_info(ops, tags, tf_version, git_version):
    return (fm(2, b"".join(fm(1, o) for o in ops)) + b"".join(fs(4, t) for t in tags)
            + fs(5, tf_version) + fs(6, git_version) + fv(7, True))


def saver_def(filename, save, restore, version=2, max_to_keep=0, sharded=False, keep_hours=None):
    out = fs(1, filename) + fs(2, save) + fs(3, restore) + fv(4, max_to_keep) + fv(5, sharded)
    if keep_hours:
        out += ff32(6, keep_hours)
    return out + fv(7, version)


def meta_graph(info, graph, saver=None, collections=None, signatures=None, assets=(), object_graph=None):
    return (fm(1, info) + fm(2, graph) + (fm(3, saver) if saver else b"") + mapf(4, collections or {})
            + mapf(5, signatures or {}) + b"".join(fm(6, a) for a in assets)
            + (fm(7, object_graph) if object_graph else b""))


def saved_model(*meta_graphs):
    return fv(1, 1) + b"".join(fm(2, m) for m in meta_graphs)


def version_def(producer, min_consumer=0):
    return fv(1, producer) + fv(2, min_consumer)


def saved_object(children=(), user_object=None, variable=None, function_names=None, bare=None):
    out = b"".join(fm(1, fv(1, nid) + fs(2, local)) for nid, local in children)
    if user_object is not None:
        ident, metadata = user_object
        out += fm(4, fs(1, ident) + fm(2, version_def(1, 1)) + fs(3, metadata))
    if function_names is not None:
        out += fm(6, b"".join(fs(1, n) for n in function_names))
    if variable is not None:
        dtype, dims, name = variable
        out += fm(7, fv(1, dtype) + fm(2, shape(dims)) + fv(3, True) + fs(6, name))
    return out


def object_graph(nodes, concrete=()):
    return b"".join(fm(1, n) for n in nodes) + mapf(2, {c: fv(2, 0) or b"" for c in concrete})


def keras_object(node_id, path, identifier, metadata):
    return fm(1, version_def(2, 1)) + fv(2, node_id) + fs(3, path) + fs(4, identifier) + fs(5, metadata)


def saved_metadata(objects):
    return b"".join(fm(1, o) for o in objects)


def fingerprint(checksum, graph_hash, sig_hash, obj_hash, ckpt_hash, producer=1):
    return (fv(1, checksum) + fv(2, graph_hash) + fv(3, sig_hash) + fv(4, obj_hash) + fv(5, ckpt_hash)
            + fm(6, version_def(producer)))
