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
   integer with ties to even, plus the output zero point, clamped to the activation range. */
static int8_t em_requantize(int32_t acc, em_num mult, int32_t zero, int32_t lo, int32_t hi)
{
    uint32_t mag = (acc < 0) ? (uint32_t)0u - (uint32_t)acc : (uint32_t)acc;
    int32_t r = em_to_int_rne(em_mul(em_round(mag, 0), mult));
    r = ((acc < 0) ? -r : r) + zero;
    if (r < lo) {
        r = lo;
    }
    if (r > hi) {
        r = hi;
    }
    return (int8_t)r;
}

/* y = requantize(W x + b) for int8 x; the input zero point is folded into b. W is row-major
   [n_out][n_in]; mult_e has one entry per output channel or a single one (per_channel 0). */
static void fc_s8(const int8_t *x, int8_t *y, const int8_t *w, const int32_t *b, size_t n_in,
                  size_t n_out, const uint32_t *mult_m, const int8_t *mult_e, int per_channel,
                  int32_t zero, int32_t lo, int32_t hi)
{
    size_t o, i;
    em_num mult;
    for (o = 0; o < n_out; ++o) {
        const int8_t *row = w + o * n_in;
        int32_t acc = b[o];
        for (i = 0; i < n_in; ++i) {
            acc += (int32_t)x[i] * (int32_t)row[i];
        }
        mult.m = mult_m[per_channel ? o : 0u];
        mult.e = mult_e[per_channel ? o : 0u];
        y[o] = em_requantize(acc, mult, zero, lo, hi);
    }
}

/* The same for the first layer when the model's input quantization maps pixel p to p - 128
   with zero point -128 (scale 1/255): the zero-point-corrected input is the pixel itself. */
static void fc_u8(const uint8_t *x, int8_t *y, const int8_t *w, const int32_t *b, size_t n_in,
                  size_t n_out, const uint32_t *mult_m, const int8_t *mult_e, int per_channel,
                  int32_t zero, int32_t lo, int32_t hi)
{
    size_t o, i;
    em_num mult;
    for (o = 0; o < n_out; ++o) {
        const int8_t *row = w + o * n_in;
        int32_t acc = b[o];
        for (i = 0; i < n_in; ++i) {
            acc += (int32_t)x[i] * (int32_t)row[i];
        }
        mult.m = mult_m[per_channel ? o : 0u];
        mult.e = mult_e[per_channel ? o : 0u];
        y[o] = em_requantize(acc, mult, zero, lo, hi);
    }
}

/* The interpreter's int8 softmax: e_j = table[max - x_j] (binary32 exp(-scale * beta * k)),
   s = e_0 + ... + e_(n-1) in order, inv = 1 / (s * output_scale), y_j = round(e_j * inv) +
   zero, ties away from zero, clamped to int8. */
static void softmax_s8(const int8_t *x, int8_t *y, size_t n, const uint32_t table[256],
                       uint32_t output_scale_bits, int32_t zero)
{
    size_t j;
    int32_t top = -128;
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
