/* Depthwise 3x3 kernels for GPUs (the gpu rows of host/variants.c), NHWC, padding 1, stride 1
 * or 2. A work-group of LC x LP work-items owns LC channels (dimension 0: adjacent work-items
 * read adjacent floats) of a TH x TW tile of one image; the input tile and its halo are loaded
 * once into local memory and every output reads its 9 taps from there. Per output the taps are
 * added in the order of the generic kernels (kh, then kw), taps outside the image reading zeros
 * from the local tile. Any C (channels past C are masked).
 *
 * Forward options (uniform per launch):
 *   bn_in     the input is the previous layer's pre-BatchNorm output z: BN + ReLU6 is applied
 *             as the tile is loaded (padding stays zero), and the tile's own pixels are stored
 *             to x_act (backward needs the activation); this replaces a separate pass that would
 *             read z and write the activation, and the read of the activation here;
 *   epilogue  0 none, 1 folded-BN bias + ReLU6, 3 BatchNorm statistics of the tile (per
 *             channel: mean and summed squared deviations over its outputs, two passes over the
 *             registers) to stats[tile] for bn_stats_merge. */

#define DWF_LC MBN_DWF_GPU_LC
#define DWF_LP MBN_DWF_GPU_LP
#define DWF_TH MBN_DWF_GPU_TH
#define DWF_TW MBN_DWF_GPU_TW
#define DWF_Q ((DWF_TH * DWF_TW + DWF_LP - 1) / DWF_LP) /* outputs per work-item */
#define DWF_IH ((DWF_TH - 1) * 2 + 3)                   /* input tile rows at stride 2 */
#define DWF_IW ((DWF_TW - 1) * 2 + 3)

__kernel __attribute__((reqd_work_group_size(DWF_LC, DWF_LP, 1))) void
dw_conv3x3_fwd_tile(__global const float *x, int x_off, __global const float *w, int w_off,
                    __global const float *bias, int b_off, int epilogue, __global float *y,
                    int y_off, int N, int H, int W, int C, int Ho, int Wo, int stride, int bn_in,
                    __global const float *gamma, int g_off, __global const float *beta, int be_off,
                    __global const float *mean, __global const float *invstd, int stat_off,
                    __global float *x_act, int xa_off, __global float *stats, int stats_rows) {
    __local float xs[DWF_IH * DWF_IW * DWF_LC];
    __local float red[DWF_LP][DWF_LC];
    __local float tile_mean[DWF_LC];
    int lc = get_local_id(0), lp = get_local_id(1), lid = lp * DWF_LC + lc;
    int c0 = get_group_id(0) * DWF_LC, c = c0 + lc;
    int tiles_w = (Wo + DWF_TW - 1) / DWF_TW, tiles_h = (Ho + DWF_TH - 1) / DWF_TH;
    int tile = get_group_id(1), n = get_group_id(2);
    int oh0 = (tile / tiles_w) * DWF_TH, ow0 = (tile % tiles_w) * DWF_TW;
    int ih0 = oh0 * stride - 1, iw0 = ow0 * stride - 1;
    int in_h = (DWF_TH - 1) * stride + 3, in_w = (DWF_TW - 1) * stride + 3;
    x += x_off;
    for (int e = lid; e < in_h * in_w * DWF_LC; e += DWF_LC * DWF_LP) {
        int cl = e % DWF_LC, pix = e / DWF_LC, r = pix / in_w, q = pix % in_w;
        int ih = ih0 + r, iw = iw0 + q, ch = c0 + cl;
        float v = 0.0f;
        if (ih >= 0 && ih < H && iw >= 0 && iw < W && ch < C) {
            size_t i = (((size_t)n * H + ih) * W + iw) * C + ch;
            v = x[i];
            if (bn_in) {
                v = clamp((v - mean[stat_off + ch]) * invstd[stat_off + ch] * gamma[g_off + ch] +
                              beta[be_off + ch],
                          0.0f, 6.0f);
                /* the pixels this tile owns: rows [oh0 * s, (oh0 + TH) * s), same for columns */
                if (r >= 1 && r <= DWF_TH * stride && q >= 1 && q <= DWF_TW * stride)
                    x_act[xa_off + i] = v;
            }
        }
        xs[(r * DWF_IW + q) * DWF_LC + cl] = v;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    float wt[9];
    for (int t = 0; t < 9; t++) wt[t] = c < C ? w[w_off + t * C + c] : 0.0f;
    float bv = (epilogue == 1 && c < C) ? bias[b_off + c] : 0.0f;
    float vals[DWF_Q];
    for (int k = 0; k < DWF_Q; k++) {
        int qq = lp + k * DWF_LP, th = qq / DWF_TW, tw = qq % DWF_TW;
        int oh = oh0 + th, ow = ow0 + tw;
        vals[k] = 0.0f;
        if (qq >= DWF_TH * DWF_TW || oh >= Ho || ow >= Wo) continue;
        float acc = 0.0f;
        for (int kh = 0; kh < 3; kh++)
            for (int kw = 0; kw < 3; kw++)
                acc = fma(xs[((th * stride + kh) * DWF_IW + tw * stride + kw) * DWF_LC + lc],
                          wt[kh * 3 + kw], acc);
        if (epilogue == 1) acc = clamp(acc + bv, 0.0f, 6.0f);
        vals[k] = acc;
        if (c < C) y[y_off + (((size_t)n * Ho + oh) * Wo + ow) * C + c] = acc;
    }
    if (epilogue != 3) return;
    /* statistics: own outputs in order, then the LP lanes in order */
    int rows = min(DWF_TH, Ho - oh0) * min(DWF_TW, Wo - ow0);
    float s = 0.0f;
    for (int k = 0; k < DWF_Q; k++) s += vals[k]; /* invalid outputs hold 0 */
    red[lp][lc] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lp == 0) {
        float t = 0.0f;
        for (int r = 0; r < DWF_LP; r++) t += red[r][lc];
        tile_mean[lc] = t / (float)rows;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    float mu = tile_mean[lc];
    s = 0.0f;
    for (int k = 0; k < DWF_Q; k++) {
        int qq = lp + k * DWF_LP;
        if (qq >= DWF_TH * DWF_TW || oh0 + qq / DWF_TW >= Ho || ow0 + qq % DWF_TW >= Wo) continue;
        float d = vals[k] - mu;
        s = fma(d, d, s);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    red[lp][lc] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    int t_index = (n * tiles_h + oh0 / DWF_TH) * tiles_w + ow0 / DWF_TW;
    if (lp == 0 && c < C) {
        float t = 0.0f;
        for (int r = 0; r < DWF_LP; r++) t += red[r][lc];
        stats[(size_t)t_index * C + c] = mu;
        stats[((size_t)stats_rows + t_index) * C + c] = t;
    }
    if (lid == 0 && get_group_id(0) == 0)
        stats[(size_t)2 * stats_rows * C + t_index] = (float)rows;
}

/* Input gradient: the work-group owns a TH x TW tile of dx; the dy rows and columns that reach
 * it (oh * s in [ih - 1, ih + 1]) are loaded into local memory, zero outside the output. Same
 * gather and tap order as dw_conv3x3_bwd_input. */
#define DWI_LC MBN_DWI_GPU_LC
#define DWI_LP MBN_DWI_GPU_LP
#define DWI_TH MBN_DWI_GPU_TH
#define DWI_TW MBN_DWI_GPU_TW
#define DWI_Q ((DWI_TH * DWI_TW + DWI_LP - 1) / DWI_LP)
#define DWI_DH (DWI_TH + 2)
#define DWI_DW (DWI_TW + 2)

__kernel __attribute__((reqd_work_group_size(DWI_LC, DWI_LP, 1))) void
dw_conv3x3_bwd_input_tile(__global const float *dy, int dy_off, __global const float *w,
                          int w_off, __global float *dx, int dx_off, int N, int H, int W, int C,
                          int Ho, int Wo, int stride) {
    __local float ds[DWI_DH * DWI_DW * DWI_LC];
    int lc = get_local_id(0), lp = get_local_id(1), lid = lp * DWI_LC + lc;
    int c0 = get_group_id(0) * DWI_LC, c = c0 + lc;
    int tiles_w = (W + DWI_TW - 1) / DWI_TW;
    int tile = get_group_id(1), n = get_group_id(2);
    int ih0 = (tile / tiles_w) * DWI_TH, iw0 = (tile % tiles_w) * DWI_TW;
    /* first output row/column that reaches the tile: ceil((i0 - 1) / s), at least 0 */
    int oh_lo = ih0 >= 1 ? (ih0 - 1 + stride - 1) / stride : 0;
    int ow_lo = iw0 >= 1 ? (iw0 - 1 + stride - 1) / stride : 0;
    int d_h = (ih0 + DWI_TH) / stride - oh_lo + 1, d_w = (iw0 + DWI_TW) / stride - ow_lo + 1;
    dy += dy_off;
    for (int e = lid; e < d_h * d_w * DWI_LC; e += DWI_LC * DWI_LP) {
        int cl = e % DWI_LC, pix = e / DWI_LC, r = pix / d_w, q = pix % d_w;
        int oh = oh_lo + r, ow = ow_lo + q, ch = c0 + cl;
        float v = 0.0f;
        if (oh < Ho && ow < Wo && ch < C) v = dy[(((size_t)n * Ho + oh) * Wo + ow) * C + ch];
        ds[(r * DWI_DW + q) * DWI_LC + cl] = v;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (c >= C) return;
    float wt[9];
    for (int t = 0; t < 9; t++) wt[t] = w[w_off + t * C + c];
    for (int k = 0; k < DWI_Q; k++) {
        int qq = lp + k * DWI_LP;
        int ih = ih0 + qq / DWI_TW, iw = iw0 + qq % DWI_TW;
        if (qq >= DWI_TH * DWI_TW || ih >= H || iw >= W) continue;
        float acc = 0.0f;
        for (int kh = 0; kh < 3; kh++) {
            int t = ih + 1 - kh; /* = oh * stride */
            if (t < 0 || t % stride) continue;
            int oh = t / stride;
            if (oh >= Ho) continue;
            for (int kw = 0; kw < 3; kw++) {
                int u = iw + 1 - kw;
                if (u < 0 || u % stride) continue;
                int ow = u / stride;
                if (ow >= Wo) continue;
                acc = fma(ds[((oh - oh_lo) * DWI_DW + ow - ow_lo) * DWI_LC + lc], wt[kh * 3 + kw],
                          acc);
            }
        }
        dx[dx_off + (((size_t)n * H + ih) * W + iw) * C + c] = acc;
    }
}

/* Weight gradient stage 1 with many independent partial sums: the work-group owns LC channels
 * of a chunk of output rows (n * Ho + oh); lane lp walks the chunk's rows in order and, in each,
 * the columns ow = lp, lp + LP, ...; the 9 tap sums of the LP lanes are then added in lane order
 * (local memory) into partial[p, tap, c]. channel_reduce_rows adds the chunks in order. */
#define DWW_LC MBN_DWW_GPU_LC
#define DWW_LP MBN_DWW_GPU_LP

__kernel __attribute__((reqd_work_group_size(DWW_LC, DWW_LP, 1))) void
dw_conv3x3_bwd_weight_lanes(__global const float *x, int x_off, __global const float *dy,
                            int dy_off, __global float *partial, int N, int H, int W, int C,
                            int Ho, int Wo, int stride, int rows_per_chunk) {
    __local float red[DWW_LP][9][DWW_LC];
    int lc = get_local_id(0), lp = get_local_id(1);
    int c = get_group_id(0) * DWW_LC + lc, p = get_group_id(1);
    x += x_off;
    dy += dy_off;
    float acc[9];
    for (int t = 0; t < 9; t++) acc[t] = 0.0f;
    int r0 = p * rows_per_chunk, r1 = min(r0 + rows_per_chunk, N * Ho);
    if (c < C)
        for (int r = r0; r < r1; r++) {
            int n = r / Ho, oh = r - n * Ho;
            for (int ow = lp; ow < Wo; ow += DWW_LP) {
                float g = dy[((size_t)r * Wo + ow) * C + c];
                for (int kh = 0; kh < 3; kh++) {
                    int ih = oh * stride - 1 + kh;
                    if (ih < 0 || ih >= H) continue;
                    for (int kw = 0; kw < 3; kw++) {
                        int iw = ow * stride - 1 + kw;
                        if (iw < 0 || iw >= W) continue;
                        acc[kh * 3 + kw] = fma(g, x[(((size_t)n * H + ih) * W + iw) * C + c],
                                               acc[kh * 3 + kw]);
                    }
                }
            }
        }
    for (int t = 0; t < 9; t++) red[lp][t][lc] = acc[t];
    barrier(CLK_LOCAL_MEM_FENCE);
    /* lane lp finishes taps lp, lp + LP, ...: the LP lane sums in lane order */
    for (int t = lp; t < 9 && c < C; t += DWW_LP) {
        float s = 0.0f;
        for (int l = 0; l < DWW_LP; l++) s += red[l][t][lc];
        partial[((size_t)p * 9 + t) * C + c] = s;
    }
}
