/* Writes a MobileNet V1 with seeded random weights and BN statistics as safetensors in timm's
 * names, with an ImageNet preprocessing record, for latency benchmarks that need a model file
 * (bench/deploy_latency.py): no OpenCL device needed.
 *
 *   build/bench/make_random_model OUT.safetensors [ALPHA] [RESOLUTION] [CLASSES]
 *   (defaults 1.0 224 1000) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/error.h"
#include "base/rng.h"
#include "io/data/preprocess_record.h"
#include "io/formats/safetensors.h"
#include "model/arch.h"

static int add(MbnTensorSet *set, MbnRng *rng, const char *name, int ndim, const int64_t *shape,
               double lo, double hi) {
    MbnHostTensor *t = mbn_tensors_add(set, name, ndim, shape, NULL);
    if (!t) return MBN_EFAIL;
    int64_t n = mbn_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        t->data[i] = (float)mbn_rng_range(rng, lo, hi);
    return MBN_OK;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s OUT.safetensors [ALPHA] [RESOLUTION] [CLASSES]\n", argv[0]);
        return 2;
    }
    float alpha = argc > 2 ? strtof(argv[2], NULL) : 1.0f;
    int res = argc > 3 ? atoi(argv[3]) : 224, classes = argc > 4 ? atoi(argv[4]) : 1000;
    MbnArch a;
    if (mbn_arch_build(&a, alpha, res, classes) != MBN_OK) {
        fprintf(stderr, "make_random_model: %s\n", mbn_last_error());
        return 2;
    }
    MbnRng rng;
    mbn_rng_seed(&rng, 1);
    MbnTensorSet set = {0};
    int rc = MBN_OK;
    char name[128];
    for (int l = 0; l < a.n_layers && rc == MBN_OK; l++) {
        const MbnLayer *L = &a.layers[l];
        if (L->type == MBN_LAYER_POOL) continue;
        if (L->type == MBN_LAYER_FC) {
            double r = 1.0 / sqrt(L->cin);
            int64_t ws[2] = {L->cout, L->cin}, bs[1] = {L->cout};
            rc = add(&set, &rng, "classifier.weight", 2, ws, -r, r);
            if (rc == MBN_OK) rc = add(&set, &rng, "classifier.bias", 1, bs, -r, r);
            continue;
        }
        int k = L->type == MBN_LAYER_PW ? 1 : 3;
        int cin = L->type == MBN_LAYER_STEM ? 3 : L->type == MBN_LAYER_DW ? 1 : L->cin;
        double r = sqrt(3.0 / (cin * k * k)); /* unit-variance outputs for unit inputs */
        int64_t ws[4] = {L->cout, cin, k, k}, cs[1] = {L->cout};
        snprintf(name, sizeof name, "%s.weight", L->timm);
        rc = add(&set, &rng, name, 4, ws, -r, r);
        static const char *suffix[4] = {"weight", "bias", "running_mean", "running_var"};
        static const double lo[4] = {0.5, -0.2, -0.1, 0.5}, hi[4] = {1.5, 0.5, 0.1, 2.0};
        for (int i = 0; i < 4 && rc == MBN_OK; i++) {
            snprintf(name, sizeof name, "%s.%s", L->timm_bn, suffix[i]);
            rc = add(&set, &rng, name, 1, cs, lo[i], hi[i]);
        }
    }
    MbnPreprocess pre;
    mbn_preprocess_imagenet(&pre);
    pre.recorded = true;
    MbnRecordPair pairs[MBN_PREPROCESS_MAX_PAIRS];
    int n = mbn_preprocess_to_pairs(&pre, res, pairs);
    const char *meta[2 * MBN_PREPROCESS_MAX_PAIRS + 4] = {"format", "pt"};
    for (int i = 0; i < n; i++) {
        meta[2 + 2 * i] = pairs[i].key;
        meta[3 + 2 * i] = pairs[i].value;
    }
    meta[2 + 2 * n] = NULL;
    if (rc == MBN_OK) rc = mbn_safetensors_write(argv[1], &set, meta);
    mbn_tensors_free(&set);
    if (rc) {
        fprintf(stderr, "make_random_model: %s\n", mbn_last_error());
        return 1;
    }
    fprintf(stderr, "make_random_model: MobileNet V1 %g-%d, %d classes -> %s\n", (double)alpha, res,
            classes, argv[1]);
    return 0;
}
