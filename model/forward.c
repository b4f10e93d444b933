/* The forward pass: training mode (BN with batch statistics, activations kept for backward)
 * and inference mode (BN folded into the conv weights, bias + ReLU6 fused into the depthwise
 * kernel and applied right after each GEMM). */
#include <stdio.h>
#include <string.h>

#include "host/cl_error.h"
#include "host/profile.h"
#include "model/net.h"

static int check_batch(const MbnNet *net, int n) {
    if (n < 1 || n > net->max_batch)
        return mbn_fail(MBN_EFAIL, "batch of %d images does not fit the network's batch size %d", n,
                        net->max_batch);
    return MBN_OK;
}

static size_t input_bytes(const MbnNet *net, int n) {
    return (size_t)n * net->arch.resolution * net->arch.resolution * 3 * sizeof(float);
}

/* Maps `bytes` of buf (mapped_io) for writing (invalidating) or reading (after the queue's
 * work), recorded in net->mapped. */
static int map(MbnNet *net, cl_mem buf, size_t bytes, bool write, void **out, const char *what) {
    if (net->mapped) return mbn_fail(MBN_EFAIL, "%s: the network has a buffer mapped", what);
    cl_int err;
    void *p = clEnqueueMapBuffer(net->dev->queue, buf, CL_TRUE,
                                 write ? CL_MAP_WRITE_INVALIDATE_REGION : CL_MAP_READ, 0, bytes, 0,
                                 NULL, NULL, &err);
    if (err != CL_SUCCESS)
        return mbn_fail_cl(err, "device %s: mapping %s", net->dev->info.name, what);
    net->mapped = *out = p;
    net->mapped_buf = buf;
    return MBN_OK;
}

static int unmap(MbnNet *net, const char *what) {
    void *p = net->mapped;
    net->mapped = NULL;
    MBN_CL_CHECK(clEnqueueUnmapMemObject(net->dev->queue, net->mapped_buf, p, 0, NULL, NULL),
                 "device %s: unmapping %s", net->dev->info.name, what);
    return MBN_OK;
}

int mbn_net_set_input(MbnNet *net, const float *images, int n) {
    MBN_TRY(check_batch(net, n));
    size_t bytes = input_bytes(net, n);
    net->bytes_copied += bytes;
    if (net->mapped_io) { /* a copy into the mapped buffer (callers can write there directly) */
        void *p = NULL;
        MBN_TRY(map(net, net->input, bytes, true, &p, "the input batch"));
        memcpy(p, images, bytes);
        return unmap(net, "the input batch");
    }
    MBN_CL_CHECK(clEnqueueWriteBuffer(net->dev->queue, net->input, CL_FALSE, 0, bytes, images, 0,
                                      NULL, mbn_profile_slot(net->dev)),
                 "device %s: uploading the input batch", net->dev->info.name);
    return MBN_OK;
}

int mbn_net_input_map(MbnNet *net, int n, float **images) {
    MBN_TRY(check_batch(net, n));
    if (net->mapped_io)
        return map(net, net->input, input_bytes(net, n), true, (void **)images, "the input batch");
    if (!net->host_input && !(net->host_input = malloc(input_bytes(net, net->max_batch))))
        return mbn_fail(MBN_EFAIL, "out of host memory for the input batch");
    net->mapped = *images = net->host_input;
    return MBN_OK;
}

int mbn_net_input_done(MbnNet *net, int n) {
    if (!net->mapped) return mbn_fail(MBN_EFAIL, "the input batch is not mapped");
    if (net->mapped_io) return unmap(net, "the input batch");
    net->mapped = NULL;
    size_t bytes = input_bytes(net, n);
    net->bytes_copied += bytes;
    /* blocking: the staging array is free again when this returns */
    MBN_CL_CHECK(clEnqueueWriteBuffer(net->dev->queue, net->input, CL_TRUE, 0, bytes,
                                      net->host_input, 0, NULL, NULL),
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
        int K = mbn_layer_k(L);
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
        int K = mbn_layer_k(L);
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

/* The fp16 path's fold (model/ops.h): every conv layer's BN folded with its running statistics,
 * rounded once to half into wh (the depthwise taps as stored, the pointwise weights as the
 * GEMM's B operand), the stem's weight as a float B operand and every bias into wf. */
static int fold_all_h(MbnNet *net) {
    const MbnArch *a = &net->arch;
    for (int l = 0; l < a->n_layers; l++) {
        const MbnLayer *L = &a->layers[l];
        const MbnLayerParams *p = &net->lp[l];
        if (L->type == MBN_LAYER_POOL || L->type == MBN_LAYER_FC) continue;
        bool dw = L->type == MBN_LAYER_DW, stem = L->type == MBN_LAYER_STEM;
        int K = mbn_layer_k(L);
        MbnBuf w_out = stem ? MBN_BUF(net->wf, net->half_w[l]) : MBN_HBUF(net->wh, net->half_w[l]);
        MBN_TRY(mbn_op_bn_fold_to(
            net->dev, MBN_BUF(net->params, p->w), MBN_BUF(net->params, p->gamma),
            MBN_BUF(net->params, p->beta), MBN_BUF(net->params, p->mean),
            MBN_BUF(net->params, p->var), a->bn_eps, L->cout, K, dw,
            dw ? MBN_FOLD_AS_STORED : MBN_FOLD_GEMM_B, w_out, MBN_BUF(net->wf, net->half_b[l])));
    }
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

static bool fp16(const MbnNet *net) {
    return net->precision == MBN_PRECISION_FP16;
}

/* An activation buffer as the ops take it: halves on the fp16 path (the input image is float). */
static MbnBuf act(const MbnNet *net, cl_mem m) {
    return fp16(net) && m != net->input ? MBN_HBUF(m, 0) : MBN_BUF(m, 0);
}

/* Layer l's weight as its forward op reads it: training, the parameters (transposed for the
 * GEMMs); inference, the folded weights; fp16, those of fold_all_h. */
static MbnBuf conv_weight(const MbnNet *net, int l, bool train) {
    const MbnLayer *L = &net->arch.layers[l];
    if (fp16(net))
        return L->type == MBN_LAYER_STEM ? MBN_BUF(net->wf, net->half_w[l])
                                         : MBN_HBUF(net->wh, net->half_w[l]);
    if (L->type != MBN_LAYER_DW) return MBN_BUF(net->wt, net->lp[l].w);
    return MBN_BUF(train ? net->params : net->folded, net->lp[l].w);
}

/* Inference: the folded BN bias that comes with ReLU6 into each conv; none in training. */
static MbnBuf conv_bias(const MbnNet *net, int l, bool train) {
    if (train) return MBN_NOBUF;
    return fp16(net) ? MBN_BUF(net->wf, net->half_b[l]) : MBN_BUF(net->folded, net->lp[l].gamma);
}

static int forward(MbnNet *net, int n, bool train) {
    if (train && !net->training)
        return mbn_fail(MBN_EFAIL, "training forward on a network built for inference");
    if (net->mapped) return mbn_fail(MBN_EFAIL, "forward with the input or output still mapped");
    if (n < 1 || n > net->max_batch)
        return mbn_fail(MBN_EFAIL, "batch of %d images does not fit the network's batch size %d", n,
                        net->max_batch);
    MbnDevice *d = net->dev;
    const MbnArch *a = &net->arch;
    if (!train && !net->folded_valid) {
        mbn_profile_layer(d, "fold");
        MBN_TRY(fp16(net) ? fold_all_h(net) : fold_all(net));
    }
    if (train) {
        mbn_profile_layer(d, "transpose");
        MBN_TRY(transpose_weights(net, net->params));
    }
    cl_mem prev = net->input;
    int pool = a->n_layers - 2;
    for (int l = 0; l < pool && !(train && net->bn_stats); l++) {
        const MbnLayer *L = &a->layers[l];
        size_t M = (size_t)n * L->hout * L->wout;
        cl_mem out = train ? net->z[l] : inference_output(net, l, prev);
        /* Inference: the folded BN bias and ReLU6 are fused into each conv. */
        MbnBuf w = conv_weight(net, l, train), bias = conv_bias(net, l, train);
        mbn_profile_layer(d, L->name);
        switch (L->type) {
        case MBN_LAYER_STEM:
            if (train) { /* backward's weight gradient reads the patches */
                MBN_TRY(mbn_op_stem_im2col(d, MBN_BUF(prev, 0), n, L->hin, L->win, L->stride,
                                           MBN_BUF(net->patches, 0)));
                MBN_TRY(mbn_op_pw_fwd_t(d, MBN_BUF(net->patches, 0), w, bias, MBN_BUF(out, 0), M,
                                        27, L->cout));
            } else {
                MBN_TRY(mbn_op_stem_fwd(d, MBN_BUF(prev, 0), w, bias, act(net, out), n, L->hin,
                                        L->win, L->stride, L->cout, MBN_BUF(net->patches, 0)));
            }
            break;
        case MBN_LAYER_DW: {
            const MbnLayer *P = l + 1 < pool ? &a->layers[l + 1] : NULL;
            bool (*fused)(MbnDevice *, int, int, int, int) =
                fp16(net) ? mbn_op_dwpw_fused_h : mbn_op_dwpw_fused;
            if (!train && P && P->type == MBN_LAYER_PW &&
                fused(d, L->hout, L->wout, L->cin, P->cout)) {
                /* with the pointwise layer after it, in one kernel, into the buffer of l + 1 */
                out = inference_output(net, l + 1, prev);
                char both[48];
                snprintf(both, sizeof both, "%s+%s", L->name, P->name);
                mbn_profile_layer(d, both);
                MBN_TRY(mbn_op_dwpw_fwd(d, act(net, prev), w, bias, conv_weight(net, l + 1, false),
                                        conv_bias(net, l + 1, false), MBN_NOBUF, act(net, out), n,
                                        L->hin, L->win, L->cin, L->stride, P->cout));
                l++;
                break;
            }
            MBN_TRY(mbn_op_dw_fwd(d, act(net, prev), w, bias, act(net, out), n, L->hin, L->win,
                                  L->cin, L->stride));
            break;
        }
        case MBN_LAYER_PW:
            MBN_TRY(mbn_op_pw_fwd_t(d, act(net, prev), w, bias, act(net, out), M, L->cin, L->cout));
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
    MBN_TRY(mbn_op_avgpool_fwd(d, act(net, prev), MBN_BUF(net->y[pool], 0), n, P->hin * P->win,
                               P->cin));
    const MbnLayer *F = &a->layers[pool + 1];
    const MbnLayerParams *fp = &net->lp[pool + 1];
    mbn_profile_layer(d, F->name);
    if (fp16(net)) /* float, from the weight as stored */
        MBN_TRY(mbn_op_classifier(d, MBN_BUF(net->y[pool], 0), MBN_BUF(net->params, fp->w),
                                  MBN_BUF(net->params, fp->bias), MBN_BUF(net->logits, 0), n,
                                  F->cin, F->cout));
    else
        MBN_TRY(mbn_op_fc_fwd_t(d, MBN_BUF(net->y[pool], 0), MBN_BUF(net->wt, fp->w),
                                MBN_BUF(net->params, fp->bias), MBN_BUF(net->logits, 0), n, F->cin,
                                F->cout));
    if (train) net->folded_valid = false; /* running statistics moved */
    return MBN_OK;
}

double mbn_net_bytes_moved(MbnNet *net, int n) {
    const MbnArch *a = &net->arch;
    double act = fp16(net) ? 2.0 : 4.0, weights = 0, per_image = 0;
    int pool = a->n_layers - 2;
    for (int l = 0; l < pool; l++) {
        const MbnLayer *L = &a->layers[l], *P = l + 1 < pool ? &a->layers[l + 1] : NULL;
        double in = (double)L->hin * L->win * L->cin, out = (double)L->hout * L->wout * L->cout;
        per_image += (l == 0 ? 4.0 : act) * in;
        weights += (double)(L->params - 2 * L->cout) * (L->type == MBN_LAYER_STEM ? 4.0 : act) +
                   4.0 * L->cout; /* the folded weight, and its bias in float */
        bool (*fused)(MbnDevice *, int, int, int, int) =
            fp16(net) ? mbn_op_dwpw_fused_h : mbn_op_dwpw_fused;
        if (L->type == MBN_LAYER_DW && P && P->type == MBN_LAYER_PW &&
            fused(net->dev, L->hout, L->wout, L->cin, P->cout)) {
            weights += (double)(P->params - 2 * P->cout) * act + 4.0 * P->cout;
            out = (double)P->hout * P->wout * P->cout;
            l++;
        }
        per_image += act * out;
    }
    const MbnLayer *P = &a->layers[pool], *F = &a->layers[pool + 1];
    per_image += act * P->hin * P->win * P->cin + 4.0 * (F->cin + F->cout);
    weights += 4.0 * (double)F->params;
    return per_image + weights / (n > 0 ? n : 1);
}

int mbn_net_forward(MbnNet *net, int n, bool train) {
    int rc = forward(net, n, train);
    if (rc == MBN_OK) net->forwarded = true;
    return rc;
}

static int read_rows(MbnNet *net, cl_mem buf, int n, float *out, const char *what) {
    size_t bytes = (size_t)n * net->arch.num_classes * sizeof(float);
    net->bytes_copied += bytes;
    if (net->mapped_io) { /* a copy out of the mapped buffer */
        void *p = NULL;
        MBN_TRY(map(net, buf, bytes, false, &p, what));
        memcpy(out, p, bytes);
        return unmap(net, what);
    }
    MBN_CL_CHECK(clEnqueueReadBuffer(net->dev->queue, buf, CL_TRUE, 0, bytes, out, 0, NULL, NULL),
                 "device %s: reading %s", net->dev->info.name, what);
    return MBN_OK;
}

int mbn_net_read_logits(MbnNet *net, int n, float *logits) {
    return read_rows(net, net->logits, n, logits, "logits");
}

static int softmax(MbnNet *net, int n) {
    MBN_TRY(check_batch(net, n));
    mbn_profile_layer(net->dev, "softmax");
    return mbn_op_softmax(net->dev, MBN_BUF(net->logits, 0), MBN_BUF(net->probs, 0), n,
                          net->arch.num_classes);
}

int mbn_net_read_probs(MbnNet *net, int n, float *probs) {
    MBN_TRY(softmax(net, n));
    return read_rows(net, net->probs, n, probs, "probabilities");
}

int mbn_net_probs_map(MbnNet *net, int n, const float **probs) {
    MBN_TRY(softmax(net, n));
    size_t bytes = (size_t)n * net->arch.num_classes * sizeof(float);
    if (net->mapped_io) return map(net, net->probs, bytes, false, (void **)probs, "probabilities");
    if (net->mapped) return mbn_fail(MBN_EFAIL, "probabilities: the network has a buffer mapped");
    if (!net->host_probs &&
        !(net->host_probs = malloc((size_t)net->max_batch * net->arch.num_classes * sizeof(float))))
        return mbn_fail(MBN_EFAIL, "out of host memory for the probabilities");
    MBN_TRY(read_rows(net, net->probs, n, net->host_probs, "probabilities"));
    net->mapped = net->host_probs;
    *probs = net->host_probs;
    return MBN_OK;
}

int mbn_net_probs_done(MbnNet *net) {
    if (!net->mapped) return mbn_fail(MBN_EFAIL, "the probabilities are not mapped");
    if (net->mapped_io) return unmap(net, "probabilities");
    net->mapped = NULL;
    return MBN_OK;
}
