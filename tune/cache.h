/* The per-device tuning cache written by `mbn tune` and read whenever a device is opened: which
 * kernel-variant row and parameter values each op uses (host/variants.h) and CLBlast kernel
 * parameters (CLBlastOverrideParameters), with a short id naming that set of choices.
 *
 * One text file per device under <cache>/tuning/ (host/cache_dir.h), its name a hash of the
 * device name, driver version, platform, and the mbn build (kernel sources and variant table),
 * which the file also spells out. A file that is damaged (bad checksum, truncated, unparsable),
 * foreign (another device, driver or build) or names rows/parameters this build rejects is
 * ignored with one warning: the device then runs untuned, never wrongly.
 *
 * The same decision syntax serves the shipped database (tune/database.h). MBN_NO_TUNING=1
 * ignores both; so does forcing a kernel family with MBN_KERNELS (tests ask for exactly that
 * family): tune/open.h. */
#ifndef MBN_TUNE_CACHE_H
#define MBN_TUNE_CACHE_H
#include <stdbool.h>
#include <stddef.h>

#include "host/variants.h"

#define MBN_TUNE_MAX_CLBLAST 3
#define MBN_TUNE_MAX_CLBLAST_PARAMS 20
#define MBN_TUNE_ID_LEN 24

/* One CLBlast kernel family's parameters ("Xgemm", "XgemmDirect", "GemmRoutine"). */
typedef struct {
    char kernel[16];
    int n;
    char name[MBN_TUNE_MAX_CLBLAST_PARAMS][24];
    size_t value[MBN_TUNE_MAX_CLBLAST_PARAMS];
} MbnClblastParams;

/* One op's decision: a row and the parameters that differ from its defaults. */
typedef struct {
    bool set;
    char row[64];
    int n;
    char param[MBN_VARIANT_MAX_PARAMS][24];
    int value[MBN_VARIANT_MAX_PARAMS];
    char workload[48]; /* what it was tuned on, e.g. "train 1-224 batch 32" */
} MbnTunedOp;

/* Which networks a set of decisions is for: a network only running inference, or training.
 * `mbn tune --mode infer` decides the ops inference runs for inference networks; `--mode train`
 * decides every op for training networks; each keeps the other's. */
typedef enum { MBN_USE_TRAIN = 0, MBN_USE_INFER = 1, MBN_USE_COUNT } MbnUse;

typedef struct {
    MbnTunedOp op[MBN_USE_COUNT][MBN_OP_COUNT];
    int n_clblast;
    MbnClblastParams clblast[MBN_TUNE_MAX_CLBLAST];
    char id[MBN_TUNE_ID_LEN]; /* "tune-" + 12 hex digits of a hash of the decisions */
} MbnTuneCache;

struct MbnDeviceInfo;

int mbn_tune_cache_path(const struct MbnDeviceInfo *info, char *out, size_t len);

/* 1: loaded; 0: no file; -1: damaged or foreign, ignored after one warning (per file and
 * process). */
int mbn_tune_cache_load(const struct MbnDeviceInfo *info, MbnTuneCache *c);

/* Sets c->id from the decisions and writes the file atomically. */
int mbn_tune_cache_save(const struct MbnDeviceInfo *info, MbnTuneCache *c);

/* The decisions for a use as overrides for mbn_device_open_with (they point into c): that use's
 * set; inference falls back to the training set for ops it has no decision for. */
int mbn_tune_cache_overrides(const MbnTuneCache *c, MbnUse use, MbnVariantOverride *ov, int max);

const char *mbn_use_name(MbnUse use); /* "train", "infer" */

/* Applies CLBlast parameter sets to the device (process-wide in CLBlast, per device). */
int mbn_tune_apply_clblast(const struct MbnDeviceInfo *info, const MbnClblastParams *sets, int n);

/* The decisions as text, one line each ("op infer gemm gemm.cpu_tiled KC=256", "clblast Xgemm
 * KWG=32 ..."), each op's workload as a trailing comment when asked; and back (the text is
 * modified; false on a line that does not parse or decides an op twice). */
void mbn_tune_decisions_text(const MbnTuneCache *c, char *out, size_t len, bool with_workload);
bool mbn_tune_decisions_parse(char *text, MbnTuneCache *c);

/* The id a set of decisions gets (also set by save). */
void mbn_tune_cache_compute_id(MbnTuneCache *c);

/* A hash of this mbn build as far as tuning is concerned: the version (include/mbn.h), the
 * kernel sources and the variant table (rows, parameters, candidates). */
unsigned long long mbn_build_hash(void);

#endif
