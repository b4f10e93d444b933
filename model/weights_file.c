#include "model/weights_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/formats/checkpoint.h"
#include "io/data/preprocess_record.h"
#include "io/formats/safetensors.h"

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Moves the model tensors (not the optimizer state) from src into dst. */
static int take_model_tensors(MbnTensorSet *src, MbnTensorSet *dst) {
    for (int i = 0; i < src->count; i++) {
        MbnHostTensor *t = &src->items[i];
        if (strncmp(t->name, "optim.", 6) == 0) continue;
        if (!mbn_tensors_add(dst, t->name, t->ndim, t->shape, t->data)) return MBN_EFAIL;
    }
    return MBN_OK;
}

static int check_flag_int(const char *path, const char *param, int given, int file) {
    if (given > 0 && given != file)
        return mbn_fail(MBN_EFAIL, "%s: %s %d was given, but the model has %d", path, param, given,
                        file);
    return MBN_OK;
}

static int open_checkpoint(const char *path, const MbnModelFlags *f, MbnArch *arch,
                           MbnTensorSet *tensors) {
    MbnCheckpoint ck;
    memset(&ck, 0, sizeof ck);
    MBN_TRY(mbn_ckpt_load(path, &ck));
    /* alpha and the class count must match; another resolution only warns (the network is
     * fully convolutional). */
    int rc = mbn_ckpt_check_config(path, &ck.config, f->alpha, f->resolution, f->num_classes,
                                   false);
    int res = f->resolution > 0 ? f->resolution : ck.config.resolution;
    if (rc == MBN_OK) rc = mbn_arch_build(arch, ck.config.alpha, res, ck.config.num_classes);
    if (rc == MBN_OK) {
        arch->bn_eps = ck.config.bn_eps > 0 ? ck.config.bn_eps : arch->bn_eps;
        rc = mbn_preprocess_read_ckpt(&ck, path, &arch->preprocess);
    }
    if (rc == MBN_OK) rc = take_model_tensors(&ck.tensors, tensors);
    mbn_ckpt_free(&ck);
    return rc;
}

static int open_safetensors(const char *path, const MbnModelFlags *f, MbnArch *arch,
                            MbnTensorSet *tensors) {
    MbnTensorSet all = {0};
    MbnStMetadata meta;
    memset(&meta, 0, sizeof meta);
    MBN_TRY(mbn_safetensors_read_ex(path, &all, &meta));
    int rc = MBN_OK;
    /* mbn's own exports say how they were trained; foreign files fall back to the defaults. */
    const char *meta_res = mbn_st_metadata_get(&meta, "resolution");
    const char *meta_eps = mbn_st_metadata_get(&meta, "bn_eps");
    int file_res = meta_res ? atoi(meta_res) : 0;
    float file_eps = meta_eps ? strtof(meta_eps, NULL) : 0.0f;
    MbnPreprocess pre;
    int pre_res = 0;
    rc = mbn_preprocess_read_st(&meta, path, &pre, &pre_res);
    if (file_res < 32 && pre.recorded) file_res = pre_res;
    const MbnHostTensor *fc = mbn_tensors_find(&all, "classifier.weight");
    if (rc == MBN_OK && (!fc || fc->ndim != 2))
        rc = mbn_fail(MBN_EFAIL,
                      "%s: no classifier.weight [classes, features] tensor: not a "
                      "MobileNet V1 in timm's naming",
                      path);
    float alpha = 0;
    int classes = 0;
    if (rc == MBN_OK) {
        classes = (int)fc->shape[0];
        int features = (int)fc->shape[1];
        /* The last block has max(8, floor(1024 * alpha)) channels. */
        alpha = f->alpha > 0 ? f->alpha : (float)features / 1024.0f;
        if (mbn_scale_channels(1024, alpha) != features)
            rc = mbn_fail(MBN_EFAIL, "%s: alpha %g does not match the %d classifier features", path,
                          (double)alpha, features);
    }
    if (rc == MBN_OK) rc = check_flag_int(path, "num_classes", f->num_classes, classes);
    int res = f->resolution > 0 ? f->resolution : file_res >= 32 ? file_res : 224;
    if (rc == MBN_OK) rc = mbn_arch_build(arch, alpha, res, classes);
    if (rc == MBN_OK && file_eps > 0.0f && file_eps < 1.0f) arch->bn_eps = file_eps;
    if (rc == MBN_OK) arch->preprocess = pre;
    if (rc == MBN_OK) rc = take_model_tensors(&all, tensors);
    mbn_tensors_free(&all);
    mbn_st_metadata_free(&meta);
    return rc;
}

int mbn_weights_open(const char *path, const MbnModelFlags *flags, MbnArch *arch,
                     MbnTensorSet *tensors) {
    FILE *probe = fopen(path, "rb");
    if (!probe) return mbn_fail(MBN_EUSAGE, "%s: cannot open the model file", path);
    fclose(probe);
    if (ends_with(path, ".safetensors")) return open_safetensors(path, flags, arch, tensors);
    return open_checkpoint(path, flags, arch, tensors);
}
