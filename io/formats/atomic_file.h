/* Crash-safe file replacement: data goes to "<path>.tmp.<pid>", which is flushed, fsynced and
 * renamed over <path>, then the folder is fsynced so the rename itself is durable. A crash at
 * any moment leaves either the previous <path> or the complete new one (plus possibly a stale
 * temporary file), never a partial file under the final name. */
#ifndef MBN_IO_FORMATS_ATOMIC_FILE_H
#define MBN_IO_FORMATS_ATOMIC_FILE_H
#include <stddef.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    char path[4096];
    char tmp[4096 + 32];
} MbnAtomicFile;

/* Creates the temporary file (exclusively; a leftover with the same pid is replaced). */
int mbn_atomic_open(MbnAtomicFile *a, const char *path);
int mbn_atomic_write(MbnAtomicFile *a, const void *data, size_t n);
/* Flush, fsync, close, rename, fsync the folder. On failure the temporary file is removed and
 * the previous <path> is untouched. */
int mbn_atomic_commit(MbnAtomicFile *a);
/* Closes and removes the temporary file (safe to call after a failed commit). */
void mbn_atomic_abort(MbnAtomicFile *a);

/* The whole sequence for data already in memory: open, write, commit (abort on failure). */
int mbn_atomic_write_file(const char *path, const void *data, size_t n);

/* fsync of the folder holding path, so a rename or unlink in it is durable. */
int mbn_fsync_parent_dir(const char *path);

#endif
