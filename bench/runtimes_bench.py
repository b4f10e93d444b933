#!/usr/bin/env python3
"""What a user would run instead of mbn on a CPU, timed on the same workloads: ONNX Runtime and
OpenVINO (inference), PyTorch eager and torch.compile (inference and training), and an
OpenBLAS SGEMM (numpy) as a second opinion on the machine's FMA rate. bench/run_all.sh calls
this once per runtime and repeat, alternating with mbn, and takes the best run of each.

The model is MobileNet V1 as SPEC section 1, the PyTorch definition the test fixtures use
(tests/timm_mbv1.py, timm's module names); the ONNX file for ONNX Runtime and OpenVINO is
exported from it (`--make-onnx`, opset 17, dynamic batch, eval mode) unless one is given
(e.g. `mbn export --format onnx`). fp32 everywhere, a fixed thread count for everyone.

Prints one JSON line per measurement:
  {"runtime", "version", "workload", "mode", "alpha", "resolution", "batch", "format",
   "seconds_per_batch", "images_per_s"}   (numpy-sgemm: "gflops" instead)
A runtime that is not installed prints {"runtime", "skipped": reason} and exits 0.

  python bench/runtimes_bench.py --runtime onnxruntime --onnx m.onnx --threads 2
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> (mode, alpha, resolution, num_classes, batch)
WORKLOADS = {
    "infer-b1": ("infer", 1.0, 224, 1000, 1),
    "infer-b32": ("infer", 1.0, 224, 1000, 32),
    "train-b32": ("train", 1.0, 224, 1000, 32),
    "train-0.25-32-b64": ("train", 0.25, 32, 10, 64),
}
INFER_ONLY = {"onnxruntime", "openvino"}


def emit(row):
    print(json.dumps(row), flush=True)


def skip(runtime, why):
    emit({"runtime": runtime, "skipped": why})
    sys.exit(0)


def timed(fn, batch, min_iters, min_seconds=1.0, warmup=2):
    """Mean seconds per call over at least min_iters calls and min_seconds (after warm-up)."""
    for _ in range(warmup):
        fn()
    n, t0 = 0, time.perf_counter()
    while n < min_iters or time.perf_counter() - t0 < min_seconds:
        fn()
        n += 1
    return (time.perf_counter() - t0) / n


def torch_model(alpha, num_classes):
    sys.path.insert(0, os.path.join(HERE, "..", "tests"))
    from timm_mbv1 import MobileNetV1
    return MobileNetV1(alpha=alpha, num_classes=num_classes)


def make_onnx(path, threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = torch_model(1.0, 1000).eval()
    x = torch.randn(1, 3, 224, 224)
    kw = dict(input_names=["input"], output_names=["logits"], opset_version=17,
              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    try:  # torch >= 2.9 defaults to the torch.export-based exporter (needs onnxscript)
        torch.onnx.export(model, (x,), path, dynamo=False, **kw)
    except TypeError:
        torch.onnx.export(model, (x,), path, **kw)


def run_onnxruntime(args, names):
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as e:
        skip("onnxruntime", str(e))
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(args.onnx, so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0].name
    for name in names:
        mode, alpha, res, k, b = WORKLOADS[name]
        x = np.random.default_rng(1).standard_normal((b, 3, res, res), dtype=np.float32)
        s = timed(lambda: sess.run(None, {inp: x}), b, args.iters(b))
        yield name, "NCHW", s, ort.__version__


def run_openvino(args, names):
    try:
        import numpy as np
        import openvino as ov
    except ImportError as e:
        skip("openvino", str(e))
    core = ov.Core()
    model = core.read_model(args.onnx)
    cfg = {"INFERENCE_NUM_THREADS": args.threads, "INFERENCE_PRECISION_HINT": "f32",
           "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1}
    compiled = core.compile_model(model, "CPU", cfg)
    req = compiled.create_infer_request()
    for name in names:
        mode, alpha, res, k, b = WORKLOADS[name]
        x = np.random.default_rng(1).standard_normal((b, 3, res, res), dtype=np.float32)
        s = timed(lambda: req.infer({0: x}), b, args.iters(b))
        yield name, "NCHW", s, ov.__version__.split("-")[0]


def run_torch(args, names, compiled):
    try:
        import torch
        import torch.nn as nn
    except ImportError as e:
        skip("torch-compile" if compiled else "torch", str(e))
    if compiled and not hasattr(torch, "compile"):
        skip("torch-compile", f"torch {torch.__version__} has no torch.compile")
    torch.set_num_threads(args.threads)
    for name in names:
        mode, alpha, res, k, b = WORKLOADS[name]
        for fmt in args.formats.split(","):
            mf = torch.channels_last if fmt == "channels_last" else torch.contiguous_format
            torch.manual_seed(1)
            model = torch_model(alpha, k).to(memory_format=mf)
            model.train(mode == "train")
            run = torch.compile(model) if compiled else model
            x = torch.randn(b, 3, res, res).to(memory_format=mf)
            if mode == "infer":
                def fn():
                    with torch.no_grad():
                        run(x)
            else:
                opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
                y = torch.randint(0, k, (b,))
                # MindSpore's CrossEntropySmooth (SPEC 2) costs the same as label_smoothing.
                loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)

                def fn():
                    opt.zero_grad(set_to_none=True)
                    loss_fn(run(x), y).backward()
                    opt.step()
            # torch.compile compiles on the first calls: three warm-up calls keep it out.
            s = timed(fn, b, args.iters(b), warmup=3 if compiled else 2)
            yield name, fmt, s, torch.__version__.split("+")[0]


def run_sgemm(args):
    # OpenBLAS reads its thread count when numpy is imported.
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[v] = str(args.threads)
    try:
        import numpy as np
    except ImportError as e:
        skip("numpy-sgemm", str(e))
    n = 2048
    a = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    bm = np.random.default_rng(2).standard_normal((n, n), dtype=np.float32)
    a @ bm
    best = min(timed(lambda: a @ bm, 1, 3, min_seconds=0.3, warmup=1) for _ in range(5))
    emit({"runtime": "numpy-sgemm", "version": np.__version__, "threads": args.threads,
          "n": n, "gflops": 2.0 * n ** 3 / best * 1e-9})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runtime",
                   choices=["onnxruntime", "openvino", "torch", "torch-compile", "numpy-sgemm"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workloads", default="infer-b1,infer-b32,train-b32",
                   help="comma-separated: " + ", ".join(WORKLOADS))
    p.add_argument("--onnx", help="ONNX model (onnxruntime, openvino)")
    p.add_argument("--make-onnx", metavar="FILE", help="export the PyTorch model to FILE and exit")
    p.add_argument("--formats", default="contiguous,channels_last",
                   help="PyTorch memory formats to try (the faster is reported by run_all.sh)")
    p.add_argument("--min-iters", type=int, default=3,
                   help="timed iterations at batch > 1 (8x that at batch 1); at least 1 s")
    args = p.parse_args()
    args.iters = lambda b: args.min_iters * (8 if b == 1 else 1)
    if args.make_onnx:
        make_onnx(args.make_onnx, args.threads)
        return
    if not args.runtime:
        p.error("--runtime or --make-onnx is required")
    if args.runtime == "numpy-sgemm":
        run_sgemm(args)
        return
    names = [w for w in args.workloads.split(",") if w]
    for w in names:
        if w not in WORKLOADS:
            p.error(f"--workloads: unknown workload {w}")
    if args.runtime in INFER_ONLY:
        names = [w for w in names if WORKLOADS[w][0] == "infer"]
        if not args.onnx:
            p.error(f"--runtime {args.runtime} needs --onnx")
    gen = {"onnxruntime": lambda: run_onnxruntime(args, names),
           "openvino": lambda: run_openvino(args, names),
           "torch": lambda: run_torch(args, names, False),
           "torch-compile": lambda: run_torch(args, names, True)}[args.runtime]()
    for name, fmt, s, version in gen:
        mode, alpha, res, k, b = WORKLOADS[name]
        emit({"runtime": args.runtime, "version": version, "workload": name, "mode": mode,
              "alpha": alpha, "resolution": res, "batch": b, "format": fmt,
              "threads": args.threads, "seconds_per_batch": s, "images_per_s": b / s})


if __name__ == "__main__":
    main()
