/* BatchNorm reductions for GPUs (the gpu rows of host/variants.c) on [M, C] rows: many
 * independent partial results, each a fixed-order sum, merged in a fixed order.
 *
 * Statistics are kept as (count, mean, sum of squared deviations from that mean) per chunk of
 * rows: a chunk's mean comes first, then its squared deviations (two passes over a chunk that
 * is still in cache), and chunks are combined with Chan et al.'s pairwise update
 *   n = na + nb, d = mb - ma, mean = ma + d nb / n, m2 = m2a + m2b + d^2 na nb / n,
 * which, unlike E[x^2] - mean^2, does not cancel for activations far from zero. Layout of a
 * statistics buffer with R rows: mean [R, C], m2 [R, C], count [R]. The GEMM and depthwise
 * kernels of the gpu family write the same layout from their epilogues (one row per output
 * tile), so the activation is not read again for its statistics. */

#define BNF_LC MBN_BNF_GPU_LC
#define BNF_LP MBN_BNF_GPU_LP
#define BNF_LM MBN_BNF_GPU_LM

/* Work-group: LC channels x LP lanes on chunk p of the rows; lane lp walks rows
 * r0 + lp, r0 + lp + LP, ... in order; lane sums are added in lane order. */
__kernel __attribute__((reqd_work_group_size(BNF_LC, BNF_LP, 1))) void
bn_stats_partial_lanes(__global const float *z, int z_off, int M, int C, int rows_per_chunk,
                       __global float *stats, int stats_rows) {
    __local float red[BNF_LP][BNF_LC];
    __local float chunk_mean[BNF_LC];
    int lc = get_local_id(0), lp = get_local_id(1);
    int c = get_group_id(0) * BNF_LC + lc, p = get_group_id(1);
    int r0 = p * rows_per_chunk, r1 = min(r0 + rows_per_chunk, M);
    z += z_off;
    float s = 0.0f;
    if (c < C)
        for (int r = r0 + lp; r < r1; r += BNF_LP) s += z[(size_t)r * C + c];
    red[lp][lc] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lp == 0) {
        float t = 0.0f;
        for (int l = 0; l < BNF_LP; l++) t += red[l][lc];
        chunk_mean[lc] = t / (float)(r1 - r0);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    float mu = chunk_mean[lc];
    s = 0.0f;
    if (c < C)
        for (int r = r0 + lp; r < r1; r += BNF_LP) {
            float d = z[(size_t)r * C + c] - mu;
            s = fma(d, d, s);
        }
    barrier(CLK_LOCAL_MEM_FENCE);
    red[lp][lc] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lp == 0 && c < C) {
        float t = 0.0f;
        for (int l = 0; l < BNF_LP; l++) t += red[l][lc];
        stats[(size_t)p * C + c] = mu;
        stats[((size_t)stats_rows + p) * C + c] = t;
    }
    if (lc == 0 && lp == 0 && get_group_id(0) == 0)
        stats[(size_t)2 * stats_rows * C + p] = (float)(r1 - r0);
}

static inline void chan_merge(float *n, float *mean, float *m2, float nb, float mb, float m2b) {
    if (nb == 0.0f) return;
    float na = *n, nn = na + nb, d = mb - *mean;
    *mean += d * (nb / nn);
    *m2 += m2b + d * d * (na * nb / nn);
    *n = nn;
}

/* Stage 2, one work-group of LM lanes per channel: lane l merges rows [l * P / LM, ...) in
 * order, then lane 0 merges the lanes in order. Then as bn_finalize_stats: invstd from the
 * biased variance, running statistics with the unbiased one. */
__kernel __attribute__((reqd_work_group_size(BNF_LM, 1, 1))) void
bn_stats_merge(__global const float *stats, int stats_rows, int P, int C, int M,
               __global float *save_mean, __global float *save_invstd, int stat_off,
               __global float *running_mean, int rm_off, __global float *running_var,
               int rv_off, float momentum, float eps) {
    __local float ln[BNF_LM], lmean[BNF_LM], lm2[BNF_LM];
    int l = get_local_id(0), c = get_group_id(1);
    int a = (int)(((long)P * l) / BNF_LM), b = (int)(((long)P * (l + 1)) / BNF_LM);
    float n = 0.0f, mean = 0.0f, m2 = 0.0f;
    for (int p = a; p < b; p++)
        chan_merge(&n, &mean, &m2, stats[(size_t)2 * stats_rows * C + p],
                   stats[(size_t)p * C + c], stats[((size_t)stats_rows + p) * C + c]);
    ln[l] = n, lmean[l] = mean, lm2[l] = m2;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (l != 0) return;
    n = 0.0f, mean = 0.0f, m2 = 0.0f;
    for (int k = 0; k < BNF_LM; k++) chan_merge(&n, &mean, &m2, ln[k], lmean[k], lm2[k]);
    float var = m2 / (float)M;
    float unbiased = M > 1 ? m2 / (float)(M - 1) : var;
    save_mean[stat_off + c] = mean;
    save_invstd[stat_off + c] = 1.0f / sqrt(var + eps);
    running_mean[rm_off + c] = (1.0f - momentum) * running_mean[rm_off + c] + momentum * mean;
    running_var[rv_off + c] = (1.0f - momentum) * running_var[rv_off + c] + momentum * unbiased;
}

/* Backward stage 1 (as bn_relu6_bwd_partial, partial layout [P, 2, C]): per chunk, the sums of
 * g and g * xhat with g = dy where 0 < bn(z) < 6; LP lanes per chunk, lane sums in lane order. */
#define BNB_LC MBN_BNB_GPU_LC
#define BNB_LP MBN_BNB_GPU_LP

__kernel __attribute__((reqd_work_group_size(BNB_LC, BNB_LP, 1))) void
bn_relu6_bwd_partial_lanes(__global const float *dy, int dy_off, __global const float *z,
                           int z_off, __global const float *gamma, int g_off,
                           __global const float *beta, int b_off, __global const float *mean,
                           __global const float *invstd, int stat_off, __global float *partial,
                           int M, int C, int rows_per_chunk) {
    __local float red[2][BNB_LP][BNB_LC];
    int lc = get_local_id(0), lp = get_local_id(1);
    int c = get_group_id(0) * BNB_LC + lc, p = get_group_id(1);
    int r0 = p * rows_per_chunk, r1 = min(r0 + rows_per_chunk, M);
    float sg = 0.0f, sgx = 0.0f;
    if (c < C) {
        float mu = mean[stat_off + c], is = invstd[stat_off + c];
        float ga = gamma[g_off + c], be = beta[b_off + c];
        for (int r = r0 + lp; r < r1; r += BNB_LP) {
            size_t i = (size_t)r * C + c;
            float xhat;
            float g = bn_relu6_gate(dy, dy_off + i, z[z_off + i], mu, is, ga, be, &xhat);
            sg += g;
            sgx = fma(g, xhat, sgx);
        }
    }
    red[0][lp][lc] = sg;
    red[1][lp][lc] = sgx;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lp < 2 && c < C) {
        float s = 0.0f;
        for (int l = 0; l < BNB_LP; l++) s += red[lp][l][lc];
        partial[((size_t)p * 2 + lp) * C + c] = s;
    }
}
