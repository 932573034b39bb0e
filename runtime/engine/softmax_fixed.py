"""int8 SOFTMAX as TensorFlow Lite Micro computes it: all in gemmlowp fixed point.

TFLite's own int8 kernel (``kernels.SoftmaxInt8``) uses a float32 exp table; TFLite Micro's
reference kernel instead rescales max − x into Q5.26 with a quantized multiplier, takes
gemmlowp's fixed-point exp, sums the terms in Q12.19, inverts the sum by Newton-Raphson and
rounds each probability with a rounding right shift. Every step depends on max − x alone
except the per-row reciprocal, so the exp terms are a 256-entry table computed at load and a
batch costs a table lookup, one reciprocal per row and one fixed-point multiply per value.
Input differences below ``diff_min`` give exactly the zero point, as in TFLite Micro.
"""

from __future__ import annotations

import math

import numpy as np

from .fixedpoint import (
    exp_on_negative_values,
    quantize_multiplier,
    rdpot,
    reciprocal,
    srdhm,
    wrap32,
)
from .step import Step, Unsupported

# TFLite Micro's choices: the rescaled difference in Q5.26, the sum of exps in Q12.19.
SCALED_DIFF_INTEGER_BITS = 5
ACCUMULATION_INTEGER_BITS = 12
# The output shift (bits over unit + 23) must stay within 31: TFLite Micro checks it per row.
MAX_DEPTH = 256


def softmax_parameters(input_scale: float, beta: float) -> tuple[int, int, int]:
    """TFLite's PreprocessSoftmaxScaling and CalculateInputRadius (double-rounding build):
    the Q5.26 input multiplier, its left shift and the smallest difference still counted."""
    real = min(beta * input_scale * (1 << (31 - SCALED_DIFF_INTEGER_BITS)), (1 << 31) - 1.0)
    multiplier, left_shift = quantize_multiplier(real)
    if real <= 1.0 or left_shift < 0:
        raise Unsupported(
            f"SOFTMAX: input scale × beta = {input_scale * beta} is too small for TFLite "
            "Micro's fixed-point softmax"
        )
    radius = (
        ((1 << SCALED_DIFF_INTEGER_BITS) - 1)
        * (1 << (31 - SCALED_DIFF_INTEGER_BITS))
        / (1 << left_shift)
    )
    return multiplier, left_shift, -math.floor(radius)


class SoftmaxInt8Fixed(Step):
    """Prepared from the float kernel's operands (``kernels.SoftmaxInt8`` checks them)."""

    def __init__(
        self,
        op: str,
        index: int,
        source: int,
        target: int,
        input_scale: float,
        beta: float,
        depth: int,
    ) -> None:
        super().__init__(op, index, source, target)
        if depth > MAX_DEPTH:
            raise Unsupported(
                f"operator {index} (SOFTMAX): rows of {depth} values; TFLite Micro's int8 "
                f"softmax is exact here for rows of at most {MAX_DEPTH}"
            )
        multiplier, left_shift, diff_min = softmax_parameters(input_scale, beta)
        diff = -np.arange(256, dtype=np.int64)  # x − max for k = max − x
        counted = diff >= diff_min
        # MultiplyByQuantizedMultiplierGreaterThanOne: SRDHM of x · 2^left_shift.
        rescaled = srdhm(wrap32(np.where(counted, diff, 0) << left_shift), multiplier)
        exp = exp_on_negative_values(rescaled, SCALED_DIFF_INTEGER_BITS)
        self.exp = np.where(counted, exp, 0)
        self.counted = counted
        # Rescale<12> of each term before it is summed.
        self.term = np.where(counted, rdpot(exp, ACCUMULATION_INTEGER_BITS), 0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        k = x.max(axis=-1, keepdims=True).astype(np.int64) - x
        total = wrap32(self.term[k].sum(axis=-1, keepdims=True))
        scale, bits_over_unit = reciprocal(total, ACCUMULATION_INTEGER_BITS)
        exponent = bits_over_unit + 31 - 8
        q = rdpot(srdhm(scale, self.exp[k]), exponent) - 128
        q = np.where(self.counted[k], q, -128)
        return np.clip(q, -128, 127).astype(np.int8)
