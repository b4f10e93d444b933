/* The helpers the readers share (io/data/readers.h): paths, class names and the in-memory
 * sample path of IDX and CIFAR. Apart from dataset.c, whose table calls the readers, so that no
 * reader calls back into it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "io/data/augment.h"
#include "io/data/readers.h"

int mbn_path_join(char *out, size_t cap, const char *a, const char *b) {
    int n = snprintf(out, cap, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= cap) return mbn_fail(MBN_EFAIL, "%s/%s: path too long", a, b);
    return MBN_OK;
}

bool mbn_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool mbn_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char **mbn_strings_dup(const char *const *src, int n) {
    char **out = calloc((size_t)n, sizeof *out);
    if (!out) return NULL;
    for (int i = 0; i < n; i++) {
        out[i] = strdup(src[i]);
        if (!out[i]) {
            for (int j = 0; j < i; j++)
                free(out[j]);
            free(out);
            return NULL;
        }
    }
    return out;
}

int mbn_sample_in_memory(const MbnDataset *ds, int64_t idx, int res, bool train, MbnRng *rng,
                         float *out) {
    (void)train, (void)rng; /* small images are placed, not augmented (io/data/augment.h) */
    size_t bytes = (size_t)ds->width * ds->height * ds->channels;
    return mbn_augment_small(ds->pixels + bytes * (size_t)idx, ds->width, ds->height, ds->channels,
                             res, out);
}

int mbn_sample_in_memory_recorded(const MbnDataset *ds, int64_t idx, const MbnPreprocess *p,
                                  int res, float *out) {
    size_t bytes = (size_t)ds->width * ds->height * ds->channels;
    return mbn_preprocess_pixels(p, ds->pixels + bytes * (size_t)idx, ds->width, ds->height,
                                 ds->channels, res, out);
}

void mbn_pipeline_in_memory(const MbnDataset *ds, MbnPreprocess *p) {
    mbn_preprocess_small(p, ds->channels == 1);
}
