/* Host check of the integer binary32 emulation in the generated kernels against the host's
   IEEE-754 float arithmetic (round to nearest even): products, sums, reciprocals and the
   final roundings, on pseudo-random operands spanning the ranges the model uses.
   Built with -DKERNELS='"file"' naming the litert kernels (kernels.c and its rounding's
   parts, as the export concatenates them); prints the number of cases checked. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include KERNELS

static uint32_t rng_state = 12345u;
static uint32_t next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static uint32_t bits_of(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static float of_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* The em value as the host float (exact when the em value is a normal binary32). */
static float to_float(em_num a)
{
    return ldexpf((float)a.m, (int)a.e);
}

/* The kernel's requantization as fc_u8 applies it: zero point -3, clamped to int8. */
static int32_t em_requantize(int32_t acc, em_num m)
{
    int32_t q = em_rescale(acc, m.m, m.e);
    q = (q < -125) ? -125 : ((q > 130) ? 130 : q);
    return q - 3;
}

/* A positive float with a random significand and an exponent in [lo, hi]. */
static float random_float(int lo, int hi)
{
    uint32_t e = (uint32_t)(lo + (int)(next() % (uint32_t)(hi - lo + 1)) + 127);
    return of_bits((e << 23) | (next() & 0x7FFFFFu));
}

int main(void)
{
    long i, failures = 0, cases = 0;
    for (i = 0; i < 2000000; ++i) {
        float a = random_float(-40, 8);
        float b = random_float(-40, 8);
        float m = random_float(-20, 0);
        int32_t acc = (int32_t)(next() >> (next() % 32u)) * ((next() & 1u) ? -1 : 1);
        em_num ea = em_from_bits(bits_of(a));
        em_num eb = em_from_bits(bits_of(b));
        em_num em = em_from_bits(bits_of(m));
        volatile float prod = a * b;
        volatile float sum = a + b;
        volatile float recip = 1.0f / a;
        volatile float req = (float)acc * m;
        float rounded = nearbyintf(req); /* ties to even in the default mode */
        /* zero point -3, clamped to int8 */
        float clamped = rounded < -125.0f ? -125.0f : (rounded > 130.0f ? 130.0f : rounded);
        int32_t expect_req = (int32_t)clamped - 3;
        int32_t got_req = em_requantize(acc, em);
        if (to_float(em_mul(ea, eb)) != prod) {
            ++failures;
        }
        if (to_float(em_add(ea, eb)) != sum) {
            ++failures;
        }
        if (to_float(em_recip(ea)) != recip) {
            ++failures;
        }
        if (got_req != expect_req) {
            ++failures;
        }
        if (a < 1000.0f && em_to_int_half_up(ea) != (int32_t)roundf(a)) {
            ++failures;
        }
        cases += 5;
    }
    /* Requantization near the ties, where the interpreter's two roundings (to 24 bits, then
       to an integer) can differ from one: acc * m within a few units of (k + 1/2) * 2^s. */
    for (i = 0; i < 1000000; ++i) {
        float m = random_float(-20, -4);
        double half_step = ((double)(next() % 300u) + 0.5) / (double)m;
        int32_t acc = (int32_t)half_step + (int32_t)(next() % 7u) - 3;
        em_num em = em_from_bits(bits_of(m));
        volatile float req = (float)acc * m;
        float rounded = nearbyintf(req);
        float clamped = rounded < -125.0f ? -125.0f : (rounded > 130.0f ? 130.0f : rounded);
        if (acc < 0x40000000 && em_requantize(acc, em) != (int32_t)clamped - 3) {
            ++failures;
        }
        ++cases;
    }
    printf("%ld cases, %ld failures\n", cases, failures);
    return failures != 0;
}
