"""The operators, prepared once at load and then run as a few numpy calls each.

Arithmetic of the default ``litert`` rounding, matched bit for bit to ai-edge-litert 2.3 on
x86-64 (``examples/verify_engine.py`` measures it on the 10,000 MNIST test images; the
``reference`` and ``tflm`` variants are in ``rounding.py``):

* int8 FULLY_CONNECTED: LiteRT hands it to its default XNNPACK delegate, whose qs8/qc8 GEMM
  uses "fp32" requantization. acc = Σ x·w + bias − x_zp·Σw is an exact integer; then
  float32(acc) × multiplier, the multiplier computed in float32 as
  (input_scale × weight_scale) / output_scale, rounded half to even, clamped to the fused
  activation's range, plus the output zero point. Measured on the first layer (3 M values):
  TFLite's fixed-point multiplier with gemmlowp's double rounding differs on 206 values, and
  a double-precision multiplier on 3; with the delegates off (builtin kernels only) LiteRT
  itself gives different bytes for 5 of 10,000 images.
* int8 SOFTMAX stays on TFLite's own optimized kernel: a float32 table
  T[k] = expf(−input_scale·beta·k), k = 0..255; per row k = max − x, the terms summed in
  float32 in order, inv = 1 / (sum × output_scale), q = round-half-away(T[k] × inv) + output
  zero point, clamped to int8. The table must be glibc's correctly rounded expf: numpy's
  float32 exp differs from it in 100 of the 256 entries for our model, so the table is exp in
  double, rounded to float32 (identical to glibc's expf on all 256).
* QUANTIZE rounds x / scale half away from zero; DEQUANTIZE is float32(scale × (q − zp)) with
  the product in double precision (TFLite's reference kernels; the exported models have none).

The fully connected kernels live in ``fully_connected.py``, their products in ``matmul.py``.
"""

from __future__ import annotations

import numpy as np

from .flatbuffer import Malformed
from .fully_connected import FullyConnectedFloat, FullyConnectedInt8
from .matmul import matmul
from .model import SOFTMAX_OPTIONS, OperatorDef, TensorDef
from .rounding import DEFAULT_ROUNDING
from .softmax_fixed import SoftmaxInt8Fixed
from .step import EXACT_F32, Step, Unsupported

__all__ = [
    "EXACT_F32",
    "FullyConnectedFloat",
    "FullyConnectedInt8",
    "Step",
    "Unsupported",
    "matmul",
    "prepare",
]


def _round_half_away(v: np.ndarray) -> np.ndarray:
    return np.floor(np.abs(v).astype(np.float64) + 0.5) * np.sign(v)


def _softmax_operands(
    op: OperatorDef, tensors: tuple[TensorDef, ...]
) -> tuple[TensorDef, TensorDef, float]:
    if len(op.inputs) != 1 or len(op.outputs) != 1 or op.inputs[0] < 0:
        raise Malformed(f"operator {op.index} (SOFTMAX) has the wrong number of operands")
    x, out = tensors[op.inputs[0]], tensors[op.outputs[0]]
    beta = 1.0
    if op.options is not None and op.options_type == SOFTMAX_OPTIONS:
        beta = float(op.options.scalar(0, "f", 1.0))
    if not np.isfinite(beta) or beta <= 0:
        raise Malformed(f"operator {op.index} (SOFTMAX) has beta {beta}")
    if x.shape[-1:] != out.shape[-1:] or x.dtype != out.dtype:
        raise Malformed(f"operator {op.index} (SOFTMAX): input and output do not match")
    return x, out, beta


class SoftmaxInt8(Step):
    def __init__(self, op: OperatorDef, tensors: tuple[TensorDef, ...]) -> None:
        x, out, beta = _softmax_operands(op, tensors)
        super().__init__(op.name, op.index, x.index, out.index)
        if x.dtype != np.int8:
            raise Unsupported(f"operator {op.index} (SOFTMAX) on {x.dtype}")
        if x.quant is None or out.quant is None or x.quant.per_channel:
            raise Malformed(f"operator {op.index} (SOFTMAX): an int8 tensor has no scale")
        step = -np.float32(x.quant.scale[0]) * np.float32(beta)
        k = np.arange(256, dtype=np.float32)
        # expf of a float32 argument; exp in double then rounded gives the correctly rounded
        # float32, which is what glibc's expf returns for these arguments.
        self.table = np.exp((step * k).astype(np.float64)).astype(np.float32)
        self.out_scale = np.float32(out.quant.scale[0])
        self.out_zero = int(out.quant.zero_point[0])
        self.in_scale, self.beta, self.depth = float(x.quant.scale[0]), beta, x.shape[-1]
        # TFLite's own requirement for int8 softmax outputs (probabilities in 1/256 steps).
        if out.dtype != np.int8 or self.out_zero != -128 or abs(self.out_scale - 1 / 256) > 1e-8:
            raise Unsupported(
                f"operator {op.index} (SOFTMAX): an int8 output needs scale 1/256 and zero "
                f"point -128, not {float(self.out_scale)} and {self.out_zero}"
            )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        k = x.max(axis=-1, keepdims=True).astype(np.int16) - x
        e = self.table[k]
        # TFLite sums the terms one after another in float32; cumsum keeps that order.
        total = np.cumsum(e, axis=-1, dtype=np.float32)[..., -1:]
        inv = np.float32(1.0) / (total * self.out_scale)
        # std::round (half away from zero) of a non-negative float32, exactly, in double.
        q = np.floor((e * inv).astype(np.float64) + 0.5) + self.out_zero
        return np.minimum(q, 127).astype(np.int8)

    def fixed_point(self) -> SoftmaxInt8Fixed:
        """The same operator as TensorFlow Lite Micro computes it."""
        return SoftmaxInt8Fixed(
            self.op, self.index, self.source, self.target, self.in_scale, self.beta, self.depth
        )


class SoftmaxFloat(Step):
    def __init__(self, op: OperatorDef, tensors: tuple[TensorDef, ...]) -> None:
        x, out, self.beta = _softmax_operands(op, tensors)
        super().__init__(op.name, op.index, x.index, out.index)
        if x.dtype != np.float32:
            raise Unsupported(f"operator {op.index} (SOFTMAX) on {x.dtype}")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        z = (x - x.max(axis=-1, keepdims=True)).astype(np.float64) * self.beta
        e = np.exp(z)
        return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def _unary(op: OperatorDef, tensors: tuple[TensorDef, ...]) -> tuple[TensorDef, TensorDef]:
    if not op.inputs or op.inputs[0] < 0 or len(op.outputs) != 1:
        raise Malformed(f"operator {op.index} ({op.name}) has the wrong number of operands")
    return tensors[op.inputs[0]], tensors[op.outputs[0]]


class Quantize(Step):
    def __init__(self, op: OperatorDef, tensors: tuple[TensorDef, ...]) -> None:
        x, out = _unary(op, tensors)
        super().__init__(op.name, op.index, x.index, out.index)
        if x.dtype != np.float32 or out.dtype not in (np.int8, np.uint8):
            raise Unsupported(f"operator {op.index} (QUANTIZE) from {x.dtype} to {out.dtype}")
        if out.quant is None or out.quant.per_channel or x.shape != out.shape:
            raise Unsupported(f"operator {op.index} (QUANTIZE) needs a per-tensor output scale")
        self.scale = np.float32(out.quant.scale[0])
        self.zero = int(out.quant.zero_point[0])
        self.dtype = out.dtype
        info = np.iinfo(out.dtype)
        self.lo, self.hi = int(info.min), int(info.max)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        q = _round_half_away(x / self.scale) + self.zero
        return np.clip(q, self.lo, self.hi).astype(self.dtype)


class Dequantize(Step):
    def __init__(self, op: OperatorDef, tensors: tuple[TensorDef, ...]) -> None:
        x, out = _unary(op, tensors)
        super().__init__(op.name, op.index, x.index, out.index)
        if x.dtype not in (np.int8, np.uint8) or out.dtype != np.float32:
            raise Unsupported(f"operator {op.index} (DEQUANTIZE) from {x.dtype} to {out.dtype}")
        if x.quant is None or x.quant.per_channel or x.shape != out.shape:
            raise Unsupported(f"operator {op.index} (DEQUANTIZE) needs a per-tensor input scale")
        self.scale = float(x.quant.scale[0])
        self.zero = int(x.quant.zero_point[0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (self.scale * (x.astype(np.float64) - self.zero)).astype(np.float32)


class Reshape(Step):
    """Keeps the first (batch) axis free: the output's static shape past its first axis."""

    def __init__(self, op: OperatorDef, tensors: tuple[TensorDef, ...]) -> None:
        x, out = _unary(op, tensors)
        super().__init__(op.name, op.index, x.index, out.index)
        if x.size != out.size or x.dtype != out.dtype or not out.shape:
            raise Malformed(
                f"operator {op.index} (RESHAPE) turns {list(x.shape)} into {list(out.shape)}"
            )
        self.tail = out.shape[1:]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(-1, *self.tail)


def prepare(
    op: OperatorDef, tensors: tuple[TensorDef, ...], rounding: str = DEFAULT_ROUNDING
) -> Step:
    """The kernel for one operator, with its constants prepared; unsupported ones are refused.
    ``rounding`` (see ``rounding.py``) picks whose int8 arithmetic; float kernels ignore it."""
    first = tensors[op.inputs[0]] if op.inputs and op.inputs[0] >= 0 else None
    floating = first is not None and first.dtype == np.float32
    if op.name == "FULLY_CONNECTED":
        if floating:
            return FullyConnectedFloat(op, tensors)
        return FullyConnectedInt8(op, tensors, rounding)
    if op.name == "SOFTMAX":
        if floating:
            return SoftmaxFloat(op, tensors)
        softmax = SoftmaxInt8(op, tensors)
        return softmax.fixed_point() if rounding == "tflm" else softmax
    if op.name == "QUANTIZE":
        return Quantize(op, tensors)
    if op.name == "DEQUANTIZE":
        return Dequantize(op, tensors)
    if op.name == "RESHAPE":
        return Reshape(op, tensors)
    raise Unsupported(
        f"operator {op.index} is {op.name}, which this engine does not implement "
        "(it runs FULLY_CONNECTED, SOFTMAX, QUANTIZE, DEQUANTIZE and RESHAPE)"
    )
