#include "model/train_state.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "io/data/preprocess_record.h"

bool mbn_train_position_restate(MbnTrainPosition *pos, int64_t steps_per_epoch,
                                int64_t samples_per_step, int64_t *repeated) {
    *repeated = 0;
    int64_t old_spe = pos->steps_per_epoch, old_sps = pos->samples_per_step;
    int64_t unit = pos->name_step_samples > 0 ? pos->name_step_samples : old_sps;
    bool same = old_spe == steps_per_epoch && (old_sps == samples_per_step || old_sps == 0);
    int64_t sie = pos->step_in_epoch;
    if (sie >= old_spe) { /* the epoch was done */
        sie = steps_per_epoch;
    } else if (!same && old_sps > 0) {
        int64_t images = sie * old_sps;
        sie = images / samples_per_step;
        *repeated = images - sie * samples_per_step;
    } else if (!same) {
        sie = 0; /* no record of the images per step: restart the epoch */
    }
    if (sie >= steps_per_epoch) {
        pos->epoch++;
        sie = 0;
        *repeated = 0;
    }
    if (sie == 0) unit = samples_per_step; /* a fresh epoch is named in this run's steps */
    if (old_spe != steps_per_epoch) pos->global_step = (int64_t)pos->epoch * steps_per_epoch + sie;
    bool restated = !same;
    pos->step_in_epoch = sie;
    pos->steps_per_epoch = steps_per_epoch;
    pos->samples_per_step = samples_per_step;
    pos->name_step_samples = unit > 0 ? unit : samples_per_step;
    return restated;
}

int64_t mbn_train_position_name_step(const MbnTrainPosition *pos) {
    int64_t unit = pos->name_step_samples, sps = pos->samples_per_step;
    if (unit <= 0 || sps <= 0 || unit == sps) return pos->step_in_epoch;
    return (pos->step_in_epoch * sps + unit - 1) / unit; /* whole steps of `unit`, rounded up */
}

int mbn_train_state_save(const char *path, MbnNet *net, const MbnTrainPosition *pos) {
    MbnCheckpoint ck;
    memset(&ck, 0, sizeof ck);
    ck.config.alpha = net->arch.alpha;
    ck.config.resolution = net->arch.resolution;
    ck.config.num_classes = net->arch.num_classes;
    ck.config.bn_eps = net->arch.bn_eps;
    int rc = mbn_net_export(net, &ck.tensors, true);
    if (rc == MBN_OK) rc = mbn_ckpt_set_int(&ck, "epoch", pos->epoch);
    if (rc == MBN_OK) rc = mbn_ckpt_set_int(&ck, "step_in_epoch", pos->step_in_epoch);
    if (rc == MBN_OK) rc = mbn_ckpt_set_int(&ck, "global_step", pos->global_step);
    if (rc == MBN_OK) rc = mbn_ckpt_set_int(&ck, "steps_per_epoch", pos->steps_per_epoch);
    if (rc == MBN_OK) rc = mbn_ckpt_set_int(&ck, "seed", (int64_t)pos->seed);
    if (rc == MBN_OK) rc = mbn_ckpt_set_float(&ck, "loss", pos->loss);
    if (rc == MBN_OK)
        rc = mbn_ckpt_set_string(&ck, "tuning", net->dev->tuning[0] ? net->dev->tuning : "untuned");
    if (rc == MBN_OK) rc = mbn_ckpt_set_int(&ck, "samples_per_step", pos->samples_per_step);
    if (rc == MBN_OK) rc = mbn_ckpt_set_int(&ck, "name_step_samples", pos->name_step_samples);
    if (rc == MBN_OK)
        rc = mbn_preprocess_write_ckpt(&ck, &net->arch.preprocess, net->arch.resolution);
    if (rc == MBN_OK) rc = mbn_ckpt_save(path, &ck);
    mbn_ckpt_free(&ck);
    return rc;
}

int mbn_train_state_load(const char *path, MbnNet *net, MbnTrainPosition *pos) {
    MbnCheckpoint ck;
    memset(&ck, 0, sizeof ck);
    MBN_TRY(mbn_ckpt_load(path, &ck));
    /* Resuming must match the model exactly, resolution included. */
    int rc = mbn_ckpt_check_config(path, &ck.config, net->arch.alpha, net->arch.resolution,
                                   net->arch.num_classes, true);
    int64_t epoch = 0, sie = 0, gs = 0, spe = 0, seed = 0;
    double loss = NAN;
    if (rc == MBN_OK &&
        (!mbn_ckpt_get_int(&ck, "epoch", &epoch) || !mbn_ckpt_get_int(&ck, "step_in_epoch", &sie) ||
         !mbn_ckpt_get_int(&ck, "global_step", &gs) ||
         !mbn_ckpt_get_int(&ck, "steps_per_epoch", &spe) || !mbn_ckpt_get_int(&ck, "seed", &seed)))
        rc = mbn_fail(MBN_EFAIL, "%s: not a training checkpoint (no training position)", path);
    mbn_ckpt_get_float(&ck, "loss", &loss);
    const char *tuning = mbn_ckpt_get_string(&ck, "tuning");
    int64_t sps = 0, nss = 0; /* absent from older checkpoints: unknown */
    mbn_ckpt_get_int(&ck, "samples_per_step", &sps);
    mbn_ckpt_get_int(&ck, "name_step_samples", &nss);
    if (rc == MBN_OK) {
        rc = mbn_net_import(net, &ck.tensors, false, true);
        if (rc) mbn_fail_context(rc, "%s", path);
    }
    if (rc == MBN_OK) {
        pos->epoch = (int)epoch;
        pos->step_in_epoch = sie;
        pos->global_step = gs;
        pos->steps_per_epoch = spe;
        pos->seed = (uint64_t)seed;
        pos->loss = loss;
        snprintf(pos->tuning, sizeof pos->tuning, "%s", tuning ? tuning : "");
        pos->samples_per_step = sps;
        pos->name_step_samples = nss;
    }
    mbn_ckpt_free(&ck);
    return rc;
}
