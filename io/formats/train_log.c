#include "io/formats/train_log.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

enum { COL_KIND, COL_EPOCH, COL_STEP, COL_LOSS, COL_LR, COL_TOP1, COL_TOP5, N_COLS };
static const char *const COL_NAMES[N_COLS] = {"kind", "epoch", "step", "loss",
                                              "lr",   "top1",  "top5"};
#define MAX_FIELDS 32

/* Splits line (modified in place) at commas; returns the field count, or -1 for too many. */
static int split(char *line, char **fields) {
    int n = 0;
    for (char *p = line;; p++) {
        if (n == MAX_FIELDS) return -1;
        fields[n++] = p;
        p = strchr(p, ',');
        if (!p) break;
        *p = 0;
    }
    return n;
}

/* A number (finite, the whole field), or NAN for an empty field when empty_ok. */
static bool number(const char *s, bool empty_ok, double *out) {
    if (!*s) {
        *out = NAN;
        return empty_ok;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v)) return false;
    *out = v;
    return true;
}

static int push(MbnLogRow **rows, int *n, int *cap, const MbnLogRow *r) {
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 1024;
        MbnLogRow *grown = realloc(*rows, sizeof *grown * (size_t)c);
        if (!grown) return MBN_EFAIL;
        *rows = grown;
        *cap = c;
    }
    (*rows)[(*n)++] = *r;
    return MBN_OK;
}

/* A resumed run that restarted before the last logged point replaces what follows it: train
 * rows from the same step on, eval rows from the same epoch on. */
static void drop_from(MbnLogRow *rows, int *n, bool by_epoch, const MbnLogRow *r) {
    while (*n > 0 && (by_epoch ? rows[*n - 1].epoch >= r->epoch : rows[*n - 1].step >= r->step))
        (*n)--;
}

int mbn_train_log_read(const char *path, MbnTrainLog *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f)
        return mbn_fail(MBN_EUSAGE, "%s: cannot open the training log: %s", path, strerror(errno));
    int col[N_COLS], cap_train = 0, cap_eval = 0, rc = MBN_OK;
    bool have_header = false;
    char *line = NULL, *fields[MAX_FIELDS];
    size_t lcap = 0;
    ssize_t got;
    long lineno = 0;
    while (rc == MBN_OK && (got = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len == 0) continue;
        if (memchr(line, 0, len)) {
            rc = mbn_fail(MBN_EFAIL, "%s:%ld: not a text line", path, lineno);
            break;
        }
        int nf = split(line, fields);
        if (nf < 0) {
            rc = mbn_fail(MBN_EFAIL, "%s:%ld: more than %d fields", path, lineno, MAX_FIELDS);
            break;
        }
        if (strcmp(fields[0], "kind") == 0) { /* the header (again, when a log was restarted) */
            for (int c = 0; c < N_COLS; c++) {
                col[c] = -1;
                for (int k = 0; k < nf; k++)
                    if (strcmp(fields[k], COL_NAMES[c]) == 0) col[c] = k;
                if (col[c] < 0) {
                    rc = mbn_fail(MBN_EFAIL, "%s:%ld: header has no \"%s\" column", path, lineno,
                                  COL_NAMES[c]);
                    break;
                }
            }
            have_header = true;
            continue;
        }
        if (!have_header) {
            rc = mbn_fail(MBN_EFAIL, "%s:%ld: expected the header line (kind,epoch,step,...)", path,
                          lineno);
            break;
        }
        bool train = strcmp(fields[col[COL_KIND]], "train") == 0;
        bool eval = strcmp(fields[col[COL_KIND]], "eval") == 0;
        int need = 0;
        for (int c = 0; c < N_COLS; c++)
            if (col[c] >= need) need = col[c] + 1;
        if (nf < need) {
            rc = mbn_fail(MBN_EFAIL, "%s:%ld: %d fields, the header names %d", path, lineno, nf,
                          need);
            break;
        }
        if (!train && !eval) continue; /* a row kind this reader does not know: not drawn */
        MbnLogRow r;
        double epoch, step;
        bool ok = number(fields[col[COL_EPOCH]], false, &epoch) &&
                  number(fields[col[COL_STEP]], false, &step) && epoch >= 0 && step >= 0 &&
                  epoch == floor(epoch) && step == floor(step) && epoch < 1e9 && step < 1e15 &&
                  number(fields[col[COL_LOSS]], false, &r.loss) &&
                  number(fields[col[COL_LR]], eval, &r.lr) &&
                  number(fields[col[COL_TOP1]], train, &r.top1) &&
                  number(fields[col[COL_TOP5]], train, &r.top5);
        if (!ok) {
            rc = mbn_fail(MBN_EFAIL,
                          "%s:%ld: malformed %s row (epoch and step whole numbers, loss%s "
                          "numbers)",
                          path, lineno, train ? "train" : "eval",
                          train ? " and lr" : ", top1, top5");
            break;
        }
        r.epoch = (int)epoch;
        r.step = (int64_t)step;
        MbnLogRow **rows = train ? &out->train : &out->eval;
        int *n = train ? &out->n_train : &out->n_eval;
        drop_from(*rows, n, eval, &r);
        if (push(rows, n, train ? &cap_train : &cap_eval, &r) != MBN_OK)
            rc = mbn_fail(MBN_EFAIL, "%s: out of host memory", path);
    }
    if (rc == MBN_OK && ferror(f)) rc = mbn_fail(MBN_EFAIL, "%s: read error", path);
    if (rc == MBN_OK && !have_header) rc = mbn_fail(MBN_EFAIL, "%s: empty training log", path);
    free(line);
    fclose(f);
    if (rc) mbn_train_log_free(out);
    return rc;
}

void mbn_train_log_free(MbnTrainLog *log) {
    free(log->train);
    free(log->eval);
    memset(log, 0, sizeof *log);
}
