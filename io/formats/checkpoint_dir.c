/* Checkpoint folders: the seed's file names, finding the newest good checkpoint, rotation, and
 * checking a checkpoint's model config against the command line. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "io/formats/atomic_file.h"
#include "io/formats/checkpoint.h"

#define PREFIX "mobilenetv1-"

void mbn_ckpt_path(char *out, size_t len, const char *dir, int epoch, int64_t step) {
    snprintf(out, len, "%s/" PREFIX "%d_%lld.ckpt", dir, epoch, (long long)step);
}

/* Parses unsigned decimal digits (at least one, no sign, bounded); returns the end or NULL. */
static const char *digits(const char *s, int64_t max, int64_t *v) {
    int64_t acc = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (acc > (max - (*p - '0')) / 10) return NULL;
        acc = acc * 10 + (*p - '0');
    }
    if (p == s) return NULL;
    *v = acc;
    return p;
}

/* "mobilenetv1-<epoch>_<step>.ckpt" -> true, with an optional ".tmp.<pid>" suffix reported
 * through tmp_pid (-1 when absent). */
static bool parse_name(const char *name, int *epoch, int64_t *step, long *tmp_pid) {
    if (strncmp(name, PREFIX, strlen(PREFIX)) != 0) return false;
    int64_t e, s, pid = -1;
    const char *p = digits(name + strlen(PREFIX), 1000000000, &e);
    if (!p || *p != '_') return false;
    p = digits(p + 1, INT64_MAX, &s);
    if (!p || strncmp(p, ".ckpt", 5) != 0) return false;
    p += 5;
    if (strncmp(p, ".tmp.", 5) == 0) {
        p = digits(p + 5, 1 << 30, &pid);
        if (!p) return false;
    }
    if (*p) return false;
    *epoch = (int)e;
    *step = s;
    *tmp_pid = (long)pid;
    return true;
}

typedef struct {
    char name[256];
    int epoch;
    int64_t step;
} Found;

static int newest_first(const void *a, const void *b) {
    const Found *x = a, *y = b;
    if (x->epoch != y->epoch) return x->epoch > y->epoch ? -1 : 1;
    if (x->step != y->step) return x->step > y->step ? -1 : 1;
    return strcmp(x->name, y->name);
}

static bool stale_tmp(const char *path, long pid) {
    if (pid == (long)getpid()) return false;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) return false; /* alive, or not ours to see */
    struct stat st;
    if (stat(path, &st) != 0) return false;
    return difftime(time(NULL), st.st_mtime) > MBN_CKPT_STALE_TMP_SECONDS;
}

/* Lists final-named checkpoints in dir, newest first; removes stale temporary files when
 * clean_tmp. */
static int list_dir(const char *dir, bool clean_tmp, Found **out, int *n_out) {
    *out = NULL;
    *n_out = 0;
    DIR *d = opendir(dir);
    if (!d) return mbn_fail(MBN_EFAIL, "%s: cannot open folder: %s", dir, strerror(errno));
    Found *list = NULL;
    int n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        int epoch;
        int64_t step;
        long pid;
        if (strlen(de->d_name) >= sizeof list[0].name ||
            !parse_name(de->d_name, &epoch, &step, &pid))
            continue;
        if (pid >= 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            if (clean_tmp && stale_tmp(path, pid) && unlink(path) == 0)
                mbn_warn("removed %s left by an interrupted save", path);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            Found *g = realloc(list, (size_t)cap * sizeof *g);
            if (!g) {
                free(list);
                closedir(d);
                return mbn_fail(MBN_EFAIL, "%s: out of host memory listing checkpoints", dir);
            }
            list = g;
        }
        snprintf(list[n].name, sizeof list[n].name, "%s", de->d_name);
        list[n].epoch = epoch;
        list[n].step = step;
        n++;
    }
    closedir(d);
    if (n) qsort(list, (size_t)n, sizeof *list, newest_first);
    *out = list;
    *n_out = n;
    return MBN_OK;
}

int mbn_ckpt_find_latest(const char *dir, char *out, size_t len) {
    Found *list;
    int n;
    MBN_TRY(list_dir(dir, false, &list, &n));
    for (int k = 0; k < n; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, list[k].name);
        /* A full load is the only complete check (checksum, inflate, payload). */
        MbnCheckpoint ck;
        if (mbn_ckpt_load(path, &ck) == MBN_OK) {
            mbn_ckpt_free(&ck);
            free(list);
            if (strlen(path) >= len) return mbn_fail(MBN_EFAIL, "%s: path too long", path);
            snprintf(out, len, "%s", path);
            return MBN_OK;
        }
        mbn_warn("skipping %s", mbn_last_error());
    }
    free(list);
    return mbn_fail(MBN_EFAIL, "%s: no usable checkpoint (" PREFIX "<epoch>_<step>.ckpt)", dir);
}

int mbn_ckpt_rotate(const char *dir, int keep_max) {
    Found *list;
    int n, rc = MBN_OK;
    MBN_TRY(list_dir(dir, true, &list, &n));
    for (int k = keep_max > 0 ? keep_max : n; k < n; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, list[k].name);
        if (unlink(path) != 0 && errno != ENOENT)
            rc = mbn_fail(MBN_EFAIL, "%s: cannot delete old checkpoint: %s", path, strerror(errno));
    }
    free(list);
    return rc;
}

int mbn_ckpt_check_config(const char *path, const MbnModelConfig *file_cfg, float alpha,
                          int resolution, int num_classes, bool resolution_must_match) {
    if (alpha > 0 && fabsf(alpha - file_cfg->alpha) > 1e-6f * fmaxf(1.0f, alpha))
        return mbn_fail(MBN_EFAIL, "%s: alpha %g was given, but the file was trained with alpha %g",
                        path, (double)alpha, (double)file_cfg->alpha);
    if (num_classes > 0 && num_classes != file_cfg->num_classes)
        return mbn_fail(MBN_EFAIL,
                        "%s: num_classes %d was given, but the file was trained with %d classes",
                        path, num_classes, file_cfg->num_classes);
    if (resolution > 0 && resolution != file_cfg->resolution) {
        if (resolution_must_match)
            return mbn_fail(
                MBN_EFAIL,
                "%s: resolution %d was given, but the file was trained with resolution %d", path,
                resolution, file_cfg->resolution);
        mbn_warn("%s: resolution %d was given; the file was trained at resolution %d", path,
                 resolution, file_cfg->resolution);
    }
    return MBN_OK;
}
