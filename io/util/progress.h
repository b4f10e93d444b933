/* Progress reporting for long runs: on a terminal, a bar redrawn in place with images/s and
 * ETA; otherwise plain log lines at a steady rate, so CI logs and pipes stay readable. All of it
 * goes to stderr, leaving stdout for results (--json).
 *
 * The first step of a fresh run can take a hundred times the others: OpenCL implementations
 * compile kernels on first use (PoCL, CLBlast through it, GPU drivers) and cache them on disk
 * for later runs (the network says so beforehand: model/net.h). So the rate and the ETA count
 * from the end of the first step (the first line shows no ETA). */
#ifndef MBN_IO_UTIL_PROGRESS_H
#define MBN_IO_UTIL_PROGRESS_H
#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h" /* mbn_now, used with progress everywhere */

typedef struct {
    bool tty;
    bool quiet;
    const char *label; /* e.g. "epoch 3/200" */
    int64_t total;     /* steps in this phase */
    double start, last_print;
    int64_t images;
    /* The rate and ETA count from the end of the first update (kernel compilation excluded). */
    bool rate_started;
    double rate_start;
    int64_t rate_step0, rate_images0;
} MbnProgress;

void mbn_progress_start(MbnProgress *p, const char *label, int64_t total, bool quiet);
/* step is 1-based; extra is a short free text (e.g. "loss 0.5123 lr 0.1"). */
void mbn_progress_update(MbnProgress *p, int64_t step, int64_t images, const char *extra);
void mbn_progress_finish(MbnProgress *p);

#endif
