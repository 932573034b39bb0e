"""Classifier and the predict pipeline on image files and IDX files, with the tiny models:
framing, the file kinds a user has, labels and accuracy, info against the manifest."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge_mnist.runtime import Classifier
from edge_mnist.runtime.describe import describe
from edge_mnist.runtime.predict import classify_inputs

pytestmark = pytest.mark.device


def _variant(path: Path, kind: str) -> Image.Image:
    """A fixture digit as the kind of file a user would have."""
    with Image.open(path) as im:
        gray = np.asarray(im.convert("L"), dtype=np.uint8)
    if kind == "png":
        return Image.fromarray(gray)
    if kind == "paper":  # dark ink on white paper, photographed larger
        return Image.fromarray(255 - gray).resize((112, 112), Image.Resampling.BICUBIC)
    if kind == "rgb":
        return Image.fromarray(np.stack([gray, gray // 2, gray], axis=-1))
    if kind == "offcentre":
        canvas = Image.new("L", (160, 120), 0)
        canvas.paste(Image.fromarray(gray), (110, 70))
        return canvas
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["png", "paper", "rgb", "offcentre"])
def test_every_kind_of_image_file_reads_as_its_digit(
    tiny_any: Path, digit_pngs: tuple[Path, ...], tmp_path: Path, kind: str
) -> None:
    files = []
    for digit, png in enumerate(digit_pngs):
        files.append(tmp_path / f"{digit}.png")
        _variant(png, kind).save(files[-1])
    clf = Classifier.load(tiny_any / "model_int8.tflite", backend="numpy")
    report = classify_inputs(clf, [tmp_path])
    assert report.errors == 0 and len(report.items) == 10
    assert [item.source for item in report.items] == [str(f) for f in files]
    assert [item.digit for item in report.items] == list(range(10))
    for item in report.items:
        assert item.top3[0] == (item.digit, item.confidence) and len(item.top3) == 3
        assert item.confidence is not None and 0.5 < item.confidence <= 1.0


def test_a_bad_file_is_an_item_error_and_the_others_still_classify(
    tiny: Path, digit_pngs: tuple[Path, ...], tmp_path: Path
) -> None:
    bad = tmp_path / "note.png"
    bad.write_text("not an image")
    clf = Classifier.load(tiny / "model_int8.tflite", backend="numpy")
    report = classify_inputs(clf, [digit_pngs[4], bad, digit_pngs[7]])
    assert [item.digit for item in report.items] == [4, None, 7]
    assert report.errors == 1
    error = report.items[1].error
    assert error is not None and "note.png" in error


def _idx(path: Path, array: np.ndarray, magic: int, compress: bool = False) -> Path:
    data = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    data += np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


def test_idx_images_with_labels_give_the_accuracy(
    tiny: Path, framed_digits: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    images, labels = framed_digits
    wrong = labels.copy()
    wrong[:20] = (wrong[:20] + 1) % 10  # a tenth of the labels off by one
    pixels = _idx(tmp_path / "images-idx3-ubyte.gz", images.reshape(-1, 28, 28), 0x803, True)
    truth = _idx(tmp_path / "labels-idx1-ubyte", wrong, 0x801)
    clf = Classifier.load(tiny / "model_int8.tflite", backend="numpy")
    report = classify_inputs(clf, [pixels], labels=truth)
    assert len(report.items) == 200 and report.errors == 0
    assert report.accuracy == pytest.approx(0.9)
    assert report.items[3].source == "images-idx3-ubyte.gz[3]"
    assert [item.digit for item in report.items] == labels.tolist()
    limited = classify_inputs(clf, [pixels], labels=truth, limit=10)
    assert len(limited.items) == 10 and limited.accuracy == 0.0  # the first 20 are all off


def test_predictions_are_probabilities_and_batches_agree_with_single_images(
    tiny: Path, framed_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = framed_digits
    clf = Classifier.load(tiny / "model_float32.tflite", backend="numpy")
    batch = clf.predict(images)
    assert batch.digits.tolist() == labels.tolist()
    assert batch.probabilities.shape == (200, 10) and batch.probabilities.dtype == np.float32
    assert np.allclose(batch.probabilities.sum(axis=1), 1.0, atol=1e-5)
    one = clf.predict(images[17])
    assert one.digits.tolist() == [labels[17]]
    np.testing.assert_allclose(one.probabilities[0], batch.probabilities[17], atol=1e-6)
    floats = clf.predict(images[:5].astype(np.float32) / 255)
    assert floats.digits.tolist() == labels[:5].tolist()


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            "model_int8.tflite", marks=pytest.mark.interpreter("litert", "tflite-runtime")
        ),
        pytest.param("model_int8.onnx", marks=pytest.mark.interpreter("onnxruntime")),
    ],
)
def test_the_default_interpreter_agrees_with_the_engine_on_the_pngs(
    tiny_any: Path, digit_pngs: tuple[Path, ...], name: str
) -> None:
    clf = Classifier.load(tiny_any / name)
    assert clf.info.backend != "numpy"
    engine = Classifier.load(tiny_any / "model_int8.tflite", backend="numpy")
    for png in digit_pngs:
        got, want = clf.classify_image(png), engine.classify_image(png)
        assert got.digits.tolist() == want.digits.tolist()
        if name.endswith(".tflite"):  # the same int8 graph: the same bytes
            np.testing.assert_array_equal(got.probabilities, want.probabilities)


def test_info_matches_the_manifest(tiny_any: Path) -> None:
    info = describe(tiny_any / "model_int8.tflite", backend="numpy")
    assert info["format"] == "tflite" and info["backend"] == "numpy"
    assert info["matches_manifest"] is True and info["manifest_problem"] is None
    assert info["manifest"]["precision"] == "int8"
    assert info["size_bytes"] == (tiny_any / "model_int8.tflite").stat().st_size
    assert info["sha256"] == info["manifest"]["sha256"]
