#include "train/signals.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_signal;
static struct sigaction old_int, old_term;
static bool installed;

static void on_stop_signal(int sig) {
    stop_signal = sig;
}

void mbn_stop_signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESETHAND: a second signal must not kill a rank in the middle of its checkpoint
     * (under Slurm a rank gets SIGTERM from the scheduler and again from mpirun). SIGKILL
     * still ends it at once. */
    stop_signal = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    installed = true;
}

void mbn_stop_signals_restore(void) {
    if (!installed) return;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    installed = false;
}

int mbn_stop_signal(void) {
    return stop_signal;
}
