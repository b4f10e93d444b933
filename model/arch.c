#include "model/arch.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "io/formats/checkpoint.h"

/* The paper's Table 1 body: 13 depthwise-separable blocks (output channels, dw stride) at
 * alpha = 1, grouped into timm's 5 stages of 1, 2, 2, 6 and 2 blocks. */
static const struct {
    int cout, stride, stage, index;
} blocks[MBN_BLOCKS] = {
    {64, 1, 0, 0},  {128, 2, 1, 0},  {128, 1, 1, 1},  {256, 2, 2, 0}, {256, 1, 2, 1},
    {512, 2, 3, 0}, {512, 1, 3, 1},  {512, 1, 3, 2},  {512, 1, 3, 3}, {512, 1, 3, 4},
    {512, 1, 3, 5}, {1024, 2, 4, 0}, {1024, 1, 4, 1},
};

int mbn_scale_channels(int c, float alpha) {
    /* The tiny epsilon keeps e.g. 0.75 * 96 = 72 from becoming 71 through float rounding. */
    int s = (int)floor((double)c * (double)alpha + 1e-6);
    return s < 8 ? 8 : s;
}

static MbnLayer *add(MbnArch *a, MbnLayerType t, const char *name, int stride, int cin, int hin,
                     int cout) {
    MbnLayer *L = &a->layers[a->n_layers++];
    memset(L, 0, sizeof *L);
    snprintf(L->name, sizeof L->name, "%s", name);
    L->type = t;
    L->stride = stride;
    L->cin = cin;
    L->hin = L->win = hin;
    L->cout = cout;
    int64_t hw_out;
    switch (t) {
    case MBN_LAYER_STEM:
        L->hout = L->wout = mbn_conv_out(hin, stride);
        hw_out = (int64_t)L->hout * L->wout;
        L->macs = hw_out * cout * cin * 9;
        L->params = (int64_t)cout * cin * 9 + 2 * cout;
        break;
    case MBN_LAYER_DW:
        L->hout = L->wout = mbn_conv_out(hin, stride);
        hw_out = (int64_t)L->hout * L->wout;
        L->macs = hw_out * cout * 9;
        L->params = (int64_t)cout * 9 + 2 * cout;
        break;
    case MBN_LAYER_PW:
        L->hout = L->wout = hin;
        hw_out = (int64_t)hin * hin;
        L->macs = hw_out * cout * cin;
        L->params = (int64_t)cout * cin + 2 * cout;
        break;
    case MBN_LAYER_POOL:
        L->hout = L->wout = 1;
        L->macs = 0;
        L->params = 0;
        break;
    case MBN_LAYER_FC:
        L->hin = L->win = L->hout = L->wout = 1;
        L->macs = (int64_t)cin * cout;
        L->params = (int64_t)cin * cout + cout;
        break;
    }
    a->macs += L->macs;
    a->params += L->params;
    return L;
}

int mbn_arch_build(MbnArch *a, float alpha, int resolution, int num_classes) {
    memset(a, 0, sizeof *a);
    if (!(alpha > 0.0f && alpha <= MBN_ALPHA_MAX))
        return mbn_fail(MBN_EUSAGE, "alpha %g: must be in (0, %g]", (double)alpha,
                        (double)MBN_ALPHA_MAX);
    if (resolution < MBN_RESOLUTION_MIN || resolution > MBN_RESOLUTION_MAX)
        return mbn_fail(MBN_EUSAGE, "resolution %d: must be between %d and %d", resolution,
                        MBN_RESOLUTION_MIN, MBN_RESOLUTION_MAX);
    if (num_classes < MBN_CLASSES_MIN || num_classes > MBN_CLASSES_MAX)
        return mbn_fail(MBN_EUSAGE, "num_classes %d: must be between %d and %d", num_classes,
                        MBN_CLASSES_MIN, MBN_CLASSES_MAX);
    a->alpha = alpha;
    a->resolution = resolution;
    a->num_classes = num_classes;
    a->bn_eps = 1e-5f;
    mbn_preprocess_imagenet(&a->preprocess); /* recorded = false until training sets it */

    int c = mbn_scale_channels(32, alpha);
    MbnLayer *L = add(a, MBN_LAYER_STEM, "stem", 2, 3, resolution, c);
    snprintf(L->timm, sizeof L->timm, "conv_stem");
    snprintf(L->timm_bn, sizeof L->timm_bn, "bn1");
    int h = L->hout;
    for (int b = 0; b < MBN_BLOCKS; b++) {
        char name[16];
        snprintf(name, sizeof name, "dw%d", b + 1);
        L = add(a, MBN_LAYER_DW, name, blocks[b].stride, c, h, c);
        snprintf(L->timm, sizeof L->timm, "blocks.%d.%d.conv_dw", blocks[b].stage, blocks[b].index);
        snprintf(L->timm_bn, sizeof L->timm_bn, "blocks.%d.%d.bn1", blocks[b].stage,
                 blocks[b].index);
        h = L->hout;
        int cout = mbn_scale_channels(blocks[b].cout, alpha);
        snprintf(name, sizeof name, "pw%d", b + 1);
        L = add(a, MBN_LAYER_PW, name, 1, c, h, cout);
        snprintf(L->timm, sizeof L->timm, "blocks.%d.%d.conv_pw", blocks[b].stage, blocks[b].index);
        snprintf(L->timm_bn, sizeof L->timm_bn, "blocks.%d.%d.bn2", blocks[b].stage,
                 blocks[b].index);
        c = cout;
    }
    L = add(a, MBN_LAYER_POOL, "pool", 1, c, h, c);
    L = add(a, MBN_LAYER_FC, "fc", 1, c, 1, num_classes);
    snprintf(L->timm, sizeof L->timm, "classifier");
    a->feature_channels = c;
    return MBN_OK;
}

double mbn_arch_flop_per_image(const MbnArch *arch, bool train) {
    double macs = (double)arch->macs;
    if (!train) return 2.0 * macs;
    double stem = 0;
    for (int l = 0; l < arch->n_layers; l++)
        if (arch->layers[l].type == MBN_LAYER_STEM) stem += (double)arch->layers[l].macs;
    return 6.0 * macs - 2.0 * stem;
}

int64_t mbn_arch_max_activation(const MbnArch *a) {
    int64_t m = (int64_t)a->resolution * a->resolution * 3;
    for (int i = 0; i < a->n_layers; i++) {
        const MbnLayer *L = &a->layers[i];
        int64_t o = (int64_t)L->cout * L->hout * L->wout;
        if (o > m) m = o;
    }
    return m;
}

void mbn_arch_label(const MbnArch *arch, char *out, unsigned long len) {
    double a = arch->alpha;
    /* One decimal when that is exact (1.0, 0.5), else two (0.25, 0.75). */
    snprintf(out, len, fabs(a * 10 - round(a * 10)) < 1e-6 ? "%.1f-%d" : "%.2f-%d", a,
             arch->resolution);
}
