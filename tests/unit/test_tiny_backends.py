"""Choosing and loading a backend, on the tiny models: the default, the NumPy engine without
any interpreter, the errors for a wrong, unknown or missing backend or a bad file, and ONNX."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_mnist.runtime import BackendUnavailableError, Classifier, ModelLoadError
from edge_mnist.runtime.backends import (
    BACKENDS,
    ONNX,
    TABLE,
    TFLITE,
    conflict,
    for_format,
    installed,
    pick_backend,
)

pytestmark = pytest.mark.device


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("model_int8.tflite", b"serving_default_pixels:0", b"serving_default_pi\xff\xfels:0"),
        pytest.param(
            "model_float32.onnx",
            b"pixels",
            b"pix\xffls",
            marks=pytest.mark.interpreter("onnxruntime"),
        ),
    ],
)
def test_tensor_names_that_are_not_utf8_are_a_load_error(
    tiny: Path, tmp_path: Path, name: str, old: bytes, new: bytes
) -> None:
    data = (tiny / name).read_bytes()
    assert old in data and len(old) == len(new)
    path = tmp_path / f"bad-{name}"
    path.write_bytes(data.replace(old, new))
    with pytest.raises(ModelLoadError, match=r"bad-model.*not valid UTF-8") as info:
        Classifier.load(path)
    assert info.value.fix and "export the model again" in info.value.fix


def _usable(fmt: str) -> list[str]:
    return [s.name for s in for_format(fmt) if installed(s) and conflict(s) is None]


def test_the_default_backend_is_the_first_usable_row_of_the_table(tiny: Path) -> None:
    usable = _usable(TFLITE)
    assert "numpy" in usable  # the engine needs no package: a .tflite model always loads
    assert pick_backend(TFLITE).name == usable[0]
    clf = Classifier.load(tiny / "model_int8.tflite")
    assert clf.info.backend == usable[0] and clf.info.format == TFLITE


@pytest.mark.parametrize("name", ["model_int8.tflite", "model_float32.tflite"])
def test_the_numpy_backend_loads_without_any_interpreter(tiny: Path, name: str) -> None:
    clf = Classifier.load(tiny / name, backend="numpy")
    assert clf.info.backend == "numpy"
    assert clf.info.input.dtype == ("int8" if "int8" in name else "float32")
    assert clf.predict(np.zeros((2, 784), np.uint8)).digits.shape == (2,)


def test_a_backend_that_does_not_fit_the_format_or_does_not_exist(tiny: Path) -> None:
    with pytest.raises(BackendUnavailableError, match="cannot run tflite") as info:
        Classifier.load(tiny / "model_int8.tflite", backend="onnxruntime")
    assert info.value.fix and "numpy" in info.value.fix
    with pytest.raises(BackendUnavailableError, match="cannot run onnx"):
        Classifier.load(tiny / "model_int8.onnx", backend="numpy")
    with pytest.raises(BackendUnavailableError, match="unknown backend 'nope'") as info:
        Classifier.load(tiny / "model_int8.tflite", backend="nope")
    assert info.value.fix and all(name in info.value.fix for name in BACKENDS)


def test_a_missing_backend_names_the_package_to_install(tiny: Path) -> None:
    absent = [s for s in TABLE if s.module is not None and not installed(s)]
    if not absent:
        pytest.skip("every interpreter package is installed here")
    spec = absent[0]
    model = tiny / ("model_int8.tflite" if spec.format == TFLITE else "model_int8.onnx")
    with pytest.raises(BackendUnavailableError, match="is not installed") as info:
        Classifier.load(model, backend=spec.name)
    assert info.value.fix == spec.install and "pip install" in spec.install


def test_missing_and_empty_model_files_are_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no such model file"):
        Classifier.load(tmp_path / "nope.tflite")
    (tmp_path / "empty.tflite").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="the file is empty"):
        Classifier.load(tmp_path / "empty.tflite")
    (tmp_path / "text.tflite").write_text("not a model\n")
    with pytest.raises(ModelLoadError, match="not a valid TFLite file"):
        Classifier.load(tmp_path / "text.tflite")


def test_a_truncated_tflite_is_a_load_error_for_the_engine(tiny: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.tflite"
    cut.write_bytes((tiny / "model_int8.tflite").read_bytes()[:5000])
    with pytest.raises(ModelLoadError, match=r"cut\.tflite"):
        Classifier.load(cut, backend="numpy")


@pytest.mark.interpreter("onnxruntime")
@pytest.mark.parametrize("precision", ["int8", "float32"])
def test_onnx_models_agree_with_the_tflite_models(
    tiny_any: Path, framed_digits: tuple[np.ndarray, np.ndarray], precision: str
) -> None:
    images, labels = framed_digits
    onnx = Classifier.load(tiny_any / f"model_{precision}.onnx")
    assert onnx.info.backend == "onnxruntime" and onnx.info.format == ONNX
    got = onnx.predict(images)
    assert np.array_equal(got.digits, labels)
    reference = Classifier.load(tiny_any / f"model_{precision}.tflite", backend="numpy")
    # Float: the same graph in two runtimes. Int8: ONNX quantizes its own way (QDQ), so only
    # close: the export's own agreement check allows 0.5 on a probability.
    tolerance = 1e-5 if precision == "float32" else 0.5
    diff = np.abs(got.probabilities - reference.predict(images).probabilities).max()
    assert float(diff) <= tolerance
