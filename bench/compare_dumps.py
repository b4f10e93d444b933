#!/usr/bin/env python3
"""Compares two MBN_BENCH_DUMP files (logits, then 'loss X' lines): prints the largest
absolute and relative differences, for checking that a kernel change only moves float
rounding."""
import sys

def load(path):
    vals = []
    for line in open(path):
        parts = line.split()
        vals.append(float(parts[-1]))
    return vals

a, b = load(sys.argv[1]), load(sys.argv[2])
assert len(a) == len(b), "different lengths"
scale = max(abs(x) for x in a) or 1.0
worst = max(abs(x - y) for x, y in zip(a, b))
print(f"{len(a)} values, max |diff| {worst:.3g}, relative to max |value| {worst / scale:.3g}")
sys.exit(0 if worst / scale < float(sys.argv[3] if len(sys.argv) > 3 else 1e-3) else 1)
