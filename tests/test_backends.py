"""The backend table and the checks every backend makes when it loads a model (real interpreters)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np
import pytest

from edge_mnist.cli.options import BACKEND_HELP
from edge_mnist.runtime import (
    BackendUnavailableError,
    Classifier,
    InvalidInputError,
    ModelLoadError,
)
from edge_mnist.runtime.backends import (
    BACKENDS,
    FORMATS,
    ONNX,
    SPECS,
    TABLE,
    TFLITE,
    BackendSpec,
    check_threads,
    for_format,
    installed,
    pick_backend,
    spec_for,
)
from edge_mnist.runtime.backends.base import bad_tensor_names
from edge_mnist.runtime.backends.probe import probe_in_child
from edge_mnist.runtime.bench.config import BenchConfig
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


def test_an_unknown_backend_is_one_error_wherever_it_is_named(tmp_path: Path) -> None:
    from edge_mnist.gate import run_gate

    (tmp_path / "manifest.json").write_text('{"artifacts": {}}')
    calls = {
        "table": lambda: spec_for("nope"),
        "picking": lambda: pick_backend(TFLITE, "nope"),
        "bench": lambda: BenchConfig(backends=("numpy", "nope")).validate(),
        "gate": lambda: run_gate(tmp_path, backend="nope"),
    }
    for where, call in calls.items():
        with pytest.raises(BackendUnavailableError) as info:
            call()
        assert info.value.problem == "unknown backend 'nope'.", where
        assert info.value.fix == f"choose one of: {', '.join(BACKENDS)}.", where
        assert info.value.exit_code == 2
    assert spec_for("numpy") is SPECS["numpy"]


def test_threads_below_one_are_one_error_in_the_runtime_and_the_bench(tmp_path: Path) -> None:
    calls = {
        "check": lambda: check_threads(0),
        "load": lambda: Classifier.load(tmp_path / "never-read.tflite", threads=0),
        "bench": lambda: BenchConfig(threads=0).validate(),
    }
    for where, call in calls.items():
        with pytest.raises(InvalidInputError) as info:
            call()
        assert info.value.problem == "threads must be at least 1, got 0.", where
        assert info.value.fix is not None and "--threads 1 or more" in info.value.fix
    for fine in (None, 1, 8):
        check_threads(fine)
        BenchConfig(threads=fine).validate()


def test_a_child_probe_words_bad_tensor_names_as_a_load_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An interpreter module that fails on the names the way tflite-runtime does, run for real
    # in the probe's child process.
    (tmp_path / "names_interpreter.py").write_text(
        "class Interpreter:\n"
        "    def __init__(self, model_path):\n"
        "        b'pix\\xffls'.decode('utf-8')\n"
    )
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = tmp_path / "bad.tflite"
    model.write_bytes(b"\0" * 64)
    spec = BackendSpec("names", TFLITE, "names_interpreter", (), "", "tflite:TFLiteBackend")
    with pytest.raises(ModelLoadError) as child:
        probe_in_child(spec, model, "1")
    try:
        b"pix\xffls".decode("utf-8")
    except UnicodeDecodeError as exc:
        here = bad_tensor_names(model, exc)
    assert here.problem == (
        f"{model}: the model's tensor names are not valid UTF-8 (invalid start byte at byte 3), "
        "so the file is damaged or was not written by a converter."
    )
    prefix = f"{model}: the model's tensor names are not valid UTF-8 (UnicodeDecodeError: "
    assert child.value.problem.startswith(prefix)
    assert child.value.problem.endswith(
        "), so the file is damaged or was not written by a converter."
    )
    assert child.value.fix == here.fix == "export the model again, or copy it to the device again."


def _onnx_model(path: Path, in_shape: list[object], out_dim: int) -> Path:
    """A one-op ONNX model: flatten the input, multiply by a fixed (784, out_dim) matrix."""
    onnx = pytest.importorskip("onnx")
    if not installed(SPECS["onnxruntime"]):
        pytest.skip("onnxruntime is not installed")
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


def test_a_model_that_does_not_take_784_pixels_is_refused(tmp_path: Path) -> None:
    path = _onnx_model(tmp_path / "five.onnx", ["N", 5], 10)
    with pytest.raises(
        ModelLoadError, match=r"five\.onnx: its input 'pixels' has shape \('N', 5\)"
    ):
        Classifier.load(path)


def test_a_model_that_does_not_give_10_scores_is_refused(tmp_path: Path) -> None:
    path = _onnx_model(tmp_path / "wide.onnx", ["N", 784], 784)
    with pytest.raises(ModelLoadError, match=r"its output 'scores' has shape \('N', 784\)"):
        Classifier.load(path)


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
