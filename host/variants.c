#include "host/variants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "host/device.h"

#define ALL_DEVICES CL_DEVICE_TYPE_ALL
#define CPUS CL_DEVICE_TYPE_CPU

/* The chunking of the two-stage per-channel reductions (BN statistics and backward, depthwise
 * weight gradient): at most CHUNKS chunks of at least MIN_ROWS rows, fixed for a given row
 * count and parameter values. CHUNKS is capped at MBN_OPS_MAX_PARTIALS (model/ops.h) so the
 * scratch bound holds for every value a tuner may pick. The generic and cpu rows share the
 * defaults, so they give the same bits. */
#define CHUNKING                                                                                   \
    {"CHUNKS", 256, false, {32, 64, 128, 256}}, {                                                  \
        "MIN_ROWS", 32, false, {                                                                   \
            8, 16, 32, 64, 128                                                                     \
        }                                                                                          \
    }

/* gemm.cl's register tile: 6 rows x 32 columns in 12 float16 accumulators. Fixed: the kernel's
 * code is written for it (it checks the defines). */
#define CPU_TILE                                                                                   \
    {"TM", 6, true, {0}}, {                                                                        \
        "TN", 32, true, {                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

static const MbnVariant table[] = {
    /* ---- cpu ---- */
    {.op = MBN_OP_DW_FWD,
     .family = MBN_FAMILY_CPU,
     .name = "dw_fwd.cpu_row8",
     .kernels = "dw_conv3x3_fwd_row8, dw_conv3x3_fwd_row16",
     .auto_types = CPUS,
     .channel_multiple = 8,
     /* VEC: channels per work-item, 16 where C % 16 == 0 (else 8). */
     .n_params = 1,
     .params = {{"VEC", 16, false, {8, 16}}}},
    {.op = MBN_OP_DW_BWD_INPUT,
     .family = MBN_FAMILY_CPU,
     .name = "dw_bwd_input.cpu_row8",
     .kernels = "dw_conv3x3_bwd_input_row8, dw_conv3x3_bwd_input_row16",
     .auto_types = CPUS,
     .channel_multiple = 8,
     .n_params = 1,
     .params = {{"VEC", 16, false, {8, 16}}}},
    {.op = MBN_OP_DW_BWD_WEIGHT,
     .family = MBN_FAMILY_CPU,
     .name = "dw_bwd_weight.cpu_vec8",
     .kernels = "dw_conv3x3_bwd_weight_partial8, dw_conv3x3_bwd_weight_partial16, "
                "channel_reduce_rows",
     .auto_types = CPUS,
     .channel_multiple = 8,
     .n_params = 3,
     .params = {CHUNKING, {"VEC", 16, false, {8, 16}}}},
    {.op = MBN_OP_BN_FWD,
     .family = MBN_FAMILY_CPU,
     .name = "bn_fwd.cpu_vec8",
     .kernels = "channel_sum_partial8, channel_sqdev_partial8, channel_reduce_rows, "
                "bn_finalize_stats, bn_relu6_apply8",
     .auto_types = CPUS,
     .channel_multiple = 8,
     .n_params = 2,
     .params = {CHUNKING}},
    {.op = MBN_OP_BN_BWD,
     .family = MBN_FAMILY_CPU,
     .name = "bn_bwd.cpu_vec8",
     .kernels = "bn_relu6_bwd_partial8, bn_bwd_finalize, bn_relu6_bwd_apply8",
     .auto_types = CPUS,
     .channel_multiple = 8,
     .n_params = 2,
     .params = {CHUNKING}},
    /* PANEL_FLOATS: B panels (K x TN floats each) a work-item keeps hot, about 256 KiB of L2;
     * RUN: the work-item count the row-tile runs are sized for; KC: k values per block, so the
     * block of B (KC x TN floats, 16 KiB at 128) stays in L1 across a run of row tiles. */
    {.op = MBN_OP_GEMM,
     .family = MBN_FAMILY_CPU,
     .name = "gemm.cpu_tiled",
     .define_prefix = "MBN_GEMM_CPU",
     .kernels = "gemm_tiled",
     .auto_types = CPUS,
     .channel_multiple = 1,
     .n_params = 5,
     .params = {CPU_TILE,
                {"PANEL_FLOATS", 65536, false, {16384, 32768, 65536, 131072, 262144}},
                {"RUN", 256, false, {64, 128, 256, 512, 1024}},
                {"KC", 128, false, {64, 128, 256, 512, 4096}}}},
    /* KC_MIN: rows of K per split-K chunk at least (the chunk count is also capped by the
     * scratch); TRANSPOSE: transpose dy into the caller's workspace first (8x8 blocks) so the
     * GEMM streams contiguous rows. */
    {.op = MBN_OP_GEMM_WGRAD,
     .family = MBN_FAMILY_CPU,
     .name = "gemm_wgrad.cpu_tiled",
     .define_prefix = "MBN_GEMM_CPU",
     .kernels = "transpose8, gemm_tiled, channel_reduce_rows",
     .auto_types = CPUS,
     .channel_multiple = 1,
     .n_params = 4,
     .params = {CPU_TILE,
                {"KC_MIN", 512, false, {128, 256, 512, 1024, 2048}},
                {"TRANSPOSE", 1, false, {0, 1}}}},
    /* ---- generic: any device, any shape ---- */
    {.op = MBN_OP_DW_FWD,
     .family = MBN_FAMILY_GENERIC,
     .name = "dw_fwd.generic",
     .kernels = "dw_conv3x3_fwd",
     .auto_types = ALL_DEVICES,
     .channel_multiple = 1},
    {.op = MBN_OP_DW_BWD_INPUT,
     .family = MBN_FAMILY_GENERIC,
     .name = "dw_bwd_input.generic",
     .kernels = "dw_conv3x3_bwd_input",
     .auto_types = ALL_DEVICES,
     .channel_multiple = 1},
    {.op = MBN_OP_DW_BWD_WEIGHT,
     .family = MBN_FAMILY_GENERIC,
     .name = "dw_bwd_weight.generic",
     .kernels = "dw_conv3x3_bwd_weight_partial, channel_reduce_rows",
     .auto_types = ALL_DEVICES,
     .channel_multiple = 1,
     .n_params = 2,
     .params = {CHUNKING}},
    {.op = MBN_OP_BN_FWD,
     .family = MBN_FAMILY_GENERIC,
     .name = "bn_fwd.generic",
     .kernels = "channel_sum_partial, channel_sqdev_partial, channel_reduce_rows, "
                "bn_finalize_stats, bn_relu6_apply",
     .auto_types = ALL_DEVICES,
     .channel_multiple = 1,
     .n_params = 2,
     .params = {CHUNKING}},
    {.op = MBN_OP_BN_BWD,
     .family = MBN_FAMILY_GENERIC,
     .name = "bn_bwd.generic",
     .kernels = "bn_relu6_bwd_partial, bn_bwd_finalize, bn_relu6_bwd_apply",
     .auto_types = ALL_DEVICES,
     .channel_multiple = 1,
     .n_params = 2,
     .params = {CHUNKING}},
    {.op = MBN_OP_GEMM,
     .family = MBN_FAMILY_GENERIC,
     .name = "gemm.clblast",
     .kernels = "clblast",
     .auto_types = ALL_DEVICES,
     .channel_multiple = 1},
    /* CLBlast split-K: one GEMM per SPLIT_ROWS rows of K (at most SPLIT_MAX, as one strided
     * batched GEMM; the count is also capped by the scratch), partials added in order. */
    {.op = MBN_OP_GEMM_WGRAD,
     .family = MBN_FAMILY_GENERIC,
     .name = "gemm_wgrad.clblast_splitk",
     .kernels = "clblast, channel_reduce_rows",
     .auto_types = ALL_DEVICES,
     .channel_multiple = 1,
     .n_params = 2,
     .params = {{"SPLIT_ROWS", 4096, false, {1024, 2048, 4096, 8192, 16384}},
                {"SPLIT_MAX", 64, false, {16, 32, 64, 128}}}},
};

#define TABLE_ROWS ((int)(sizeof table / sizeof table[0]))

static const char *const op_names[MBN_OP_COUNT] = {
    "dw_fwd", "dw_bwd_input", "dw_bwd_weight", "bn_fwd", "bn_bwd", "gemm", "gemm_wgrad",
};
static const char *const family_names[MBN_FAMILY_COUNT] = {"generic", "cpu", "gpu"};

const char *mbn_op_name(MbnOp op) {
    return op >= 0 && op < MBN_OP_COUNT ? op_names[op] : "?";
}

const char *mbn_family_name(int family) {
    if (family == MBN_FAMILY_AUTO) return "auto";
    return family >= 0 && family < MBN_FAMILY_COUNT ? family_names[family] : "?";
}

const MbnVariant *mbn_variant_table(int *count) {
    *count = TABLE_ROWS;
    return table;
}

const MbnVariant *mbn_variant_find(const char *name) {
    for (int i = 0; name && i < TABLE_ROWS; i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}

int mbn_variants_env_family(int *family) {
    *family = MBN_FAMILY_AUTO;
    const char *e = getenv("MBN_KERNELS");
    if (!e || !*e || strcmp(e, "auto") == 0) return MBN_OK;
    for (int f = 0; f < MBN_FAMILY_COUNT; f++)
        if (strcmp(e, family_names[f]) == 0) {
            *family = f;
            return MBN_OK;
        }
    return mbn_fail(MBN_EUSAGE, "MBN_KERNELS=%s: expected auto, generic, cpu or gpu", e);
}

/* Whole-word match in a space-separated extension list. */
static bool has_extension(const char *list, const char *ext) {
    size_t n = strlen(ext);
    for (const char *p = strstr(list, ext); p; p = strstr(p + 1, ext))
        if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ')) return true;
    return false;
}

bool mbn_variant_suits(const MbnVariant *row, const MbnDeviceInfo *info) {
    if (row->vendor_contains && !strstr(info->vendor, row->vendor_contains)) return false;
    if (row->extension && !has_extension(info->extensions, row->extension)) return false;
    if (row->min_local_mem && info->local_mem_bytes < row->min_local_mem) return false;
    if (row->min_work_group && info->max_work_group < row->min_work_group) return false;
    return true;
}

static void choose(MbnVariantChoice *c, const MbnVariant *row) {
    memset(c, 0, sizeof *c);
    c->row = row;
    for (int p = 0; p < row->n_params; p++)
        c->value[p] = row->params[p].value;
}

int mbn_variants_resolve(MbnVariantSet *set, const MbnDeviceInfo *info, int family) {
    memset(set, 0, sizeof *set);
    set->family = family;
    for (int op = 0; op < MBN_OP_COUNT; op++) {
        const MbnVariant *generic = NULL, *pick = NULL;
        for (int i = 0; i < TABLE_ROWS; i++) {
            const MbnVariant *r = &table[i];
            if (r->op != (MbnOp)op) continue;
            if (r->family == MBN_FAMILY_GENERIC && !generic) generic = r;
            if (pick || !mbn_variant_suits(r, info)) continue;
            if (family == MBN_FAMILY_AUTO ? (r->auto_types & info->type) != 0
                                          : r->family == (MbnFamily)family)
                pick = r;
        }
        if (!generic)
            return mbn_fail(MBN_EFAIL, "variant table: op %s has no generic row", op_names[op]);
        choose(&set->generic[op], generic);
        choose(&set->op[op], pick ? pick : generic);
    }
    return MBN_OK;
}

int mbn_variants_candidates(const MbnDeviceInfo *info, MbnOp op, const MbnVariant **rows, int max) {
    int n = 0;
    for (int i = 0; i < TABLE_ROWS; i++) {
        if (table[i].op != op || !mbn_variant_suits(&table[i], info)) continue;
        if (n < max) rows[n] = &table[i];
        n++;
    }
    return n;
}

static int param_index(const MbnVariant *row, const char *name) {
    for (int p = 0; p < row->n_params; p++)
        if (strcmp(row->params[p].name, name) == 0) return p;
    return -1;
}

int mbn_variants_override(MbnVariantSet *set, const MbnDeviceInfo *info,
                          const MbnVariantOverride *ov) {
    if (ov->op < 0 || ov->op >= MBN_OP_COUNT)
        return mbn_fail(MBN_EUSAGE, "kernel variant override: no op %d", (int)ov->op);
    MbnVariantChoice c = set->op[ov->op];
    if (ov->row) {
        const MbnVariant *r = mbn_variant_find(ov->row);
        if (!r) return mbn_fail(MBN_EUSAGE, "kernel variant %s: no such row", ov->row);
        if (r->op != ov->op)
            return mbn_fail(MBN_EUSAGE, "kernel variant %s does not implement %s", ov->row,
                            op_names[ov->op]);
        if (!mbn_variant_suits(r, info))
            return mbn_fail(MBN_EUSAGE, "kernel variant %s does not suit device %s", ov->row,
                            info->name);
        if (r != c.row) choose(&c, r);
    }
    for (int i = 0; i < ov->n; i++) {
        int p = param_index(c.row, ov->param[i]);
        if (p < 0)
            return mbn_fail(MBN_EUSAGE, "kernel variant %s has no parameter %s", c.row->name,
                            ov->param[i]);
        const MbnVariantParam *vp = &c.row->params[p];
        bool ok = ov->value[i] == vp->value;
        for (int k = 0; k < MBN_VARIANT_MAX_CANDIDATES && vp->candidates[k]; k++)
            ok = ok || vp->candidates[k] == ov->value[i];
        if (!ok)
            return mbn_fail(MBN_EUSAGE, "kernel variant %s: %s=%d is not one of its candidates",
                            c.row->name, vp->name, ov->value[i]);
        c.value[p] = ov->value[i];
    }
    c.overridden = true;
    set->op[ov->op] = c;
    return MBN_OK;
}

/* The values a row's parameters have on this device: the chosen ones when it is chosen. */
static const int *row_values(const MbnVariantSet *set, const MbnVariant *row, int *defaults) {
    if (set->op[row->op].row == row) return set->op[row->op].value;
    for (int p = 0; p < row->n_params; p++)
        defaults[p] = row->params[p].value;
    return defaults;
}

int mbn_variants_build_options(const MbnVariantSet *set, char *out, size_t len) {
    size_t used = strlen(out);
    for (int i = 0; i < TABLE_ROWS; i++) {
        const MbnVariant *r = &table[i];
        int defaults[MBN_VARIANT_MAX_PARAMS];
        const int *v = row_values(set, r, defaults);
        for (int p = 0; p < r->n_params; p++) {
            if (!r->params[p].define) continue;
            char def[128];
            snprintf(def, sizeof def, " -D%s_%s=", r->define_prefix, r->params[p].name);
            /* A define set by an earlier row: the values must agree. */
            const char *seen = strstr(out, def);
            if (seen) {
                if (atoi(seen + strlen(def)) != v[p])
                    return mbn_fail(MBN_EFAIL,
                                    "kernel variants disagree on %s_%s (%d in %s, another row "
                                    "sets %d)",
                                    r->define_prefix, r->params[p].name, v[p], r->name,
                                    atoi(seen + strlen(def)));
                continue;
            }
            int n = snprintf(out + used, len - used, "%s%d", def, v[p]);
            if (n < 0 || (size_t)n >= len - used)
                return mbn_fail(MBN_EFAIL, "kernel build options longer than %zu bytes", len);
            used += (size_t)n;
        }
    }
    return MBN_OK;
}

int mbn_vparam_or(const MbnVariantChoice *c, const char *name, int dflt) {
    int p = param_index(c->row, name);
    return p < 0 ? dflt : c->value[p];
}

int mbn_vparam(const MbnVariantChoice *c, const char *name) {
    int p = param_index(c->row, name);
    if (p < 0) {
        fprintf(stderr, "mbn: internal error: kernel variant %s has no parameter %s\n",
                c->row->name, name);
        abort();
    }
    return c->value[p];
}

const MbnVariantChoice *mbn_variant_pick(MbnDevice *dev, MbnOp op, int C) {
    const MbnVariantChoice *c = &dev->variants.op[op];
    if (C % c->row->channel_multiple == 0) return c;
    dev->variants.fallbacks[op]++;
    return &dev->variants.generic[op];
}

void mbn_variant_describe(const MbnVariantChoice *c, char *out, size_t len) {
    size_t used = 0;
    int n = snprintf(out, len, "%s", c->row->name);
    for (int p = 0; n >= 0 && (used += (size_t)n) < len && p < c->row->n_params; p++)
        n = snprintf(out + used, len - used, "%s%s=%d", p ? "," : "(", c->row->params[p].name,
                     c->value[p]);
    if (c->row->n_params && used < len) snprintf(out + used, len - used, ")");
}
