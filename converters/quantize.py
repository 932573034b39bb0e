"""What both converters need to know about quantization: the modes and the calibration set."""

from __future__ import annotations

import numpy as np

from edge_mnist.runtime.artifacts import INT8, QUANTIZE, QUANTIZE_MODES
from edge_mnist.runtime.errors import InvalidInputError


def calibration_images(quantize: str, calibration: np.ndarray | None) -> np.ndarray | None:
    """Check the mode; for int8 return the calibration images as float32 (N, 784), else None."""
    if quantize not in QUANTIZE_MODES:
        raise InvalidInputError(
            f"unknown quantization {quantize!r}.", f"choose one of: {', '.join(QUANTIZE_MODES)}."
        )
    if QUANTIZE[quantize] != INT8:
        return None
    if calibration is None or len(calibration) == 0:
        raise InvalidInputError("int8 quantization needs calibration images.")
    samples = np.asarray(calibration, dtype=np.float32)
    if samples.ndim != 2 or samples.shape[1] != 784:
        raise InvalidInputError(f"calibration images must be (N, 784), got {samples.shape}.")
    return samples
