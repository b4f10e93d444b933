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

/* The same for 4 channels per work-item (C % 4 == 0): a vector load per position instead of a
 * strided scalar one; each channel still sums its HW values in order (the same bits). */
__kernel void avgpool_fwd4(__global const float *x, int x_off, __global float *y, int y_off, int N,
                           int HW, int C) {
    int c = get_global_id(0) * 4;
    int n = get_global_id(1);
    if (c >= C || n >= N) return;
    __global const float *p = x + x_off + (size_t)n * HW * C + c;
    float4 s = 0.0f;
    for (int i = 0; i < HW; i++) s += vload4(0, p + (size_t)i * C);
    vstore4(s / (float)HW, 0, y + y_off + (size_t)n * C + c);
}

/* 16 channels per work-item (C % 16 == 0): one 64-byte line per position. With 4 channels,
 * the 4 work-items sharing a line each walked the HW positions C * 4 bytes apart (4 KiB at
 * 1024 channels: one L1 set), and the line was gone before the next one came. */
__kernel void avgpool_fwd16(__global const float *x, int x_off, __global float *y, int y_off,
                            int N, int HW, int C) {
    int c = get_global_id(0) * 16;
    int n = get_global_id(1);
    if (c >= C || n >= N) return;
    __global const float *p = x + x_off + (size_t)n * HW * C + c;
    float16 s = 0.0f;
    for (int i = 0; i < HW; i++) s += vload16(0, p + (size_t)i * C);
    vstore16(s / (float)HW, 0, y + y_off + (size_t)n * C + c);
}

__kernel void avgpool_bwd(__global const float *dy, int dy_off, __global float *dx, int dx_off,
                          int N, int HW, int C) {
    int c = get_global_id(0);
    int i = get_global_id(1);
    int n = get_global_id(2);
    if (c >= C || i >= HW || n >= N) return;
    dx[dx_off + ((size_t)n * HW + i) * C + c] = dy[dy_off + (size_t)n * C + c] / (float)HW;
}
