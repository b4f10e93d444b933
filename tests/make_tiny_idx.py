#!/usr/bin/env python3
"""Writes a small MNIST-format data set (the first N train and M test images of Fashion-MNIST)
into a folder, for fast end-to-end CLI tests: python3 make_tiny_idx.py OUT [N] [M]."""
import gzip, os, struct, sys

SRC = "/usr/share/datasets/fashion-mnist"

def subset(name, count, out, gz=True):
    with gzip.open(os.path.join(SRC, name + ".gz"), "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        body = data[16:16 + count * rows * cols]
        head = struct.pack(">IIII", magic, count, rows, cols)
    else:
        body = data[8:8 + count]
        head = struct.pack(">II", magic, count)
    path = os.path.join(out, name + (".gz" if gz else ""))
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(head + body)

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 512
m = int(sys.argv[3]) if len(sys.argv) > 3 else 256
os.makedirs(out, exist_ok=True)
subset("train-images-idx3-ubyte", n, out)
subset("train-labels-idx1-ubyte", n, out)
subset("t10k-images-idx3-ubyte", m, out)
subset("t10k-labels-idx1-ubyte", m, out)
