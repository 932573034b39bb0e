/* Host check of a rounding's em_rescale against the engine's NumPy arithmetic: reads records
   of three little-endian int32 (acc, m, e) from stdin and writes em_rescale(acc, m, e) as
   int32 to stdout. Built with -DKERNELS='"file"' naming the kernels of one rounding (as the
   export concatenates them). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include KERNELS

int main(void)
{
    int32_t in[3];
    while (fread(in, sizeof in[0], 3, stdin) == 3) {
        int32_t r = em_rescale(in[0], (uint32_t)in[1], in[2]);
        if (fwrite(&r, sizeof r, 1, stdout) != 1) {
            return 1;
        }
    }
    return 0;
}
