#!/usr/bin/env python3
"""Write testdata/pickles/opcodes/: small benign pickles that together use all
68 opcodes of protocols 0-5, each X.pkl with X.ops.json, the opcode listing
pickletools.genops produces for it (genops parses; nothing is unpickled).

X.ops.json is a JSON array of {"pos": int, "op": name, "arg": value}:
  arg is null when the opcode has no argument; str arguments are JSON
  strings; bytes/bytearray are "hex:" + lowercase hex; bool (INT 01/00) is
  "True"/"False"; int is its exact decimal string; float is repr(x).
Files named err_*.pkl are decoder edge cases genops rejects: their listing
holds the ops genops yielded before failing, then {"error": str(exception)}.

    python3 testdata/pickles/gen/gen_opcodes.py
"""

import io
import json
import os
import pickletools
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from opbytes import (  # noqa: E402
    ADDITEMS, APPEND, APPENDS, BINPERSID, BUILD, DICT, DUP, EMPTY_DICT,
    EMPTY_LIST, EMPTY_SET, EMPTY_TUPLE, FROZENSET, LIST, MARK, MEMOIZE,
    NEWFALSE, NEWOBJ, NEWOBJ_EX, NEWTRUE, NEXT_BUFFER, NONE, POP, POP_MARK,
    READONLY_BUFFER, REDUCE, SETITEM, SETITEMS, STACK_GLOBAL, STOP, TUPLE,
    TUPLE1, TUPLE2, TUPLE3, OBJ, binbytes, binbytes8, binfloat, binget, binint,
    binput, binstring, binunicode, binunicode8, bytearray8, ext1, ext2, ext4,
    frame, global_, inst, long1, long4, long_binget, long_binput, persid,
    proto, short_binbytes, short_binstring, short_binunicode,
)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "opcodes"))

FILES = {}


def add(name, data):
    assert name not in FILES, name
    FILES[name] = data


# --------------------------------------------------------------------------
# protocol 0: text opcodes with odd but valid operand spellings

add("p0_int_long_float", b"".join([
    MARK + LIST + b"p0\n",
    b"I01\n", APPEND,            # INT 01 -> True
    b"I00\n", APPEND,            # INT 00 -> False
    b"I+42\n", APPEND,
    b"I-7\n", APPEND,
    b"I0\n", APPEND,
    b"I2147483648\n", APPEND,    # beyond 32 bits, still INT
    b"L123456789012345678901234567890L\n", APPEND,
    b"L-5L\n", APPEND,
    b"L5\n", APPEND,             # LONG without the trailing L
    b"L0L\n", APPEND,
    b"F1e-3\n", APPEND,
    b"F-2.5E+10\n", APPEND,
    b"F0.1\n", APPEND,
    b"Finf\n", APPEND,
    b"F-0.0\n", APPEND,
    NONE, APPEND,
    STOP,
]))

add("p0_string_unicode", b"".join([
    MARK + LIST + b"p0\n",
    b"S'abc'\n", APPEND,
    b'S"double quoted"\n', APPEND,
    b"S'\\x41\\n\\''\n", APPEND,           # \x41 \n \' escapes -> "A\n'"
    b'S"tab\\there \\\\ back \\"q\\""\n', APPEND,
    b"S''\n", APPEND,
    b"Vplain\n", APPEND,
    b"V\\u0068allmark \\u20ac \\U0001f600 caf\xe9\n", APPEND,  # raw-unicode-escape
    b"V\\u005cu0041\n", APPEND,            # escaped backslash, then literal u0041
    b"V\n", APPEND,
    STOP,
]))

add("p0_memo", b"".join([
    MARK + LIST + b"p0\n",
    b"Vitem\n", b"p007\n", APPEND,         # PUT key spelled 007
    b"g007\n", APPEND,
    b"I5\n", b"p+3\n", APPEND,            # PUT key with a sign
    b"g3\n", APPEND,
    b"Vx\n", b"p1000000\n", APPEND,
    b"g1000000\n", APPEND,
    DUP, POP,
    STOP,
]))

add("p0_containers", b"".join([
    MARK + DICT + b"p0\n",
    b"Vtuple\n", MARK, b"I1\nI2\n", TUPLE, SETITEM,
    b"Vempty\n", MARK + TUPLE, SETITEM,
    b"Vlist\n", MARK + LIST + b"p1\n", b"I1\n", APPEND, b"I2\n", APPEND, SETITEM,
    b"Vdict\n", MARK + DICT + b"p2\n", b"Vk\nVv\n", SETITEM, SETITEM,
    b"Vlist_mark\n", MARK, b"I1\nI2\n", LIST, SETITEM,
    b"Vdict_mark\n", MARK, b"Va\nI1\n", DICT, SETITEM,
    STOP,
]))

add("p0_global_reduce_build_inst", b"".join([
    MARK + LIST + b"p0\n",
    global_("collections", "OrderedDict"), b"p1\n",
    MARK, MARK + LIST, MARK, b"Va\nI1\n", TUPLE, APPEND, TUPLE, REDUCE, b"p2\n",
    MARK + DICT, b"Vnote\nVhallmark\n", SETITEM, BUILD,
    APPEND,
    MARK, b"F1.0\nF2.0\n", inst("builtins", "complex"), APPEND,
    STOP,
]))

add("p0_persid", b"".join([
    MARK + LIST + b"p0\n",
    persid("hallmark-pid-1"), APPEND,
    persid("pid with spaces"), APPEND,
    STOP,
]))

add("p0_global_crlf", b"".join([
    b"ccollections\r\nOrderedDict\r\n",    # operands keep the \r (CPython does not strip it)
    MARK + TUPLE, REDUCE,
    STOP,
]))

# --------------------------------------------------------------------------
# protocol 1: binary opcodes, no PROTO

add("p1_binary", b"".join([
    EMPTY_LIST, binput(0),
    MARK,
    b"K\x05",                                  # BININT1
    b"M\x34\x12",                              # BININT2
    b"J\xff\xff\xff\xff",                      # BININT -1
    b"J\x00\x00\x00\x80",                      # BININT -2**31
    binfloat(1.5),
    short_binstring(b"abc"),
    binstring(b"abcd"),
    binunicode("h\u00e9llo"),
    EMPTY_TUPLE,
    EMPTY_DICT, long_binput(256),
    long_binget(256),
    binunicode("k"), binput(1), binget(1),
    APPENDS,
    EMPTY_DICT, MARK, binunicode("a"), binint(1), binunicode("b"), binint(2), SETITEMS,
    APPEND,
    MARK, binint(1), binint(2), POP_MARK,
    MARK, global_("builtins", "complex"), binfloat(1.0), binfloat(2.0), OBJ, APPEND,
    binunicode("hallmark-pid-2"), BINPERSID, APPEND,
    STOP,
]))

# --------------------------------------------------------------------------
# protocol 2

add("p2_ops", b"".join([
    proto(2), EMPTY_LIST, binput(0), MARK,
    binint(1), TUPLE1,
    binint(1), binint(2), TUPLE2,
    binint(1), binint(2), binint(3), TUPLE3,
    NEWTRUE, NEWFALSE,
    b"\x8a\x00",                               # LONG1 of length 0 == 0
    long1(-1),
    long1(2**64),
    long4(-(2**100) + 7),
    global_("types", "SimpleNamespace"), binput(1), EMPTY_TUPLE, NEWOBJ,
    EMPTY_DICT, binunicode("a"), binint(1), SETITEM, BUILD,
    APPENDS,
    STOP,
]))

add("p2_ext", b"".join([
    proto(2), EMPTY_LIST, MARK,
    ext1(0x01), ext2(0x1234), ext4(0x12345678),
    APPENDS,
    STOP,
]))

# --------------------------------------------------------------------------
# protocol 3

add("p3_bytes", b"".join([
    proto(3), EMPTY_LIST, binput(0), MARK,
    short_binbytes(b"abc"),
    binbytes(b"hello\x00\xff"),
    short_binbytes(b""),
    APPENDS,
    STOP,
]))

# --------------------------------------------------------------------------
# protocol 4

add("p4_ops", proto(4) + frame(b"".join([
    EMPTY_LIST, MEMOIZE, MARK,
    short_binunicode("hello"), MEMOIZE,
    binunicode8("long form"), MEMOIZE,
    binbytes8(b"bytes8"), MEMOIZE,
    EMPTY_SET, MEMOIZE, MARK, binint(1), binint(2), binint(3), ADDITEMS,
    MARK, binint(1), binint(2), FROZENSET, MEMOIZE,
    short_binunicode("collections"), MEMOIZE, short_binunicode("OrderedDict"), MEMOIZE,
    STACK_GLOBAL, MEMOIZE, EMPTY_TUPLE, REDUCE, MEMOIZE,
    short_binunicode("types"), MEMOIZE, short_binunicode("SimpleNamespace"), MEMOIZE,
    STACK_GLOBAL, MEMOIZE, EMPTY_TUPLE, EMPTY_DICT, MEMOIZE,
    short_binunicode("a"), MEMOIZE, binint(1), SETITEM, NEWOBJ_EX, MEMOIZE,
    binget(0),
    APPENDS,
    STOP,
])))

# --------------------------------------------------------------------------
# protocol 5

add("p5_buffers", proto(5) + frame(b"".join([
    EMPTY_LIST, MEMOIZE, MARK,
    bytearray8(b"bytearray"),
    NEXT_BUFFER,
    NEXT_BUFFER, READONLY_BUFFER,
    APPENDS,
    STOP,
])))

# --------------------------------------------------------------------------
# decoder edge cases that pickletools.genops rejects

add("err_truncated_operand", proto(2) + b"X" + struct.pack("<I", 16) + b"abc")
add("err_no_newline", b"S'abc")
add("err_unknown_opcode_ff", proto(2) + NONE + b"\xff" + STOP)
add("err_negative_binstring_len", b"T" + struct.pack("<i", -1) + b"abc" + STOP)
add("err_negative_long4_len", proto(2) + b"\x8b" + struct.pack("<i", -2) + STOP)
add("err_binunicode8_2p63", proto(4) + b"\x8d" + struct.pack("<Q", 2**63) + b"abc" + STOP)
add("err_binbytes8_2p63", proto(4) + b"\x8e" + struct.pack("<Q", 2**63) + b"abc" + STOP)
add("err_bytearray8_2p63", proto(5) + b"\x96" + struct.pack("<Q", 2**63) + b"abc" + STOP)
add("err_binbytes8_maxsize", proto(4) + b"\x8e" + struct.pack("<Q", 2**63 - 1) + b"abc" + STOP)
add("err_int_hex", b"I0x10\n" + STOP)  # CPython's unpickler parses INT with base 0 (16); genops does not
add("err_string_unquoted", b"Sabc\n" + STOP)
add("err_global_invalid_utf8", b"c\xff\nname\n" + STOP)
add("err_empty", b"")
add("err_no_stop", proto(2) + NONE)


# --------------------------------------------------------------------------


def arg_json(arg):
    if arg is None:
        return None
    if isinstance(arg, bool):
        return str(arg)
    if isinstance(arg, int):
        return str(arg)
    if isinstance(arg, float):
        return repr(arg)
    if isinstance(arg, str):
        return arg
    if isinstance(arg, (bytes, bytearray)):
        return "hex:" + bytes(arg).hex()
    raise TypeError("unexpected genops argument %r" % (arg,))


def listing(data):
    ops, error, end = [], None, 0
    f = io.BytesIO(data)
    try:
        for op, arg, pos in pickletools.genops(f):
            ops.append({"pos": pos, "op": op.name, "arg": arg_json(arg)})
        end = f.tell()
    except Exception as e:  # genops raises ValueError, UnicodeDecodeError, ...
        error = str(e)
    return ops, error, end


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith((".pkl", ".ops.json")):
            os.remove(os.path.join(OUT, old))
    seen = set()
    for name in sorted(FILES):
        data = FILES[name]
        ops, error, end = listing(data)
        if name.startswith("err_"):
            assert error is not None, name + ": genops accepted it"
            ops.append({"error": error})
        else:
            assert error is None, "%s: %s" % (name, error)
            assert end == len(data), "%s: %d bytes after STOP" % (name, len(data) - end)
            seen.update(op["op"] for op in ops)
        with open(os.path.join(OUT, name + ".pkl"), "wb") as f:
            f.write(data)
        with open(os.path.join(OUT, name + ".ops.json"), "w") as f:
            f.write("[\n" + ",\n".join(json.dumps(o) for o in ops) + "\n]\n")
    missing = sorted({o.name for o in pickletools.opcodes} - seen)
    assert not missing, "opcodes not exercised: %s" % missing
    print("wrote %d pickles covering all %d opcodes to %s"
          % (len(FILES), len(pickletools.opcodes), OUT))


if __name__ == "__main__":
    main()
