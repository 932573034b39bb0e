/* ---- requantization: reference ----------------------------------------------------------- */

/* TFLite's built-in kernels through ruy, as its x86-64 kernels compute it (the engine's
   runtime/engine/rounding.py, ruy_requantize; docs/2026-12-03-rounding-variants.md): the
   multiplier is q * 2^(e - 31) from TFLite's QuantizeMultiplier (m = q in [2^30, 2^31)).
   acc * 2^max(e, 0) in 32 bits, then (x * q + 2^30) >> 31 and a right shift by max(-e, 0)
   rounding halves up (toward plus infinity), both as floor shifts of the 64-bit sums. */
static int32_t em_rescale(int32_t acc, uint32_t m, int32_t e)
{
    uint32_t left = (e > 0) ? (uint32_t)e : 0u;
    uint32_t right = (e < 0) ? (uint32_t)(-e) : 0u;
    int64_t x = em_signed((uint32_t)acc << left); /* wraps like the kernel's 32-bit shift */
    int64_t r = em_floor_shift(x * (int64_t)m + ((int64_t)1 << 30), 31u);
    int64_t nudge = (right > 0u) ? ((int64_t)1 << (right - 1u)) : 0;
    /* The kernel's overflow guard: r + nudge beyond int32 gives 2^(31 - right) (right > 0
       here: with right == 0, r <= 2^31 - 1 always; the - 1 only keeps the cast defined). */
    if (r > (int64_t)0x7FFFFFFF - nudge) {
        return (int32_t)(((int64_t)1 << (31u - right)) - (right == 0u));
    }
    return (int32_t)em_floor_shift(r + nudge, right);
}
