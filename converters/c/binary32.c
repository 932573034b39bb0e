/* ---- binary32 arithmetic in integers ------------------------------------------------------ */

/* litert rescales each accumulator as a binary32 product, and TFLite's own int8 softmax
   (litert and reference) is built from binary32 sums, products and a reciprocal. These
   helpers reproduce those roundings exactly with integers: a value is m * 2^e with 2^23 <= m
   < 2^24 (or m == 0), the significand and exponent of the binary32 number the interpreter
   holds. Subnormals only arise below 2^-126, where every result here rounds to the integer 0
   anyway. */
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

