/* BatchNorm (+ ReLU6) on [M, C] rows (NHWC activations flattened), training and inference.
 * Per-channel reductions are two-stage and fixed-order: chunk p sums its rows in order into
 * partial[p, c]; channel_reduce_rows then adds the chunks in order. No atomics, so the same
 * shapes always give the same bits. Variance is two-pass (sum of squared deviations from the
 * mean) rather than E[x^2] - mean^2, which cancels badly for large activations. */

/* The backward pass's view of y = relu6(gamma * xhat + beta) at one element: sets *xhat =
 * (z - mean) * invstd and returns g = dy[i] where 0 < y < 6, else 0 (ReLU6 passes no gradient
 * where it clamped). The one definition of that gate for the scalar kernels here and in
 * bn_gpu.cl, which comes after this file in the program (cl/ files are built as one program in
 * name order). */
static inline float bn_relu6_gate(__global const float *dy, size_t i, float z, float mean,
                                  float invstd, float gamma, float beta, float *xhat) {
    *xhat = (z - mean) * invstd;
    float t = *xhat * gamma + beta;
    return (t > 0.0f && t < 6.0f) ? dy[i] : 0.0f;
}

__kernel void channel_sqdev_partial(__global const float *x, int x_off,
                                    __global const float *mean, int mean_off,
                                    __global float *partial, int M, int C, int rows_per_chunk) {
    int c = get_global_id(0);
    int p = get_global_id(1);
    if (c >= C) return;
    x += x_off;
    float mu = mean[mean_off + c];
    int r0 = p * rows_per_chunk, r1 = min(r0 + rows_per_chunk, M);
    float s = 0.0f;
    for (int r = r0; r < r1; r++) {
        float d = x[(size_t)r * C + c] - mu;
        s = fma(d, d, s);
    }
    partial[(size_t)p * C + c] = s;
}

/* From the mean and the summed squared deviations: invstd for normalisation (biased
 * variance), and the running statistics (unbiased variance, as PyTorch and MindSpore). */
__kernel void bn_finalize_stats(__global const float *sqdev, int sq_off,
                                __global const float *save_mean,
                                int stat_off, __global float *save_invstd,
                                __global float *running_mean, int rm_off,
                                __global float *running_var, int rv_off, int M, int C,
                                float momentum, float eps) {
    int c = get_global_id(0);
    if (c >= C) return;
    float ss = sqdev[sq_off + c];
    float var = ss / (float)M;
    float unbiased = M > 1 ? ss / (float)(M - 1) : var;
    save_invstd[stat_off + c] = 1.0f / sqrt(var + eps);
    float mu = save_mean[stat_off + c];
    running_mean[rm_off + c] = (1.0f - momentum) * running_mean[rm_off + c] + momentum * mu;
    running_var[rv_off + c] = (1.0f - momentum) * running_var[rv_off + c] + momentum * unbiased;
}

__kernel void bn_relu6_apply(__global const float *z, int z_off, __global const float *gamma,
                             int g_off, __global const float *beta, int b_off,
                             __global const float *mean, __global const float *invstd,
                             int stat_off, __global float *y, int y_off, int M, int C) {
    int c = get_global_id(0);
    int r = get_global_id(1);
    if (c >= C || r >= M) return;
    size_t i = (size_t)r * C + c;
    float v = (z[z_off + i] - mean[stat_off + c]) * invstd[stat_off + c] * gamma[g_off + c] +
              beta[b_off + c];
    y[y_off + i] = clamp(v, 0.0f, 6.0f);
}

/* Backward of y = relu6(gamma * xhat + beta), stage 1: per chunk, sum g and g * xhat, where
 * g = dy where 0 < bn(z) < 6, else 0. partial layout [P, 2, C]. */
__kernel void bn_relu6_bwd_partial(__global const float *dy, int dy_off, __global const float *z,
                                   int z_off, __global const float *gamma, int g_off,
                                   __global const float *beta, int b_off,
                                   __global const float *mean, __global const float *invstd,
                                   int stat_off, __global float *partial, int M, int C,
                                   int rows_per_chunk) {
    int c = get_global_id(0);
    int p = get_global_id(1);
    if (c >= C) return;
    float mu = mean[stat_off + c], is = invstd[stat_off + c];
    float ga = gamma[g_off + c], be = beta[b_off + c];
    int r0 = p * rows_per_chunk, r1 = min(r0 + rows_per_chunk, M);
    float sg = 0.0f, sgx = 0.0f;
    for (int r = r0; r < r1; r++) {
        size_t i = (size_t)r * C + c;
        float xhat;
        float g = bn_relu6_gate(dy, dy_off + i, z[z_off + i], mu, is, ga, be, &xhat);
        sg += g;
        sgx = fma(g, xhat, sgx);
    }
    partial[((size_t)p * 2 + 0) * C + c] = sg;
    partial[((size_t)p * 2 + 1) * C + c] = sgx;
}

/* Stage 2: dbeta = sum g, dgamma = sum g * xhat, chunks in order. */
__kernel void bn_bwd_finalize(__global const float *partial, int P, int C,
                              __global float *dgamma, int dg_off, __global float *dbeta,
                              int db_off) {
    int c = get_global_id(0);
    if (c >= C) return;
    float sg = 0.0f, sgx = 0.0f;
    for (int p = 0; p < P; p++) {
        sg += partial[((size_t)p * 2 + 0) * C + c];
        sgx += partial[((size_t)p * 2 + 1) * C + c];
    }
    dbeta[db_off + c] = sg;
    dgamma[dg_off + c] = sgx;
}

/* dz = gamma * invstd / M * (M * g - dbeta - xhat * dgamma) */
__kernel void bn_relu6_bwd_apply(__global const float *dy, int dy_off, __global const float *z,
                                 int z_off, __global const float *gamma, int g_off,
                                 __global const float *beta, int b_off,
                                 __global const float *mean, __global const float *invstd,
                                 int stat_off, __global const float *dgamma, int dg_off,
                                 __global const float *dbeta, int db_off, __global float *dz,
                                 int dz_off, int M, int C) {
    int c = get_global_id(0);
    int r = get_global_id(1);
    if (c >= C || r >= M) return;
    size_t i = (size_t)r * C + c;
    float is = invstd[stat_off + c], ga = gamma[g_off + c];
    float xhat;
    float g = bn_relu6_gate(dy, dy_off + i, z[z_off + i], mean[stat_off + c], is, ga,
                            beta[b_off + c], &xhat);
    float inv_m = 1.0f / (float)M;
    dz[dz_off + i] = ga * is * (g - inv_m * dbeta[db_off + c] - xhat * inv_m * dgamma[dg_off + c]);
}

/* Inference: w' = w * s and b = beta - mean * s, s = gamma / sqrt(var + eps). */
__kernel void bn_fold(__global const float *w, int w_off, __global const float *gamma, int g_off,
                      __global const float *beta, int b_off, __global const float *mean,
                      int m_off, __global const float *var, int v_off, float eps, int C, int K,
                      int channel_minor, __global float *w_out, int wo_off,
                      __global float *b_out, int bo_off) {
    int i = get_global_id(0);
    if (i >= C * K) return;
    int c = channel_minor ? i % C : i / K;
    float s = gamma[g_off + c] / sqrt(var[v_off + c] + eps);
    w_out[wo_off + i] = w[w_off + i] * s;
    if (i < C) {
        float si = gamma[g_off + i] / sqrt(var[v_off + i] + eps);
        b_out[bo_off + i] = beta[b_off + i] - mean[m_off + i] * si;
    }
}

/* ---- cpu family: work-item (c / V, chunk p) walks the chunk's rows with V-channel vectors
 * (V = MBN_CPU_VEC, or MBN_CPU_HALF where the full width does not divide C; cl/prelude.cl);
 * per channel the arithmetic and its order are those of the scalar kernels above. The apply
 * kernels use the same row chunks, so there are a few hundred work-items of real work rather
 * than one per element. ---- */

#define BN_ROWS(p, rpc, M) int r0 = (p) * (rpc), r1 = min(r0 + (rpc), (M))
/* The per-channel statistics and affine parameters of channels c .. c + V - 1. */
#define BN_LOAD_PARAMS(V)                                                                          \
    VT(V) mu = VL(V)(0, mean + stat_off + c), is = VL(V)(0, invstd + stat_off + c);                \
    VT(V) ga = VL(V)(0, gamma + g_off + c), be = VL(V)(0, beta + b_off + c);
/* xhat and the ReLU6 gate g (dy where 0 < bn(z) < 6, else 0) of element i, as bn_relu6_gate. */
#define BN_GATE(V)                                                                                 \
    VT(V) xhat = (VL(V)(0, z + z_off + i) - mu) * is;                                              \
    VT(V) t = xhat * ga + be;                                                                      \
    VT(V) g = select((VT(V))0.0f, VL(V)(0, dy + dy_off + i), t > 0.0f && t < 6.0f);

#define BN_KERNELS(SUFFIX, V)                                                                      \
    __kernel void channel_sum_partial##SUFFIX(__global const float *x, int x_off,                  \
                                              __global float *partial, int p_off, int M, int C,    \
                                              int rows_per_chunk) {                                \
        int c = get_global_id(0) * V;                                                              \
        int p = get_global_id(1);                                                                  \
        if (c >= C) return;                                                                        \
        x += x_off + c;                                                                            \
        BN_ROWS(p, rows_per_chunk, M);                                                             \
        VT(V) s = 0.0f;                                                                            \
        for (int r = r0; r < r1; r++) s += VL(V)(0, x + (size_t)r * C);                            \
        VS(V)(s, 0, partial + p_off + (size_t)p * C + c);                                          \
    }                                                                                              \
                                                                                                   \
    __kernel void channel_sqdev_partial##SUFFIX(__global const float *x, int x_off,                \
                                                __global const float *mean, int mean_off,          \
                                                __global float *partial, int M, int C,             \
                                                int rows_per_chunk) {                              \
        int c = get_global_id(0) * V;                                                              \
        int p = get_global_id(1);                                                                  \
        if (c >= C) return;                                                                        \
        x += x_off + c;                                                                            \
        VT(V) mu = VL(V)(0, mean + mean_off + c);                                                  \
        BN_ROWS(p, rows_per_chunk, M);                                                             \
        VT(V) s = 0.0f;                                                                            \
        for (int r = r0; r < r1; r++) {                                                            \
            VT(V) d = VL(V)(0, x + (size_t)r * C) - mu;                                            \
            s = fma(d, d, s);                                                                      \
        }                                                                                          \
        VS(V)(s, 0, partial + (size_t)p * C + c);                                                  \
    }                                                                                              \
                                                                                                   \
    __kernel void bn_relu6_apply##SUFFIX(                                                          \
        __global const float *z, int z_off, __global const float *gamma, int g_off,                \
        __global const float *beta, int b_off, __global const float *mean,                         \
        __global const float *invstd, int stat_off, __global float *y, int y_off, int M, int C,    \
        int rows_per_chunk) {                                                                      \
        int c = get_global_id(0) * V;                                                              \
        int p = get_global_id(1);                                                                  \
        if (c >= C) return;                                                                        \
        BN_LOAD_PARAMS(V)                                                                          \
        BN_ROWS(p, rows_per_chunk, M);                                                             \
        for (int r = r0; r < r1; r++) {                                                            \
            size_t i = (size_t)r * C + c;                                                          \
            VT(V) v = (VL(V)(0, z + z_off + i) - mu) * is * ga + be;                               \
            VS(V)(clamp(v, 0.0f, 6.0f), 0, y + y_off + i);                                         \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    __kernel void bn_relu6_bwd_partial##SUFFIX(                                                    \
        __global const float *dy, int dy_off, __global const float *z, int z_off,                  \
        __global const float *gamma, int g_off, __global const float *beta, int b_off,             \
        __global const float *mean, __global const float *invstd, int stat_off,                    \
        __global float *partial, int M, int C, int rows_per_chunk) {                               \
        int c = get_global_id(0) * V;                                                              \
        int p = get_global_id(1);                                                                  \
        if (c >= C) return;                                                                        \
        BN_LOAD_PARAMS(V)                                                                          \
        BN_ROWS(p, rows_per_chunk, M);                                                             \
        VT(V) sg = 0.0f, sgx = 0.0f;                                                               \
        for (int r = r0; r < r1; r++) {                                                            \
            size_t i = (size_t)r * C + c;                                                          \
            BN_GATE(V)                                                                             \
            sg += g;                                                                               \
            sgx = fma(g, xhat, sgx);                                                               \
        }                                                                                          \
        VS(V)(sg, 0, partial + ((size_t)p * 2 + 0) * C + c);                                       \
        VS(V)(sgx, 0, partial + ((size_t)p * 2 + 1) * C + c);                                      \
    }                                                                                              \
                                                                                                   \
    __kernel void bn_relu6_bwd_apply##SUFFIX(                                                      \
        __global const float *dy, int dy_off, __global const float *z, int z_off,                  \
        __global const float *gamma, int g_off, __global const float *beta, int b_off,             \
        __global const float *mean, __global const float *invstd, int stat_off,                    \
        __global const float *dgamma, int dg_off, __global const float *dbeta, int db_off,         \
        __global float *dz, int dz_off, int M, int C, int rows_per_chunk) {                        \
        int c = get_global_id(0) * V;                                                              \
        int p = get_global_id(1);                                                                  \
        if (c >= C) return;                                                                        \
        BN_LOAD_PARAMS(V)                                                                          \
        float inv_m = 1.0f / (float)M;                                                             \
        VT(V) db = VL(V)(0, dbeta + db_off + c), dg = VL(V)(0, dgamma + dg_off + c);               \
        BN_ROWS(p, rows_per_chunk, M);                                                             \
        for (int r = r0; r < r1; r++) {                                                            \
            size_t i = (size_t)r * C + c;                                                          \
            BN_GATE(V)                                                                             \
            VS(V)(ga * is * (g - inv_m * db - xhat * inv_m * dg), 0, dz + dz_off + i);             \
        }                                                                                          \
    }

BN_KERNELS(_vec, MBN_CPU_VEC)
#ifdef MBN_CPU_HALF
BN_KERNELS(_half, MBN_CPU_HALF)
#endif
#undef BN_KERNELS
#undef BN_GATE
#undef BN_LOAD_PARAMS
#undef BN_ROWS
