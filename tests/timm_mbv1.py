"""MobileNet V1 in plain PyTorch with exactly timm's `mobilenetv1_100` module names, plus a
dependency-free safetensors reader/writer (struct + json), for the interchange fixtures.

timm is not installable here without pulling a CUDA torch from PyPI, so the model is rebuilt
from timm's definition (efficientnet.py `_gen_mobilenet_v1`, arch 'dsa' blocks = depthwise
separable with activation after the pointwise conv, no head conv): conv_stem, bn1,
blocks.S.B.{conv_dw, bn1, conv_pw, bn2} with stages of 1, 2, 2, 6, 2 blocks, classifier.
ReLU6, symmetric padding 1, BatchNorm eps 1e-5, channels max(8, floor(c * alpha)) (equal to
timm's round-to-8 for alpha in {0.25, 0.5, 0.75, 1.0}). Runs with Debian's python3-torch.
"""
import json
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

STAGES = [  # (output channels at alpha 1, first stride, blocks)
    (64, 1, 1),
    (128, 2, 2),
    (256, 2, 2),
    (512, 2, 6),
    (1024, 2, 2),
]


def scale_channels(c, alpha):
    return max(8, int(math.floor(c * alpha + 1e-6)))


class DepthwiseSeparable(nn.Module):
    def __init__(self, cin, cout, stride, eps):
        super().__init__()
        self.conv_dw = nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin, eps=eps)
        self.conv_pw = nn.Conv2d(cin, cout, 1, 1, 0, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=eps)

    def forward(self, x):
        x = F.relu6(self.bn1(self.conv_dw(x)))
        return F.relu6(self.bn2(self.conv_pw(x)))


class MobileNetV1(nn.Module):
    """Channel counts come either from alpha or, for loading foreign files, from `widths`
    (stem width followed by the 13 pointwise output widths)."""

    def __init__(self, alpha=1.0, num_classes=1000, eps=1e-5, widths=None):
        super().__init__()
        if widths is None:
            widths = [scale_channels(32, alpha)]
            for c, _, n in STAGES:
                widths += [scale_channels(c, alpha)] * n
        self.conv_stem = nn.Conv2d(3, widths[0], 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0], eps=eps)
        stages, k = [], 0
        for _, stride, n in STAGES:
            blocks = []
            for b in range(n):
                blocks.append(DepthwiseSeparable(widths[k], widths[k + 1], stride if b == 0 else 1, eps))
                k += 1
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)
        self.classifier = nn.Linear(widths[-1], num_classes)

    def forward(self, x):
        x = F.relu6(self.bn1(self.conv_stem(x)))
        x = self.blocks(x)
        return self.classifier(x.mean(dim=(2, 3)))


def widths_from_state(state):
    """Stem width and the 13 pointwise widths, read from a state dict's shapes."""
    widths = [state["conv_stem.weight"].shape[0]]
    for s, (_, _, n) in enumerate(STAGES):
        for b in range(n):
            widths.append(state[f"blocks.{s}.{b}.conv_pw.weight"].shape[0])
    return widths


# ---- safetensors without the safetensors package ----

_DTYPES = {  # name -> (torch dtype, bytes)
    "F32": (torch.float32, 4),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
    "F64": (torch.float64, 8),
    "I64": (torch.int64, 8),
}
_NAMES = {v[0]: k for k, v in _DTYPES.items()}


def write_safetensors(path, tensors, metadata=None):
    """Like safetensors.torch.save_file: names sorted, contiguous little-endian data, header
    padded with spaces to a multiple of 8."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        # numpy has no bfloat16: reinterpret its bits as int16 (same bytes).
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, size = _DTYPES[info["dtype"]]
        b, e = info["data_offsets"]
        raw = bytearray(body[b:e])
        if dtype == torch.bfloat16:
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16) if raw else torch.empty(0, dtype=dtype)
        else:
            t = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out
