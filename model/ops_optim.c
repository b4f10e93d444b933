/* The optimizer (cl/optim.cl): momentum SGD, and zero fills. */
#include "model/ops_internal.h"

int mbn_op_sgd(MbnDevice *d, MbnBuf w, MbnBuf g, MbnBuf v, size_t n, float lr, float momentum,
               float weight_decay) {
    if (w.off != g.off || w.off != v.off)
        return mbn_fail(MBN_EFAIL, "sgd: weights, gradients and momentum must share offsets");
    size_t gs[1] = {n};
    return MBN_LAUNCH(d, MBN_K_sgd_momentum, 1, gs, NULL, MEM(w), MEM(g), MEM(v), OFF(w), I(n),
                      KFLT(lr), KFLT(momentum), KFLT(weight_decay));
}

int mbn_op_fill_zero(MbnDevice *d, MbnBuf x, size_t n) {
    size_t g[1] = {n};
    return MBN_LAUNCH(d, MBN_K_fill_zero, 1, g, NULL, MEM(x), OFF(x), I(n));
}
