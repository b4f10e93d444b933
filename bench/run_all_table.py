#!/usr/bin/env python3
"""Markdown tables from one bench/run_all.sh run (its output folder): the best of the repeats
for mbn and every other runtime, per workload, then the same as GFLOP/s and share of the FMA
peak measured in the run. Standard library only.

  python3 bench/run_all_table.py OUT_DIR REPEATS THREADS "onnxruntime openvino torch ..."
"""
import json
import os
import sys

WORKLOADS = [  # run_all.sh / runtimes_bench.py names, row titles
    ("infer-b1", "infer 1.0-224 batch 1"),
    ("infer-b32", "infer 1.0-224 batch 32"),
    ("train-b32", "train 1.0-224 batch 32"),
    ("train-0.25-32-b64", "train 0.25-32 batch 64 (10 classes)"),
]
TITLES = {"onnxruntime": "ONNX Runtime", "openvino": "OpenVINO", "torch": "PyTorch eager",
          "torch-compile": "PyTorch torch.compile"}
FORMAT_TAG = {"contiguous": "NCHW", "channels_last": "CL", "NCHW": ""}


def load_jsonl(path):
    rows = []
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    return rows


def main():
    d, repeats, threads, runtimes = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split()
    # mbn: best images/s per workload over the repeats.
    mbn, peaks = {}, []
    for r in range(1, repeats + 1):
        p = os.path.join(d, f"peak_{r}.json")
        if os.path.exists(p):
            pk = json.load(open(p))["results"][0].get("peak_gflops")
            if pk:
                peaks.append(pk)
        for w, _ in WORKLOADS:
            p = os.path.join(d, f"mbn_{w}_{r}.json")
            if not os.path.exists(p):
                continue
            res = json.load(open(p))["results"][0]
            if w not in mbn or res["images_per_s"] > mbn[w]["images_per_s"]:
                mbn[w] = res
    peak = max(peaks) if peaks else None
    # Others: best images/s per (runtime, workload) over repeats and memory formats.
    best, versions, skipped, formats = {}, {}, {}, {}
    for rt in runtimes:
        for r in range(1, repeats + 1):
            for row in load_jsonl(os.path.join(d, f"{rt}_{r}.jsonl")):
                if "skipped" in row:
                    skipped[rt] = row["skipped"]
                    continue
                versions[rt] = row["version"]
                key = (rt, row["workload"])
                formats.setdefault(key, {})
                f = row["format"]
                formats[key][f] = max(formats[key].get(f, 0), row["images_per_s"])
                if key not in best or row["images_per_s"] > best[key]["images_per_s"]:
                    best[key] = row
    sgemm = [row["gflops"] for r in range(1, repeats + 1)
             for row in load_jsonl(os.path.join(d, f"sgemm_{r}.jsonl")) if "gflops" in row]
    started = open(os.path.join(d, "started")).read().strip()
    shown = [rt for rt in runtimes if rt in versions]

    print(f"MobileNet V1, fp32, {threads} threads for everyone, best of {repeats} runs "
          f"(mbn and the others alternating), {started}.")
    line = f"FMA peak of {threads} threads measured in the same run: "
    line += f"mbn's cl/peak.cl on PoCL {peak:.0f} GFLOP/s" if peak else "mbn's peak kernel: n/a"
    if sgemm:
        line += f"; OpenBLAS SGEMM 2048x2048x2048 through numpy {max(sgemm):.0f} GFLOP/s"
    print(line + ".")
    for rt, why in skipped.items():
        if rt not in versions:
            print(f"{TITLES.get(rt, rt)}: skipped ({why}).")
    print()
    head = ["workload", "mbn"] + [f"{TITLES.get(rt, rt)} {versions[rt]}" for rt in shown]
    print("| " + " | ".join(head + ["mbn / best other"]) + " |")
    print("|" + "---|" * (len(head) + 1))
    for w, title in WORKLOADS:
        latency = w == "infer-b1"
        unit = " (ms)" if latency else " (images/s)"
        cells = [title + unit]

        def fmt(ips, batch):
            return f"{1000.0 * batch / ips:.1f}" if latency else f"{ips:.1f}"
        m = mbn.get(w)
        cells.append(fmt(m["images_per_s"], m["batch"]) if m else "n/a")
        others = []
        for rt in shown:
            b = best.get((rt, w))
            if not b:
                cells.append("-")
                continue
            others.append(b["images_per_s"])
            tag = FORMAT_TAG.get(b["format"], b["format"])
            multi = len(formats.get((rt, w), {})) > 1
            cells.append(fmt(b["images_per_s"], b["batch"]) + (f" ({tag})" if multi and tag else ""))
        cells.append(f"{m['images_per_s'] / max(others):.2f}x" if m and others else "-")
        print("| " + " | ".join(cells) + " |")
    print()
    print("PyTorch: NCHW = contiguous, CL = channels_last, the faster of the two. "
          "mbn / best other: images/s ratio (above 1: mbn faster).")
    print()
    # The same figures as achieved GFLOP/s and share of the measured peak.
    print(f"Achieved GFLOP/s (share of the {peak:.0f} GFLOP/s peak); "
          "work per image as `mbn bench` counts it: 2 flops per MAC forward, training adds "
          "weight and input gradients:" if peak else "Achieved GFLOP/s:")
    print()
    print("| " + " | ".join(["workload", "GFLOP/image", "mbn"] +
                           [TITLES.get(rt, rt) for rt in shown]) + " |")
    print("|" + "---|" * (len(shown) + 3))
    for w, title in WORKLOADS:
        m = mbn.get(w)
        if not m:
            continue
        g = m["gflop_per_image"]

        def cell(ips):
            s = f"{g * ips:.0f}"
            return s + (f" ({100 * g * ips / peak:.0f}%)" if peak else "")
        cells = [title, f"{g:.3f}", cell(m["images_per_s"])]
        for rt in shown:
            b = best.get((rt, w))
            cells.append(cell(b["images_per_s"]) if b else "-")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
