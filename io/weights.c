#include "io/weights.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/error.h"
#include "model/arch.h"

/* A metadata number, only when the whole string is one. */
static bool meta_number(const MbnStMetadata *meta, const char *key, double *v) {
    const char *s = mbn_st_metadata_get(meta, key);
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*end || errno || !isfinite(d)) return false;
    *v = d;
    return true;
}

/* Every conv weight's output channels as the layer table says for alpha; the first mismatch is
 * described in why. */
static bool widths_match(const MbnTensorSet *set, float alpha, int num_classes, char *why,
                         size_t len) {
    MbnArch arch;
    if (mbn_arch_build(&arch, alpha, 224, num_classes) != MBN_OK) {
        snprintf(why, len, "%s", mbn_last_error());
        return false;
    }
    char name[96];
    for (int i = 0; i < arch.n_layers; i++) {
        const MbnLayer *L = &arch.layers[i];
        if (L->type == MBN_LAYER_POOL) continue;
        snprintf(name, sizeof name, "%s.weight", L->timm);
        const MbnHostTensor *t = mbn_tensors_find(set, name);
        int64_t have = t && t->ndim >= 1 ? t->shape[0] : -1;
        int64_t want = L->cout;
        if (L->type == MBN_LAYER_FC) have = t && t->ndim == 2 ? t->shape[1] : -1, want = L->cin;
        if (have != want) {
            if (!t)
                snprintf(why, len, "%s is missing", name);
            else
                snprintf(why, len, "%s has %lld channels, --alpha %g needs %lld", name,
                         (long long)have, (double)alpha, (long long)want);
            return false;
        }
    }
    return true;
}

int mbn_weights_infer_config(const char *label, const MbnTensorSet *set, float alpha_hint,
                             const MbnStMetadata *meta, MbnModelConfig *cfg) {
    const MbnHostTensor *fc = mbn_tensors_find(set, "classifier.weight");
    if (!fc || fc->ndim != 2 || fc->shape[0] < 2 || fc->shape[0] > 1000000 || fc->shape[1] < 1)
        return mbn_fail(MBN_EFAIL,
                        "%s: no classifier.weight [classes, features]: not a MobileNet V1 in "
                        "timm layout",
                        label);
    int classes = (int)fc->shape[0];
    float alpha = alpha_hint > 0 ? alpha_hint : (float)((double)fc->shape[1] / 1024.0);
    char why[256];
    if (!widths_match(set, alpha, classes, why, sizeof why)) {
        if (alpha_hint > 0)
            return mbn_fail(MBN_EFAIL, "%s: does not match --alpha %g: %s", label,
                            (double)alpha_hint, why);
        return mbn_fail(MBN_EFAIL, "%s: cannot infer the width multiplier (%s); give --alpha",
                        label, why);
    }
    double eps = 1e-5, res = 224;
    if (meta_number(meta, "bn_eps", &eps) && !(eps > 0 && eps < 1))
        return mbn_fail(MBN_EFAIL, "%s: metadata bn_eps %g out of range", label, eps);
    if (meta_number(meta, "resolution", &res) && !(res >= 32 && res <= 4096 && res == floor(res)))
        return mbn_fail(MBN_EFAIL, "%s: metadata resolution %g out of range", label, res);
    *cfg = (MbnModelConfig){alpha, (int)res, classes, (float)eps};
    return MBN_OK;
}

int mbn_weights_load(const char *path, float alpha_hint, MbnCheckpoint *out, MbnWeightsKind *kind) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return mbn_fail(MBN_EUSAGE, "%s: cannot open: %s", path, strerror(errno));
    char head[8] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n == 8 && memcmp(head, "MBNCKPT", 8) == 0) {
        if (kind) *kind = MBN_WEIGHTS_CHECKPOINT;
        return mbn_ckpt_load(path, out);
    }
    if (kind) *kind = MBN_WEIGHTS_SAFETENSORS;
    MbnStMetadata meta;
    MBN_TRY(mbn_safetensors_read_ex(path, &out->tensors, &meta));
    int rc = mbn_weights_infer_config(path, &out->tensors, alpha_hint, &meta, &out->config);
    mbn_st_metadata_free(&meta);
    if (rc) mbn_ckpt_free(out);
    return rc;
}
