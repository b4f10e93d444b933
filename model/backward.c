/* Backward pass (loss to every trainable tensor's gradient) and the momentum-SGD step. */
#include <stdlib.h>
#include <string.h>

#include "host/cl_error.h"
#include "host/profile.h"
#include "model/net.h"

static int notify_ready(const MbnGradsReady *notify, size_t from) {
    return notify && notify->ready ? notify->ready(notify->ctx, from) : MBN_OK;
}

int mbn_net_backward(MbnNet *net, const int32_t *labels, int n, float smoothing) {
    return mbn_net_backward_notify(net, labels, n, smoothing, NULL);
}

int mbn_net_backward_notify(MbnNet *net, const int32_t *labels, int n, float smoothing,
                            const MbnGradsReady *notify) {
    if (!net->training) return mbn_fail(MBN_EFAIL, "backward on a network built for inference");
    MbnDevice *d = net->dev;
    const MbnArch *a = &net->arch;
    int K = a->num_classes;
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= K)
            return mbn_fail(MBN_EFAIL, "label %d of image %d is outside 0..%d", labels[i], i,
                            K - 1);
    mbn_profile_layer(d, "loss");
    /* The upload is non-blocking from net->host_labels; the previous upload from it finished
     * long ago (the step's loss was read since), so this wait returns at once. */
    if (net->labels_uploaded) {
        cl_int err = clWaitForEvents(1, &net->labels_uploaded);
        clReleaseEvent(net->labels_uploaded);
        net->labels_uploaded = NULL;
        if (err != CL_SUCCESS) return mbn_fail_cl(err, "device %s: uploading labels", d->info.name);
    }
    if (!net->host_labels &&
        !(net->host_labels = malloc((size_t)net->max_batch * sizeof *net->host_labels)))
        return mbn_fail(MBN_EFAIL, "out of host memory");
    memcpy(net->host_labels, labels, (size_t)n * sizeof *labels);
    MBN_CL_CHECK(clEnqueueWriteBuffer(d->queue, net->labels, CL_FALSE, 0,
                                      (size_t)n * sizeof *labels, net->host_labels, 0, NULL,
                                      &net->labels_uploaded),
                 "device %s: uploading labels", d->info.name);
    MBN_TRY(mbn_op_xent_smooth(d, MBN_BUF(net->logits, 0), MBN_BUF(net->labels, 0), n, K, smoothing,
                               MBN_BUF(net->dlogits, 0), MBN_BUF(net->loss, 0),
                               MBN_BUF(net->scratch, 0)));
    int pool = a->n_layers - 2;
    const MbnLayer *F = &a->layers[pool + 1];
    const MbnLayerParams *fp = &net->lp[pool + 1];
    mbn_profile_layer(d, "fc.bwd");
    MBN_TRY(mbn_op_fc_bwd(d, MBN_BUF(net->y[pool], 0), MBN_BUF(net->params, fp->w),
                          MBN_BUF(net->dlogits, 0), MBN_BUF(net->dbuf[0], 0),
                          MBN_BUF(net->grads, fp->w), MBN_BUF(net->grads, fp->bias), n, F->cin,
                          F->cout, MBN_BUF(net->scratch, 0)));
    MBN_TRY(notify_ready(notify, fp->w));
    const MbnLayer *P = &a->layers[pool];
    mbn_profile_layer(d, "pool.bwd");
    MBN_TRY(mbn_op_avgpool_bwd(d, MBN_BUF(net->dbuf[0], 0), MBN_BUF(net->dbuf[1], 0), n,
                               P->hin * P->win, P->cin));
    cl_mem dy = net->dbuf[1], dz = net->dbuf[0];
    for (int l = pool - 1; l >= 0; l--) {
        const MbnLayer *L = &a->layers[l];
        const MbnLayerParams *p = &net->lp[l];
        size_t M = (size_t)n * L->hout * L->wout;
        mbn_profile_layer(d, net->bwd_label[l]);
        MBN_TRY(mbn_op_bn_relu6_bwd(
            d, MBN_BUF(dy, 0), MBN_BUF(net->z[l], 0), MBN_BUF(net->params, p->gamma),
            MBN_BUF(net->params, p->beta), MBN_BUF(net->save_mean, p->gamma),
            MBN_BUF(net->save_invstd, p->gamma), M, L->cout, MBN_BUF(dz, 0),
            MBN_BUF(net->grads, p->gamma), MBN_BUF(net->grads, p->beta), MBN_BUF(net->scratch, 0)));
        cl_mem x = l > 0 ? net->y[l - 1] : net->input;
        switch (L->type) {
        case MBN_LAYER_STEM:
            MBN_TRY(mbn_op_stem_bwd_weight(d, MBN_BUF(net->patches, 0), MBN_BUF(dz, 0),
                                           MBN_BUF(net->grads, p->w), M, L->cout,
                                           MBN_BUF(net->scratch, 0)));
            break;
        case MBN_LAYER_DW:
            MBN_TRY(mbn_op_dw_bwd_weight(d, MBN_BUF(x, 0), MBN_BUF(dz, 0),
                                         MBN_BUF(net->grads, p->w), n, L->hin, L->win, L->cin,
                                         L->stride, MBN_BUF(net->scratch, 0)));
            MBN_TRY(mbn_op_dw_bwd_input(d, MBN_BUF(dz, 0), MBN_BUF(net->params, p->w),
                                        MBN_BUF(dy, 0), n, L->hin, L->win, L->cin, L->stride));
            break;
        case MBN_LAYER_PW:
            /* dy was consumed by the BN backward above and is rewritten by the input
             * gradient below: free as the weight-gradient GEMM's workspace. */
            MBN_TRY(mbn_op_pw_bwd_weight_ws(d, MBN_BUF(x, 0), MBN_BUF(dz, 0),
                                            MBN_BUF(net->grads, p->w), M, L->cin, L->cout,
                                            MBN_BUF(net->scratch, 0), MBN_BUF(dy, 0)));
            /* The layer's slot of wt (its transposed weights, read by the forward only and
             * rewritten by every training forward, and by the next fold after training)
             * holds the packed weights for the input gradient. */
            MBN_TRY(mbn_op_pw_bwd_input_ws(d, MBN_BUF(dz, 0), MBN_BUF(net->params, p->w),
                                           MBN_BUF(dy, 0), M, L->cin, L->cout,
                                           MBN_BUF(net->wt, p->w)));
            break;
        default:
            return mbn_fail(MBN_EFAIL, "layer %s: unexpected type in the body", L->name);
        }
        /* Tensors are laid out in layer order: every gradient from this layer's on is final. */
        MBN_TRY(notify_ready(notify, p->w));
    }
    return MBN_OK;
}

int mbn_net_read_loss(MbnNet *net, float *loss) {
    MBN_CL_CHECK(clEnqueueReadBuffer(net->dev->queue, net->loss, CL_TRUE, 0, sizeof *loss, loss, 0,
                                     NULL, NULL),
                 "device %s: reading the loss", net->dev->info.name);
    return MBN_OK;
}

int mbn_net_sgd_step(MbnNet *net, const MbnSgdConfig *cfg) {
    return mbn_net_sgd_step_range(net, cfg, 0, net->param_floats);
}

static bool in_range(const MbnParam *p, size_t lo, size_t hi) {
    return p->trainable && p->offset >= lo && p->offset < hi;
}

int mbn_net_sgd_step_range(MbnNet *net, const MbnSgdConfig *cfg, size_t lo, size_t hi) {
    if (!net->training) return mbn_fail(MBN_EFAIL, "optimizer step on an inference network");
    mbn_profile_layer(net->dev, "sgd");
    /* One launch per run of consecutive trainable tensors with the same weight decay. */
    int i = 0;
    while (i < net->n_params) {
        const MbnParam *p = &net->params_table[i];
        if (!in_range(p, lo, hi)) {
            i++;
            continue;
        }
        bool decayed = cfg->decay_depthwise_and_bn || p->kind == MBN_PARAM_CONV_WEIGHT ||
                       p->kind == MBN_PARAM_FC_WEIGHT;
        float wd = decayed ? cfg->weight_decay : 0.0f;
        size_t start = p->offset, end = p->offset + p->count;
        int j = i + 1;
        while (j < net->n_params) {
            const MbnParam *q = &net->params_table[j];
            bool qd = cfg->decay_depthwise_and_bn || q->kind == MBN_PARAM_CONV_WEIGHT ||
                      q->kind == MBN_PARAM_FC_WEIGHT;
            if (!in_range(q, lo, hi) || (qd ? cfg->weight_decay : 0.0f) != wd) break;
            end = q->offset + q->count;
            j++;
        }
        /* Alignment padding between tensors holds zeros in w, g and v, so it stays zero. */
        MBN_TRY(mbn_op_sgd(net->dev, MBN_BUF(net->params, start), MBN_BUF(net->grads, start),
                           MBN_BUF(net->momentum, start), end - start, cfg->lr, cfg->momentum, wd));
        i = j;
    }
    net->folded_valid = false;
    return MBN_OK;
}
