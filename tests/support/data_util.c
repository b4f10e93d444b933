#include "tests/support/data_util.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

uint8_t *tu_jpeg(const uint8_t *pix, int w, int h, int pf, int subsamp, int quality, size_t *size) {
    tjhandle tj = tjInitCompress();
    if (!tj) return NULL;
    unsigned char *jpeg = NULL;
    unsigned long n = 0;
    int rc = tjCompress2(tj, pix, w, 0, h, pf, &jpeg, &n, subsamp, quality, 0);
    tjDestroy(tj);
    if (rc != 0) {
        tjFree(jpeg);
        return NULL;
    }
    uint8_t *out = malloc(n);
    if (out) memcpy(out, jpeg, n);
    tjFree(jpeg);
    *size = n;
    return out;
}

void tu_pattern(uint8_t *rgb, int w, int h, unsigned seed) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(x * 255 / (w > 1 ? w - 1 : 1));
            p[1] = (uint8_t)(y * 255 / (h > 1 ? h - 1 : 1));
            p[2] = (uint8_t)(((x / 8 + y / 8 + seed) & 1) ? 200 : 40);
        }
}

int tu_write_png(const char *path, const uint8_t *pix, int w, int h, int channels) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    im.format = channels == 1 ? PNG_FORMAT_GRAY : channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    return png_image_write_to_file(&im, path, 0, pix, 0, NULL) ? 0 : -1;
}
