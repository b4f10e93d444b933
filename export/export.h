/* export/: a model written out for other tools, above model/ (it reads the architecture) and
 * below apps/. Two formats: timm safetensors weights (here) and an ONNX graph (export/onnx.h);
 * both carry the model's configuration and preprocessing record in their metadata. */
#ifndef MBN_EXPORT_EXPORT_H
#define MBN_EXPORT_EXPORT_H
#include "io/formats/tensors.h"
#include "model/arch.h"

typedef enum { MBN_EXPORT_SAFETENSORS, MBN_EXPORT_ONNX } MbnExportFormat;

/* The format a file name's extension names (".safetensors" or ".onnx", any case), or -1. */
int mbn_export_format_of(const char *path);
/* "safetensors" or "onnx"; -1 for a name that is neither. */
const char *mbn_export_format_name(MbnExportFormat f);
int mbn_export_format_parse(const char *name);

/* The weights and BN statistics in timm's names and layouts (as mbn_weights_open returns
 * them), with the model's config and preprocessing record as metadata. Atomic. */
int mbn_export_safetensors(const char *path, const MbnArch *arch, const MbnTensorSet *tensors);

#endif
