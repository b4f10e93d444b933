#include "host/peak.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/cache_dir.h"
#include "host/cl_error.h"
#include "host/cl_sources.h"
#include "host/device.h"
#include "host/program.h"
#include "io/formats/atomic_file.h"

#define PEAK_CACHE_MAGIC "mbn-peak 2"

/* The kernels of cl/peak.cl: vector width x independent mad chains per work-item. */
static const struct {
    const char *name;
    int width, chains;
} variants[] = {{"peak_fma4_c8", 4, 8},   {"peak_fma4_c12", 4, 12},   {"peak_fma4_c16", 4, 16},
                {"peak_fma8_c8", 8, 8},   {"peak_fma8_c12", 8, 12},   {"peak_fma8_c16", 8, 16},
                {"peak_fma16_c8", 16, 8}, {"peak_fma16_c12", 16, 12}, {"peak_fma16_c16", 16, 16}};

/* The widest vector the device's registers hold (wider ones are split and spill). */
static int max_width(const MbnDevice *dev) {
    int w = dev->info.profile.vector_floats;
    return w >= 16 ? 16 : w >= 8 ? 8 : 4;
}

static const MbnClSource *peak_source(void) {
    for (int i = 0; i < mbn_cl_source_count; i++)
        if (strcmp(mbn_cl_sources[i].name, "peak.cl") == 0) return &mbn_cl_sources[i];
    return NULL;
}

/* The key covers everything that can change the figure: the device, its driver and platform,
 * and the measuring kernel itself. */
static void peak_key(const MbnDevice *dev, uint64_t key[2]) {
    const MbnClSource *src = peak_source();
    for (int k = 0; k < 2; k++) {
        uint64_t h = k ? 0x9e3779b97f4a7c15ULL : 0xcbf29ce484222325ULL;
        if (src) h = mbn_hash64(h, src->text, src->length);
        h = mbn_hash64(h, dev->info.name, strlen(dev->info.name) + 1);
        h = mbn_hash64(h, dev->info.driver, strlen(dev->info.driver) + 1);
        h = mbn_hash64(h, dev->info.platform_name, strlen(dev->info.platform_name) + 1);
        h = mbn_hash64(h, dev->info.platform_version, strlen(dev->info.platform_version) + 1);
        /* PoCL names a CPU by its family only ("AMD EPYC"): the core count tells more, and
         * the instruction set it compiles for (POCL_LLVM_CPU_NAME) is not in the name. */
        h = mbn_hash64(h, &dev->info.compute_units, sizeof dev->info.compute_units);
        h = mbn_hash64(h, dev->info.profile.target, strlen(dev->info.profile.target));
        key[k] = h;
    }
}

int mbn_peak_cache_path(const MbnDevice *dev, char *out, size_t len) {
    uint64_t key[2];
    peak_key(dev, key);
    char file[64];
    snprintf(file, sizeof file, "%016llx%016llx.txt", (unsigned long long)key[0],
             (unsigned long long)key[1]);
    return mbn_cache_path("peak", file, out, len);
}

/* Returns 1 with *out filled when the file holds a valid figure for this device, 0 when there
 * is no file, -1 (after one warning) when it is damaged or foreign. */
static int cache_read(const MbnDevice *dev, const char *path, MbnPeak *out) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char magic[32] = "", kernel[32] = "";
    unsigned long long k0 = 0, k1 = 0, wi = 0;
    double g = 0;
    uint64_t want[2];
    peak_key(dev, want);
    int n = fscanf(f, "%31[^\n]\nkey %16llx%16llx\ngflops %lf\nkernel %23s\nwork_items %llu\n",
                   magic, &k0, &k1, &g, kernel, &wi);
    int extra = fgetc(f);
    fclose(f);
    if (n != 6 || extra != EOF || strcmp(magic, PEAK_CACHE_MAGIC) != 0 || k0 != want[0] ||
        k1 != want[1] || !isfinite(g) || g <= 0 || g > 1e9 || wi == 0) {
        mbn_warn("ignoring damaged or foreign FMA-peak cache file %s; measuring again", path);
        return -1;
    }
    out->gflops = g;
    snprintf(out->kernel, sizeof out->kernel, "%s", kernel);
    out->work_items = (size_t)wi;
    out->from_cache = true;
    return 1;
}

static void cache_write(const MbnDevice *dev, const char *path, const MbnPeak *p) {
    uint64_t key[2];
    peak_key(dev, key);
    char text[256];
    int n = snprintf(text, sizeof text,
                     "%s\nkey %016llx%016llx\ngflops %.6g\nkernel %s\nwork_items %llu\n",
                     PEAK_CACHE_MAGIC, (unsigned long long)key[0], (unsigned long long)key[1],
                     p->gflops, p->kernel, (unsigned long long)p->work_items);
    mbn_mkdirs_for(path);
    /* A cache we cannot write is not an error: the next run measures again. */
    if (mbn_atomic_write_file(path, text, (size_t)n) != MBN_OK) mbn_clear_error();
}

static int run_once(MbnDevice *dev, cl_kernel k, size_t global, int iters, double *seconds) {
    MBN_CL_CHECK(clSetKernelArg(k, 1, sizeof(cl_int), &(cl_int){iters}), "peak kernel argument");
    cl_event ev = NULL;
    MBN_CL_CHECK(clEnqueueNDRangeKernel(dev->queue, k, 1, NULL, &global, NULL, 0, NULL, &ev),
                 "device %s: launching the FMA peak kernel", dev->info.name);
    cl_int err = clWaitForEvents(1, &ev);
    cl_ulong t0 = 0, t1 = 0;
    if (err == CL_SUCCESS)
        err = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
    if (err == CL_SUCCESS)
        err = clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
    clReleaseEvent(ev);
    if (err != CL_SUCCESS)
        return mbn_fail_cl(err, "device %s: timing the FMA peak kernel", dev->info.name);
    *seconds = t1 > t0 ? (double)(t1 - t0) * 1e-9 : 1e-9;
    return MBN_OK;
}

/* One variant: grow the iteration count until a launch takes >= 20 ms (so launch overhead is
 * noise), then keep the fastest of 5 launches (other processes only ever slow a run down).
 * fixed_iters > 0: one launch of that many iterations instead. */
static int measure_variant(MbnDevice *dev, cl_program prog, int v, size_t global, cl_mem out,
                           int fixed_iters, double *gflops) {
    cl_int err;
    cl_kernel k = clCreateKernel(prog, variants[v].name, &err);
    if (err != CL_SUCCESS)
        return mbn_fail_cl(err, "device %s: kernel %s", dev->info.name, variants[v].name);
    int rc = MBN_OK;
    cl_float m = 0.999f, c = 0.001f;
    if (clSetKernelArg(k, 0, sizeof out, &out) != CL_SUCCESS ||
        clSetKernelArg(k, 2, sizeof m, &m) != CL_SUCCESS ||
        clSetKernelArg(k, 3, sizeof c, &c) != CL_SUCCESS)
        rc = mbn_fail(MBN_EFAIL, "device %s: setting the FMA peak kernel's arguments",
                      dev->info.name);
    int iters = fixed_iters > 0 ? fixed_iters : 16;
    double t = 0;
    if (rc == MBN_OK) rc = run_once(dev, k, global, iters, &t); /* compiles on some drivers */
    while (rc == MBN_OK && !fixed_iters && iters < (1 << 24)) {
        rc = run_once(dev, k, global, iters, &t);
        if (rc != MBN_OK || t >= 0.02) break;
        double grow = t > 0 ? 0.025 / t : 16;
        iters = (int)fmin((double)iters * fmin(fmax(grow, 2.0), 16.0), (double)(1 << 24));
    }
    double best = t;
    for (int r = 0; rc == MBN_OK && !fixed_iters && r < 5; r++) {
        rc = run_once(dev, k, global, iters, &t);
        if (t < best) best = t;
    }
    clReleaseKernel(k);
    if (rc == MBN_OK)
        *gflops =
            (double)global * iters * variants[v].chains * variants[v].width * 2.0 / best * 1e-9;
    return rc;
}

/* global == 0: enough work-items to fill the device, iterations grown to a measurable time. */
static int measure(MbnDevice *dev, size_t global, int fixed_iters, MbnPeak *out) {
    const MbnClSource *src = peak_source();
    if (!src) return mbn_fail(MBN_EFAIL, "peak.cl is not embedded in this build");
    cl_int err;
    const char *text = src->text;
    cl_program prog = clCreateProgramWithSource(dev->context, 1, &text, &src->length, &err);
    if (err != CL_SUCCESS) return mbn_fail_cl(err, "device %s: peak.cl", dev->info.name);
    char opts[96];
    snprintf(opts, sizeof opts, "-cl-std=CL1.2 -DMBN_PEAK_MAX_VEC=%d%s", max_width(dev),
             mbn_program_warning_option(dev));
    err = clBuildProgram(prog, 1, &dev->info.device, opts, NULL, NULL);
    if (err != CL_SUCCESS)
        mbn_program_print_log(dev, prog, "peak.cl", MBN_LEVEL_WARNING);
    else if (dev->env.verbose)
        mbn_program_print_log(dev, prog, "peak.cl", MBN_LEVEL_NOTE);
    if (err != CL_SUCCESS) {
        clReleaseProgram(prog);
        return mbn_fail_cl(err, "device %s: building peak.cl", dev->info.name);
    }
    /* Enough work-items to fill the device: a few thousand per compute unit on GPUs (latency
     * hiding), a few hundred per core on CPUs (PoCL runs one work-group per core). */
    size_t per_cu = (dev->info.type & CL_DEVICE_TYPE_GPU) ? 2048 : 256;
    size_t cu = dev->info.compute_units ? dev->info.compute_units : 1;
    if (!global) global = cu * per_cu;
    if (global > ((size_t)1 << 20)) global = (size_t)1 << 20;
    cl_mem buf =
        clCreateBuffer(dev->context, CL_MEM_WRITE_ONLY, global * 16 * sizeof(float), NULL, &err);
    int rc =
        err == CL_SUCCESS ? MBN_OK : mbn_fail_cl(err, "device %s: FMA peak buffer", dev->info.name);
    memset(out, 0, sizeof *out);
    for (int v = 0; rc == MBN_OK && v < (int)(sizeof variants / sizeof variants[0]); v++) {
        if (variants[v].width > max_width(dev)) continue;
        double g = 0;
        rc = measure_variant(dev, prog, v, global, buf, fixed_iters, &g);
        if (rc == MBN_OK && g > out->gflops) {
            out->gflops = g;
            snprintf(out->kernel, sizeof out->kernel, "%s", variants[v].name);
        }
    }
    out->work_items = global;
    if (buf) clReleaseMemObject(buf);
    clReleaseProgram(prog);
    if (rc == MBN_OK && dev->env.verbose) { /* as mbn_device_close reports its handle's */
        char launched[256];
        size_t n =
            (size_t)snprintf(launched, sizeof launched, "kernels launched on %s:", dev->info.name);
        for (size_t v = 0; v < sizeof variants / sizeof variants[0] && n < sizeof launched; v++)
            if (variants[v].width <= max_width(dev))
                n += (size_t)snprintf(launched + n, sizeof launched - n, " %s", variants[v].name);
        mbn_log_text(MBN_LEVEL_NOTE, launched);
    }
    return rc;
}

int mbn_peak_run_once(MbnDevice *dev, size_t work_items, int iters) {
    MbnPeak p;
    return measure(dev, work_items, iters, &p);
}

int mbn_device_peak(MbnDevice *dev, bool remeasure, MbnPeak *out) {
    char path[4096];
    bool have_path = mbn_peak_cache_path(dev, path, sizeof path) == 0;
    MbnPeak cached;
    int have_cached = have_path ? cache_read(dev, path, &cached) : 0;
    if (have_cached == 1 && !remeasure) {
        *out = cached;
        return MBN_OK;
    }
    MBN_TRY(measure(dev, 0, 0, out));
    out->from_cache = false;
    /* Other processes only ever slow a measurement down: the file keeps the best one. */
    if (have_path)
        cache_write(dev, path, have_cached == 1 && cached.gflops > out->gflops ? &cached : out);
    return MBN_OK;
}
