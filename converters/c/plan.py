"""What the generated C computes: the int8 model's layers as integer arrays and constants.

A plan holds, per FULLY_CONNECTED layer, the int8 weights, the int32 bias, the input zero
point, the requantization multiplier as the binary32 number the reference interpreter uses,
and the clamp range; and for the final SOFTMAX the 256-entry exp table. The values come from
the NumPy engine's prepared kernels (from_engine.py), which match ai-edge-litert bit for bit;
the C kernels reproduce the same binary32 roundings with integers, so every constant is fixed
here and the C never computes one at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_mnist.runtime.errors import ModelLoadError

PIXELS = 784
CLASSES = 10
# The export's input quantization: pixel p (0-255) becomes p - 128, i.e. scale 1/255 and
# zero point -128, so the zero-point-corrected input of the first layer is the pixel itself.
INPUT_SCALE = np.float32(1 / 255)
INPUT_ZERO = -128
_FIX = "export the int8 model with 'edge-mnist export --format tflite' and convert that file."


@dataclass(frozen=True)
class Dense:
    """One FULLY_CONNECTED layer, ready for the C kernel."""

    weights: np.ndarray  # int8 (n_out, n_in), row-major as in the .tflite file
    bias: np.ndarray  # int32 (n_out,) as in the file
    input_zero: int
    multiplier: np.ndarray  # float32 (1,) per tensor or (n_out,) per channel
    zero_point: int  # output zero point
    lo: int  # clamp range of the fused activation, in output steps
    hi: int
    # The same multiplier as TFLite's integer kernels hold it (reference and tflm roundings):
    # q * 2^(shift - 31), q in [2^30, 2^31), from the scales in double precision.
    fixed_q: np.ndarray | None = None  # int64, like multiplier
    fixed_shift: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        n_out, n_in = self.weights.shape
        return int(n_in), int(n_out)


@dataclass(frozen=True)
class Softmax:
    """The final int8 SOFTMAX: the interpreter's table and output quantization."""

    table: np.ndarray  # float32 (256,): table[k] = exp(-input_scale * beta * k)
    output_scale: np.float32
    zero_point: int
    # TFLite Micro's fixed-point exp of -k (Q0.31, 0 past the input radius), or None when
    # its softmax cannot run this model (the tflm rounding is then refused).
    fixed_exp: np.ndarray | None = None


@dataclass(frozen=True)
class Plan:
    """The whole network: dense layers, then softmax; int8 in and out."""

    layers: tuple[Dense, ...]
    softmax: Softmax
    input_scale: float
    input_zero: int

    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer widths from input to output, e.g. (784, 300, 300, 10)."""
        return (self.layers[0].shape[0], *(layer.shape[1] for layer in self.layers))

    @property
    def macs(self) -> int:
        """Multiply-accumulates per inference."""
        return sum(a * b for a, b in (layer.shape for layer in self.layers))


def dense(
    weights: np.ndarray,
    bias: np.ndarray | None,
    input_zero: int,
    multiplier: np.ndarray,
    output_zero: int,
    lo: int,
    hi: int,
    fixed: tuple[np.ndarray, np.ndarray] | None = None,
) -> Dense:
    """A layer from the file's tensors, checked to fit the C kernels."""
    w = np.asarray(weights)
    if w.dtype != np.int8 or w.ndim != 2:
        raise ModelLoadError(
            f"fully connected weights must be int8 [out, in], got {w.dtype} {w.shape}.", _FIX
        )
    n_out = w.shape[0]
    b = np.zeros(n_out, np.int64) if bias is None else np.asarray(bias).astype(np.int64)
    if b.shape != (n_out,):
        raise ModelLoadError(f"bias of shape {b.shape} does not fit {n_out} outputs.", _FIX)
    # The C accumulates in int32 (with the zero point folded into the bias, or with the
    # corrected input up to 255); the worst case must not wrap.
    folded = b - int(input_zero) * w.astype(np.int64).sum(axis=1)
    worst = np.abs(b) + np.abs(folded) + 255 * np.abs(w.astype(np.int64)).sum(axis=1)
    if worst.max() >= 2**31:
        raise ModelLoadError("a layer's accumulator could exceed 32 bits.", _FIX)
    mult = np.asarray(multiplier, dtype=np.float32).reshape(-1)
    if mult.size not in (1, n_out) or not np.all(np.isfinite(mult)) or not np.all(mult > 0):
        raise ModelLoadError("a layer's requantization multiplier is invalid.", _FIX)
    if not -128 <= lo <= hi <= 127:
        raise ModelLoadError(f"a layer's clamp range [{lo}, {hi}] does not fit int8.", _FIX)
    q, shift = (None, None) if fixed is None else (np.asarray(v, np.int64) for v in fixed)
    if q is not None and shift is not None:
        if q.shape != mult.shape or shift.shape != mult.shape:
            raise ModelLoadError("a layer's fixed-point multipliers do not fit its scales.", _FIX)
        if not (np.all((q >= 1 << 30) & (q < 1 << 31)) and np.all(np.abs(shift) <= 31)):
            raise ModelLoadError("a layer's fixed-point multiplier is out of range.", _FIX)
    return Dense(w, b.astype(np.int32), int(input_zero), mult, int(output_zero), lo, hi, q, shift)


def float_bits(values: np.ndarray) -> np.ndarray:
    """The binary32 bit patterns of non-negative values, as uint32."""
    return np.asarray(values, dtype=np.float32).view(np.uint32)


def split_float(value: np.float32) -> tuple[int, int]:
    """A positive normal binary32 value as (m, e) with value = m * 2**e, 2**23 <= m < 2**24."""
    bits = int(np.float32(value).view(np.uint32))
    biased = (bits >> 23) & 0xFF
    if bits >> 31 or biased in (0, 255):
        raise ModelLoadError(f"scale {float(value)!r} is not a positive normal number.", _FIX)
    return (bits & 0x7FFFFF) | 0x800000, biased - 150
