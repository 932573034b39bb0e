"""The numpy engine on models converted here with TensorFlow: the variants the exporter does not
write (per-tensor weights, RELU6, float input and output with QUANTIZE/DEQUANTIZE, RESHAPE) are
bit-exact with ai-edge-litert, and a CONV_2D model is refused by name."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_mnist.runtime.engine import Engine
from edge_mnist.runtime.errors import ModelLoadError

pytestmark = pytest.mark.slow


def _convert(
    model: Any,
    calibration: np.ndarray | None,
    int8_io: bool = False,
    per_channel: bool = True,
) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if calibration is not None:
        shape = (1, *model.input_shape[1:])

        def representative() -> Any:
            for image in calibration:
                yield [image.reshape(shape)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if int8_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        # The converter's switch for per-tensor weights (per-channel is its default).
        converter._experimental_disable_per_channel = not per_channel
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bytes(converter.convert())


def _litert_rows(data: bytes, x: np.ndarray) -> np.ndarray:
    """One invoke per image: models with a fixed batch of 1 cannot be resized in litert."""
    interpreter_mod = pytest.importorskip("ai_edge_litert.interpreter")
    it = interpreter_mod.Interpreter(model_content=data)
    it.allocate_tensors()
    in_index = it.get_input_details()[0]["index"]
    out_index = it.get_output_details()[0]["index"]
    rows = []
    for i in range(len(x)):
        it.set_tensor(in_index, x[i : i + 1])
        it.invoke()
        rows.append(it.get_tensor(out_index).copy())
    return np.concatenate(rows)


def _weight_scales(engine: Engine) -> list[int]:
    return [
        len(t.quant.scale)
        for t in engine.model.tensors
        if t.data is not None and t.dtype == np.int8 and t.quant is not None
    ]


def test_relu6_reshape_quantize_dequantize_and_per_tensor_variants_are_bit_exact(
    test_images: tuple[np.ndarray, np.ndarray],
) -> None:
    pytest.importorskip("tensorflow")
    import keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((28, 28), batch_size=1),  # a fixed batch: RESHAPE gets a constant shape
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu6"),
            keras.layers.Dense(10),
            keras.layers.Softmax(),
        ]
    )
    images = test_images[0][:3000].reshape(-1, 28, 28)
    pixels = images.astype(np.float32) / np.float32(255)
    calibration = pixels[:200]
    for per_channel, scales in ((True, [10, 64]), (False, [1, 1])):
        data = _convert(model, calibration, per_channel=per_channel)
        engine = Engine.from_bytes(data)
        assert engine.ops == [
            "QUANTIZE",
            "RESHAPE",
            "FULLY_CONNECTED",
            "FULLY_CONNECTED",
            "SOFTMAX",
            "DEQUANTIZE",
        ]
        assert sorted(_weight_scales(engine)) == scales
        got, expected = engine.run(pixels), _litert_rows(data, pixels)
        assert got.dtype == np.float32 and np.array_equal(got, expected), per_channel

    data = _convert(model, calibration, int8_io=True)
    engine = Engine.from_bytes(data)
    assert engine.ops == ["RESHAPE", "FULLY_CONNECTED", "FULLY_CONNECTED", "SOFTMAX"]
    x = (images.astype(np.int16) - 128).astype(np.int8)
    assert np.array_equal(engine.run(x), _litert_rows(data, x))
    layers = engine.layers(x[:5])
    assert int(layers[1].values.max()) <= layers[1].zero_point + round(6 / layers[1].scale)  # type: ignore[operator]

    data = _convert(model, None)
    engine = Engine.from_bytes(data)
    assert engine.ops == ["RESHAPE", "FULLY_CONNECTED", "FULLY_CONNECTED", "SOFTMAX"]
    got, expected = engine.run(pixels), _litert_rows(data, pixels)
    assert np.array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    assert float(np.abs(got - expected).max()) <= 1e-5


def test_exported_model_with_per_tensor_weights_is_bit_exact(
    artifacts: Path, test_images: tuple[np.ndarray, np.ndarray]
) -> None:
    pytest.importorskip("tensorflow")
    import keras

    model = keras.models.load_model(artifacts / "model.keras")
    images = test_images[0]
    calibration = images[:300].astype(np.float32) / np.float32(255)
    data = _convert(model, calibration, int8_io=True, per_channel=False)
    engine = Engine.from_bytes(data)
    assert _weight_scales(engine) == [1, 1, 1]
    # The exporter's own file is per-channel: together they cover both.
    assert sorted(_weight_scales(Engine.load(artifacts / "model_int8.tflite"))) == [10, 300, 300]
    x = (images.astype(np.int16) - 128).astype(np.int8)
    interpreter_mod = pytest.importorskip("ai_edge_litert.interpreter")
    it = interpreter_mod.Interpreter(model_content=data)
    detail = it.get_input_details()[0]
    it.resize_tensor_input(detail["index"], x.shape)
    it.allocate_tensors()
    it.set_tensor(detail["index"], x)
    it.invoke()
    expected = it.get_tensor(it.get_output_details()[0]["index"])
    differing = int((engine.run(x) != expected).any(axis=1).sum())
    assert differing == 0, f"{differing} of {len(x)} outputs differ"


def test_conv2d_model_is_refused_naming_the_operator() -> None:
    pytest.importorskip("tensorflow")
    import keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(2, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )
    data = _convert(model, None)
    with pytest.raises(ModelLoadError, match=r"operator 0 is CONV_2D, which this engine does not"):
        Engine.from_bytes(data, "conv.tflite")
