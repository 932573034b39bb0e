"""The backend table and the checks every backend makes when it loads a model (real interpreters)."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from edge_mnist.cli.options import BACKEND_HELP
from edge_mnist.runtime import BackendUnavailableError, Classifier, ModelLoadError
from edge_mnist.runtime.backends import (
    BACKENDS,
    FORMATS,
    ONNX,
    SPECS,
    TABLE,
    TFLITE,
    conflict,
    for_format,
    installed,
    pick_backend,
)
from edge_mnist.runtime.sysinfo import VERSIONED

pytestmark = pytest.mark.device


def test_every_row_names_a_format_and_a_class_that_loads() -> None:
    assert BACKENDS == tuple(s.name for s in TABLE) == tuple(SPECS)
    for spec in TABLE:
        assert spec.format in FORMATS
        module, _, cls = spec.impl.partition(":")
        impl = getattr(importlib.import_module(f"edge_mnist.runtime.backends.{module}"), cls)
        assert callable(getattr(impl, "run", None)) and callable(getattr(impl, "raw_call", None))
        # A backend either needs a package (and says how to install it) or needs none.
        assert (spec.module is None) == (not spec.dists)
        if spec.dist:
            assert spec.dist in spec.install and set(spec.dists) <= set(VERSIONED)
    assert [s.name for s in for_format(TFLITE)] == [
        "litert",
        "tflite-runtime",
        "numpy",
        "tensorflow",
    ]
    assert [s.name for s in for_format(ONNX)] == ["onnxruntime"]


def test_the_cli_offers_every_backend_of_the_table() -> None:
    for name in BACKENDS:
        assert name in BACKEND_HELP


def _patched(source: Path, target: Path, old: bytes, new: bytes) -> Path:
    data = source.read_bytes()
    assert old in data and len(old) == len(new)
    target.write_bytes(data.replace(old, new))
    return target


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
    path = _patched(tiny / name, tmp_path / f"bad-{name}", old, new)
    with pytest.raises(ModelLoadError, match=r"bad-model.*not valid UTF-8") as info:
        Classifier.load(path)
    assert info.value.fix and "export the model again" in info.value.fix


def _onnx_model(path: Path, in_shape: list[object], out_dim: int) -> Path:
    """A one-op ONNX model: flatten the input, multiply by a fixed (784, out_dim) matrix."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    per_image = int(np.prod([d for d in in_shape[1:] if isinstance(d, int)]))
    weights = np.random.default_rng(0).standard_normal((per_image, out_dim)).astype(np.float32)
    nodes = [
        helper.make_node("Flatten", ["pixels"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "w"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", out_dim])],
        [numpy_helper.from_array(weights, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.mark.interpreter("onnxruntime")
def test_a_model_that_does_not_take_784_pixels_is_refused(tmp_path: Path) -> None:
    path = _onnx_model(tmp_path / "five.onnx", ["N", 5], 10)
    with pytest.raises(
        ModelLoadError, match=r"five\.onnx: its input 'pixels' has shape \('N', 5\)"
    ):
        Classifier.load(path)


@pytest.mark.interpreter("onnxruntime")
def test_a_model_that_does_not_give_10_scores_is_refused(tmp_path: Path) -> None:
    path = _onnx_model(tmp_path / "wide.onnx", ["N", 784], 784)
    with pytest.raises(ModelLoadError, match=r"its output 'scores' has shape \('N', 784\)"):
        Classifier.load(path)


@pytest.mark.interpreter("onnxruntime")
def test_a_28x28_input_model_gets_28x28_batches(tmp_path: Path) -> None:
    path = _onnx_model(tmp_path / "square.onnx", ["N", 28, 28], 10)
    clf = Classifier.load(path)
    images = np.random.default_rng(1).integers(0, 256, (5, 784), dtype=np.uint8)
    assert clf.prepare(images).shape == (5, 28, 28)
    flat = _onnx_model(tmp_path / "flat.onnx", ["N", 784], 10)
    expected = Classifier.load(flat).predict(images)
    got = clf.predict(images)
    np.testing.assert_array_equal(got.digits, expected.digits)
    np.testing.assert_allclose(got.probabilities, expected.probabilities, rtol=1e-5)


# --- choosing and loading a backend, on the tiny models -----------------------------------------


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
