/* mbn export: weights out as safetensors in timm's names and layouts (SPEC §5), or the whole
 * model as an ONNX graph, as --out's extension says. Both carry the model's preprocessing
 * record. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/json_out.h"
#include "apps/model_file.h"
#include "base/error.h"
#include "io/formats/labels.h"
#include "export/export.h"
#include "export/onnx.h"
#include "io/data/preprocess_record.h"
#include "model/net.h"
#include "model/weights_file.h"

/* --json: the file written, its format and size, and the model it holds. */
static int print_json(const char *out, MbnExportFormat format, const MbnArch *arch, int tensors,
                      int n_names) {
    struct stat st;
    if (stat(out, &st) != 0) return mbn_fail(MBN_EFAIL, "%s: written but cannot be read back", out);
    json_t *pre = json_object();
    MbnRecordPair pairs[MBN_PREPROCESS_MAX_PAIRS];
    int n = arch->preprocess.recorded
                ? mbn_preprocess_to_pairs(&arch->preprocess, arch->resolution, pairs)
                : 0;
    for (int i = 0; pre && i < n; i++)
        json_object_set_new(pre, pairs[i].key, json_string(pairs[i].value));
    return mbn_json_print(json_pack(
        "{s:s, s:s, s:I, s:{s:s, s:o, s:i, s:i, s:o, s:i, s:i, s:o}}", "path", out, "format",
        mbn_export_format_name(format), "bytes", (json_int_t)st.st_size, "model", "arch",
        "mobilenetv1", "alpha", mbn_json_number(arch->alpha), "resolution", arch->resolution,
        "num_classes", arch->num_classes, "bn_eps", mbn_json_number(arch->bn_eps), "tensors",
        tensors, "labels", n_names, "preprocess", pre ? pre : json_null()));
}

int cmd_export(int argc, char **argv) {
    MbnCommonFlags c;
    mbn_common_from_file(&c);
    const char *ckpt = NULL, *out = NULL, *format_flag = NULL, *labels_flag = NULL,
               *precision = NULL;
    const MbnFlag flags[] = {
        {"checkpoint", FLAG_STRING, &ckpt, "mbn checkpoint (.ckpt) or safetensors weights", "F",
         NULL},
        {"out", FLAG_STRING, &out,
         "file to write: NAME.safetensors (weights) or NAME.onnx (the whole model)", "FILE", NULL},
        {"format", FLAG_STRING, &format_flag,
         "safetensors or onnx, for a file name with another extension", "FMT",
         "what --out's extension says"},
        {"labels", FLAG_STRING, &labels_flag, "class names for the ONNX metadata", "L",
         "labels.txt beside the checkpoint"},
        {"precision", FLAG_STRING, &precision,
         "ONNX: fp32, or fp16 (float16 weights with BatchNorm folded in and float16 activations, "
         "as --precision fp16 runs; float input and outputs)",
         "P", "fp32"},
        MBN_FLAGS_MODEL_CHECKS(&c),
        MBN_FLAG_JSON(&c),
    };
    MbnCli cli = MBN_CLI(
        "export",
        "mbn export --checkpoint F --out FILE.safetensors|FILE.onnx [--precision fp32|fp16] "
        "[--json]",
        "safetensors: the model's weights and BN running statistics with timm's mobilenetv1_100 "
        "names and layouts (conv OIHW, classifier [out, in]), loadable with strict=True. onnx: "
        "a standard ONNX graph (opset 13, dynamic batch, NCHW float input normalised as the "
        "model's preprocessing record says, outputs logits and probs). Both record the "
        "preprocessing in their metadata. The format is the one --out's extension names; "
        "--format only names it for another extension and must not contradict it.",
        flags, NULL, 0);
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return mbn_cli_report(&cli, rc);
    int format = -1;
    MbnPrecision prec = MBN_PRECISION_FP32;
    if (mbn_precision_parse("--precision", precision, &prec))
        rc = MBN_EUSAGE;
    else if (prec == MBN_PRECISION_AUTO)
        rc = mbn_fail(MBN_EUSAGE, "--precision auto: a file has no device; give fp32 or fp16");
    else if (!ckpt)
        rc = mbn_fail(MBN_EUSAGE, "--checkpoint is required");
    else if (!out)
        rc = mbn_fail(MBN_EUSAGE, "--out is required");
    else if (format_flag && (format = mbn_export_format_parse(format_flag)) < 0)
        rc = mbn_fail(MBN_EUSAGE, "--format %s: expected safetensors or onnx", format_flag);
    if (rc == MBN_OK) rc = mbn_cli_input_file("--checkpoint", ckpt);
    if (rc == MBN_OK && labels_flag) rc = mbn_cli_input_file("--labels", labels_flag);
    if (rc == MBN_OK) rc = mbn_cli_output_file("--out", out);
    int named = out ? mbn_export_format_of(out) : -1;
    if (rc == MBN_OK && named >= 0 && format >= 0 && named != format)
        rc = mbn_fail(MBN_EUSAGE, "--format %s contradicts --out %s (a .%s file name)", format_flag,
                      out, mbn_export_format_name((MbnExportFormat)named));
    else if (rc == MBN_OK && named < 0 && format < 0)
        rc = mbn_fail(MBN_EUSAGE,
                      "--out %s: name the file .safetensors or .onnx (or give --format)", out);
    MbnExportFormat fmt = (MbnExportFormat)(named >= 0 ? named : format);
    if (rc == MBN_OK && prec == MBN_PRECISION_FP16 && fmt != MBN_EXPORT_ONNX)
        rc = mbn_fail(MBN_EUSAGE, "--precision fp16: only for ONNX (safetensors exports keep the "
                                  "trained float weights)");
    if (rc) return mbn_cli_report(&cli, rc);
    MbnModelFlags mf = {c.alpha, c.resolution, c.num_classes};
    MbnArch arch;
    MbnTensorSet tensors = {0};
    rc = mbn_weights_open(ckpt, &mf, &arch, &tensors);
    if (rc == MBN_OK) mbn_model_file_note(ckpt, &arch);
    char **names = NULL;
    int n_names = 0;
    if (rc == MBN_OK && fmt == MBN_EXPORT_ONNX) {
        rc = mbn_model_file_labels(labels_flag, ckpt, arch.num_classes, &names, &n_names);
        if (rc == MBN_OK)
            rc = mbn_onnx_write(out, &arch, &tensors, names, prec == MBN_PRECISION_FP16);
    } else if (rc == MBN_OK) {
        rc = mbn_export_safetensors(out, &arch, &tensors);
    }
    if (rc == MBN_OK) {
        char label[32];
        mbn_arch_label(&arch, label, sizeof label);
        fprintf(stderr, "mbn: wrote MobileNet V1 %s (%d classes, %d tensors) as %s to %s\n", label,
                arch.num_classes, tensors.count, mbn_export_format_name(fmt), out);
    }
    if (rc == MBN_OK && c.json) rc = print_json(out, fmt, &arch, tensors.count, n_names);
    if (names) mbn_labels_free(names, n_names);
    mbn_tensors_free(&tensors);
    return mbn_cli_report(&cli, rc);
}
