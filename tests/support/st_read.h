/* TEST HELPER ONLY: a minimal safetensors reader for the PyTorch fixtures in tests/fixtures/
 * (F32 and I32 tensors, "__metadata__" strings), and a builder of hand-made files. The product's
 * reader is io/formats/safetensors.c; this one exists so the oracle tests do not depend on it (and
 * can cross-check it later). */
#ifndef MBN_TESTS_SUPPORT_ST_READ_H
#define MBN_TESTS_SUPPORT_ST_READ_H
#include <stddef.h>
#include <stdint.h>

#include "io/formats/tensors.h"

typedef struct {
    char name[160];
    char dtype[8];
    int ndim;
    int64_t shape[8];
    size_t begin, end; /* byte offsets in the data section */
} StEntry;

typedef struct {
    unsigned char *buf;
    size_t size, data_off;
    int n;
    StEntry *e;
    int n_meta;
    char (*meta_key)[160];
    char (*meta_val)[256];
} StFile;

/* Reads and parses the whole file; returns 0, or -1 with a message printed. */
int st_open(StFile *f, const char *path);
void st_close(StFile *f);
const StEntry *st_find(const StFile *f, const char *name);
size_t st_numel(const StEntry *e);
/* malloc'ed copy of an F32 tensor (NULL with a message when absent or not F32); *n = numel. */
float *st_f32(const StFile *f, const char *name, size_t *n);
/* An F32 tensor of exactly `want` values as doubles (malloc'ed); exits with a message when it
 * is absent or of another size. */
double *st_f64_want(const StFile *f, const char *name, size_t want);
/* malloc'ed copy of an I32 tensor. */
int32_t *st_i32(const StFile *f, const char *name, size_t *n);
/* Metadata value, or NULL. */
const char *st_meta(const StFile *f, const char *key);
/* A safetensors file image built by hand (for the reader's tests): the 8-byte length, the header
 * padded with spaces to a multiple of 8, then dlen bytes of data. malloc'ed (free()). */
unsigned char *st_image(const char *header, const void *data, size_t dlen, size_t *len);
/* Adds every F32 tensor whose name starts with `prefix` to `set`, under the name with the
 * prefix removed. Returns the count added, or -1. */
int st_to_tensorset(const StFile *f, const char *prefix, MbnTensorSet *set);

#endif
