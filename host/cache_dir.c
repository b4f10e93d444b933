#include "host/cache_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int mbn_cache_dir(char *out, size_t len) {
    const char *d = getenv("MBN_CACHE_DIR");
    if (d && *d) return snprintf(out, len, "%s", d) < (int)len ? 0 : -1;
    d = getenv("XDG_CACHE_HOME");
    if (d && *d) return snprintf(out, len, "%s/mbn", d) < (int)len ? 0 : -1;
    d = getenv("HOME");
    if (d && *d) return snprintf(out, len, "%s/.cache/mbn", d) < (int)len ? 0 : -1;
    return -1;
}

void mbn_mkdirs(const char *path) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

int mbn_cache_path(const char *sub, const char *file, char *out, size_t len) {
    char dir[3072];
    if (mbn_cache_dir(dir, sizeof dir) != 0) return -1;
    int n = snprintf(out, len, "%s/%s/%s", dir, sub, file);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

void mbn_mkdirs_for(const char *path) {
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) return;
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return;
    *slash = 0;
    mbn_mkdirs(dir);
}

void mbn_cache_touch(const char *path) {
    mbn_mkdirs_for(path);
    FILE *f = fopen(path, "w");
    if (f) fclose(f);
}
