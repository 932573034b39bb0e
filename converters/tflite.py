"""Keras -> TFLite: full-integer int8 (calibrated post-training quantization) or float32."""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

import numpy as np

from .quantize import calibration_images


def to_tflite(model: Any, quantize: str = "int8", calibration: np.ndarray | None = None) -> bytes:
    """Convert a Keras model to a TFLite flatbuffer.

    ``int8`` quantizes weights and activations to int8 with int8 input and output tensors and
    integer-only builtin ops, calibrated on ``calibration`` (float32, (N, 784), in [0, 1]).
    """
    import tensorflow as tf

    samples = calibration_images(quantize, calibration)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if samples is not None:

        def representative() -> Any:
            for i in range(len(samples)):
                yield [samples[i : i + 1]]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    # The converter exports a SavedModel first and prints where; keep stdout for our own output.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        # "Statistics for quantized inputs were expected": the representative set provides them.
        warnings.simplefilter("ignore", UserWarning)
        return bytes(converter.convert())
