#include "io/data/preprocess_record.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static void put(MbnRecordPair *pairs, int *n, const char *key, const char *value) {
    snprintf(pairs[*n].key, sizeof pairs[*n].key, "preprocess.%s", key);
    snprintf(pairs[*n].value, sizeof pairs[*n].value, "%s", value);
    (*n)++;
}

/* The shortest decimal that reads back as the same float ("0.485", not "0.485000014"). */
static void float_text(float v, char *out, size_t cap) {
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(out, cap, "%.*g", prec, (double)v);
        if (strtof(out, NULL) == v) return;
    }
}

static void put_triple(MbnRecordPair *pairs, int *n, const char *key, const float v[3]) {
    char a[20], b[20], c[20], text[64];
    float_text(v[0], a, sizeof a);
    float_text(v[1], b, sizeof b);
    float_text(v[2], c, sizeof c);
    snprintf(text, sizeof text, "%s,%s,%s", a, b, c);
    put(pairs, n, key, text);
}

int mbn_preprocess_to_pairs(const MbnPreprocess *p, int resolution, MbnRecordPair *pairs) {
    int n = 0;
    char text[64];
    snprintf(text, sizeof text, "%d", MBN_PREPROCESS_RECORD_VERSION);
    put(pairs, &n, "version", text);
    snprintf(text, sizeof text, "%d", resolution);
    put(pairs, &n, "resolution", text);
    put(pairs, &n, "channels", p->channels == MBN_CHANNELS_GRAY ? "gray" : "rgb");
    snprintf(text, sizeof text, "%d", p->pad_to);
    put(pairs, &n, "pad_to", text);
    put(pairs, &n, "resize", "shorter_side_center_crop");
    float_text(p->crop_fraction, text, sizeof text);
    put(pairs, &n, "crop_fraction", text);
    put(pairs, &n, "interpolation", "bilinear");
    put(pairs, &n, "pixel_divisor", "255");
    put_triple(pairs, &n, "mean", p->mean);
    put_triple(pairs, &n, "std", p->std);
    put(pairs, &n, "layout", "NHWC");
    return n;
}

typedef struct {
    MbnRecordLookup lookup;
    const void *source;
    const char *file;
} Reader;

static int bad(const Reader *r, const char *key, const char *value, const char *why) {
    return mbn_fail(MBN_EFAIL, "%s: preprocessing record: preprocess.%s \"%.40s\" %s", r->file, key,
                    value ? value : "", why);
}

static int get(const Reader *r, const char *key, const char **value) {
    char full[64];
    snprintf(full, sizeof full, "preprocess.%s", key);
    *value = r->lookup(r->source, full);
    if (!*value) return mbn_fail(MBN_EFAIL, "%s: preprocessing record without %s", r->file, full);
    return MBN_OK;
}

static int get_int(const Reader *r, const char *key, int lo, int hi, int *out) {
    const char *v;
    MBN_TRY(get(r, key, &v));
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (!*v || *end || errno || x < lo || x > hi) {
        char why[64];
        snprintf(why, sizeof why, "is not an integer in %d..%d", lo, hi);
        return bad(r, key, v, why);
    }
    *out = (int)x;
    return MBN_OK;
}

static bool parse_float(const char *s, char **end, float *out) {
    errno = 0;
    double x = strtod(s, end);
    if (*end == s || errno || !isfinite(x)) return false;
    *out = (float)x;
    return true;
}

static int get_triple(const Reader *r, const char *key, bool positive, float out[3]) {
    const char *v;
    MBN_TRY(get(r, key, &v));
    const char *s = v;
    for (int c = 0; c < 3; c++) {
        char *end = NULL;
        if (!parse_float(s, &end, &out[c]) || (positive && !(out[c] > 0)) ||
            (c < 2 ? *end != ',' : *end != 0))
            return bad(r, key, v,
                       positive ? "is not three positive numbers separated by commas"
                                : "is not three numbers separated by commas");
        s = end + 1;
    }
    return MBN_OK;
}

static int expect(const Reader *r, const char *key, const char *want) {
    const char *v;
    MBN_TRY(get(r, key, &v));
    if (strcmp(v, want) != 0) {
        char why[96];
        snprintf(why, sizeof why, "is not supported by this mbn (it applies \"%s\")", want);
        return bad(r, key, v, why);
    }
    return MBN_OK;
}

int mbn_preprocess_from_pairs(MbnRecordLookup lookup, const void *source, const char *file,
                              MbnPreprocess *p, int *resolution) {
    mbn_preprocess_imagenet(p);
    Reader r = {lookup, source, file};
    const char *version = lookup(source, "preprocess.version");
    if (!version) return MBN_OK; /* written before mbn recorded it, or by another tool */
    int ver = 0;
    MBN_TRY(get_int(&r, "version", 1, 1000000, &ver));
    if (ver > MBN_PREPROCESS_RECORD_VERSION)
        return mbn_fail(MBN_EFAIL,
                        "%s: preprocessing record version %d is newer than this mbn reads (%d)",
                        file, ver, MBN_PREPROCESS_RECORD_VERSION);
    MbnPreprocess q;
    mbn_preprocess_imagenet(&q);
    int res = 0;
    MBN_TRY(get_int(&r, "resolution", 1, 1 << 16, &res));
    const char *ch;
    MBN_TRY(get(&r, "channels", &ch));
    if (strcmp(ch, "gray") == 0)
        q.channels = MBN_CHANNELS_GRAY;
    else if (strcmp(ch, "rgb") == 0)
        q.channels = MBN_CHANNELS_RGB;
    else
        return bad(&r, "channels", ch, "is neither \"rgb\" nor \"gray\"");
    MBN_TRY(get_int(&r, "pad_to", 0, 1 << 16, &q.pad_to));
    MBN_TRY(expect(&r, "resize", "shorter_side_center_crop"));
    const char *cf;
    MBN_TRY(get(&r, "crop_fraction", &cf));
    char *end = NULL;
    if (!parse_float(cf, &end, &q.crop_fraction) || *end || !(q.crop_fraction > 0.0f) ||
        q.crop_fraction > 1.0f)
        return bad(&r, "crop_fraction", cf, "is not a number in (0, 1]");
    MBN_TRY(expect(&r, "interpolation", "bilinear"));
    MBN_TRY(expect(&r, "pixel_divisor", "255"));
    MBN_TRY(get_triple(&r, "mean", false, q.mean));
    MBN_TRY(get_triple(&r, "std", true, q.std));
    q.recorded = true;
    *p = q;
    if (resolution) *resolution = res;
    return MBN_OK;
}

int mbn_preprocess_write_ckpt(MbnCheckpoint *ck, const MbnPreprocess *p, int resolution) {
    if (!p->recorded) return MBN_OK;
    MbnRecordPair pairs[MBN_PREPROCESS_MAX_PAIRS];
    int n = mbn_preprocess_to_pairs(p, resolution, pairs);
    for (int i = 0; i < n; i++)
        MBN_TRY(mbn_ckpt_set_string(ck, pairs[i].key, pairs[i].value));
    return MBN_OK;
}

static const char *ckpt_lookup(const void *source, const char *key) {
    return mbn_ckpt_get_string((const MbnCheckpoint *)source, key);
}

int mbn_preprocess_read_ckpt(const MbnCheckpoint *ck, const char *file, MbnPreprocess *p) {
    return mbn_preprocess_from_pairs(ckpt_lookup, ck, file, p, NULL);
}

static const char *st_lookup(const void *source, const char *key) {
    return mbn_st_metadata_get((const MbnStMetadata *)source, key);
}

int mbn_preprocess_read_st(const MbnStMetadata *meta, const char *file, MbnPreprocess *p,
                           int *resolution) {
    return mbn_preprocess_from_pairs(st_lookup, meta, file, p, resolution);
}
