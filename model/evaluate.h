/* Evaluation over a whole split: top-1, top-5 and mean cross-entropy (without label smoothing,
 * as timm and torchvision report it), in inference mode (BN folded, running statistics). */
#ifndef MBN_MODEL_EVALUATE_H
#define MBN_MODEL_EVALUATE_H
#include <stdbool.h>
#include <stdint.h>

#include "io/data/loader.h"
#include "model/net.h"

typedef struct {
    int64_t images, top1, top5;
    double loss_sum;
    int64_t skipped;
    double seconds;
} MbnEvalStats;

/* Ranks of the label among the probabilities of one image: 0 = highest. Ties count against the
 * label (a class with the same probability and a lower index ranks first). */
int mbn_label_rank(const float *probs, int K, int label);

int mbn_evaluate(MbnNet *net, MbnLoader *ld, bool quiet, MbnEvalStats *out);

#endif
