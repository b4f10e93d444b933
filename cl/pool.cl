/* Global average pooling over NHWC: y[n, c] = mean over the HW positions, summed in order. */
__kernel void avgpool_fwd(__global const float *x, int x_off, __global float *y, int y_off, int N,
                          int HW, int C) {
    int c = get_global_id(0);
    int n = get_global_id(1);
    if (c >= C || n >= N) return;
    __global const float *p = x + x_off + (size_t)n * HW * C + c;
    float s = 0.0f;
    for (int i = 0; i < HW; i++) s += p[(size_t)i * C];
    y[y_off + (size_t)n * C + c] = s / (float)HW;
}

/* The same for V channels per work-item (C % V == 0): a vector load per position instead of a
 * strided scalar one; each channel still sums its HW values in order (the same bits).
 * avgpool_fwd16 (C % 16 == 0) reads one 64-byte line per position; with 4 channels, the 4
 * work-items sharing a line each walked the positions C * 4 bytes apart (4 KiB at 1024
 * channels: one L1 set), and the line was gone before the next one came. */
#define AVGPOOL_FWD_VEC(V)                                                                         \
    __kernel void avgpool_fwd##V(__global const float *x, int x_off, __global float *y,            \
                                 int y_off, int N, int HW, int C) {                                \
        int c = get_global_id(0) * V;                                                              \
        int n = get_global_id(1);                                                                  \
        if (c >= C || n >= N) return;                                                              \
        __global const float *p = x + x_off + (size_t)n * HW * C + c;                              \
        float##V s = 0.0f;                                                                         \
        for (int i = 0; i < HW; i++) s += vload##V(0, p + (size_t)i * C);                          \
        vstore##V(s / (float)HW, 0, y + y_off + (size_t)n * C + c);                                \
    }
AVGPOOL_FWD_VEC(4)
AVGPOOL_FWD_VEC(16)
#undef AVGPOOL_FWD_VEC

__kernel void avgpool_bwd(__global const float *dy, int dy_off, __global float *dx, int dx_off,
                          int N, int HW, int C) {
    int c = get_global_id(0);
    int i = get_global_id(1);
    int n = get_global_id(2);
    if (c >= C || i >= HW || n >= N) return;
    dx[dx_off + ((size_t)n * HW + i) * C + c] = dy[dy_off + (size_t)n * C + c] / (float)HW;
}
