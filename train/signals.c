#include "train/signals.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_signal;
static struct sigaction old_int;
static bool installed;

static void on_stop_signal(int sig) {
    stop_signal = sig;
}

void mbn_stop_signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    stop_signal = 0;
    sigaction(SIGINT, &sa, &old_int);
    installed = true;
}

void mbn_stop_signals_restore(void) {
    if (!installed) return;
    sigaction(SIGINT, &old_int, NULL);
    installed = false;
}

int mbn_stop_signal(void) {
    return stop_signal;
}
