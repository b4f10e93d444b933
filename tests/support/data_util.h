/* Helpers for the data-pipeline tests: temporary folders, file writing, JPEG/PNG encoding and a
 * CHECK macro that records failures and keeps going so one run reports all of them. */
#ifndef MBN_TESTS_DATA_UTIL_H
#define MBN_TESTS_DATA_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern int tu_failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: FAILED (%s): ", __FILE__, __LINE__, #cond);                    \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            tu_failures++;                                                                         \
        }                                                                                          \
    } while (0)

/* Creates a fresh folder under /tmp into out. */
int tu_tempdir(char *out, size_t cap);
/* rm -rf */
void tu_rmtree(const char *path);
int tu_mkdirs(const char *path);
int tu_write_file(const char *path, const void *data, size_t n);
/* printf-style path builder into a static rotating buffer. */
const char *tu_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Encodes pixels (TurboJPEG pixel format pf: TJPF_RGB, TJPF_GRAY or TJPF_CMYK) as a JPEG;
 * returns a malloc'ed buffer (free()) and its size, or NULL. */
uint8_t *tu_jpeg(const uint8_t *pix, int w, int h, int pf, int subsamp, int quality, size_t *size);
/* A deterministic RGB test pattern: gradients plus a few sharp edges. */
void tu_pattern(uint8_t *rgb, int w, int h, unsigned seed);
/* Writes an 8-bit RGBA (channels 4), RGB (3) or gray (1) PNG. */
int tu_write_png(const char *path, const uint8_t *pix, int w, int h, int channels);

#endif
