/* Opening a device with its tuning: the one place that decides which kernel parameters a
 * device runs with. In order, each replacing what came before:
 *   1. the plan, from the device's profile (host/plan.h);
 *   2. the tuning database shipped with mbn (tune/database.h), most specific entry first;
 *   3. the user's tuning cache, written by `mbn tune` (tune/cache.h).
 * MBN_NO_TUNING=1 skips 2 and 3; a forced MBN_KERNELS family keeps only the database's
 * CLBlast parameters (host/device.h: MbnDeviceEnv).
 * Every value remembers where it came from (MbnVariantChoice.source), which `mbn devices
 * --json` and `mbn bench` report. */
#ifndef MBN_TUNE_OPEN_H
#define MBN_TUNE_OPEN_H

#include "host/device.h"
#include "tune/cache.h"

typedef struct {
    MbnVariantOverride ov[2 * MBN_OP_COUNT]; /* database ones, then the cache's */
    int n;
    MbnClblastParams clblast[MBN_TUNE_MAX_CLBLAST];
    int n_clblast;
    int database_decisions;       /* how many of them came from the database */
    char id[MBN_TUNE_ID_LEN];     /* the cache's id; "" when no cache applies */
    char levels[2048];            /* the database entries used, one line per decision */
    MbnTuneCache database, cache; /* what the overrides point into */
} MbnTuning;

/* The decisions for the device and `use` under `env`. A damaged cache or shipped database is
 * reported once and ignored; fails only on a bad MBN_KERNELS or an unreadable
 * MBN_TUNE_DATABASE file. */
int mbn_tuning_for(const MbnDeviceInfo *info, const MbnDeviceEnv *env, MbnUse use, MbnTuning *t);

/* The variants the device resolves to with its tuning, without opening it (mbn devices). */
int mbn_tuning_resolve(const MbnDeviceInfo *info, MbnUse use, MbnVariantSet *set, MbnTuning *t);

/* What `mbn tune` starts from: the auto family's plan with the database's decisions, without
 * the user's cache (which it is about to replace). */
int mbn_tuning_baseline(const MbnDeviceInfo *info, MbnUse use, MbnVariantSet *set, MbnTuning *t);

/* Opens the device with its tuning for `use` (MBN_USE_INFER: networks that only run
 * inference; mbn_device_open is MBN_USE_TRAIN, whose decisions cover every op). */
int mbn_device_open_for(MbnDevice *dev, const MbnDeviceInfo *info, MbnUse use);
int mbn_device_open(MbnDevice *dev, const MbnDeviceInfo *info);

/* Convenience: list, select by SEL (the first match) and open it. */
int mbn_device_open_selected_for(MbnDevice *dev, const char *sel, MbnUse use);
int mbn_device_open_selected(MbnDevice *dev, const char *sel);

#endif
