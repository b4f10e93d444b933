/* Checkpoints (SPEC §5): one zlib-compressed file with magic, format version, model config,
 * every tensor by name (weights in timm layout, BN running statistics, optimizer state as
 * "optim.momentum.<name>"), training position and RNG state as typed key/values, and a
 * checksum over everything. Byte layout: docs/CHECKPOINT_FORMAT.md.
 *
 * Saving writes <path>.tmp.<pid>, flushes and fsyncs it, renames it over <path> and fsyncs the
 * folder, so a crash at any moment leaves either the old or the new file, never a mix.
 * Loading verifies magic, version, sizes and checksum before returning anything: a file is
 * either loaded whole or refused with one line naming it and what is wrong. */
#ifndef MBN_IO_CHECKPOINT_H
#define MBN_IO_CHECKPOINT_H
#include <stdbool.h>
#include <stdint.h>

#include "io/tensors.h"

#define MBN_CKPT_VERSION 1

typedef struct {
    float alpha;
    int resolution;
    int num_classes;
    float bn_eps;
} MbnModelConfig;

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
int mbn_ckpt_load(const char *path, MbnCheckpoint *ck);
void mbn_ckpt_free(MbnCheckpoint *ck);

/* The seed's naming: <dir>/mobilenetv1-<epoch>_<step>.ckpt. */
void mbn_ckpt_path(char *out, size_t len, const char *dir, int epoch, int64_t step);
/* Newest checkpoint in dir that loads cleanly (damaged newer ones are skipped with a
 * warning); MBN_EFAIL when there is none. */
int mbn_ckpt_find_latest(const char *dir, char *out, size_t len);
/* Keeps the newest keep_max mobilenetv1-*.ckpt files in dir, deleting older ones. */
int mbn_ckpt_rotate(const char *dir, int keep_max);

#endif
