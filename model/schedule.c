#include "model/schedule.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

#define MBN_PI 3.14159265358979323846

static double base_lr(const MbnLrSchedule *s, int64_t i) {
    if (s->kind == MBN_LR_PIECEWISE) {
        for (int k = 0; k < s->n_milestones; k++)
            if (i < s->milestones[k]) return s->rates[k];
        return s->n_milestones ? s->rates[s->n_milestones - 1] : 0.0;
    }
    int64_t spe = s->steps_per_epoch > 0 ? s->steps_per_epoch : 1;
    int64_t e = i / spe;
    if (e > s->decay_epochs) e = s->decay_epochs;
    double delta = 0.5 * (s->max_lr - s->min_lr);
    return s->min_lr + delta * (1.0 + cos(MBN_PI * (double)e / (double)s->decay_epochs));
}

double mbn_lr_at(const MbnLrSchedule *s, int64_t step) {
    int64_t warm = (int64_t)s->warmup_epochs * s->steps_per_epoch;
    if (step < warm) {
        double peak = s->kind == MBN_LR_PIECEWISE && s->n_milestones ? s->rates[0] : s->max_lr;
        return peak * (double)(step + 1) / (double)warm;
    }
    return base_lr(s, step - warm);
}

/* Splits a comma-separated list of numbers; returns the count or -1 on a malformed entry. */
static int parse_list(const char *text, double *out, int max) {
    int n = 0;
    const char *p = text;
    if (!p || !*p) return -1;
    while (*p) {
        char *end = NULL;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || n >= max) return -1;
        out[n++] = v;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',') {
            p++;
            if (!*p) return -1;
        } else if (*p) {
            return -1;
        }
    }
    return n;
}

int mbn_lr_parse_piecewise(MbnLrSchedule *s, const char *milestones, const char *rates) {
    double m[MBN_MAX_MILESTONES], r[MBN_MAX_MILESTONES];
    if (!milestones || !*milestones)
        return mbn_fail(MBN_EUSAGE, "milestones: needed by lr_schedule piecewise (steps, e.g. "
                                    "1000,2000)");
    if (!rates || !*rates)
        return mbn_fail(MBN_EUSAGE, "learning_rates: needed by lr_schedule piecewise (one rate per "
                                    "milestone, e.g. 0.1,0.01)");
    int nm = parse_list(milestones, m, MBN_MAX_MILESTONES);
    if (nm < 0)
        return mbn_fail(MBN_EUSAGE, "milestones %s: expected comma-separated steps", milestones);
    int nr = parse_list(rates, r, MBN_MAX_MILESTONES);
    if (nr < 0)
        return mbn_fail(MBN_EUSAGE, "learning_rates %s: expected comma-separated numbers", rates);
    if (nm != nr)
        return mbn_fail(MBN_EUSAGE,
                        "learning_rates %s: %d rates for %d milestones; give one rate per "
                        "milestone",
                        rates, nr, nm);
    for (int k = 0; k < nm; k++) {
        if (m[k] != floor(m[k]) || m[k] < 1)
            return mbn_fail(MBN_EUSAGE, "milestones %s: entry %g is not a positive step count",
                            milestones, m[k]);
        if (k > 0 && m[k] <= m[k - 1])
            return mbn_fail(MBN_EUSAGE, "milestones %s: must be strictly increasing (%g after %g)",
                            milestones, m[k], m[k - 1]);
        if (r[k] < 0) return mbn_fail(MBN_EUSAGE, "learning_rates %s: %g is negative", rates, r[k]);
        s->milestones[k] = (int64_t)m[k];
        s->rates[k] = r[k];
    }
    s->n_milestones = nm;
    s->kind = MBN_LR_PIECEWISE;
    return MBN_OK;
}

int mbn_lr_validate(const MbnLrSchedule *s) {
    if (s->kind == MBN_LR_COSINE) {
        if (!(s->max_lr >= 0) || !isfinite(s->max_lr))
            return mbn_fail(MBN_EUSAGE, "max_lr %g: must be a non-negative number", s->max_lr);
        if (!(s->min_lr >= 0) || !isfinite(s->min_lr))
            return mbn_fail(MBN_EUSAGE, "min_lr %g: must be a non-negative number", s->min_lr);
        if (s->min_lr > s->max_lr)
            return mbn_fail(MBN_EUSAGE, "min_lr %g: above max_lr %g", s->min_lr, s->max_lr);
        if (s->decay_epochs < 1)
            return mbn_fail(MBN_EUSAGE, "decay_epochs %d: must be at least 1", s->decay_epochs);
    }
    if (s->warmup_epochs < 0)
        return mbn_fail(MBN_EUSAGE, "warmup_epochs %d: must be 0 or more", s->warmup_epochs);
    return MBN_OK;
}
