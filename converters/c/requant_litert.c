/* ---- requantization: litert ------------------------------------------------------------- */

/* round(m * 2^e) to an integer, ties to even, saturated to +-2^30. */
static int32_t em_to_int_rne(em_num a)
{
    if (a.e >= 7) {
        return (a.m == 0u) ? 0 : 0x40000000;
    }
    if (a.e >= 0) {
        return (int32_t)(a.m << a.e);
    }
    return (int32_t)em_shift_rne(a.m, (uint32_t)(-a.e));
}

/* litert (XNNPACK's "fp32" requantization): binary32(acc) * binary32(multiplier), rounded to
   an integer with ties to even; the multiplier is m * 2^e as plan.py splits the binary32.
   Fast path, exact: for |acc| < 2^24, p = |acc| * m is exact (value p * 2^-s). If p / 2^s
   >= 512 the result clamps; else rounding p to 24 bits moves it by at most 2^(s-16), which
   matters only when p mod 2^s lies that close to 2^(s-1): otherwise one rounding decides.
   Rare cases take the step-by-step path (proof: docs/2026-12-03-c-kernels.md). */
static int32_t em_rescale(int32_t acc, uint32_t m, int32_t e)
{
    uint32_t mag = (acc < 0) ? (uint32_t)0u - (uint32_t)acc : (uint32_t)acc;
    int32_t r = -1;
    if (mag < 0x1000000u && e <= -16 && e > -64) {
        uint32_t s = (uint32_t)(-e);
        uint64_t p = (uint64_t)mag * m;
        uint64_t q = p >> s;
        if (q >= 512u) {
            r = 512; /* beyond any int8 clamp range */
        } else {
            uint64_t f = p - (q << s);
            uint64_t half = ((uint64_t)1) << (s - 1u);
            uint64_t d = (f > half) ? f - half : half - f;
            if (d > (((uint64_t)1) << (s - 16u))) {
                r = (int32_t)q + (int32_t)(f > half);
            }
        }
    }
    if (r < 0) {
        em_num mult;
        mult.m = m;
        mult.e = e;
        r = em_to_int_rne(em_mul(em_round(mag, 0), mult));
    }
    return (acc < 0) ? -r : r;
}
