"""--extra-images: a user's labelled folder read through the runtime's preprocessing, repeated to
a tenth of an epoch, and refused with the files named when it cannot be used (no MNIST, no TF)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from edge_mnist.errors import DataError
from edge_mnist.extra_images import SHARE, load_extra_images, mix_in
from edge_mnist.runtime.preprocess import to_mnist


def _stroke(path: Path, points: list[tuple[int, int]]) -> None:
    image = Image.new("L", (64, 64), 255)
    ImageDraw.Draw(image).line(points, fill=0, width=6)
    image.save(path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    # Both layouts at once: a name ending in _<digit>, and a subfolder named by the digit.
    _stroke(tmp_path / "a_1.png", [(32, 8), (32, 56)])
    (tmp_path / "7").mkdir()
    _stroke(tmp_path / "7" / "mine.png", [(12, 10), (52, 10), (26, 56)])
    return tmp_path


def test_images_are_read_with_their_labels_as_predict_preprocesses_them(folder: Path) -> None:
    extra = load_extra_images(folder)
    assert extra.y.tolist() == [7, 1]  # sorted paths: "7/mine.png" before "a_1.png"
    assert extra.x.shape == (2, 784) and extra.x.dtype == np.float32
    np.testing.assert_array_equal(extra.x[1], to_mnist(folder / "a_1.png").reshape(784))
    record = extra.record(55_000)
    assert record["images"] == 2 and record["per_digit"] == [0, 1, 0, 0, 0, 0, 0, 1, 0, 0]
    # The digest is over what the model trains on: the preprocessed pixels and the labels.
    assert record["sha256"] == hashlib.sha256(extra.x.tobytes() + extra.y.tobytes()).hexdigest()
    relabelled = replace(extra, y=np.array([7, 4], np.uint8))
    assert relabelled.digest != extra.digest


def test_repeated_to_a_tenth_of_the_epoch(folder: Path) -> None:
    extra = load_extra_images(folder)
    x = np.zeros((900, 784), np.float32)
    y = np.zeros(900, np.uint8)
    mixed_x, mixed_y = mix_in(x, y, extra)
    k = extra.repeats(900)
    assert k == 50  # 100 extra rows against 900: a tenth of the 1,000
    assert len(mixed_y) == 900 + 2 * k and mixed_x.shape == (900 + 2 * k, 784)
    assert (mixed_y[900:] == 7).sum() == k and (mixed_y[900:] == 1).sum() == k
    assert abs(2 * k / len(mixed_y) - SHARE) < 0.01
    # A folder larger than a tenth of the epoch goes in once; so does any folder without
    # augmentation, where the copies would be identical.
    assert extra.repeats(10) == 1
    assert extra.repeats(900, augment=False) == 1
    assert len(mix_in(x, y, extra, augment=False)[1]) == 902


def test_a_refused_image_is_named_with_the_fix(folder: Path) -> None:
    Image.new("L", (64, 64), 255).save(folder / "blank_3.png")
    with pytest.raises(DataError) as info:
        load_extra_images(folder)
    message = str(info.value)
    assert "1 of 3 images" in message and "blank_3.png" in message
    assert "remove or fix them" in message


@pytest.mark.parametrize("make", ["missing", "empty", "unlabelled"])
def test_an_unusable_folder_says_what_to_pass(tmp_path: Path, make: str) -> None:
    target = tmp_path / "digits"
    if make != "missing":
        target.mkdir()
    if make == "unlabelled":
        _stroke(target / "digit.png", [(32, 8), (32, 56)])
    with pytest.raises(DataError) as info:
        load_extra_images(target)
    assert "--extra-images" in str(info.value)
    assert "0 to 9" in str(info.value)
