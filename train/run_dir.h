/* The run folder (ckpt_dir): created with its parents, labels.txt (class names in index order)
 * and the training log train_log.csv (SPEC §5): one row per step (kind "train": epoch, step,
 * loss, lr, images/s) and one per evaluation (kind "eval": loss, top-1, top-5). A resumed run
 * appends to the log. Every row is flushed as it is written, so `tail -f` follows the run and a
 * killed run loses none. Checkpoints are written into the same folder by run.c. */
#ifndef MBN_TRAIN_RUN_DIR_H
#define MBN_TRAIN_RUN_DIR_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* mkdir -p; errors name the parameter ("ckpt_dir"). */
int mbn_run_dir_create(const char *dir);
int mbn_run_dir_write_labels(const char *dir, char *const *names, int n);

typedef struct {
    FILE *f;
    char path[1200];
} MbnRunLog;

/* fresh: a new log with its header (overwriting an old one); else appends. */
int mbn_run_log_open(MbnRunLog *log, const char *dir, bool fresh);
void mbn_run_log_step(MbnRunLog *log, int epoch, int64_t global_step, double loss, double lr,
                      double images_per_s);
void mbn_run_log_eval(MbnRunLog *log, int epoch, int64_t global_step, double loss, double top1,
                      double top5);
void mbn_run_log_close(MbnRunLog *log);

#endif
