#include "model/evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/util/progress.h"

int mbn_label_rank(const float *probs, int K, int label) {
    int rank = 0;
    float p = probs[label];
    for (int k = 0; k < K; k++)
        if (probs[k] > p || (probs[k] == p && k < label)) rank++;
    return rank;
}

int mbn_evaluate(MbnNet *net, MbnLoader *ld, bool quiet, MbnEvalStats *out) {
    memset(out, 0, sizeof *out);
    int K = net->arch.num_classes;
    float *probs = malloc((size_t)net->max_batch * K * sizeof *probs);
    if (!probs) return mbn_fail(MBN_EFAIL, "out of host memory for evaluation");
    int rc = mbn_loader_start_epoch(ld, 0, 0);
    MbnProgress prog;
    mbn_progress_start(&prog, "eval", mbn_loader_batches_per_epoch(ld), quiet);
    int64_t step = 0;
    double t0 = mbn_now();
    while (rc == MBN_OK) {
        MbnBatch b;
        rc = mbn_loader_next(ld, &b);
        if (rc || b.n == 0) break;
        rc = mbn_net_set_input(net, b.images, b.n);
        if (rc == MBN_OK) rc = mbn_net_forward(net, b.n, false);
        if (rc == MBN_OK) rc = mbn_net_read_probs(net, b.n, probs);
        for (int i = 0; rc == MBN_OK && i < b.n; i++) {
            const float *p = probs + (size_t)i * K;
            int label = b.labels[i];
            if (label < 0 || label >= K) {
                rc = mbn_fail(MBN_EFAIL, "label %d outside the model's %d classes", label, K);
                break;
            }
            int r = mbn_label_rank(p, K, label);
            out->top1 += r < 1;
            out->top5 += r < 5;
            double pl = p[label] > 1e-30f ? p[label] : 1e-30;
            out->loss_sum += -log(pl);
            out->images++;
        }
        step++;
        mbn_progress_update(&prog, step, out->images, "");
    }
    mbn_progress_finish(&prog);
    out->skipped = mbn_loader_skipped(ld);
    out->seconds = mbn_now() - t0;
    free(probs);
    if (rc == MBN_OK && out->images == 0)
        rc = mbn_fail(MBN_EFAIL, "evaluation found no usable images");
    return rc;
}
