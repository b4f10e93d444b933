/* Stopping a run cleanly: while installed, SIGINT (Ctrl-C) and SIGTERM (what Slurm, Kubernetes
 * and `kill` send first, before SIGKILL) only raise a flag; the training loop sees it after the
 * current step, every rank agrees on it in the allreduce, rank 0 writes a checkpoint and the
 * run returns (exit status 1, "interrupted" in --json). */
#ifndef MBN_TRAIN_SIGNALS_H
#define MBN_TRAIN_SIGNALS_H
#include <stdbool.h>

void mbn_stop_signals_install(void);
void mbn_stop_signals_restore(void);
/* The signal that asked for the stop (SIGINT or SIGTERM), 0 while none did. */
int mbn_stop_signal(void);

#endif
