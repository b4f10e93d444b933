#include "io/data/preprocess.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/data/augment.h"
#include "io/data/dataset.h"
#include "io/data/image_decode.h"
#include "io/data/readers.h"

static const float IMAGENET_MEAN[3] = {0.485f, 0.456f, 0.406f};
static const float IMAGENET_STD[3] = {0.229f, 0.224f, 0.225f};

void mbn_preprocess_imagenet(MbnPreprocess *p) {
    memset(p, 0, sizeof *p);
    p->channels = MBN_CHANNELS_RGB;
    p->pad_to = 0;
    p->crop_fraction = 0.875f;
    memcpy(p->mean, IMAGENET_MEAN, sizeof p->mean);
    memcpy(p->std, IMAGENET_STD, sizeof p->std);
}

void mbn_preprocess_small(MbnPreprocess *p, bool gray) {
    mbn_preprocess_imagenet(p);
    p->channels = gray ? MBN_CHANNELS_GRAY : MBN_CHANNELS_RGB;
    p->pad_to = 32;
    p->crop_fraction = 1.0f;
}

void mbn_preprocess_for_dataset(const MbnDataset *ds, MbnPreprocess *p) {
    ds->format->pipeline(ds, p);
    p->recorded = true;
}

/* Size after padding. */
static void padded_size(const MbnPreprocess *p, int w, int h, int *pw, int *ph) {
    *pw = w < p->pad_to ? p->pad_to : w;
    *ph = h < p->pad_to ? p->pad_to : h;
}

/* Copies the image into a contiguous buffer, converted to luminance when the pipeline is gray,
 * zero-padded and centred to pw x ph. */
static uint8_t *stage(const MbnPreprocess *p, const uint8_t *rgb, int w, int h, size_t stride,
                      int pw, int ph) {
    uint8_t *dst = calloc((size_t)pw * ph * 3, 1);
    if (!dst) return NULL;
    int ox = (pw - w) / 2, oy = (ph - h) / 2;
    for (int y = 0; y < h; y++) {
        const uint8_t *s = rgb + (size_t)y * stride;
        uint8_t *d = dst + ((size_t)(y + oy) * pw + ox) * 3;
        if (p->channels == MBN_CHANNELS_GRAY) {
            for (int x = 0; x < w; x++, s += 3, d += 3) {
                /* PIL convert("L"): integer BT.601 weights, exact (v) for gray input (v, v, v). */
                uint8_t v = (uint8_t)((s[0] * 299u + s[1] * 587u + s[2] * 114u + 500u) / 1000u);
                d[0] = d[1] = d[2] = v;
            }
        } else {
            memcpy(d, s, (size_t)w * 3);
        }
    }
    return dst;
}

/* Channels, padding (unless `win` is given: a window already placed on this image), window,
 * resampling and normalisation. */
static int apply(const MbnPreprocess *p, const uint8_t *rgb, int w, int h, size_t stride, int res,
                 const MbnWindow *given, float *out) {
    if (w < 1 || h < 1 || res < 1 || stride < (size_t)w * 3)
        return mbn_fail(MBN_EFAIL, "invalid image: %dx%d with %zu bytes per row", w, h, stride);
    int pw = w, ph = h;
    if (!given) padded_size(p, w, h, &pw, &ph);
    MbnWindow win;
    if (given)
        win = *given;
    else
        mbn_aug_eval_window_fraction(pw, ph, res, p->crop_fraction, &win);
    bool direct = p->channels == MBN_CHANNELS_RGB && pw == w && ph == h && stride == (size_t)w * 3;
    if (direct) return mbn_aug_resample_norm(rgb, w, h, &win, res, false, p->mean, p->std, out);
    uint8_t *staged = stage(p, rgb, w, h, stride, pw, ph);
    if (!staged) return mbn_fail(MBN_EFAIL, "out of host memory for a %dx%d image", pw, ph);
    int rc = mbn_aug_resample_norm(staged, pw, ph, &win, res, false, p->mean, p->std, out);
    free(staged);
    return rc;
}

int mbn_preprocess_rgb(const MbnPreprocess *p, const uint8_t *rgb, int w, int h, size_t row_stride,
                       int res, float *out) {
    return apply(p, rgb, w, h, row_stride, res, NULL, out);
}

int mbn_preprocess_pixels(const MbnPreprocess *p, const uint8_t *pixels, int w, int h, int channels,
                          int res, float *out) {
    if (channels == 3) return apply(p, pixels, w, h, (size_t)w * 3, res, NULL, out);
    if (channels != 1) return mbn_fail(MBN_EFAIL, "unsupported channel count %d", channels);
    if (w < 1 || h < 1) return mbn_fail(MBN_EFAIL, "invalid image size %dx%d", w, h);
    uint8_t *rgb = malloc((size_t)w * h * 3);
    if (!rgb) return mbn_fail(MBN_EFAIL, "out of host memory");
    for (size_t i = 0; i < (size_t)w * h; i++)
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = pixels[i];
    int rc = apply(p, rgb, w, h, (size_t)w * 3, res, NULL, out);
    free(rgb);
    return rc;
}

int mbn_preprocess_encoded(const MbnPreprocess *p, const uint8_t *buf, size_t len, const char *name,
                           int res, float *out) {
    int w, h;
    MBN_TRY(mbn_image_probe(buf, len, name, &w, &h));
    int pw, ph;
    padded_size(p, w, h, &pw, &ph);
    MbnImage img;
    int rc;
    if (pw != w || ph != h) {
        /* Small enough to be padded: decoded whole. */
        MBN_TRY(mbn_image_decode(buf, len, name, 1.0, &img));
        rc = apply(p, img.rgb, img.w, img.h, (size_t)img.w * 3, res, NULL, out);
    } else {
        /* As the eval pipeline always did: the window is placed on the full-size image, the JPEG
         * decoded at the smallest DCT scale that keeps one source pixel per output pixel, and the
         * window scaled onto what was decoded. */
        MbnWindow win;
        mbn_aug_eval_window_fraction(w, h, res, p->crop_fraction, &win);
        MBN_TRY(mbn_image_decode(buf, len, name, fmax(res / win.w, res / win.h), &img));
        double sx = (double)img.w / w, sy = (double)img.h / h;
        win.x *= sx, win.w *= sx, win.cx0 *= sx, win.cx1 *= sx;
        win.y *= sy, win.h *= sy, win.cy0 *= sy, win.cy1 *= sy;
        rc = apply(p, img.rgb, img.w, img.h, (size_t)img.w * 3, res, &win, out);
    }
    mbn_image_free(&img);
    if (rc) return mbn_fail_context(rc, "%s", name);
    return MBN_OK;
}

int mbn_preprocess_file(const MbnPreprocess *p, const char *path, int res, float *out) {
    uint8_t *buf;
    size_t len;
    MBN_TRY(mbn_image_read_file(path, &buf, &len));
    int rc = mbn_preprocess_encoded(p, buf, len, path, res, out);
    free(buf);
    return rc;
}

void mbn_preprocess_describe(const MbnPreprocess *p, int res, char *out, size_t cap) {
    char pad[96] = "";
    if (p->pad_to > 0)
        snprintf(pad, sizeof pad, "images under %d px zero-padded (centred) to %d, ", p->pad_to,
                 p->pad_to);
    snprintf(out, cap,
             "%s; %sshorter side resized to %d and centre-cropped to %dx%d (crop fraction %g, "
             "bilinear); (pixel/255 - mean (%g, %g, %g)) / std (%g, %g, %g)%s",
             p->channels == MBN_CHANNELS_GRAY ? "grayscale (luminance) replicated to 3 channels"
                                              : "RGB (grayscale replicated to 3 channels)",
             pad, (int)rint(res / (double)p->crop_fraction), res, res, (double)p->crop_fraction,
             (double)p->mean[0], (double)p->mean[1], (double)p->mean[2], (double)p->std[0],
             (double)p->std[1], (double)p->std[2], p->recorded ? "" : " [defaults: no record]");
}
