"""The NumPy engine on the tiny models: byte-identical with the real TFLite interpreters, its
layers, its adapter's checks, batches and threads (no MNIST: seconds, not minutes)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from tiny_models import int8_input, png_pixels

from edge_mnist.runtime import Classifier
from edge_mnist.runtime.backends import (
    SPECS,
    Backend,
    TensorInfo,
    conflict,
    installed,
    load_backend,
)
from edge_mnist.runtime.engine import Engine
from edge_mnist.runtime.engine.rounding import INTERPRETER_ROUNDING
from edge_mnist.runtime.errors import InvalidInputError

pytestmark = pytest.mark.device

# The TFLite interpreters that can run here (tflite-runtime wheels are built for numpy 1 only).
TFLITE_INTERPRETERS = [
    name
    for name in ("litert", "tflite-runtime")
    if installed(SPECS[name]) and conflict(SPECS[name]) is None
]


def numpy_backend(path: Path, rounding: str | None = None) -> Backend:
    """The engine through the backend table, as ``--backend numpy [--rounding R]`` loads it."""
    return load_backend(SPECS["numpy"], path, rounding=rounding)


def _inputs(framed: np.ndarray, noise: np.ndarray, precision: str) -> np.ndarray:
    pixels = np.concatenate([framed, noise])
    if precision == "int8":
        return int8_input(pixels)
    return pixels.astype(np.float32) / np.float32(255)


@pytest.mark.interpreter("litert", "tflite-runtime")
@pytest.mark.parametrize("interpreter", TFLITE_INTERPRETERS or ["litert"])
@pytest.mark.parametrize("precision", ["int8", "float32"])
def test_engine_matches_the_interpreter(
    tiny_any: Path,
    framed_digits: tuple[np.ndarray, np.ndarray],
    noise: np.ndarray,
    interpreter: str,
    precision: str,
) -> None:
    path = tiny_any / f"model_{precision}.tflite"
    x = _inputs(framed_digits[0], noise, precision)
    expected = Classifier.load(path, backend=interpreter).backend.run(x)
    # Each interpreter against the engine variant of its own rounding (tflite-runtime 2.14 is
    # TFLite's built-in kernels: 'reference'; litert's default XNNPACK path: 'litert').
    got = numpy_backend(path, INTERPRETER_ROUNDING[interpreter]).run(x)
    assert got.dtype == expected.dtype == np.dtype(precision) and got.shape == (500, 10)
    if precision == "int8":
        differing = int((got != expected).any(axis=1).sum())
        assert differing == 0, f"{differing} of 500 outputs differ from {interpreter}"
    else:
        assert np.array_equal(got.argmax(1), expected.argmax(1))
        # Float sums in another order; noise drives the logits further than digits (1e-5 there).
        assert float(np.abs(got - expected).max()) <= 5e-5


@pytest.mark.interpreter("litert")
@pytest.mark.filterwarnings("ignore:Warning. Enabling `experimental_preserve_all_tensors`")
@pytest.mark.parametrize("precision", ["int8", "float32"])
def test_layers_match_the_interpreters_intermediate_tensors(
    tiny_any: Path, framed_digits: tuple[np.ndarray, np.ndarray], noise: np.ndarray, precision: str
) -> None:
    from ai_edge_litert.interpreter import Interpreter

    path = tiny_any / f"model_{precision}.tflite"
    x = _inputs(framed_digits[0], noise, precision)
    engine = Engine.load(path)
    layers = engine.layers(x)
    hidden = [16] if tiny_any.name == "tiny-16" else [8, 8]
    assert [layer.op for layer in layers] == ["FULLY_CONNECTED"] * (len(hidden) + 1) + ["SOFTMAX"]
    assert [layer.values.shape[1] for layer in layers] == [*hidden, 10, 10]
    assert np.array_equal(layers[-1].values, engine.run(x))
    it = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True)
    index = it.get_input_details()[0]["index"]
    it.resize_tensor_input(index, x.shape)
    it.allocate_tensors()
    it.set_tensor(index, x)
    it.invoke()
    for layer, step in zip(layers, engine.steps, strict=True):
        expected = it.get_tensor(step.target)
        if precision == "int8":
            assert layer.values.dtype == np.int8 and layer.scale is not None and layer.scale > 0
            assert np.array_equal(layer.values, expected), f"layer {layer.index} ({layer.name})"
        else:
            assert layer.scale is None
            assert float(np.abs(layer.values - expected).max()) <= 1e-4
    # ReLU layers: nothing below the zero point.
    relu = layers[: len(hidden)]
    assert all(int(layer.values.min()) >= (layer.zero_point or 0) for layer in relu)


def test_engine_reads_the_ten_digits(tiny_any: Path, digit_pngs: tuple[Path, ...]) -> None:
    """No interpreter needed: the engine alone, through the classifier, on the PNG files."""
    clf = Classifier.load(tiny_any / "model_int8.tflite", backend="numpy")
    got = [int(clf.classify_image(p).digits[0]) for p in digit_pngs]
    assert got == list(range(10))


def test_engine_scores_what_the_manifest_recorded(
    tiny: Path, framed_digits: tuple[np.ndarray, np.ndarray]
) -> None:
    """The tiny models were exported at 100% on their synthetic test set; the engine agrees on
    these framed digits and its input/output quantization is the manifest's."""
    manifest = json.loads((tiny / "manifest.json").read_text())["artifacts"]
    entry = manifest["model_int8.tflite"]
    assert entry["test_accuracy"] == 1.0
    backend = numpy_backend(tiny / "model_int8.tflite")
    images, labels = framed_digits
    assert np.array_equal(backend.run(int8_input(images)).argmax(1), labels)
    assert backend.input.scale == pytest.approx(entry["input"]["scale"])
    assert backend.input.zero_point == entry["input"]["zero_point"]
    assert backend.output.scale == pytest.approx(entry["output"]["scale"])
    assert backend.output.zero_point == entry["output"]["zero_point"]
    floats = numpy_backend(tiny / "model_float32.tflite").run(images.astype(np.float32) / 255)
    assert np.array_equal(floats.argmax(1), labels)


def test_backend_adapter_interface_and_input_checks(tiny: Path) -> None:
    backend = numpy_backend(tiny / "model_int8.tflite")
    assert backend.name == "numpy" and "numpy" in backend.version
    assert isinstance(backend.input, TensorInfo) and isinstance(backend.output, TensorInfo)
    assert backend.input.dtype == "int8" and backend.input.shape == (-1, 784)
    assert backend.input.scale == pytest.approx(1 / 255) and backend.input.zero_point == -128
    assert backend.output.scale == pytest.approx(1 / 256) and backend.output.zero_point == -128
    with pytest.raises(InvalidInputError, match="takes int8 input, got float32"):
        backend.run(np.zeros((1, 784), np.float32))
    with pytest.raises(InvalidInputError, match=r"batches of shape \(N, 784\)"):
        backend.run(np.zeros((1, 28, 28), np.int8))
    with pytest.raises(InvalidInputError, match=r"batches of shape"):
        backend.run(np.zeros((0, 784), np.int8))
    with pytest.raises(InvalidInputError, match="numpy array"):
        backend.run([[0] * 784])  # type: ignore[arg-type]


def test_any_batch_size_and_threads_give_the_same_rows(tiny_any: Path, noise: np.ndarray) -> None:
    backend = numpy_backend(tiny_any / "model_int8.tflite")
    x = int8_input(noise[:97])
    whole = backend.run(x)
    rows = np.concatenate([backend.raw_call(x[i : i + 1])(x[i : i + 1]) for i in range(len(x))])
    assert np.array_equal(whole, rows)
    assert np.array_equal(backend.run(x[:3]), whole[:3])
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(20):
            results[i] = backend.run(x[i : i + 40])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        assert np.array_equal(results[i], whole[i : i + 40])


def test_raw_png_pixels_are_not_what_the_model_sees(digit_pngs: tuple[Path, ...]) -> None:
    """The fixture PNGs are drawn, not framed: preprocessing moves them (so the PNG tests above
    exercise the framing, not just the model)."""
    from edge_mnist.runtime.preprocess import to_mnist

    moved = [
        not np.array_equal(png_pixels(p), np.round(to_mnist(p) * 255).astype(np.uint8).ravel())
        for p in digit_pngs
    ]
    assert sum(moved) >= 8
