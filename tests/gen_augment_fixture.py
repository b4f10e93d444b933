#!/usr/bin/env python3
"""Generates tests/fixtures/augment_ref.txt, the independent reference for test_data_augment.c.

Uses torchvision's own transforms on float tensors (antialias=False: plain bilinear with
half-pixel centres, which is what mbn implements) and PIL for JPEG decoding. Run from the repo
root with Debian's python3-torchvision and python3-pil:
    /usr/bin/python3 tests/gen_augment_fixture.py
Format: blocks of "name count" followed by count numbers, one per line."""
import io
import torch
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode
from PIL import Image

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
W, H = 37, 29


def pattern():  # same formula as src_pattern() in test_data_augment.c
    t = torch.zeros(3, H, W)
    for y in range(H):
        for x in range(W):
            for c in range(3):
                t[c, y, x] = (x * 7 + y * 13 + c * 50 + (x * y) % 17) & 255
    return t


def norm_hwc(t):  # t: float CHW in 0..255 -> normalised HWC list, as mbn outputs
    t = TF.normalize(t / 255.0, MEAN, STD)
    return t.permute(1, 2, 0).reshape(-1).tolist()


def bilinear(t, size):
    return TF.resize(t, size, interpolation=InterpolationMode.BILINEAR, antialias=False)


def main():
    src = pattern()
    out = []
    # eval at res 16: Resize(round(16 / 0.875) = 18) on the short side + CenterCrop(16)
    out.append(("eval16", norm_hwc(TF.center_crop(bilinear(src, 18), 16))))
    # train crop (top 3, left 5, h 20, w 25) -> 16x16, flipped
    crop = TF.resized_crop(src, 3, 5, 20, 25, [16, 16], antialias=False)
    out.append(("crop_flip16", norm_hwc(TF.hflip(crop))))
    # upsampling crop (top 2, left 4, h 7, w 9) -> 20x20, not flipped
    out.append(("crop_up20", norm_hwc(TF.resized_crop(src, 2, 4, 7, 9, [20, 20], antialias=False))))
    # IDX: 28x28 gray (v = (x * 9 + y * 5) & 255), zero-padded to 32, resized to 40 and 24
    g = torch.zeros(1, 28, 28)
    for y in range(28):
        for x in range(28):
            g[0, y, x] = (x * 9 + y * 5) & 255
    pad = torch.nn.functional.pad(g, (2, 2, 2, 2)).repeat(3, 1, 1)
    out.append(("idx32", norm_hwc(pad)))
    out.append(("idx40", norm_hwc(bilinear(pad, [40, 40]))))
    out.append(("idx24", norm_hwc(bilinear(pad, [24, 24]))))
    # PIL's decode of the committed CMYK (Adobe) and grayscale seed JPEGs, as RGB bytes
    for name in ("cmyk", "gray"):
        with open("tests/fuzz/corpus_decode/%s.jpg" % name, "rb") as f:
            im = Image.open(io.BytesIO(f.read())).convert("RGB")
        out.append(("pil_" + name, list(im.tobytes())))
    with open("tests/fixtures/augment_ref.txt", "w") as f:
        for name, vals in out:
            f.write("%s %d\n" % (name, len(vals)))
            for v in vals:
                f.write(("%.7g\n" % v) if isinstance(v, float) else "%d\n" % v)


if __name__ == "__main__":
    main()
