/* Host self-test driver: prints edge_mnist_selftest()'s return value and exits with it. */
#include <stdio.h>

#include "model_int8.h"

int main(void)
{
    int status = edge_mnist_selftest();
    printf("%d\n", status);
    return status;
}
