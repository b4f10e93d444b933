/* Model weights from either kind of file the command line accepts for --checkpoint and --init
 * (SPEC §4-5): an mbn checkpoint, or a safetensors file in timm's mobilenetv1_100 layout (from
 * `mbn export`, timm or any PyTorch model with those names). The kind is told by the magic. */
#ifndef MBN_IO_WEIGHTS_H
#define MBN_IO_WEIGHTS_H
#include "io/checkpoint.h"
#include "io/safetensors.h"

typedef enum { MBN_WEIGHTS_CHECKPOINT, MBN_WEIGHTS_SAFETENSORS } MbnWeightsKind;

/* Loads path into *out (kind may be NULL). For safetensors, out->tensors holds the file's float
 * tensors, out->config is inferred by mbn_weights_infer_config (alpha_hint as there) and meta
 * is empty. */
int mbn_weights_load(const char *path, float alpha_hint, MbnCheckpoint *out, MbnWeightsKind *kind);

/* Model config of a timm-layout tensor set: num_classes from classifier.weight [K, C]; alpha
 * from the widths (C = floor(1024 * alpha)) and then checked against every conv weight's output
 * channels; with alpha_hint > 0 the widths are checked against that alpha instead. bn_eps and
 * resolution come from safetensors metadata "bn_eps" / "resolution" when present (mbn export
 * writes them), else timm's 1e-5 and 224. meta may be NULL. */
int mbn_weights_infer_config(const char *label, const MbnTensorSet *set, float alpha_hint,
                             const MbnStMetadata *meta, MbnModelConfig *cfg);

#endif
