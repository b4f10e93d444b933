#include "io/util/progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void mbn_progress_start(MbnProgress *p, const char *label, int64_t total, bool quiet) {
    memset(p, 0, sizeof *p);
    p->tty = isatty(STDERR_FILENO) == 1;
    p->quiet = quiet;
    p->label = label;
    p->total = total;
    p->start = p->last_print = mbn_now();
}

static void fmt_time(char *buf, size_t len, double s) {
    if (s < 0 || s > 1e7) s = 0;
    int h = (int)(s / 3600), m = (int)(s / 60) % 60, sec = (int)s % 60;
    if (h)
        snprintf(buf, len, "%d:%02d:%02d", h, m, sec);
    else
        snprintf(buf, len, "%d:%02d", m, sec);
}

void mbn_progress_update(MbnProgress *p, int64_t step, int64_t images, const char *extra) {
    p->images = images;
    if (p->quiet) return;
    double t = mbn_now(), el = t - p->start;
    bool last = step >= p->total;
    /* A terminal is redrawn at most 10 times a second; a log gets a line every 10 s and a
     * final one, so long runs stay readable. */
    if (p->tty ? (t - p->last_print < 0.1 && !last) : (t - p->last_print < 10.0 && !last)) return;
    p->last_print = t;
    double ips = el > 0 ? (double)images / el : 0;
    double eta = step > 0 ? el / (double)step * (double)(p->total - step) : 0;
    char eta_s[32], el_s[32];
    fmt_time(eta_s, sizeof eta_s, eta);
    fmt_time(el_s, sizeof el_s, el);
    if (p->tty) {
        char bar[31];
        int fill = p->total > 0 ? (int)(30 * step / p->total) : 30;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
        bar[30] = 0;
        fprintf(stderr, "\r%s [%s] %lld/%lld %s | %.0f img/s | %s<%s  \033[K", p->label, bar,
                (long long)step, (long long)p->total, extra ? extra : "", ips, el_s, eta_s);
    } else {
        fprintf(stderr, "%s step %lld/%lld %s | %.1f img/s | elapsed %s, ETA %s\n", p->label,
                (long long)step, (long long)p->total, extra ? extra : "", ips, el_s, eta_s);
    }
    fflush(stderr);
}

void mbn_progress_finish(MbnProgress *p) {
    if (!p->quiet && p->tty) fputc('\n', stderr);
}
