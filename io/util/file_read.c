#include "io/util/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"

int mbn_read_file(const char *path, uint64_t max_bytes, unsigned char **data, size_t *len) {
    *data = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return mbn_fail(MBN_EFAIL, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int rc = MBN_OK;
    if (fstat(fd, &st) != 0) rc = mbn_fail(MBN_EFAIL, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode)) rc = mbn_fail(MBN_EFAIL, "%s: not a regular file", path);
    else if ((uint64_t)st.st_size > max_bytes || (uint64_t)st.st_size > SIZE_MAX - 1)
        rc = mbn_fail(MBN_EFAIL, "%s: file too large (%lld bytes)", path, (long long)st.st_size);
    size_t n = rc == MBN_OK ? (size_t)st.st_size : 0;
    unsigned char *buf = rc == MBN_OK ? malloc(n ? n : 1) : NULL;
    if (rc == MBN_OK && !buf) rc = mbn_fail(MBN_EFAIL, "%s: out of host memory (%zu bytes)", path, n);
    size_t got = 0;
    while (rc == MBN_OK && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) rc = mbn_fail(MBN_EFAIL, "%s: read error: %s", path, strerror(errno));
        else if (r == 0) rc = mbn_fail(MBN_EFAIL, "%s: file shrank while reading", path);
        else got += (size_t)r;
    }
    close(fd);
    if (rc != MBN_OK) {
        free(buf);
        return rc;
    }
    *data = buf;
    *len = n;
    return MBN_OK;
}
