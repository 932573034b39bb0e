/* ---- kernels (fixed part, identical for every model and rounding) ----------------------- */

/* The rounding chosen at export defines this after the kernels: acc * multiplier rounded to
   an integer as that interpreter does it (m and e: the multiplier as plan.py stores it). */
static int32_t em_rescale(int32_t acc, uint32_t m, int32_t e);

/* ---- fully connected layers --------------------------------------------------------------

   Activations travel as uint8 u = x + 128 (the pixel itself for the first layer), weights as
   uint8 v = w + 128: unsigned bytes load cheapest on both kernels. sum (x - z) w = sum u v -
   128 sum u + [a per-row constant the export folds into the bias], exact modulo 2^32, and the
   true accumulator fits int32 (checked at export). Weight order: rows in blocks of four; per
   four inputs, four bytes of each row in turn; then the block's n % 4 leftover inputs row by
   row; rows after the last block row-major. Measurements: docs/2026-12-03-c-kernels.md. */

/* acc[r] += the block's leftover n % 4 inputs (t of them), stored row by row. */
static const uint8_t *em_tail4(const uint8_t *x, const uint8_t *w, size_t t, uint32_t acc[4])
{
    size_t i;
    for (i = 0; i < t; ++i) {
        acc[0] += (uint32_t)x[i] * w[i];
        acc[1] += (uint32_t)x[i] * w[t + i];
        acc[2] += (uint32_t)x[i] * w[2u * t + i];
        acc[3] += (uint32_t)x[i] * w[3u * t + i];
    }
    return w + 4u * t;
}

#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__) && !defined(EDGE_MNIST_PORTABLE)
#include <arm_acle.h>

/* Four bytes from any address (one LDR: ARMv7E-M loads unaligned words). Weights and inputs
   are both read in memory order, so the pairing below holds on either endianness. */
static uint32_t em_load4(const uint8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

/* UXTB16 of bytes 1 and 3: one instruction with the rotation, which gcc 12 does not fold
   from a C rotate (it emits a separate ROR; there is no ACLE intrinsic for it). */
static uint32_t em_uxtb16_ror8(uint32_t v)
{
    uint32_t r;
    __asm__("uxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* acc[r] = sum u[i] v[r][i] for a block of four rows: UXTB16 widens bytes 0, 2 and 1, 3 of a
   word to halfword pairs, and SMLAD does two 16 x 16 multiply-accumulates at once. */
static const uint8_t *em_dot4(const uint8_t *x, const uint8_t *w, size_t n, uint32_t acc[4])
{
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const uint8_t *end = x + (n & ~(size_t)3);
    /* Tested at the bottom: one compare and branch per pass, also at -Os. */
    if (x != end) {
        do {
            uint32_t xw = em_load4(x);
            uint32_t x02 = __uxtb16(xw), x13 = em_uxtb16_ror8(xw);
            uint32_t w0 = em_load4(w), w1 = em_load4(w + 4);
            uint32_t w2 = em_load4(w + 8), w3 = em_load4(w + 12);
            a0 = __smlad(__uxtb16(w0), x02, a0);
            a0 = __smlad(em_uxtb16_ror8(w0), x13, a0);
            a1 = __smlad(__uxtb16(w1), x02, a1);
            a1 = __smlad(em_uxtb16_ror8(w1), x13, a1);
            a2 = __smlad(__uxtb16(w2), x02, a2);
            a2 = __smlad(em_uxtb16_ror8(w2), x13, a2);
            a3 = __smlad(__uxtb16(w3), x02, a3);
            a3 = __smlad(em_uxtb16_ror8(w3), x13, a3);
            x += 4;
            w += 16;
        } while (x != end);
    }
    acc[0] = (uint32_t)a0;
    acc[1] = (uint32_t)a1;
    acc[2] = (uint32_t)a2;
    acc[3] = (uint32_t)a3;
    return em_tail4(x, w, n & 3u, acc);
}
#else

/* Keeps the sums in source order (gcc must assume the empty asm reads and writes a and b):
   else gcc sums four products per row first, which spills on a Cortex-M0+'s eight low
   registers (41 instead of 33 instructions per 8 MACs, gcc 12.2 -O2). */
#if defined(__GNUC__)
#define EM_IN_ORDER(a, b) __asm__("" : "+r"(a), "+r"(b))
#else
#define EM_IN_ORDER(a, b) ((void)0)
#endif

/* acc[0], acc[1] = sum u[i] v[r][i] for two rows of a block (16 bytes per four inputs): two
   rows per pass fit a Cortex-M0+'s eight low registers; byte loads with constant offsets and
   one 32-bit multiply per MAC (single cycle on most Cortex-M0+). */
static void em_dot2(const uint8_t *x, const uint8_t *end, const uint8_t *w, uint32_t acc[2])
{
    uint32_t a0 = 0u, a1 = 0u;
    /* Tested at the bottom: one compare and branch per pass, also at -Os. */
    if (x != end) {
        do {
            uint32_t u;
            u = x[0];
            a0 += u * w[0];
            a1 += u * w[4];
            EM_IN_ORDER(a0, a1);
            u = x[1];
            a0 += u * w[1];
            a1 += u * w[5];
            EM_IN_ORDER(a0, a1);
            u = x[2];
            a0 += u * w[2];
            a1 += u * w[6];
            EM_IN_ORDER(a0, a1);
            u = x[3];
            a0 += u * w[3];
            a1 += u * w[7];
            x += 4;
            w += 16;
        } while (x != end);
    }
    acc[0] = a0;
    acc[1] = a1;
}

/* acc[r] = sum u[i] v[r][i] for a block of four rows. */
static const uint8_t *em_dot4(const uint8_t *x, const uint8_t *w, size_t n, uint32_t acc[4])
{
    const uint8_t *end = x + (n & ~(size_t)3);
    em_dot2(x, end, w, acc);
    em_dot2(x, end, w + 8, acc + 2);
    w += 4u * (n & ~(size_t)3);
    return em_tail4(end, w, n & 3u, acc);
}
#endif

/* sum u[i], once per layer (about 0.01 instructions per MAC). */
static uint32_t em_sum(const uint8_t *x, size_t n)
{
    uint32_t s = 0u;
    size_t i;
    for (i = 0; i < n; ++i) {
        s += x[i];
    }
    return s;
}

/* One row: the rows past the last block of four. */
static uint32_t em_dot1(const uint8_t *x, const uint8_t *w, size_t n)
{
    uint32_t a = 0u;
    size_t i;
    for (i = 0; i < n; ++i) {
        a += (uint32_t)x[i] * w[i];
    }
    return a;
}

/* The int32 whose two's complement is a (no implementation-defined conversion). */
static int32_t em_signed(uint32_t a)
{
    return (a >= 0x80000000u) ? -(int32_t)(~a) - 1 : (int32_t)a;
}

/* y = requantize(W x + b) as uint8 y + 128; b holds the folded bias modulo 2^32. mult_m and
   mult_e have one entry per output channel or a single one (per_channel 0). */
static void fc_u8(const uint8_t *x, uint8_t *y, const uint8_t *w, const uint32_t *b, size_t n_in,
                  size_t n_out, const uint32_t *mult_m, const int8_t *mult_e, int per_channel,
                  int32_t zero, int32_t lo, int32_t hi)
{
    uint32_t acc[4];
    uint32_t offset = 128u * em_sum(x, n_in);
    size_t o, k, r;
    for (o = 0; o < n_out; o += r) {
        r = (n_out - o >= 4u) ? 4u : 1u;
        if (r == 4u) {
            w = em_dot4(x, w, n_in, acc);
        } else {
            acc[0] = em_dot1(x, w, n_in);
            w += n_in;
        }
        for (k = 0; k < r; ++k) {
            size_t c = per_channel ? o + k : 0u;
            int32_t q = em_rescale(em_signed(acc[k] + b[o + k] - offset), mult_m[c], mult_e[c]);
            /* Clamped before the zero point is added, so a huge q cannot overflow. */
            q = (q < lo - zero) ? lo - zero : ((q > hi - zero) ? hi - zero : q);
            y[o + k] = (uint8_t)(q + zero + 128);
        }
    }
}
