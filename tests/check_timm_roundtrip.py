#!/usr/bin/python3
"""Reverse direction of the timm interchange: loads a safetensors file written by mbn
(`mbn export`) into the timm-named PyTorch MobileNet V1 with strict=True and prints its eval-mode
logits as JSON on stdout: {"logits": [[...], ...]}.

  tests/check_timm_roundtrip.py W.safetensors [--io IO.safetensors] [--expect] [--tol 1e-4]

Channel widths and the class count are read from the file's shapes, so any alpha works. The
input is "input" from --io (default tests/fixtures/timm_mbv1_025_io.safetensors). With --expect,
the logits are compared with "logits" in that file; exit status 1 if the largest absolute
difference exceeds --tol. num_batches_tracked may be absent (mbn does not track it): it is filled
with zeros. Any missing or unexpected tensor fails the strict load (exit status 1).
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timm_mbv1 import MobileNetV1, read_safetensors, widths_from_state  # noqa: E402


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("weights")
    ap.add_argument("--io", default=os.path.join(here, "fixtures", "timm_mbv1_025_io.safetensors"))
    ap.add_argument("--expect", action="store_true", help="compare with the io file's logits")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()

    state = read_safetensors(args.weights)
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
    num_classes = state["classifier.weight"].shape[0]
    model = MobileNetV1(num_classes=num_classes, widths=widths_from_state(state)).eval()
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked") and k not in state:
            state[k] = torch.zeros_like(v)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        print(f"check_timm_roundtrip: {args.weights}: {e}", file=sys.stderr)
        return 1
    io = read_safetensors(args.io)
    with torch.no_grad():
        logits = model(io["input"].float())
    print(json.dumps({"logits": logits.tolist()}))
    if args.expect:
        diff = (logits - io["logits"].float()).abs().max().item()
        print(f"max |logits - expected| = {diff:.3g} (tol {args.tol:g})", file=sys.stderr)
        if not diff <= args.tol:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
