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


def with_metadata(model: bytes, name: str, data: bytes) -> bytes:
    """The TFLite flatbuffer with a metadata entry ``name`` whose buffer holds ``data``
    (replacing an entry of that name). Interpreters ignore metadata they do not know; the
    file is rebuilt with TFLite's own generated schema objects (shipped with TensorFlow),
    since a FlatBuffer cannot grow a vector in place."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    obj = schema.ModelT.InitFromPackedBuf(model, 0)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(data, dtype=np.uint8)
    obj.buffers = list(obj.buffers or [])
    kept = [m for m in (obj.metadata or []) if m.name not in (name, name.encode())]
    entry = schema.MetadataT()
    entry.name = name
    entry.buffer = len(obj.buffers)
    obj.buffers.append(buffer)
    obj.metadata = [*kept, entry]
    builder = flatbuffers.Builder(len(model) + len(data) + 1024)
    builder.Finish(obj.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
