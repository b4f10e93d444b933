/* mbn summary: the per-layer table (type, stride, shapes, MACs, params) and totals. */
#include <inttypes.h>
#include <stdio.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/json_out.h"
#include "base/error.h"
#include "model/arch.h"

static const char *type_name(MbnLayerType t) {
    switch (t) {
    case MBN_LAYER_STEM:
        return "conv3x3";
    case MBN_LAYER_DW:
        return "dwconv3x3";
    case MBN_LAYER_PW:
        return "conv1x1";
    case MBN_LAYER_POOL:
        return "avgpool";
    case MBN_LAYER_FC:
        return "fc";
    }
    return "?";
}

static json_t *shape(int c, int h, int w) {
    return json_pack("[i, i, i]", c, h, w);
}

int cmd_summary(int argc, char **argv) {
    MbnCommonFlags c;
    mbn_common_defaults(&c);
    const MbnFlag flags[] = {MBN_FLAGS_NETWORK(&c), MBN_FLAG_JSON(&c)};
    MbnCli cli =
        MBN_CLI("summary", "mbn summary [--alpha A] [--resolution R] [--num-classes K] [--json]",
                "Prints MobileNet V1's layers with shapes, multiply-accumulates and "
                "trainable parameters (BN gamma/beta counted), as in the paper's Tables 1, "
                "6 and 7.",
                flags, NULL, 0);
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return mbn_cli_report(&cli, rc);
    MbnArch a;
    rc = mbn_arch_build(&a, c.alpha, c.resolution, c.num_classes);
    if (rc) return mbn_cli_report(&cli, rc);
    if (c.json) {
        json_t *layers = json_array();
        for (int i = 0; layers && i < a.n_layers; i++) {
            const MbnLayer *L = &a.layers[i];
            json_t *o =
                json_pack("{s:s, s:s, s:i, s:o, s:o, s:I, s:I}", "name", L->name, "type",
                          type_name(L->type), "stride", L->stride, "input",
                          shape(L->cin, L->hin, L->win), "output", shape(L->cout, L->hout, L->wout),
                          "macs", (json_int_t)L->macs, "params", (json_int_t)L->params);
            if (!o || json_array_append_new(layers, o) != 0) {
                json_decref(layers);
                layers = NULL;
            }
        }
        json_t *doc =
            layers ? json_pack("{s:o, s:i, s:i, s:I, s:I, s:o}", "alpha", mbn_json_number(a.alpha),
                               "resolution", a.resolution, "num_classes", a.num_classes, "macs",
                               (json_int_t)a.macs, "params", (json_int_t)a.params, "layers", layers)
                   : NULL;
        return mbn_cli_report(&cli, mbn_json_print(doc));
    }
    char label[32];
    mbn_arch_label(&a, label, sizeof label);
    printf("MobileNet V1 %s, %d classes\n", label, a.num_classes);
    printf("%-6s %-10s %6s %18s %18s %14s %10s\n", "layer", "type", "stride", "input", "output",
           "MACs", "params");
    for (int i = 0; i < a.n_layers; i++) {
        const MbnLayer *L = &a.layers[i];
        char in[32], out[32];
        snprintf(in, sizeof in, "%dx%dx%d", L->hin, L->win, L->cin);
        snprintf(out, sizeof out, "%dx%dx%d", L->hout, L->wout, L->cout);
        printf("%-6s %-10s %6d %18s %18s %14" PRId64 " %10" PRId64 "\n", L->name,
               type_name(L->type), L->stride, in, out, L->macs, L->params);
    }
    printf("total: %" PRId64 " MACs (%.0f M), %" PRId64 " params (%.1f M)\n", a.macs,
           (double)a.macs / 1e6, a.params, (double)a.params / 1e6);
    return 0;
}
