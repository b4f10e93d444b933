/* Batch-1 latency of the library's public call, mbn_model_classify_rgb (preprocessing of an
 * 8-bit RGB frame, upload, forward, softmax, read-back and top-5), as an application sees it.
 *
 *   build/bench/lib_latency MODEL [RUNS] [WIDTH HEIGHT]    (defaults 50 runs, 256x256 frame)
 *
 * Prints one JSON line: {"runs", "median_ms", "min_ms", "mean_ms"} after 3 warm-up calls
 * (the first compiles kernels). */
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "include/mbn.h"

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL [RUNS] [WIDTH HEIGHT]\n", argv[0]);
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 50;
    int w = argc > 4 ? atoi(argv[3]) : 256, h = argc > 4 ? atoi(argv[4]) : 256;
    if (runs < 1 || w < 1 || h < 1) return 2;
    MbnModel *m = NULL;
    if (mbn_model_open(argv[1], NULL, &m) != MBN_STATUS_OK) {
        fprintf(stderr, "lib_latency: %s\n", mbn_last_error());
        return 1;
    }
    unsigned char *rgb = malloc((size_t)w * h * 3);
    double *ms = malloc((size_t)runs * sizeof *ms);
    if (!rgb || !ms) return 1;
    for (size_t i = 0; i < (size_t)w * h * 3; i++)
        rgb[i] = (unsigned char)(i * 2654435761u >> 24);
    int classes[5];
    float probs[5];
    for (int i = 0; i < 3 + runs; i++) {
        double t0 = (mbn_now() * 1e3);
        if (mbn_model_classify_rgb(m, rgb, w, h, 3 * w, 5, classes, probs) != MBN_STATUS_OK) {
            fprintf(stderr, "lib_latency: %s\n", mbn_last_error());
            return 1;
        }
        if (i >= 3) ms[i - 3] = (mbn_now() * 1e3) - t0;
    }
    double sum = 0;
    for (int i = 0; i < runs; i++)
        sum += ms[i];
    qsort(ms, (size_t)runs, sizeof *ms, by_value);
    printf("{\"runs\": %d, \"median_ms\": %.3f, \"min_ms\": %.3f, \"mean_ms\": %.3f}\n", runs,
           ms[runs / 2], ms[0], sum / runs);
    free(rgb);
    free(ms);
    mbn_model_close(m);
    return 0;
}
