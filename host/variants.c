#include "host/variants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "host/device.h"
#include "host/plan.h"

#define ALL_DEVICES CL_DEVICE_TYPE_ALL
#define CPUS CL_DEVICE_TYPE_CPU
#define GPUS (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR)

/* ---- limits of the gpu rows, from their parameter values (in the row's parameter order) ---- */

static const char *limits(const MbnDeviceProfile *info, size_t work_group, size_t local_bytes,
                          char *why, size_t len) {
    if (work_group > info->max_work_group) {
        snprintf(why, len, "work-group of %zu > the device's %zu", work_group,
                 info->max_work_group);
        return why;
    }
    if (local_bytes > info->local_mem_bytes) {
        snprintf(why, len, "%zu bytes of local memory > the device's %llu", local_bytes,
                 info->local_mem_bytes);
        return why;
    }
    return NULL;
}

/* LC, LP, TH, TW: the input tile (at stride 2) and the lane sums */
static const char *check_dw_fwd(const int *v, const MbnDeviceProfile *info, char *why, size_t len) {
    size_t lc = (size_t)v[0], lp = (size_t)v[1], th = (size_t)v[2], tw = (size_t)v[3];
    size_t local = ((th - 1) * 2 + 3) * ((tw - 1) * 2 + 3) * lc + lp * lc + lc;
    return limits(info, lc * lp, local * sizeof(float), why, len);
}

/* LC, LP, TH, TW: the dy tile */
static const char *check_dw_bwd_input(const int *v, const MbnDeviceProfile *info, char *why,
                                      size_t len) {
    size_t lc = (size_t)v[0], lp = (size_t)v[1], th = (size_t)v[2], tw = (size_t)v[3];
    return limits(info, lc * lp, (th + 2) * (tw + 2) * lc * sizeof(float), why, len);
}

/* LC, LP: 9 tap sums per lane */
static const char *check_dw_bwd_weight(const int *v, const MbnDeviceProfile *info, char *why,
                                       size_t len) {
    size_t lc = (size_t)v[0], lp = (size_t)v[1];
    return limits(info, lc * lp, lp * 9 * lc * sizeof(float), why, len);
}

/* LC, LP, LM */
static const char *check_bn_fwd(const int *v, const MbnDeviceProfile *info, char *why, size_t len) {
    size_t lc = (size_t)v[0], lp = (size_t)v[1], lm = (size_t)v[2];
    size_t wg = lc * lp > lm ? lc * lp : lm;
    return limits(info, wg, ((lp + 1) * lc + 3 * lm) * sizeof(float), why, len);
}

/* LC, LP */
static const char *check_bn_bwd(const int *v, const MbnDeviceProfile *info, char *why, size_t len) {
    size_t lc = (size_t)v[0], lp = (size_t)v[1];
    return limits(info, lc * lp, 2 * lp * lc * sizeof(float), why, len);
}

/* BM, BN, BK, TM, TN: A and B tiles, the statistics epilogue's lane sums */
static const char *check_gemm(const int *v, const MbnDeviceProfile *info, char *why, size_t len) {
    size_t bm = (size_t)v[0], bn = (size_t)v[1], bk = (size_t)v[2], tm = (size_t)v[3],
           tn = (size_t)v[4];
    if (bm % tm || bn % tn) {
        snprintf(why, len, "the tile %zux%zu is not a multiple of the block %zux%zu", bm, bn, tm,
                 tn);
        return why;
    }
    size_t local = bk * (bm + 1) + bk * bn + (bm / tm) * bn + bn;
    return limits(info, (bm / tm) * (bn / tn), local * sizeof(float), why, len);
}

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

/* gemm.cl's register tile (cl/prelude.cl): TM rows x TN columns, two cpu vectors, sized by
 * the plan (host/plan.h) for the device's vector registers: 7 x 32 on AVX-512 (7 divides every
 * layer's pixel count at 224, 12544 .. 49), 6 x 16 on AVX2, 6 x 8 on SSE. A tuner may try other
 * row counts (a spilling tile is slow, never wrong: every output is the same in-order sum); TN
 * follows the vector width. */
#define CPU_TILE                                                                                   \
    {"TM", 7, true, {4, 5, 6, 7, 8}}, {                                                            \
        "TN", 32, true, {                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/* Channels per work-item of the cpu rows whose kernels come in two widths: the device's
 * vector width (the plan's default) or half of it. */
#define CPU_VEC                                                                                    \
    {                                                                                              \
        "VEC", 16, false, {                                                                        \
            4, 8, 16                                                                               \
        }                                                                                          \
    }

/* The fp16 inference path's arithmetic on the gpu rows (cl/half_gpu.cl): 1 computes the
 * products and the short sums in half (needs cl_khr_fp16: the plan sets it where the device has
 * the extension), 0 in float on the half-stored values. */
#define HALF_ARITH                                                                                 \
    {                                                                                              \
        "HALF_ARITH", 0, true, {                                                                   \
            0, 1                                                                                   \
        }                                                                                          \
    }

/* GEMM tile of the gpu rows: BM x BN outputs per work-group of (BN / TN) x (BM / TM), K in
 * steps of BK through local memory. Shared by gemm.gpu_tiled and gemm_wgrad.gpu_splitk (one
 * kernel): a tuner changes both rows together. */
/* clang-format off */
#define GPU_TILE                                                                                   \
    {"BM", 64, true, {32, 64, 128}}, {"BN", 64, true, {32, 64, 128}},                              \
    {"BK", 16, true, {8, 16, 32}}, {"TM", 4, true, {2, 4, 8}}, {"TN", 4, true, {2, 4, 8}}
/* clang-format on */

static const MbnVariant table[] = {
    /* ---- cpu ---- */
    {.op = MBN_OP_DW_FWD,
     .family = MBN_FAMILY_CPU,
     .name = "dw_fwd.cpu_row",
     .kernels = "dw_conv3x3_fwd_vec, dw_conv3x3_fwd_half",
     .auto_types = CPUS,
     .channel_multiple = MBN_CHANNELS_CPU_HALF,
     /* VEC: channels per work-item, the device's vector width (plan) where C allows it, else
      * half of it; a tuner may choose the half width everywhere. */
     .n_params = 1,
     .params = {CPU_VEC}},
    {.op = MBN_OP_DW_BWD_INPUT,
     .family = MBN_FAMILY_CPU,
     .name = "dw_bwd_input.cpu_row",
     .kernels = "dw_conv3x3_bwd_input_vec, dw_conv3x3_bwd_input_half",
     .auto_types = CPUS,
     .channel_multiple = MBN_CHANNELS_CPU_HALF,
     .n_params = 1,
     .params = {CPU_VEC}},
    {.op = MBN_OP_DW_BWD_WEIGHT,
     .family = MBN_FAMILY_CPU,
     .name = "dw_bwd_weight.cpu_vec",
     .kernels = "dw_conv3x3_bwd_weight_partial_vec, dw_conv3x3_bwd_weight_partial_half, "
                "channel_reduce_rows",
     .auto_types = CPUS,
     .channel_multiple = MBN_CHANNELS_CPU_HALF,
     .n_params = 3,
     .params = {CHUNKING, CPU_VEC}},
    {.op = MBN_OP_BN_FWD,
     .family = MBN_FAMILY_CPU,
     .name = "bn_fwd.cpu_vec",
     .kernels = "channel_sum_partial_vec|_half, channel_sqdev_partial_vec|_half, "
                "channel_reduce_rows, bn_finalize_stats, bn_relu6_apply_vec|_half",
     .auto_types = CPUS,
     .channel_multiple = MBN_CHANNELS_CPU_HALF,
     .n_params = 3,
     .params = {CHUNKING, CPU_VEC}},
    {.op = MBN_OP_BN_BWD,
     .family = MBN_FAMILY_CPU,
     .name = "bn_bwd.cpu_vec",
     .kernels = "bn_relu6_bwd_partial_vec|_half, bn_bwd_finalize, bn_relu6_bwd_apply_vec|_half",
     .auto_types = CPUS,
     .channel_multiple = MBN_CHANNELS_CPU_HALF,
     .n_params = 3,
     .params = {CHUNKING, CPU_VEC}},
    /* PANEL_FLOATS: B panels (K x TN floats each) a work-item keeps hot, about 256 KiB of L2;
     * RUN: the work-item count the row-tile runs are sized for; KC: k values per block, so the
     * block of B (KC x TN floats, 16 KiB: the plan's KC) stays in L1 across a run of row tiles;
     * MIN_RUN: row tiles a run has at least, while 2 work-items per compute unit remain (small
     * M: batch 1). */
    {.op = MBN_OP_GEMM,
     .family = MBN_FAMILY_CPU,
     .name = "gemm.cpu_tiled",
     .define_prefix = "MBN_GEMM_CPU",
     .kernels = "gemm_tiled",
     .auto_types = CPUS,
     .channel_multiple = 1,
     .n_params = 6,
     .params = {CPU_TILE,
                {"PANEL_FLOATS", 65536, false, {16384, 32768, 65536, 131072, 262144}},
                {"RUN", 256, false, {64, 128, 256, 512, 1024}},
                {"KC", 128, false, {64, 128, 256, 512, 1024, 4096}},
                {"MIN_RUN", 8, false, {1, 4, 8, 16, 32}}}},
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
    /* The stem without im2col: 6 pixels x TN channels a tile, read from the image
     * (cl/conv_stem.cl; the same bits as im2col + gemm.cpu_tiled). Inference only: training
     * keeps the patches for the weight gradient. */
    {.op = MBN_OP_STEM_FWD,
     .family = MBN_FAMILY_CPU,
     .name = "stem_fwd.cpu_direct",
     .kernels = "stem_conv3x3_direct",
     .auto_types = CPUS,
     .channel_multiple = MBN_CHANNELS_CPU_VEC},
    /* Depthwise + pointwise in one kernel, one depthwise output row at a time kept in local
     * memory (cl/depthwise.cl; the same bits as the two cpu rows). For layers whose depthwise
     * output has at least MIN_PIXELS pixels per image (there the activations cross memory) or
     * whose rows fill whole TM-row tiles; a row of 4 or 8 pixels would waste much of the tile
     * (32 px models). C % VEC == 0 and Cout % TN == 0 (else the two ops); the register tile is
     * gemm.cpu_tiled's (TM x TN). */
    {.op = MBN_OP_DWPW_FWD,
     .family = MBN_FAMILY_CPU,
     .name = "dwpw_fwd.cpu_row",
     .kernels = "dw_pw_fwd_vec",
     .auto_types = CPUS,
     .channel_multiple = MBN_CHANNELS_CPU_VEC,
     .n_params = 3,
     /* EXACT_ROWS: also fuse smaller layers whose rows are a multiple of the GEMM's TM pixels
      * (every layer at 224 when TM = 7, where 7 divides 112 .. 7), which waste none of the tile.
      * ROWS_PER_CU: work-items per compute unit at least, by splitting the output channels
      * where there are fewer depthwise rows (batch 1 at 7 x 7: 7 rows for 2 cores). */
     .params = {{"MIN_PIXELS", 784, false, {1, 196, 784, 3136, 12544, 1 << 30}},
                {"EXACT_ROWS", 1, false, {0, 1}},
                {"ROWS_PER_CU", 4, false, {1, 2, 4, 8, 16}}}},
    /* ---- gpu: local-memory tiles, many partial sums (cl/..._gpu.cl) ---- */
    /* LC channels x LP pixel lanes per work-group, a TH x TW output tile (+ halo) in local
     * memory. */
    {.op = MBN_OP_DW_FWD,
     .family = MBN_FAMILY_GPU,
     .name = "dw_fwd.gpu_tile",
     .define_prefix = "MBN_DWF_GPU",
     .kernels = "dw_conv3x3_fwd_tile, half_dw_conv3x3_tile (fp16)",
     .auto_types = GPUS,
     .channel_multiple = 1,
     .n_params = 5,
     .params = {{"LC", 16, true, {8, 16, 32}},
                {"LP", 16, true, {4, 8, 16, 32}},
                {"TH", 8, true, {4, 8, 16}},
                {"TW", 8, true, {4, 8, 16}},
                HALF_ARITH},
     .check = check_dw_fwd},
    {.op = MBN_OP_DW_BWD_INPUT,
     .family = MBN_FAMILY_GPU,
     .name = "dw_bwd_input.gpu_tile",
     .define_prefix = "MBN_DWI_GPU",
     .kernels = "dw_conv3x3_bwd_input_tile",
     .auto_types = GPUS,
     .channel_multiple = 1,
     .n_params = 4,
     .params = {{"LC", 16, true, {8, 16, 32}},
                {"LP", 16, true, {4, 8, 16, 32}},
                {"TH", 8, true, {4, 8, 16}},
                {"TW", 8, true, {4, 8, 16}}},
     .check = check_dw_bwd_input},
    /* LC channels x LP column lanes per chunk of rows; up to CHUNKS chunks of MIN_ROWS rows. */
    {.op = MBN_OP_DW_BWD_WEIGHT,
     .family = MBN_FAMILY_GPU,
     .name = "dw_bwd_weight.gpu_lanes",
     .define_prefix = "MBN_DWW_GPU",
     .kernels = "dw_conv3x3_bwd_weight_lanes, channel_reduce_rows",
     .auto_types = GPUS,
     .channel_multiple = 1,
     .n_params = 4,
     .params = {{"LC", 32, true, {8, 16, 32, 64}},
                {"LP", 8, true, {2, 4, 8, 16, 32}},
                {"CHUNKS", 256, false, {64, 128, 256}},
                {"MIN_ROWS", 4, false, {1, 2, 4, 8, 16}}},
     .check = check_dw_bwd_weight},
    /* Statistics as per-chunk (count, mean, squared deviations) merged in order (LM lanes per
     * channel, then the lanes in order). FUSE: in training, the GEMM and depthwise kernels
     * write the statistics from their epilogues and the next layer applies BN + ReLU6 as it
     * loads its input (model/forward.c), when every op on the way runs its gpu row. */
    {.op = MBN_OP_BN_FWD,
     .family = MBN_FAMILY_GPU,
     .name = "bn_fwd.gpu_fused",
     .define_prefix = "MBN_BNF_GPU",
     .kernels = "bn_stats_partial_lanes or producer epilogues, bn_stats_merge, bn_relu6_apply or "
                "consumer loads",
     .auto_types = GPUS,
     .channel_multiple = 1,
     .n_params = 6,
     .params = {{"LC", 32, true, {8, 16, 32, 64}},
                {"LP", 8, true, {2, 4, 8, 16, 32}},
                {"LM", 64, true, {16, 32, 64, 128, 256}},
                {"CHUNKS", 256, false, {64, 128, 256}},
                {"MIN_ROWS", 16, false, {4, 8, 16, 32, 64}},
                {"FUSE", 1, false, {0, 1}}},
     .check = check_bn_fwd},
    {.op = MBN_OP_BN_BWD,
     .family = MBN_FAMILY_GPU,
     .name = "bn_bwd.gpu_lanes",
     .define_prefix = "MBN_BNB_GPU",
     .kernels = "bn_relu6_bwd_partial_lanes, bn_bwd_finalize, bn_relu6_bwd_apply",
     .auto_types = GPUS,
     .channel_multiple = 1,
     .n_params = 4,
     .params = {{"LC", 32, true, {8, 16, 32, 64}},
                {"LP", 8, true, {2, 4, 8, 16, 32}},
                {"CHUNKS", 256, false, {64, 128, 256}},
                {"MIN_ROWS", 16, false, {4, 8, 16, 32, 64}}},
     .check = check_bn_bwd},
    {.op = MBN_OP_GEMM,
     .family = MBN_FAMILY_GPU,
     .name = "gemm.gpu_tiled",
     .define_prefix = "MBN_GEMM_GPU",
     .kernels = "gemm_gpu, half_gemm_gpu (fp16)",
     .auto_types = GPUS,
     .channel_multiple = 1,
     .n_params = 7,
     /* AUTO_FP16: --precision auto runs fp16 on this device (measured faster there: the
      * database or a user's cache says so; no device is measured yet, so 0 everywhere). */
     .params = {GPU_TILE, HALF_ARITH, {"AUTO_FP16", 0, false, {0, 1}}},
     .check = check_gemm},
    /* Split K into chunks of at least SPLIT_ROWS rows (at most SPLIT_MAX, and as many partial
     * products as the scratch holds), one launch, chunks added in order. */
    {.op = MBN_OP_GEMM_WGRAD,
     .family = MBN_FAMILY_GPU,
     .name = "gemm_wgrad.gpu_splitk",
     .define_prefix = "MBN_GEMM_GPU",
     .kernels = "gemm_gpu, channel_reduce_rows",
     .auto_types = GPUS,
     .channel_multiple = 1,
     .n_params = 7,
     .params = {GPU_TILE,
                {"SPLIT_ROWS", 1024, false, {256, 512, 1024, 2048, 4096}},
                {"SPLIT_MAX", 128, false, {16, 32, 64, 128, 256}}},
     .check = check_gemm},
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
    /* im2col patches, then the device's gemm variant */
    {.op = MBN_OP_STEM_FWD,
     .family = MBN_FAMILY_GENERIC,
     .name = "stem_fwd.im2col_gemm",
     .kernels = "stem_im2col, then the gemm row",
     .auto_types = ALL_DEVICES,
     .channel_multiple = 1},
    /* the depthwise op, then the pointwise op (each through its own row) */
    {.op = MBN_OP_DWPW_FWD,
     .family = MBN_FAMILY_GENERIC,
     .name = "dwpw_fwd.separate",
     .kernels = "the dw_fwd row, then the gemm row",
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

static const char *const op_names[] = {
    "dw_fwd", "dw_bwd_input", "dw_bwd_weight", "bn_fwd",   "bn_bwd",
    "gemm",   "gemm_wgrad",   "stem_fwd",      "dwpw_fwd",
};
_Static_assert(sizeof op_names / sizeof op_names[0] == MBN_OP_COUNT, "a name for every op");
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

int mbn_family_parse(const char *value, int *family) {
    *family = MBN_FAMILY_AUTO;
    if (!value || !*value || strcmp(value, "auto") == 0) return MBN_OK;
    for (int f = 0; f < MBN_FAMILY_COUNT; f++)
        if (strcmp(value, family_names[f]) == 0) {
            *family = f;
            return MBN_OK;
        }
    return mbn_fail(MBN_EUSAGE, "MBN_KERNELS=%s: expected auto, generic, cpu or gpu", value);
}

static const char *values_fail(const MbnVariant *row, const int *values, const MbnDeviceProfile *p,
                               char *why, size_t len) {
    if (row->vendor_contains && !strstr(p->vendor, row->vendor_contains)) return "another vendor";
    if (row->extension && !(strcmp(row->extension, "cl_khr_fp16") == 0 && p->fp16) &&
        !(strcmp(row->extension, "cl_khr_subgroups") == 0 && p->subgroups))
        return "a missing extension";
    if (row->min_local_mem && p->local_mem_bytes < row->min_local_mem)
        return "too little local memory";
    if (row->min_work_group && p->max_work_group < row->min_work_group)
        return "too small a work-group limit";
    return row->check ? row->check(values, p, why, len) : NULL;
}

bool mbn_variant_suits(const MbnVariant *row, const MbnDeviceProfile *p) {
    int v[MBN_VARIANT_MAX_PARAMS];
    char why[160];
    mbn_plan_row(p, row, v);
    return values_fail(row, v, p, why, sizeof why) == NULL;
}

static int row_index(const MbnVariant *row) {
    return (int)(row - table);
}

static void choose(const MbnVariantSet *set, MbnVariantChoice *c, const MbnVariant *row) {
    memset(c, 0, sizeof *c);
    c->row = row;
    for (int p = 0; p < row->n_params; p++)
        c->value[p] = set->planned[row_index(row)][p];
}

static int resolve(MbnVariantSet *set, const MbnDeviceProfile *p, int family, bool no_gpu) {
    _Static_assert(TABLE_ROWS <= MBN_VARIANT_TABLE_MAX, "MBN_VARIANT_TABLE_MAX holds the table");
    memset(set, 0, sizeof *set);
    set->profile = *p;
    set->cpu_vec = mbn_plan_cpu_vec(p);
    set->family = family;
    set->no_gpu_kernels = no_gpu;
    for (int i = 0; i < TABLE_ROWS; i++)
        mbn_plan_row(p, &table[i], set->planned[i]);
    for (int op = 0; op < MBN_OP_COUNT; op++) {
        const MbnVariant *generic = NULL, *pick = NULL;
        for (int i = 0; i < TABLE_ROWS; i++) {
            const MbnVariant *r = &table[i];
            if (r->op != (MbnOp)op) continue;
            if (r->family == MBN_FAMILY_GENERIC && !generic) generic = r;
            if (pick || !mbn_variant_suits(r, p)) continue;
            if (no_gpu && r->family == MBN_FAMILY_GPU) continue;
            if (family == MBN_FAMILY_AUTO ? (r->auto_types & p->type) != 0
                                          : r->family == (MbnFamily)family)
                pick = r;
        }
        if (!generic)
            return mbn_fail(MBN_EFAIL, "variant table: op %s has no generic row", op_names[op]);
        choose(set, &set->generic[op], generic);
        choose(set, &set->op[op], pick ? pick : generic);
    }
    return MBN_OK;
}

int mbn_variants_resolve(MbnVariantSet *set, const MbnDeviceProfile *p, int family) {
    return resolve(set, p, family, false);
}

int mbn_variants_resolve_without_gpu(MbnVariantSet *set, const MbnDeviceProfile *p, int family) {
    return resolve(set, p, family, true);
}

int mbn_variants_candidates(const MbnDeviceProfile *p, MbnOp op, const MbnVariant **rows, int max) {
    int n = 0;
    for (int i = 0; i < TABLE_ROWS; i++) {
        if (table[i].op != op || !mbn_variant_suits(&table[i], p)) continue;
        if (n < max) rows[n] = &table[i];
        n++;
    }
    return n;
}

int mbn_variant_param_candidates(const MbnVariantSet *set, const MbnVariant *row, int param,
                                 int *out, int max) {
    return mbn_plan_candidates(&set->profile, row, param, out, max);
}

static int param_index(const MbnVariant *row, const char *name) {
    for (int p = 0; p < row->n_params; p++)
        if (strcmp(row->params[p].name, name) == 0) return p;
    return -1;
}

/* Whether parameter p of row a and parameter q of row b are one define (one kernel reads it). */
static bool same_define(const MbnVariant *a, int p, const MbnVariant *b, int q) {
    return a->params[p].define && b->params[q].define && a->define_prefix && b->define_prefix &&
           strcmp(a->define_prefix, b->define_prefix) == 0 &&
           strcmp(a->params[p].name, b->params[q].name) == 0;
}

/* The values of the defines op's choice c shares with the rows chosen for the other ops
 * (gemm.cpu_tiled and gemm_wgrad.cpu_tiled run one kernel: one TM): into c (a row just chosen
 * takes the others' values) or from c into the others (values just set reach them). */
static void sync_shared(MbnVariantSet *set, MbnOp op, MbnVariantChoice *c, bool into_c) {
    for (int o = 0; o < MBN_OP_COUNT; o++) {
        MbnVariantChoice *other = &set->op[o];
        if (o == (int)op || !other->row) continue;
        for (int p = 0; p < c->row->n_params; p++)
            for (int q = 0; q < other->row->n_params; q++) {
                if (!same_define(c->row, p, other->row, q)) continue;
                MbnVariantChoice *to = into_c ? c : other, *from = into_c ? other : c;
                int tp = into_c ? p : q, fp = into_c ? q : p;
                to->value[tp] = from->value[fp];
                to->source[tp] = from->source[fp];
            }
    }
}

int mbn_variants_override(MbnVariantSet *set, const MbnVariantOverride *ov) {
    const MbnDeviceProfile *info = &set->profile;
    if (ov->op < 0 || ov->op >= MBN_OP_COUNT)
        return mbn_fail(MBN_EUSAGE, "kernel variant override: no op %d", (int)ov->op);
    MbnVariantChoice c = set->op[ov->op];
    MbnParamSource source = ov->source == MBN_PARAM_DEVICE ? MBN_PARAM_TUNED : ov->source;
    if (ov->row) {
        const MbnVariant *r = mbn_variant_find(ov->row);
        if (!r) return mbn_fail(MBN_EUSAGE, "kernel variant %s: no such row", ov->row);
        if (r->op != ov->op)
            return mbn_fail(MBN_EUSAGE, "kernel variant %s does not implement %s", ov->row,
                            op_names[ov->op]);
        if (!mbn_variant_suits(r, info) || (set->no_gpu_kernels && r->family == MBN_FAMILY_GPU))
            return mbn_fail(MBN_EUSAGE, "kernel variant %s does not suit device %s", ov->row,
                            info->name);
        if (r != c.row) {
            choose(set, &c, r);
            sync_shared(set, ov->op, &c, true);
        }
    }
    for (int i = 0; i < ov->n; i++) {
        int p = param_index(c.row, ov->param[i]);
        if (p < 0)
            return mbn_fail(MBN_EUSAGE, "kernel variant %s has no parameter %s", c.row->name,
                            ov->param[i]);
        const MbnVariantParam *vp = &c.row->params[p];
        int cand[MBN_VARIANT_MAX_CANDIDATES + 1];
        int nc = mbn_plan_candidates(info, c.row, p, cand, MBN_VARIANT_MAX_CANDIDATES + 1);
        bool ok = ov->value[i] == c.value[p];
        for (int k = 0; k < nc && k <= MBN_VARIANT_MAX_CANDIDATES; k++)
            ok = ok || cand[k] == ov->value[i];
        if (!ok)
            return mbn_fail(MBN_EUSAGE,
                            "kernel variant %s: %s=%d is not one of its candidates on %s",
                            c.row->name, vp->name, ov->value[i], info->name);
        c.value[p] = ov->value[i];
        c.source[p] = (unsigned char)source;
    }
    char why[160];
    const char *fail = values_fail(c.row, c.value, info, why, sizeof why);
    if (fail)
        return mbn_fail(MBN_EUSAGE, "kernel variant %s with these parameters does not suit %s: %s",
                        c.row->name, info->name, fail);
    c.overridden = c.overridden || source == MBN_PARAM_TUNED;
    set->op[ov->op] = c;
    sync_shared(set, ov->op, &set->op[ov->op], false);
    return MBN_OK;
}

/* The values a row's parameters have on this device: the chosen ones when it is chosen. */
static const int *row_values(const MbnVariantSet *set, const MbnVariant *row) {
    if (set->op[row->op].row == row) return set->op[row->op].value;
    return set->planned[row_index(row)];
}

/* Appends the row's defines; a define already there: chosen rows must agree with it (they
 * are launched), the others keep the value already there (they are not). */
static int row_options(const MbnVariant *r, const int *v, bool chosen, char *out, size_t len) {
    size_t used = strlen(out);
    for (int p = 0; p < r->n_params; p++) {
        if (!r->params[p].define) continue;
        char def[128];
        snprintf(def, sizeof def, " -D%s_%s=", r->define_prefix, r->params[p].name);
        const char *seen = strstr(out, def);
        if (seen) {
            int there = atoi(seen + strlen(def));
            if (chosen && there != v[p])
                return mbn_fail(MBN_EFAIL,
                                "kernel variants disagree on %s_%s (%d in %s, another chosen row "
                                "sets %d)",
                                r->define_prefix, r->params[p].name, v[p], r->name, there);
            continue;
        }
        int n = snprintf(out + used, len - used, "%s%d", def, v[p]);
        if (n < 0 || (size_t)n >= len - used)
            return mbn_fail(MBN_EFAIL, "kernel build options longer than %zu bytes", len);
        used += (size_t)n;
    }
    return MBN_OK;
}

int mbn_variants_build_options(const MbnVariantSet *set, char *out, size_t len) {
    size_t used = strlen(out);
    int n = snprintf(out + used, len - used, " -DMBN_CPU_VEC=%d", set->cpu_vec);
    if (n < 0 || (size_t)n >= len - used)
        return mbn_fail(MBN_EFAIL, "kernel build options longer than %zu bytes", len);
    /* chosen rows first, so their values win over the defaults of rows sharing a define */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < TABLE_ROWS; i++) {
            const MbnVariant *r = &table[i];
            bool chosen = set->op[r->op].row == r;
            if (chosen != (pass == 0)) continue;
            MBN_TRY(row_options(r, row_values(set, r), chosen, out, len));
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

static int half_width(int vec) {
    return vec >= 8 ? vec / 2 : 0;
}

static int channel_multiple(const MbnVariantSet *set, const MbnVariant *row) {
    if (row->channel_multiple == MBN_CHANNELS_CPU_VEC) return set->cpu_vec;
    if (row->channel_multiple == MBN_CHANNELS_CPU_HALF)
        return half_width(set->cpu_vec) ? half_width(set->cpu_vec) : set->cpu_vec;
    return row->channel_multiple;
}

const MbnVariantChoice *mbn_variant_pick(MbnDevice *dev, MbnOp op, int C) {
    const MbnVariantChoice *c = &dev->variants.op[op];
    if (C % channel_multiple(&dev->variants, c->row) == 0) return c;
    dev->variants.fallbacks[op]++;
    return &dev->variants.generic[op];
}

int mbn_variant_cpu_width(const MbnVariantSet *set, const MbnVariantChoice *c, int C) {
    int vec = set->cpu_vec, half = half_width(vec);
    if (mbn_vparam_or(c, "VEC", vec) == vec && C % vec == 0) return vec;
    return half && C % half == 0 ? half : 0;
}

const char *mbn_param_source_name(MbnParamSource s) {
    return s == MBN_PARAM_DATABASE ? "database" : s == MBN_PARAM_TUNED ? "tuned" : "device";
}

void mbn_variant_describe(const MbnVariantChoice *c, char *out, size_t len) {
    size_t used = 0;
    int n = snprintf(out, len, "%s", c->row->name);
    for (int p = 0; n >= 0 && (used += (size_t)n) < len && p < c->row->n_params; p++)
        n = snprintf(out + used, len - used, "%s%s=%d", p ? "," : "(", c->row->params[p].name,
                     c->value[p]);
    if (c->row->n_params && used < len) snprintf(out + used, len - used, ")");
}
