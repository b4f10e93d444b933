#!/usr/bin/env python3
"""Per-layer GFLOP/s and share of the measured FMA peak, from one `mbn bench --json` (inference,
with `--measure-peak`) and `mbn summary --json` of the same network:

  mbn bench --batch-size 32 --measure-peak --json > b.json
  mbn summary --json > s.json
  bench/layers_vs_peak.py b.json s.json [PEAK]

PEAK (GFLOP/s) replaces the peak in b.json, e.g. the best of several `--measure-peak` runs.

Work per layer = 2 flops per MAC (the count `mbn bench` uses). A profile row that times two
layers in one kernel ("dw2+pw2", the fused inference pair) gets the MACs of both. Rows with no
MACs (pool) show time only."""
import json
import sys


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    bench = json.load(open(sys.argv[1]))
    bench = bench["results"][0]  # the first device
    summary = json.load(open(sys.argv[2]))
    macs = {l["name"]: l["macs"] for l in summary["layers"]}
    batch, peak = bench["batch"], bench.get("peak_gflops")
    if len(sys.argv) == 4:
        peak = float(sys.argv[3])
    print(f"batch {batch}, {bench['images_per_s']:.1f} images/s, {bench['gflops']:.0f} GFLOP/s"
          + (f", FMA peak {peak:.0f} GFLOP/s ({100 * bench['gflops'] / peak:.0f}%)" if peak else ""))
    print()
    print("| layer | ms | GFLOP | GFLOP/s | share of peak | share of step |")
    print("|---|---|---|---|---|---|")
    total = sum(r["ms"] for r in bench["layers"])
    for row in bench["layers"]:
        name, ms = row["name"], row["ms"]
        m = sum(macs.get(part, 0) for part in name.split("+"))
        gflop = 2.0 * m * batch / 1e9
        rate = gflop / (ms / 1e3) if ms > 0 and m else 0
        share = f"{100 * rate / peak:.0f}%" if peak and m else ""
        print(f"| {name} | {ms:.2f} | {gflop:.2f} | {rate:.0f} | {share} | {100 * ms / total:.1f}% |"
              if m else f"| {name} | {ms:.2f} | | | | {100 * ms / total:.1f}% |")


if __name__ == "__main__":
    main()
