/* ---- requantization: tflm ---------------------------------------------------------------- */

/* TensorFlow Lite Micro's MultiplyByQuantizedMultiplier (built without
   TFLITE_SINGLE_ROUNDING): the multiplier is q * 2^(e - 31) (m = q in [2^30, 2^31)); acc *
   2^max(e, 0) in 32 bits, SaturatingRoundingDoublingHighMul by q, then RoundingDivideByPOT by
   max(-e, 0): two roundings, halves away from zero. */
static int32_t em_rescale(int32_t acc, uint32_t m, int32_t e)
{
    uint32_t left = (e > 0) ? (uint32_t)e : 0u;
    uint32_t right = (e < 0) ? (uint32_t)(-e) : 0u;
    return em_rdpot(em_srdhm(em_signed((uint32_t)acc << left), (int32_t)m), right);
}
