/* The kernel-variant table: for every op with more than one implementation, the rows that
 * implement it, which devices each suits, its kernels and its parameters. It is resolved once
 * per device when the device is opened (mbn_device_open) and then drives every kernel choice in
 * model/ops_*.c; nothing else looks at the device type.
 *
 * A row belongs to a family:
 *   generic  one work-item per element and CLBlast GEMMs; runs on any device and any shape;
 *            every op has one, and it is what a row falls back to when a shape does not suit it;
 *   cpu      kernels written for CPU devices (PoCL): a work-item owns 8 channels as float8 over a
 *            run of rows, register-tiled GEMMs with work-groups of one work-item;
 *   gpu      kernels written for GPUs: work-groups that tile space x channels with the input
 *            tile in local memory, many independent partial sums, local-memory tiled GEMMs.
 * Selection (auto): per op, the first row in table order whose auto_types include the device's
 * type and whose requirements (vendor, extension, local memory, work-group size) hold; the
 * generic row otherwise. Selection and parameters are a pure function of the device's profile
 * (host/device_profile.h): the plan (host/plan.h) sizes each row's parameters for it.
 * MBN_KERNELS=generic|cpu|gpu (read once when a device is opened; default auto) forces a family on
 * any device: per op, the first row of that family whose requirements hold, the generic row when
 * the family has none for the op.
 *
 * Parameters: each row carries named integer parameters, valued by the plan for the device (the
 * table's `value` is the default of parameters the plan does not size), then by the shipped
 * tuning database and the user's tuning cache (mbn_variants_override), each value remembering
 * where it came from (MbnParamSource). Those marked `define` reach the
 * kernels as -D<define_prefix>_<name>=<value> in the program's build options (and so in the
 * program cache key); the host reads the same values through mbn_vparam(), so tile sizes, chunk
 * and partial counts can never disagree between host and kernel. The options always define the
 * parameters of every row (chosen values for the chosen rows, defaults for the others), so
 * every kernel compiles on every device; two chosen rows that share a define (gemm.gpu_tiled and
 * gemm_wgrad.gpu_splitk, gemm.cpu_tiled and gemm_wgrad.cpu_tiled: one kernel) hold one value:
 * an override of it reaches both, and a row chosen by an override takes the other's.
 *
 * Tuning (mbn tune): mbn_variants_candidates() lists the rows an op can use on a device and
 * each parameter's candidate values; mbn_device_open_with() applies overrides (a row and
 * parameter values per op) before the program is built. Overrides are validated: the row must
 * implement the op and suit the device, each value must be one of the parameter's candidates.
 *
 * Determinism: for a given device, table row and parameter values, every op gives the same bits
 * run after run (reductions in a fixed order). Changing a row or a parameter may change the
 * rounding of reductions (a different chunking), never their correctness. */
#ifndef MBN_HOST_VARIANTS_H
#define MBN_HOST_VARIANTS_H
#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>

#include "host/device_profile.h"

struct MbnDevice;

typedef enum {
    MBN_FAMILY_GENERIC,
    MBN_FAMILY_CPU,
    MBN_FAMILY_GPU,
    MBN_FAMILY_COUNT,
    MBN_FAMILY_AUTO = -1,
} MbnFamily;

typedef enum {
    MBN_OP_DW_FWD,        /* depthwise 3x3 forward (+ folded bias and ReLU6) */
    MBN_OP_DW_BWD_INPUT,  /* depthwise input gradient */
    MBN_OP_DW_BWD_WEIGHT, /* depthwise weight gradient: two-stage reduction over rows */
    MBN_OP_BN_FWD,        /* training BatchNorm: statistics, running stats, apply + ReLU6 */
    MBN_OP_BN_BWD,        /* BatchNorm + ReLU6 backward: dgamma/dbeta reduction, then dz */
    MBN_OP_GEMM,          /* stem, pointwise and classifier forward and input-gradient GEMMs */
    MBN_OP_GEMM_WGRAD,    /* stem and pointwise weight gradients (split K) */
    MBN_OP_STEM_FWD,      /* stem 3x3 conv forward in inference (+ folded bias and ReLU6) */
    MBN_OP_DWPW_FWD,      /* a depthwise layer and the pointwise after it, in inference */
    MBN_OP_COUNT
} MbnOp;

#define MBN_VARIANT_MAX_PARAMS 10
#define MBN_VARIANT_MAX_CANDIDATES 8
#define MBN_VARIANT_TABLE_MAX 40

/* channel_multiple of the cpu rows whose kernels come in the device's vector width and half
 * of it (cl/prelude.cl): C must be a multiple of the half width (of the width when there is no
 * half, at 4); of the stem and the fused depthwise + pointwise rows: of the full width. */
#define MBN_CHANNELS_CPU_HALF (-1)
#define MBN_CHANNELS_CPU_VEC (-2)

typedef struct {
    const char *name; /* e.g. "TM"; the define is <define_prefix>_<name> */
    int value;        /* default */
    bool define;      /* passed to the kernels as -D (else read by the host only) */
    /* Values a tuner may choose from, the default among them; the zeros after the last nonzero
     * value are padding, so 0 may be a candidate before it ({0, 1}). Empty: the parameter is
     * fixed (a kernel's structure depends on it). Read through mbn_vparam_candidates. */
    int candidates[MBN_VARIANT_MAX_CANDIDATES];
} MbnVariantParam;

/* The number of candidates of vp: up to its last nonzero entry (inline: the plan, which the
 * table's users call, reads it too, and calls go one way, table to plan). */
static inline int mbn_vparam_candidates(const MbnVariantParam *vp) {
    int n = MBN_VARIANT_MAX_CANDIDATES;
    while (n > 0 && vp->candidates[n - 1] == 0)
        n--;
    return n;
}

typedef struct {
    MbnOp op;
    MbnFamily family;
    const char *name;          /* unique and stable (tuning caches store it), "<op>.<variant>" */
    const char *define_prefix; /* e.g. "MBN_GEMM_CPU"; NULL when no parameter is a define */
    const char *kernels;       /* the kernels it launches, for listings ("clblast" for CLBlast) */
    /* Which devices it suits. */
    cl_device_type auto_types;   /* device types auto mode picks it for (0: only when forced) */
    const char *vendor_contains; /* NULL: any vendor */
    const char *extension;       /* an OpenCL extension it needs, NULL: none */
    size_t min_local_mem;        /* bytes of local memory it needs */
    size_t min_work_group;       /* work-group size it needs (its LX * LY) */
    /* Which shapes it handles; others fall back to the op's generic row. */
    int channel_multiple; /* C % channel_multiple == 0 (1: any; or MBN_CHANNELS_CPU_*) */
    /* Parameters. The work-group size of gpu rows derives from them (LC x LP, or the GEMM tile
     * over its per-work-item block); cpu rows use one work-item or one output row per
     * work-group, generic rows the driver's choice. */
    int n_params;
    MbnVariantParam params[MBN_VARIANT_MAX_PARAMS];
    /* Limits that depend on the parameter values (work-group size, local memory bytes), checked
     * against the device with the values in use; NULL: none. Returns NULL when they hold, else
     * a reason. */
    const char *(*check)(const int *values, const MbnDeviceProfile *p, char *why, size_t why_len);
} MbnVariant;

/* Where a parameter's value comes from. */
typedef enum {
    MBN_PARAM_DEVICE,   /* the plan, from the device's profile (host/plan.h) */
    MBN_PARAM_DATABASE, /* the tuning database shipped with mbn (tune/database.h) */
    MBN_PARAM_TUNED,    /* the user's tuning cache, written by `mbn tune` */
} MbnParamSource;

const char *mbn_param_source_name(MbnParamSource s); /* "device", "database", "tuned" */

/* A row chosen for a device, with the parameter values in use (defaults or overrides). */
typedef struct {
    const MbnVariant *row;
    int value[MBN_VARIANT_MAX_PARAMS];
    unsigned char source[MBN_VARIANT_MAX_PARAMS]; /* MbnParamSource of each value */
    bool overridden; /* values or row set by mbn_variants_override (a tuner) */
} MbnVariantChoice;

/* What a device uses, per op; lives in MbnDevice. */
typedef struct {
    MbnDeviceProfile profile; /* what the rows and their values were chosen for */
    int cpu_vec;              /* MBN_CPU_VEC: the cpu family's vector width (host/plan.h) */
    int family;               /* MBN_FAMILY_AUTO or the family MBN_KERNELS forced */
    MbnVariantChoice op[MBN_OP_COUNT];
    MbnVariantChoice generic[MBN_OP_COUNT]; /* the shape fallback of each op */
    /* Calls that fell back to the generic row because the shape did not suit the chosen row
     * (counted, reported by mbn bench --json and, when a family is forced, at device close). */
    unsigned long fallbacks[MBN_OP_COUNT];
    /* The gpu family's kernels failed to build on this device: its rows are not used (and its
     * source files are left out of the program). */
    bool no_gpu_kernels;
    /* The plan's values of every table row's parameters (the defines of rows not chosen). */
    int planned[MBN_VARIANT_TABLE_MAX][MBN_VARIANT_MAX_PARAMS];
} MbnVariantSet;

/* One tuner decision: use `row` (NULL: keep the resolved row) for `op`, with these parameter
 * values (the others keep their defaults). */
typedef struct {
    MbnOp op;
    const char *row;
    int n;
    const char *param[MBN_VARIANT_MAX_PARAMS];
    int value[MBN_VARIANT_MAX_PARAMS];
    MbnParamSource source; /* what the values are recorded as (0: MBN_PARAM_DEVICE is taken as
                              MBN_PARAM_TUNED: a tuner's decision) */
} MbnVariantOverride;

const char *mbn_op_name(MbnOp op);
const char *mbn_family_name(int family); /* "auto" for MBN_FAMILY_AUTO */

/* The whole table (for listings and tests). */
const MbnVariant *mbn_variant_table(int *count);
const MbnVariant *mbn_variant_find(const char *name);

/* A value of MBN_KERNELS (read by host/device.h's mbn_device_env): auto (default, also when
 * NULL or empty), generic, cpu or gpu; anything else is a usage error naming MBN_KERNELS. */
int mbn_family_parse(const char *value, int *family);

/* Whether the row's device requirements (vendor, extension, local memory, work-group size, and
 * its check with the plan's values) hold on this device. */
bool mbn_variant_suits(const MbnVariant *row, const MbnDeviceProfile *p);

/* Resolves every op for the device: auto when family is MBN_FAMILY_AUTO, else that family. */
int mbn_variants_resolve(MbnVariantSet *set, const MbnDeviceProfile *p, int family);
/* The same with the gpu rows ruled out (their kernels did not build on the device). */
int mbn_variants_resolve_without_gpu(MbnVariantSet *set, const MbnDeviceProfile *p, int family);

/* The rows that can run op on this device (any family, requirements checked), in table order.
 * Returns how many there are; stores up to max of them. */
int mbn_variants_candidates(const MbnDeviceProfile *p, MbnOp op, const MbnVariant **rows, int max);

/* The values a tuner may give parameter `param` of `row` on the set's device
 * (mbn_plan_candidates). */
int mbn_variant_param_candidates(const MbnVariantSet *set, const MbnVariant *row, int param,
                                 int *out, int max);

/* Applies a tuner decision (validated as described above; MBN_EUSAGE naming the row or the
 * parameter otherwise). Call before the program is built: see mbn_device_open_with. */
int mbn_variants_override(MbnVariantSet *set, const MbnVariantOverride *ov);

/* The -D defines of every row (chosen values for chosen rows, defaults for the others; a
 * define shared with a chosen row takes the chosen row's value), space-separated, appended to
 * out; fails when two chosen rows define one name differently or out is too small. */
int mbn_variants_build_options(const MbnVariantSet *set, char *out, size_t len);

/* A parameter of a chosen row by name. An unknown name is a bug in mbn (aborts with a message
 * naming the row and the parameter). */
int mbn_vparam(const MbnVariantChoice *c, const char *name);
/* The same, with a default when the row has no such parameter. */
int mbn_vparam_or(const MbnVariantChoice *c, const char *name, int dflt);

/* The row an op runs for a tensor of C channels on this device: the chosen row when the shape
 * suits it, else the op's generic row (counted in fallbacks). */
const MbnVariantChoice *mbn_variant_pick(struct MbnDevice *dev, MbnOp op, int C);

/* The channels per work-item of a cpu row's kernel for C channels: its VEC when C allows it,
 * else the half width (the "_half" kernels), 0 when neither divides C. */
int mbn_variant_cpu_width(const MbnVariantSet *set, const MbnVariantChoice *c, int C);

/* "row(name=value,...)", e.g. "gemm.cpu_tiled(TM=7,TN=32,PANEL_FLOATS=65536,RUN=256)". */
void mbn_variant_describe(const MbnVariantChoice *c, char *out, size_t len);

#endif
