/* ---- gemmlowp fixed point (TensorFlow Lite Micro) ----------------------------------------- */

/* The primitives TensorFlow Lite Micro's reference kernels requantize with, bit for bit as the
   engine's runtime/engine/fixedpoint.py reproduces them (docs/2026-12-03-rounding-variants.md).
   SaturatingRoundingDoublingHighMul: (a * b + nudge) / 2^31 with C's division (truncating),
   so halves round away from zero; INT32_MIN * INT32_MIN saturates. */
static int32_t em_srdhm(int32_t a, int32_t b)
{
    int64_t ab = (int64_t)a * b;
    if (a == b && a == (-0x7FFFFFFF - 1)) {
        return 0x7FFFFFFF;
    }
    /* A constant power-of-two divisor: compilers emit shifts, no division routine. */
    return (int32_t)((ab + ((ab >= 0) ? (1 << 30) : (1 - (1 << 30)))) / ((int64_t)1 << 31));
}

/* RoundingDivideByPOT: x / 2^s rounded to nearest, halves away from zero; s < 63. */
static int32_t em_rdpot(int32_t x, uint32_t s)
{
    int64_t mask = ((int64_t)1 << s) - 1;
    int64_t rem = (int64_t)x & mask;
    int64_t threshold = (mask >> 1) + (x < 0);
    return (int32_t)(em_floor_shift(x, s) + (rem > threshold));
}
