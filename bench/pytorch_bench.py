#!/usr/bin/env python3
"""PyTorch baseline for docs/PERFORMANCE.md: MobileNet V1 as SPEC.md section 1 (3x3 stem
stride 2, 13 depthwise-separable blocks, bias-free convs + BN + ReLU6, global average pool,
FC with bias), on the CPU with a fixed thread count.

Measures eval-mode inference at batch 1 and batch B, and a training step (forward, smoothed
cross-entropy, backward, momentum SGD) at batch B, in both memory formats (contiguous NCHW
and channels_last), and prints one JSON line per measurement plus the faster format's.

  python3 bench/pytorch_bench.py --threads 2 --alpha 1.0 --resolution 224 --batch 32
"""
import argparse
import json
import time

import torch
import torch.nn as nn

BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
    [(1024, 2), (1024, 1)]


def ch(c, alpha):
    return max(8, int(c * alpha))


def conv_bn(cin, cout, k, s, groups=1):
    return [nn.Conv2d(cin, cout, k, s, (k - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout), nn.ReLU6(inplace=True)]


def mobilenet_v1(alpha=1.0, num_classes=1000):
    c = ch(32, alpha)
    layers = conv_bn(3, c, 3, 2)
    for cout, s in BLOCKS:
        cout = ch(cout, alpha)
        layers += conv_bn(c, c, 3, s, groups=c) + conv_bn(c, cout, 1, 1)
        c = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes))


def timeit(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    t = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - t) / iters


def bench(args, fmt):
    torch.manual_seed(1)
    model = mobilenet_v1(args.alpha, args.num_classes)
    mf = torch.channels_last if fmt == "channels_last" else torch.contiguous_format
    model = model.to(memory_format=mf)
    out = []
    model.eval()
    for b in (1, args.batch):
        x = torch.randn(b, 3, args.resolution, args.resolution).to(memory_format=mf)
        with torch.no_grad():
            s = timeit(lambda: model(x), 2, args.infer_iters if b > 1 else args.infer_iters * 8)
        out.append({"mode": "infer", "batch": b, "format": fmt, "seconds_per_batch": s,
                    "images_per_s": b / s})
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(args.batch, 3, args.resolution, args.resolution).to(memory_format=mf)
    y = torch.randint(0, args.num_classes, (args.batch,))
    # MindSpore CrossEntropySmooth (SPEC 2) costs the same as PyTorch's label_smoothing.
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()
    s = timeit(step, 1, args.train_iters)
    out.append({"mode": "train", "batch": args.batch, "format": fmt, "seconds_per_batch": s,
                "images_per_s": args.batch / s})
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--resolution", type=int, default=224)
    p.add_argument("--num-classes", type=int, default=1000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--infer-iters", type=int, default=3)
    p.add_argument("--train-iters", type=int, default=3)
    p.add_argument("--formats", default="contiguous,channels_last")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for fmt in args.formats.split(","):
        rows += bench(args, fmt)
    for r in rows:
        r.update(torch=torch.__version__, threads=args.threads, alpha=args.alpha,
                 resolution=args.resolution)
        print(json.dumps(r))
    # The best of the formats per (mode, batch): what the comparison uses.
    best = {}
    for r in rows:
        k = (r["mode"], r["batch"])
        if k not in best or r["images_per_s"] > best[k]["images_per_s"]:
            best[k] = r
    for r in best.values():
        print(json.dumps(dict(r, best=True)))


if __name__ == "__main__":
    main()
