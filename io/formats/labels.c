/* Labels file (SPEC §5): one class name per line, in class-index order. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/formats/labels.h"

#define LABELS_MAX 1000000

int mbn_labels_write(const char *path, char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (strchr(names[i], '\n') || strchr(names[i], '\r'))
            return mbn_fail(MBN_EFAIL, "%s: class name %d contains a line break", path, i);
    /* Write beside the target and rename, so a crash never leaves half a labels file. */
    char tmp[1100];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (len < 0 || (size_t)len >= sizeof tmp) return mbn_fail(MBN_EFAIL, "%s: path too long", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return mbn_fail(MBN_EFAIL, "%s: cannot create: %s", tmp, strerror(errno));
    bool ok = true;
    for (int i = 0; i < n && ok; i++)
        ok = fprintf(f, "%s\n", names[i]) >= 0;
    ok = fflush(f) == 0 && ok;
    int err = errno;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        err = errno ? errno : err;
        remove(tmp);
        return mbn_fail(MBN_EFAIL, "%s: cannot write: %s", path, strerror(err));
    }
    return MBN_OK;
}

void mbn_labels_free(char **names, int n) {
    if (!names) return;
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int push_name(char ***names, int *n, int *cap, const char *line, size_t len) {
    if (*n == *cap) {
        int c = *cap ? *cap * 2 : 64;
        char **grown = realloc(*names, sizeof *grown * (size_t)c);
        if (!grown) return MBN_EFAIL;
        *names = grown;
        *cap = c;
    }
    char *s = malloc(len + 1);
    if (!s) return MBN_EFAIL;
    memcpy(s, line, len);
    s[len] = 0;
    (*names)[(*n)++] = s;
    return MBN_OK;
}

int mbn_labels_read(const char *path, char ***names, int *n) {
    *names = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f) return mbn_fail(MBN_EUSAGE, "%s: cannot open labels file: %s", path, strerror(errno));
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    int cap = 0, rc = MBN_OK;
    while (rc == MBN_OK && (got = getline(&line, &lcap, f)) >= 0) {
        size_t len = (size_t)got;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (memchr(line, 0, len))
            rc = mbn_fail(MBN_EFAIL, "%s: not a text file", path);
        else if (*n >= LABELS_MAX)
            rc = mbn_fail(MBN_EFAIL, "%s: too many lines", path);
        else if (push_name(names, n, &cap, line, len) != MBN_OK)
            rc = mbn_fail(MBN_EFAIL, "%s: out of host memory", path);
    }
    if (rc == MBN_OK && ferror(f)) rc = mbn_fail(MBN_EFAIL, "%s: read error", path);
    free(line);
    fclose(f);
    /* A trailing empty line is an artefact of editors, not a class. */
    while (rc == MBN_OK && *n > 0 && (*names)[*n - 1][0] == 0)
        free((*names)[--*n]);
    if (rc == MBN_OK && *n == 0) rc = mbn_fail(MBN_EFAIL, "%s: no class names", path);
    if (rc != MBN_OK) {
        mbn_labels_free(*names, *n);
        *names = NULL;
        *n = 0;
    }
    return rc;
}

void mbn_labels_path_beside(const char *model_path, char *out, size_t cap) {
    const char *slash = strrchr(model_path, '/');
    int dir = slash ? (int)(slash - model_path + 1) : 0;
    snprintf(out, cap, "%.*slabels.txt", dir, model_path);
}
