#include "train/run_dir.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "io/formats/labels.h"

int mbn_run_dir_create(const char *dir) {
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return mbn_fail(MBN_EUSAGE, "ckpt_dir %s: path too long", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST) break; /* reported below */
        *p = '/';
    }
    if (mkdir(dir, 0755) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return MBN_OK;
    }
    return mbn_fail(MBN_EFAIL, "ckpt_dir %s: cannot create the folder (%s)", dir, strerror(errno));
}

int mbn_run_dir_write_labels(const char *dir, char *const *names, int n) {
    char path[1200];
    snprintf(path, sizeof path, "%s/labels.txt", dir);
    return mbn_labels_write(path, names, n);
}

/* Before appending: whether the header has the exchange columns, and the size of the log up
 * to its last complete line (a kill can leave a row half-written: it is dropped, as are the
 * rows after the checkpoint the run resumes from when the log is read). *end: -1 when there is
 * no log, 0 when it is empty. */
static int inspect_log(const char *path, bool *exchange_columns, long *end) {
    *end = -1;
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? MBN_OK : mbn_fail(MBN_EFAIL, "%s: %s", path, strerror(errno));
    char head[256] = "";
    if (!fgets(head, sizeof head, f)) head[0] = 0;
    *exchange_columns = strstr(head, ",exchange_ms,") != NULL;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    long pos = size;
    /* Back from the end to just after the last newline. */
    while (pos > 0) {
        char ch = 0;
        if (fseek(f, pos - 1, SEEK_SET) != 0 || fread(&ch, 1, 1, f) != 1) break;
        if (ch == '\n') break;
        pos--;
    }
    bool bad = ferror(f) || size < 0;
    fclose(f);
    if (bad) return mbn_fail(MBN_EFAIL, "%s: cannot read the training log", path);
    *end = pos;
    return MBN_OK;
}

int mbn_run_log_open(MbnRunLog *log, const char *dir, bool fresh) {
    snprintf(log->path, sizeof log->path, "%s/train_log.csv", dir);
    log->exchange_columns = true;
    long end = -1;
    if (!fresh) MBN_TRY(inspect_log(log->path, &log->exchange_columns, &end));
    if (end <= 0) { /* no log yet, or an empty one (or only a half-written header) */
        fresh = true;
        log->exchange_columns = true;
    }
    if (!fresh && truncate(log->path, (off_t)end) != 0)
        return mbn_fail(MBN_EFAIL, "%s: cannot cut off a half-written last row (%s)", log->path,
                        strerror(errno));
    log->f = fopen(log->path, fresh ? "w" : "a");
    if (!log->f)
        return mbn_fail(MBN_EFAIL, "%s: cannot write the training log (%s)", log->path,
                        strerror(errno));
    if (fresh)
        fprintf(log->f,
                "kind,epoch,step,loss,lr,images_per_s,top1,top5,exchange_ms,exchange_exposed_ms\n");
    fflush(log->f);
    return MBN_OK;
}

void mbn_run_log_step(MbnRunLog *log, int epoch, int64_t global_step, double loss, double lr,
                      double images_per_s, double exchange_s, double exchange_exposed_s) {
    fprintf(log->f, "train,%d,%lld,%.6f,%.8g,%.2f,,", epoch + 1, (long long)global_step, loss, lr,
            images_per_s);
    if (log->exchange_columns)
        fprintf(log->f, ",%.3f,%.3f", exchange_s * 1e3, exchange_exposed_s * 1e3);
    fputc('\n', log->f);
    fflush(log->f);
}

void mbn_run_log_eval(MbnRunLog *log, int epoch, int64_t global_step, double loss, double top1,
                      double top5) {
    fprintf(log->f, "eval,%d,%lld,%.6f,,,%.6f,%.6f%s\n", epoch + 1, (long long)global_step, loss,
            top1, top5, log->exchange_columns ? ",," : "");
    fflush(log->f);
}

void mbn_run_log_close(MbnRunLog *log) {
    if (log->f) fclose(log->f);
    log->f = NULL;
}
