/* mbn export: weights out as safetensors in timm's names and layouts (SPEC §5). */
#include <stdio.h>
#include <string.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "base/error.h"
#include "io/formats/safetensors.h"
#include "model/weights_file.h"

int cmd_export(int argc, char **argv) {
    const char *ckpt = NULL, *out = NULL;
    const MbnFlag flags[] = {
        {"checkpoint", FLAG_STRING, &ckpt, "mbn checkpoint (.ckpt) or safetensors weights", "F"},
        {"out", FLAG_STRING, &out, "safetensors file to write", "W.safetensors"},
    };
    MbnCli cli = {"export",
                  "mbn export --checkpoint F --out W.safetensors",
                  "Writes the model's weights and BN running statistics with timm's "
                  "mobilenetv1_100 names and layouts (conv OIHW, classifier [out, in]), loadable "
                  "with strict=True.",
                  flags,
                  2,
                  NULL,
                  0,
                  0,
                  false};
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return mbn_cli_report(&cli, rc);
    if (!ckpt)
        rc = mbn_fail(MBN_EUSAGE, "--checkpoint is required");
    else if (!out)
        rc = mbn_fail(MBN_EUSAGE, "--out is required");
    if (rc) return mbn_cli_report(&cli, rc);
    MbnModelFlags mf = {0, 0, 0};
    MbnArch arch;
    MbnTensorSet tensors = {0};
    rc = mbn_weights_open(ckpt, &mf, &arch, &tensors);
    if (rc == MBN_OK) {
        char alpha[32], res[32], classes[32], eps[32];
        snprintf(alpha, sizeof alpha, "%g", (double)arch.alpha);
        snprintf(res, sizeof res, "%d", arch.resolution);
        snprintf(classes, sizeof classes, "%d", arch.num_classes);
        snprintf(eps, sizeof eps, "%g", (double)arch.bn_eps);
        const char *meta[] = {"format",      "pt",    "producer", "mbn",        "arch",
                              "mobilenetv1", "alpha", alpha,      "resolution", res,
                              "num_classes", classes, "bn_eps",   eps,          NULL};
        rc = mbn_safetensors_write(out, &tensors, meta);
    }
    if (rc == MBN_OK)
        fprintf(stderr, "mbn: wrote %d tensors of MobileNet V1 %g-%d (%d classes) to %s\n",
                tensors.count, (double)arch.alpha, arch.resolution, arch.num_classes, out);
    mbn_tensors_free(&tensors);
    return mbn_cli_report(&cli, rc);
}
