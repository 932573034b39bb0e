"""Integer fixed-point arithmetic of TFLite's reference kernels, on numpy int64 arrays.

TensorFlow Lite Micro (and TFLite's reference kernels) requantize with gemmlowp's fixed-point
primitives and compute int8 SOFTMAX entirely in fixed point (gemmlowp's exp and Newton-Raphson
reciprocal). This module reproduces those primitives bit for bit: every value is an int32 held
in an int64 array, products are formed in 64 bits as the C code does, and divisions truncate
toward zero like C's ``/``. The TFLite functions they mirror are named in each docstring;
docs/2026-12-03-rounding-variants.md says which interpreter uses which.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def wrap32(x: np.ndarray) -> np.ndarray:
    """int32 addition's wrap-around (what the C code does on overflow)."""
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: real ≈ q · 2^(shift − 31), q in [2^30, 2^31)."""
    if real == 0.0:
        return 0, 0
    fraction, shift = math.frexp(real)
    q = math.floor(abs(fraction) * (1 << 31) + 0.5)  # std::round of a positive value
    if fraction < 0:
        q = -q
    if q == 1 << 31:
        q //= 2
        shift += 1
    if shift < -31:  # flushed to zero, as TFLite does
        return 0, 0
    return q, shift


def _div_pow2_toward_zero(v: np.ndarray, bits: int) -> np.ndarray:
    return np.where(v >= 0, v >> bits, -((-v) >> bits))


def srdhm(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul: (a·b + nudge) / 2^31, C division (so
    halves round away from zero); INT32_MIN × INT32_MIN saturates."""
    a64 = np.asarray(a, np.int64)
    b64 = np.asarray(b, np.int64)
    ab = a64 * b64
    v = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    out = _div_pow2_toward_zero(v, 31)
    return np.where((a64 == INT32_MIN) & (b64 == INT32_MIN), INT32_MAX, out)


def rdpot(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest, halves away from 0."""
    e = np.asarray(exponent, np.int64)
    mask = (np.int64(1) << e) - 1
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + ((x & mask) > threshold)


def saturating_shift_left(x: np.ndarray, exponent: int) -> np.ndarray:
    """gemmlowp's SaturatingRoundingMultiplyByPOT for a positive exponent."""
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << exponent))


def multiply_by_quantized_multiplier(x: np.ndarray, q: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """TFLite's MultiplyByQuantizedMultiplier as built without TFLITE_SINGLE_ROUNDING (the
    tflite-micro package): SRDHM of x · 2^max(shift, 0), then a rounding right shift by
    max(−shift, 0); both steps round halves away from zero."""
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rdpot(srdhm(wrap32(x << left), q), right)


def _exp_quarter_interval(a: np.ndarray) -> np.ndarray:
    """gemmlowp's exp_on_interval_between_negative_one_quarter_and_0_excl (Q0.31)."""
    constant_term = 1895147668  # exp(-1/8)
    one_third = 715827883
    x = wrap32(a + (1 << 28))
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdpot(x4, 2)
    poly = rdpot(wrap32(srdhm(wrap32(x4_over_4 + x3), one_third) + x2), 1)
    return wrap32(constant_term + srdhm(constant_term, wrap32(x + poly)))


# exp(-2^k) in Q0.31 for k = -2 .. 4, applied bit by bit to the input's integer part.
_BARREL: tuple[tuple[int, int], ...] = (
    (-2, 1672461947),
    (-1, 1302514674),
    (0, 790015084),
    (1, 290630308),
    (2, 39332535),
    (3, 720401),
    (4, 242),
)


def exp_on_negative_values(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """gemmlowp's exp_on_negative_values: a ≤ 0 in Q(integer_bits).(31 − integer_bits),
    the result in Q0.31."""
    fractional_bits = 31 - integer_bits
    quarter = 1 << (fractional_bits - 2)
    a_mod = (a & (quarter - 1)) - quarter
    result = _exp_quarter_interval(saturating_shift_left(a_mod, integer_bits))
    remainder = a_mod - a
    for exponent, multiplier in _BARREL:
        if integer_bits > exponent:
            bit = (remainder >> (fractional_bits + exponent)) & 1
            result = np.where(bit != 0, srdhm(result, multiplier), result)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, INT32_MAX, result)


def _rounding_half_sum(a: np.ndarray, b: int) -> np.ndarray:
    s = a + b
    return _div_pow2_toward_zero(s + np.where(s >= 0, 1, -1), 1)


def one_over_one_plus_x(a: np.ndarray) -> np.ndarray:
    """gemmlowp's one_over_one_plus_x_for_x_in_0_1: three Newton-Raphson steps in Q2.29."""
    half_denominator = _rounding_half_sum(a, INT32_MAX)
    x = wrap32(1515870810 + srdhm(half_denominator, -1010580540))  # 48/17 − 32/17·d
    for _ in range(3):
        one_minus = wrap32((1 << 29) - srdhm(half_denominator, x))
        x = wrap32(x + saturating_shift_left(srdhm(x, one_minus), 2))
    return saturating_shift_left(x, 1)


def reciprocal(x: np.ndarray, integer_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's GetReciprocal for x > 0 in Q(integer_digits): (1/x scaled into Q0.31, the
    number of bits x has above 1.0)."""
    bit_length = np.frexp(x.astype(np.float64))[1].astype(np.int64)  # exact below 2^53
    headroom_plus_one = 32 - bit_length
    bits_over_unit = integer_digits - headroom_plus_one
    shifted_minus_one = wrap32(((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31))
    return one_over_one_plus_x(shifted_minus_one), bits_over_unit
