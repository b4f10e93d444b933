/* mbn export: weights out as safetensors in timm's names and layouts (SPEC §5), or the whole
 * model as an ONNX graph (--format onnx). Both carry the model's preprocessing record. */
#include <stdio.h>
#include <string.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/session.h"
#include "base/error.h"
#include "io/formats/labels.h"
#include "io/formats/preprocess_record.h"
#include "io/formats/safetensors.h"
#include "model/net.h"
#include "model/onnx_export.h"
#include "model/weights_file.h"

static int write_safetensors(const char *out, const MbnArch *arch, const MbnTensorSet *tensors) {
    char alpha[32], res[32], classes[32], eps[32];
    snprintf(alpha, sizeof alpha, "%g", (double)arch->alpha);
    snprintf(res, sizeof res, "%d", arch->resolution);
    snprintf(classes, sizeof classes, "%d", arch->num_classes);
    snprintf(eps, sizeof eps, "%g", (double)arch->bn_eps);
    MbnRecordPair pairs[MBN_PREPROCESS_MAX_PAIRS];
    int n_pairs = arch->preprocess.recorded
                      ? mbn_preprocess_to_pairs(&arch->preprocess, arch->resolution, pairs)
                      : 0;
    const char *meta[16 + 2 * MBN_PREPROCESS_MAX_PAIRS] = {
        "format", "pt",         "producer", "mbn",         "arch",  "mobilenetv1", "alpha",
        alpha,    "resolution", res,        "num_classes", classes, "bn_eps",      eps};
    int n = 14;
    for (int i = 0; i < n_pairs; i++) {
        meta[n++] = pairs[i].key;
        meta[n++] = pairs[i].value;
    }
    meta[n] = NULL;
    return mbn_safetensors_write(out, tensors, meta);
}

int cmd_export(int argc, char **argv) {
    MbnCommonFlags c;
    mbn_common_defaults(&c);
    c.alpha = 0;
    c.resolution = 0;
    c.num_classes = 0;
    const char *ckpt = NULL, *out = NULL, *format = NULL, *labels_flag = NULL, *precision = NULL;
    const MbnFlag flags[] = {
        MBN_COMMON_FLAGS(&c),
        {"checkpoint", FLAG_STRING, &ckpt, "mbn checkpoint (.ckpt) or safetensors weights", "F"},
        {"out", FLAG_STRING, &out, "file to write", "FILE"},
        {"format", FLAG_STRING, &format,
         "safetensors (weights, the default) or onnx (the whole model as an ONNX graph)", "FMT"},
        {"labels", FLAG_STRING, &labels_flag,
         "class names for the ONNX metadata (default: labels.txt beside the checkpoint)", "L"},
        {"precision", FLAG_STRING, &precision,
         "ONNX: fp32 (default) or fp16 (float16 weights with BatchNorm folded in and float16 "
         "activations, as --precision fp16 runs; float input and outputs)",
         "P"},
    };
    MbnCli cli = {"export",
                  "mbn export --checkpoint F [--format safetensors|onnx] [--precision fp32|fp16] "
                  "--out FILE",
                  "safetensors: the model's weights and BN running statistics with timm's "
                  "mobilenetv1_100 names and layouts (conv OIHW, classifier [out, in]), loadable "
                  "with strict=True. onnx: a standard ONNX graph (opset 13, dynamic batch, NCHW "
                  "float input normalised as the model's preprocessing record says, outputs "
                  "logits and probs). Both record the preprocessing in their metadata.",
                  flags,
                  (int)(sizeof flags / sizeof flags[0]),
                  NULL,
                  0,
                  0,
                  false};
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return mbn_cli_report(&cli, rc);
    bool onnx = false;
    MbnPrecision prec = MBN_PRECISION_FP32;
    if (mbn_precision_parse("--precision", precision, &prec))
        rc = MBN_EUSAGE;
    else if (prec == MBN_PRECISION_AUTO)
        rc = mbn_fail(MBN_EUSAGE, "--precision auto: a file has no device; give fp32 or fp16");
    else if (!ckpt)
        rc = mbn_fail(MBN_EUSAGE, "--checkpoint is required");
    else if (!out)
        rc = mbn_fail(MBN_EUSAGE, "--out is required");
    else if (format && strcmp(format, "onnx") == 0)
        onnx = true;
    else if (format && strcmp(format, "safetensors") != 0)
        rc = mbn_fail(MBN_EUSAGE, "--format %s: expected safetensors or onnx", format);
    else if (prec == MBN_PRECISION_FP16 && !onnx)
        rc = mbn_fail(MBN_EUSAGE, "--precision fp16: only with --format onnx (safetensors "
                                  "exports keep the trained float weights)");
    if (rc) return mbn_cli_report(&cli, rc);
    MbnModelFlags mf = {c.alpha, c.resolution, c.num_classes};
    MbnArch arch;
    MbnTensorSet tensors = {0};
    rc = mbn_weights_open(ckpt, &mf, &arch, &tensors);
    if (rc == MBN_OK) mbn_session_note_preprocess(ckpt, &arch);
    char **names = NULL;
    int n_names = 0;
    if (rc == MBN_OK && onnx) {
        rc = mbn_session_find_labels(labels_flag, ckpt, arch.num_classes, &names, &n_names);
        if (rc == MBN_OK)
            rc = mbn_onnx_write(out, &arch, &tensors, names, prec == MBN_PRECISION_FP16);
    } else if (rc == MBN_OK) {
        rc = write_safetensors(out, &arch, &tensors);
    }
    if (rc == MBN_OK)
        fprintf(stderr, "mbn: wrote MobileNet V1 %g-%d (%d classes, %d tensors) to %s\n",
                (double)arch.alpha, arch.resolution, arch.num_classes, tensors.count, out);
    if (names) mbn_labels_free(names, n_names);
    mbn_tensors_free(&tensors);
    return mbn_cli_report(&cli, rc);
}
