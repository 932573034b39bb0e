"""Converters from a Keras model to deployable formats: int8/float TFLite and ONNX."""

from .onnx import to_onnx
from .quantize import QUANTIZE_MODES
from .tflite import to_tflite

__all__ = ["QUANTIZE_MODES", "to_onnx", "to_tflite"]
