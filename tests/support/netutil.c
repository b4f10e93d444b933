#include "tests/support/netutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tests/support/testutil.h"

void tnet_import(MbnNet *net, const StFile *st, const char *state_prefix, const char *mom_prefix) {
    MbnTensorSet set = {0};
    char name[256];
    for (int i = 0; i < net->n_params; i++) {
        const MbnParam *p = &net->params_table[i];
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1 && (!mom_prefix || !p->trainable)) continue;
            snprintf(name, sizeof name, "%s%s", pass ? mom_prefix : state_prefix, p->name);
            const StEntry *e = st_find(st, name);
            if (!e) {
                printf("FATAL: fixture has no tensor %s\n", name);
                exit(1);
            }
            float *d = st_f32(st, name, NULL);
            char tname[MBN_TENSOR_NAME_MAX];
            snprintf(tname, sizeof tname, "%s%s", pass ? "optim.momentum." : "", p->name);
            if (!d || !mbn_tensors_add(&set, tname, e->ndim, e->shape, d)) {
                printf("FATAL: cannot load %s\n", name);
                exit(1);
            }
            free(d);
        }
    }
    int rc = mbn_net_import(net, &set, false, mom_prefix != NULL);
    if (rc) {
        printf("FATAL: mbn_net_import: %s\n", mbn_last_error());
        exit(1);
    }
    mbn_tensors_free(&set);
}

void tnet_to_timm(const MbnParam *p, const float *flat, float *out) {
    const float *src = flat + p->offset;
    if (p->kind != MBN_PARAM_DW_WEIGHT) {
        memcpy(out, src, p->count * sizeof *out);
        return;
    }
    int C = (int)p->shape[0];
    for (int c = 0; c < C; c++)
        for (int t = 0; t < 9; t++)
            out[(size_t)c * 9 + t] = src[(size_t)t * C + c];
}

float *tnet_read_flat(MbnNet *net, cl_mem buf) {
    float *h = T_NEW(float, net->param_floats);
    if (mbn_net_read_buffer(net, buf, h)) {
        printf("FATAL: mbn_net_read_buffer: %s\n", mbn_last_error());
        exit(1);
    }
    return h;
}

void tnchw_to_nhwc(const float *in, float *out, int N, int C, int H, int W) {
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++)
                for (int w = 0; w < W; w++)
                    out[(((size_t)n * H + h) * W + w) * C + c] =
                        in[(((size_t)n * C + c) * H + h) * W + w];
}
