/* LR schedules: every step of a cosine and a piecewise schedule (with and without warmup)
 * equals an independent computation written here from MindSpore's definitions:
 *   nn.cosine_decay_lr: delta = 0.5 (max - min); for i in range(total):
 *       e = min(floor(i / step_per_epoch), decay_epoch); lr = min + delta (1 + cos(pi e / decay))
 *   nn.piecewise_constant_lr: lr += [rates[k]] * (milestone[k] - last) for each k
 * and mbn's documented warmup (linear to max_lr over W epochs, then the schedule from step 0). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "model/schedule.h"
#include "tests/support/testutil.h"

static void expect_close(const char *what, long i, double got, double want) {
    T_CHECK(fabs(got - want) <= 1e-12 * fmax(1.0, fabs(want)), "%s step %ld: %.15g, want %.15g",
            what, i, got, want);
}

int main(void) {
    /* cosine: 7 epochs of 13 steps, decay over 5 epochs (so the last two sit at min_lr) */
    MbnLrSchedule s;
    memset(&s, 0, sizeof s);
    s.kind = MBN_LR_COSINE;
    s.max_lr = 0.1;
    s.min_lr = 0.001;
    s.decay_epochs = 5;
    s.steps_per_epoch = 13;
    double list[7 * 13];
    for (int i = 0; i < 7 * 13; i++) {
        double delta = 0.5 * (0.1 - 0.001);
        double e = floor((double)i / 13.0);
        if (e > 5) e = 5;
        list[i] = 0.001 + delta * (1.0 + cos(3.14159265358979323846 * e / 5.0));
    }
    for (int i = 0; i < 7 * 13; i++)
        expect_close("cosine", i, mbn_lr_at(&s, i), list[i]);
    expect_close("cosine first", 0, mbn_lr_at(&s, 0), 0.1);
    expect_close("cosine end", 90, mbn_lr_at(&s, 90), 0.001);

    /* piecewise: milestones 10, 25, 40 with rates 0.1, 0.05, 0.01 */
    MbnLrSchedule p;
    memset(&p, 0, sizeof p);
    p.steps_per_epoch = 10;
    T_MBN(mbn_lr_parse_piecewise(&p, "10,25,40", "0.1,0.05,0.01"));
    double pl[40];
    int n = 0, last = 0;
    const int ms[3] = {10, 25, 40};
    const double rs[3] = {0.1, 0.05, 0.01};
    for (int k = 0; k < 3; k++) {
        for (int j = 0; j < ms[k] - last; j++)
            pl[n++] = rs[k];
        last = ms[k];
    }
    for (int i = 0; i < 40; i++)
        expect_close("piecewise", i, mbn_lr_at(&p, i), pl[i]);
    expect_close("piecewise past the end", 55, mbn_lr_at(&p, 55), 0.01);

    /* warmup: 2 epochs of 13 steps rising linearly to max_lr, then cosine from its step 0 */
    MbnLrSchedule w = s;
    w.warmup_epochs = 2;
    for (int i = 0; i < 26; i++)
        expect_close("warmup", i, mbn_lr_at(&w, i), 0.1 * (i + 1) / 26.0);
    for (int i = 26; i < 26 + 7 * 13; i++)
        expect_close("after warmup", i, mbn_lr_at(&w, i), list[i - 26]);

    /* malformed piecewise lists are usage errors naming the flag */
    const char *bad[][2] = {{"10,5", "0.1,0.2"}, {"10,20", "0.1"},     {"a,b", "0.1,0.2"},
                            {"10,", "0.1,0.2"},  {"", "0.1"},          {"10,20", "0.1,-1"},
                            {"0,10", "0.1,0.2"}, {"10,10", "0.1,0.2"}, {"1.5", "0.1"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        MbnLrSchedule b;
        memset(&b, 0, sizeof b);
        int rc = mbn_lr_parse_piecewise(&b, bad[k][0], bad[k][1]);
        /* the message names the parameter (the command line words it as the flag) */
        T_CHECK(rc == MBN_EUSAGE && (strncmp(mbn_last_error(), "milestones", 10) == 0 ||
                                     strncmp(mbn_last_error(), "learning_rates", 14) == 0),
                "milestones \"%s\" rates \"%s\" gave %d (%s)", bad[k][0], bad[k][1], rc,
                mbn_last_error());
    }
    return t_summary("test_lr_schedule");
}
