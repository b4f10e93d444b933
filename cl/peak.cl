/* FMA peak of a device, for `mbn bench`'s "share of peak": every work-item runs CH independent
 * chains a = a*m + c over a float4/float8/float16 vector, so the FMA units always have
 * independent work (x86 cores need latency x pipes = 8-10 chains in flight; GPUs add more from
 * other work-items) while the chains and the two operands still fit the vector registers: 16
 * chains of one register each spill on AVX2's 16 registers (85 of 145 GFLOP/s on a 2-core
 * EPYC), 8 leave a Zen 5 core 80% busy. m and c are kernel arguments, so nothing can be folded
 * at compile time; m < 1 keeps the values near c/(1-m), far from overflow and denormals. Each
 * iteration is CH mads per vector lane = 2 CH flops per lane. The host (host/peak.c) tries
 * every width up to the device's own (MBN_PEAK_MAX_VEC, from its profile: a wider vector is
 * split over registers and passed in memory) and every chain count, and keeps the fastest. This
 * file is built on its own, not with the other cl/ files. */
#ifndef MBN_PEAK_MAX_VEC
#error "MBN_PEAK_MAX_VEC: the device's vector width (host/peak.c defines it)"
#endif

#define MBN_PEAK_STEP4(T, a, b, c_, d)                                                            \
    a = mad(a, (T)m, (T)c);                                                                       \
    b = mad(b, (T)m, (T)c);                                                                       \
    c_ = mad(c_, (T)m, (T)c);                                                                     \
    d = mad(d, (T)m, (T)c);

/* Chains in groups of four: a0..a3, a4..a7, ... (GROUPS(X) lists the groups' steps). */
#define MBN_PEAK_G0(T) MBN_PEAK_STEP4(T, a0, a1, a2, a3)
#define MBN_PEAK_G1(T) MBN_PEAK_STEP4(T, a4, a5, a6, a7)
#define MBN_PEAK_G2(T) MBN_PEAK_STEP4(T, a8, a9, a10, a11)
#define MBN_PEAK_G3(T) MBN_PEAK_STEP4(T, a12, a13, a14, a15)
#define MBN_PEAK_STEPS8(T) MBN_PEAK_G0(T) MBN_PEAK_G1(T)
#define MBN_PEAK_STEPS12(T) MBN_PEAK_G0(T) MBN_PEAK_G1(T) MBN_PEAK_G2(T)
#define MBN_PEAK_STEPS16(T) MBN_PEAK_G0(T) MBN_PEAK_G1(T) MBN_PEAK_G2(T) MBN_PEAK_G3(T)

/* All 16 chains are declared and summed; those a kernel does not step stay constant (the
 * compiler folds them), so the CH-chain kernel does CH chains of work. */
#define MBN_PEAK_KERNEL(NAME, T, CH)                                                              \
    __kernel void NAME(__global T *out, int iters, float m, float c) {                            \
        T a0 = (T)((float)get_global_id(0) * 1e-6f), a1 = a0 + (T)1.0f, a2 = a0 + (T)2.0f;        \
        T a3 = a0 + (T)3.0f, a4 = a0 + (T)4.0f, a5 = a0 + (T)5.0f, a6 = a0 + (T)6.0f;             \
        T a7 = a0 + (T)7.0f, a8 = a0 + (T)8.0f, a9 = a0 + (T)9.0f, a10 = a0 + (T)10.0f;           \
        T a11 = a0 + (T)11.0f, a12 = a0 + (T)12.0f, a13 = a0 + (T)13.0f, a14 = a0 + (T)14.0f;     \
        T a15 = a0 + (T)15.0f;                                                                    \
        for (int i = 0; i < iters; i++) {                                                         \
            MBN_PEAK_STEPS##CH(T)                                                                 \
        }                                                                                         \
        out[get_global_id(0)] = (((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))) +             \
                                (((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15)));        \
    }

#define MBN_PEAK_WIDTH(W)                                                                         \
    MBN_PEAK_KERNEL(peak_fma##W##_c8, float##W, 8)                                                \
    MBN_PEAK_KERNEL(peak_fma##W##_c12, float##W, 12)                                              \
    MBN_PEAK_KERNEL(peak_fma##W##_c16, float##W, 16)

MBN_PEAK_WIDTH(4)
#if MBN_PEAK_MAX_VEC >= 8
MBN_PEAK_WIDTH(8)
#endif
#if MBN_PEAK_MAX_VEC >= 16
MBN_PEAK_WIDTH(16)
#endif
