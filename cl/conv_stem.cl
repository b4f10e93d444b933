/* Stem convolution (3x3, stride s, 3 input channels) as im2col + one CLBlast GEMM.
 * patches[m, k] with m = (n*Ho + oh)*Wo + ow and k = ci*9 + kh*3 + kw, so the OIHW weight
 * [Cout, 27] multiplies it directly; zero padding 1. The same patches give the weight
 * gradient as dz^T x patches in backward. */
__kernel void stem_im2col(__global const float *x, int x_off, __global float *patches, int p_off,
                          int N, int H, int W, int Ho, int Wo, int stride) {
    int ow = get_global_id(0);
    int nh = get_global_id(1);
    if (ow >= Wo || nh >= N * Ho) return;
    int n = nh / Ho, oh = nh - n * Ho;
    x += x_off;
    __global float *p = patches + p_off + ((size_t)nh * Wo + ow) * 27;
    for (int kh = 0; kh < 3; kh++) {
        int ih = oh * stride - 1 + kh;
        for (int kw = 0; kw < 3; kw++) {
            int iw = ow * stride - 1 + kw;
            bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
            size_t base = (((size_t)n * H + (inside ? ih : 0)) * W + (inside ? iw : 0)) * 3;
            for (int ci = 0; ci < 3; ci++) p[ci * 9 + kh * 3 + kw] = inside ? x[base + ci] : 0.0f;
        }
    }
}
