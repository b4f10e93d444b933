/* safetensors (https://huggingface.co/docs/safetensors): an 8-byte little-endian header size,
 * a JSON header of {name: {dtype, shape, data_offsets}} (plus optional "__metadata__"), then
 * the raw data. Reading accepts F32, F16, BF16 and F64 (converted to float32) and I64 (only
 * for num_batches_tracked, which is skipped); every offset and size is validated before use.
 * Writing emits F32 atomically (temporary file, fsync, rename). */
#ifndef MBN_IO_FORMATS_SAFETENSORS_H
#define MBN_IO_FORMATS_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>

#include "base/half.h"
#include "io/formats/tensors.h"

/* Headers larger than this are refused before anything is allocated for them. */
#define MBN_SAFETENSORS_MAX_HEADER (100u * 1024 * 1024)

int mbn_safetensors_read(const char *path, MbnTensorSet *out);

/* The "__metadata__" string pairs (e.g. {"format": "pt"}), in file order. */
typedef struct {
    char *key, *value;
} MbnStMetaItem;
typedef struct {
    MbnStMetaItem *items;
    int count;
} MbnStMetadata;

/* As mbn_safetensors_read, also returning the metadata (meta may be NULL). On failure both
 * outputs are left empty. */
int mbn_safetensors_read_ex(const char *path, MbnTensorSet *out, MbnStMetadata *meta);
const char *mbn_st_metadata_get(const MbnStMetadata *meta, const char *key);
void mbn_st_metadata_free(MbnStMetadata *meta);
/* metadata: NULL or NULL-terminated key/value string pairs for "__metadata__". */
int mbn_safetensors_write(const char *path, const MbnTensorSet *set, const char *const *metadata);

/* Parses a whole file image already in memory; `label` names it in errors. On failure *out is
 * left empty. Used by mbn_safetensors_read and the fuzzer. */
int mbn_safetensors_parse(const unsigned char *buf, size_t len, const char *label,
                          MbnTensorSet *out);
int mbn_safetensors_parse_ex(const unsigned char *buf, size_t len, const char *label,
                             MbnTensorSet *out, MbnStMetadata *meta);

/* bfloat16 to float, exactly (every bfloat16 value is a float); IEEE half: base/half.h. */
float mbn_bf16_to_float(uint16_t b);

#endif
