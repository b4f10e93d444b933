/* The preprocessing record (io/data/preprocess.h, io/data/preprocess_record.h):
 *   - text pairs round-trip exactly (ImageNet, IDX, CIFAR and odd values); no version means no
 *     record; every bad value is refused naming the key; a newer version is refused;
 *   - the record applied to IDX/CIFAR pixels gives the same bits as the training pipeline
 *     (mbn_augment_small) at several resolutions, and the ImageNet record applied to a JPEG and
 *     a PNG gives the same bits as the old eval pipeline (mbn_augment_encoded): the paths old
 *     models are scored with did not move;
 *   - hand-computed cases: a colour image under a gray record becomes BT.601 luminance; a 20x40
 *     image under pad_to 32 is padded to 32x40, centred, and its centre 32 rows are cropped
 *     (identity resampling, so the expected values are exact);
 *   - a record written into a checkpoint's meta reads back equal. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "base/error.h"
#include "io/data/augment.h"
#include "io/data/preprocess.h"
#include "io/data/preprocess_record.h"
#include "io/util/file_read.h"
#include "tests/support/data_util.h"
#include "tests/support/testutil.h"

typedef struct {
    MbnRecordPair pairs[MBN_PREPROCESS_MAX_PAIRS + 4];
    int n;
} Pairs;

static const char *lookup(const void *src, const char *key) {
    const Pairs *p = src;
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->pairs[i].key, key) == 0) return p->pairs[i].value;
    return NULL;
}

static bool same(const MbnPreprocess *a, const MbnPreprocess *b) {
    return a->recorded == b->recorded && a->channels == b->channels && a->pad_to == b->pad_to &&
           a->crop_fraction == b->crop_fraction && !memcmp(a->mean, b->mean, sizeof a->mean) &&
           !memcmp(a->std, b->std, sizeof a->std);
}

static void round_trip(const char *what, MbnPreprocess p, int res) {
    p.recorded = true;
    Pairs pairs;
    pairs.n = mbn_preprocess_to_pairs(&p, res, pairs.pairs);
    MbnPreprocess q;
    int got_res = 0;
    T_CHECK(mbn_preprocess_from_pairs(lookup, &pairs, "x", &q, &got_res) == MBN_OK, "%s: %s", what,
            mbn_last_error());
    T_CHECK(same(&p, &q) && got_res == res, "%s: round trip", what);
}

static void set(Pairs *p, const char *key, const char *value) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->pairs[i].key, key) == 0) {
            snprintf(p->pairs[i].value, sizeof p->pairs[i].value, "%s", value);
            return;
        }
}

static void refused(const char *key, const char *value, const char *want) {
    MbnPreprocess p;
    mbn_preprocess_small(&p, true);
    p.recorded = true;
    Pairs pairs;
    pairs.n = mbn_preprocess_to_pairs(&p, 32, pairs.pairs);
    set(&pairs, key, value);
    MbnPreprocess q;
    int rc = mbn_preprocess_from_pairs(lookup, &pairs, "m.ckpt", &q, NULL);
    T_CHECK(rc == MBN_EFAIL && strstr(mbn_last_error(), "m.ckpt") && strstr(mbn_last_error(), want),
            "%s=\"%s\": rc %d, \"%s\" (want \"%s\")", key, value, rc, mbn_last_error(), want);
}

static void records(void) {
    MbnPreprocess p;
    mbn_preprocess_imagenet(&p);
    round_trip("imagenet", p, 224);
    mbn_preprocess_small(&p, true);
    round_trip("idx", p, 32);
    mbn_preprocess_small(&p, false);
    round_trip("cifar", p, 96);
    p.crop_fraction = 0.9f;
    p.pad_to = 17;
    p.mean[1] = 0.123456789f;
    p.std[2] = 1.0f / 3.0f;
    round_trip("odd values", p, 33);

    Pairs empty = {.n = 0};
    MbnPreprocess q;
    memset(&q, 0x55, sizeof q);
    T_CHECK(mbn_preprocess_from_pairs(lookup, &empty, "old.ckpt", &q, NULL) == MBN_OK, "no record");
    mbn_preprocess_imagenet(&p);
    T_CHECK(same(&p, &q) && !q.recorded, "no record: ImageNet defaults, not recorded");

    refused("preprocess.version", "2", "newer");
    refused("preprocess.version", "x", "preprocess.version");
    refused("preprocess.channels", "bgr", "preprocess.channels");
    refused("preprocess.pad_to", "-1", "preprocess.pad_to");
    refused("preprocess.resize", "stretch", "preprocess.resize");
    refused("preprocess.crop_fraction", "0", "preprocess.crop_fraction");
    refused("preprocess.crop_fraction", "1.5", "preprocess.crop_fraction");
    refused("preprocess.crop_fraction", "nan", "preprocess.crop_fraction");
    refused("preprocess.interpolation", "bicubic", "preprocess.interpolation");
    refused("preprocess.pixel_divisor", "1", "preprocess.pixel_divisor");
    refused("preprocess.mean", "0.5,0.5", "preprocess.mean");
    refused("preprocess.mean", "0.5,0.5,0.5,", "preprocess.mean");
    refused("preprocess.std", "0.2,0,0.2", "preprocess.std");
    refused("preprocess.resolution", "", "preprocess.resolution");

    /* Missing key inside a record. */
    mbn_preprocess_small(&p, true);
    p.recorded = true;
    Pairs pairs;
    pairs.n = mbn_preprocess_to_pairs(&p, 32, pairs.pairs);
    snprintf(pairs.pairs[3].key, sizeof pairs.pairs[3].key, "preprocess.renamed");
    T_CHECK(mbn_preprocess_from_pairs(lookup, &pairs, "m.ckpt", &q, NULL) == MBN_EFAIL &&
                strstr(mbn_last_error(), "without preprocess.pad_to"),
            "missing key: %s", mbn_last_error());

    /* Checkpoint meta: written only when recorded, read back equal. */
    MbnCheckpoint ck;
    memset(&ck, 0, sizeof ck);
    mbn_preprocess_imagenet(&p);
    T_CHECK(mbn_preprocess_write_ckpt(&ck, &p, 224) == MBN_OK && ck.n_meta == 0,
            "defaults are not written as a record");
    mbn_preprocess_small(&p, false);
    p.recorded = true;
    T_CHECK(mbn_preprocess_write_ckpt(&ck, &p, 64) == MBN_OK && ck.n_meta > 8, "written");
    T_CHECK(mbn_preprocess_read_ckpt(&ck, "c.ckpt", &q) == MBN_OK && same(&p, &q), "ckpt read");
    mbn_ckpt_free(&ck);
}

static bool same_floats(const float *a, const float *b, size_t n) {
    return memcmp(a, b, n * sizeof *a) == 0;
}

/* The record's path = the pipelines models were trained and scored with, bit for bit. */
static void same_bits_as_before(void) {
    uint8_t gray[28 * 28], rgb[32 * 32 * 3];
    uint8_t pattern[32 * 32 * 3];
    tu_pattern(pattern, 32, 32, 7);
    for (int i = 0; i < 28 * 28; i++)
        gray[i] = pattern[3 * i + 1];
    memcpy(rgb, pattern, sizeof rgb);
    int resolutions[4] = {32, 40, 64, 224};
    for (int r = 0; r < 4; r++) {
        int res = resolutions[r];
        size_t n = (size_t)res * res * 3;
        float *a = T_NEW(float, n), *b = T_NEW(float, n);
        MbnPreprocess p;
        mbn_preprocess_small(&p, true);
        memset(a, 0xff, n * sizeof *a);
        memset(b, 0x7f, n * sizeof *b);
        T_CHECK(mbn_augment_small(gray, 28, 28, 1, res, a) == MBN_OK &&
                    mbn_preprocess_pixels(&p, gray, 28, 28, 1, res, b) == MBN_OK,
                "idx at %d", res);
        T_CHECK(same_floats(a, b, n), "IDX record at %d px: same bits as training", res);
        mbn_preprocess_small(&p, false);
        memset(b, 0x7f, n * sizeof *b);
        T_CHECK(mbn_augment_small(rgb, 32, 32, 3, res, a) == MBN_OK &&
                    mbn_preprocess_pixels(&p, rgb, 32, 32, 3, res, b) == MBN_OK,
                "cifar at %d", res);
        T_CHECK(same_floats(a, b, n), "CIFAR record at %d px: same bits as training", res);
        free(a);
        free(b);
    }

    /* Photos: the ImageNet record = the old eval pipeline (DCT-scaled JPEG and PNG). */
    int w = 640, h = 427;
    uint8_t *photo = T_NEW(uint8_t, (size_t)w * h * 3);
    tu_pattern(photo, w, h, 3);
    size_t jpeg_n = 0;
    uint8_t *jpeg = tu_jpeg(photo, w, h, TJPF_RGB, TJSAMP_420, 90, &jpeg_n);
    char dir[256];
    t_tempdir(dir, sizeof dir);
    const char *png = t_path("%s/photo.png", dir);
    T_CHECK(jpeg && tu_write_png(png, photo, w, h, 3) == 0, "encode");
    uint8_t *png_bytes = NULL;
    size_t png_n = 0;
    T_CHECK(mbn_read_file(png, 1 << 26, &png_bytes, &png_n) == MBN_OK, "read png");
    for (int r = 0; r < 2 && jpeg && png_bytes; r++) {
        int res = r ? 224 : 96; /* 96: the JPEG decodes at 1/4 DCT scale */
        size_t n = (size_t)res * res * 3;
        float *a = T_NEW(float, n), *b = T_NEW(float, n);
        MbnPreprocess p;
        mbn_preprocess_imagenet(&p);
        for (int f = 0; f < 2; f++) {
            const uint8_t *buf = f ? png_bytes : jpeg;
            size_t len = f ? png_n : jpeg_n;
            memset(a, 0xff, n * sizeof *a);
            memset(b, 0x7f, n * sizeof *b);
            T_CHECK(mbn_augment_encoded(buf, len, "photo", res, false, NULL, a) == MBN_OK &&
                        mbn_preprocess_encoded(&p, buf, len, "photo", res, b) == MBN_OK,
                    "%s", mbn_last_error());
            T_CHECK(same_floats(a, b, n), "%s at %d: ImageNet record = old eval pipeline",
                    f ? "PNG" : "JPEG", res);
        }
        free(a);
        free(b);
    }
    free(photo);
    free(jpeg);
    free(png_bytes);
    t_rmtree(dir);
}

static void hand_computed(void) {
    /* Gray record on colour pixels: luminance (299 R + 587 G + 114 B + 500) / 1000. */
    uint8_t px[4 * 4 * 3];
    for (int i = 0; i < 16; i++) {
        px[3 * i] = (uint8_t)(16 * i);
        px[3 * i + 1] = (uint8_t)(255 - 9 * i);
        px[3 * i + 2] = (uint8_t)(7 * i);
    }
    MbnPreprocess p;
    mbn_preprocess_small(&p, true);
    p.pad_to = 0;
    float out[4 * 4 * 3];
    memset(out, 0xff, sizeof out);
    T_CHECK(mbn_preprocess_rgb(&p, px, 4, 4, 12, 4, out) == MBN_OK, "%s", mbn_last_error());
    int bad = 0;
    for (int i = 0; i < 16; i++) {
        int y = (299 * px[3 * i] + 587 * px[3 * i + 1] + 114 * px[3 * i + 2] + 500) / 1000;
        for (int c = 0; c < 3; c++) {
            float want = (y * (1.f / (255.f * p.std[c]))) + (-p.mean[c] / p.std[c]);
            bad += fabsf(out[3 * i + c] - want) > 1e-6f;
        }
    }
    T_CHECK(bad == 0, "gray record: %d values are not the luminance", bad);

    /* 20 wide, 40 tall, pad_to 32: padded to 32x40 (6 px left, 6 right), shorter side 32 stays
     * 32 (fraction 1), centre crop of 32 rows from 40 starts at row 4. Identity resampling. */
    int w = 20, h = 40, stride = 3 * w + 5;
    uint8_t *img = T_NEW(uint8_t, (size_t)stride * h);
    memset(img, 0, (size_t)stride * h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < 3 * w; x++)
            img[y * stride + x] = (uint8_t)(1 + (y * 7 + x * 3) % 250);
    mbn_preprocess_small(&p, false);
    float *o = T_NEW(float, 32 * 32 * 3);
    memset(o, 0xff, 32 * 32 * 3 * sizeof *o);
    T_CHECK(mbn_preprocess_rgb(&p, img, w, h, (size_t)stride, 32, o) == MBN_OK, "%s",
            mbn_last_error());
    bad = 0;
    for (int i = 0; i < 32; i++)
        for (int j = 0; j < 32; j++)
            for (int c = 0; c < 3; c++) {
                int sx = j - 6, sy = i + 4;
                int v = sx >= 0 && sx < w ? img[sy * stride + 3 * sx + c] : 0;
                float want = (v * (1.f / (255.f * p.std[c]))) + (-p.mean[c] / p.std[c]);
                bad += fabsf(o[(i * 32 + j) * 3 + c] - want) > 1e-6f;
            }
    T_CHECK(bad == 0, "pad + crop: %d values differ from the hand computation", bad);
    T_CHECK(mbn_preprocess_rgb(&p, img, w, h, 3 * w - 1, 32, o) == MBN_EFAIL, "short stride");
    T_CHECK(mbn_preprocess_rgb(&p, img, 0, h, 3 * w, 32, o) == MBN_EFAIL, "zero width");
    free(img);
    free(o);
}

int main(void) {
    records();
    same_bits_as_before();
    hand_computed();
    return t_summary("test_preprocess");
}
