#include "io/formats/tensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

int64_t mbn_tensor_numel(const MbnHostTensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

MbnHostTensor *mbn_tensors_add(MbnTensorSet *set, const char *name, int ndim, const int64_t *shape,
                               const float *data) {
    if (ndim < 0 || ndim > MBN_TENSOR_MAX_DIMS || strlen(name) >= MBN_TENSOR_NAME_MAX) {
        mbn_fail(MBN_EFAIL, "tensor %s: unsupported name or rank", name);
        return NULL;
    }
    if (set->count == set->capacity) {
        int cap = set->capacity ? set->capacity * 2 : 64;
        MbnHostTensor *grown = realloc(set->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            mbn_fail(MBN_EFAIL, "out of host memory adding tensor %s", name);
            return NULL;
        }
        set->items = grown;
        set->capacity = cap;
    }
    MbnHostTensor *t = &set->items[set->count];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            mbn_fail(MBN_EFAIL, "tensor %s: negative dimension", name);
            return NULL;
        }
        t->shape[i] = shape[i];
        n *= shape[i];
    }
    t->data = calloc(n > 0 ? (size_t)n : 1, sizeof(float));
    if (!t->data) {
        mbn_fail(MBN_EFAIL, "out of host memory for tensor %s (%lld floats)", name, (long long)n);
        return NULL;
    }
    if (data && n > 0) memcpy(t->data, data, (size_t)n * sizeof(float));
    set->count++;
    return t;
}

MbnHostTensor *mbn_tensors_find(const MbnTensorSet *set, const char *name) {
    for (int i = 0; i < set->count; i++)
        if (strcmp(set->items[i].name, name) == 0) return &set->items[i];
    return NULL;
}

void mbn_tensors_free(MbnTensorSet *set) {
    for (int i = 0; i < set->count; i++)
        free(set->items[i].data);
    free(set->items);
    memset(set, 0, sizeof *set);
}
