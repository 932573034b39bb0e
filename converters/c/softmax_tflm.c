/* ---- softmax: tflm ----------------------------------------------------------------------- */

/* gemmlowp's SaturatingRoundingMultiplyByPOT for a left shift by s = 1 or 2. */
static int32_t em_saturating_shl(int32_t x, uint32_t s)
{
    int32_t limit = (int32_t)((1u << (31u - s)) - 1u);
    if (x > limit) {
        return 0x7FFFFFFF;
    }
    if (x < -limit) {
        return -0x7FFFFFFF - 1;
    }
    return em_signed((uint32_t)x << s);
}

/* gemmlowp's one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a) in Q0.31 by three Newton-Raphson
   steps in Q2.29 (constants 48/17 and -32/17). */
static int32_t em_one_over_one_plus_x(int32_t a)
{
    int64_t s = (int64_t)a + 0x7FFFFFFF;
    int32_t half_d = (int32_t)((s + ((s >= 0) ? 1 : -1)) / 2);
    int32_t x = em_signed(1515870810u + (uint32_t)em_srdhm(half_d, -1010580540));
    int i;
    for (i = 0; i < 3; ++i) {
        int32_t one_minus = em_signed((1u << 29) - (uint32_t)em_srdhm(half_d, x));
        x = em_signed((uint32_t)x + (uint32_t)em_saturating_shl(em_srdhm(x, one_minus), 2u));
    }
    return em_saturating_shl(x, 1u);
}

/* TensorFlow Lite Micro's int8 softmax, on inputs u = x + 128: table[k] = gemmlowp's
   exp(-k * input_scale * beta) in Q0.31 for k = max - u (0 past the input radius), computed
   at export by the engine (runtime/engine/softmax_fixed.py). The terms are summed in Q12.19,
   the sum inverted by Newton-Raphson, and y_j = RoundingDivideByPOT(table[k_j] / sum) - 128,
   clamped to int8. The output zero point is -128 (TFLite's requirement; plan.py checks it). */
static void softmax_u8(const uint8_t *x, int8_t *y, size_t n, const int32_t table[256])
{
    size_t j;
    uint32_t top = 0u, total = 0u, bits = 0u, headroom;
    int32_t scale;
    for (j = 0; j < n; ++j) {
        if (x[j] > top) {
            top = x[j];
        }
    }
    for (j = 0; j < n; ++j) {
        total += (uint32_t)em_rdpot(table[top - x[j]], 12u);
    }
    /* total >= 2^19 (the largest input's term is 1.0 in Q12.19) and < 2^31 for n <= 256. */
    while (bits < 32u && (total >> bits) != 0u) {
        ++bits;
    }
    headroom = 32u - bits;
    scale = em_one_over_one_plus_x(em_signed((total << headroom) - 0x80000000u));
    for (j = 0; j < n; ++j) {
        /* 2^(bits over unit + 31 - 8), bits over unit = 12 - headroom >= 0. */
        int32_t q = em_rdpot(em_srdhm(scale, table[top - x[j]]), 12u - headroom + 23u) - 128;
        y[j] = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
    }
}
