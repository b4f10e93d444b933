/* Opening a model file for eval, infer and export: an mbn checkpoint (.ckpt) or safetensors
 * weights (timm names). The model config comes from the file (checkpoint config, or mbn's
 * safetensors metadata); for foreign safetensors it is derived from the tensor shapes: the
 * class count from classifier.weight, alpha from the last block's width (1024 * alpha).
 * Flags given on the command line must agree with the file where the file says. */
#ifndef MBN_MODEL_WEIGHTS_FILE_H
#define MBN_MODEL_WEIGHTS_FILE_H
#include <stdbool.h>

#include "io/formats/tensors.h"
#include "model/arch.h"

typedef struct {
    float alpha;     /* 0: from the file */
    int resolution;  /* 0: from the file, else 224 */
    int num_classes; /* 0: from the file */
} MbnModelFlags;

/* Reads the file, fills *arch and *tensors (weights and running statistics only). */
int mbn_weights_open(const char *path, const MbnModelFlags *flags, MbnArch *arch,
                     MbnTensorSet *tensors);

#endif
