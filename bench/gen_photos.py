#!/usr/bin/env python3
"""Writes N photo-like 500x375 JPEGs (quality 90, 4:2:0) to OUT/train/synthetic/: smooth colour
gradients, a few soft blobs and Gaussian sensor noise, so they compress like real photos (about
60-120 kB each, near ImageNet's 110 kB average) rather than like flat synthetic images.
    /usr/bin/python3 bench/gen_photos.py OUT [N]
With --classes K [--val V] [--size WxH]: a classification set in ImageNet layout instead,
OUT/train/cK/ (N images per class) and OUT/val/cK/ (V per class, default N / 4). Class k is a
direction and a tint: its gradients at +-(k % B + 0.5) * 90 / B degrees from the horizontal
(B = (K + 1) / 2 bins, +- an eighth of a bin; the sign at random, so a horizontal flip keeps
the class) and warm (k < B: red up, blue down by 25) or cool; everything else random.
    /usr/bin/python3 bench/gen_photos.py OUT 300 --classes 6 --val 60 --size 256x192"""
import os
import sys

import numpy as np
from PIL import Image


def photo(rng, w=500, h=375, angle=None, tint=0.0):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        a, b, p = rng.uniform(-0.6, 0.6, 3)
        if angle is not None:  # the class: the gradients' direction
            f = rng.uniform(0.3, 0.8)
            a, b = f * np.cos(angle), f * np.sin(angle) * 50 / 40
        img[..., c] = 128 + 90 * np.sin(a * x / 40 + b * y / 50 + p * 6)
    for _ in range(6):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(20, 120)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
        img += blob[..., None] * rng.uniform(-120, 120, 3)
    img[..., 0] += tint
    img[..., 2] -= tint
    img += rng.normal(0, 12, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def option(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def main():
    out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2][0] != "-" else 200
    rng = np.random.default_rng(0)
    if "--classes" not in sys.argv:
        d = os.path.join(out, "train", "synthetic")
        os.makedirs(d, exist_ok=True)
        for i in range(n):
            photo(rng).save(os.path.join(d, "img%04d.jpg" % i), quality=90, subsampling=2)
        return
    k_classes, val = int(option("--classes", 10)), int(option("--val", max(1, n // 4)))
    w, h = (int(v) for v in option("--size", "500x375").split("x"))
    for split, count in (("train", n), ("val", val)):
        for k in range(k_classes):
            d = os.path.join(out, split, "c%02d" % k)
            os.makedirs(d, exist_ok=True)
            for i in range(count):
                bins = (k_classes + 1) // 2
                angle = (k % bins + 0.5 + rng.uniform(-0.125, 0.125)) * np.pi / 2 / bins
                angle *= rng.choice([-1.0, 1.0])
                photo(rng, w, h, angle, 25.0 if k < bins else -25.0).save(os.path.join(d, "img%04d.jpg" % i), quality=90,
                                             subsampling=2)


if __name__ == "__main__":
    main()
