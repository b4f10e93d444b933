#!/usr/bin/env python3
"""Writes the first N images of an MNIST-format IDX file as PNG files, as a user would save
them to classify with `mbn infer`: python3 idx_to_png.py IMAGES.gz OUTDIR N [gray|rgb|rgb-big]

  gray     8-bit grayscale PNGs, 28x28 (the IDX pixels exactly)
  rgb      8-bit RGB PNGs with the gray value in all three channels (same pixels)
  rgb-big  RGB, each pixel repeated 4x4 (112x112): a larger picture of the same image

Files are OUTDIR/img_00000.png ...; their paths are printed one per line. Standard library only
(zlib, struct), so it runs with any python3."""
import gzip
import os
import struct
import sys
import zlib


def png(path, width, height, channels, rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    color = {1: 0, 3: 2}[channels]
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def main():
    src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else "gray"
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rb") as f:
        data = f.read()
    magic, count, h, w = struct.unpack(">IIII", data[:16])
    assert magic == 0x803, "not an IDX image file"
    os.makedirs(out, exist_ok=True)
    for i in range(min(n, count)):
        px = data[16 + i * h * w:16 + (i + 1) * h * w]
        rows = [px[y * w:(y + 1) * w] for y in range(h)]
        path = os.path.join(out, "img_%05d.png" % i)
        if mode == "gray":
            png(path, w, h, 1, rows)
        elif mode == "rgb":
            png(path, w, h, 3, [bytes(v for p in r for v in (p, p, p)) for r in rows])
        elif mode == "rgb-big":
            big = [bytes(v for p in r for v in (p, p, p) * 4) for r in rows for _ in range(4)]
            png(path, 4 * w, 4 * h, 3, big)
        else:
            sys.exit("unknown mode " + mode)
        print(path)


if __name__ == "__main__":
    main()
