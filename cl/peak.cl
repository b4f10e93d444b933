/* FMA peak of a device, for `mbn bench`'s "share of peak": every work-item runs 16 independent
 * chains a = a*m + c over a float4/float8/float16 vector, so the FMA units always have
 * independent work (x86 cores need latency x pipes = 8-10 chains in flight; 8 chains reached
 * only 80% of the 16-chain rate on PoCL/Zen 5; GPUs add more from other work-items). m and c
 * are kernel arguments, so nothing can be folded at compile time; m < 1 keeps the values near
 * c/(1-m), far from overflow and denormals. Each iteration is 16 mads per vector lane = 32
 * flops per lane. The host tries the three widths and keeps the fastest (host/peak.c): PoCL
 * maps an explicit vector onto SIMD registers as is (float16 = one AVX-512 register), GPUs
 * prefer the narrow vectors (fewer registers per work-item). */
#define MBN_PEAK_STEP4(T, a, b, c_, d)                                                            \
    a = mad(a, (T)m, (T)c);                                                                       \
    b = mad(b, (T)m, (T)c);                                                                       \
    c_ = mad(c_, (T)m, (T)c);                                                                     \
    d = mad(d, (T)m, (T)c);

#define MBN_PEAK_KERNEL(NAME, T)                                                                  \
    __kernel void NAME(__global T *out, int iters, float m, float c) {                            \
        T a0 = (T)((float)get_global_id(0) * 1e-6f), a1 = a0 + (T)1.0f, a2 = a0 + (T)2.0f;        \
        T a3 = a0 + (T)3.0f, a4 = a0 + (T)4.0f, a5 = a0 + (T)5.0f, a6 = a0 + (T)6.0f;             \
        T a7 = a0 + (T)7.0f, a8 = a0 + (T)8.0f, a9 = a0 + (T)9.0f, a10 = a0 + (T)10.0f;           \
        T a11 = a0 + (T)11.0f, a12 = a0 + (T)12.0f, a13 = a0 + (T)13.0f, a14 = a0 + (T)14.0f;     \
        T a15 = a0 + (T)15.0f;                                                                    \
        for (int i = 0; i < iters; i++) {                                                         \
            MBN_PEAK_STEP4(T, a0, a1, a2, a3)                                                     \
            MBN_PEAK_STEP4(T, a4, a5, a6, a7)                                                     \
            MBN_PEAK_STEP4(T, a8, a9, a10, a11)                                                   \
            MBN_PEAK_STEP4(T, a12, a13, a14, a15)                                                 \
        }                                                                                         \
        out[get_global_id(0)] = (((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))) +             \
                                (((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15)));        \
    }

MBN_PEAK_KERNEL(peak_fma4, float4)
MBN_PEAK_KERNEL(peak_fma8, float8)
MBN_PEAK_KERNEL(peak_fma16, float16)
