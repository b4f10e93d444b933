/* mbn summary: the per-layer table (type, stride, shapes, MACs, params) and totals. */
#include <inttypes.h>
#include <stdio.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "base/error.h"
#include "io/util/json_writer.h"
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

static void shape(MbnJson *j, int c, int h, int w) {
    mbn_json_begin_array(j);
    mbn_json_int(j, c);
    mbn_json_int(j, h);
    mbn_json_int(j, w);
    mbn_json_end_array(j);
}

int cmd_summary(int argc, char **argv) {
    MbnCommonFlags c;
    mbn_common_defaults(&c);
    const MbnFlag flags[] = {MBN_COMMON_FLAGS(&c)};
    MbnCli cli = {"summary",
                  "mbn summary [--alpha A] [--resolution R] [--num-classes K] [--json]",
                  "Prints MobileNet V1's layers with shapes, multiply-accumulates and trainable "
                  "parameters (BN gamma/beta counted), as in the paper's Tables 1, 6 and 7.",
                  flags,
                  (int)(sizeof flags / sizeof flags[0]),
                  NULL,
                  0,
                  0,
                  false};
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return mbn_cli_report(&cli, rc);
    MbnArch a;
    rc = mbn_arch_build(&a, c.alpha, c.resolution, c.num_classes);
    if (rc) return mbn_cli_report(&cli, rc);
    if (c.json) {
        MbnJson j;
        mbn_json_init(&j, stdout);
        mbn_json_begin_object(&j);
        mbn_json_key(&j, "alpha");
        mbn_json_double(&j, a.alpha);
        mbn_json_key(&j, "resolution");
        mbn_json_int(&j, a.resolution);
        mbn_json_key(&j, "num_classes");
        mbn_json_int(&j, a.num_classes);
        mbn_json_key(&j, "macs");
        mbn_json_int(&j, a.macs);
        mbn_json_key(&j, "params");
        mbn_json_int(&j, a.params);
        mbn_json_key(&j, "layers");
        mbn_json_begin_array(&j);
        for (int i = 0; i < a.n_layers; i++) {
            const MbnLayer *L = &a.layers[i];
            mbn_json_begin_object(&j);
            mbn_json_key(&j, "name");
            mbn_json_string(&j, L->name);
            mbn_json_key(&j, "type");
            mbn_json_string(&j, type_name(L->type));
            mbn_json_key(&j, "stride");
            mbn_json_int(&j, L->stride);
            mbn_json_key(&j, "input");
            shape(&j, L->cin, L->hin, L->win);
            mbn_json_key(&j, "output");
            shape(&j, L->cout, L->hout, L->wout);
            mbn_json_key(&j, "macs");
            mbn_json_int(&j, L->macs);
            mbn_json_key(&j, "params");
            mbn_json_int(&j, L->params);
            mbn_json_end_object(&j);
        }
        mbn_json_end_array(&j);
        mbn_json_end_object(&j);
        mbn_json_finish(&j);
        return 0;
    }
    printf("MobileNet V1 %.2g-%d, %d classes\n", (double)a.alpha, a.resolution, a.num_classes);
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
