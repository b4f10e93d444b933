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
 * this step), 2 TM FMAs. GEMM_STEP_S: B stored as S (float or half, see SLOAD below). */
#define GEMM_STEP_ROW(i, AX)                                                                       \
    a = AX(i);                                                                                     \
    c##i##0 = fma((VF)a, b0, c##i##0);                                                             \
    c##i##1 = fma((VF)a, b1, c##i##1);
#define GEMM_STEP_S(kk, AX, S)                                                                     \
    {                                                                                              \
        VF b0 = SLOAD(S, MBN_CPU_VEC)(0, Bp + (kk) * (size_t)ldb);                                 \
        VF b1 = SLOAD(S, MBN_CPU_VEC)(1, Bp + (kk) * (size_t)ldb);                                 \
        float a;                                                                                   \
        FOR_ROWS(GEMM_STEP_ROW, AX)                                                                \
    }
#define GEMM_STEP(kk, AX) GEMM_STEP_S(kk, AX, float)
#define GEMM_DECL_ACC(i, _) VF c##i##0 = 0.0f, c##i##1 = 0.0f;

/* Storage types (the fp16 inference path, --precision fp16): activations and conv weights are
 * stored either as float or as half and always computed in float, so kernels that read or
 * write them take the storage S (the token float or half) as a macro argument and go through:
 *   SLOAD(S, W)(i, p), SSTORE(S, W)(v, i, p)   W = 2, 4, 8 or 16 values: vloadW / vstoreW, or
 *                                              vload_halfW / vstore_halfW_rte (OpenCL 1.2
 *                                              core: every device, with or without cl_khr_fp16);
 *   SLOAD1(S, i, p), SSTORE1(S, v, i, p)       one value.
 * Half stores round to nearest even, once, where the value leaves the registers. The float
 * instantiation expands to exactly the loads and stores a float kernel has. */
#define MBN_SLOAD_float(W) MBN_CAT(vload, W)
#define MBN_SLOAD_half(W) MBN_CAT(vload_half, W)
#define MBN_SSTORE_float(W) MBN_CAT(vstore, W)
#define MBN_SSTORE_half(W) MBN_CAT(MBN_CAT(vstore_half, W), _rte)
#define SLOAD(S, W) MBN_CAT(MBN_SLOAD_, S)(W)
#define SSTORE(S, W) MBN_CAT(MBN_SSTORE_, S)(W)
#define MBN_SLOAD1_float(i, p) ((p)[i])
#define MBN_SLOAD1_half(i, p) vload_half((i), (p))
#define MBN_SSTORE1_float(v, i, p) ((p)[i] = (v))
#define MBN_SSTORE1_half(v, i, p) vstore_half_rte((v), (i), (p))
#define SLOAD1(S, i, p) MBN_CAT(MBN_SLOAD1_, S)(i, p)
#define SSTORE1(S, v, i, p) MBN_CAT(MBN_SSTORE1_, S)(v, i, p)

/* The fp16 path's k loop of the TM x TN tile (A and B stored as half; AROW(i): row i's first
 * value, K values): eight values of every A row converted at a time (vload_half8, one
 * instruction on CPUs with F16C; a scalar vload_half costs about 15 times as much a value),
 * then eight GEMM_STEP_S in order, then the last K % 8 one at a time: each output is still the
 * in-order fma chain over k. */
#define GEMM_A8_LOAD(i, AROW) float8 a8##i = vload_half8(0, AROW(i) + k);
#define GEMM_A1_LOAD(i, AROW) float8 a8##i = (float8)vload_half(k, AROW(i));
#define AX_LANE0(i) a8##i.s0
#define AX_LANE1(i) a8##i.s1
#define AX_LANE2(i) a8##i.s2
#define AX_LANE3(i) a8##i.s3
#define AX_LANE4(i) a8##i.s4
#define AX_LANE5(i) a8##i.s5
#define AX_LANE6(i) a8##i.s6
#define AX_LANE7(i) a8##i.s7
#define GEMM_KLOOP_H(AROW, K)                                                                      \
    {                                                                                              \
        int k = 0;                                                                                 \
        for (; k + 8 <= (K); k += 8) {                                                             \
            FOR_ROWS(GEMM_A8_LOAD, AROW)                                                           \
            GEMM_STEP_S(0, AX_LANE0, half) GEMM_STEP_S(1, AX_LANE1, half)                          \
            GEMM_STEP_S(2, AX_LANE2, half) GEMM_STEP_S(3, AX_LANE3, half)                          \
            GEMM_STEP_S(4, AX_LANE4, half) GEMM_STEP_S(5, AX_LANE5, half)                          \
            GEMM_STEP_S(6, AX_LANE6, half) GEMM_STEP_S(7, AX_LANE7, half)                          \
            Bp += 8 * (size_t)ldb;                                                                 \
        }                                                                                          \
        for (; k < (K); k++) {                                                                     \
            FOR_ROWS(GEMM_A1_LOAD, AROW)                                                           \
            GEMM_STEP_S(0, AX_LANE0, half)                                                         \
            Bp += ldb;                                                                             \
        }                                                                                          \
    }
