"""The device runtime: load a .tflite/.onnx model, preprocess images and classify digits."""

from .backends import BACKENDS, TensorInfo, detect_format
from .classifier import Classifier, ModelInfo, Prediction
from .errors import (
    BackendUnavailableError,
    DataFileError,
    EdgeMnistError,
    ImageError,
    InvalidInputError,
    ModelLoadError,
    OutputError,
)
from .idx import read_idx

__all__ = [
    "BACKENDS",
    "BackendUnavailableError",
    "Classifier",
    "DataFileError",
    "EdgeMnistError",
    "ImageError",
    "InvalidInputError",
    "ModelInfo",
    "ModelLoadError",
    "OutputError",
    "Prediction",
    "TensorInfo",
    "detect_format",
    "read_idx",
]
