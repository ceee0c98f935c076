"""Raw pickle opcode builders shared by gen_malicious.py and gen_opcodes.py.

Everything here writes bytes by hand. Nothing in this directory ever unpickles
(pickle.load/loads) what it writes; pickletools.genops, which parses without
executing, is the only reader used.

Two layers:

* byte helpers (proto, global_, stack_global, memoize, binput, tuple1, reduce,
  ...) that return the encoding of one opcode;
* Writer, a tiny pickler that turns a value tree (str, int, bytes, tuple, list,
  dict, G, Call, Build, ...) into the opcodes CPython's own pickler would use
  for protocol 0, 2 or 4, so one payload description yields the _p0, _p2 and
  _p4 fixtures.
"""

import struct

# --------------------------------------------------------------------------
# one opcode each

MARK = b"("
STOP = b"."
POP = b"0"
POP_MARK = b"1"
DUP = b"2"
NONE = b"N"
TUPLE = b"t"
LIST = b"l"
DICT = b"d"
APPEND = b"a"
APPENDS = b"e"
SETITEM = b"s"
SETITEMS = b"u"
EMPTY_TUPLE = b")"
EMPTY_LIST = b"]"
EMPTY_DICT = b"}"
REDUCE = b"R"
BUILD = b"b"
OBJ = b"o"
BINPERSID = b"Q"
TUPLE1 = b"\x85"
TUPLE2 = b"\x86"
TUPLE3 = b"\x87"
NEWTRUE = b"\x88"
NEWFALSE = b"\x89"
NEWOBJ = b"\x81"
NEWOBJ_EX = b"\x92"
STACK_GLOBAL = b"\x93"
MEMOIZE = b"\x94"
EMPTY_SET = b"\x8f"
ADDITEMS = b"\x90"
FROZENSET = b"\x91"
NEXT_BUFFER = b"\x97"
READONLY_BUFFER = b"\x98"

FRAME_SIZE_TARGET = 64 * 1024  # what CPython's pickler aims for


def proto(n):
    return b"\x80" + bytes([n])


def frame(body):
    """FRAME opcode followed by body; the declared size is len(body)."""
    return frame_header(len(body)) + body


def frame_header(size):
    return b"\x95" + struct.pack("<Q", size)


def global_(mod, name):
    """Protocol 0-3 GLOBAL: module and name as newline-terminated lines."""
    return b"c" + _line(mod) + _line(name)


def inst(mod, name):
    return b"i" + _line(mod) + _line(name)


def short_binunicode(s):
    b = s.encode("utf-8", "surrogatepass")
    assert len(b) < 256
    return b"\x8c" + bytes([len(b)]) + b


def binunicode(s):
    b = s.encode("utf-8", "surrogatepass")
    return b"X" + struct.pack("<I", len(b)) + b


def binunicode8(s):
    b = s.encode("utf-8", "surrogatepass")
    return b"\x8d" + struct.pack("<Q", len(b)) + b


def unicode_(s):
    """Protocol 0 UNICODE, escaped exactly as CPython's pickler does."""
    tmp = (s.replace("\\", "\\u005c").replace("\0", "\\u0000")
           .replace("\n", "\\u000a").replace("\r", "\\u000d")
           .replace("\x1a", "\\u001a"))
    return b"V" + tmp.encode("raw-unicode-escape") + b"\n"


def unicode_raw(text):
    """UNICODE with operand bytes given verbatim (e.g. br'\\u0073ystem')."""
    return b"V" + _raw(text) + b"\n"


def string_raw(text):
    """Protocol 0 STRING with the quoted, escaped operand given verbatim."""
    return b"S" + _raw(text) + b"\n"


def short_binstring(b):
    assert len(b) < 256
    return b"U" + bytes([len(b)]) + b


def binstring(b):
    return b"T" + struct.pack("<i", len(b)) + b


def short_binbytes(b):
    assert len(b) < 256
    return b"C" + bytes([len(b)]) + b


def binbytes(b):
    return b"B" + struct.pack("<I", len(b)) + b


def binbytes8(b):
    return b"\x8e" + struct.pack("<Q", len(b)) + b


def bytearray8(b):
    return b"\x96" + struct.pack("<Q", len(b)) + b


def stack_global(mod, name, memo=True):
    """Protocol 4+: SHORT_BINUNICODE module, name, then STACK_GLOBAL.

    With memo=True each string is memoized like CPython's pickler does
    (the caller's memo counter must account for the two MEMOIZE ops)."""
    m = MEMOIZE if memo else b""
    return short_binunicode(mod) + m + short_binunicode(name) + m + STACK_GLOBAL


def memoize():
    return MEMOIZE


def put(i):
    return b"p" + str(i).encode() + b"\n"


def get(i):
    return b"g" + str(i).encode() + b"\n"


def binput(i):
    return b"q" + bytes([i]) if i < 256 else b"r" + struct.pack("<I", i)


def binget(i):
    return b"h" + bytes([i]) if i < 256 else b"j" + struct.pack("<I", i)


def long_binput(i):
    return b"r" + struct.pack("<I", i)


def long_binget(i):
    return b"j" + struct.pack("<I", i)


def tuple1():
    return TUPLE1


def tuple2():
    return TUPLE2


def tuple3():
    return TUPLE3


def reduce():
    return REDUCE


def build():
    return BUILD


def int_(n):
    """Protocol 0 INT."""
    return b"I" + str(n).encode() + b"\n"


def long_(n):
    """Protocol 0 LONG with the trailing L CPython 2 wrote."""
    return b"L" + str(n).encode() + b"L\n"


def float_(x):
    return b"F" + repr(x).encode() + b"\n"


def binfloat(x):
    return b"G" + struct.pack(">d", x)


def binint(n):
    """Smallest of BININT1 / BININT2 / BININT / LONG1 for n."""
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if 0 <= n < 65536:
        return b"M" + struct.pack("<H", n)
    if -2**31 <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    return long1(n)


def _long_bytes(n):
    if n == 0:
        return b""
    nbytes = (n.bit_length() >> 3) + 1
    b = n.to_bytes(nbytes, "little", signed=True)
    if n < 0 and nbytes > 1 and b[-1] == 0xFF and (b[-2] & 0x80):
        b = b[:-1]
    return b


def long1(n):
    b = _long_bytes(n)
    return b"\x8a" + bytes([len(b)]) + b


def long4(n):
    b = _long_bytes(n)
    return b"\x8b" + struct.pack("<i", len(b)) + b


def ext1(code):
    return b"\x82" + bytes([code])


def ext2(code):
    return b"\x83" + struct.pack("<H", code)


def ext4(code):
    return b"\x84" + struct.pack("<i", code)


def persid(pid):
    return b"P" + _raw(pid) + b"\n"


def _raw(x):
    return x if isinstance(x, bytes) else x.encode("ascii")


def _line(x):
    return _raw(x) + b"\n"


# --------------------------------------------------------------------------
# value tree for Writer


class G:
    """A global reference module.name (dotted names allowed for protocol 4)."""

    def __init__(self, mod, name):
        self.mod, self.name = mod, name


class Call:
    """fn(*args) through REDUCE."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args


class Build:
    """target, then state, then BUILD (setstate / __dict__ update / setattr)."""

    def __init__(self, target, state):
        self.target, self.state = target, state


class Seq:
    """Emit each value, POP all but the last."""

    def __init__(self, *items):
        self.items = items


class Raw:
    """Opcode bytes written verbatim (must leave exactly one value pushed)."""

    def __init__(self, data, memo_slots=0):
        self.data, self.memo_slots = data, memo_slots


class Inst:
    """MARK args INST module name: import and call in one opcode."""

    def __init__(self, mod, name, *args):
        self.mod, self.name, self.args = mod, name, args


class Obj:
    """MARK cls args OBJ: cls(*args)."""

    def __init__(self, cls, *args):
        self.cls, self.args = cls, args


class NewObj:
    """cls args NEWOBJ: cls.__new__(cls, *args)."""

    def __init__(self, cls, *args):
        self.cls, self.args = cls, args


class NewObjEx:
    """cls args kwargs NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)."""

    def __init__(self, cls, args, kwargs):
        self.cls, self.args, self.kwargs = cls, args, kwargs


class Method:
    """An unbound method mod.Cls.meth.

    Protocol 4 reaches it with a dotted STACK_GLOBAL name (the unpickler walks
    the attribute chain); protocols 0-3 cannot resolve dotted names, so there
    it becomes builtins.getattr(mod.Cls, 'meth')."""

    def __init__(self, mod, cls, meth):
        self.mod, self.cls, self.meth = mod, cls, meth


class DynGlobal:
    """STACK_GLOBAL whose module and name operands are arbitrary values
    (results of calls, memo entries, ...) rather than string literals."""

    def __init__(self, mod, name):
        self.mod, self.name = mod, name


class Writer:
    """Emits one pickle stream for protocol 0, 2, 3, 4 or 5."""

    def __init__(self, protocol):
        self.proto = protocol
        self.chunks = []  # one entry per opcode (frame boundaries fall between)
        self.memo_len = 0
        self.globals = {}

    # memo -------------------------------------------------------------
    def memo_put(self):
        i = self.memo_len
        self.memo_len += 1
        if self.proto >= 4:
            self.op(MEMOIZE)
        elif self.proto >= 1:
            self.op(binput(i))
        else:
            self.op(put(i))
        return i

    def memo_get(self, i):
        self.op(binget(i) if self.proto >= 1 else get(i))

    def op(self, b):
        self.chunks.append(b)

    # values -----------------------------------------------------------
    def v(self, x):
        p = self.proto
        if x is None:
            self.op(NONE)
        elif x is True or x is False:
            if p >= 2:
                self.op(NEWTRUE if x else NEWFALSE)
            else:
                self.op(b"I01\n" if x else b"I00\n")
        elif isinstance(x, int):
            if p == 0:
                self.op(int_(x) if -2**31 <= x < 2**31 else long_(x))
            else:
                self.op(binint(x) if p >= 2 or -2**31 <= x < 2**31 else long_(x))
        elif isinstance(x, float):
            self.op(binfloat(x) if p >= 1 else float_(x))
        elif isinstance(x, str):
            if p == 0:
                self.op(unicode_(x))
            elif p >= 4 and len(x.encode("utf-8")) < 256:
                self.op(short_binunicode(x))
            else:
                self.op(binunicode(x))
            self.memo_put()
        elif isinstance(x, bytes):
            if p >= 3:
                self.op(short_binbytes(x) if len(x) < 256 else binbytes(x))
                self.memo_put()
            else:
                # what CPython's pickler writes for bytes below protocol 3
                self.v(Call(G("_codecs", "encode"), x.decode("latin-1"), "latin1"))
        elif isinstance(x, tuple):
            self.tuple_(x)
        elif isinstance(x, list):
            self.list_(x)
        elif isinstance(x, dict):
            self.dict_(x)
        elif isinstance(x, G):
            self.global_ref(x.mod, x.name)
        elif isinstance(x, Method):
            if p >= 4:
                self.global_ref(x.mod, x.cls + "." + x.meth)
            else:
                self.v(Call(G("builtins", "getattr"), G(x.mod, x.cls), x.meth))
        elif isinstance(x, DynGlobal):
            self.v(x.mod)
            self.v(x.name)
            self.op(STACK_GLOBAL)
            self.memo_put()
        elif isinstance(x, Call):
            self.v(x.fn)
            self.tuple_(x.args)
            self.op(REDUCE)
            self.memo_put()
        elif isinstance(x, Build):
            self.v(x.target)
            self.v(x.state)
            self.op(BUILD)
        elif isinstance(x, Seq):
            for i, item in enumerate(x.items):
                self.v(item)
                if i != len(x.items) - 1:
                    self.op(POP)
        elif isinstance(x, Raw):
            self.op(x.data)
            self.memo_len += x.memo_slots
        elif isinstance(x, Inst):
            self.op(MARK)
            for a in x.args:
                self.v(a)
            self.op(inst(x.mod, x.name))
            self.memo_put()
        elif isinstance(x, Obj):
            assert p >= 1, "OBJ is a protocol 1 opcode"
            self.op(MARK)
            self.v(x.cls)
            for a in x.args:
                self.v(a)
            self.op(OBJ)
            self.memo_put()
        elif isinstance(x, NewObj):
            assert p >= 2, "NEWOBJ is a protocol 2 opcode"
            self.v(x.cls)
            self.tuple_(x.args)
            self.op(NEWOBJ)
            self.memo_put()
        elif isinstance(x, NewObjEx):
            assert p >= 4, "NEWOBJ_EX is a protocol 4 opcode"
            self.v(x.cls)
            self.tuple_(x.args)
            self.dict_(x.kwargs)
            self.op(NEWOBJ_EX)
            self.memo_put()
        else:
            raise TypeError("cannot emit %r" % (x,))

    def global_ref(self, mod, name):
        key = (mod, name)
        if key in self.globals:
            self.memo_get(self.globals[key])
            return
        if self.proto >= 4:
            self.v(mod)
            self.v(name)
            self.op(STACK_GLOBAL)
        else:
            self.op(global_(mod, name))
        self.globals[key] = self.memo_put()

    def tuple_(self, items):
        p = self.proto
        if not items:
            self.op(EMPTY_TUPLE if p >= 1 else MARK + TUPLE)
            return
        if p >= 2 and len(items) <= 3:
            for a in items:
                self.v(a)
            self.op((TUPLE1, TUPLE2, TUPLE3)[len(items) - 1])
        else:
            self.op(MARK)
            for a in items:
                self.v(a)
            self.op(TUPLE)
        self.memo_put()

    def list_(self, items):
        if self.proto == 0:
            self.op(MARK + LIST)
            self.memo_put()
            for a in items:
                self.v(a)
                self.op(APPEND)
            return
        self.op(EMPTY_LIST)
        self.memo_put()
        if len(items) == 1:
            self.v(items[0])
            self.op(APPEND)
        elif items:
            self.op(MARK)
            for a in items:
                self.v(a)
            self.op(APPENDS)

    def dict_(self, d):
        if self.proto == 0:
            self.op(MARK + DICT)
            self.memo_put()
            for k, val in d.items():
                self.v(k)
                self.v(val)
                self.op(SETITEM)
            return
        self.op(EMPTY_DICT)
        self.memo_put()
        if len(d) == 1:
            (k, val), = d.items()
            self.v(k)
            self.v(val)
            self.op(SETITEM)
        elif d:
            self.op(MARK)
            for k, val in d.items():
                self.v(k)
                self.v(val)
            self.op(SETITEMS)

    # output -----------------------------------------------------------
    def body(self):
        """Opcode chunks without PROTO/FRAME, STOP included."""
        return b"".join(self.chunks) + STOP

    def finish(self):
        """The complete stream: PROTO (2+), frames (4+), opcodes, STOP."""
        chunks = self.chunks + [STOP]
        head = proto(self.proto) if self.proto >= 2 else b""
        if self.proto < 4:
            return head + b"".join(chunks)
        return head + framed(chunks)


def framed(chunks):
    """Group opcode chunks into FRAMEs the way CPython's pickler does."""
    out, cur = [], []
    size = 0
    for c in chunks:
        cur.append(c)
        size += len(c)
        if size >= FRAME_SIZE_TARGET:
            out.append(_commit(cur))
            cur, size = [], 0
    if cur:
        out.append(_commit(cur))
    return b"".join(out)


def _commit(chunks):
    body = b"".join(chunks)
    return frame(body) if len(body) >= 4 else body


def dump(protocol, value):
    """One complete pickle stream of value at protocol."""
    w = Writer(protocol)
    w.v(value)
    return w.finish()
