/* Sketch: classify a 28x28 digit in a microcontroller's main loop with the exported model.

   Build it with your board's SDK together with model_int8.c from 'edge-mnist export --format c'.
   The two board hooks below are placeholders for your camera, touch pad or serial link and for
   your display or LED; nothing else is needed: no heap, no libc, no FPU.

   Not tested on hardware; the C model itself is tested bit for bit against TFLite on a host. */
#include <stdint.h>

#include "model_int8.h"

/* Fill pixels with one digit, MNIST style: 0 = background, 255 = ink, row-major, the digit
   scaled to about 20x20 px and centred. Return 0 when no new image is ready. */
extern int board_read_digit(uint8_t pixels[784]);

/* Show the result: the digit and its probability in 1/256 steps (0-255). */
extern void board_show(int digit, int confidence_256ths);

/* Report a failed self-test (blink an error code, print it on a serial port) and stop. */
extern void board_fail(int selftest_status);

static uint8_t g_pixels[784];

int main(void)
{
    int8_t scores[10];
#ifndef EDGE_MNIST_NO_SELFTEST
    /* At boot: do the weights in flash and this build (compiler, flags, core) give, byte for
       byte, what the export computed? 0 = yes; EDGE_MNIST_SELFTEST_CORRUPT = the constants
       changed; k >= 1 = golden vector k - 1 gave other scores. A few ms on a Cortex-M4. */
    int status = edge_mnist_selftest();
    if (status != 0) {
        board_fail(status);
        for (;;) {
        }
    }
#endif
    for (;;) {
        if (board_read_digit(g_pixels)) {
            int digit = edge_mnist_predict(g_pixels, scores);
            /* probability = (score - EDGE_MNIST_OUTPUT_ZERO_POINT) * EDGE_MNIST_OUTPUT_SCALE,
               i.e. (score + 128) / 256 for the int8 softmax. */
            board_show(digit, (int)scores[digit] - EDGE_MNIST_OUTPUT_ZERO_POINT);
        }
        /* Sleep until the next image here (e.g. __WFI() on Cortex-M). */
    }
}
