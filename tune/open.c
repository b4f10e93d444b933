#include "tune/open.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tune/database.h"

/* Appends c's decisions for `use` as overrides recorded as coming from `source`, each checked
 * on top of the ones before it (a decision the device rejects is dropped with a warning: the
 * device runs without it, never fails to open). */
static int append(MbnTuning *t, MbnVariantSet *set, const MbnTuneCache *c, MbnUse use,
                  MbnParamSource source, const char *what) {
    MbnVariantOverride ov[MBN_OP_COUNT];
    int n = mbn_tune_cache_overrides(c, use, ov, MBN_OP_COUNT), kept = 0;
    for (int i = 0; i < n && t->n < 2 * MBN_OP_COUNT; i++) {
        ov[i].source = source;
        MbnVariantSet trial = *set;
        if (mbn_variants_override(&trial, &ov[i]) != MBN_OK) {
            mbn_warn("ignoring a decision of %s for %s: %s", what, set->profile.name,
                     mbn_last_error());
            mbn_clear_error();
            continue;
        }
        *set = trial;
        t->ov[t->n++] = ov[i];
        kept++;
    }
    return kept;
}

/* CLBlast parameter sets: `from`'s replace those of the same kernel. */
static void merge_clblast(MbnTuning *t, const MbnTuneCache *from) {
    for (int k = 0; k < from->n_clblast; k++) {
        int slot = 0;
        while (slot < t->n_clblast && strcmp(t->clblast[slot].kernel, from->clblast[k].kernel))
            slot++;
        if (slot == MBN_TUNE_MAX_CLBLAST) continue;
        if (slot == t->n_clblast) t->n_clblast++;
        t->clblast[slot] = from->clblast[k];
    }
}

static int tuning_on(const MbnDeviceInfo *info, const MbnDeviceEnv *env, MbnUse use,
                     MbnVariantSet *set, MbnTuning *t, bool with_cache) {
    memset(t, 0, sizeof *t);
    MBN_TRY(mbn_variants_resolve(set, &info->profile, env->family));
    if (env->no_tuning) return MBN_OK;
    /* A forced family keeps its rows as they are: of the database only CLBlast's parameters
     * apply (they tune the GEMMs the generic rows run, and choose no kernel), of the user's
     * cache nothing (a run under a forced family reports itself untuned). */
    bool ops = env->family == MBN_FAMILY_AUTO;
    int found = mbn_tune_db_lookup(info, env->database, &t->database, t->levels, sizeof t->levels);
    if (found < 0) return MBN_EFAIL;
    if (found > 0) {
        if (ops)
            t->database_decisions =
                append(t, set, &t->database, use, MBN_PARAM_DATABASE, "the tuning database");
        merge_clblast(t, &t->database);
        t->database_decisions += t->database.n_clblast;
    }
    if (ops && with_cache && mbn_tune_cache_load(info, &t->cache) == 1) {
        append(t, set, &t->cache, use, MBN_PARAM_TUNED, "the tuning cache");
        merge_clblast(t, &t->cache);
        memcpy(t->id, t->cache.id, sizeof t->id);
    }
    return MBN_OK;
}

int mbn_tuning_for(const MbnDeviceInfo *info, const MbnDeviceEnv *env, MbnUse use, MbnTuning *t) {
    MbnVariantSet *set = malloc(sizeof *set);
    int rc = set ? tuning_on(info, env, use, set, t, true) : mbn_fail(MBN_EFAIL, "out of memory");
    free(set);
    return rc;
}

int mbn_tuning_resolve(const MbnDeviceInfo *info, MbnUse use, MbnVariantSet *set, MbnTuning *t) {
    MbnDeviceEnv env;
    MBN_TRY(mbn_device_env(&env));
    return tuning_on(info, &env, use, set, t, true);
}

int mbn_tuning_baseline(const MbnDeviceInfo *info, MbnUse use, MbnVariantSet *set, MbnTuning *t) {
    MbnDeviceEnv env;
    MBN_TRY(mbn_device_env(&env));
    env.family = MBN_FAMILY_AUTO;
    env.no_tuning = false;
    return tuning_on(info, &env, use, set, t, false);
}

int mbn_device_open_for(MbnDevice *dev, const MbnDeviceInfo *info, MbnUse use) {
    MbnDeviceEnv env;
    MBN_TRY(mbn_device_env(&env));
    MbnTuning *t = malloc(sizeof *t);
    if (!t) return mbn_fail(MBN_EFAIL, "out of host memory opening device %s", info->name);
    int rc = mbn_tuning_for(info, &env, use, t);
    if (rc == MBN_OK) rc = mbn_device_open_env(dev, info, &env, t->ov, t->n);
    if (rc == MBN_OK && mbn_tune_apply_clblast(info, t->clblast, t->n_clblast) != MBN_OK) {
        /* Validated when loaded, so only a CLBlast that changed under the same build gets
         * here: run untuned rather than half tuned. */
        mbn_warn("%s; running untuned", mbn_last_error());
        mbn_clear_error();
        mbn_device_close(dev);
        memset(t, 0, sizeof *t);
        rc = mbn_device_open_env(dev, info, &env, NULL, 0);
    }
    if (rc == MBN_OK) {
        snprintf(dev->tuning, sizeof dev->tuning, "%s", t->id);
        dev->database_decisions = t->database_decisions;
        for (int op = 0; t->id[0] && op < MBN_OP_COUNT && !dev->tuned_for[0]; op++)
            for (int u = use; u >= 0 && !dev->tuned_for[0]; u--) /* infer falls back to train */
                if (t->cache.op[u][op].set)
                    snprintf(dev->tuned_for, sizeof dev->tuned_for, "%s",
                             t->cache.op[u][op].workload);
    }
    free(t);
    return rc;
}

int mbn_device_open(MbnDevice *dev, const MbnDeviceInfo *info) {
    return mbn_device_open_for(dev, info, MBN_USE_TRAIN);
}

int mbn_device_open_selected_for(MbnDevice *dev, const char *sel, MbnUse use) {
    MbnDeviceInfo *all = NULL;
    int count = 0, *idx = NULL, n = 0;
    MBN_TRY(mbn_devices_list(&all, &count));
    int rc = mbn_devices_select(sel, all, count, &idx, &n);
    if (rc == MBN_OK) rc = mbn_device_open_for(dev, &all[idx[0]], use);
    free(idx);
    free(all);
    return rc;
}

int mbn_device_open_selected(MbnDevice *dev, const char *sel) {
    return mbn_device_open_selected_for(dev, sel, MBN_USE_TRAIN);
}
