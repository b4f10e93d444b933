#!/usr/bin/env python3
"""Per-layer times of OpenVINO (CPU, fp32) on mbn's ONNX export, next to `mbn bench`'s per-layer
table: the op-by-op view of an inference gap between the two.

OpenVINO's performance counters (PERF_COUNT) time each executed primitive, listed in execution
order. Its fusions rename the convolutions (BN folded in: "Multiply_6853"), so the k-th
convolution primitive is taken as the k-th conv layer of the network (stem, dw1, pw1, ...,
pw13, as SPEC section 1); the input's layout reorder counts to the stem, the pooling and its
reorders to pool, "logits" to fc, "probs" to softmax. Each primitive's time is its minimum over
the iterations (the least disturbed run, as bench/run_all.sh keeps the best run). Prints one
markdown table: layer, OpenVINO ms, mbn ms (from --mbn-json, the output of `mbn bench --json`
at the same batch; a layer pair mbn runs as one kernel, "dw1+pw1", is compared with the sum of
the two), ratio. Both sides' totals include their profiling overhead: compare layers, and take
end-to-end times from bench/run_all.sh.

  python bench/openvino_layers.py --onnx m.onnx --batch 1 --threads 2 --mbn-json b1.json
"""
import argparse
import json
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--onnx", required=True, help="mbn export --format onnx of a 1.0-224 model")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--iterations", type=int, default=50)
    p.add_argument("--mbn-json", help="`mbn bench --json` output at the same batch size")
    args = p.parse_args()
    try:
        import numpy as np
        import openvino as ov
    except ImportError as e:
        sys.exit(f"openvino_layers: {e} (pip install openvino numpy)")
    core = ov.Core()
    model = core.read_model(args.onnx)
    res = model.inputs[0].get_partial_shape()[2].get_length()
    cfg = {"INFERENCE_NUM_THREADS": args.threads, "INFERENCE_PRECISION_HINT": "f32",
           "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1, "PERF_COUNT": True}
    req = core.compile_model(model, "CPU", cfg).create_infer_request()
    x = np.random.default_rng(1).standard_normal((args.batch, 3, res, res), dtype=np.float32)
    best = {}
    for i in range(args.iterations + 3):
        req.infer({0: x})
        if i < 3:
            continue  # warm-up
        for info in req.get_profiling_info():
            ms = info.real_time.total_seconds() * 1e3
            if info.status.name != "EXECUTED" or ms <= 0:
                continue
            best[info.node_name] = min(best.get(info.node_name, ms), ms)
    conv_layers = ["stem"] + [f"{t}{i}" for i in range(1, 14) for t in ("dw", "pw")]
    ov_layers, seen = {}, {}
    for name, ms in best.items():  # dicts keep insertion order: execution order
        if name.startswith("input"):
            layer = "stem"
        elif name.startswith("pool") or name.startswith("flatten"):
            layer = "pool"
        elif name in ("logits", "probs"):
            layer = {"logits": "fc", "probs": "softmax"}[name]
        elif name.split(".")[0] in conv_layers:
            layer = name.split(".")[0]
        else:
            if name not in seen:
                if len(seen) == len(conv_layers):
                    sys.exit(f"openvino_layers: more convolutions than layers at {name}")
                seen[name] = conv_layers[len(seen)]
            layer = seen[name]
        ov_layers[layer] = ov_layers.get(layer, 0.0) + ms
    order = conv_layers + ["pool", "fc", "softmax"]
    mbn_layers = {}
    if args.mbn_json:
        with open(args.mbn_json) as f:
            result = json.load(f)["results"][0]
        for row in result.get("layers", []):
            # a fused pair ("dw1+pw1") is compared with the sum of its two layers
            mbn_layers[row["name"]] = row["ms"]
    print(f"OpenVINO {ov.__version__.split('-')[0]} per layer, batch {args.batch}, "
          f"{args.threads} threads, fp32, min over {args.iterations} runs")
    print()
    print("| layer | OpenVINO ms | mbn ms | mbn / OpenVINO |")
    print("|---|---|---|---|")
    done = set()
    total_ov = total_mbn = 0.0
    for layer in order:
        if layer in done or layer not in ov_layers:
            continue
        names, ov_ms = [layer], ov_layers[layer]
        mbn_ms = mbn_layers.get(layer)
        if mbn_ms is None:  # a fused pair in mbn: dwN+pwN
            pair = next((k for k in mbn_layers if k.startswith(layer + "+")), None)
            if pair:
                other = pair.split("+")[1]
                names = [layer, other]
                ov_ms += ov_layers.get(other, 0.0)
                mbn_ms = mbn_layers[pair]
        done.update(names)
        total_ov += ov_ms
        label = "+".join(names)
        if mbn_ms is None:
            print(f"| {label} | {ov_ms:.3f} | - | - |")
        else:
            total_mbn += mbn_ms
            print(f"| {label} | {ov_ms:.3f} | {mbn_ms:.3f} | {mbn_ms / ov_ms:.2f} |")
    print(f"| **sum** | {total_ov:.3f} | {total_mbn:.3f} | "
          f"{(total_mbn / total_ov) if total_ov else 0:.2f} |")


if __name__ == "__main__":
    main()
