"""Golden vectors on the default MNIST model: embedding them leaves every interpreter's output
on all 10,000 test images unchanged, adds a few KB, and `verify` passes on every backend.

The artifacts may predate golden vectors (the shared reference folder does), so the files are
copied and the vectors embedded here, as export does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_mnist.runtime import Classifier
from edge_mnist.runtime.backends import conflict, for_format, installed
from edge_mnist.runtime.engine import ROUNDINGS
from edge_mnist.runtime.golden import read_golden
from edge_mnist.runtime.verify import verify

pytestmark = pytest.mark.slow
FILES = ("model_int8.tflite", "model_float32.tflite", "model_int8.onnx", "model_float32.onnx")


@pytest.fixture(scope="module")
def embedded(
    artifacts: Path,
    test_images: tuple[np.ndarray, np.ndarray],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    pytest.importorskip("tensorflow")
    from edge_mnist.converters.golden import embed_golden

    folder = tmp_path_factory.mktemp("golden")
    for name in FILES:
        shutil.copy(artifacts / name, folder / name)
        if read_golden(folder / name) is None:
            embed_golden(folder / name, test_images[0])
    return folder


def _usable(fmt: str) -> list[str]:
    return [
        s.name
        for s in for_format(fmt)
        if installed(s) and conflict(s) is None and s.name != "tensorflow"
    ]


@pytest.mark.parametrize("name", FILES)
def test_interpreters_compute_the_same_on_the_embedded_file(
    artifacts: Path, embedded: Path, test_images: tuple[np.ndarray, np.ndarray], name: str
) -> None:
    images = test_images[0]
    growth = (embedded / name).stat().st_size - (artifacts / name).stat().st_size
    if read_golden(artifacts / name) is None:
        assert 2_000 < growth < 8_000  # a few KB
    for backend in _usable(Path(name).suffix[1:]):
        before = Classifier.load(artifacts / name, backend=backend).predict(images)
        after = Classifier.load(embedded / name, backend=backend).predict(images)
        np.testing.assert_array_equal(after.probabilities, before.probabilities)


@pytest.mark.parametrize("name", FILES)
def test_verify_passes_on_every_backend(embedded: Path, name: str) -> None:
    report = verify(embedded / name)
    assert report.ok, [c for c in report.checks if not c.ok]
    assert report.checks and all(
        c.largest_difference == 0 for c in report.checks if c.mode == "exact"
    )


def test_int8_golden_vectors_hold_the_inputs_where_the_variants_disagree(embedded: Path) -> None:
    golden = read_golden(embedded / "model_int8.tflite")
    assert golden is not None and golden.variants == ROUNDINGS
    disagree = [i for i, p in enumerate(golden.picks) if p == "disagree"]
    assert disagree  # the default model has a few such images (5 of 10,000 when measured)
    for i in disagree:
        rows = {golden.expected[r][i].tobytes() for r in ROUNDINGS}
        assert len(rows) > 1
