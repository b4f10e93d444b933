#!/usr/bin/env python3
"""The torchvision reference for bench/decode_bench.c on the same files, one thread:
PIL open + convert("RGB") + RandomResizedCrop(224) + RandomHorizontalFlip + ToTensor + Normalize,
and the eval pipeline Resize(256) + CenterCrop(224).
    /usr/bin/python3 bench/torchvision_bench.py DIR [passes]"""
import glob
import sys
import time

import torch
import torchvision.transforms as T
from PIL import Image

torch.set_num_threads(1)
NORM = T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
TRAIN = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), NORM])
EVAL = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), NORM])


def run(files, passes, tf):
    t0 = time.perf_counter()
    for _ in range(passes):
        for f in files:
            with open(f, "rb") as fh:
                tf(Image.open(fh).convert("RGB"))
    return passes * len(files) / (time.perf_counter() - t0)


def main():
    files = sorted(glob.glob(sys.argv[1] + "/*.jpg"))
    passes = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    run(files, 1, EVAL)
    print("torchvision train RandomResizedCrop(224)+flip+ToTensor+Normalize: %.1f images/s"
          % run(files, passes, TRAIN))
    print("torchvision eval Resize(256)+CenterCrop(224)+ToTensor+Normalize: %.1f images/s"
          % run(files, passes, EVAL))


if __name__ == "__main__":
    main()
