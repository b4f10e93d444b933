#include "io/file_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host/error.h"

int mbn_read_file(const char *path, uint64_t max_bytes, unsigned char **data, size_t *len) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    /* A missing file is a usage error (SPEC §4: exit status 2 for a missing input file). */
    if (!f)
        return mbn_fail(errno == ENOENT ? MBN_EUSAGE : MBN_EFAIL, "%s: cannot open: %s", path,
                        strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return mbn_fail(MBN_EFAIL, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_bytes || (uint64_t)st.st_size > SIZE_MAX - 1) {
        fclose(f);
        return mbn_fail(MBN_EFAIL, "%s: file too large (%lld bytes)", path, (long long)st.st_size);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) {
        fclose(f);
        return mbn_fail(MBN_EFAIL, "%s: out of host memory (%zu bytes)", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    int err = ferror(f);
    /* A file that grows while we read is not a stable snapshot; treat extra bytes as an error
     * rather than silently ignoring them. */
    int extra = fgetc(f);
    fclose(f);
    if (got != n || err || extra != EOF) {
        free(buf);
        return mbn_fail(MBN_EFAIL, "%s: read failed or file changed while reading", path);
    }
    *data = buf;
    *len = n;
    return MBN_OK;
}
