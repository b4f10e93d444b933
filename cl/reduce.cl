/* Reductions shared by the op families. Every one is fixed-order: a chunk's rows are added in
 * order by one work-item, and chunks are added in order by the second stage, so the same shapes
 * (and variant parameters) always give the same bits. No atomics. */

__kernel void channel_sum_partial(__global const float *x, int x_off, __global float *partial,
                                  int p_off, int M, int C, int rows_per_chunk) {
    int c = get_global_id(0);
    int p = get_global_id(1);
    if (c >= C) return;
    x += x_off;
    int r0 = p * rows_per_chunk, r1 = min(r0 + rows_per_chunk, M);
    float s = 0.0f;
    for (int r = r0; r < r1; r++) s += x[(size_t)r * C + c];
    partial[p_off + (size_t)p * C + c] = s;
}

/* out[j] = scale * sum_p partial[p, j] for j < cols, chunks added in order. */
__kernel void channel_reduce_rows(__global const float *partial, int P, int cols, float scale,
                                  __global float *out, int out_off) {
    int j = get_global_id(0);
    if (j >= cols) return;
    float s = 0.0f;
    for (int p = 0; p < P; p++) s += partial[(size_t)p * cols + j];
    out[out_off + j] = s * scale;
}
