"""'No digit here' on MNIST: at most 0.1% of the test digits are doubted, none refused, and digits
on ruled paper read as on plain paper (the default int8 model; docs/2026-12-03-no-digit.md)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from PIL import Image

from edge_mnist.runtime import Classifier, EdgeMnistError

sys.path.insert(0, str(Path(__file__).parent / "unit"))
from nondigits import on_plain_paper, on_ruled_paper


def _png(im: Image.Image) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    buf.seek(0)
    return Image.open(buf)


def test_at_most_ten_mnist_test_digits_are_refused_or_doubted(artifacts: Path, test_images) -> None:  # type: ignore[no-untyped-def]
    x = test_images[0].reshape(-1, 28, 28)
    clf = Classifier.load(artifacts / "model_int8.tflite")
    flagged = []
    for i in range(len(x)):
        try:
            if clf.classify_image(_png(Image.fromarray(x[i]))).uncertain:
                flagged.append(i)
        except EdgeMnistError:
            flagged.append(i)
    assert len(x) == 10_000
    assert len(flagged) <= 10, flagged


def test_digits_on_ruled_paper_read_like_on_plain_paper(artifacts: Path, test_images) -> None:  # type: ignore[no-untyped-def]
    x, y = test_images[0].reshape(-1, 28, 28), test_images[1]
    clf = Classifier.load(artifacts / "model_int8.tflite")
    n = 300
    plain = sum(int(clf.classify_image(on_plain_paper(x[i])).digits[0] == y[i]) for i in range(n))
    ruled = sum(
        int(
            clf.classify_image(
                on_ruled_paper(x[i], colour=(190, 190, 190), thickness=1, spacing=20, offset=i % 20)
            ).digits[0]
            == y[i]
        )
        for i in range(n)
    )
    assert ruled >= plain - 3, (plain, ruled)
