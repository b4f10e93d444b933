#!/usr/bin/env python3
"""Reads an mbn checkpoint with nothing but the Python standard library, following
docs/CHECKPOINT_FORMAT.md byte by byte (an independent check of that document), and prints the
config, tensors and meta as JSON:

  tests/ckpt_inspect.py FILE.ckpt [--values]     (--values also prints every float)

Exit status 1 with "ckpt_inspect: FILE: what" on stderr for a file the format refuses.
"""
import json
import math
import struct
import sys
import zlib

MAGIC = b"MBNCKPT\0"


class Refused(Exception):
    pass


def parse(data, with_values=False):
    if data[:8] != MAGIC[: len(data[:8])]:
        raise Refused("bad magic")
    if len(data) < 44:
        raise Refused("truncated")
    version, flags, raw_n, comp_n, reserved, hcrc = struct.unpack_from("<IIQQII", data, 8)
    if zlib.crc32(data[:36]) != hcrc:
        raise Refused("header checksum mismatch")
    if version != 1:
        raise Refused(f"format version {version} not supported")
    if flags or reserved:
        raise Refused("unknown header flags")
    if len(data) != 44 + comp_n:
        raise Refused(f"size {len(data)} != {44 + comp_n}")
    (fcrc,) = struct.unpack_from("<I", data, 40 + comp_n)
    if zlib.crc32(data[: 40 + comp_n]) != fcrc:
        raise Refused("checksum mismatch")
    d = zlib.decompressobj()
    raw = d.decompress(data[40 : 40 + comp_n], raw_n + 1)
    if not d.eof or d.unused_data or len(raw) != raw_n:
        raise Refused("payload size differs from the header")

    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from(fmt, raw, pos)
        pos += struct.calcsize(fmt)
        return vals

    def take_bytes(n):
        nonlocal pos
        if pos + n > len(raw):
            raise Refused("payload too short")
        b = raw[pos : pos + n]
        pos += n
        return b

    alpha, resolution, num_classes, bn_eps = take("<fiif")
    out = {"version": version, "config": {"alpha": alpha, "resolution": resolution,
                                          "num_classes": num_classes, "bn_eps": bn_eps},
           "tensors": [], "meta": {}}
    (n_tensors,) = take("<I")
    for _ in range(n_tensors):
        (nl,) = take("<H")
        name = take_bytes(nl).decode()
        ndim, dtype = take("<BB")
        if ndim > 4 or dtype != 0:
            raise Refused(f"tensor {name}: bad rank or dtype")
        shape = list(take(f"<{ndim}Q"))
        numel = math.prod(shape)
        planes = take_bytes(4 * numel)
        entry = {"name": name, "shape": shape}
        if with_values:
            words = bytes(b for i in range(numel) for b in (planes[i], planes[numel + i],
                                                             planes[2 * numel + i],
                                                             planes[3 * numel + i]))
            entry["values"] = list(struct.unpack(f"<{numel}f", words))
        out["tensors"].append(entry)
    (n_meta,) = take("<I")
    for _ in range(n_meta):
        (kl,) = take("<B")
        key = take_bytes(kl).decode()
        (typ,) = take("<B")
        if typ == 0:
            (v,) = take("<q")
        elif typ == 1:
            (v,) = take("<d")
        elif typ == 2:
            (sl,) = take("<I")
            v = take_bytes(sl).decode()
        else:
            raise Refused("unknown meta type")
        out["meta"][key] = v
    if pos != len(raw):
        raise Refused("extra bytes after the payload")
    return out


def main():
    args = [a for a in sys.argv[1:] if a != "--values"]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(args[0], "rb") as f:
            doc = parse(f.read(), "--values" in sys.argv)
    except (Refused, struct.error, zlib.error, UnicodeDecodeError) as e:
        print(f"ckpt_inspect: {args[0]}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
