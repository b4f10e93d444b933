#include "io/formats/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"

int mbn_atomic_open(MbnAtomicFile *a, const char *path) {
    memset(a, 0, sizeof *a);
    if (strlen(path) >= sizeof a->path) return mbn_fail(MBN_EFAIL, "%s: path too long", path);
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid());
    /* A file with our pid can only be a leftover of an earlier process that had the same pid. */
    unlink(a->tmp);
    int fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return mbn_fail(MBN_EFAIL, "%s: cannot create temporary file %s: %s", path, a->tmp,
                        strerror(errno));
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        int e = errno;
        close(fd);
        unlink(a->tmp);
        return mbn_fail(MBN_EFAIL, "%s: cannot open temporary file %s: %s", path, a->tmp,
                        strerror(e));
    }
    return MBN_OK;
}

int mbn_atomic_write(MbnAtomicFile *a, const void *data, size_t n) {
    if (n && fwrite(data, 1, n, a->f) != n)
        return mbn_fail(MBN_EFAIL, "%s: write failed: %s", a->path, strerror(errno));
    return MBN_OK;
}

int mbn_fsync_parent_dir(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return mbn_fail(MBN_EFAIL, "%s: cannot open folder: %s", dir, strerror(errno));
    /* Some file systems refuse fsync on folders (EINVAL); the rename is still done. */
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0 && e != EINVAL && e != EROFS)
        return mbn_fail(MBN_EFAIL, "%s: fsync of folder failed: %s", dir, strerror(e));
    return MBN_OK;
}

int mbn_atomic_commit(MbnAtomicFile *a) {
    if (fflush(a->f) != 0 || fsync(fileno(a->f)) != 0) {
        int e = errno;
        mbn_atomic_abort(a);
        return mbn_fail(MBN_EFAIL, "%s: write failed: %s", a->path, strerror(e));
    }
    FILE *f = a->f;
    a->f = NULL;
    if (fclose(f) != 0) {
        int e = errno;
        mbn_atomic_abort(a);
        return mbn_fail(MBN_EFAIL, "%s: write failed: %s", a->path, strerror(e));
    }
    if (rename(a->tmp, a->path) != 0) {
        int e = errno;
        mbn_atomic_abort(a);
        return mbn_fail(MBN_EFAIL, "%s: cannot rename temporary file: %s", a->path, strerror(e));
    }
    a->tmp[0] = 0;
    return mbn_fsync_parent_dir(a->path);
}

void mbn_atomic_abort(MbnAtomicFile *a) {
    if (a->f) fclose(a->f);
    a->f = NULL;
    if (a->tmp[0]) unlink(a->tmp);
    a->tmp[0] = 0;
}

int mbn_atomic_write_file(const char *path, const void *data, size_t n) {
    MbnAtomicFile a;
    MBN_TRY(mbn_atomic_open(&a, path));
    int rc = mbn_atomic_write(&a, data, n);
    if (rc == MBN_OK) rc = mbn_atomic_commit(&a);
    if (rc != MBN_OK) mbn_atomic_abort(&a);
    return rc;
}
