/* `mbn export --format onnx`: the model as a standard ONNX graph (opset 13, IR version 7),
 * serialised with protobuf-c from the schema Debian's libonnx-dev ships (onnx/onnx.proto,
 * compiled at build time).
 *
 * Graph: input "input" float32 [batch, 3, R, R] (NCHW, batch dynamic), already normalised as
 * the model's preprocessing record says; per conv layer Conv (no bias; depthwise as group = C,
 * pads 1, stride as the layer) -> BatchNormalization (running statistics, the model's eps) ->
 * Clip(0, 6); then GlobalAveragePool -> Flatten -> Gemm (transB = 1) -> "logits" [batch, K] and
 * Softmax(axis 1) -> "probs" [batch, K]. Initializers keep timm's names and layouts
 * (conv_stem.weight, blocks.S.B.bn1.running_var, classifier.weight, ...), so the file maps
 * one-to-one onto the safetensors export. The model's doc_string says in words what
 * preprocessing to apply; metadata_props carry the record as keys (preprocess.*, see
 * io/data/preprocess_record.h, with preprocess.layout = NCHW), the model config, and the
 * class names ("labels", one per line) when known. */
#ifndef MBN_EXPORT_ONNX_H
#define MBN_EXPORT_ONNX_H
#include <stdbool.h>

#include "io/formats/tensors.h"
#include "model/arch.h"

#define MBN_ONNX_OPSET 13
#define MBN_ONNX_IR_VERSION 7

/* "opset 13, protobuf-c 1.4.1": what the ONNX export was built with (`mbn --version`). */
const char *mbn_onnx_build_info(void);

/* Writes path atomically. tensors: the model's weights and BN statistics in timm names (as
 * mbn_weights_open returns them); each is checked against the architecture. labels: NULL or
 * arch->num_classes class names.
 *
 * fp16: the graph mbn --precision fp16 computes: the stem as above in float, then Cast to
 * float16; every other conv layer a Conv on float16 activations with its BatchNorm folded into
 * float16 initializers "<conv>.weight_folded" and "<conv>.bias_folded" (mbn's fold arithmetic,
 * rounded once), then Clip(0, 6) in float16; Cast to float before GlobalAveragePool, and the
 * classifier (timm's float tensors) and softmax in float: input and outputs stay float32.
 * metadata_props "precision" says which. */
int mbn_onnx_write(const char *path, const MbnArch *arch, const MbnTensorSet *tensors,
                   char *const *labels, bool fp16);

#endif
