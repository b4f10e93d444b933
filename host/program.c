#include "host/program.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "host/cache_dir.h"
#include "host/cl_sources.h"
#include "host/device.h"
#include "host/cl_error.h"

#define CACHE_MAGIC "MBNPRG01"

/* FNV-1a 64, applied twice with different seeds for a 128-bit key: collisions would only cost
 * a rebuild, since the stored key is compared in full. */
uint64_t mbn_hash64(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

const char *mbn_program_options(const MbnDevice *dev) {
    return dev->build_options;
}

const char *mbn_program_warning_option(const MbnDevice *dev) {
    return dev->env.verbose ? "" : " -w";
}

/* The gpu family's files are left out after they failed to build on a device
 * (dev->variants.no_gpu_kernels): the rest of mbn keeps working with the generic rows. */
int mbn_program_sources(bool gpu_files, const MbnClSource **out, int max) {
    int n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < mbn_cl_source_count; i++) {
            const char *name = mbn_cl_sources[i].name;
            size_t len = strlen(name);
            bool prelude = strcmp(name, "prelude.cl") == 0;
            bool gpu = len >= 7 && strcmp(name + len - 7, "_gpu.cl") == 0;
            if (prelude != (pass == 0) || strcmp(name, "peak.cl") == 0 || (gpu && !gpu_files))
                continue;
            if (n < max) out[n] = &mbn_cl_sources[i];
            n++;
        }
    return n;
}

static int program_sources(const MbnDevice *dev, const MbnClSource **out, int max) {
    return mbn_program_sources(!dev->variants.no_gpu_kernels, out, max);
}

static void cache_key(const MbnDevice *dev, uint64_t key[2]) {
    const char *opts = mbn_program_options(dev);
    for (int k = 0; k < 2; k++) {
        uint64_t h = k ? 0x84222325cbf29ce4ULL : 0xcbf29ce484222325ULL;
        const MbnClSource *src[64];
        int n = program_sources(dev, src, 64);
        for (int i = 0; i < n && i < 64; i++)
            h = mbn_hash64(h, src[i]->text, src[i]->length);
        h = mbn_hash64(h, opts, strlen(opts));
        /* The instruction set PoCL compiles for (POCL_LLVM_CPU_NAME) is not in the name. */
        h = mbn_hash64(h, dev->info.profile.target, strlen(dev->info.profile.target));
        h = mbn_hash64(h, dev->info.name, strlen(dev->info.name));
        h = mbn_hash64(h, dev->info.driver, strlen(dev->info.driver));
        h = mbn_hash64(h, dev->info.platform_name, strlen(dev->info.platform_name));
        h = mbn_hash64(h, dev->info.platform_version, strlen(dev->info.platform_version));
        key[k] = h;
    }
}

int mbn_program_cache_path(const MbnDevice *dev, char *out, size_t len) {
    char dir[3072];
    if (mbn_cache_dir(dir, sizeof dir) != 0) return -1;
    uint64_t key[2];
    cache_key(dev, key);
    int n = snprintf(out, len, "%s/programs/%016llx%016llx.clbin", dir, (unsigned long long)key[0],
                     (unsigned long long)key[1]);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

int mbn_program_marker_path(const MbnDevice *dev, const char *tag, char *out, size_t len) {
    char dir[3072];
    if (mbn_cache_dir(dir, sizeof dir) != 0) return -1;
    uint64_t key[2];
    cache_key(dev, key);
    uint64_t t = mbn_hash64(0xcbf29ce484222325ULL, tag, strlen(tag));
    int n = snprintf(out, len, "%s/first-run/%016llx%016llx-%016llx", dir,
                     (unsigned long long)key[0], (unsigned long long)key[1], (unsigned long long)t);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

static int cache_enabled(const MbnDevice *dev) {
    const char *e = getenv("MBN_PROGRAM_CACHE");
    if (e && strcmp(e, "0") == 0) return 0;
    if (e && strcmp(e, "1") == 0) return 1;
    /* PoCL keeps its own kernel cache (~/.cache/pocl). */
    return strstr(dev->info.platform_name, "Portable Computing Language") == NULL;
}

/* Layout: magic[8], key[2] u64, size u64, crc32 u32 of the binary, binary. */
static unsigned char *cache_read(const MbnDevice *dev, const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char magic[8];
    uint64_t key[2], want[2], n = 0;
    uint32_t crc = 0;
    unsigned char *bin = NULL;
    cache_key(dev, want);
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, CACHE_MAGIC, 8) != 0) goto bad;
    if (fread(key, sizeof key, 1, f) != 1 || key[0] != want[0] || key[1] != want[1]) goto bad;
    if (fread(&n, sizeof n, 1, f) != 1 || fread(&crc, sizeof crc, 1, f) != 1) goto bad;
    if (n == 0 || n > (256u << 20)) goto bad;
    bin = malloc(n);
    if (!bin || fread(bin, 1, n, f) != n || fgetc(f) != EOF) goto bad;
    if ((uint32_t)crc32(0L, bin, (uInt)n) != crc) goto bad;
    fclose(f);
    *size = n;
    return bin;
bad:
    free(bin);
    fclose(f);
    mbn_warn("ignoring damaged or foreign program cache file %s; compiling from source", path);
    return NULL;
}

static void cache_write(const MbnDevice *dev, const char *path) {
    size_t n = 0;
    if (clGetProgramInfo(dev->program, CL_PROGRAM_BINARY_SIZES, sizeof n, &n, NULL) != CL_SUCCESS ||
        n == 0)
        return;
    unsigned char *bin = malloc(n);
    if (!bin) return;
    unsigned char *bins[1] = {bin};
    if (clGetProgramInfo(dev->program, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) !=
        CL_SUCCESS) {
        free(bin);
        return;
    }
    char dir[4096], tmp[4200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    mbn_mkdirs(dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f != NULL;
    if (ok) {
        uint64_t key[2], size = n;
        uint32_t crc = (uint32_t)crc32(0L, bin, (uInt)n);
        cache_key(dev, key);
        ok = fwrite(CACHE_MAGIC, 1, 8, f) == 8 && fwrite(key, sizeof key, 1, f) == 1 &&
             fwrite(&size, sizeof size, 1, f) == 1 && fwrite(&crc, sizeof crc, 1, f) == 1 &&
             fwrite(bin, 1, n, f) == n;
        ok = (fclose(f) == 0) && ok;
    }
    /* A cache we cannot write is not an error: the next run compiles again. */
    if (ok && rename(tmp, path) == 0) {
        free(bin);
        return;
    }
    unlink(tmp);
    free(bin);
}

void mbn_program_print_log(const MbnDevice *dev, cl_program program, const char *what, int level) {
    size_t len = 0;
    clGetProgramBuildInfo(program, dev->info.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len);
    char *log = malloc(len + 1);
    if (log && clGetProgramBuildInfo(program, dev->info.device, CL_PROGRAM_BUILD_LOG, len, log,
                                     NULL) == CL_SUCCESS) {
        log[len] = 0;
        while (len > 0 && (log[len - 1] == 0 || isspace((unsigned char)log[len - 1])))
            log[--len] = 0;
        size_t cap = len + strlen(dev->info.name) + strlen(what) + 64;
        char *text = malloc(cap);
        if (text) {
            snprintf(text, cap, "OpenCL build log of %s for %s:%s%s", what, dev->info.name,
                     len ? "\n" : " (empty)", log);
            mbn_log_text(level, text);
        }
        free(text);
    }
    free(log);
}

static int build_log_fail(MbnDevice *dev, cl_int err) {
    mbn_program_print_log(dev, dev->program, "the mbn kernels", MBN_LEVEL_WARNING);
    return mbn_fail_cl(err, "device %s: building the mbn kernels failed (build log above)",
                       dev->info.name);
}

int mbn_program_build(MbnDevice *dev) {
    char opts[sizeof dev->build_options + 8];
    snprintf(opts, sizeof opts, "%s%s", mbn_program_options(dev), mbn_program_warning_option(dev));
    char path[4096];
    int use_cache = cache_enabled(dev) && mbn_program_cache_path(dev, path, sizeof path) == 0;
    cl_int err;
    if (use_cache) {
        size_t size = 0;
        unsigned char *bin = cache_read(dev, path, &size);
        if (bin) {
            const unsigned char *bins[1] = {bin};
            cl_int status = CL_SUCCESS;
            dev->program = clCreateProgramWithBinary(dev->context, 1, &dev->info.device, &size,
                                                     bins, &status, &err);
            free(bin);
            if (err == CL_SUCCESS && status == CL_SUCCESS &&
                clBuildProgram(dev->program, 1, &dev->info.device, opts, NULL, NULL) ==
                    CL_SUCCESS) {
                dev->program_from_cache = true;
                return MBN_OK;
            }
            if (dev->program) clReleaseProgram(dev->program);
            dev->program = NULL;
            mbn_warn("device %s rejected cached program %s; compiling from source", dev->info.name,
                     path);
        }
    }
    const MbnClSource *src[64];
    const char *texts[64];
    size_t lengths[64];
    int n = program_sources(dev, src, 64);
    if (n > 64) return mbn_fail(MBN_EFAIL, "too many embedded kernel files");
    for (int i = 0; i < n; i++) {
        texts[i] = src[i]->text;
        lengths[i] = src[i]->length;
    }
    dev->program = clCreateProgramWithSource(dev->context, (cl_uint)n, texts, lengths, &err);
    if (err != CL_SUCCESS)
        return mbn_fail_cl(err, "device %s: clCreateProgramWithSource", dev->info.name);
    err = clBuildProgram(dev->program, 1, &dev->info.device, opts, NULL, NULL);
    if (err != CL_SUCCESS) {
        int rc = build_log_fail(dev, err);
        clReleaseProgram(dev->program);
        dev->program = NULL;
        return rc;
    }
    if (dev->env.verbose)
        mbn_program_print_log(dev, dev->program, "the mbn kernels", MBN_LEVEL_NOTE);
    if (use_cache) cache_write(dev, path);
    return MBN_OK;
}
