/* The forward pass: training mode (BN with batch statistics, activations kept for backward)
 * and inference mode (BN folded into the conv weights, bias + ReLU6 fused into the depthwise
 * kernel and applied right after each GEMM). */
#include <stdio.h>
#include <string.h>

#include "host/cl_error.h"
#include "host/profile.h"
#include "model/net.h"

int mbn_net_set_input(MbnNet *net, const float *images, int n) {
    if (n < 1 || n > net->max_batch)
        return mbn_fail(MBN_EFAIL, "batch of %d images does not fit the network's batch size %d", n,
                        net->max_batch);
    size_t bytes = (size_t)n * net->arch.resolution * net->arch.resolution * 3 * sizeof(float);
    MBN_CL_CHECK(clEnqueueWriteBuffer(net->dev->queue, net->input, CL_FALSE, 0, bytes, images, 0,
                                      NULL, mbn_profile_slot(net->dev)),
                 "device %s: uploading the input batch", net->dev->info.name);
    return MBN_OK;
}

/* wt = the stem and pointwise weights of `w` and the classifier's (never folded, so always
 * from params) transposed to [Cin, Cout], the layout the forward GEMMs read. */
static int transpose_weights(MbnNet *net, cl_mem w) {
    const MbnArch *a = &net->arch;
    for (int l = 0; l < a->n_layers; l++) {
        const MbnLayer *L = &a->layers[l];
        if (L->type != MBN_LAYER_STEM && L->type != MBN_LAYER_PW && L->type != MBN_LAYER_FC)
            continue;
        int K = L->type == MBN_LAYER_STEM ? 27 : L->cin;
        cl_mem src = L->type == MBN_LAYER_FC ? net->params : w;
        size_t off = net->lp[l].w;
        MBN_TRY(mbn_op_transpose(net->dev, MBN_BUF(src, off), MBN_BUF(net->wt, off), L->cout, K));
    }
    return MBN_OK;
}

/* Folds every conv layer's BN (running statistics) into weights and biases in net->folded:
 * the folded weight sits at the layer's weight offset, its bias at the gamma offset. */
static int fold_all(MbnNet *net) {
    const MbnArch *a = &net->arch;
    for (int l = 0; l < a->n_layers; l++) {
        const MbnLayer *L = &a->layers[l];
        const MbnLayerParams *p = &net->lp[l];
        if (L->type == MBN_LAYER_POOL || L->type == MBN_LAYER_FC) continue;
        int K = L->type == MBN_LAYER_STEM ? 27 : L->type == MBN_LAYER_DW ? 9 : L->cin;
        MBN_TRY(mbn_op_bn_fold(net->dev, MBN_BUF(net->params, p->w), MBN_BUF(net->params, p->gamma),
                               MBN_BUF(net->params, p->beta), MBN_BUF(net->params, p->mean),
                               MBN_BUF(net->params, p->var), a->bn_eps, L->cout, K,
                               L->type == MBN_LAYER_DW, MBN_BUF(net->folded, p->w),
                               MBN_BUF(net->folded, p->gamma)));
    }
    MBN_TRY(transpose_weights(net, net->folded));
    net->folded_valid = true;
    return MBN_OK;
}

static int bn_train(MbnNet *net, int l, size_t M) {
    const MbnLayerParams *p = &net->lp[l];
    return mbn_op_bn_relu6_train(net->dev, MBN_BUF(net->z[l], 0), MBN_BUF(net->params, p->gamma),
                                 MBN_BUF(net->params, p->beta), MBN_BUF(net->params, p->mean),
                                 MBN_BUF(net->params, p->var), 0.1f, net->arch.bn_eps, M,
                                 net->arch.layers[l].cout, MBN_BUF(net->y[l], 0),
                                 MBN_BUF(net->save_mean, p->gamma),
                                 MBN_BUF(net->save_invstd, p->gamma), MBN_BUF(net->scratch, 0));
}

/* The batch statistics of layer l as the next layer's pending BN + ReLU6 (fused path). */
static MbnBnApply pending_bn(const MbnNet *net, int l) {
    const MbnLayerParams *p = &net->lp[l];
    MbnBnApply bn = {MBN_BUF(net->params, p->gamma), MBN_BUF(net->params, p->beta),
                     MBN_BUF(net->save_mean, p->gamma), MBN_BUF(net->save_invstd, p->gamma),
                     MBN_BUF(net->y[l], 0)};
    return bn;
}

/* Training forward with BatchNorm fused into its neighbours (see ops.h): each conv reads the
 * previous layer's z, applying its BN + ReLU6 on load (and storing y for backward), and writes
 * its own z with per-tile statistics, merged right after. */
static int forward_train_fused(MbnNet *net, int n) {
    MbnDevice *d = net->dev;
    const MbnArch *a = &net->arch;
    int pool = a->n_layers - 2;
    MbnBuf stats = MBN_BUF(net->bn_stats, 0);
    for (int l = 0; l < pool; l++) {
        const MbnLayer *L = &a->layers[l];
        const MbnLayerParams *p = &net->lp[l];
        size_t M = (size_t)n * L->hout * L->wout;
        MbnBnApply prev_bn;
        const MbnBnApply *in = NULL;
        MbnBuf x = MBN_BUF(net->input, 0);
        if (l > 0) {
            prev_bn = pending_bn(net, l - 1);
            in = &prev_bn;
            x = MBN_BUF(net->z[l - 1], 0);
        }
        mbn_profile_layer(d, L->name);
        MbnOp producer = MBN_OP_GEMM;
        switch (L->type) {
        case MBN_LAYER_STEM:
            MBN_TRY(
                mbn_op_stem_im2col(d, x, n, L->hin, L->win, L->stride, MBN_BUF(net->patches, 0)));
            MBN_TRY(mbn_op_pw_fwd_train(d, MBN_BUF(net->patches, 0), NULL, MBN_BUF(net->wt, p->w),
                                        MBN_BUF(net->z[l], 0), M, 27, L->cout, stats));
            break;
        case MBN_LAYER_DW:
            producer = MBN_OP_DW_FWD;
            MBN_TRY(mbn_op_dw_fwd_train(d, x, in, MBN_BUF(net->params, p->w), MBN_BUF(net->z[l], 0),
                                        n, L->hin, L->win, L->cin, L->stride, stats));
            break;
        case MBN_LAYER_PW:
            MBN_TRY(mbn_op_pw_fwd_train(d, x, in, MBN_BUF(net->wt, p->w), MBN_BUF(net->z[l], 0), M,
                                        L->cin, L->cout, stats));
            break;
        default:
            return mbn_fail(MBN_EFAIL, "layer %s: unexpected type in the body", L->name);
        }
        size_t rows = mbn_ops_bn_stats_rows(d, producer, n, L->hout, L->wout);
        MBN_TRY(mbn_op_bn_stats_finalize(d, stats, rows, M, L->cout, MBN_BUF(net->params, p->mean),
                                         MBN_BUF(net->params, p->var), 0.1f, a->bn_eps,
                                         MBN_BUF(net->save_mean, p->gamma),
                                         MBN_BUF(net->save_invstd, p->gamma)));
    }
    /* The pool reads an activation: the last layer's BN + ReLU6 as its own pass. */
    const MbnLayer *last = &a->layers[pool - 1];
    MbnBnApply bn = pending_bn(net, pool - 1);
    return mbn_op_bn_relu6_apply(d, MBN_BUF(net->z[pool - 1], 0), &bn,
                                 (size_t)n * last->hout * last->wout, last->cout);
}

/* Where inference writes layer l's output: in a network built for inference, the ping-pong
 * buffer that is not the layer's input (a fused depthwise + pointwise pair takes one slot, so
 * the parity is followed, not fixed per layer); a training network (evaluation) has a buffer
 * per layer. */
static cl_mem inference_output(const MbnNet *net, int l, cl_mem input) {
    if (!net->act_a) return net->y[l];
    return input == net->act_a ? net->act_b : net->act_a;
}

static int forward(MbnNet *net, int n, bool train) {
    if (train && !net->training)
        return mbn_fail(MBN_EFAIL, "training forward on a network built for inference");
    if (n < 1 || n > net->max_batch)
        return mbn_fail(MBN_EFAIL, "batch of %d images does not fit the network's batch size %d", n,
                        net->max_batch);
    MbnDevice *d = net->dev;
    const MbnArch *a = &net->arch;
    if (!train && !net->folded_valid) {
        mbn_profile_layer(d, "fold");
        MBN_TRY(fold_all(net));
    }
    if (train) {
        mbn_profile_layer(d, "transpose");
        MBN_TRY(transpose_weights(net, net->params));
    }
    cl_mem wbuf = train ? net->params : net->folded;
    cl_mem prev = net->input;
    int pool = a->n_layers - 2;
    for (int l = 0; l < pool && !(train && net->bn_stats); l++) {
        const MbnLayer *L = &a->layers[l];
        const MbnLayerParams *p = &net->lp[l];
        size_t M = (size_t)n * L->hout * L->wout;
        cl_mem out = train ? net->z[l] : inference_output(net, l, prev);
        /* Inference: the folded BN bias and ReLU6 are fused into each conv. */
        MbnBuf bias = train ? MBN_NOBUF : MBN_BUF(wbuf, p->gamma);
        mbn_profile_layer(d, L->name);
        switch (L->type) {
        case MBN_LAYER_STEM:
            if (train) { /* backward's weight gradient reads the patches */
                MBN_TRY(mbn_op_stem_im2col(d, MBN_BUF(prev, 0), n, L->hin, L->win, L->stride,
                                           MBN_BUF(net->patches, 0)));
                MBN_TRY(mbn_op_pw_fwd_t(d, MBN_BUF(net->patches, 0), MBN_BUF(net->wt, p->w), bias,
                                        MBN_BUF(out, 0), M, 27, L->cout));
            } else {
                MBN_TRY(mbn_op_stem_fwd(d, MBN_BUF(prev, 0), MBN_BUF(net->wt, p->w), bias,
                                        MBN_BUF(out, 0), n, L->hin, L->win, L->stride, L->cout,
                                        MBN_BUF(net->patches, 0)));
            }
            break;
        case MBN_LAYER_DW: {
            const MbnLayer *P = l + 1 < pool ? &a->layers[l + 1] : NULL;
            if (!train && P && P->type == MBN_LAYER_PW &&
                mbn_op_dwpw_fused(d, L->hout, L->wout, L->cin, P->cout)) {
                /* with the pointwise layer after it, in one kernel, into the buffer of l + 1 */
                out = inference_output(net, l + 1, prev);
                char both[48];
                snprintf(both, sizeof both, "%s+%s", L->name, P->name);
                mbn_profile_layer(d, both);
                const MbnLayerParams *pp = &net->lp[l + 1];
                MBN_TRY(mbn_op_dwpw_fwd(d, MBN_BUF(prev, 0), MBN_BUF(wbuf, p->w), bias,
                                        MBN_BUF(net->wt, pp->w), MBN_BUF(wbuf, pp->gamma),
                                        MBN_NOBUF, MBN_BUF(out, 0), n, L->hin, L->win, L->cin,
                                        L->stride, P->cout));
                l++;
                break;
            }
            MBN_TRY(mbn_op_dw_fwd(d, MBN_BUF(prev, 0), MBN_BUF(wbuf, p->w), bias, MBN_BUF(out, 0),
                                  n, L->hin, L->win, L->cin, L->stride));
            break;
        }
        case MBN_LAYER_PW:
            MBN_TRY(mbn_op_pw_fwd_t(d, MBN_BUF(prev, 0), MBN_BUF(net->wt, p->w), bias,
                                    MBN_BUF(out, 0), M, L->cin, L->cout));
            break;
        default:
            return mbn_fail(MBN_EFAIL, "layer %s: unexpected type in the body", L->name);
        }
        if (train) MBN_TRY(bn_train(net, l, M));
        prev = train ? net->y[l] : out;
    }
    if (train && net->bn_stats) MBN_TRY(forward_train_fused(net, n));
    if (train) prev = net->y[pool - 1];
    const MbnLayer *P = &a->layers[pool];
    mbn_profile_layer(d, P->name);
    MBN_TRY(mbn_op_avgpool_fwd(d, MBN_BUF(prev, 0), MBN_BUF(net->y[pool], 0), n, P->hin * P->win,
                               P->cin));
    const MbnLayer *F = &a->layers[pool + 1];
    const MbnLayerParams *fp = &net->lp[pool + 1];
    mbn_profile_layer(d, F->name);
    MBN_TRY(mbn_op_fc_fwd_t(d, MBN_BUF(net->y[pool], 0), MBN_BUF(net->wt, fp->w),
                            MBN_BUF(net->params, fp->bias), MBN_BUF(net->logits, 0), n, F->cin,
                            F->cout));
    if (train) net->folded_valid = false; /* running statistics moved */
    return MBN_OK;
}

int mbn_net_forward(MbnNet *net, int n, bool train) {
    int rc = forward(net, n, train);
    if (rc == MBN_OK) net->forwarded = true;
    return rc;
}

static int read_rows(MbnNet *net, cl_mem buf, int n, float *out, const char *what) {
    MBN_CL_CHECK(clEnqueueReadBuffer(net->dev->queue, buf, CL_TRUE, 0,
                                     (size_t)n * net->arch.num_classes * sizeof(float), out, 0,
                                     NULL, NULL),
                 "device %s: reading %s", net->dev->info.name, what);
    return MBN_OK;
}

int mbn_net_read_logits(MbnNet *net, int n, float *logits) {
    return read_rows(net, net->logits, n, logits, "logits");
}

int mbn_net_read_probs(MbnNet *net, int n, float *probs) {
    mbn_profile_layer(net->dev, "softmax");
    MBN_TRY(mbn_op_softmax(net->dev, MBN_BUF(net->logits, 0), MBN_BUF(net->probs, 0), n,
                           net->arch.num_classes));
    return read_rows(net, net->probs, n, probs, "probabilities");
}
