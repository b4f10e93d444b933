/* Where mbn keeps per-device files (compiled programs, the measured FMA peak, `mbn tune`'s
 * winners): $MBN_CACHE_DIR, else $XDG_CACHE_HOME/mbn, else ~/.cache/mbn. Every cache is an
 * optimisation: a missing, unreadable or unwritable cache never fails a command. */
#ifndef MBN_HOST_CACHE_DIR_H
#define MBN_HOST_CACHE_DIR_H
#include <stddef.h>

/* The cache root; -1 when no location is known (no HOME) or it does not fit. */
int mbn_cache_dir(char *out, size_t len);

/* "<root>/<sub>/<file>"; -1 when there is no root or it does not fit. Creates nothing. */
int mbn_cache_path(const char *sub, const char *file, char *out, size_t len);

/* mkdir -p of the folder holding path (before writing a cache file). */
void mbn_mkdirs_for(const char *path);

/* mkdir -p, ignoring errors (the following open reports them). */
void mbn_mkdirs(const char *path);

/* Creates an empty file (a marker) and its folders; failures are ignored (a marker that cannot
 * be written only repeats what it records). */
void mbn_cache_touch(const char *path);

#endif
