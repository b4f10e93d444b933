#!/usr/bin/env python3
"""Batch-1 inference latency of MobileNet V1 1.0-224 on this machine's CPU: mbn (OpenCL on
PoCL) next to ONNX Runtime and OpenVINO running the ONNX file mbn exports, all in one run with
the same thread count, plus the device memory mbn allocates for inference and for training.
Prints a markdown table for docs/PERFORMANCE.md and one JSON line with every figure.

  bench/deploy_latency.sh            (builds what it needs, finds the venv)
  PYTHON -m pip install onnxruntime openvino numpy     (into a venv: PyPI only there)
  VENV/bin/python bench/deploy_latency.py --build build [--threads 2] [--rounds 3]

Engines are measured in rounds, A B C D A B C D ..., and each engine's best round is kept: on a
shared machine the best round is the one least disturbed by other processes (noisy anyway;
re-take in a quiet window).
  mbn forward   `mbn bench --mode infer --batch-size 1`: the network alone (upload, forward,
                no read-back), median of the steps over 5 s (`median_ms_per_step`; each
                step waited for)
  mbn library   mbn_model_classify_rgb on a 256x256 RGB frame: preprocessing, upload,
                forward, softmax, read-back, top-5 (bench/lib_latency.c), median
  ONNX Runtime  InferenceSession.run on a [1, 3, 224, 224] float tensor, median
  OpenVINO      compiled model (CPU, LATENCY hint) on the same tensor, median
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def run(cmd, env=None):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def time_calls(fn, runs, warmup=5):
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--memory-train-batch", type=int, default=32)
    args = ap.parse_args()
    mbn = os.path.join(args.build, "mbn")
    env = dict(os.environ)
    # PoCL's CPU device: one thread per compute unit; pin the count to the others'.
    env["POCL_CPU_MAX_CU_COUNT"] = str(args.threads)
    env["POCL_MAX_PTHREAD_COUNT"] = str(args.threads)

    tmp = tempfile.mkdtemp()
    model = os.path.join(tmp, "mbv1_100_224.safetensors")
    onnx_path = os.path.join(tmp, "mbv1_100_224.onnx")
    run([os.path.join(args.build, "bench", "make_random_model"), model])
    run([mbn, "export", "--checkpoint", model, "--format", "onnx", "--out", onnx_path], env)

    import onnxruntime as ort
    import openvino as ov

    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    core = ov.Core()
    # float32 as the others: on CPUs with AVX512_BF16 or AMX, OpenVINO otherwise runs in
    # bfloat16 by default (faster, less precise); that figure is reported separately.
    compiled = core.compile_model(onnx_path, "CPU", {"INFERENCE_NUM_THREADS": args.threads,
                                                     "PERFORMANCE_HINT": "LATENCY",
                                                     "INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    compiled_default = core.compile_model(onnx_path, "CPU", {
        "INFERENCE_NUM_THREADS": args.threads, "PERFORMANCE_HINT": "LATENCY"})
    request_default = compiled_default.create_infer_request()
    default_precision = str(compiled_default.get_property("INFERENCE_PRECISION_HINT"))
    default_precision = default_precision.split("'")[1] if "'" in default_precision else default_precision
    x = np.random.default_rng(1).standard_normal((1, 3, 224, 224)).astype(np.float32)
    # Same model, same answers (a sanity check of the comparison, not a test).
    p_ort = sess.run(["probs"], {"input": x})[0]
    p_ov = request.infer({"input": x})[compiled.output("probs")]
    assert np.abs(p_ort - p_ov).max() < 1e-4, np.abs(p_ort - p_ov).max()

    best = {}
    def keep(name, ms):
        best[name] = min(best.get(name, float("inf")), ms)
    for r in range(args.rounds):
        d = json.loads(run([mbn, "bench", "--alpha", "1", "--resolution", "224", "--batch-size",
                            "1", "--mode", "infer", "--seconds", "5", "--json"], env))
        keep("mbn forward (OpenCL, PoCL)", d["results"][0]["median_ms_per_step"])
        device = d["results"][0]["device"]
        d = json.loads(run([os.path.join(args.build, "bench", "lib_latency"), model,
                            str(args.runs)], env))
        keep("mbn library call (classify_rgb, 256x256 frame)", d["median_ms"])
        keep("ONNX Runtime %s (CPU EP)" % ort.__version__,
             time_calls(lambda: sess.run(["probs"], {"input": x}), args.runs))
        keep("OpenVINO %s (CPU, f32)" % ov.__version__.split("-")[0],
             time_calls(lambda: request.infer({"input": x}), args.runs))
        if default_precision != "float32":
            keep("OpenVINO %s (CPU, its default here: %s)"
                 % (ov.__version__.split("-")[0], default_precision),
                 time_calls(lambda: request_default.infer({"input": x}), args.runs))
        print("round %d: %s" % (r + 1, {k: round(v, 2) for k, v in best.items()}),
              file=sys.stderr)

    memory = {}
    for mode, batch in (("infer", 1), ("infer", 32), ("train", args.memory_train_batch)):
        d = json.loads(run([mbn, "bench", "--alpha", "1", "--resolution", "224", "--batch-size",
                            str(batch), "--mode", mode, "--iterations", "1", "--json"], env))
        memory["%s b%d" % (mode, batch)] = d["results"][0]["device_memory_bytes"]

    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    print("MobileNet V1 1.0-224, batch 1, %d threads, %s (%s), best of %d rounds, load %s\n"
          % (args.threads, cpu, device, args.rounds, open("/proc/loadavg").read().split()[0]))
    print("| engine | latency (ms) |\n|---|---|")
    for name, ms in best.items():
        print("| %s | %.1f |" % (name, ms))
    print("\n| mbn device memory, 1.0-224 | MiB |\n|---|---|")
    for name, b in memory.items():
        print("| %s | %.1f |" % (name, b / 1048576))
    print(json.dumps({"threads": args.threads, "cpu": cpu, "latency_ms": best,
                      "device_memory_bytes": memory}))


if __name__ == "__main__":
    main()
