/* Image fixtures for the data-pipeline tests: JPEG/PNG encoding and a test pattern (the harness,
 * temporary folders and file writing are tests/support/testutil.h). */
#ifndef MBN_TESTS_DATA_UTIL_H
#define MBN_TESTS_DATA_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Encodes pixels (TurboJPEG pixel format pf: TJPF_RGB, TJPF_GRAY or TJPF_CMYK) as a JPEG;
 * returns a malloc'ed buffer (free()) and its size, or NULL. */
uint8_t *tu_jpeg(const uint8_t *pix, int w, int h, int pf, int subsamp, int quality, size_t *size);
/* A deterministic RGB test pattern: gradients plus a few sharp edges. */
void tu_pattern(uint8_t *rgb, int w, int h, unsigned seed);
/* Writes an 8-bit RGBA (channels 4), RGB (3) or gray (1) PNG. */
int tu_write_png(const char *path, const uint8_t *pix, int w, int h, int channels);

#endif
