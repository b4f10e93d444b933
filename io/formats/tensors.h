/* Host-side named float32 tensors: what checkpoints and safetensors files hold, and what the
 * model exports and imports (model/net.h: mbn_net_export / mbn_net_import). Names and layouts
 * are timm's (SPEC §5): conv weights OIHW, FC [out, in]. */
#ifndef MBN_IO_FORMATS_TENSORS_H
#define MBN_IO_FORMATS_TENSORS_H
#include <stddef.h>
#include <stdint.h>

#define MBN_TENSOR_NAME_MAX 96
#define MBN_TENSOR_MAX_DIMS 4

typedef struct {
    char name[MBN_TENSOR_NAME_MAX];
    int ndim;
    int64_t shape[MBN_TENSOR_MAX_DIMS];
    float *data; /* owned by the set, numel() floats */
} MbnHostTensor;

typedef struct {
    MbnHostTensor *items;
    int count, capacity;
} MbnTensorSet;

int64_t mbn_tensor_numel(const MbnHostTensor *t);
/* Adds a tensor (data copied when `data` is non-NULL, else zero-filled); returns it or NULL
 * with the error recorded. */
MbnHostTensor *mbn_tensors_add(MbnTensorSet *set, const char *name, int ndim, const int64_t *shape,
                               const float *data);
MbnHostTensor *mbn_tensors_find(const MbnTensorSet *set, const char *name);
void mbn_tensors_free(MbnTensorSet *set);

#endif
