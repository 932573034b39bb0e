"""The engine's three roundings against the interpreters they reproduce, byte for byte.

``litert`` = ai-edge-litert with XNNPACK, ``reference`` = ai-edge-litert without its default
delegate and tflite-runtime 2.14, ``tflm`` = the tflite-micro package's host interpreter: every
layer's bytes on all 10,000 MNIST test images, plus a SOFTMAX-only model cut from the exported
one and fed random logits, where TFLite's float-table softmax and TFLite Micro's fixed-point
one part ways (the MNIST images alone do not tell them apart).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_mnist.runtime.backends import SPECS
from edge_mnist.runtime.backends.numpy_engine import NumpyBackend
from edge_mnist.runtime.engine import ROUNDINGS, Engine
from edge_mnist.runtime.errors import InvalidInputError


def _int8_input(images: np.ndarray) -> np.ndarray:
    return (images.astype(np.int16) - 128).astype(np.int8)


def _run_tflite(module: Any, path: Path, x: np.ndarray, **options: Any) -> list[np.ndarray]:
    """Every tensor the engine's steps write, from a TFLite interpreter, for batch x."""
    it = module.Interpreter(model_path=str(path), experimental_preserve_all_tensors=True, **options)
    detail = it.get_input_details()[0]
    it.resize_tensor_input(detail["index"], x.shape)
    it.allocate_tensors()
    it.set_tensor(detail["index"], x)
    it.invoke()
    engine = Engine.load(path)
    return [it.get_tensor(step.target) for step in engine.steps]


def _run_tflm(path: Path, x: np.ndarray) -> list[np.ndarray]:
    """The same from TensorFlow Lite Micro's host interpreter (batch 1: it cannot resize)."""
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    it = runtime.Interpreter.from_file(
        str(path), intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors
    )
    targets = [step.target for step in Engine.load(path).steps]
    rows: list[list[np.ndarray]] = [[] for _ in targets]
    for i in range(len(x)):
        it.set_input(x[i : i + 1], 0)
        it.invoke()
        for row, t in zip(rows, targets, strict=True):
            row.append(np.asarray(it.GetTensor(t, 0)["tensor_data"]).reshape(-1))
    return [np.stack(row) for row in rows]


def _oracle(name: str, path: Path, x: np.ndarray) -> list[np.ndarray]:
    if name == "tflm":
        return _run_tflm(path, x)
    if name == "tflite-runtime":
        module = pytest.importorskip("tflite_runtime.interpreter")
        if int(np.__version__.split(".")[0]) >= 2:
            pytest.skip(f"tflite-runtime 2.14 needs numpy<2 (numpy {np.__version__} here)")
        return _run_tflite(module, path, x)
    module = pytest.importorskip("ai_edge_litert.interpreter")
    if name == "litert-builtin":
        resolver = module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        return _run_tflite(module, path, x, experimental_op_resolver_type=resolver)
    return _run_tflite(module, path, x)


def _differences(got: np.ndarray, expected: np.ndarray) -> tuple[int, int]:
    """(rows whose bytes differ, the largest difference in steps)."""
    diff = np.abs(got.astype(np.int16) - expected.astype(np.int16)).reshape(len(got), -1)
    return int(diff.any(axis=1).sum()), int(diff.max(initial=0))


@pytest.mark.device
@pytest.mark.filterwarnings("ignore:Warning. Enabling `experimental_preserve_all_tensors`")
@pytest.mark.parametrize(
    ("rounding", "oracle"),
    [
        ("litert", "litert"),
        ("reference", "litert-builtin"),
        ("reference", "tflite-runtime"),
        ("tflm", "tflm"),
    ],
)
def test_every_layer_identical_to_its_interpreter_on_all_test_images(
    artifacts: Path, test_images: tuple[np.ndarray, np.ndarray], rounding: str, oracle: str
) -> None:
    path = artifacts / "model_int8.tflite"
    x = _int8_input(test_images[0])
    expected = _oracle(oracle, path, x)
    engine = Engine.load(path, rounding=rounding)
    layers = engine.layers(x)
    assert [layer.op for layer in layers] == ["FULLY_CONNECTED"] * 3 + ["SOFTMAX"]
    for layer, want in zip(layers, expected, strict=True):
        assert _differences(layer.values, want) == (0, 0), f"{rounding} vs {oracle}: {layer.name}"
    # The fused default path and batch 1 give the same bytes as the layers.
    assert np.array_equal(engine.run(x), layers[-1].values)
    assert np.array_equal(
        np.concatenate([engine.run(x[i : i + 1]) for i in range(64)]), layers[-1].values[:64]
    )


@pytest.mark.device
def test_the_roundings_are_different_arithmetic(
    artifacts: Path, test_images: tuple[np.ndarray, np.ndarray]
) -> None:
    """Each variant changes some layer's bytes on MNIST itself: the tests above can fail."""
    path = artifacts / "model_int8.tflite"
    x = _int8_input(test_images[0])
    layers = {r: Engine.load(path, rounding=r).layers(x) for r in ROUNDINGS}
    first_layer = {r: layers[r][0].values for r in ROUNDINGS}
    # float32 requantization against ruy's integer one: hundreds of first-layer values.
    assert _differences(first_layer["litert"], first_layer["reference"])[0] > 50
    # ruy (halves up) against gemmlowp (halves away from zero): only ReLU hides it, so the
    # logits layer, which has no activation, shows it.
    logits = {r: layers[r][2].values for r in ROUNDINGS}
    assert np.array_equal(first_layer["reference"], first_layer["tflm"])
    rows, steps = _differences(logits["reference"], logits["tflm"])
    assert rows > 0 and steps == 1


def _softmax_only_model(path: Path, folder: Path) -> Path:
    """The exported model's SOFTMAX alone (input: the logits tensor), rewritten with the
    TFLite schema that ai-edge-litert ships."""
    schema = pytest.importorskip("ai_edge_litert.schema_py_generated")
    flatbuffers = pytest.importorskip("flatbuffers")
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(path.read_bytes(), 0))
    graph = model.subgraphs[0]
    softmax = graph.operators[-1]
    graph.operators = [softmax]
    graph.inputs, graph.outputs = list(softmax.inputs), list(softmax.outputs)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    out = folder / "softmax_only.tflite"
    out.write_bytes(bytes(builder.Output()))
    return out


@pytest.mark.parametrize(
    ("rounding", "oracle"), [("reference", "litert-builtin"), ("tflm", "tflm")]
)
def test_softmax_identical_to_its_interpreter_on_random_logits(
    artifacts: Path, tmp_path: Path, rounding: str, oracle: str
) -> None:
    path = _softmax_only_model(artifacts / "model_int8.tflite", tmp_path)
    engine = Engine.load(path, rounding=rounding)
    assert engine.ops == ["SOFTMAX"]
    # Logits spread like this part the two kernels' ways on about 1 row in 4,000.
    rng = np.random.default_rng(22)
    logits = rng.normal(0, 12, size=(40_000, 10)).round().clip(-128, 127).astype(np.int8)
    (expected,) = _oracle(oracle, path, logits)
    assert _differences(engine.run(logits), expected) == (0, 0)
    # The other kernel differs on some of these rows, by one step.
    other = Engine.load(path, rounding="tflm" if rounding == "reference" else "reference")
    rows, steps = _differences(other.run(logits), expected)
    assert rows > 0 and steps == 1


def test_unknown_rounding_is_a_usage_error_naming_the_choices(artifacts: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Engine.load(artifacts / "model_int8.tflite", rounding="tflite-micro")
    assert caught.value.exit_code == 2
    assert "'tflite-micro'" in caught.value.problem
    assert caught.value.fix is not None and "litert, reference, tflm" in caught.value.fix


def test_backend_passes_rounding_through(
    artifacts: Path, test_images: tuple[np.ndarray, np.ndarray]
) -> None:
    path = artifacts / "model_int8.tflite"
    x = _int8_input(test_images[0][:256])
    for rounding in ROUNDINGS:
        backend = NumpyBackend(SPECS["numpy"], path, None, rounding=rounding)
        assert backend.rounding == rounding
        assert np.array_equal(backend.run(x), Engine.load(path, rounding=rounding).run(x))
    assert NumpyBackend(SPECS["numpy"], path, None).rounding == "litert"
    # Float models have no rounding to choose: every variant gives the same floats.
    pixels = test_images[0][:256].astype(np.float32) / np.float32(255)
    runs = [
        Engine.load(artifacts / "model_float32.tflite", rounding=r).run(pixels) for r in ROUNDINGS
    ]
    assert all(np.array_equal(runs[0], run) for run in runs[1:])


def _convert_small(per_channel: bool, int8_io: bool, calibration: np.ndarray) -> bytes:
    """A small MLP with the operators the exporter does not write (QUANTIZE, RESHAPE, RELU6,
    DEQUANTIZE), converted to int8 by TensorFlow."""
    import contextlib
    import io
    import warnings

    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((28, 28), batch_size=1),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu6"),
            keras.layers.Dense(10),
            keras.layers.Softmax(),
        ]
    )
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([image[None]] for image in calibration)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if int8_io:
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    converter._experimental_disable_per_channel = not per_channel
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bytes(converter.convert())


@pytest.mark.slow
@pytest.mark.parametrize(("per_channel", "int8_io"), [(True, True), (False, False)])
def test_small_models_identical_to_each_interpreter(
    test_images: tuple[np.ndarray, np.ndarray], tmp_path: Path, per_channel: bool, int8_io: bool
) -> None:
    """Per-tensor and per-channel weights, RELU6, float input and output: each variant equals
    its interpreter, and on these models every variant differs from the other two."""
    pytest.importorskip("tensorflow")
    images = test_images[0][:3000].reshape(-1, 28, 28)
    pixels = images.astype(np.float32) / np.float32(255)
    path = tmp_path / "small.tflite"
    path.write_bytes(_convert_small(per_channel, int8_io, pixels[:200]))
    x = _int8_input(images) if int8_io else pixels
    got = {r: Engine.load(path, rounding=r).run(x) for r in ROUNDINGS}
    for rounding, oracle in (
        ("litert", "litert"),
        ("reference", "litert-builtin"),
        ("tflm", "tflm"),
    ):
        expected = _oracle_rows(oracle, path, x)
        assert np.array_equal(got[rounding], expected), f"{rounding} vs {oracle}"
    for a, b in (("litert", "reference"), ("reference", "tflm"), ("litert", "tflm")):
        assert not np.array_equal(got[a], got[b]), f"{a} and {b} agree"


def _oracle_rows(name: str, path: Path, x: np.ndarray) -> np.ndarray:
    """The output of a fixed-batch-1 model, one invoke per row."""
    if name == "tflm":
        runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
        micro = runtime.Interpreter.from_file(str(path))
        rows = []
        for i in range(len(x)):
            micro.set_input(x[i : i + 1], 0)
            micro.invoke()
            rows.append(micro.get_output(0).copy())
        return np.concatenate(rows)
    module = pytest.importorskip("ai_edge_litert.interpreter")
    options: dict[str, Any] = {}
    if name == "litert-builtin":
        options["experimental_op_resolver_type"] = (
            module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        )
    it = module.Interpreter(model_path=str(path), **options)
    it.allocate_tensors()
    in_index = it.get_input_details()[0]["index"]
    out_index = it.get_output_details()[0]["index"]
    rows = []
    for i in range(len(x)):
        it.set_tensor(in_index, x[i : i + 1])
        it.invoke()
        rows.append(it.get_tensor(out_index).copy())
    return np.concatenate(rows)
