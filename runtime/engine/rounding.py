"""Which interpreter's int8 arithmetic the engine reproduces, and the requantizations they use.

Three interpreters give different bytes for the same int8 model (measurements, sources and
the x86-64 caveat: docs/2026-12-03-rounding-variants.md):

* ``litert`` (default): ai-edge-litert with its default XNNPACK delegate. FULLY_CONNECTED
  requantizes in float32 (``fully_connected.py``); SOFTMAX is TFLite's float-table kernel.
* ``reference``: TFLite's built-in kernels (ai-edge-litert without its default delegate,
  tflite-runtime 2.14). FULLY_CONNECTED goes through ruy, whose x86 kernels requantize with
  two roundings, each rounding halves up (toward +∞): (acc·2^left·q + 2^30) >> 31, then a
  rounding right shift. SOFTMAX is the same float-table kernel as ``litert``. (ruy's arm64
  kernels round once, so built-in kernels on ARM boards may differ: not measured.)
* ``tflm``: TensorFlow Lite Micro's reference kernels. FULLY_CONNECTED requantizes with
  gemmlowp's SaturatingRoundingDoublingHighMul and RoundingDivideByPOT (two roundings, halves
  away from zero); SOFTMAX is gemmlowp fixed point throughout (``softmax_fixed.py``).

Both integer variants take the multiplier TFLite derives in double precision,
input_scale · weight_scale / output_scale, as QuantizeMultiplier's q · 2^(shift − 31).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError
from .fixedpoint import INT32_MAX, multiply_by_quantized_multiplier

ROUNDINGS = ("litert", "reference", "tflm")
DEFAULT_ROUNDING = "litert"
# The one table of which variant gives each interpreter's bytes on all 10,000 MNIST test images
# (measured in docs/2026-12-03-rounding-variants.md): verify holds a backend to it, the
# conformance table checks it still holds. TensorFlow's interpreter applies XNNPACK by default.
INTERPRETER_ROUNDING = {
    "litert": "litert",
    "litert-builtin": "reference",
    "tflite-runtime": "reference",
    "tflite-micro": "tflm",
    "tensorflow": "litert",
}


def check_rounding(rounding: str) -> str:
    """The name itself, or a usage error naming the valid choices."""
    if rounding not in ROUNDINGS:
        raise InvalidInputError(
            f"unknown rounding {rounding!r}.",
            f"choose one of {', '.join(ROUNDINGS)} (default {DEFAULT_ROUNDING}).",
        )
    return rounding


def ruy_requantize(acc: np.ndarray, q: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """ruy's x86 (AVX2/AVX-512) requantization of int32 accumulators, on int64 arrays."""
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    # Shifted in 32 bits as the kernel does; the 64-bit product is floored after adding half.
    shifted = ((acc << left) + (1 << 31)) % (1 << 32) - (1 << 31)
    r = (shifted * q + (1 << 30)) >> 31
    nudge = np.where(right > 0, np.int64(1) << np.maximum(right - 1, 0), 0)
    # The kernel's overflow guard: r + nudge beyond int32 gives 2^(31 − right).
    return np.where(r > INT32_MAX - nudge, np.int64(1) << (31 - right), (r + nudge) >> right)


REQUANTIZE = {"reference": ruy_requantize, "tflm": multiply_by_quantized_multiplier}
