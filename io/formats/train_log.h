/* The training log (SPEC §5): DIR/train_log.csv as `mbn train` writes it, one header line
 *   kind,epoch,step,loss,lr,images_per_s,top1,top5
 * then a "train" row per step (loss, lr, images/s) and an "eval" row per evaluated epoch
 * (validation loss, top1, top5 as fractions; lr and images/s empty). Columns are found by the
 * header's names, so added columns are ignored. A resumed run appends; when it restarted from
 * an earlier checkpoint, its rows replace the ones logged after that point (train rows by step,
 * eval rows by epoch). */
#ifndef MBN_IO_FORMATS_TRAIN_LOG_H
#define MBN_IO_FORMATS_TRAIN_LOG_H
#include <stdint.h>

typedef struct {
    int epoch;    /* 1-based */
    int64_t step; /* global step after this row */
    double loss;  /* training loss of the step, or validation loss for eval rows */
    double lr;    /* train rows */
    double top1;  /* eval rows, fractions */
    double top5;
} MbnLogRow;

typedef struct {
    MbnLogRow *train, *eval;
    int n_train, n_eval;
} MbnTrainLog;

/* Reads path. MBN_EUSAGE when it cannot be opened (it was named on the command line, or is
 * the log of a folder that was); MBN_EFAIL naming the file and line for a malformed line. */
int mbn_train_log_read(const char *path, MbnTrainLog *out);
void mbn_train_log_free(MbnTrainLog *log);

#endif
