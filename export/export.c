#include "export/export.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "io/data/preprocess_record.h"
#include "io/formats/safetensors.h"

static const char *const names[] = {"safetensors", "onnx"};

const char *mbn_export_format_name(MbnExportFormat f) {
    return names[f];
}

int mbn_export_format_parse(const char *name) {
    for (int f = 0; f < (int)(sizeof names / sizeof names[0]); f++)
        if (strcmp(name, names[f]) == 0) return f;
    return -1;
}

int mbn_export_format_of(const char *path) {
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return -1;
    for (int f = 0; f < (int)(sizeof names / sizeof names[0]); f++)
        if (strcasecmp(dot + 1, names[f]) == 0) return f;
    return -1;
}

int mbn_export_safetensors(const char *path, const MbnArch *arch, const MbnTensorSet *tensors) {
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
    return mbn_safetensors_write(path, tensors, meta);
}
