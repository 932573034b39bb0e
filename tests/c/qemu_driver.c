/* Cortex-M test driver, run under QEMU's user-mode emulator (qemu-arm): reads N images of
   784 uint8 pixels from stdin and writes N records of 11 bytes to stdout (the digit, then
   the 10 int8 scores), like driver.c on the host. Freestanding: no C library, so the Linux
   read, write and exit system calls are made directly (qemu-arm forwards them to the host).
   Built with -nostdlib together with qemu_start.S and the generated model_int8.c. */
#include <stdint.h>

#include "model_int8.h"

int run(void);

static long sys3(long number, long a, long b, long c)
{
    register long r0 __asm__("r0") = a;
    register long r1 __asm__("r1") = b;
    register long r2 __asm__("r2") = c;
    register long r7 __asm__("r7") = number;
    __asm__ volatile("svc 0" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r7) : "memory");
    return r0;
}

/* Fill buf with n bytes from stdin; 0 at end of input, -1 on a short or failed read. */
static int read_all(uint8_t *buf, long n)
{
    long got = 0;
    while (got < n) {
        long r = sys3(3, 0, (long)(buf + got), n - got);
        if (r <= 0) {
            return got == 0 && r == 0 ? 0 : -1;
        }
        got += r;
    }
    return 1;
}

static uint8_t pixels[784];

int run(void)
{
    int8_t scores[10];
    uint8_t record[11];
    int status, j;
    while ((status = read_all(pixels, (long)sizeof pixels)) == 1) {
        int digit = edge_mnist_predict(pixels, scores);
        record[0] = (uint8_t)digit;
        for (j = 0; j < 10; ++j) {
            record[1 + j] = (uint8_t)scores[j];
        }
        if (sys3(4, 1, (long)record, (long)sizeof record) != (long)sizeof record) {
            return 3;
        }
    }
    return status == 0 ? 0 : 2;
}
