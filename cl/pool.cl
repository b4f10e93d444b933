/* Global average pooling over NHWC: y[n, c] = mean over the HW positions, summed in order, in
 * float. S: the storage of x (float, or half for the fp16 inference path: cl/prelude.cl); y is
 * float either way (the classifier runs in float). */
#define AVGPOOL_FWD(NAME, S)                                                                       \
    __kernel void NAME(__global const S *x, int x_off, __global float *y, int y_off, int N,       \
                       int HW, int C) {                                                            \
        int c = get_global_id(0);                                                                  \
        int n = get_global_id(1);                                                                  \
        if (c >= C || n >= N) return;                                                              \
        __global const S *p = x + x_off + (size_t)n * HW * C + c;                                  \
        float s = 0.0f;                                                                            \
        for (int i = 0; i < HW; i++) s += SLOAD1(S, (size_t)i * C, p);                             \
        y[y_off + (size_t)n * C + c] = s / (float)HW;                                              \
    }
AVGPOOL_FWD(avgpool_fwd, float)
AVGPOOL_FWD(avgpool_fwd_h, half)
#undef AVGPOOL_FWD

/* The same for V channels per work-item (C % V == 0): a vector load per position instead of a
 * strided scalar one; each channel still sums its HW values in order (the same bits).
 * avgpool_fwd_vec (V = MBN_CPU_VEC, one SIMD register; 16 channels = one 64-byte line on
 * AVX-512) reads whole vectors per position; with 4 channels, the 4 work-items sharing a
 * 64-byte line each walked the positions C * 4 bytes apart (4 KiB at 1024 channels: one L1
 * set), and the line was gone before the next one came. */
#define AVGPOOL_FWD_VEC(NAME, V, S)                                                                \
    __kernel void NAME(__global const S *x, int x_off, __global float *y, int y_off, int N,       \
                       int HW, int C) {                                                            \
        int c = get_global_id(0) * V;                                                              \
        int n = get_global_id(1);                                                                  \
        if (c >= C || n >= N) return;                                                              \
        __global const S *p = x + x_off + (size_t)n * HW * C + c;                                  \
        VT(V) s = 0.0f;                                                                            \
        for (int i = 0; i < HW; i++) s += SLOAD(S, V)(0, p + (size_t)i * C);                       \
        VS(V)(s / (float)HW, 0, y + y_off + (size_t)n * C + c);                                    \
    }
AVGPOOL_FWD_VEC(avgpool_fwd4, 4, float)
AVGPOOL_FWD_VEC(avgpool_fwd4_h, 4, half)
#if MBN_CPU_VEC > 4
AVGPOOL_FWD_VEC(avgpool_fwd_vec, MBN_CPU_VEC, float)
AVGPOOL_FWD_VEC(avgpool_fwd_vec_h, MBN_CPU_VEC, half)
#endif
#undef AVGPOOL_FWD_VEC

__kernel void avgpool_bwd(__global const float *dy, int dy_off, __global float *dx, int dx_off,
                          int N, int HW, int C) {
    int c = get_global_id(0);
    int i = get_global_id(1);
    int n = get_global_id(2);
    if (c >= C || i >= HW || n >= N) return;
    dx[dx_off + ((size_t)n * HW + i) * C + c] = dy[dy_off + (size_t)n * C + c] / (float)HW;
}
