/* What mbn needs to know about a device to choose and size its kernels: a profile, read from
 * OpenCL when a device is listed (and, for CPUs, from the LLVM target PoCL compiles for), or
 * written out by hand from a public listing for the catalogue of real devices in the tests.
 * The plan (host/plan.h) is a pure function of it, so every choice can be tested without the
 * device. */
#ifndef MBN_HOST_DEVICE_PROFILE_H
#define MBN_HOST_DEVICE_PROFILE_H
#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct MbnDeviceProfile {
    char name[256];
    char vendor[128];
    char platform[128];
    cl_device_type type;
    /* CPUs: the LLVM CPU PoCL compiles for ("haswell", "skylake-avx512", "x86-64"; from
     * POCL_LLVM_CPU_NAME when set, else from PoCL's device name), "" when unknown; and the
     * instruction set it implies ("avx512", "avx2", "avx", "sse", "neon"; "" when unknown). */
    char target[64];
    char isa[16];
    bool fma;             /* fused multiply-add in hardware (fma() is a library call without) */
    int vector_floats;    /* native float SIMD width: 4 SSE/NEON, 8 AVX2, 16 AVX-512, 1 GPUs */
    int vector_registers; /* SIMD registers a kernel may use (CPUs); 0: not a CPU, or unknown */
    int simd_width;       /* GPUs: warp, wavefront or sub-group width; 1 on CPUs */
    unsigned compute_units;
    size_t max_work_group;
    unsigned long long local_mem_bytes;
    bool local_mem_dedicated;       /* CL_LOCAL (GPUs), not emulated in global memory */
    unsigned long long cache_bytes; /* CL_DEVICE_GLOBAL_MEM_CACHE_SIZE (0: none reported) */
    bool fp16;
    bool subgroups; /* cl_khr_subgroups or cl_intel_subgroups */
} MbnDeviceProfile;

/* The instruction set an LLVM CPU name implies: fills isa, fma, vector_floats and
 * vector_registers; false when the name is not known (the fields are left as they are). The
 * name may be followed by more text ("skylake-avx512-AMD EPYC"): the longest known name it
 * starts with is used. */
bool mbn_profile_set_cpu_target(MbnDeviceProfile *p, const char *llvm_cpu);

/* Reads the profile of an OpenCL device (never fails: what a driver does not report keeps a
 * conservative default). */
void mbn_profile_read(MbnDeviceProfile *p, cl_platform_id platform, cl_device_id device);

/* One line for listings: "CPU avx2 (haswell), 8 floats x 16 registers, 2 compute units". */
void mbn_profile_describe(const MbnDeviceProfile *p, char *out, size_t len);

#endif
