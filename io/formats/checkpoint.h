/* Checkpoints (SPEC §5): one zlib-compressed file with magic, format version, model config,
 * every tensor by name (weights in timm layout, BN running statistics, optimizer state as
 * "optim.momentum.<name>"), training position and RNG state as typed key/values, and a
 * checksum over everything. Byte layout: docs/CHECKPOINT_FORMAT.md.
 *
 * Saving writes <path>.tmp.<pid>, flushes and fsyncs it, renames it over <path> and fsyncs the
 * folder, so a crash at any moment leaves either the old or the new file, never a mix.
 * Loading verifies magic, version, sizes and checksum before returning anything: a file is
 * either loaded whole or refused with one line naming it and what is wrong. */
#ifndef MBN_IO_FORMATS_CHECKPOINT_H
#define MBN_IO_FORMATS_CHECKPOINT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/formats/tensors.h"

#define MBN_CKPT_VERSION 1
/* zlib settings used by mbn_ckpt_save: float data stored as byte planes and Huffman-only coding
 * (Z_HUFFMAN_ONLY = 2) gave the smallest files and the fastest saves of the settings measured in
 * docs/CHECKPOINT_FORMAT.md; LZ77 matching finds next to nothing in float noise. */
#define MBN_CKPT_ZLIB_LEVEL 1
#define MBN_CKPT_ZLIB_STRATEGY 2
/* Largest uncompressed payload accepted or written (the 1.0-224 model with momentum is 34 MB). */
#define MBN_CKPT_MAX_PAYLOAD ((uint64_t)2 << 30)
/* Limits on counts (the model has about 220 tensors with momentum) so that a forged file cannot
 * make loading slow. */
#define MBN_CKPT_MAX_TENSORS (1 << 20)
#define MBN_CKPT_MAX_META (1 << 16)
/* Temporary files of dead processes older than this are removed by mbn_ckpt_rotate. */
#define MBN_CKPT_STALE_TMP_SECONDS 600

typedef struct {
    float alpha;
    int resolution;
    int num_classes;
    float bn_eps;
} MbnModelConfig;

/* The configurations mbn builds (model/arch.c refuses others as usage errors), saves and
 * loads: alpha in (0, MBN_ALPHA_MAX], resolution and class count in these ranges. */
#define MBN_ALPHA_MAX 2.0f
#define MBN_RESOLUTION_MIN 32
#define MBN_RESOLUTION_MAX 4096
#define MBN_CLASSES_MIN 2
#define MBN_CLASSES_MAX 1000000

typedef enum { MBN_META_INT, MBN_META_FLOAT, MBN_META_STRING } MbnMetaType;

typedef struct {
    char key[64];
    MbnMetaType type;
    int64_t i;
    double f;
    char *s; /* owned */
} MbnMeta;

typedef struct {
    MbnModelConfig config;
    MbnTensorSet tensors;
    MbnMeta *meta;
    int n_meta, cap_meta;
} MbnCheckpoint;

int mbn_ckpt_set_int(MbnCheckpoint *ck, const char *key, int64_t v);
int mbn_ckpt_set_float(MbnCheckpoint *ck, const char *key, double v);
int mbn_ckpt_set_string(MbnCheckpoint *ck, const char *key, const char *v);
/* Return false when the key is missing or of another type. */
bool mbn_ckpt_get_int(const MbnCheckpoint *ck, const char *key, int64_t *v);
bool mbn_ckpt_get_float(const MbnCheckpoint *ck, const char *key, double *v);
const char *mbn_ckpt_get_string(const MbnCheckpoint *ck, const char *key);

int mbn_ckpt_save(const char *path, const MbnCheckpoint *ck);
/* As mbn_ckpt_save with an explicit zlib level (0..9) and strategy (Z_DEFAULT_STRATEGY 0,
 * Z_FILTERED 1, Z_HUFFMAN_ONLY 2, Z_RLE 3); any of them loads the same (the benchmark compares
 * them). */
int mbn_ckpt_save_ex(const char *path, const MbnCheckpoint *ck, int level, int strategy);
/* *ck is overwritten (pass a zeroed or freed one); on failure it is left zeroed, never
 * partly filled, and the error names the file and what is wrong. */
int mbn_ckpt_load(const char *path, MbnCheckpoint *ck);
/* The same from a file image in memory; `label` names it in errors (the fuzzer uses this). */
int mbn_ckpt_load_mem(const unsigned char *buf, size_t len, const char *label, MbnCheckpoint *ck);
void mbn_ckpt_free(MbnCheckpoint *ck);

/* Checks the model a checkpoint was trained with against the command line. A value <= 0 means
 * "not given" (the file's is used) and is not checked. alpha and num_classes must match:
 * MBN_EFAIL with e.g. "x.ckpt: alpha 0.5 was given, but the file was trained with alpha 1". The
 * network is fully convolutional, so a different resolution is only a warning unless
 * resolution_must_match (resuming training). */
int mbn_ckpt_check_config(const char *path, const MbnModelConfig *file_cfg, float alpha,
                          int resolution, int num_classes, bool resolution_must_match);

/* The seed's naming: <dir>/mobilenetv1-<epoch>_<step>.ckpt. */
void mbn_ckpt_path(char *out, size_t len, const char *dir, int epoch, int64_t step);
/* Newest checkpoint in dir that loads cleanly (damaged newer ones are skipped with a
 * warning); MBN_EFAIL when there is none. */
int mbn_ckpt_find_latest(const char *dir, char *out, size_t len);
/* Keeps the newest keep_max mobilenetv1-*.ckpt files in dir (by epoch, then step), deleting
 * older ones; keep_max <= 0 keeps all. Also removes mobilenetv1-*.ckpt.tmp.<pid> files left by
 * a crashed save: only when that pid is not alive here and the file is older than
 * MBN_CKPT_STALE_TMP_SECONDS, so a save in progress (even from another host on a shared
 * folder) is never touched. */
int mbn_ckpt_rotate(const char *dir, int keep_max);

#endif
