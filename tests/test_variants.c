/* The kernel-variant table (host/variants.h) on made-up devices, no OpenCL needed: every op has
 * a generic row; auto picks the cpu rows on a CPU and never a cpu row on a GPU; MBN_KERNELS
 * forces a family and rejects anything else naming MBN_KERNELS; requirements (extensions,
 * local memory, work-group size) exclude rows; overrides are validated; the build options
 * carry every define once and the chosen (tuned) values; a shape a row does not handle falls
 * back to the generic row and is counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "host/device.h"
#include "host/variants.h"
#include "tests/support/testutil.h"

/* A made-up device: CPUs with AVX-512's 16 floats x 32 registers unless `avx2`. */
static MbnDeviceProfile fake(cl_device_type type, const char *vendor, size_t local, size_t wg,
                             bool avx2) {
    MbnDeviceProfile d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "fake %s", type == CL_DEVICE_TYPE_CPU ? "cpu" : "gpu");
    snprintf(d.vendor, sizeof d.vendor, "%s", vendor);
    d.type = type;
    d.local_mem_bytes = local;
    d.local_mem_dedicated = type == CL_DEVICE_TYPE_GPU;
    d.max_work_group = wg;
    d.fma = true;
    d.vector_floats = type == CL_DEVICE_TYPE_CPU ? (avx2 ? 8 : 16) : 1;
    d.vector_registers = type == CL_DEVICE_TYPE_CPU ? (avx2 ? 16 : 32) : 0;
    d.simd_width = type == CL_DEVICE_TYPE_CPU ? 1 : 32;
    return d;
}

static void test_table_shape(void) {
    int n = 0;
    const MbnVariant *t = mbn_variant_table(&n);
    T_CHECK(n > 0, "empty table");
    for (int op = 0; op < MBN_OP_COUNT; op++) {
        int generic = 0;
        for (int i = 0; i < n; i++)
            if (t[i].op == (MbnOp)op && t[i].family == MBN_FAMILY_GENERIC) {
                generic++;
                /* A fallback must handle every shape and every device. */
                T_CHECK(t[i].channel_multiple == 1 && !t[i].extension && !t[i].min_local_mem &&
                            !t[i].min_work_group && !t[i].vendor_contains,
                        "%s: a generic row with requirements", t[i].name);
            }
        T_CHECK(generic >= 1, "op %s has no generic row", mbn_op_name((MbnOp)op));
    }
    for (int i = 0; i < n; i++) {
        T_CHECK(mbn_variant_find(t[i].name) == &t[i], "row %s: name not unique", t[i].name);
        T_CHECK(strncmp(t[i].name, mbn_op_name(t[i].op), strlen(mbn_op_name(t[i].op))) == 0,
                "row %s is not named after its op %s", t[i].name, mbn_op_name(t[i].op));
        T_CHECK(t[i].channel_multiple >= 1 || (t[i].family == MBN_FAMILY_CPU &&
                                               (t[i].channel_multiple == MBN_CHANNELS_CPU_HALF ||
                                                t[i].channel_multiple == MBN_CHANNELS_CPU_VEC)),
                "%s: channel_multiple %d", t[i].name, t[i].channel_multiple);
        for (int p = 0; p < t[i].n_params; p++) {
            const MbnVariantParam *vp = &t[i].params[p];
            T_CHECK(!vp->define || t[i].define_prefix, "%s.%s: a define without a prefix",
                    t[i].name, vp->name);
            int nc = mbn_vparam_candidates(vp);
            bool listed = nc == 0;
            for (int k = 0; k < nc; k++)
                listed = listed || vp->candidates[k] == vp->value;
            T_CHECK(listed, "%s.%s: the default %d is not a candidate", t[i].name, vp->name,
                    vp->value);
        }
    }
}

static void test_auto(void) {
    MbnDeviceProfile cpu = fake(CL_DEVICE_TYPE_CPU, "GenuineIntel", 1 << 20, 4096, false);
    MbnDeviceProfile gpu = fake(CL_DEVICE_TYPE_GPU, "NVIDIA Corporation", 48 << 10, 1024, false);
    MbnVariantSet s;
    T_MBN(mbn_variants_resolve(&s, &cpu, MBN_FAMILY_AUTO));
    T_CHECK(s.op[MBN_OP_GEMM].row->family == MBN_FAMILY_CPU, "CPU gemm: %s",
            s.op[MBN_OP_GEMM].row->name);
    T_CHECK(s.op[MBN_OP_DW_FWD].row->family == MBN_FAMILY_CPU, "CPU dw_fwd: %s",
            s.op[MBN_OP_DW_FWD].row->name);
    T_MBN(mbn_variants_resolve(&s, &gpu, MBN_FAMILY_AUTO));
    for (int op = 0; op < MBN_OP_COUNT; op++) {
        T_CHECK(s.op[op].row->family != MBN_FAMILY_CPU, "a GPU got cpu row %s", s.op[op].row->name);
        T_CHECK(s.generic[op].row->family == MBN_FAMILY_GENERIC, "fallback of %s is %s",
                mbn_op_name((MbnOp)op), s.generic[op].row->name);
    }
}

static void test_forced(void) {
    MbnDeviceProfile gpu = fake(CL_DEVICE_TYPE_GPU, "AMD", 64 << 10, 256, false);
    MbnDeviceProfile cpu = fake(CL_DEVICE_TYPE_CPU, "GenuineIntel", 1 << 20, 4096, false);
    MbnVariantSet s;
    for (int f = 0; f < MBN_FAMILY_COUNT; f++) {
        T_MBN(mbn_variants_resolve(&s, &cpu, f));
        for (int op = 0; op < MBN_OP_COUNT; op++)
            T_CHECK(s.op[op].row->family == (MbnFamily)f ||
                        s.op[op].row->family == MBN_FAMILY_GENERIC,
                    "forced %s gave %s", mbn_family_name(f), s.op[op].row->name);
    }
    /* cpu forced on a GPU: the cpu rows (they run anywhere) */
    T_MBN(mbn_variants_resolve(&s, &gpu, MBN_FAMILY_CPU));
    T_CHECK(s.op[MBN_OP_GEMM].row->family == MBN_FAMILY_CPU, "cpu forced on a GPU: %s",
            s.op[MBN_OP_GEMM].row->name);
    T_MBN(mbn_variants_resolve(&s, &cpu, MBN_FAMILY_GENERIC));
    for (int op = 0; op < MBN_OP_COUNT; op++)
        T_CHECK(s.op[op].row->family == MBN_FAMILY_GENERIC, "generic forced gave %s",
                s.op[op].row->name);

    static const char *good[] = {"", "auto", "generic", "cpu", "gpu"};
    static const int want[] = {MBN_FAMILY_AUTO, MBN_FAMILY_AUTO, MBN_FAMILY_GENERIC, MBN_FAMILY_CPU,
                               MBN_FAMILY_GPU};
    for (int i = 0; i < 5; i++) {
        setenv("MBN_KERNELS", good[i], 1);
        MbnDeviceEnv env;
        T_CHECK(mbn_device_env(&env) == MBN_OK && env.family == want[i], "MBN_KERNELS=%s -> %d",
                good[i], env.family);
    }
    setenv("MBN_KERNELS", "fast", 1);
    MbnDeviceEnv env;
    int rc = mbn_device_env(&env);
    T_CHECK(rc == MBN_EUSAGE && strstr(mbn_last_error(), "MBN_KERNELS=fast"),
            "bad MBN_KERNELS: rc %d, %s", rc, mbn_last_error());
    unsetenv("MBN_KERNELS");
    setenv("MBN_NO_TUNING", "1", 1);
    T_CHECK(mbn_device_env(&env) == MBN_OK && env.no_tuning && env.family == MBN_FAMILY_AUTO,
            "MBN_NO_TUNING=1");
    unsetenv("MBN_NO_TUNING");
}

static void test_requirements(void) {
    int n = 0;
    const MbnVariant *t = mbn_variant_table(&n);
    MbnDeviceProfile tiny = fake(CL_DEVICE_TYPE_GPU, "Tiny", 0, 1, false);
    MbnDeviceProfile big = fake(CL_DEVICE_TYPE_GPU, "Big", 1 << 20, 4096, false);
    for (int i = 0; i < n; i++) {
        if (t[i].min_local_mem || t[i].min_work_group || t[i].extension || t[i].vendor_contains)
            T_CHECK(!mbn_variant_suits(&t[i], &tiny), "%s suits a device without local memory",
                    t[i].name);
        if (t[i].family == MBN_FAMILY_GENERIC)
            T_CHECK(mbn_variant_suits(&t[i], &tiny), "generic %s does not suit every device",
                    t[i].name);
        if (!t[i].extension && !t[i].vendor_contains)
            T_CHECK(mbn_variant_suits(&t[i], &big), "%s does not suit a big device", t[i].name);
    }
    /* On the tiny device every op resolves to a row that suits it, whatever is forced. */
    for (int f = MBN_FAMILY_AUTO; f < MBN_FAMILY_COUNT; f++) {
        MbnVariantSet s;
        T_MBN(mbn_variants_resolve(&s, &tiny, f));
        for (int op = 0; op < MBN_OP_COUNT; op++)
            T_CHECK(mbn_variant_suits(s.op[op].row, &tiny), "%s chosen on a tiny device",
                    s.op[op].row->name);
    }
    const MbnVariant *rows[32];
    int c = mbn_variants_candidates(&big, MBN_OP_GEMM, rows, 32);
    T_CHECK(c >= 2, "gemm candidates on a big GPU: %d", c);
    for (int i = 0; i < c && i < 32; i++)
        T_CHECK(rows[i]->op == MBN_OP_GEMM, "candidate %s is not a gemm", rows[i]->name);
}

static void test_overrides_and_options(void) {
    MbnDeviceProfile cpu = fake(CL_DEVICE_TYPE_CPU, "GenuineIntel", 1 << 20, 4096, false);
    MbnVariantSet s;
    T_MBN(mbn_variants_resolve(&s, &cpu, MBN_FAMILY_AUTO));
    char opts[4096] = "-cl-std=CL1.2";
    T_MBN(mbn_variants_build_options(&s, opts, sizeof opts));
    T_CHECK(strstr(opts, " -DMBN_GEMM_CPU_TM=7") && strstr(opts, " -DMBN_GEMM_CPU_TN=32") &&
                strstr(opts, " -DMBN_CPU_VEC=16"),
            "options: %s", opts);
    const char *first = strstr(opts, "MBN_GEMM_CPU_TM=");
    T_CHECK(first && !strstr(first + 1, "MBN_GEMM_CPU_TM="), "a define twice: %s", opts);

    MbnVariantOverride ok = {
        .op = MBN_OP_GEMM, .row = "gemm.cpu_tiled", .n = 1, .param = {"RUN"}, .value = {512}};
    T_MBN(mbn_variants_override(&s, &ok));
    T_CHECK(mbn_vparam(&s.op[MBN_OP_GEMM], "RUN") == 512 && s.op[MBN_OP_GEMM].overridden,
            "override not applied");
    MbnVariantOverride bad_value = {
        .op = MBN_OP_GEMM, .row = NULL, .n = 1, .param = {"RUN"}, .value = {333}};
    T_CHECK(mbn_variants_override(&s, &bad_value) == MBN_EUSAGE &&
                strstr(mbn_last_error(), "RUN=333"),
            "a value outside the candidates: %s", mbn_last_error());
    /* 0 is a candidate where a nonzero value follows it: TRANSPOSE {0, 1}. */
    MbnVariantOverride no_transpose = {
        .op = MBN_OP_GEMM_WGRAD, .row = NULL, .n = 1, .param = {"TRANSPOSE"}, .value = {0}};
    T_MBN(mbn_variants_override(&s, &no_transpose));
    T_CHECK(mbn_vparam(&s.op[MBN_OP_GEMM_WGRAD], "TRANSPOSE") == 0, "TRANSPOSE=0 not applied");
    const MbnVariant *wg = mbn_variant_find("gemm_wgrad.cpu_tiled");
    T_CHECK(wg && mbn_vparam_candidates(&wg->params[3]) == 2 &&
                strcmp(wg->params[3].name, "TRANSPOSE") == 0,
            "TRANSPOSE lists two candidates");
    T_CHECK(mbn_vparam_candidates(&wg->params[1]) == 0 && strcmp(wg->params[1].name, "TN") == 0,
            "TN is fixed (two vectors)");
    MbnVariantOverride fixed = {.op = MBN_OP_GEMM, .n = 1, .param = {"TN"}, .value = {16}};
    T_CHECK(mbn_variants_override(&s, &fixed) == MBN_EUSAGE, "a fixed parameter changed");
    /* The register tile's rows are a tuner's choice; the vector width is the device's: VEC may
     * be its width or half of it, never wider than the device's own. */
    MbnVariantOverride rows8 = {.op = MBN_OP_GEMM, .n = 1, .param = {"TM"}, .value = {8}};
    T_MBN(mbn_variants_override(&s, &rows8));
    T_CHECK(mbn_vparam(&s.op[MBN_OP_GEMM_WGRAD], "TM") == 8, "TM=8 did not reach gemm_wgrad");
    MbnVariantOverride half = {.op = MBN_OP_DW_FWD, .n = 1, .param = {"VEC"}, .value = {8}};
    T_MBN(mbn_variants_override(&s, &half));
    MbnDeviceProfile avx2 = fake(CL_DEVICE_TYPE_CPU, "AuthenticAMD", 1 << 20, 4096, true);
    MbnVariantSet a2;
    T_MBN(mbn_variants_resolve(&a2, &avx2, MBN_FAMILY_AUTO));
    MbnVariantOverride wide = {.op = MBN_OP_DW_FWD, .n = 1, .param = {"VEC"}, .value = {16}};
    T_CHECK(mbn_variants_override(&a2, &wide) == MBN_EUSAGE && strstr(mbn_last_error(), "VEC=16"),
            "a vector wider than AVX2's: %s", mbn_last_error());
    char o_avx2[4096] = "";
    T_MBN(mbn_variants_build_options(&a2, o_avx2, sizeof o_avx2));
    T_CHECK(strstr(o_avx2, " -DMBN_CPU_VEC=8") && strstr(o_avx2, " -DMBN_GEMM_CPU_TM=6") &&
                strstr(o_avx2, " -DMBN_GEMM_CPU_TN=16"),
            "AVX2 options: %s", o_avx2);
    MbnVariantOverride bad_param = {
        .op = MBN_OP_GEMM, .row = NULL, .n = 1, .param = {"NOPE"}, .value = {1}};
    T_CHECK(mbn_variants_override(&s, &bad_param) == MBN_EUSAGE && strstr(mbn_last_error(), "NOPE"),
            "unknown parameter: %s", mbn_last_error());
    MbnVariantOverride wrong_op = {
        .op = MBN_OP_GEMM, .row = "dw_fwd.generic", .n = 0, .param = {NULL}, .value = {0}};
    T_CHECK(mbn_variants_override(&s, &wrong_op) == MBN_EUSAGE, "row of another op");
    MbnVariantOverride no_row = {
        .op = MBN_OP_GEMM, .row = "gemm.nope", .n = 0, .param = {NULL}, .value = {0}};
    T_CHECK(mbn_variants_override(&s, &no_row) == MBN_EUSAGE &&
                strstr(mbn_last_error(), "gemm.nope"),
            "unknown row: %s", mbn_last_error());
    /* A switch to another row takes that row's defaults. */
    MbnVariantOverride generic = {
        .op = MBN_OP_GEMM, .row = "gemm.clblast", .n = 0, .param = {NULL}, .value = {0}};
    T_MBN(mbn_variants_override(&s, &generic));
    T_CHECK(s.op[MBN_OP_GEMM].row == mbn_variant_find("gemm.clblast"), "row switch");
    /* The chosen values reach the options. */
    MbnVariantOverride chunks = {
        .op = MBN_OP_BN_FWD, .row = NULL, .n = 1, .param = {"CHUNKS"}, .value = {64}};
    T_MBN(mbn_variants_override(&s, &chunks));
    T_CHECK(mbn_vparam(&s.op[MBN_OP_BN_FWD], "CHUNKS") == 64, "chunks override");
    char desc[256];
    mbn_variant_describe(&s.op[MBN_OP_BN_FWD], desc, sizeof desc);
    T_CHECK(strstr(desc, "CHUNKS=64") != NULL, "describe: %s", desc);
    /* Rows sharing a define: a chosen row's value wins over an unchosen row's default; two
     * chosen rows must agree. */
    MbnDeviceProfile gpu = fake(CL_DEVICE_TYPE_GPU, "NVIDIA Corporation", 48 << 10, 1024, false);
    MbnVariantSet g;
    T_MBN(mbn_variants_resolve(&g, &gpu, MBN_FAMILY_AUTO));
    MbnVariantOverride clblast_wgrad = {.op = MBN_OP_GEMM_WGRAD,
                                        .row = "gemm_wgrad.clblast_splitk",
                                        .n = 0,
                                        .param = {NULL},
                                        .value = {0}};
    MbnVariantOverride bm128 = {
        .op = MBN_OP_GEMM, .row = "gemm.gpu_tiled", .n = 1, .param = {"BM"}, .value = {128}};
    T_MBN(mbn_variants_override(&g, &clblast_wgrad));
    T_MBN(mbn_variants_override(&g, &bm128));
    char o2[4096] = "";
    T_MBN(mbn_variants_build_options(&g, o2, sizeof o2));
    T_CHECK(strstr(o2, " -DMBN_GEMM_GPU_BM=128") != NULL, "tuned tile not in options: %s", o2);
    MbnVariantOverride splitk = {.op = MBN_OP_GEMM_WGRAD,
                                 .row = "gemm_wgrad.gpu_splitk",
                                 .n = 0,
                                 .param = {NULL},
                                 .value = {0}};
    T_MBN(mbn_variants_override(&g, &splitk));
    char o3[4096] = "";
    T_MBN(mbn_variants_build_options(&g, o3, sizeof o3));
    T_CHECK(mbn_vparam(&g.op[MBN_OP_GEMM_WGRAD], "BM") == 128 &&
                strstr(o3, " -DMBN_GEMM_GPU_BM=128") != NULL,
            "a row sharing a define takes the chosen value: %s", o3);
    /* An override of a shared define reaches every chosen row that has it (one kernel). */
    MbnVariantOverride bk8 = {.op = MBN_OP_GEMM_WGRAD, .n = 1, .param = {"BK"}, .value = {8}};
    T_MBN(mbn_variants_override(&g, &bk8));
    T_CHECK(mbn_vparam(&g.op[MBN_OP_GEMM], "BK") == 8, "shared define not shared");
    /* Two chosen rows disagreeing (only a bug can do it now) fail the build options. */
    g.op[MBN_OP_GEMM].value[0] = 32;
    char o4[4096] = "";
    T_CHECK(mbn_variants_build_options(&g, o4, sizeof o4) == MBN_EFAIL &&
                strstr(mbn_last_error(), "MBN_GEMM_GPU_BM"),
            "two chosen rows disagreeing: %s", mbn_last_error());
    char small[24] = "-cl-std=CL1.2";
    T_CHECK(mbn_variants_build_options(&s, small, sizeof small) == MBN_EFAIL,
            "options overflow not reported");
}

/* After the gpu kernels failed to build: no gpu row, and a tuner cannot ask for one. */
static void test_without_gpu(void) {
    MbnDeviceProfile gpu = fake(CL_DEVICE_TYPE_GPU, "NVIDIA Corporation", 48 << 10, 1024, false);
    MbnVariantSet s;
    T_MBN(mbn_variants_resolve(&s, &gpu, MBN_FAMILY_GPU));
    T_CHECK(s.op[MBN_OP_GEMM].row->family == MBN_FAMILY_GPU, "gpu forced: %s",
            s.op[MBN_OP_GEMM].row->name);
    for (int f = MBN_FAMILY_AUTO; f < MBN_FAMILY_COUNT; f++) {
        T_MBN(mbn_variants_resolve_without_gpu(&s, &gpu, f));
        for (int op = 0; op < MBN_OP_COUNT; op++)
            T_CHECK(s.op[op].row->family != MBN_FAMILY_GPU, "%s without gpu kernels: %s",
                    mbn_family_name(f), s.op[op].row->name);
    }
    MbnVariantOverride ov = {
        .op = MBN_OP_GEMM, .row = "gemm.gpu_tiled", .n = 0, .param = {NULL}, .value = {0}};
    T_CHECK(mbn_variants_override(&s, &ov) == MBN_EUSAGE, "a gpu row without gpu kernels");
    /* a tile too big for the device's local memory is refused, naming the limit */
    T_MBN(mbn_variants_resolve(&s, &gpu, MBN_FAMILY_AUTO));
    MbnVariantOverride big = {.op = MBN_OP_DW_FWD,
                              .row = "dw_fwd.gpu_tile",
                              .n = 3,
                              .param = {"LC", "TH", "TW"},
                              .value = {32, 16, 16}};
    T_CHECK(mbn_variants_override(&s, &big) == MBN_EUSAGE &&
                strstr(mbn_last_error(), "local memory"),
            "an oversized tile: %s", mbn_last_error());
}

static void test_pick(void) {
    MbnDevice dev;
    memset(&dev, 0, sizeof dev);
    dev.info.profile = fake(CL_DEVICE_TYPE_CPU, "GenuineIntel", 1 << 20, 4096, false);
    T_MBN(mbn_variants_resolve(&dev.variants, &dev.info.profile, MBN_FAMILY_CPU));
    const MbnVariantChoice *c = mbn_variant_pick(&dev, MBN_OP_DW_FWD, 16);
    T_CHECK(c->row->family == MBN_FAMILY_CPU && dev.variants.fallbacks[MBN_OP_DW_FWD] == 0,
            "C=16 -> %s", c->row->name);
    /* 8 channels: the half-width kernel of the cpu row (AVX-512: 16 and 8) */
    c = mbn_variant_pick(&dev, MBN_OP_DW_FWD, 8);
    T_CHECK(c->row->family == MBN_FAMILY_CPU && mbn_variant_cpu_width(&dev.variants, c, 8) == 8 &&
                mbn_variant_cpu_width(&dev.variants, c, 32) == 16,
            "C=8 -> %s", c->row->name);
    c = mbn_variant_pick(&dev, MBN_OP_DW_FWD, 13);
    T_CHECK(c->row->family == MBN_FAMILY_GENERIC && dev.variants.fallbacks[MBN_OP_DW_FWD] == 1,
            "C=13 -> %s, %lu fallbacks", c->row->name, dev.variants.fallbacks[MBN_OP_DW_FWD]);
}

int main(void) {
    unsetenv("MBN_KERNELS");
    test_table_shape();
    test_auto();
    test_forced();
    test_requirements();
    test_overrides_and_options();
    test_without_gpu();
    test_pick();
    return t_summary("test_variants");
}
