#include "io/data/augment.h"


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/data/image_decode.h"

static const float MEAN[3] = {0.485f, 0.456f, 0.406f};
static const float STD[3] = {0.229f, 0.224f, 0.225f};

/* Python's round() is round-half-to-even, as is rint() in the default rounding mode. */
static int py_round(double v) {
    return (int)rint(v);
}

void mbn_aug_random_crop(int w, int h, MbnRng *rng, MbnCrop *crop) {
    const double area = (double)w * h;
    const double log_lo = log(3.0 / 4.0), log_hi = log(4.0 / 3.0);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * mbn_rng_range(rng, 0.08, 1.0);
        double aspect = exp(mbn_rng_range(rng, log_lo, log_hi));
        int cw = py_round(sqrt(target * aspect));
        int ch = py_round(sqrt(target / aspect));
        if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
            crop->y = (int)mbn_rng_below(rng, (uint64_t)(h - ch + 1));
            crop->x = (int)mbn_rng_below(rng, (uint64_t)(w - cw + 1));
            crop->w = cw;
            crop->h = ch;
            return;
        }
    }
    /* Fallback: a centre crop with the aspect ratio clamped into [3/4, 4/3]. */
    double in_ratio = (double)w / h;
    int cw = w, ch = h;
    if (in_ratio < 3.0 / 4.0)
        ch = py_round(cw / (3.0 / 4.0));
    else if (in_ratio > 4.0 / 3.0)
        cw = py_round(ch * (4.0 / 3.0));
    if (cw > w) cw = w; /* rounding can overshoot by one on tiny images */
    if (ch > h) ch = h;
    if (cw < 1) cw = 1;
    if (ch < 1) ch = 1;
    crop->w = cw;
    crop->h = ch;
    crop->x = (w - cw) / 2;
    crop->y = (h - ch) / 2;
}

void mbn_aug_eval_window(int w, int h, int res, MbnWindow *win) {
    mbn_aug_eval_window_fraction(w, h, res, 0.875, win);
}

void mbn_aug_eval_window_fraction(int w, int h, int res, double crop_fraction, MbnWindow *win) {
    int target = py_round(res / crop_fraction);
    /* torchvision Resize(int): short side -> target, long side int(target * long / short). */
    int rw, rh;
    if (w <= h) {
        rw = target;
        rh = (int)((double)target * h / w);
    } else {
        rh = target;
        rw = (int)((double)target * w / h);
    }
    if (rw < res) rw = res;
    if (rh < res) rh = res;
    win->cx0 = win->cy0 = 0;
    win->cx1 = w;
    win->cy1 = h;
    if (rw == res && rh == res) {
        /* The whole image, resized (crop fraction 1 on a square image): the exact window, so
         * this path gives the same bits as resizing the padded IDX/CIFAR image directly. */
        win->x = win->y = 0;
        win->w = w;
        win->h = h;
        return;
    }
    int left = py_round((rw - res) / 2.0), top = py_round((rh - res) / 2.0);
    double sx = (double)w / rw, sy = (double)h / rh;
    win->x = left * sx;
    win->y = top * sy;
    win->w = res * sx;
    win->h = res * sy;
}

void mbn_aug_crop_window(const MbnCrop *crop, MbnWindow *win) {
    win->x = win->cx0 = crop->x;
    win->y = win->cy0 = crop->y;
    win->w = crop->w;
    win->h = crop->h;
    win->cx1 = crop->x + crop->w;
    win->cy1 = crop->y + crop->h;
}

/* Source taps of one axis: out j samples at x + (j + 0.5) * w / res - 0.5, clamped to the
 * region as torch's align_corners=False interpolation clamps to the input's edges. */
static void axis_taps(double x, double w, double c0, double c1, int size, int res, int *i0, int *i1,
                      float *frac) {
    int lo = (int)floor(c0), hi = (int)ceil(c1) - 1;
    if (lo < 0) lo = 0;
    if (hi > size - 1) hi = size - 1;
    if (hi < lo) hi = lo;
    double step = w / res;
    for (int j = 0; j < res; j++) {
        double s = x + (j + 0.5) * step - 0.5;
        if (s < lo) s = lo;
        int a = (int)floor(s);
        if (a > hi) a = hi;
        i0[j] = a;
        i1[j] = a + 1 > hi ? hi : a + 1;
        frac[j] = (float)(s - a);
        if (a == hi) frac[j] = 0.f;
    }
}

/* Horizontal pass of one source row into res x 3 floats (already in output column order, so the
 * flip costs nothing later). */
static void row_pass(const uint8_t *src, const int *x0, const int *x1, const float *fx, int res,
                     bool flip, float *dst) {
    for (int j = 0; j < res; j++) {
        int k = flip ? res - 1 - j : j;
        const uint8_t *a = src + x0[k] * 3, *b = src + x1[k] * 3;
        float w = fx[k];
        dst[3 * j] = a[0] + (b[0] - a[0]) * w;
        dst[3 * j + 1] = a[1] + (b[1] - a[1]) * w;
        dst[3 * j + 2] = a[2] + (b[2] - a[2]) * w;
    }
}

/* Separable: each output row blends two horizontally resampled source rows, which are cached so
 * that neighbouring output rows sharing a source row (upsampling) do not recompute it. */
int mbn_aug_resample(const uint8_t *rgb, int w, int h, const MbnWindow *win, int res, bool flip,
                     float *out) {
    return mbn_aug_resample_norm(rgb, w, h, win, res, flip, MEAN, STD, out);
}

int mbn_aug_resample_norm(const uint8_t *rgb, int w, int h, const MbnWindow *win, int res,
                          bool flip, const float mean[3], const float std[3], float *out) {
    int *xi = malloc(sizeof(int) * 4 * (size_t)res);
    float *xf = malloc(sizeof(float) * (2 + 6) * (size_t)res);
    if (!xi || !xf) {
        free(xi);
        free(xf);
        return mbn_fail(MBN_EFAIL, "out of host memory resampling to %d px", res);
    }
    int *x0 = xi, *x1 = xi + res, *y0 = xi + 2 * res, *y1 = xi + 3 * res;
    float *fx = xf, *fy = xf + res, *rows[2] = {xf + 2 * res, xf + 5 * res};
    int cached[2] = {-1, -1};
    axis_taps(win->x, win->w, win->cx0, win->cx1, w, res, x0, x1, fx);
    axis_taps(win->y, win->h, win->cy0, win->cy1, h, res, y0, y1, fy);
    float scale[3], bias[3];
    for (int c = 0; c < 3; c++) {
        scale[c] = 1.f / (255.f * std[c]);
        bias[c] = -mean[c] / std[c];
    }
    for (int i = 0; i < res; i++) {
        /* The previous lower row is often this upper row: swap it in rather than recompute. */
        if (cached[1] == y0[i] && cached[0] != y0[i]) {
            float *t = rows[0];
            rows[0] = rows[1];
            rows[1] = t;
            cached[1] = cached[0];
            cached[0] = y0[i];
        }
        if (cached[0] != y0[i]) {
            row_pass(rgb + (size_t)y0[i] * w * 3, x0, x1, fx, res, flip, rows[0]);
            cached[0] = y0[i];
        }
        if (cached[1] != y1[i]) {
            row_pass(rgb + (size_t)y1[i] * w * 3, x0, x1, fx, res, flip, rows[1]);
            cached[1] = y1[i];
        }
        const float *r[2] = {rows[0], rows[1]};
        float wy = fy[i];
        float *o = out + (size_t)i * res * 3;
        for (int j = 0; j < res * 3; j += 3)
            for (int c = 0; c < 3; c++)
                o[j + c] = (r[0][j + c] + (r[1][j + c] - r[0][j + c]) * wy) * scale[c] + bias[c];
    }
    free(xi);
    free(xf);
    return MBN_OK;
}

/* Maps a window on the full-size image onto the (possibly DCT-downscaled) decoded image. */
static void scale_window(MbnWindow *win, double sx, double sy) {
    win->x *= sx;
    win->w *= sx;
    win->cx0 *= sx;
    win->cx1 *= sx;
    win->y *= sy;
    win->h *= sy;
    win->cy0 *= sy;
    win->cy1 *= sy;
}

int mbn_augment_encoded(const uint8_t *buf, size_t len, const char *name, int res, bool train,
                        MbnRng *rng, float *out) {
    int w, h;
    MBN_TRY(mbn_image_probe(buf, len, name, &w, &h));
    MbnWindow win;
    bool flip = false;
    if (train) {
        MbnCrop crop;
        mbn_aug_random_crop(w, h, rng, &crop);
        flip = mbn_rng_uniform(rng) < 0.5;
        mbn_aug_crop_window(&crop, &win);
    } else {
        mbn_aug_eval_window(w, h, res, &win);
    }
    /* The decoded image must keep at least one source pixel per output pixel in the window. */
    double need = fmax(res / win.w, res / win.h);
    MbnImage img;
    MBN_TRY(mbn_image_decode(buf, len, name, need, &img));
    scale_window(&win, (double)img.w / w, (double)img.h / h);
    int rc = mbn_aug_resample(img.rgb, img.w, img.h, &win, res, flip, out);
    mbn_image_free(&img);
    return rc;
}

int mbn_augment_file(const char *path, int res, bool train, MbnRng *rng, float *out) {
    uint8_t *buf;
    size_t len;
    MBN_TRY(mbn_image_read_file(path, &buf, &len));
    int rc = mbn_augment_encoded(buf, len, path, res, train, rng, out);
    free(buf);
    return rc;
}

int mbn_augment_small(const uint8_t *pixels, int w, int h, int channels, int res, float *out) {
    if (channels != 1 && channels != 3)
        return mbn_fail(MBN_EFAIL, "unsupported channel count %d", channels);
    int pw = w < 32 ? 32 : w, ph = h < 32 ? 32 : h;
    int ox = (pw - w) / 2, oy = (ph - h) / 2;
    uint8_t *pad = calloc((size_t)pw * ph * 3, 1);
    if (!pad) return mbn_fail(MBN_EFAIL, "out of host memory");
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                pad[((size_t)(y + oy) * pw + x + ox) * 3 + c] =
                    pixels[((size_t)y * w + x) * channels + (channels == 3 ? c : 0)];
    MbnWindow win = {0, 0, pw, ph, 0, 0, pw, ph};
    int rc = mbn_aug_resample(pad, pw, ph, &win, res, false, out);
    free(pad);
    return rc;
}
