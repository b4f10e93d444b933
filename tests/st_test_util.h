/* Builds safetensors file images by hand for the safetensors tests. */
#ifndef MBN_TESTS_ST_TEST_UTIL_H
#define MBN_TESTS_ST_TEST_UTIL_H
#include "io_test_util.h"

/* 8-byte length + header (padded with spaces to 8) + data. Caller frees. */
static inline unsigned char *st_image(const char *header, const void *data, size_t dlen,
                                      size_t *len) {
    size_t h = strlen(header), hp = (h + 7) / 8 * 8;
    unsigned char *b = malloc(8 + hp + dlen + 1);
    for (int k = 0; k < 8; k++)
        b[k] = (unsigned char)((uint64_t)hp >> (8 * k));
    memcpy(b + 8, header, h);
    memset(b + 8 + h, ' ', hp - h);
    if (dlen) memcpy(b + 8 + hp, data, dlen);
    *len = 8 + hp + dlen;
    return b;
}

#endif
