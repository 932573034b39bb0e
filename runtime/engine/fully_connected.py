"""FULLY_CONNECTED, int8 (per-tensor or per-channel weights) and float32, with fused
NONE/RELU/RELU_N1_TO_1/RELU6; the requantization arithmetic is described in ``kernels.py``
(``litert``) and ``rounding.py`` (``reference`` and ``tflm``, in integers).

Speed: numpy's integer matmul does not use BLAS, but an int8 × int8 dot product of length
K < 1024 has every partial sum below 2^24 in magnitude, so float32 BLAS computes it exactly in
any summation order. ``FullyConnectedInt8`` checks K·128·128 < 2^24 at load and falls back to
float64 BLAS (exact below 2^53) otherwise. Adding a bias that is itself exact in float32 then
rounds exactly like float32(int32 sum), so no integer conversion is needed in between.
Exactness also frees the way the product is computed: ``matmul.py`` measures which is fastest.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .fixedpoint import quantize_multiplier
from .flatbuffer import Malformed
from .matmul import ExactMatmul, matmul
from .model import FULLY_CONNECTED_OPTIONS, OperatorDef, TensorDef
from .rounding import DEFAULT_ROUNDING, REQUANTIZE
from .step import EXACT_F32, Step, Unsupported

# ActivationFunctionType codes the kernels fuse; others (TANH, SIGN_BIT) are refused.
NONE, RELU, RELU_N1_TO_1, RELU6 = 0, 1, 2, 3
_ACTIVATIONS = {NONE: "NONE", RELU: "RELU", RELU_N1_TO_1: "RELU_N1_TO_1", RELU6: "RELU6"}


def _activation_range(act: int, scale: float, zero: int, info: Any) -> tuple[int, int]:
    """TFLite's CalculateActivationRangeQuantized: bounds in the quantized domain."""

    def q(f: float) -> int:
        r = float(np.float32(f) / np.float32(scale))
        return zero + int(np.floor(abs(r) + 0.5) * np.sign(r))

    lo, hi = int(info.min), int(info.max)
    if act == RELU:
        return max(lo, zero), hi
    if act == RELU6:
        return max(lo, zero), min(hi, q(6.0))
    if act == RELU_N1_TO_1:
        return max(lo, q(-1.0)), min(hi, q(1.0))
    return lo, hi


def _float_activation(y: np.ndarray, act: int) -> np.ndarray:
    if act == RELU:
        np.maximum(y, 0, out=y)
    elif act == RELU6:
        np.clip(y, 0, 6, out=y)
    elif act == RELU_N1_TO_1:
        np.clip(y, -1, 1, out=y)
    return y


def _fc_options(op: OperatorDef) -> tuple[int, bool]:
    if op.options is None or op.options_type != FULLY_CONNECTED_OPTIONS:
        return NONE, False
    act = int(op.options.scalar(0, "b", 0))
    if act not in _ACTIVATIONS:
        raise Unsupported(f"operator {op.index} (FULLY_CONNECTED) fuses activation code {act}")
    if int(op.options.scalar(1, "b", 0)) != 0:
        raise Unsupported(f"operator {op.index} (FULLY_CONNECTED) uses shuffled weights")
    return act, bool(op.options.scalar(2, "B", 0))


def _fc_operands(
    op: OperatorDef, tensors: tuple[TensorDef, ...]
) -> tuple[TensorDef, TensorDef, TensorDef | None, TensorDef]:
    if len(op.inputs) not in (2, 3) or len(op.outputs) != 1 or op.inputs[0] < 0:
        raise Malformed(f"operator {op.index} (FULLY_CONNECTED) has the wrong number of operands")
    x, w, out = tensors[op.inputs[0]], tensors[op.inputs[1]], tensors[op.outputs[0]]
    b = tensors[op.inputs[2]] if len(op.inputs) == 3 and op.inputs[2] >= 0 else None
    if w.data is None or len(w.shape) != 2:
        raise Unsupported(f"operator {op.index} (FULLY_CONNECTED) needs constant 2-D weights")
    units, depth = w.shape
    if x.size % depth:
        raise Malformed(
            f"operator {op.index} (FULLY_CONNECTED): input shape {list(x.shape)} does not "
            f"divide into rows of {depth}"
        )
    if b is not None and (b.data is None or b.shape != (units,)):
        raise Malformed(f"operator {op.index} (FULLY_CONNECTED): bias is not a constant ({units},)")
    if out.shape[-1:] != (units,):
        raise Malformed(
            f"operator {op.index} (FULLY_CONNECTED): output shape {list(out.shape)} does not "
            f"end in {units}"
        )
    return x, w, b, out


class FullyConnectedInt8(Step):
    def __init__(
        self, op: OperatorDef, tensors: tuple[TensorDef, ...], rounding: str = DEFAULT_ROUNDING
    ) -> None:
        x, w, b, out = _fc_operands(op, tensors)
        super().__init__(op.name, op.index, x.index, out.index)
        self.rounding = rounding
        act, self.keep_dims = _fc_options(op)
        if not (x.dtype == w.dtype == out.dtype == np.int8) or (b and b.dtype != np.int32):
            raise Unsupported(
                f"operator {op.index} (FULLY_CONNECTED) mixes types: input {x.dtype}, weights "
                f"{w.dtype}, bias {b.dtype if b else None}, output {out.dtype}"
            )
        if x.quant is None or w.quant is None or out.quant is None:
            raise Malformed(f"operator {op.index} (FULLY_CONNECTED): an int8 tensor has no scale")
        if x.quant.per_channel or out.quant.per_channel:
            raise Unsupported(f"operator {op.index} (FULLY_CONNECTED): per-channel activations")
        if w.quant.per_channel and w.quant.axis != 0:
            raise Unsupported(f"operator {op.index} (FULLY_CONNECTED): weights quantized on axis 1")
        if np.any(w.quant.zero_point != 0):
            raise Unsupported(f"operator {op.index} (FULLY_CONNECTED): weight zero point is not 0")
        units, self.depth = w.shape
        self.units = units
        weights = w.data.astype(np.int64)  # type: ignore[union-attr]
        x_zero = int(x.quant.zero_point[0])
        self.out_zero = int(out.quant.zero_point[0])
        bias = np.zeros(units, np.int64) if b is None else b.data.astype(np.int64)  # type: ignore[union-attr]
        # Fold the input zero point into the bias: Σ(x − zx)·w = Σx·w − zx·Σw.
        fused = bias - x_zero * weights.sum(axis=1)
        # Exact float32 BLAS needs every partial sum of int8 products below 2^24.
        exact32 = self.depth * 128 * 128 < EXACT_F32 and bool(np.all(np.abs(fused) < EXACT_F32))
        self.acc_dtype = np.float32 if exact32 else np.float64
        self.weights_t = np.ascontiguousarray(weights.T, dtype=self.acc_dtype)
        self.product = ExactMatmul(self.weights_t)
        self.bias = fused.astype(self.acc_dtype)
        # For inputs already held as q − zero_point (see fused.py): the plain bias.
        self.bias_centered = bias.astype(np.float32) if np.all(np.abs(bias) < EXACT_F32) else None
        s_in = np.float32(x.quant.scale[0])
        s_out = np.float32(out.quant.scale[0])
        # float32 arithmetic, in this order, as the XNNPACK operator computes it.
        self.multiplier = (s_in * w.quant.scale.astype(np.float32)) / s_out
        if not w.quant.per_channel:
            self.multiplier = self.multiplier[:1]
        # TFLite's integer kernels: the multiplier in double, as a fixed-point q · 2^shift.
        fixed = [
            quantize_multiplier(float(np.float64(s_in) * np.float64(ws) / np.float64(s_out)))
            for ws in w.quant.scale[: len(self.multiplier)]
        ]
        self.fixed_q = np.array([q for q, _ in fixed], np.int64)
        self.fixed_shift = np.array([shift for _, shift in fixed], np.int64)
        lo, hi = _activation_range(act, float(s_out), self.out_zero, np.iinfo(np.int8))
        self.lo, self.hi = float(lo - self.out_zero), float(hi - self.out_zero)
        self.out_shape = out.shape

    def __call__(self, x: np.ndarray) -> np.ndarray:
        lead = x.shape[:-1] if self.keep_dims else (-1,)
        acc = self.product(x.reshape(-1, self.depth).astype(self.acc_dtype))
        acc += self.bias
        if self.rounding != DEFAULT_ROUNDING:
            # The sum is an exact integer (see the module docstring): requantize it in int64.
            scaled = REQUANTIZE[self.rounding](acc.astype(np.int64), self.fixed_q, self.fixed_shift)
            q = np.clip(scaled, int(self.lo), int(self.hi)) + self.out_zero
            return q.astype(np.int8).reshape(*lead, self.units)
        if self.acc_dtype is not np.float32:
            acc = acc.astype(np.float32)
        acc *= self.multiplier
        np.rint(acc, out=acc)
        np.maximum(acc, np.float32(self.lo), out=acc)
        np.minimum(acc, np.float32(self.hi), out=acc)
        acc += self.out_zero
        return acc.astype(np.int8).reshape(*lead, self.units)


class FullyConnectedFloat(Step):
    def __init__(self, op: OperatorDef, tensors: tuple[TensorDef, ...]) -> None:
        x, w, b, out = _fc_operands(op, tensors)
        super().__init__(op.name, op.index, x.index, out.index)
        self.act, self.keep_dims = _fc_options(op)
        if not (x.dtype == w.dtype == out.dtype == np.float32) or (b and b.dtype != np.float32):
            raise Unsupported(
                f"operator {op.index} (FULLY_CONNECTED): float input with {w.dtype} weights "
                "(hybrid quantization) is not supported"
            )
        self.units, self.depth = w.shape
        self.weights_t = np.ascontiguousarray(w.data.T, dtype=np.float32)  # type: ignore[union-attr]
        self.bias = np.zeros(self.units, np.float32) if b is None else np.array(b.data, np.float32)
        if not (np.all(np.isfinite(self.weights_t)) and np.all(np.isfinite(self.bias))):
            raise Malformed(f"operator {op.index} (FULLY_CONNECTED) has NaN or infinite weights")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        lead = x.shape[:-1] if self.keep_dims else (-1,)
        y = matmul(x.reshape(-1, self.depth), self.weights_t)
        y += self.bias
        return _float_activation(y, self.act).reshape(*lead, self.units)
