#!/usr/bin/env python3
"""Writes N photo-like 500x375 JPEGs (quality 90, 4:2:0) to OUT/train/synthetic/: smooth colour
gradients, a few soft blobs and Gaussian sensor noise, so they compress like real photos (about
60-120 kB each, near ImageNet's 110 kB average) rather than like flat synthetic images.
    /usr/bin/python3 bench/gen_photos.py OUT [N]"""
import os
import sys

import numpy as np
from PIL import Image


def photo(rng, w=500, h=375):
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        a, b, p = rng.uniform(-0.6, 0.6, 3)
        img[..., c] = 128 + 90 * np.sin(a * x / 40 + b * y / 50 + p * 6)
    for _ in range(6):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(20, 120)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
        img += blob[..., None] * rng.uniform(-120, 120, 3)
    img += rng.normal(0, 12, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def main():
    out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200
    d = os.path.join(out, "train", "synthetic")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        photo(rng).save(os.path.join(d, "img%04d.jpg" % i), quality=90, subsampling=2)


if __name__ == "__main__":
    main()
