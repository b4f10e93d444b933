/* safetensors (https://huggingface.co/docs/safetensors): an 8-byte little-endian header size,
 * a JSON header of {name: {dtype, shape, data_offsets}} (plus optional "__metadata__"), then
 * the raw data. Reading accepts F32, F16, BF16 and F64 (converted to float32) and I64 (only
 * for num_batches_tracked, which is skipped); every offset and size is validated before use.
 * Writing emits F32 atomically (temporary file, fsync, rename). */
#ifndef MBN_IO_SAFETENSORS_H
#define MBN_IO_SAFETENSORS_H
#include "io/tensors.h"

int mbn_safetensors_read(const char *path, MbnTensorSet *out);
/* metadata: NULL or NULL-terminated key/value string pairs for "__metadata__". */
int mbn_safetensors_write(const char *path, const MbnTensorSet *set, const char *const *metadata);

#endif
