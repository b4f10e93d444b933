/* Image files to 8-bit RGB: JPEG through TurboJPEG (grayscale, YCbCr, CMYK/YCCK), PNG through
 * libpng. The format is recognised by its signature, not the file extension. Every failure
 * returns MBN_EFAIL with a message naming the file. Images larger than MBN_IMAGE_MAX_SIDE per
 * side or MBN_IMAGE_MAX_PIXELS in total are refused before any pixel buffer is allocated, so a
 * forged header cannot exhaust memory. */
#ifndef MBN_IO_DATA_IMAGE_DECODE_H
#define MBN_IO_DATA_IMAGE_DECODE_H
#include <stddef.h>
#include <stdint.h>

#define MBN_IMAGE_MAX_SIDE 16384
#define MBN_IMAGE_MAX_PIXELS (100LL * 1000 * 1000)
#define MBN_IMAGE_MAX_FILE_BYTES (256u << 20)

typedef struct {
    uint8_t *rgb; /* h x w x 3, malloc'ed */
    int w, h;
} MbnImage;

/* Reads an image file whole (at most MBN_IMAGE_MAX_FILE_BYTES; an empty file is an error naming
 * it) into *buf (free()); the encoded bytes then go to mbn_image_probe / mbn_image_decode. */
int mbn_image_read_file(const char *path, uint8_t **buf, size_t *len);
/* Full-resolution size from the header alone. */
int mbn_image_probe(const uint8_t *buf, size_t len, const char *name, int *w, int *h);
/* Decodes to RGB. For a JPEG, min_scale < 1 lets TurboJPEG decode at a reduced DCT scale: the
 * smallest of its scaling factors (1/8 .. 1) that is >= min_scale, so the result is never smaller
 * than the caller needs. out->w/h give the size actually decoded. PNG ignores min_scale. */
int mbn_image_decode(const uint8_t *buf, size_t len, const char *name, double min_scale,
                     MbnImage *out);
void mbn_image_free(MbnImage *img);

#endif
