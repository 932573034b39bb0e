/* ---- floor(v / 2^s) ---------------------------------------------------------------------- */

/* v >> s rounded toward minus infinity, for any int64 v and s < 64: C leaves >> of a negative
   value implementation-defined, so negative values go through ~ (exact on int64_t, which is
   two's complement by definition). Compilers emit a single arithmetic shift. */
static int64_t em_floor_shift(int64_t v, uint32_t s)
{
    return (v < 0) ? ~(~v >> s) : (v >> s);
}
