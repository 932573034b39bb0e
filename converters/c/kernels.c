/* ---- kernels (fixed part, identical for every model) ------------------------------------ */

/* The reference interpreter rescales each accumulator as a binary32 product and builds its
   softmax from binary32 sums, products and a reciprocal. These helpers reproduce those
   roundings exactly with integers: a value is m * 2^e with 2^23 <= m < 2^24 (or m == 0), the
   significand and exponent of the binary32 number the interpreter holds. Subnormals only
   arise below 2^-126, where every result here rounds to the integer 0 anyway. */
typedef struct {
    uint32_t m;
    int32_t e;
} em_num;

/* round(v / 2^s), ties to even; v < 2^63. */
static uint64_t em_shift_rne(uint64_t v, uint32_t s)
{
    uint64_t q, r, half;
    if (s == 0u) {
        return v;
    }
    if (s > 63u) {
        return 0u;
    }
    q = v >> s;
    r = v & ((((uint64_t)1) << s) - 1u);
    half = ((uint64_t)1) << (s - 1u);
    if (r > half || (r == half && (q & 1u) != 0u)) {
        q += 1u;
    }
    return q;
}

static uint32_t em_bit_length(uint64_t v)
{
    uint32_t n = 0u;
    uint32_t step;
    for (step = 32u; step != 0u; step >>= 1) {
        if ((v >> step) != 0u) {
            v >>= step;
            n += step;
        }
    }
    return n + (uint32_t)(v != 0u);
}

/* The binary32 number nearest to v * 2^e (ties to even); v < 2^63. */
static em_num em_round(uint64_t v, int32_t e)
{
    em_num r;
    uint32_t n = em_bit_length(v);
    if (n == 0u) {
        r.m = 0u;
        r.e = 0;
        return r;
    }
    if (n > 24u) {
        v = em_shift_rne(v, n - 24u);
        e += (int32_t)(n - 24u);
        if ((v >> 24) != 0u) { /* rounding carried into a 25th bit: 2^24 is exact */
            v >>= 1;
            e += 1;
        }
    } else {
        v <<= 24u - n;
        e -= (int32_t)(24u - n);
    }
    r.m = (uint32_t)v;
    r.e = e;
    return r;
}

/* A binary32 bit pattern (non-negative) as m * 2^e. */
static em_num em_from_bits(uint32_t bits)
{
    uint32_t frac = bits & 0x7FFFFFu;
    int32_t biased = (int32_t)((bits >> 23) & 0xFFu);
    if (biased == 0) {
        return em_round(frac, -149);
    }
    return em_round(frac | 0x800000u, biased - 150);
}

static em_num em_mul(em_num a, em_num b)
{
    return em_round((uint64_t)a.m * b.m, a.e + b.e);
}

static em_num em_add(em_num a, em_num b) /* both non-negative */
{
    em_num t;
    uint32_t d;
    if (b.m == 0u) {
        return a;
    }
    if (a.m == 0u) {
        return b;
    }
    if (a.e < b.e) {
        t = a;
        a = b;
        b = t;
    }
    d = (uint32_t)(a.e - b.e);
    if (d > 38u) {
        return a; /* 0 < b < 2^-15 ulp(a): a + b rounds to a */
    }
    return em_round(((uint64_t)a.m << d) + b.m, b.e);
}

/* 1 / a, rounded to nearest even; a > 0. */
static em_num em_recip(em_num a)
{
    /* 2^50 / m has 27 or 28 bits; a sticky bit below them keeps the rounding exact. */
    uint64_t num = ((uint64_t)1) << 50;
    uint64_t q = num / a.m;
    uint64_t sticky = (q * a.m != num) ? 1u : 0u;
    return em_round((q << 1) | sticky, -51 - a.e);
}

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

/* round(m * 2^e) to an integer, ties away from zero, saturated to 2^30; a >= 0. */
static int32_t em_to_int_half_up(em_num a)
{
    uint32_t s;
    if (a.e >= 7) {
        return (a.m == 0u) ? 0 : 0x40000000;
    }
    if (a.e >= 0) {
        return (int32_t)(a.m << a.e);
    }
    s = (uint32_t)(-a.e);
    if (s > 25u) {
        return 0; /* below 2^-1 */
    }
    return (int32_t)(((uint64_t)a.m + (((uint64_t)1) << (s - 1u))) >> s);
}

/* The interpreter's requantization: binary32(acc) * binary32(multiplier), rounded to an
   integer with ties to even, plus the output zero point, clamped to the activation range.
   Fast path, exact: for |acc| < 2^24, p = |acc| * m is exact (value p * 2^-s). If p / 2^s
   >= 512 the result clamps; else rounding p to 24 bits moves it by at most 2^(s-16), which
   matters only when p mod 2^s lies that close to 2^(s-1): otherwise one rounding decides.
   Rare cases take the step-by-step path (proof: docs/2026-12-03-c-kernels.md). */
static int8_t em_requantize(int32_t acc, em_num mult, int32_t zero, int32_t lo, int32_t hi)
{
    uint32_t mag = (acc < 0) ? (uint32_t)0u - (uint32_t)acc : (uint32_t)acc;
    int32_t r = -1;
    if (mag < 0x1000000u && mult.e <= -16 && mult.e > -64) {
        uint32_t s = (uint32_t)(-mult.e);
        uint64_t p = (uint64_t)mag * mult.m;
        uint64_t q = p >> s;
        if (q >= 512u) {
            r = 512; /* clamps to lo or hi */
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
        r = em_to_int_rne(em_mul(em_round(mag, 0), mult));
    }
    r = ((acc < 0) ? -r : r) + zero;
    if (r < lo) {
        r = lo;
    }
    if (r > hi) {
        r = hi;
    }
    return (int8_t)r;
}

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
    em_num mult;
    mult.m = mult_m[0];
    mult.e = mult_e[0];
    for (o = 0; o < n_out; o += r) {
        r = (n_out - o >= 4u) ? 4u : 1u;
        if (r == 4u) {
            w = em_dot4(x, w, n_in, acc);
        } else {
            acc[0] = em_dot1(x, w, n_in);
            w += n_in;
        }
        for (k = 0; k < r; ++k) {
            int32_t q;
            if (per_channel) {
                mult.m = mult_m[o + k];
                mult.e = mult_e[o + k];
            }
            q = em_requantize(em_signed(acc[k] + b[o + k] - offset), mult, zero, lo, hi);
            y[o + k] = (uint8_t)(q + 128);
        }
    }
}

/* The interpreter's int8 softmax, on inputs u = x + 128: e_j = table[max - u_j] (binary32
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
