"""Keras -> ONNX: float32 through tf2onnx, int8 through onnxruntime static QDQ quantization."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from edge_mnist.models import INPUT_NAME, OUTPUT_NAME

from .quantize import calibration_images

OPSET = 17


def _float_model(model: Any) -> Any:
    import tensorflow as tf
    import tf2onnx

    spec = [tf.TensorSpec([None, 784], tf.float32, name=INPUT_NAME)]
    # tf2onnx.convert.from_keras breaks on Keras 3: convert a traced tf.function instead.
    serve = tf.function(lambda x: model(x, training=False), input_signature=spec)
    proto, _ = tf2onnx.convert.from_function(serve, input_signature=spec, opset=OPSET)
    graph = proto.graph
    old = graph.output[0].name
    for node in graph.node:
        node.output[:] = [OUTPUT_NAME if o == old else o for o in node.output]
    graph.output[0].name = OUTPUT_NAME
    for value in (graph.input[0], graph.output[0]):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    return proto


class _Calibration:
    """Feeds calibration images to onnxruntime's quantizer one at a time."""

    def __init__(self, images: np.ndarray) -> None:
        self._it = iter(np.asarray(images, dtype=np.float32))

    def get_next(self) -> dict[str, np.ndarray] | None:
        row = next(self._it, None)
        return None if row is None else {INPUT_NAME: row[None, :]}


def _quantized(proto: Any, calibration: np.ndarray) -> Any:
    # The quantizer logs advice about pre-processing on the root logger; it does not apply here.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        return _quantize_files(proto, calibration)
    finally:
        root.setLevel(level)


def _quantize_files(proto: Any, calibration: np.ndarray) -> Any:
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    with tempfile.TemporaryDirectory(prefix="edge-mnist-onnx-") as tmp:
        src, dst = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        onnx.save(proto, src)
        quantize_static(
            str(src),
            str(dst),
            _Calibration(calibration),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            calibrate_method=CalibrationMethod.MinMax,
        )
        return onnx.load(dst)


def _drop_conversion_traces(proto: Any) -> None:
    """Remove what differs between two conversions of the same model, so equal models give
    equal bytes: tf2onnx writes "converted from <traced function name>" into the graph's
    doc_string, and that name ends in a counter of the functions traced so far in the process
    (it differs between 'export --format onnx', '--format all' and 'pipeline')."""
    proto.doc_string = ""
    proto.graph.doc_string = ""
    proto.graph.name = "edge-mnist"
    for node in proto.graph.node:
        node.doc_string = ""


def _version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("edge-mnist")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def to_onnx(
    model: Any,
    quantize: str = "none",
    calibration: np.ndarray | None = None,
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """Convert a Keras model to ONNX (dynamic batch, input ``pixels``, output ``probabilities``).

    ``int8`` applies static QDQ quantization (int8 weights per channel, int8 activations),
    calibrated on ``calibration``. The result passes ``onnx.checker`` with ``full_check``.
    """
    import onnx

    samples = calibration_images(quantize, calibration)
    proto = _float_model(model)
    if samples is not None:
        proto = _quantized(proto, samples)
    _drop_conversion_traces(proto)
    del proto.metadata_props[:]
    for key, value in (metadata or {}).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "edge-mnist"
    proto.producer_version = _version()
    onnx.checker.check_model(proto, full_check=True)
    return bytes(proto.SerializeToString())
