/* Elementwise epilogues on [M, C] rows; dimension 0 runs along channels. */

/* After a GEMM with BN folded into its weights: y = clamp(y + b, 0, 6), in place. */
__kernel void bias_relu6(__global float *y, int y_off, __global const float *b, int b_off, int M,
                         int C) {
    int c = get_global_id(0);
    int r = get_global_id(1);
    if (c >= C || r >= M) return;
    size_t i = y_off + (size_t)r * C + c;
    y[i] = clamp(y[i] + b[b_off + c], 0.0f, 6.0f);
}

/* The classifier's bias: y[r, c] += b[c]. */
__kernel void bias_add_rows(__global float *y, int y_off, __global const float *b, int b_off,
                            int M, int C) {
    int c = get_global_id(0);
    int r = get_global_id(1);
    if (c >= C || r >= M) return;
    y[y_off + (size_t)r * C + c] += b[b_off + c];
}
