/* Compiled before every other cl/ file (host/program.c puts it first).
 *
 * The cpu kernel family's vector width: MBN_CPU_VEC floats, one SIMD register of the device
 * (4 for SSE and NEON, 8 for AVX2, 16 for AVX-512), set by the device's plan (host/plan.c) from
 * its profile. A kernel never uses a wider vector: clang passes a vector wider than the target's
 * registers to a function (fma, vload, a helper) in memory and warns that this "changes the
 * ABI" (-Wpsabi) at every call, and the value lives split over several registers, which the
 * register-tile kernels (gemm.cl) cannot afford. MBN_CPU_HALF is half of it (for channel counts
 * that the full width does not divide, 8 channels at width 0.25), defined when it is at least 4.
 *
 * VF / VLOAD / VSTORE: the full-width type and its loads and stores. Kernels instantiated for
 * both widths take the width W as a macro argument and paste it with MBN_CAT (W must be a
 * literal token: MBN_CPU_VEC and MBN_CPU_HALF are). */
#if !defined(MBN_CPU_VEC) || (MBN_CPU_VEC != 4 && MBN_CPU_VEC != 8 && MBN_CPU_VEC != 16)
#error "MBN_CPU_VEC must be 4, 8 or 16 (the plan's cpu vector width)"
#endif
#if MBN_CPU_VEC == 16
#define MBN_CPU_HALF 8
#elif MBN_CPU_VEC == 8
#define MBN_CPU_HALF 4
#endif

#define MBN_CAT_(a, b) a##b
#define MBN_CAT(a, b) MBN_CAT_(a, b)
#define VF MBN_CAT(float, MBN_CPU_VEC)
#define VLOAD MBN_CAT(vload, MBN_CPU_VEC)
#define VSTORE MBN_CAT(vstore, MBN_CPU_VEC)
/* The type, load and store of width W, for code instantiated at both widths. */
#define VT(W) MBN_CAT(float, W)
#define VL(W) MBN_CAT(vload, W)
#define VS(W) MBN_CAT(vstore, W)

/* The cpu register tile of gemm.cl (and of the fused depthwise + pointwise kernel in
 * depthwise.cl), from the device's plan (host/plan.c; row gemm.cpu_tiled), which the host
 * reads too: TM rows (1..8, from the device's vector registers: 2 TM accumulators, two B vectors
 * and a broadcast must fit, 7 on AVX-512, 6 on AVX2 and SSE) x TN = 2 MBN_CPU_VEC columns. */
#define GEMM_TM MBN_GEMM_CPU_TM
#define GEMM_TN MBN_GEMM_CPU_TN
#if GEMM_TM < 1 || GEMM_TM > 8
#error "gemm_tiled: MBN_GEMM_CPU_TM must be 1..8"
#endif
#if GEMM_TN != 2 * MBN_CPU_VEC
#error "gemm_tiled: MBN_GEMM_CPU_TN must be two cpu vectors"
#endif

/* FOR_ROWS(X, a): X(i, a) for each row i < TM of the tile, written out: PoCL's compiler keeps
 * arrays of vectors indexed in loops on the stack, so every row's accumulators, pointer and
 * offset are named variables (c00, c01, r0, o0 ...). */
#define GEMM_ROW_0(X, a) X(0, a)
#if GEMM_TM > 1
#define GEMM_ROW_1(X, a) X(1, a)
#else
#define GEMM_ROW_1(X, a)
#endif
#if GEMM_TM > 2
#define GEMM_ROW_2(X, a) X(2, a)
#else
#define GEMM_ROW_2(X, a)
#endif
#if GEMM_TM > 3
#define GEMM_ROW_3(X, a) X(3, a)
#else
#define GEMM_ROW_3(X, a)
#endif
#if GEMM_TM > 4
#define GEMM_ROW_4(X, a) X(4, a)
#else
#define GEMM_ROW_4(X, a)
#endif
#if GEMM_TM > 5
#define GEMM_ROW_5(X, a) X(5, a)
#else
#define GEMM_ROW_5(X, a)
#endif
#if GEMM_TM > 6
#define GEMM_ROW_6(X, a) X(6, a)
#else
#define GEMM_ROW_6(X, a)
#endif
#if GEMM_TM > 7
#define GEMM_ROW_7(X, a) X(7, a)
#else
#define GEMM_ROW_7(X, a)
#endif
#define FOR_ROWS(X, a)                                                                             \
    GEMM_ROW_0(X, a) GEMM_ROW_1(X, a) GEMM_ROW_2(X, a) GEMM_ROW_3(X, a) GEMM_ROW_4(X, a)           \
        GEMM_ROW_5(X, a) GEMM_ROW_6(X, a) GEMM_ROW_7(X, a)

/* One k step of the TM x TN tile: two B vectors, TM broadcasts of A (AX(i): row i's value at
 * this step), 2 TM FMAs. */
#define GEMM_STEP_ROW(i, AX)                                                                       \
    a = AX(i);                                                                                     \
    c##i##0 = fma((VF)a, b0, c##i##0);                                                             \
    c##i##1 = fma((VF)a, b1, c##i##1);
#define GEMM_STEP(kk, AX)                                                                          \
    {                                                                                              \
        VF b0 = VLOAD(0, Bp + (kk) * (size_t)ldb), b1 = VLOAD(1, Bp + (kk) * (size_t)ldb);         \
        float a;                                                                                   \
        FOR_ROWS(GEMM_STEP_ROW, AX)                                                                \
    }
#define GEMM_DECL_ACC(i, _) VF c##i##0 = 0.0f, c##i##1 = 0.0f;
