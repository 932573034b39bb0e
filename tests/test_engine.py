"""The numpy engine on the exported models: bit-exact with ai-edge-litert, layers, adapter."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge_mnist.runtime.backends import SPECS, Backend, load_backend
from edge_mnist.runtime.engine import Engine


def numpy_backend(path: str | Path) -> Backend:
    """The engine through the backend table, as ``--backend numpy`` loads it."""
    return load_backend(SPECS["numpy"], Path(path))


def _int8_input(images: np.ndarray) -> np.ndarray:
    """uint8 pixels as the exported int8 input (scale 1/255, zero point -128)."""
    return (images.astype(np.int16) - 128).astype(np.int8)


def _litert(path: Path, x: np.ndarray, preserve: bool = False):  # type: ignore[no-untyped-def]
    interpreter_mod = pytest.importorskip("ai_edge_litert.interpreter")
    it = interpreter_mod.Interpreter(
        model_path=str(path), experimental_preserve_all_tensors=preserve
    )
    detail = it.get_input_details()[0]
    it.resize_tensor_input(detail["index"], x.shape)
    it.allocate_tensors()
    it.set_tensor(detail["index"], x)
    it.invoke()
    return it


@pytest.mark.device
def test_int8_output_bytes_identical_to_litert_on_all_test_images(
    artifacts: Path, test_images: tuple[np.ndarray, np.ndarray]
) -> None:
    x = _int8_input(test_images[0])
    path = artifacts / "model_int8.tflite"
    it = _litert(path, x)
    expected = it.get_tensor(it.get_output_details()[0]["index"])
    got = numpy_backend(path).run(x)
    assert got.dtype == np.int8 and got.shape == (10_000, 10)
    differing = int((got != expected).any(axis=1).sum())
    assert differing == 0, f"{differing} of 10000 outputs differ"


@pytest.mark.device
def test_engine_alone_reproduces_the_gate_accuracy(
    artifacts: Path, test_images: tuple[np.ndarray, np.ndarray]
) -> None:
    """No interpreter needed: the same accuracy as the gate measured with one."""
    images, labels = test_images
    manifest = json.loads((artifacts / "manifest.json").read_text())["artifacts"]
    x = _int8_input(images)
    accuracy = float(
        (numpy_backend(artifacts / "model_int8.tflite").run(x).argmax(1) == labels).mean()
    )
    assert accuracy == pytest.approx(manifest["model_int8.tflite"]["test_accuracy"], abs=1e-9)
    pixels = images.astype(np.float32) / np.float32(255)
    got = numpy_backend(artifacts / "model_float32.tflite").run(pixels)
    accuracy = float((got.argmax(1) == labels).mean())
    assert accuracy == pytest.approx(manifest["model_float32.tflite"]["test_accuracy"], abs=1e-9)


@pytest.mark.device
def test_float32_matches_litert_within_1e_5(
    artifacts: Path, test_images: tuple[np.ndarray, np.ndarray]
) -> None:
    x = test_images[0].astype(np.float32) / np.float32(255)
    path = artifacts / "model_float32.tflite"
    it = _litert(path, x)
    expected = it.get_tensor(it.get_output_details()[0]["index"])
    got = numpy_backend(path).run(x)
    assert got.dtype == np.float32
    assert np.array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    assert float(np.abs(got - expected).max()) <= 1e-5


@pytest.mark.device
@pytest.mark.filterwarnings("ignore:Warning. Enabling `experimental_preserve_all_tensors`")
@pytest.mark.parametrize("name", ["model_int8.tflite", "model_float32.tflite"])
def test_layers_match_litert_intermediate_tensors(
    artifacts: Path, test_images: tuple[np.ndarray, np.ndarray], name: str
) -> None:
    images = test_images[0][:500]
    engine = Engine.load(artifacts / name)
    x = _int8_input(images) if "int8" in name else images.astype(np.float32) / np.float32(255)
    layers = engine.layers(x)
    assert [layer.op for layer in layers] == ["FULLY_CONNECTED"] * 3 + ["SOFTMAX"]
    shapes = [layer.values.shape for layer in layers]
    assert shapes == [(500, 300), (500, 300), (500, 10), (500, 10)]
    assert np.array_equal(layers[-1].values, engine.run(x))
    it = _litert(artifacts / name, x, preserve=True)
    for layer, step in zip(layers, engine.steps, strict=True):
        expected = it.get_tensor(step.target)
        if "int8" in name:
            assert layer.values.dtype == np.int8
            assert layer.scale is not None and layer.scale > 0
            assert layer.zero_point is not None and -128 <= layer.zero_point <= 127
            assert np.array_equal(layer.values, expected), f"layer {layer.index} ({layer.name})"
            real = layer.real
            assert real.dtype == np.float32
            assert np.allclose(
                real, layer.scale * (layer.values.astype(np.float32) - layer.zero_point)
            )
        else:
            assert layer.values.dtype == np.float32 and layer.scale is None
            assert float(np.abs(layer.values - expected).max()) <= 1e-4
    # ReLU layers: nothing below the zero point.
    assert all(int(layer.values.min()) >= (layer.zero_point or 0) for layer in layers[:2])


@pytest.mark.device
def test_float32_exact_accumulation_bound_holds_for_the_exported_shapes(artifacts: Path) -> None:
    engine = Engine.load(artifacts / "model_int8.tflite")
    fcs = [s for s in engine.steps if s.op == "FULLY_CONNECTED"]
    assert [getattr(s, "depth", None) for s in fcs] == [784, 300, 300]
    assert all(s.acc_dtype is np.float32 for s in fcs)  # type: ignore[attr-defined]
    assert engine._fused is not None
    # The worst case int8 x int8 dot product of length 784 is exact in float32 BLAS.
    x = np.full((1, 784), -128, np.float32)
    w = np.full((784, 3), -128, np.float32)
    assert (x @ w)[0, 0] == 784 * 128 * 128 < 2**24
