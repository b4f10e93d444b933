/* Softmax and the smoothed cross-entropy, one work-item per row (rows are short: K classes). */

__kernel void softmax_rows(__global const float *logits, int l_off, __global float *probs,
                           int p_off, int N, int K) {
    int n = get_global_id(0);
    if (n >= N) return;
    __global const float *x = logits + l_off + (size_t)n * K;
    __global float *p = probs + p_off + (size_t)n * K;
    float mx = x[0];
    for (int k = 1; k < K; k++) mx = fmax(mx, x[k]);
    float s = 0.0f;
    for (int k = 0; k < K; k++) s += exp(x[k] - mx);
    float inv = 1.0f / s;
    for (int k = 0; k < K; k++) p[k] = exp(x[k] - mx) * inv;
}

/* MindSpore CrossEntropySmooth: target t = 1 - e on the label, e / (K - 1) elsewhere;
 * row loss = -sum t * log_softmax(x); dlogits = (softmax - t) / N for the batch mean. */
__kernel void softmax_xent_smooth(__global const float *logits, int l_off,
                                  __global const int *labels, int lab_off, int N, int K,
                                  float smoothing, __global float *dlogits, int d_off,
                                  __global float *row_loss) {
    int n = get_global_id(0);
    if (n >= N) return;
    __global const float *x = logits + l_off + (size_t)n * K;
    __global float *d = dlogits + d_off + (size_t)n * K;
    int label = labels[lab_off + n];
    float on = 1.0f - smoothing, off = smoothing / (float)(K - 1);
    float mx = x[0];
    for (int k = 1; k < K; k++) mx = fmax(mx, x[k]);
    float s = 0.0f;
    for (int k = 0; k < K; k++) s += exp(x[k] - mx);
    float lse = mx + log(s);
    float loss = 0.0f, inv_n = 1.0f / (float)N;
    for (int k = 0; k < K; k++) {
        float t = k == label ? on : off;
        float logp = x[k] - lse;
        loss -= t * logp;
        d[k] = (exp(logp) - t) * inv_n;
    }
    row_loss[n] = loss;
}

/* out[0] = mean of x[0..N), summed in order by one work-item (N is a batch size). */
__kernel void mean_reduce(__global const float *x, int N, __global float *out, int out_off) {
    if (get_global_id(0) != 0) return;
    float s = 0.0f;
    for (int i = 0; i < N; i++) s += x[i];
    out[out_off] = s / (float)N;
}
