"""Another population of writers: scikit-learn's bundled UCI digits through the predict path.

The 1,797 8x8 digits (43 writers, 17 grey levels) that ship inside scikit-learn are rendered as
64x64 dark-on-white images and classified with ``Classifier.classify_image`` (the path of
``edge-mnist predict``). Prints accuracy, rejections and the per-digit accuracy. ``--write DIR``
also saves them as ``<digit>/<index>.png``, a labelled folder: ``edge-mnist predict MODEL DIR``
scores it, and ``edge-mnist robustness --images DIR`` reads it.

Needs scikit-learn (the ``dev`` extra); a device never does.

    python examples/sklearn_digits.py artifacts/model_int8.tflite [--write digits-uci]
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

import numpy as np
from PIL import Image

from edge_mnist.runtime import Classifier, EdgeMnistError

SIDE = 64


def render(pixels: np.ndarray) -> Image.Image:
    """One 8x8 digit (0-16, light ink on black) as a 64x64 dark-on-white grayscale image."""
    ink = np.round(pixels.reshape(8, 8) * (255 / 16)).astype(np.uint8)
    small = Image.fromarray((255 - ink).astype(np.uint8))
    return small.resize((SIDE, SIDE), Image.Resampling.BILINEAR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--backend", default=None)
    parser.add_argument("--write", type=Path, default=None, help="also save the PNGs here")
    args = parser.parse_args()
    from sklearn.datasets import load_digits

    digits = load_digits()
    clf = Classifier.load(args.model, backend=args.backend)
    if args.write is not None:
        for digit in range(10):
            (args.write / str(digit)).mkdir(parents=True, exist_ok=True)
    predicted = np.full(len(digits.target), -1)
    for i, (pixels, label) in enumerate(zip(digits.data, digits.target, strict=True)):
        image = render(pixels)
        if args.write is not None:
            image.save(args.write / str(label) / f"{i:04d}.png")
        # A refused image stays at -1: wrong, and counted as rejected.
        with contextlib.suppress(EdgeMnistError):
            predicted[i] = int(clf.classify_image(image).digits[0])
    labels = digits.target
    n = len(labels)
    print(
        f"{args.model}: {n} scikit-learn digits, accuracy {100 * (predicted == labels).mean():.2f}%, "
        f"{int((predicted < 0).sum())} rejected"
    )
    per_digit = "  ".join(
        f"{d}: {100 * (predicted[labels == d] == d).mean():.0f}%" for d in range(10)
    )
    print(f"per digit  {per_digit}")


if __name__ == "__main__":
    main()
