/* Device catalogue: OpenCL device profiles of real devices, transcribed from
 * published clinfo-style listings (GitHub issues, repository files), for
 * testing mbn's kernel-parameter choice on devices CI does not have.
 *
 * Rules used:
 *  - every value comes from the cited listing unless the comment above the
 *    entry names it under "NOT FROM THE LISTING"; those come from another
 *    named listing of a sister device/driver, or from the vendor's
 *    architecture ("from the architecture: ...").
 *  - strings are copied as the runtime reported them (odd spacing included).
 *  - vector_floats is the NATIVE float width (second number of clinfo's
 *    "Preferred / native vector sizes" line), not the preferred one.
 *  - fp16 / subgroups follow the device extension string
 *    (cl_khr_fp16; cl_khr_subgroups or cl_intel_subgroups).
 *  - fma is the hardware fact; note that PoCL on AArch64 reports
 *    "IEEE754-2008 fused multiply-add: No" for float although the ISA has FMA.
 */
#include "tests/support/device_catalogue.h"

const MbnCatalogueEntry mbn_device_catalogue[] = {
    /* 1. PoCL, SSE-only x86-64 (Nehalem, SSE4.2).
     * Source: https://github.com/hashcat/hashcat/issues/2950 (clinfo in the
     * issue body, PoCL 1.6, LLVM 9): name, vendor, platform, type, target
     * (HSTR "pthread-x86_64-pc-linux-gnu-nehalem").
     * NOT FROM THE LISTING (only its header could be retrieved):
     *  - compute_units 4: from the architecture (i5-760: 4 cores, no SMT;
     *    PoCL reports logical CPUs).
     *  - max_work_group 4096, local_mem 524288 (type Global), no fp16, no
     *    subgroups: PoCL 1.6 pthread defaults, as reported by the PoCL 1.6
     *    device in ROCm/ROCm#1495 (entry 2) and PoCL 1.x in pocl/pocl#885.
     *  - vector_floats 4: PoCL 128-bit SSE width, as in hashcat/hashcat#1841
     *    (PoCL, "float 4 / 4").
     *  - cache_bytes 8388608: from the architecture (8 MiB L3; PoCL reports
     *    the last-level cache, cf. entries 2 and 3).
     *  - isa/fma/vector_registers: from the architecture (SSE4.2, no FMA,
     *    16 XMM registers). */
    {"pocl-sse-nehalem-i5-760",
     {.name = "pthread-Intel(R) Core(TM) i5 CPU         760  @ 2.80GHz",
      .vendor = "GenuineIntel",
      .platform = "Portable Computing Language",
      .type = CL_DEVICE_TYPE_CPU,
      .target = "nehalem",
      .isa = "sse",
      .fma = false,
      .vector_floats = 4,
      .vector_registers = 16,
      .simd_width = 1,
      .compute_units = 4,
      .max_work_group = 4096,
      .local_mem_bytes = 524288,
      .local_mem_dedicated = false,
      .cache_bytes = 8388608,
      .fp16 = false,
      .subgroups = false}},

    /* 2. PoCL, AVX2 x86-64 (Zen 2).
     * Source: https://github.com/ROCm/ROCm/issues/1495, comment by AgenttiX
     * 2021-10-27 ("clinfo output", PoCL 1.6, LLVM 9.0.1). All OpenCL fields
     * from the listing: 64 CUs, WG 4096, float 8/8, local 524288 Global,
     * cache 16777216, FMA Yes, extensions without cl_khr_fp16/subgroups.
     * NOT FROM THE LISTING: isa "avx2" and vector_registers 16 from the
     * architecture (Zen 2: AVX2+FMA3, 16 YMM registers). */
    {"pocl-avx2-znver2-tr3970x",
     {.name = "pthread-AMD Ryzen Threadripper 3970X 32-Core Processor",
      .vendor = "AuthenticAMD",
      .platform = "Portable Computing Language",
      .type = CL_DEVICE_TYPE_CPU,
      .target = "znver2",
      .isa = "avx2",
      .fma = true,
      .vector_floats = 8,
      .vector_registers = 16,
      .simd_width = 1,
      .compute_units = 64,
      .max_work_group = 4096,
      .local_mem_bytes = 524288,
      .local_mem_dedicated = false,
      .cache_bytes = 16777216,
      .fp16 = false,
      .subgroups = false}},

    /* 3. PoCL, AVX-512 x86-64 (Cascade Lake).
     * Source: a public GitHub repository file, "Debugging Gradescope
     * Autograder" course document (UCSD DSMLP), full clinfo of PoCL 6.0 /
     * LLVM 14; found via the code index (file id 40159094224), repository
     * name not resolved by the tool. All OpenCL fields from the listing:
     * 64 CUs, WG 4096, float 16/16, local 1048576 Global, cache 23068672,
     * FMA Yes, half n/a, extensions include cl_khr_subgroups and
     * cl_intel_subgroups ("Sub-group sizes (Intel) 1, 2, ..., 512").
     * Corroborates: hashcat/hashcat#2243 (PoCL 1.2 skylake-avx512, WG 4096,
     * 16-wide vectors).
     * NOT FROM THE LISTING: isa "avx512", vector_registers 32 from the
     * architecture (AVX-512F: 32 ZMM registers). */
    {"pocl-avx512-cascadelake-gold5218",
     {.name = "cpu-cascadelake-Intel(R) Xeon(R) Gold 5218 CPU @ 2.30GHz",
      .vendor = "GenuineIntel",
      .platform = "Portable Computing Language",
      .type = CL_DEVICE_TYPE_CPU,
      .target = "cascadelake",
      .isa = "avx512",
      .fma = true,
      .vector_floats = 16,
      .vector_registers = 32,
      .simd_width = 1,
      .compute_units = 64,
      .max_work_group = 4096,
      .local_mem_bytes = 1048576,
      .local_mem_dedicated = false,
      .cache_bytes = 23068672,
      .fp16 = false,
      .subgroups = true}},

    /* 4. NVIDIA datacenter GPU (A100) under NVIDIA's OpenCL.
     * Source: https://github.com/ProjectPhysX/FluidX3D/issues/8, comment by
     * masazzz (FluidX3D device report, driver 470.57.02, "OpenCL C 1.2"):
     * name, vendor, CUs 108, "3024 KB global / 48 KB local". FluidX3D prints
     * CL_DEVICE_GLOBAL_MEM_CACHE_SIZE/1024 and CL_DEVICE_LOCAL_MEM_SIZE/1024
     * (src/opencl.hpp), so cache = 3024*1024 = 3096576, local = 49152.
     * NOT FROM THE LISTING (no full clinfo of an A100/H100 was found):
     *  - platform "NVIDIA CUDA": NVIDIA's OpenCL platform name (every NVIDIA
     *    clinfo seen, e.g. ROCm/ROCm#1495, 10gic/vanitygen-plusplus#100).
     *  - max_work_group 1024, native float width 1, local type Local,
     *    "Warp size (NV) 32", no cl_khr_fp16, no cl_khr_subgroups
     *    ("Max sub-groups per work group 0"): what NVIDIA's OpenCL reports
     *    on every listed GPU (GTX TITAN in ROCm/ROCm#1495, Tesla T4 driver
     *    535 in 10gic/vanitygen-plusplus#100, RTX 30xx driver in
     *    KhronosGroup/OpenCL-SDK#36); A100 CUDA deviceQuery
     *    (samridh-dev/votess#10): 1024 threads/block, warp 32, 48 KiB
     *    shared per block.
     *  - fma: from the architecture. */
    {"nvidia-a100-sxm4-40gb",
     {.name = "NVIDIA A100-SXM4-40GB",
      .vendor = "NVIDIA Corporation",
      .platform = "NVIDIA CUDA",
      .type = CL_DEVICE_TYPE_GPU,
      .target = "",
      .isa = "",
      .fma = true,
      .vector_floats = 1,
      .vector_registers = 0,
      .simd_width = 32,
      .compute_units = 108,
      .max_work_group = 1024,
      .local_mem_bytes = 49152,
      .local_mem_dedicated = true,
      .cache_bytes = 3096576,
      .fp16 = false,
      .subgroups = false}},

    /* 5. AMD GPU, GCN (gfx906 Radeon VII = the MI50/MI60 chip) under ROCm.
     * Source: https://github.com/ROCm/ROCm/issues/1495, comment by AgenttiX
     * 2021-10-27 (AMD-APP 3212.0, "3212.0 (HSA1.1,LC)"). All fields from
     * the listing: 60 CUs, CL_DEVICE_MAX_WORK_GROUP_SIZE 256 (clinfo also
     * prints "Max work group size (AMD) 1024"), "Wavefront width (AMD) 64",
     * float 1/1, local 65536 Local, cache 16384, FMA Yes, extensions include
     * cl_khr_fp16 and cl_khr_subgroups. */
    {"rocm-gfx906-radeon-vii",
     {.name = "gfx906",
      .vendor = "Advanced Micro Devices, Inc.",
      .platform = "AMD Accelerated Parallel Processing",
      .type = CL_DEVICE_TYPE_GPU,
      .target = "",
      .isa = "",
      .fma = true,
      .vector_floats = 1,
      .vector_registers = 0,
      .simd_width = 64,
      .compute_units = 60,
      .max_work_group = 256,
      .local_mem_bytes = 65536,
      .local_mem_dedicated = true,
      .cache_bytes = 16384,
      .fp16 = true,
      .subgroups = true}},

    /* 5b. AMD GPU, RDNA2 (gfx1030 RX 6800 XT) under ROCm. PARTIAL LISTING.
     * Source: https://github.com/filecoin-project/rust-gpu-tools/issues/45
     * (clinfo, AMD-APP 3261.0, "3261.0 (HSA1.1,LC)"): name, vendor,
     * platform, type, local 65536 Local, cache 16384.
     * NOT FROM THE LISTING (those lines could not be retrieved):
     *  - compute_units 36: ROCm/PAL OpenCL report RDNA work-group processors
     *    (2 CUs each): RX 6600 XT (32 CUs) -> 16 in
     *    Lolliedieb/lolMiner-releases#265 (ROCm 3590), RX 6700 XT (40 CUs)
     *    -> 20 in todxx/teamredminer#312; RX 6800 XT has 72 CUs -> 36.
     *    Inferred, not read.
     *  - max_work_group 256, "Wavefront width (AMD) 32", float 1/1,
     *    cl_khr_fp16: as reported for gfx1032 by ROCm in
     *    ROCm/legacy-rocm-build#1575 and for gfx103x in ggml-org/llama.cpp#2964.
     *  - subgroups: cl_khr_subgroups is in the same runtime's extension list
     *    for gfx906 (entry 5); not seen for gfx103x. */
    {"rocm-gfx1030-rx6800xt",
     {.name = "gfx1030",
      .vendor = "Advanced Micro Devices, Inc.",
      .platform = "AMD Accelerated Parallel Processing",
      .type = CL_DEVICE_TYPE_GPU,
      .target = "",
      .isa = "",
      .fma = true,
      .vector_floats = 1,
      .vector_registers = 0,
      .simd_width = 32,
      .compute_units = 36,
      .max_work_group = 256,
      .local_mem_bytes = 65536,
      .local_mem_dedicated = true,
      .cache_bytes = 16384,
      .fp16 = true,
      .subgroups = true}},

    /* 6. Intel discrete GPU (Arc A770, DG2/Xe-HPG) under compute-runtime (NEO).
     * Sources: https://github.com/intel/compute-runtime/issues/618 (clinfo of
     * an A770 16 GB, NEO 22.49.25018.24, "OpenCL 3.0 NEO"): type,
     * cache 16777216, cl_intel_subgroups* and cl_khr_subgroup_* in the
     * extensions; https://github.com/oobabooga/textgen/issues/3761 (clinfo,
     * NEO 23.35.27191.42): name "Intel(R) Graphics [0x56a0]" (0x56a0 = A770),
     * vendor, platform "Intel(R) OpenCL Graphics".
     * NOT FROM THE LISTING (those lines could not be retrieved):
     *  - compute_units 512: from the architecture (32 Xe-cores x 16 EUs; NEO
     *    reports EUs) and the IPEX log "Compute Units 512" for 0x56a0.
     *  - max_work_group 1024, local 65536 Local: OpenCL/Level Zero query of
     *    an A750 in intel/compute-runtime#586 ("Local Memory Size: 64.0 KB",
     *    1024 threads per block).
     *  - vector_floats 1: NEO native float width (e.g. intel/compute-runtime#198).
     *  - simd_width 16: from the architecture (DG2 sub-group sizes 8/16/32,
     *    16 the usual compiler choice for float kernels).
     *  - fp16: cl_khr_fp16 is in NEO's extension list for Xe GPUs
     *    (AOSC-Dev/aosc-os-abbs#11403 listing). */
    {"neo-arc-a770",
     {.name = "Intel(R) Graphics [0x56a0]",
      .vendor = "Intel(R) Corporation",
      .platform = "Intel(R) OpenCL Graphics",
      .type = CL_DEVICE_TYPE_GPU,
      .target = "",
      .isa = "",
      .fma = true,
      .vector_floats = 1,
      .vector_registers = 0,
      .simd_width = 16,
      .compute_units = 512,
      .max_work_group = 1024,
      .local_mem_bytes = 65536,
      .local_mem_dedicated = true,
      .cache_bytes = 16777216,
      .fp16 = true,
      .subgroups = true}},

    /* 7. Intel integrated GPU (Comet Lake UHD Graphics, Gen9.5 GT2 - the
     * UHD 620/630 generation) under compute-runtime (NEO).
     * Source: https://github.com/intel/compute-runtime/issues/428 (clinfo,
     * NEO 21.24.20098, "OpenCL 3.0 NEO"): name, vendor, platform, type,
     * CUs 24, WG 256, preferred WG multiple 32.
     * NOT FROM THE LISTING (from Gen9 GT2 listings of the same runtime):
     *  - local 65536 Local: intel/compute-runtime#166 (Gen9 NEO).
     *  - cache 524288: intel/compute-runtime#207 (HD 530, Gen9 GT2, NEO).
     *  - vector_floats 1, cl_khr_fp16, sub-group sizes 8/16/32:
     *    intel/compute-runtime#198 and #62 (Gen9 NEO).
     *  - subgroups: cl_intel_subgroups / cl_khr_subgroups in NEO's Gen9
     *    extension list (madMAx43v3r/mmx-node#34).
     *  - simd_width 16: from the architecture (typical Intel compute SIMD). */
    {"neo-uhd-cometlake-9bca",
     {.name = "Intel(R) UHD Graphics [0x9bca]",
      .vendor = "Intel(R) Corporation",
      .platform = "Intel(R) OpenCL HD Graphics",
      .type = CL_DEVICE_TYPE_GPU,
      .target = "",
      .isa = "",
      .fma = true,
      .vector_floats = 1,
      .vector_registers = 0,
      .simd_width = 16,
      .compute_units = 24,
      .max_work_group = 256,
      .local_mem_bytes = 65536,
      .local_mem_dedicated = true,
      .cache_bytes = 524288,
      .fp16 = true,
      .subgroups = true}},

    /* 8. Arm Mali GPU (Mali-G610 MP4, Valhall, RK3588 / Orange Pi 5).
     * Source: https://github.com/bbaranoff/OrangePi5-OpenCL/blob/2b8aa39b33ba7e6942d3916bb24df60f72e916d4/clinfo.txt
     * (libmali g6p0-01eac0, "OpenCL 2.1"). The driver reports the G610 by its
     * codename "Mali-LODX r0p0"; newer drivers report "Mali-G610 MC6 r0p0"
     * (hominoids/sgminer-arm#12). All fields from the listing: 4 CUs, WG
     * 1024, float 4/1 (native 1), local 32768 type Global, cache 1048576,
     * FMA Yes, cl_khr_fp16 and cl_khr_subgroups.
     * NOT FROM THE LISTING: simd_width 16 from the architecture (Valhall
     * warp = 16 lanes; matches "Preferred work group size multiple 16"). */
    {"mali-g610-rk3588",
     {.name = "Mali-LODX r0p0",
      .vendor = "ARM",
      .platform = "ARM Platform",
      .type = CL_DEVICE_TYPE_GPU,
      .target = "",
      .isa = "",
      .fma = true,
      .vector_floats = 1,
      .vector_registers = 0,
      .simd_width = 16,
      .compute_units = 4,
      .max_work_group = 1024,
      .local_mem_bytes = 32768,
      .local_mem_dedicated = false,
      .cache_bytes = 1048576,
      .fp16 = true,
      .subgroups = true}},

    /* 9. PoCL on AArch64 (RK3588: 4x Cortex-A76 + 4x Cortex-A55).
     * Source: same file as entry 8 (PoCL 1.8, LLVM 11.1.0). All OpenCL
     * fields from the listing: name "pthread-cortex-a55", 8 CUs, WG 4096,
     * float 4/4, local 524288 Global, cache 3145728, half n/a, no
     * subgroup extension. HSTR is "pthread-aarch64-unknown-linux-gnu-GENERIC",
     * so the LLVM CPU name used was "generic".
     * NOT FROM THE LISTING: isa "neon", fma true, vector_registers 32 from
     * the architecture (AArch64 Advanced SIMD: 32 V registers, FMLA); the
     * listing's "IEEE754-2008 fused multiply-add No" is PoCL's float
     * capability report, not the ISA. */
    {"pocl-aarch64-rk3588",
     {.name = "pthread-cortex-a55",
      .vendor = "ARM",
      .platform = "Portable Computing Language",
      .type = CL_DEVICE_TYPE_CPU,
      .target = "generic",
      .isa = "neon",
      .fma = true,
      .vector_floats = 4,
      .vector_registers = 32,
      .simd_width = 1,
      .compute_units = 8,
      .max_work_group = 4096,
      .local_mem_bytes = 524288,
      .local_mem_dedicated = false,
      .cache_bytes = 3145728,
      .fp16 = false,
      .subgroups = false}},
};
const int mbn_device_catalogue_count =
    (int)(sizeof mbn_device_catalogue / sizeof mbn_device_catalogue[0]);
