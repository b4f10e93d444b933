#!/usr/bin/env python3
"""Markdown per-layer table from two `mbn bench` text outputs (inference, training):
  bench/layers_table.py infer.txt train.txt"""
import re, sys
def parse(p):
    rows, head = {}, ""
    for l in open(p):
        m = re.match(r"\s+(\S+)\s+([\d.]+) ms\s+([\d.]+)%", l)
        if m: rows[m.group(1)] = (float(m.group(2)), float(m.group(3)))
        elif "|" in l: head = l.strip()
    return rows, head
inf, hi = parse(sys.argv[1]); tr, ht = parse(sys.argv[2])
print(f"- inference: `{hi}`\n- training: `{ht}`\n")
print("| layer | infer ms | infer % | train fwd ms | train bwd ms | train % (fwd+bwd) |")
print("|---|---|---|---|---|---|")
order = list(inf.keys()) + [k for k in tr if k not in inf and not k.endswith(".bwd")]
for k in order:
    i = inf.get(k); f = tr.get(k); b = tr.get(k + ".bwd")
    pct = (f[1] if f else 0) + (b[1] if b else 0)
    print(f"| {k} | {i[0]:.2f} |  {i[1]:.1f} | " if i else f"| {k} | | | ", end="")
    print(f"{f[0]:.1f} | " if f else " | ", end="")
    print(f"{b[0]:.1f} | " if b else " | ", end="")
    print(f"{pct:.1f} |")
