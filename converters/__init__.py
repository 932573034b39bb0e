"""Converters from a Keras model to deployable formats: int8/float TFLite and ONNX."""

from .onnx import to_onnx
from .tflite import to_tflite

__all__ = ["to_onnx", "to_tflite"]
