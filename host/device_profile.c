#include "host/device_profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Vendor queries for the SIMD width of GPUs (cl_ext.h names; defined here so that the build
 * does not depend on which headers are installed). */
#define MBN_CL_DEVICE_WARP_SIZE_NV 0x4003
#define MBN_CL_DEVICE_WAVEFRONT_WIDTH_AMD 0x4043
#define MBN_CL_DEVICE_SUB_GROUP_SIZES_INTEL 0x4108
#define MBN_CL_DEVICE_PREFERRED_WORK_GROUP_SIZE_MULTIPLE 0x1067 /* OpenCL 3.0 */

/* LLVM CPU names by instruction set (the names PoCL's devices carry and POCL_LLVM_CPU_NAME
 * takes). Names ending in '*' match any name they start. */
static const struct {
    const char *isa;
    int floats, registers;
    bool fma;
    const char *names[24];
} isas[] = {
    {"avx512",
     16,
     32,
     true,
     {"skylake-avx512", "cascadelake", "cooperlake", "cannonlake", "icelake-client",
      "icelake-server", "tigerlake", "rocketlake", "sapphirerapids", "emeraldrapids",
      "graniterapids*", "diamondrapids", "znver4", "znver5", "knl", "knm", "x86-64-v4"}},
    {"avx2",
     8,
     16,
     true,
     {"haswell", "broadwell", "skylake", "alderlake", "raptorlake", "meteorlake", "arrowlake*",
      "lunarlake", "gracemont", "znver1", "znver2", "znver3", "bdver4", "x86-64-v3"}},
    {"avx",
     8,
     16,
     false,
     {"sandybridge", "ivybridge", "btver2", "bdver1", "bdver2", "bdver3", "corei7-avx",
      "core-avx-i"}},
    {"sse",
     4,
     16,
     false,
     {"x86-64-v2", "x86-64", "nehalem", "westmere", "corei7", "core2", "penryn", "bonnell",
      "silvermont", "goldmont*", "tremont", "atom", "k8*", "opteron*", "athlon*", "btver1",
      "amdfam10", "barcelona"}},
    {"neon",
     4,
     32,
     true,
     {"cortex-a*", "cortex-x*", "neoverse*", "apple-*", "carmel", "thunderx*", "ampere1*",
      "a64fx"}},
};

/* Length of the known name `s` starts with (0: none): a whole name is followed by the end or
 * '-' (PoCL: "<cpu>-<vendor name>"); a prefix name (ending in '*') by anything. */
static size_t name_match(const char *s, const char *name) {
    size_t n = strlen(name);
    if (n && name[n - 1] == '*') return strncmp(s, name, n - 1) == 0 ? n - 1 : 0;
    if (strncmp(s, name, n) != 0 || (s[n] != 0 && s[n] != '-' && s[n] != ' ')) return 0;
    return n;
}

bool mbn_profile_set_cpu_target(MbnDeviceProfile *p, const char *llvm_cpu) {
    int best = -1;
    size_t best_len = 0;
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++)
        for (int k = 0; k < 24 && isas[i].names[k]; k++) {
            size_t len = name_match(llvm_cpu, isas[i].names[k]);
            if (len > best_len) best = (int)i, best_len = len;
        }
    if (best < 0) return false;
    snprintf(p->target, sizeof p->target, "%.*s", (int)best_len, llvm_cpu);
    snprintf(p->isa, sizeof p->isa, "%s", isas[best].isa);
    p->fma = isas[best].fma;
    p->vector_floats = isas[best].floats;
    p->vector_registers = isas[best].registers;
    return true;
}

static void info_text(cl_device_id d, cl_device_info what, char *out, size_t len) {
    out[0] = 0;
    if (clGetDeviceInfo(d, what, len, out, NULL) != CL_SUCCESS) out[0] = 0;
    out[len - 1] = 0;
}

/* The SIMD width of a GPU from its vendor's query, else OpenCL 3.0's preferred work-group
 * multiple, else 32 (NVIDIA's warp and AMD RDNA's wave32; a guess, which only sizes
 * work-groups). */
static int gpu_simd_width(cl_device_id d, const char *ext) {
    cl_uint u = 0;
    if (strstr(ext, "cl_nv_device_attribute_query") &&
        clGetDeviceInfo(d, MBN_CL_DEVICE_WARP_SIZE_NV, sizeof u, &u, NULL) == CL_SUCCESS && u)
        return (int)u;
    if (strstr(ext, "cl_amd_device_attribute_query") &&
        clGetDeviceInfo(d, MBN_CL_DEVICE_WAVEFRONT_WIDTH_AMD, sizeof u, &u, NULL) == CL_SUCCESS &&
        u)
        return (int)u;
    size_t sizes[8] = {0}, bytes = 0;
    if (strstr(ext, "cl_intel_required_subgroup_size") &&
        clGetDeviceInfo(d, MBN_CL_DEVICE_SUB_GROUP_SIZES_INTEL, sizeof sizes, sizes, &bytes) ==
            CL_SUCCESS) {
        /* Intel GPUs run compute at sub-group 16 where they offer it (8/16/32 on Gen9-Xe). */
        int best = 0;
        for (size_t i = 0; i < bytes / sizeof sizes[0] && i < 8; i++)
            if ((int)sizes[i] == 16 || (best != 16 && (int)sizes[i] > best)) best = (int)sizes[i];
        if (best) return best;
    }
    size_t m = 0;
    if (clGetDeviceInfo(d, MBN_CL_DEVICE_PREFERRED_WORK_GROUP_SIZE_MULTIPLE, sizeof m, &m, NULL) ==
            CL_SUCCESS &&
        m > 1 && m <= 128)
        return (int)m;
    return 32;
}

void mbn_profile_read(MbnDeviceProfile *p, cl_platform_id platform, cl_device_id device) {
    memset(p, 0, sizeof *p);
    clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof p->platform, p->platform, NULL);
    p->platform[sizeof p->platform - 1] = 0;
    info_text(device, CL_DEVICE_NAME, p->name, sizeof p->name);
    info_text(device, CL_DEVICE_VENDOR, p->vendor, sizeof p->vendor);
    clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof p->type, &p->type, NULL);
    cl_uint u = 0;
    if (clGetDeviceInfo(device, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof u, &u, NULL) ==
        CL_SUCCESS)
        p->vector_floats = (int)u;
    if (p->vector_floats < 1) p->vector_floats = 1;
    clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof p->compute_units, &p->compute_units,
                    NULL);
    clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof p->max_work_group,
                    &p->max_work_group, NULL);
    cl_ulong ul = 0;
    if (clGetDeviceInfo(device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
        p->local_mem_bytes = ul;
    cl_device_local_mem_type lt = CL_GLOBAL;
    clGetDeviceInfo(device, CL_DEVICE_LOCAL_MEM_TYPE, sizeof lt, &lt, NULL);
    p->local_mem_dedicated = lt == CL_LOCAL;
    ul = 0;
    if (clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, sizeof ul, &ul, NULL) ==
        CL_SUCCESS)
        p->cache_bytes = ul;
    size_t ext_len = 0;
    clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_len);
    char *ext = calloc(ext_len + 1, 1);
    if (ext && clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, ext_len, ext, NULL) != CL_SUCCESS)
        ext[0] = 0;
    const char *e = ext ? ext : "";
    p->fp16 = strstr(e, "cl_khr_fp16") != NULL;
    p->subgroups = strstr(e, "cl_khr_subgroups") || strstr(e, "cl_intel_subgroups");
    p->fma = true; /* GPUs: FMA is the basic instruction; CPUs: set from the target below */
    if (p->type & CL_DEVICE_TYPE_CPU) {
        p->simd_width = 1;
        p->vector_registers = p->vector_floats >= 16 ? 32 : 16;
        /* PoCL names its CPU device "<driver>-<LLVM CPU>-<vendor name>" and compiles for that
         * CPU, or for POCL_LLVM_CPU_NAME when set (how an AVX-512 machine checks the AVX2 and
         * SSE paths). Other CPU drivers: the reported width, FMA assumed. */
        if (strstr(p->platform, "Portable Computing Language")) {
            const char *env = getenv("POCL_LLVM_CPU_NAME");
            const char *dash = strchr(p->name, '-');
            if (!(env && *env && mbn_profile_set_cpu_target(p, env)) && dash)
                mbn_profile_set_cpu_target(p, dash + 1);
        }
    } else {
        p->simd_width = gpu_simd_width(device, e);
    }
    free(ext);
}

void mbn_profile_describe(const MbnDeviceProfile *p, char *out, size_t len) {
    const char *type = (p->type & CL_DEVICE_TYPE_GPU)   ? "GPU"
                       : (p->type & CL_DEVICE_TYPE_CPU) ? "CPU"
                                                        : "accelerator";
    if (p->type & CL_DEVICE_TYPE_CPU)
        snprintf(out, len, "%s %s%s%s%s, %d floats x %d registers%s, %u compute units", type,
                 p->isa[0] ? p->isa : "unknown ISA", p->target[0] ? " (" : "", p->target,
                 p->target[0] ? ")" : "", p->vector_floats, p->vector_registers,
                 p->fma ? "" : ", no FMA", p->compute_units);
    else
        snprintf(out, len, "%s, SIMD width %d, %u compute units, work-group %zu, %llu KiB %s local",
                 type, p->simd_width, p->compute_units, p->max_work_group,
                 p->local_mem_bytes / 1024, p->local_mem_dedicated ? "dedicated" : "emulated");
}
