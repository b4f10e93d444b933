/* Stopping a run cleanly: while installed, SIGINT (Ctrl-C) only raises a flag; the training
 * loop sees it after the current step, writes a checkpoint and returns. */
#ifndef MBN_TRAIN_SIGNALS_H
#define MBN_TRAIN_SIGNALS_H
#include <stdbool.h>

void mbn_stop_signals_install(void);
void mbn_stop_signals_restore(void);
/* The signal that asked for the stop (SIGINT), 0 while none did. */
int mbn_stop_signal(void);

#endif
