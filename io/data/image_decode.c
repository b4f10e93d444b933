#include "io/data/image_decode.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <png.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "base/error.h"
#include "io/util/file_read.h"

static bool is_jpeg(const uint8_t *b, size_t n) {
    return n >= 3 && b[0] == 0xFF && b[1] == 0xD8;
}
static bool is_png(const uint8_t *b, size_t n) {
    return n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0;
}

static int check_size(const char *name, int w, int h) {
    if (w <= 0 || h <= 0) return mbn_fail(MBN_EFAIL, "%s: invalid image size %dx%d", name, w, h);
    if (w > MBN_IMAGE_MAX_SIDE || h > MBN_IMAGE_MAX_SIDE || (long long)w * h > MBN_IMAGE_MAX_PIXELS)
        return mbn_fail(MBN_EFAIL,
                        "%s: image %dx%d exceeds the limit of %d pixels per side and %lld "
                        "pixels in total",
                        name, w, h, MBN_IMAGE_MAX_SIDE, MBN_IMAGE_MAX_PIXELS);
    return MBN_OK;
}

/* ---- JPEG ---- */

static int jpeg_header(tjhandle tj, const uint8_t *buf, size_t len, const char *name, int *w,
                       int *h, int *cs) {
    int subsamp = 0;
    if (len > ULONG_MAX ||
        tjDecompressHeader3(tj, buf, (unsigned long)len, w, h, &subsamp, cs) != 0)
        return mbn_fail(MBN_EFAIL, "%s: not a valid JPEG: %s", name, tjGetErrorStr2(tj));
    return check_size(name, *w, *h);
}

#ifndef MBN_JPEG_ALL_SCALES
/* Only 1/2, 1/4 and 1/8 (and 1) by default: libjpeg-turbo has SIMD reduced-size IDCTs for those,
 * while 7/8, 3/4 and 5/8 use plain C IDCTs that are slower than a full SIMD decode. Measured on a
 * 500x375 q90 photo (libjpeg-turbo 2.1.5, one core): 8/8 0.82 ms, 7/8 1.15, 6/8 0.95, 5/8 0.88,
 * 4/8 0.68, 3/8 0.70, 2/8 0.64, 1/8 0.52. Build with -DMBN_JPEG_ALL_SCALES=1 to allow all. */
#define MBN_JPEG_ALL_SCALES 0
#endif

/* The smallest TurboJPEG scaling factor >= min_scale (never above 1: no upscaling here). */
static tjscalingfactor pick_scale(double min_scale) {
    tjscalingfactor best = {1, 1};
    int n = 0;
    tjscalingfactor *f = tjGetScalingFactors(&n);
    for (int i = 0; f && i < n; i++) {
        double s = (double)f[i].num / f[i].denom;
        if (s <= 1.0 && s >= min_scale && s < (double)best.num / best.denom &&
            (MBN_JPEG_ALL_SCALES || (8 % f[i].denom == 0 && f[i].num == 1)))
            best = f[i];
    }
    return best;
}

/* Adobe CMYK/YCCK JPEGs (practically all CMYK JPEGs, and what TurboJPEG writes) store inverted
 * ink values, so with the stored values C K, R = C * K / 255 (as PIL's "CMYK;I" + convert). */
static void cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t pixels) {
    for (size_t i = 0; i < pixels; i++) {
        unsigned k = cmyk[4 * i + 3];
        for (int c = 0; c < 3; c++)
            rgb[3 * i + c] = (uint8_t)((cmyk[4 * i + c] * k + 127) / 255);
    }
}

/* TurboJPEG reports recoverable libjpeg warnings as failures too. Accept the harmless ones
 * (e.g. extraneous bytes before a marker, which PIL also accepts) but not truncation, which PIL
 * refuses and which would feed grey filler to training. */
static bool acceptable_warning(tjhandle tj) {
    return tjGetErrorCode(tj) == TJERR_WARNING && !strstr(tjGetErrorStr2(tj), "Premature end");
}

static int decode_jpeg(tjhandle tj, const uint8_t *buf, size_t len, const char *name,
                       double min_scale, MbnImage *out) {
    int w, h, cs;
    MBN_TRY(jpeg_header(tj, buf, len, name, &w, &h, &cs));
    tjscalingfactor sf = pick_scale(min_scale);
    int sw = TJSCALED(w, sf), sh = TJSCALED(h, sf);
    bool cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
    size_t pixels = (size_t)sw * (size_t)sh;
    uint8_t *rgb = malloc(pixels * 3);
    uint8_t *dst = cmyk ? malloc(pixels * 4) : rgb;
    if (!rgb || !dst) {
        free(rgb);
        if (cmyk) free(dst);
        return mbn_fail(MBN_EFAIL, "%s: out of host memory for %dx%d pixels", name, sw, sh);
    }
    int pf = cmyk ? TJPF_CMYK : TJPF_RGB;
    /* Stop at the first warning: a tiny file claiming a huge image runs out of data at once
     * instead of costing a full decode; a harmless warning gets a second, tolerant pass. */
    int r = tjDecompress2(tj, buf, (unsigned long)len, dst, sw, 0, sh, pf, TJFLAG_STOPONWARNING);
    if (r != 0 && acceptable_warning(tj))
        r = tjDecompress2(tj, buf, (unsigned long)len, dst, sw, 0, sh, pf, 0);
    int rc = MBN_OK;
    if (r != 0 && !acceptable_warning(tj))
        rc = mbn_fail(MBN_EFAIL, "%s: corrupt JPEG: %s", name, tjGetErrorStr2(tj));
    if (rc == MBN_OK && cmyk) cmyk_to_rgb(dst, rgb, pixels);
    if (cmyk) free(dst);
    if (rc != MBN_OK) {
        free(rgb);
        return rc;
    }
    out->rgb = rgb;
    out->w = sw;
    out->h = sh;
    return MBN_OK;
}

/* ---- PNG (libpng's simplified API: handles palette, gray, 16-bit, alpha; errors via its own
 * setjmp, reported in image.message) ---- */

static int png_begin(png_image *im, const uint8_t *buf, size_t len, const char *name) {
    memset(im, 0, sizeof *im);
    im->version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(im, buf, len)) {
        int rc = mbn_fail(MBN_EFAIL, "%s: corrupt PNG: %s", name, im->message);
        png_image_free(im);
        return rc;
    }
    return MBN_OK;
}

static int decode_png(const uint8_t *buf, size_t len, const char *name, MbnImage *out) {
    png_image im;
    MBN_TRY(png_begin(&im, buf, len, name));
    int rc = check_size(name, (int)im.width, (int)im.height);
    if (im.width > INT_MAX || im.height > INT_MAX)
        rc = mbn_fail(MBN_EFAIL, "%s: invalid PNG size", name);
    if (rc != MBN_OK) {
        png_image_free(&im);
        return rc;
    }
    /* With alpha, read RGBA (8-bit sRGB output is not premultiplied) and drop A, as PIL's
     * convert("RGB") does; plain RGB would composite onto black instead. */
    bool alpha = (im.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    im.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    uint8_t *rgb = malloc(PNG_IMAGE_SIZE(im));
    if (!rgb) {
        png_image_free(&im);
        return mbn_fail(MBN_EFAIL, "%s: out of host memory", name);
    }
    if (!png_image_finish_read(&im, NULL, rgb, 0, NULL)) {
        rc = mbn_fail(MBN_EFAIL, "%s: corrupt PNG: %s", name, im.message);
        png_image_free(&im);
        free(rgb);
        return rc;
    }
    size_t pixels = (size_t)im.width * im.height;
    for (size_t i = 0; alpha && i < pixels; i++)
        memmove(rgb + 3 * i, rgb + 4 * i, 3);
    out->rgb = rgb;
    out->w = (int)im.width;
    out->h = (int)im.height;
    return MBN_OK;
}

static int unknown_format(const char *name) {
    return mbn_fail(MBN_EFAIL, "%s: not a JPEG or PNG image", name);
}

int mbn_image_probe(const uint8_t *buf, size_t len, const char *name, int *w, int *h) {
    if (is_jpeg(buf, len)) {
        tjhandle tj = tjInitDecompress();
        if (!tj) return mbn_fail(MBN_EFAIL, "%s: cannot create a TurboJPEG decoder", name);
        int cs;
        int rc = jpeg_header(tj, buf, len, name, w, h, &cs);
        tjDestroy(tj);
        return rc;
    }
    if (is_png(buf, len)) {
        png_image im;
        MBN_TRY(png_begin(&im, buf, len, name));
        *w = im.width > INT_MAX ? -1 : (int)im.width;
        *h = im.height > INT_MAX ? -1 : (int)im.height;
        png_image_free(&im);
        return check_size(name, *w, *h);
    }
    return unknown_format(name);
}

int mbn_image_decode(const uint8_t *buf, size_t len, const char *name, double min_scale,
                     MbnImage *out) {
    out->rgb = NULL;
    out->w = out->h = 0;
    if (is_jpeg(buf, len)) {
        tjhandle tj = tjInitDecompress();
        if (!tj) return mbn_fail(MBN_EFAIL, "%s: cannot create a TurboJPEG decoder", name);
        int rc = decode_jpeg(tj, buf, len, name, min_scale, out);
        tjDestroy(tj);
        return rc;
    }
    if (is_png(buf, len)) return decode_png(buf, len, name, out);
    return unknown_format(name);
}

void mbn_image_free(MbnImage *img) {
    free(img->rgb);
    img->rgb = NULL;
    img->w = img->h = 0;
}

int mbn_image_read_file(const char *path, uint8_t **buf, size_t *len) {
    MBN_TRY(mbn_read_file(path, MBN_IMAGE_MAX_FILE_BYTES, buf, len));
    if (*len == 0) {
        free(*buf);
        *buf = NULL;
        return mbn_fail(MBN_EFAIL, "%s: empty file", path);
    }
    return MBN_OK;
}
