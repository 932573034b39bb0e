/* ---- softmax: TFLite's float-table kernel (litert, reference) ---------------------------- */

/* TFLite's own int8 softmax, on inputs u = x + 128: e_j = table[max - u_j] (binary32
   exp(-scale * beta * k)), s = e_0 + ... + e_(n-1) in order, inv = 1 / (s * output_scale),
   y_j = round(e_j * inv) + zero, ties away from zero, clamped to int8. */
static void softmax_u8(const uint8_t *x, int8_t *y, size_t n, const uint32_t table[256],
                       uint32_t output_scale_bits, int32_t zero)
{
    size_t j;
    uint32_t top = 0u;
    em_num sum, inv;
    sum.m = 0u;
    sum.e = 0;
    for (j = 0; j < n; ++j) {
        if (x[j] > top) {
            top = x[j];
        }
    }
    for (j = 0; j < n; ++j) {
        sum = em_add(sum, em_from_bits(table[top - x[j]]));
    }
    inv = em_recip(em_mul(sum, em_from_bits(output_scale_bits)));
    for (j = 0; j < n; ++j) {
        int32_t q = em_to_int_half_up(em_mul(em_from_bits(table[top - x[j]]), inv)) + zero;
        y[j] = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
    }
}
