"""'No digit here': images that are not one digit are refused or marked uncertain, from the ink.

Runs on the tiny fixture model and the synthetic non-digits of nondigits.py; the MNIST side (at
most 0.1% of test digits doubted, ruled paper as good as plain) is tests/test_no_digit_mnist.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from nondigits import (
    font_numbers,
    kinds,
    on_plain_paper,
    on_ruled_paper,
    ruled_page,
    serve_tap,
    side_by_side,
)
from PIL import Image
from tiny_models import DIGIT_PNGS

from edge_mnist.runtime import Classifier, ImageError
from edge_mnist.runtime.preprocess import prepare, to_mnist
from edge_mnist.runtime.preprocess.components import pieces
from edge_mnist.runtime.preprocess.rulings import remove_rulings


def _digits() -> list[np.ndarray]:
    return [np.asarray(Image.open(p).convert("L"), dtype=np.uint8) for p in DIGIT_PNGS]


@pytest.fixture(scope="module")
def clf(tiny: Path) -> Classifier:
    return Classifier.load(tiny / "model_int8.tflite", backend="numpy")


@pytest.mark.parametrize(
    "kind",
    ["dot", "word (font)", "word (strokes)", "two digits", "specks", "empty ruled/grid page"],
)
def test_every_non_digit_is_refused_or_uncertain(clf: Classifier, kind: str) -> None:
    images = kinds(np.random.default_rng(1), _digits())[kind]()
    assert len(images) >= 5
    for im in images:
        try:
            pred = clf.classify_image(im)
        except ImageError as exc:
            assert "digit" in exc.problem and exc.fix
            continue
        assert pred.uncertain and pred.reason, kind


@pytest.mark.parametrize("seed", range(6))
def test_specks_are_judged_by_the_ink_alone(seed: int) -> None:
    # Without the model's confidence: every speck image is refused or doubted by the ink. Seed 0
    # holds one whose lower specks merge into half the ink, which only the sparse rule catches.
    for im in kinds(np.random.default_rng(seed), _digits())["specks"]():
        try:
            _digit, doubt = prepare(im)
        except ImageError as exc:
            assert "digit" in exc.problem and exc.fix
            continue
        assert doubt is not None and "marks" in doubt


def test_refusals_name_what_was_seen_and_the_fix() -> None:
    cases = {
        "round blot": serve_tap(),
        "wider than tall": next(iter(kinds(np.random.default_rng(1), _digits())["word (font)"]())),
        "side by side": side_by_side(*_digits()[4:6]),
        "only ruled or grid lines": ruled_page(grid=True),
    }
    for seen, im in cases.items():
        with pytest.raises(ImageError, match=seen) as info:
            to_mnist(im, "drawing.png")
        assert info.value.problem.startswith("drawing.png: ")
        assert info.value.fix


def test_the_fixture_digits_are_neither_refused_nor_doubted(clf: Classifier) -> None:
    for d, (png, digit) in enumerate(zip(DIGIT_PNGS, _digits(), strict=True)):
        pred = clf.classify_image(png)
        assert not pred.uncertain and pred.reason is None
        assert int(pred.digits[0]) == d
        assert prepare(on_plain_paper(digit))[1] is None


def test_batches_are_not_judged(clf: Classifier) -> None:
    pred = clf.predict(np.zeros((3, 784), np.uint8))
    assert pred.uncertain is False and pred.reason is None


def test_a_digit_on_ruled_paper_comes_out_as_on_plain_paper(clf: Classifier) -> None:
    for d, digit in enumerate(_digits()):
        plain = to_mnist(on_plain_paper(digit))
        for grid in (False, True):
            im = on_ruled_paper(digit, grid=grid, colour=(170, 170, 170), thickness=1)
            ruled = to_mnist(im)
            # Framed like the plain one (with the rulings left in, the crop was the page and
            # the digit came out small); where a line crossed a stroke some ink is lost.
            assert np.corrcoef(ruled.ravel(), plain.ravel())[0, 1] > 0.6
            assert int(clf.classify_image(im).digits[0]) == d


def test_a_digit_bar_reaching_the_edge_is_not_a_ruling() -> None:
    # A tight crop of a 7: the bar spans the whole image, but so does the rest of the ink.
    seven = np.full((60, 40), 1.0, np.float32)
    seven[:6] = 0.0
    for row in range(6, 60):
        seven[row, max(0, 36 - (row - 6) * 36 // 54) : 40 - (row - 6) * 36 // 54] = 0.0
    ink = 1.0 - seven
    assert remove_rulings(ink, "x") is ink


def test_pieces_are_eight_connected() -> None:
    mask = np.zeros((6, 8), bool)
    mask[0, 0] = mask[1, 1] = mask[2, 2] = True  # one diagonal piece
    mask[4:6, 5:8] = True
    found = pieces(mask)
    assert [(p.size, p.r0, p.r1, p.c0, p.c1) for p in found] == [(6, 4, 6, 5, 8), (3, 0, 3, 0, 3)]


def test_predict_marks_a_number_uncertain_in_its_table_and_json(
    clf: Classifier, tmp_path: Path
) -> None:
    from edge_mnist.cli.plain import predictions
    from edge_mnist.runtime.predict import classify_inputs

    next(iter(font_numbers())).save(tmp_path / "42.png")
    report = classify_inputs(clf, [tmp_path / "42.png", DIGIT_PNGS[3]])
    doubted, plain = report.to_dict()["items"]
    assert doubted["uncertain"] is True and "side by side" in doubted["reason"]
    assert plain["uncertain"] is False and plain["reason"] is None and plain["digit"] == 3
    table = predictions("t", report.items).splitlines()
    assert table[2].split()[1] == "?" and table[3].split()[1] == "3"
    assert table[-1] == f"?  {tmp_path / '42.png'}: {doubted['reason']}"


def test_serve_answers_carry_the_doubt(tiny: Path) -> None:
    import io

    from edge_mnist.runtime.serve.service import DigitService

    service = DigitService.load(tiny / "model_int8.tflite", backend="numpy")
    buf = io.BytesIO()
    next(iter(font_numbers())).save(buf, format="PNG")
    out = service.predict("image/png", buf.getvalue())
    assert out["uncertain"] == [True] and "side by side" in out["reasons"][0]
    out = service.predict("image/png", DIGIT_PNGS[3].read_bytes())
    assert out["uncertain"] == [False] and out["reasons"] == [None]
    with pytest.raises(ImageError, match="round blot"):
        buf = io.BytesIO()
        serve_tap().save(buf, format="PNG")
        service.predict("image/png", buf.getvalue())
    # JSON pixels are the model's own format: not judged.
    assert "uncertain" not in service.predict(
        "application/json", b'{"pixels": [' + b"0," * 783 + b"0]}"
    )
