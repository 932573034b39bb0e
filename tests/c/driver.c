/* Host test driver: classify raw 784-byte images with the generated model.
   Usage: driver IMAGES OUT, where IMAGES holds N images of 784 uint8 pixels back to back;
   writes N records of 11 bytes to OUT: the digit, then the 10 int8 scores. */
#include <stdio.h>
#include <stdlib.h>

#include "model_int8.h"

int main(int argc, char **argv)
{
    uint8_t pixels[784];
    int8_t scores[10];
    unsigned char record[11];
    long count = 0;
    FILE *in;
    FILE *out;
    int j;
    if (argc != 3) {
        fprintf(stderr, "usage: %s IMAGES OUT\n", argv[0]);
        return 2;
    }
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {
        fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]);
        return 2;
    }
    while (fread(pixels, 1, sizeof pixels, in) == sizeof pixels) {
        int digit = edge_mnist_predict(pixels, scores);
        /* A NULL scores pointer must give the same digit. */
        if (edge_mnist_predict(pixels, NULL) != digit || digit < 0 || digit > 9) {
            fprintf(stderr, "inconsistent digit for image %ld\n", count);
            return 1;
        }
        record[0] = (unsigned char)digit;
        for (j = 0; j < 10; ++j) {
            record[1 + j] = (unsigned char)scores[j];
        }
        fwrite(record, 1, sizeof record, out);
        ++count;
    }
    if (fclose(out) != 0) {
        return 1;
    }
    fclose(in);
    fprintf(stderr, "%ld images\n", count);
    return 0;
}
