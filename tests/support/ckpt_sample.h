/* A deterministic sample checkpoint for the checkpoint tests: a few tensors shaped like the
 * model's (including awkward values: -0, NaN payloads, infinities, subnormals), a scalar, an
 * empty tensor and meta of every type. */
#ifndef MBN_TESTS_SUPPORT_CKPT_SAMPLE_H
#define MBN_TESTS_SUPPORT_CKPT_SAMPLE_H
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/formats/checkpoint.h"
#include "tests/support/testutil.h"

static inline void sample_checkpoint(MbnCheckpoint *ck, uint64_t seed, int scale) {
    memset(ck, 0, sizeof *ck);
    ck->config = (MbnModelConfig){0.25f, 224, 10, 1e-5f};
    MbnRng rng;
    mbn_rng_seed(&rng, seed);
    const struct {
        const char *name;
        int ndim;
        int64_t shape[4];
    } specs[] = {
        {"conv_stem.weight", 4, {8, 3, 3, 3}},
        {"bn1.running_var", 1, {8}},
        {"blocks.0.0.conv_dw.weight", 4, {8, 1, 3, 3}},
        {"blocks.0.0.conv_pw.weight", 4, {16, 8, 1, 1}},
        {"classifier.weight", 2, {10, 16 * scale}},
        {"classifier.bias", 1, {10}},
        {"optim.momentum.classifier.weight", 2, {10, 16 * scale}},
        {"scalar", 0, {0}},
        {"empty", 2, {0, 5}},
    };
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        MbnHostTensor *t =
            mbn_tensors_add(&ck->tensors, specs[k].name, specs[k].ndim, specs[k].shape, NULL);
        int64_t n = mbn_tensor_numel(t);
        for (int64_t i = 0; i < n; i++)
            t->data[i] = (float)(mbn_rng_uniform(&rng) * 2 - 1);
    }
    float *w = ck->tensors.items[0].data;
    uint32_t nan_payload = 0x7FC01234u, subnormal = 0x00000123u;
    w[0] = -0.0f;
    w[1] = INFINITY;
    w[2] = -INFINITY;
    memcpy(&w[3], &nan_payload, 4);
    memcpy(&w[4], &subnormal, 4);
    mbn_ckpt_set_int(ck, "epoch", 3 + (int64_t)seed);
    mbn_ckpt_set_int(ck, "step", 1234567890123LL);
    mbn_ckpt_set_int(ck, "rng.state", (int64_t)0xDEADBEEFCAFEF00DULL);
    mbn_ckpt_set_float(ck, "lr", 0.0123456789012345);
    mbn_ckpt_set_float(ck, "loss", -0.0);
    mbn_ckpt_set_string(ck, "lr_schedule", "cosine");
    mbn_ckpt_set_string(ck, "note", "");
}

/* Bit-exact comparison of everything a checkpoint holds; returns a description or NULL. */
static inline const char *ckpt_diff(const MbnCheckpoint *a, const MbnCheckpoint *b) {
    if (memcmp(&a->config.alpha, &b->config.alpha, 4) ||
        a->config.resolution != b->config.resolution ||
        a->config.num_classes != b->config.num_classes ||
        memcmp(&a->config.bn_eps, &b->config.bn_eps, 4))
        return "config differs";
    if (a->tensors.count != b->tensors.count) return "tensor count differs";
    for (int k = 0; k < a->tensors.count; k++) {
        const MbnHostTensor *x = &a->tensors.items[k], *y = &b->tensors.items[k];
        if (strcmp(x->name, y->name) || x->ndim != y->ndim) return "tensor name/rank differs";
        for (int d = 0; d < x->ndim; d++)
            if (x->shape[d] != y->shape[d]) return "tensor shape differs";
        if (memcmp(x->data, y->data, 4 * (size_t)mbn_tensor_numel(x))) return "tensor data differs";
    }
    if (a->n_meta != b->n_meta) return "meta count differs";
    for (int k = 0; k < a->n_meta; k++) {
        const MbnMeta *x = &a->meta[k], *y = &b->meta[k];
        if (strcmp(x->key, y->key) || x->type != y->type) return "meta key/type differs";
        if (x->type == MBN_META_INT && x->i != y->i) return "meta int differs";
        if (x->type == MBN_META_FLOAT && memcmp(&x->f, &y->f, 8)) return "meta float differs";
        if (x->type == MBN_META_STRING && strcmp(x->s, y->s)) return "meta string differs";
    }
    return NULL;
}

#endif
