"""Digits cropped to their ink: how many the preprocessing refuses, and what they cost in accuracy.

Every MNIST test digit is cropped to its bounding box (every pixel above 0), inverted to dark on
white and scaled x4, then classified through ``Classifier.classify_image`` (the path of
``edge-mnist predict``); the same digits with a white margin of 4 px per MNIST pixel are the
reference. Prints rejections and accuracy for both.

    python examples/tight_crop.py artifacts/model_int8.tflite --data-dir /path/to/mnist
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image

from edge_mnist.data import load_test_split
from edge_mnist.robustness.variations import crop_to_ink
from edge_mnist.runtime import Classifier, EdgeMnistError

SCALE = 4
MARGIN = 4 * SCALE


def score(clf: Classifier, images: np.ndarray, labels: np.ndarray, margin: int) -> tuple[int, int]:
    """(rejected, correct) over the images cropped, inverted, scaled and framed by ``margin``."""
    rejected = correct = 0
    for img, label in zip(images, labels, strict=True):
        framed = Image.fromarray(crop_to_ink(img, SCALE, margin))
        try:
            digit = int(clf.classify_image(framed).digits[0])
        except EdgeMnistError:
            rejected += 1
            continue
        correct += digit == label
    return rejected, correct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=None, help="only the first N test digits")
    args = parser.parse_args()
    clf = Classifier.load(args.model)
    images, labels = load_test_split(args.data_dir)
    images = images.reshape(-1, 28, 28)[: args.limit]
    labels = labels[: args.limit]
    n = len(labels)
    for name, margin in (("tight crop (no margin)", 0), (f"with a {MARGIN} px margin", MARGIN)):
        start = time.perf_counter()
        rejected, correct = score(clf, images, labels, margin)
        print(
            f"{name:24} {n} digits: {rejected} rejected, accuracy {100 * correct / n:.2f}% "
            f"({time.perf_counter() - start:.1f} s)"
        )


if __name__ == "__main__":
    main()
