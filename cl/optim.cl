/* Momentum SGD as MindSpore's nn.Momentum and PyTorch's SGD(momentum, dampening 0):
 * g' = g + wd * w; v = momentum * v + g'; w -= lr * v. */
__kernel void sgd_momentum(__global float *w, __global const float *g, __global float *v, int off,
                           int n, float lr, float momentum, float weight_decay) {
    int i = get_global_id(0);
    if (i >= n) return;
    i += off;
    float gi = g[i] + weight_decay * w[i];
    float vi = momentum * v[i] + gi;
    v[i] = vi;
    w[i] -= lr * vi;
}

__kernel void fill_zero(__global float *x, int off, int n) {
    int i = get_global_id(0);
    if (i < n) x[off + i] = 0.0f;
}
