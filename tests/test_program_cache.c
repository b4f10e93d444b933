/* The on-disk program cache: a second open of the same device loads the cached binary; a
 * truncated, bit-flipped or foreign cache file never breaks a run (the program is compiled
 * from source again and the run goes on). Forced on with MBN_PROGRAM_CACHE=1, since PoCL
 * normally relies on its own cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/device.h"
#include "tune/open.h"
#include "host/cl_error.h"
#include "host/program.h"
#include "tests/support/testutil.h"

static void open_once(bool want_cached, const char *what) {
    MbnDevice dev;
    T_MBN(mbn_device_open_selected(&dev, NULL));
    /* The program must work whichever way it was built: create one kernel. */
    cl_int err;
    cl_kernel k = clCreateKernel(dev.program, "fill_zero", &err);
    T_CHECK(err == CL_SUCCESS, "%s: kernel missing (%s)", what, mbn_cl_error_name(err));
    if (err == CL_SUCCESS) clReleaseKernel(k);
    T_CHECK(dev.program_from_cache == want_cached, "%s: from cache = %d, want %d", what,
            dev.program_from_cache, want_cached);
    printf("%s: from cache %d\n", what, dev.program_from_cache);
    mbn_device_close(&dev);
}

static void corrupt(const char *path, long offset, int truncate_to) {
    FILE *f = fopen(path, "r+b");
    T_CHECK(f != NULL, "%s: cannot open the cache file to damage it", path);
    if (!f) return;
    if (truncate_to >= 0) {
        fclose(f);
        T_CHECK(truncate(path, truncate_to) == 0, "truncate %s", path);
        return;
    }
    fseek(f, offset, SEEK_SET);
    int c = fgetc(f);
    fseek(f, offset, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
}

int main(void) {
    char dir[64];
    t_tempdir(dir, sizeof dir);
    setenv("MBN_CACHE_DIR", dir, 1);
    setenv("MBN_PROGRAM_CACHE", "1", 1);
    open_once(false, "first open compiles and writes the cache");
    MbnDevice dev;
    T_MBN(mbn_device_open_selected(&dev, NULL));
    char path[4096];
    T_CHECK(mbn_program_cache_path(&dev, path, sizeof path) == 0, "cache path");
    mbn_device_close(&dev);
    T_CHECK(access(path, R_OK) == 0, "no cache file at %s", path);
    if (t_failures) return t_summary("test_program_cache");
    open_once(true, "second open loads the cached binary");
    corrupt(path, 200, -1);
    open_once(false, "bit-flipped cache file: compiled from source");
    open_once(true, "...and the rewritten cache file loads again");
    corrupt(path, 0, 100);
    open_once(false, "truncated cache file: compiled from source");
    const char *foreign = "MBNPRG01 not a program from this device";
    T_CHECK(t_write_file(path, foreign, strlen(foreign)) == 0, "write %s", path);
    open_once(false, "foreign cache file: compiled from source");
    setenv("MBN_PROGRAM_CACHE", "0", 1);
    open_once(false, "MBN_PROGRAM_CACHE=0 turns the cache off");
    t_rmtree(dir);
    return t_summary("test_program_cache");
}
