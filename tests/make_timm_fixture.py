#!/usr/bin/python3
"""Writes the timm interchange fixtures (run from the repository root with Debian's python3):

  tests/fixtures/timm_mbv1_025.safetensors     MobileNet V1 alpha 0.25, 10 classes, random
                                               weights and BN running statistics, timm names
                                               (num_batches_tracked included, as in a timm
                                               state_dict), F32
  tests/fixtures/timm_mbv1_025_io.safetensors  "input" [2, 3, 32, 32] NCHW and the eval-mode
                                               "logits" [2, 10] of that model

Seeded, so rerunning reproduces the same bytes. mbn must load the weights file and reproduce the
logits (up to float rounding in a different summation order).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timm_mbv1 import MobileNetV1, read_safetensors, write_safetensors  # noqa: E402

ALPHA, NUM_CLASSES, RES, BATCH = 0.25, 10, 32, 2


def randomize(model, g):
    """Weights with fan-in scaling so activations stay in ReLU6's interesting range (some clip
    at 0 and at 6), and BN running statistics far from the identity so a loader that ignores or
    swaps them is caught."""
    for name, p in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            p.fill_(int(torch.randint(1, 100000, (1,), generator=g)))
        elif name.endswith("running_mean"):
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
        elif name.endswith("running_var"):
            p.copy_(torch.rand(p.shape, generator=g) * 1.5 + 0.25)
        elif name.endswith("bias"):
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
        elif ".bn" in name or name.startswith("bn1."):
            p.copy_(torch.rand(p.shape, generator=g) + 0.5)  # BN gamma
        else:
            fan_in = p[0].numel()
            p.copy_(torch.randn(p.shape, generator=g) * (2.0 / fan_in) ** 0.5 * 1.5)


def main():
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
    os.makedirs(out_dir, exist_ok=True)
    g = torch.Generator().manual_seed(20261128)
    model = MobileNetV1(ALPHA, NUM_CLASSES).eval()
    with torch.no_grad():
        randomize(model, g)
        x = torch.randn(BATCH, 3, RES, RES, generator=g) * 1.5
        logits = model(x)
    weights = os.path.join(out_dir, "timm_mbv1_025.safetensors")
    io = os.path.join(out_dir, "timm_mbv1_025_io.safetensors")
    meta = {"format": "pt", "model": "mobilenetv1_100", "alpha": str(ALPHA),
            "num_classes": str(NUM_CLASSES), "bn_eps": "1e-05"}
    write_safetensors(weights, model.state_dict(), meta)
    write_safetensors(io, {"input": x, "logits": logits}, {"format": "pt"})

    # Self-check: the file loads back strictly into a fresh model and gives the same logits.
    state = read_safetensors(weights)
    fresh = MobileNetV1(ALPHA, NUM_CLASSES).eval()
    fresh.load_state_dict(state, strict=True)
    with torch.no_grad():
        again = fresh(read_safetensors(io)["input"])
    assert torch.equal(again, logits), "fixture does not reproduce its logits"
    n_params = sum(v.numel() for k, v in state.items() if not k.endswith("num_batches_tracked"))
    print(f"wrote {weights} ({os.path.getsize(weights)} bytes, {len(state)} tensors, "
          f"{n_params} floats) and {io}")
    print("logits:", logits.tolist())


if __name__ == "__main__":
    main()
