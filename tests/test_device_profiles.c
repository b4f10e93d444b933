/* The kernel plan (host/plan.h) on a catalogue of real devices (tests/support/device_catalogue.c:
 * PoCL on SSE, AVX2, AVX-512 and AArch64 CPUs, NVIDIA, AMD GCN and RDNA, Intel discrete and
 * integrated GPUs, an Arm Mali), each profile transcribed from a public listing. For each:
 *   - the cpu family's vectors are the device's own width (never wider; never narrower than
 *     half of it), the GEMM tile's accumulators fit its registers, a B block fits in 32 KiB;
 *   - a CPU runs the cpu rows, a GPU never does; every chosen gpu row fits the device's
 *     work-group size and local memory (its check), and its work-groups are whole SIMD groups;
 *   - the build options exist and name the vector width;
 * and, with "compile" (a second CTest test), every profile's program builds on this machine's
 * OpenCL device with that plan's -D values (SKIP when there is no device). With "fp16" (a third):
 * the profiles with cl_khr_fp16 plan half arithmetic on their gpu rows (HALF_ARITH=1), and their
 * whole program, which on such a device compiles cl/half_gpu.cl's half code, compiles with
 * clang for SPIR (cl_khr_fp16 enabled) to LLVM IR with packed half math in it: a build-only
 * check of code that PoCL, without the extension, never compiles (SKIP without clang). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "host/device.h"
#include "host/plan.h"
#include "host/program.h"
#include "tests/support/device_catalogue.h"
#include "tests/support/testutil.h"

/* The work-group size a gpu row launches with, from its parameters (model/ops_*.c). */
static size_t gpu_work_group(const MbnVariantChoice *c) {
    int lc = mbn_vparam_or(c, "LC", 0), lp = mbn_vparam_or(c, "LP", 0);
    if (lc && lp) {
        size_t wg = (size_t)lc * (size_t)lp, lm = (size_t)mbn_vparam_or(c, "LM", 0);
        return wg > lm ? wg : lm;
    }
    int bm = mbn_vparam_or(c, "BM", 0), bn = mbn_vparam_or(c, "BN", 0);
    int tm = mbn_vparam_or(c, "TM", 1), tn = mbn_vparam_or(c, "TN", 1);
    return bm && bn ? (size_t)(bm / tm) * (size_t)(bn / tn) : 0;
}

static void check_plan(const MbnCatalogueEntry *e) {
    const MbnDeviceProfile *p = &e->profile;
    MbnVariantSet s;
    T_MBN(mbn_variants_resolve(&s, p, MBN_FAMILY_AUTO));
    bool cpu = (p->type & CL_DEVICE_TYPE_CPU) != 0;
    int vec = s.cpu_vec;
    T_CHECK(vec == 4 || vec == 8 || vec == 16, "%s: vector width %d", e->id, vec);
    if (cpu) {
        T_CHECK(vec <= (p->vector_floats > 4 ? p->vector_floats : 4) && 2 * vec > p->vector_floats,
                "%s: vector width %d for a device of %d floats", e->id, vec, p->vector_floats);
        const MbnVariantChoice *g = &s.op[MBN_OP_GEMM];
        T_CHECK(g->row->family == MBN_FAMILY_CPU &&
                    s.op[MBN_OP_DW_FWD].row->family == MBN_FAMILY_CPU,
                "%s: a CPU runs %s", e->id, g->row->name);
        int tm = mbn_vparam(g, "TM"), tn = mbn_vparam(g, "TN"), kc = mbn_vparam(g, "KC");
        T_CHECK(tn == 2 * vec && 2 * tm + 3 <= p->vector_registers,
                "%s: tile %d x %d for %d registers of %d floats", e->id, tm, tn,
                p->vector_registers, vec);
        T_CHECK((size_t)kc * (size_t)tn * sizeof(float) <= 32768, "%s: B block %d x %d", e->id, kc,
                tn);
        T_CHECK(mbn_vparam(&s.op[MBN_OP_DW_FWD], "VEC") == vec, "%s: depthwise VEC", e->id);
    } else {
        for (int op = 0; op < MBN_OP_COUNT; op++) {
            const MbnVariantChoice *c = &s.op[op];
            T_CHECK(c->row->family != MBN_FAMILY_CPU, "%s: a GPU runs %s", e->id, c->row->name);
            if (c->row->family != MBN_FAMILY_GPU) continue;
            char why[160];
            const char *fail = c->row->check ? c->row->check(c->value, p, why, sizeof why) : NULL;
            T_CHECK(!fail, "%s: %s does not fit: %s", e->id, c->row->name, fail ? fail : "");
            size_t wg = gpu_work_group(c);
            T_CHECK(wg > 0 && wg <= p->max_work_group && wg % (size_t)p->simd_width == 0,
                    "%s: %s work-group %zu (limit %zu, SIMD %d)", e->id, c->row->name, wg,
                    p->max_work_group, p->simd_width);
        }
    }
    char opts[4096], want[32];
    T_MBN(mbn_device_build_options(&s, opts, sizeof opts));
    snprintf(want, sizeof want, " -DMBN_CPU_VEC=%d ", vec);
    strcat(opts, " ");
    T_CHECK(strstr(opts, want) != NULL, "%s: options %.80s", e->id, opts);
    printf("ok   %-34s %s: vector %d, gemm %s, dw_fwd %s\n", e->id, cpu ? "CPU" : "GPU", vec,
           s.op[MBN_OP_GEMM].row->name, s.op[MBN_OP_DW_FWD].row->name);
}

/* Every profile's program, with its plan's defines, built on this machine's first device. */
static int compile_all(void) {
    MbnDeviceInfo *all = NULL;
    int n = 0;
    if (mbn_devices_list(&all, &n) != MBN_OK || n == 0) {
        free(all);
        printf("SKIP: no OpenCL device to compile on\n");
        return T_SKIP_CODE;
    }
    MbnDeviceEnv env;
    memset(&env, 0, sizeof env);
    env.family = MBN_FAMILY_AUTO;
    for (int i = 0; i < mbn_device_catalogue_count; i++) {
        const MbnCatalogueEntry *e = &mbn_device_catalogue[i];
        MbnDeviceInfo info = all[0];
        info.profile = e->profile;
        MbnDevice dev;
        int rc = mbn_device_open_env(&dev, &info, &env, NULL, 0);
        T_CHECK(rc == MBN_OK, "%s: the program does not build with its plan on %s: %s", e->id,
                all[0].name, rc ? mbn_last_error() : "");
        if (rc == MBN_OK) {
            T_CHECK(!dev.variants.no_gpu_kernels, "%s: the gpu kernels did not build", e->id);
            printf("ok   %-34s builds on %s\n", e->id, all[0].name);
            mbn_device_close(&dev);
        }
        mbn_clear_error();
    }
    free(all);
    return t_summary("test_device_profiles compile");
}

/* The first clang on PATH (clang, then versioned names), or "" when there is none. */
static void find_clang(char *out, size_t len) {
    out[0] = 0;
    FILE *p = popen("for c in clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do "
                    "command -v $c && break; done",
                    "r");
    if (!p) return;
    if (fgets(out, (int)len, p)) out[strcspn(out, "\n")] = 0;
    pclose(p);
}

static int compile_fp16(void) {
    char clang[512];
    find_clang(clang, sizeof clang);
    if (!clang[0]) t_skip("test_device_profiles fp16", "no clang to compile OpenCL C for SPIR");
    char dir[64], cl[128], ll[128], err[128];
    t_tempdir(dir, sizeof dir);
    snprintf(cl, sizeof cl, "%s/program.cl", dir);
    snprintf(ll, sizeof ll, "%s/program.ll", dir);
    snprintf(err, sizeof err, "%s/clang.err", dir);
    const MbnClSource *src[64];
    int n = mbn_program_sources(true, src, 64);
    FILE *f = fopen(cl, "w");
    for (int i = 0; f && i < n && i < 64; i++)
        fwrite(src[i]->text, 1, src[i]->length, f);
    T_CHECK(f && fclose(f) == 0, "writing %s", cl);
    int profiles = 0;
    for (int i = 0; i < mbn_device_catalogue_count; i++) {
        const MbnCatalogueEntry *e = &mbn_device_catalogue[i];
        if (!e->profile.fp16) continue;
        profiles++;
        MbnVariantSet s;
        char opts[4096], cmd[6000];
        T_MBN(mbn_variants_resolve(&s, &e->profile, MBN_FAMILY_AUTO));
        T_MBN(mbn_device_build_options(&s, opts, sizeof opts));
        T_CHECK(strstr(opts, "-DMBN_GEMM_GPU_HALF_ARITH=1") &&
                    strstr(opts, "-DMBN_DWF_GPU_HALF_ARITH=1"),
                "%s: plans half arithmetic: %s", e->id, opts);
        snprintf(cmd, sizeof cmd,
                 "'%s' -x cl -target spir64 -Xclang -finclude-default-header -Xclang "
                 "-cl-ext=+cl_khr_fp16 %s -S -emit-llvm -o '%s' '%s' 2> '%s'",
                 clang, opts, ll, cl, err);
        int rc = system(cmd);
        char *ir = NULL;
        size_t len = 0;
        FILE *g = rc == 0 ? fopen(ll, "r") : NULL;
        if (g) {
            fseek(g, 0, SEEK_END);
            len = (size_t)ftell(g);
            rewind(g);
            ir = T_NEW(char, len + 1);
            ir[fread(ir, 1, len, g)] = 0;
            fclose(g);
        }
        T_CHECK(rc == 0, "%s: the program does not compile for SPIR with cl_khr_fp16 (%s)", e->id,
                err);
        /* SPIR keeps the builtins as calls: fma on half2 (half_gemm_gpu's products) and on half
         * (half_dw_conv3x3_tile's taps) */
        T_CHECK(ir && strstr(ir, "@_Z3fmaDv2_DhS_S_") && strstr(ir, "@_Z3fmaDhDhDh"),
                "%s: no half fma in the IR", e->id);
        if (rc == 0) printf("ok   %-34s compiles for SPIR with half arithmetic\n", e->id);
        free(ir);
    }
    T_CHECK(profiles >= 3, "%d catalogue profiles with cl_khr_fp16", profiles);
    t_rmtree(dir);
    return t_summary("test_device_profiles fp16");
}

int main(int argc, char **argv) {
    unsetenv("MBN_KERNELS");
    if (argc > 1 && strcmp(argv[1], "compile") == 0) return compile_all();
    if (argc > 1 && strcmp(argv[1], "fp16") == 0) return compile_fp16();
    T_CHECK(mbn_device_catalogue_count >= 9, "catalogue of %d devices", mbn_device_catalogue_count);
    for (int i = 0; i < mbn_device_catalogue_count; i++)
        check_plan(&mbn_device_catalogue[i]);
    /* The LLVM CPU names PoCL uses give the same instruction sets as the catalogue says. */
    for (int i = 0; i < mbn_device_catalogue_count; i++) {
        const MbnDeviceProfile *p = &mbn_device_catalogue[i].profile;
        if (!p->target[0] || !strcmp(p->target, "generic")) continue;
        MbnDeviceProfile q;
        memset(&q, 0, sizeof q);
        T_CHECK(mbn_profile_set_cpu_target(&q, p->target) && !strcmp(q.isa, p->isa) &&
                    q.vector_floats == p->vector_floats &&
                    q.vector_registers == p->vector_registers,
                "%s: target %s gives %s/%d/%d", mbn_device_catalogue[i].id, p->target, q.isa,
                q.vector_floats, q.vector_registers);
    }
    /* PoCL's device names carry the target: "pthread-haswell-AMD EPYC". */
    MbnDeviceProfile q;
    memset(&q, 0, sizeof q);
    T_CHECK(mbn_profile_set_cpu_target(&q, "haswell-AMD EPYC 7B13") &&
                !strcmp(q.target, "haswell") && q.vector_floats == 8,
            "name parsing: %s %d", q.target, q.vector_floats);
    T_CHECK(mbn_profile_set_cpu_target(&q, "skylake-avx512-AMD EPYC") &&
                !strcmp(q.target, "skylake-avx512") && q.vector_floats == 16,
            "the longest name wins: %s", q.target);
    T_CHECK(!mbn_profile_set_cpu_target(&q, "quantum-7"), "an unknown CPU");
    return t_summary("test_device_profiles");
}
