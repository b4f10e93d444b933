#include "train/run_dir.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

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

int mbn_run_log_open(MbnRunLog *log, const char *dir, bool fresh) {
    snprintf(log->path, sizeof log->path, "%s/train_log.csv", dir);
    log->f = fopen(log->path, fresh ? "w" : "a");
    if (!log->f)
        return mbn_fail(MBN_EFAIL, "%s: cannot write the training log (%s)", log->path,
                        strerror(errno));
    if (fresh) fprintf(log->f, "kind,epoch,step,loss,lr,images_per_s,top1,top5\n");
    fflush(log->f);
    return MBN_OK;
}

void mbn_run_log_step(MbnRunLog *log, int epoch, int64_t global_step, double loss, double lr,
                      double images_per_s) {
    fprintf(log->f, "train,%d,%lld,%.6f,%.8g,%.2f,,\n", epoch + 1, (long long)global_step, loss, lr,
            images_per_s);
    fflush(log->f);
}

void mbn_run_log_eval(MbnRunLog *log, int epoch, int64_t global_step, double loss, double top1,
                      double top5) {
    fprintf(log->f, "eval,%d,%lld,%.6f,,,%.6f,%.6f\n", epoch + 1, (long long)global_step, loss,
            top1, top5);
    fflush(log->f);
}

void mbn_run_log_close(MbnRunLog *log) {
    if (log->f) fclose(log->f);
    log->f = NULL;
}
