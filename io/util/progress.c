#include "io/util/progress.h"

#include <stdio.h>
#include <string.h>
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
    double t = mbn_now(), el = t - p->start;
    if (!p->rate_started) {
        /* The first step (kernel compilation, first-touch allocations) is not a typical step. */
        p->rate_started = true;
        p->rate_start = t;
        p->rate_step0 = step;
        p->rate_images0 = images;
    }
    if (p->quiet) return;
    bool last = step >= p->total;
    /* A terminal is redrawn at most 10 times a second; a log gets a line every 10 s and a
     * final one, so long runs stay readable. */
    if (p->tty ? (t - p->last_print < 0.1 && !last) : (t - p->last_print < 10.0 && !last)) return;
    p->last_print = t;
    double dt = t - p->rate_start;
    int64_t steps = step - p->rate_step0;
    bool timed = steps > 0 && dt > 0;
    double ips = timed ? (double)(images - p->rate_images0) / dt : 0;
    char eta_s[32] = "--:--", el_s[32], ips_s[32] = "-";
    if (timed) {
        fmt_time(eta_s, sizeof eta_s, dt / (double)steps * (double)(p->total - step));
        snprintf(ips_s, sizeof ips_s, p->tty ? "%.0f" : "%.1f", ips);
    }
    fmt_time(el_s, sizeof el_s, el);
    if (p->tty) {
        char bar[31];
        int fill = p->total > 0 ? (int)(30 * step / p->total) : 30;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
        bar[30] = 0;
        fprintf(stderr, "\r%s [%s] %lld/%lld %s | %s img/s | %s<%s  \033[K", p->label, bar,
                (long long)step, (long long)p->total, extra ? extra : "", ips_s, el_s, eta_s);
    } else {
        fprintf(stderr, "%s step %lld/%lld %s | %s img/s | elapsed %s, ETA %s\n", p->label,
                (long long)step, (long long)p->total, extra ? extra : "", ips_s, el_s, eta_s);
    }
    fflush(stderr);
}

void mbn_progress_finish(MbnProgress *p) {
    if (!p->quiet && p->tty) fputc('\n', stderr);
}
