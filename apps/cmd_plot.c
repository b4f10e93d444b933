/* mbn plot: training curves from the training log of one or more runs (DIR/train_log.csv, as
 * `mbn train --ckpt-dir DIR` writes it) as one self-contained SVG: training loss (with the
 * validation loss per evaluated epoch) and learning rate per step, top-1 and top-5 per epoch;
 * one colour per run so runs can be compared. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "base/error.h"
#include "io/formats/atomic_file.h"
#include "io/formats/train_log.h"
#include "io/util/svg.h"

#define MAX_RUNS 16
#define MAX_POINTS 1000 /* per step series; longer logs are averaged in equal groups */
#define WIDTH 960
#define LEFT 84
#define PLOT_W (WIDTH - LEFT - 36)

static const char *const COLORS[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                     "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define N_COLORS (int)(sizeof COLORS / sizeof COLORS[0])

typedef struct {
    char name[1024]; /* the folder as given, without trailing slashes */
    MbnTrainLog log;
    /* Step series after grouping: n points of (step, loss, lr), each the mean of `group` steps. */
    double *step, *loss, *lr;
    int n, group;
    /* Per evaluated epoch. */
    double *eval_step, *eval_epoch, *eval_loss, *top1, *top5;
} Run;

static void run_free(Run *r) {
    mbn_train_log_free(&r->log);
    free(r->step), free(r->loss), free(r->lr);
    free(r->eval_step), free(r->eval_epoch), free(r->eval_loss), free(r->top1), free(r->top5);
}

static double *column(int n) {
    return calloc(n > 0 ? (size_t)n : 1, sizeof(double));
}

/* Groups of k consecutive train rows become one point (means), so a long run stays a light
 * file; k = 1 (every step) up to MAX_POINTS steps. */
static int prepare(Run *r) {
    const MbnTrainLog *l = &r->log;
    int k = (l->n_train + MAX_POINTS - 1) / MAX_POINTS;
    if (k < 1) k = 1;
    r->n = (l->n_train + k - 1) / k;
    r->group = k;
    r->step = column(r->n), r->loss = column(r->n), r->lr = column(r->n);
    r->eval_step = column(l->n_eval), r->eval_epoch = column(l->n_eval);
    r->eval_loss = column(l->n_eval), r->top1 = column(l->n_eval), r->top5 = column(l->n_eval);
    if (!r->step || !r->loss || !r->lr || !r->eval_step || !r->eval_epoch || !r->eval_loss ||
        !r->top1 || !r->top5)
        return mbn_fail(MBN_EFAIL, "out of host memory");
    for (int p = 0; p < r->n; p++) {
        int begin = p * k, end = begin + k < l->n_train ? begin + k : l->n_train;
        double s = 0, lo = 0, lr = 0;
        for (int i = begin; i < end; i++)
            s += (double)l->train[i].step, lo += l->train[i].loss, lr += l->train[i].lr;
        r->step[p] = s / (end - begin);
        r->loss[p] = lo / (end - begin);
        r->lr[p] = lr / (end - begin);
    }
    for (int i = 0; i < l->n_eval; i++) {
        /* An evaluation follows its epoch's last step; a row without its step (0) is placed
         * there from the train rows. */
        r->eval_step[i] = (double)l->eval[i].step;
        for (int t = 0; l->eval[i].step == 0 && t < l->n_train; t++)
            if (l->train[t].epoch == l->eval[i].epoch) r->eval_step[i] = (double)l->train[t].step;
        r->eval_epoch[i] = l->eval[i].epoch;
        r->eval_loss[i] = l->eval[i].loss;
        r->top1[i] = l->eval[i].top1;
        r->top5[i] = l->eval[i].top5;
    }
    return MBN_OK;
}

static int open_run(const char *dir, Run *r) {
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", dir);
    size_t n = strlen(r->name);
    while (n > 1 && r->name[n - 1] == '/')
        r->name[--n] = 0;
    char path[1100];
    if (snprintf(path, sizeof path, "%s/train_log.csv", r->name) >= (int)sizeof path)
        return mbn_fail(MBN_EUSAGE, "--ckpt-dir %s: path too long", dir);
    int rc = mbn_train_log_read(path, &r->log);
    if (rc == MBN_EUSAGE) return mbn_fail_context(MBN_EUSAGE, "--ckpt-dir %s", dir);
    if (rc) return rc;
    if (r->log.n_train == 0) return mbn_fail(MBN_EFAIL, "%s: no training step logged yet", path);
    return prepare(r);
}

static void range_of(const double *v, int n, double *lo, double *hi) {
    for (int i = 0; i < n; i++) {
        if (isnan(v[i])) continue;
        if (v[i] < *lo) *lo = v[i];
        if (v[i] > *hi) *hi = v[i];
    }
}

/* Legend: one colour per run, then a sample of each line style; returns the height it took. */
static double legend(MbnSvg *s, const Run *runs, int n_runs, double top) {
    double x = LEFT, y = top;
    for (int r = 0; r < n_runs; r++) {
        double w = 36 + 7.0 * (double)strlen(runs[r].name) + 24;
        if (x + w > WIDTH - 20 && x > LEFT) x = LEFT, y += 20;
        mbn_svg_line(s, x, y - 4, x + 26, y - 4, COLORS[r % N_COLORS], 4, NULL);
        mbn_svg_text(s, x + 32, y, "start", 13, NULL, runs[r].name);
        x += w;
    }
    y += 22;
    static const struct {
        const char *dash, *label;
        bool dot;
    } styles[] = {
        {NULL, "training loss per step (label-smoothed), top-1", false},
        {"1 4", "validation loss per epoch", true},
        {"6 4", "top-5", true},
    };
    x = LEFT;
    for (size_t k = 0; k < sizeof styles / sizeof styles[0]; k++) {
        mbn_svg_line(s, x, y - 4, x + 26, y - 4, "#555", 1.6, styles[k].dash);
        if (styles[k].dot)
            fprintf(s->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#555\"/>\n", x + 13,
                    y - 4);
        mbn_svg_text(s, x + 32, y, "start", 11, "fill=\"#555\"", styles[k].label);
        x += 32 + 6.2 * (double)strlen(styles[k].label) + 28; /* ~6 units a character at 11 */
    }
    return y - top + 8;
}

/* Faint vertical lines at epoch ends, for a single run (several runs may differ). */
static void epoch_marks(MbnSvg *s, const MbnSvgAxes *ax, const Run *r) {
    const MbnTrainLog *l = &r->log;
    int epochs = l->n_train ? l->train[l->n_train - 1].epoch : 0;
    if (epochs < 2 || epochs > 20) return;
    for (int i = 0; i + 1 < l->n_train; i++)
        if (l->train[i + 1].epoch != l->train[i].epoch) {
            double x = mbn_svg_x(ax, (double)l->train[i].step);
            mbn_svg_line(s, x, ax->top, x, ax->top + ax->height, "#bbbbbb", 1, "3 3");
        }
}

static void draw(FILE *f, Run *runs, int n_runs) {
    double max_step = 0, loss_hi = 0, lr_hi = 0, max_epoch = 0, acc_lo = 1, acc_hi = 0;
    bool any_eval = false;
    for (int r = 0; r < n_runs; r++) {
        const Run *u = &runs[r];
        double lo = 0;
        range_of(u->step, u->n, &lo, &max_step);
        range_of(u->loss, u->n, &lo, &loss_hi);
        range_of(u->eval_loss, u->log.n_eval, &lo, &loss_hi);
        range_of(u->lr, u->n, &lo, &lr_hi);
        range_of(u->eval_epoch, u->log.n_eval, &lo, &max_epoch);
        range_of(u->top1, u->log.n_eval, &acc_lo, &acc_hi);
        range_of(u->top5, u->log.n_eval, &acc_lo, &acc_hi);
        any_eval |= u->log.n_eval > 0;
    }
    /* Legend height first (drawn into a scratch stream), so the panels can follow it. */
    MbnSvg s;
    char *scratch_text = NULL;
    size_t scratch_len = 0;
    FILE *scratch = open_memstream(&scratch_text, &scratch_len);
    MbnSvg probe = {scratch ? scratch : f};
    double leg = scratch ? legend(&probe, runs, n_runs, 0) : 40;
    if (scratch) fclose(scratch);
    free(scratch_text);
    double top = 64 + leg;
    const double loss_h = 250, lr_h = 150, acc_h = 250, gap = 88;
    int height = (int)(top + 30 + loss_h + gap + lr_h + gap + acc_h + 48);
    mbn_svg_begin(&s, f, WIDTH, height, "mbn training curves");
    mbn_svg_text(&s, LEFT, 32, "start", 18, "font-weight=\"bold\"", "mbn training curves");
    legend(&s, runs, n_runs, 58);

    MbnSvgAxes ax = {LEFT, top + 30, PLOT_W, loss_h, 0, max_step, 0, loss_hi};
    double xs, ys;
    mbn_svg_nice_range(&ax.x0, &ax.x1, 10, &xs);
    mbn_svg_nice_range(&ax.y0, &ax.y1, 6, &ys);
    mbn_svg_axes(&s, &ax, xs, ys, 1, "Loss", "step", "loss");
    int group = 1;
    for (int r = 0; r < n_runs; r++)
        if (runs[r].group > group) group = runs[r].group;
    if (group > 1) {
        char note[96];
        snprintf(note, sizeof note, "each point: the mean of %s%d steps",
                 n_runs > 1 ? "up to " : "", group);
        mbn_svg_text(&s, ax.left + ax.width, ax.top - 8, "end", 11, "fill=\"#555\"", note);
    }
    if (n_runs == 1) epoch_marks(&s, &ax, &runs[0]);
    for (int r = 0; r < n_runs; r++) {
        const Run *u = &runs[r];
        mbn_svg_series(&s, &ax, u->step, u->loss, u->n, COLORS[r % N_COLORS], NULL, false, u->name,
                       "loss");
        mbn_svg_series(&s, &ax, u->eval_step, u->eval_loss, u->log.n_eval, COLORS[r % N_COLORS],
                       "1 4", true, u->name, "val_loss");
    }

    MbnSvgAxes lr = {LEFT, ax.top + loss_h + gap, PLOT_W, lr_h, ax.x0, ax.x1, 0, lr_hi};
    mbn_svg_nice_range(&lr.y0, &lr.y1, 4, &ys);
    mbn_svg_axes(&s, &lr, xs, ys, 1, "Learning rate", "step", "learning rate");
    if (n_runs == 1) epoch_marks(&s, &lr, &runs[0]);
    for (int r = 0; r < n_runs; r++)
        mbn_svg_series(&s, &lr, runs[r].step, runs[r].lr, runs[r].n, COLORS[r % N_COLORS], NULL,
                       false, runs[r].name, "lr");

    if (!any_eval) acc_lo = 0, acc_hi = 1;
    /* Some room around the data, within 0..100%. */
    double pad = (acc_hi - acc_lo) * 0.1 + 0.005;
    MbnSvgAxes acc = {LEFT,
                      lr.top + lr_h + gap,
                      PLOT_W,
                      acc_h,
                      0,
                      max_epoch > 0 ? max_epoch : 1,
                      fmax(0.0, acc_lo - pad),
                      fmin(1.0, acc_hi + pad)};
    mbn_svg_nice_range(&acc.x0, &acc.x1, 11, &xs);
    if (xs < 1) xs = 1, acc.x1 = ceil(acc.x1);
    mbn_svg_nice_range(&acc.y0, &acc.y1, 6, &ys);
    acc.y0 = fmax(acc.y0, 0.0), acc.y1 = fmin(acc.y1, 1.0);
    mbn_svg_axes(&s, &acc, xs, ys, 100, "Validation top-1 and top-5", "epoch", "accuracy (%)");
    if (!any_eval)
        mbn_svg_text(&s, acc.left + acc.width / 2, acc.top + acc.height / 2, "middle", 13,
                     "fill=\"#777\"", "no evaluation in the log (trained with --no-eval?)");
    for (int r = 0; r < n_runs; r++) {
        const Run *u = &runs[r];
        mbn_svg_series(&s, &acc, u->eval_epoch, u->top1, u->log.n_eval, COLORS[r % N_COLORS], NULL,
                       true, u->name, "top1");
        mbn_svg_series(&s, &acc, u->eval_epoch, u->top5, u->log.n_eval, COLORS[r % N_COLORS], "6 4",
                       true, u->name, "top5");
    }
    mbn_svg_end(&s);
}

int cmd_plot(int argc, char **argv) {
    const char *dir_items[MAX_RUNS], *more[MAX_RUNS];
    MbnStrings dirs = {dir_items, 0, MAX_RUNS};
    const char *out = "curves.svg";
    const MbnFlag flags[] = {
        {"ckpt-dir", FLAG_STRINGS, &dirs,
         "a training run's folder (holding train_log.csv); several folders, as more values or "
         "repeated flags, are drawn together",
         "DIR", NULL},
        {"out", FLAG_STRING, &out, "the SVG file to write (its name must end in .svg)", "F.svg",
         NULL},
    };
    MbnCli cli =
        MBN_CLI("plot", "mbn plot --ckpt-dir DIR [DIR...] [--out F.svg]",
                "Draws the training log of each run (DIR/train_log.csv): loss and learning "
                "rate per step (validation loss per epoch as dots), top-1/top-5 per "
                "epoch, one colour per run, as one self-contained SVG (no scripts, fonts "
                "or links). Step series longer than 1000 steps are drawn as means of "
                "equal groups of steps.",
                flags, more, MAX_RUNS);
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return mbn_cli_report(&cli, rc);
    for (int i = 0; i < cli.n_positional && rc == MBN_OK; i++) {
        if (dirs.n >= MAX_RUNS)
            rc = mbn_fail(MBN_EUSAGE, "--ckpt-dir: at most %d folders", MAX_RUNS);
        else
            dirs.items[dirs.n++] = more[i];
    }
    if (rc == MBN_OK && dirs.n == 0) rc = mbn_fail(MBN_EUSAGE, "--ckpt-dir is required");
    for (int r = 0; rc == MBN_OK && r < dirs.n; r++)
        rc = mbn_cli_input_dir("--ckpt-dir", dirs.items[r]);
    if (rc == MBN_OK) rc = mbn_cli_output_file("--out", out);
    if (rc == MBN_OK) rc = mbn_cli_output_ext("--out", out, ".svg");
    if (rc) return mbn_cli_report(&cli, rc);
    Run *runs = calloc((size_t)dirs.n, sizeof *runs);
    if (!runs) return mbn_cli_report(&cli, mbn_fail(MBN_EFAIL, "out of host memory"));
    for (int r = 0; rc == MBN_OK && r < dirs.n; r++)
        rc = open_run(dirs.items[r], &runs[r]);
    /* Drawn in memory, then written through a temporary file and a rename: an error never
     * leaves half an SVG under --out. */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = rc == MBN_OK ? open_memstream(&text, &len) : NULL;
    if (rc == MBN_OK && !mem) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    if (rc == MBN_OK) {
        draw(mem, runs, dirs.n);
        if (fclose(mem) != 0) rc = mbn_fail(MBN_EFAIL, "out of host memory drawing the SVG");
    }
    MbnAtomicFile af;
    if (rc == MBN_OK) rc = mbn_atomic_open(&af, out);
    if (rc == MBN_OK) {
        rc = mbn_atomic_write(&af, text, len);
        if (rc == MBN_OK)
            rc = mbn_atomic_commit(&af);
        else
            mbn_atomic_abort(&af);
    }
    if (rc == MBN_OK)
        fprintf(stderr, "mbn: wrote %s (%d run%s)\n", out, dirs.n, dirs.n > 1 ? "s" : "");
    free(text);
    for (int r = 0; r < dirs.n; r++)
        run_free(&runs[r]);
    free(runs);
    return mbn_cli_report(&cli, rc);
}
