/* The on-disk program cache: a second open of the same device loads the cached binary; a
 * truncated, bit-flipped or foreign cache file never breaks a run (the program is compiled
 * from source again and the run goes on). Forced on with MBN_PROGRAM_CACHE=1, since PoCL
 * normally relies on its own cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/device.h"
#include "host/cl_error.h"
#include "host/program.h"

static int fails;

static int open_once(bool want_cached, const char *what) {
    MbnDevice dev;
    if (mbn_device_open_selected(&dev, NULL) != MBN_OK) {
        printf("FAIL %s: open failed: %s\n", what, mbn_last_error());
        fails++;
        return 1;
    }
    /* The program must work whichever way it was built: launch one kernel. */
    cl_int err;
    cl_kernel k = clCreateKernel(dev.program, "fill_zero", &err);
    if (err != CL_SUCCESS) {
        printf("FAIL %s: kernel missing (%s)\n", what, mbn_cl_error_name(err));
        fails++;
    } else {
        clReleaseKernel(k);
    }
    if (dev.program_from_cache != want_cached) {
        printf("FAIL %s: from cache = %d, want %d\n", what, dev.program_from_cache, want_cached);
        fails++;
    } else {
        printf("ok   %s (from cache: %d)\n", what, dev.program_from_cache);
    }
    mbn_device_close(&dev);
    return 0;
}

static void corrupt(const char *path, long offset, int truncate_to) {
    FILE *f = fopen(path, "r+b");
    if (!f) return;
    if (truncate_to >= 0) {
        fclose(f);
        if (truncate(path, truncate_to) != 0) perror("truncate");
        return;
    }
    fseek(f, offset, SEEK_SET);
    int c = fgetc(f);
    fseek(f, offset, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
}

int main(void) {
    char dir[] = "/tmp/mbn-progcache-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    setenv("MBN_CACHE_DIR", dir, 1);
    setenv("MBN_PROGRAM_CACHE", "1", 1);
    open_once(false, "first open compiles and writes the cache");
    MbnDevice dev;
    if (mbn_device_open_selected(&dev, NULL) != MBN_OK) return 1;
    char path[4096];
    mbn_program_cache_path(&dev, path, sizeof path);
    mbn_device_close(&dev);
    if (access(path, R_OK) != 0) {
        printf("FAIL: no cache file at %s\n", path);
        return 1;
    }
    open_once(true, "second open loads the cached binary");
    corrupt(path, 200, -1);
    open_once(false, "bit-flipped cache file: compiled from source");
    open_once(true, "...and the rewritten cache file loads again");
    corrupt(path, 0, 100);
    open_once(false, "truncated cache file: compiled from source");
    FILE *f = fopen(path, "wb");
    fputs("MBNPRG01 not a program from this device", f);
    fclose(f);
    open_once(false, "foreign cache file: compiled from source");
    setenv("MBN_PROGRAM_CACHE", "0", 1);
    open_once(false, "MBN_PROGRAM_CACHE=0 turns the cache off");
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    return fails != 0;
}
