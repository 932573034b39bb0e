/* Cortex-M self-test driver, run under qemu-arm: the exit status is edge_mnist_selftest()'s
   return value (0 = every golden vector gave its bytes). Freestanding, built with
   qemu_start.S and the generated model_int8.c like qemu_driver.c. */
#include <stdint.h>

#include "model_int8.h"

int run(void);

int run(void)
{
    return edge_mnist_selftest();
}
