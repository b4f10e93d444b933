/* The tuning database shipped with mbn (tune/database.txt, embedded in the binary), in the
 * spirit of CLBlast's: entries for devices someone measured, matched by level, each with a
 * default at its level:
 *   vendor   a case-insensitive part of the device's vendor ("*": any),
 *   platform a part of the OpenCL platform's name ("*": any),
 *   class    "CPU" or "GPU" (any device of that type), or "CPU avx2", "CPU avx512", ... (the
 *            instruction set of the device's profile), "*": any,
 *   device   a part of the device's name ("*": any).
 * An entry's decisions are lines in the tuning cache's syntax (tune/cache.h): "op <use> <op>
 * <row> NAME=V ..." and "clblast <kernel> NAME=V ...". For each op and use, and each CLBlast
 * kernel, the most specific matching entry that decides it wins: a device name beats an
 * instruction set, which beats a device type, which beats a vendor or platform; a tie goes to
 * the entry listed first. The result is overridden in turn by the user's own tuning cache.
 *
 * `mbn tune --export FILE` writes an entry for the device it tuned, ready to be added here
 * (docs/PERFORMANCE.md says how each entry was measured). */
#ifndef MBN_TUNE_DATABASE_H
#define MBN_TUNE_DATABASE_H
#include <stddef.h>

#include "tune/cache.h"

struct MbnDeviceInfo;

/* The device's class as the database names it: "CPU avx2", "GPU", ... */
void mbn_tune_db_class(const struct MbnDeviceInfo *info, char *out, size_t len);

/* The database's decisions for the device, merged over its matching entries as above, into
 * *out (its id left empty); `levels` describes, per decision, which entry it came from (one
 * line each, "gemm (infer): vendor * / platform * / class CPU avx2 / device *"). Reads the
 * shipped database, or the file `path` when given (MBN_TUNE_DATABASE). Returns how many
 * decisions were found; -1 when the file given cannot be read or parsed (mbn_last_error says
 * where). The shipped database not parsing is a bug in mbn: it fails the tests
 * (tests/test_tune_database.c), and here it is reported once and ignored. */
int mbn_tune_db_lookup(const struct MbnDeviceInfo *info, const char *path, MbnTuneCache *out,
                       char *levels, size_t len);

/* Checks every entry of a database text (for the tests): each parses, names known ops, rows and
 * parameters. Returns the number of entries, or -1 with mbn_last_error() naming the line. */
int mbn_tune_db_check(const char *text);

/* The embedded tune/database.txt. */
extern const char mbn_tune_database_text[];

/* The entry `mbn tune --export` writes: the device's levels, a source line, the decisions. */
int mbn_tune_db_format_entry(const struct MbnDeviceInfo *info, const MbnTuneCache *c,
                             const char *source, char *out, size_t len);

#endif
