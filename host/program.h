/* Builds the embedded kernels for a device, with an on-disk program-binary cache.
 *
 * The cache key hashes the kernel sources, the build options, the device name, the driver
 * version and the platform name and version, so a driver update or a new mbn never reuses a
 * stale binary. Files live in $MBN_CACHE_DIR, else $XDG_CACHE_HOME/mbn, else ~/.cache/mbn.
 * PoCL already caches compiled kernels itself, so the cache is skipped there unless
 * MBN_PROGRAM_CACHE=1; MBN_PROGRAM_CACHE=0 turns it off everywhere. Any problem with a cache
 * file (unreadable, truncated, corrupt, from another device) falls back to compiling from
 * source: the cache can make a run faster, never break it. */
#ifndef MBN_HOST_PROGRAM_H
#define MBN_HOST_PROGRAM_H
#include <CL/cl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/cl_sources.h"

struct MbnDevice;

int mbn_program_build(struct MbnDevice *dev);

/* The device's build options: the kernel variants' parameters as -D defines
 * (host/variants.h), set when the device is opened (part of the cache key). */
const char *mbn_program_options(const struct MbnDevice *dev);

/* " -w" (compiler warnings off), or "" with MBN_VERBOSE=1 (dev->env.verbose): appended to the
 * options of every program mbn builds. A compiler warning in mbn's kernels is for mbn's tests to
 * catch (tests/cli_kernel_warnings.sh builds with MBN_VERBOSE=1), not for users to read, and
 * some compilers print a "N warnings generated." line on stderr themselves. */
const char *mbn_program_warning_option(const struct MbnDevice *dev);

/* A program's build log at a level (MBN_LEVEL_WARNING, MBN_LEVEL_NOTE of base/error.h), under a
 * line naming `what` and the device. Called on build errors, and after every build with
 * MBN_VERBOSE=1. */
void mbn_program_print_log(const struct MbnDevice *dev, cl_program program, const char *what,
                           int level);

/* Path of the cache file for this device (exposed for tests). */
int mbn_program_cache_path(const struct MbnDevice *dev, char *out, size_t len);

/* Path of a marker file for "this device and these kernels (the program key) have run `tag`
 * before" (the first-run note of model/net.h), in the same cache folder. */
int mbn_program_marker_path(const struct MbnDevice *dev, const char *tag, char *out, size_t len);

uint64_t mbn_hash64(uint64_t h, const void *data, size_t len);

/* The program's sources, in order: cl/prelude.cl (the cpu vector width and register tile the
 * other files use) first, then the others in name order; cl/peak.cl is built on its own
 * (host/peak.c), and the gpu family's files (cl/..._gpu.cl) only with gpu_files. Returns how
 * many there are (at most max stored). */
int mbn_program_sources(bool gpu_files, const MbnClSource **out, int max);

#endif
