#include "host/device.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/blas.h"
#include "host/cl_error.h"
#include "host/program.h"

static void info_string(cl_device_id d, cl_device_info what, char *out, size_t len) {
    out[0] = 0;
    if (clGetDeviceInfo(d, what, len, out, NULL) != CL_SUCCESS) snprintf(out, len, "?");
    out[len - 1] = 0;
    /* Some drivers pad names with spaces. */
    size_t n = strlen(out);
    while (n > 0 && isspace((unsigned char)out[n - 1]))
        out[--n] = 0;
}

int mbn_devices_list(MbnDeviceInfo **out, int *count) {
    *out = NULL;
    *count = 0;
    cl_uint n_platforms = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &n_platforms);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: ICD loader with no platforms */ ||
        (err == CL_SUCCESS && n_platforms == 0))
        return MBN_OK;
    if (err != CL_SUCCESS) return mbn_fail_cl(err, "clGetPlatformIDs");
    cl_platform_id *platforms = calloc(n_platforms, sizeof *platforms);
    if (!platforms) return mbn_fail(MBN_EFAIL, "out of host memory listing platforms");
    err = clGetPlatformIDs(n_platforms, platforms, NULL);
    if (err != CL_SUCCESS) {
        free(platforms);
        return mbn_fail_cl(err, "clGetPlatformIDs");
    }
    MbnDeviceInfo *list = NULL;
    int n = 0;
    for (cl_uint p = 0; p < n_platforms; p++) {
        cl_uint n_dev = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &n_dev) != CL_SUCCESS ||
            n_dev == 0)
            continue; /* a platform without devices is not an error */
        cl_device_id *devs = calloc(n_dev, sizeof *devs);
        MbnDeviceInfo *grown = realloc(list, (size_t)(n + (int)n_dev) * sizeof *list);
        if (!devs || !grown) {
            free(devs);
            free(grown ? grown : list);
            free(platforms);
            return mbn_fail(MBN_EFAIL, "out of host memory listing devices");
        }
        list = grown;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, n_dev, devs, NULL) != CL_SUCCESS) {
            free(devs);
            continue;
        }
        for (cl_uint d = 0; d < n_dev; d++) {
            MbnDeviceInfo *I = &list[n];
            memset(I, 0, sizeof *I);
            I->index = n;
            I->platform = platforms[p];
            I->device = devs[d];
            clGetPlatformInfo(platforms[p], CL_PLATFORM_NAME, sizeof I->platform_name,
                              I->platform_name, NULL);
            clGetPlatformInfo(platforms[p], CL_PLATFORM_VERSION, sizeof I->platform_version,
                              I->platform_version, NULL);
            I->platform_name[sizeof I->platform_name - 1] = 0;
            I->platform_version[sizeof I->platform_version - 1] = 0;
            info_string(devs[d], CL_DEVICE_NAME, I->name, sizeof I->name);
            info_string(devs[d], CL_DEVICE_VENDOR, I->vendor, sizeof I->vendor);
            info_string(devs[d], CL_DRIVER_VERSION, I->driver, sizeof I->driver);
            info_string(devs[d], CL_DEVICE_VERSION, I->version, sizeof I->version);
            cl_ulong mem = 0, max_alloc = 0;
            cl_uint cu = 0;
            size_t wg = 0;
            clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof I->type, &I->type, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc,
                            NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
            I->memory_bytes = mem;
            I->max_alloc_bytes = max_alloc;
            I->compute_units = cu;
            I->max_work_group = wg;
            cl_ulong local_mem = 0;
            cl_device_local_mem_type local_type = CL_GLOBAL;
            clGetDeviceInfo(devs[d], CL_DEVICE_LOCAL_MEM_SIZE, sizeof local_mem, &local_mem, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_LOCAL_MEM_TYPE, sizeof local_type, &local_type,
                            NULL);
            I->local_mem_bytes = local_mem;
            I->local_mem_dedicated = local_type == CL_LOCAL;
            cl_bool unified = CL_FALSE; /* deprecated in OpenCL 2.0: false where it is gone */
            if (clGetDeviceInfo(devs[d], CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified,
                                NULL) == CL_SUCCESS)
                I->host_unified = unified == CL_TRUE;
            /* The extension list can be longer than the field: keep whole names only. */
            size_t ext_len = 0;
            clGetDeviceInfo(devs[d], CL_DEVICE_EXTENSIONS, 0, NULL, &ext_len);
            char *ext = calloc(ext_len + 1, 1);
            if (ext &&
                clGetDeviceInfo(devs[d], CL_DEVICE_EXTENSIONS, ext_len, ext, NULL) == CL_SUCCESS) {
                ext[ext_len] = 0;
                I->fp16 = strstr(ext, "cl_khr_fp16") != NULL;
                snprintf(I->extensions, sizeof I->extensions, "%s", ext);
                char *cut = strrchr(I->extensions, ' ');
                if (strlen(ext) >= sizeof I->extensions && cut) *cut = 0;
            }
            free(ext);
            mbn_profile_read(&I->profile, platforms[p], devs[d]);
            n++;
        }
        free(devs);
    }
    free(platforms);
    *out = list;
    *count = n;
    return MBN_OK;
}

const char *mbn_device_type_name(cl_device_type type) {
    if (type & CL_DEVICE_TYPE_GPU) return "GPU";
    if (type & CL_DEVICE_TYPE_CPU) return "CPU";
    if (type & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
    return "other";
}

static int contains_nocase(const char *hay, const char *needle) {
    size_t nl = strlen(needle);
    for (const char *h = hay; *h; h++) {
        size_t i = 0;
        while (i < nl && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == nl) return 1;
    }
    return nl == 0;
}

int mbn_devices_select(const char *sel, const MbnDeviceInfo *all, int count, int **selected,
                       int *n_selected) {
    *selected = NULL;
    *n_selected = 0;
    const char *flag = "device"; /* the parameter (--device on the command line) */
    if (!sel || !*sel) {
        const char *env = getenv("MBN_DEVICE");
        if (env && *env) {
            sel = env;
            flag = "MBN_DEVICE";
        }
    }
    if (count == 0)
        return mbn_fail(MBN_EFAIL, "no OpenCL device found (is an OpenCL driver installed? "
                                   "on Debian: apt-get install pocl-opencl-icd)");
    int *idx = calloc((size_t)count, sizeof *idx);
    if (!idx) return mbn_fail(MBN_EFAIL, "out of host memory");
    int n = 0;
    if (!sel || !*sel) {
        for (int i = 0; i < count && n == 0; i++)
            if (all[i].type & CL_DEVICE_TYPE_GPU) idx[n++] = i;
        if (n == 0) idx[n++] = 0;
    } else if (strcmp(sel, "all") == 0) {
        for (int i = 0; i < count; i++)
            idx[n++] = i;
    } else if (strchr(sel, ',')) {
        /* A list of indices, e.g. "0,1" (data-parallel training); repeats allowed ("0,0" runs
         * two ranks on one device, which tests the data-parallel path on any machine). */
        free(idx);
        idx = calloc(strlen(sel) + 1, sizeof *idx);
        if (!idx) return mbn_fail(MBN_EFAIL, "out of host memory");
        const char *p = sel;
        while (*p) {
            char *end = NULL;
            long v = strtol(p, &end, 10);
            if (end == p || (*end && *end != ',') || v < 0 || v >= count) {
                free(idx);
                return mbn_fail(MBN_EUSAGE,
                                "%s %s: expected device indices 0..%d separated by "
                                "commas",
                                flag, sel, count - 1);
            }
            idx[n++] = (int)v;
            p = *end ? end + 1 : end;
        }
    } else {
        char *end = NULL;
        long v = strtol(sel, &end, 10);
        if (end != sel && *end == 0) {
            if (v < 0 || v >= count) {
                free(idx);
                return mbn_fail(MBN_EUSAGE, "%s %s: no device with that index (found %d: 0..%d)",
                                flag, sel, count, count - 1);
            }
            idx[n++] = (int)v;
        } else {
            for (int i = 0; i < count; i++)
                if (contains_nocase(all[i].name, sel)) idx[n++] = i;
        }
    }
    if (n == 0) {
        free(idx);
        return mbn_fail(MBN_EUSAGE,
                        "%s %s: no OpenCL device name contains \"%s\" (see `mbn devices`)", flag,
                        sel, sel);
    }
    *selected = idx;
    *n_selected = n;
    return MBN_OK;
}

int mbn_device_env(MbnDeviceEnv *env) {
    memset(env, 0, sizeof *env);
    MBN_TRY(mbn_family_parse(getenv("MBN_KERNELS"), &env->family));
    const char *off = getenv("MBN_NO_TUNING");
    env->no_tuning = off && *off && strcmp(off, "0") != 0;
    const char *zc = getenv("MBN_ZERO_COPY");
    if (zc && *zc && strcmp(zc, "0") != 0 && strcmp(zc, "1") != 0)
        return mbn_fail(MBN_EUSAGE, "MBN_ZERO_COPY=%s: expected 0 or 1", zc);
    env->no_zero_copy = zc && strcmp(zc, "0") == 0;
    const char *verbose = getenv("MBN_VERBOSE");
    env->verbose = verbose && strcmp(verbose, "1") == 0;
    const char *db = getenv("MBN_TUNE_DATABASE");
    if (db && *db) {
        if (strlen(db) >= sizeof env->database)
            return mbn_fail(MBN_EUSAGE, "MBN_TUNE_DATABASE: path longer than %zu bytes",
                            sizeof env->database - 1);
        snprintf(env->database, sizeof env->database, "%s", db);
    }
    return MBN_OK;
}

/* Kernel variants for the device and the build options that carry their parameters. */
static int resolve_variants(MbnDevice *dev, const MbnVariantOverride *ov, int n, bool no_gpu) {
    int family = dev->env.family;
    if (no_gpu)
        MBN_TRY(mbn_variants_resolve_without_gpu(&dev->variants, &dev->info.profile, family));
    else
        MBN_TRY(mbn_variants_resolve(&dev->variants, &dev->info.profile, family));
    for (int i = 0; i < n; i++)
        MBN_TRY(mbn_variants_override(&dev->variants, &ov[i]));
    return mbn_device_build_options(&dev->variants, dev->build_options, sizeof dev->build_options);
}

int mbn_device_build_options(const MbnVariantSet *set, char *out, size_t len) {
    snprintf(out, len, "-cl-std=CL1.2");
    return mbn_variants_build_options(set, out, len);
}

int mbn_device_open_with(MbnDevice *dev, const MbnDeviceInfo *info,
                         const MbnVariantOverride *overrides, int n) {
    MbnDeviceEnv env;
    MBN_TRY(mbn_device_env(&env));
    return mbn_device_open_env(dev, info, &env, overrides, n);
}

int mbn_device_open_env(MbnDevice *dev, const MbnDeviceInfo *info, const MbnDeviceEnv *env,
                        const MbnVariantOverride *overrides, int n) {
    memset(dev, 0, sizeof *dev);
    dev->info = *info;
    dev->env = *env;
    dev->serialize_queues = strstr(info->platform_name, "Portable Computing Language") != NULL;
    int rc = resolve_variants(dev, overrides, n, false);
    if (rc != MBN_OK) {
        memset(dev, 0, sizeof *dev);
        return mbn_fail_context(rc, "device %s", info->name);
    }
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)info->platform, 0};
    dev->context = clCreateContext(props, 1, &info->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) return mbn_fail_cl(err, "device %s: clCreateContext", info->name);
    dev->context_users = malloc(sizeof *dev->context_users);
    if (!dev->context_users) {
        mbn_device_close(dev);
        return mbn_fail(MBN_EFAIL, "out of host memory");
    }
    atomic_init(dev->context_users, 1);
    dev->queue = clCreateCommandQueue(dev->context, info->device, CL_QUEUE_PROFILING_ENABLE, &err);
    if (err != CL_SUCCESS) {
        mbn_device_close(dev);
        return mbn_fail_cl(err, "device %s: clCreateCommandQueue", info->name);
    }
    rc = mbn_program_build(dev);
    if (rc != MBN_OK) {
        /* A driver that cannot compile the gpu family's kernels (they are built on every device,
         * so that any row can be chosen) must not make mbn unusable there: build without them
         * and run the other rows. */
        mbn_warn("%s; retrying without the gpu kernel family (cl/*_gpu.cl), whose "
                 "ops run their generic or cpu kernels instead",
                 mbn_last_error());
        rc = resolve_variants(dev, overrides, n, true);
        if (rc == MBN_OK) rc = mbn_program_build(dev);
    }
    if (rc != MBN_OK) {
        mbn_device_close(dev);
        return rc;
    }
    return MBN_OK;
}

/* With a family forced (tests), say which ops had to run their generic row for some shape:
 * a forced family must not pass tests on kernels it did not run without saying so. */
static void report_fallbacks(const MbnDevice *dev) {
    if (dev->variants.family == MBN_FAMILY_AUTO || !dev->variants.op[0].row) return;
    for (int op = 0; op < MBN_OP_COUNT; op++)
        if (dev->variants.fallbacks[op])
            mbn_note("MBN_KERNELS=%s: %s ran %s instead of %s %lu time(s) (shape not supported "
                     "by that row)",
                     mbn_family_name(dev->variants.family), mbn_op_name((MbnOp)op),
                     dev->variants.generic[op].row->name, dev->variants.op[op].row->name,
                     dev->variants.fallbacks[op]);
}

/* MBN_VERBOSE=1: which kernels this handle launched (each is created on its first launch). */
static void report_launched(const MbnDevice *dev) {
    if (!dev->env.verbose) return;
    char text[256 + MBN_KERNEL_COUNT * 48];
    size_t n = (size_t)snprintf(text, sizeof text, "kernels launched on %s:", dev->info.name);
    for (int i = 0; i < MBN_KERNEL_COUNT && n < sizeof text; i++)
        if (dev->kernels[i])
            n += (size_t)snprintf(text + n, sizeof text - n, " %s", mbn_kernel_names[i]);
    mbn_log_text(MBN_LEVEL_NOTE, text); /* (mbn_note would cut it at 1 KiB) */
}

void mbn_device_close(MbnDevice *dev) {
    report_fallbacks(dev);
    report_launched(dev);
    if (dev->queue) clFinish(dev->queue);
    for (int i = 0; i < MBN_KERNEL_COUNT; i++)
        if (dev->kernels[i]) clReleaseKernel(dev->kernels[i]);
    /* CLBlast keeps the programs it compiled for this context in a static cache, released at
     * exit otherwise: after the context, and after the OpenCL runtime may itself be gone
     * (oclgrind aborted there). The last handle on the context empties it first. */
    if (dev->context_users && atomic_fetch_sub(dev->context_users, 1) == 1) {
        mbn_blas_release_programs();
        free(dev->context_users);
    }
    if (dev->program) clReleaseProgram(dev->program);
    if (dev->queue) clReleaseCommandQueue(dev->queue);
    if (dev->context) clReleaseContext(dev->context);
    memset(dev, 0, sizeof *dev);
}

int mbn_device_settle(MbnDevice *dev) {
    if (dev->serialize_queues)
        MBN_CL_CHECK(clFinish(dev->queue), "device %s: clFinish", dev->info.name);
    return MBN_OK;
}

int mbn_device_open_sibling(MbnDevice *dev, const MbnDevice *base) {
    /* Everything the base knows about the device is copied: info, the kernel variants and the
     * build options they were compiled with (the program is shared). What belongs to one queue
     * is not: kernel objects (created on first launch), the profile, and the counters of what
     * this handle ran (launches, variant fallbacks), which start at zero. */
    *dev = *base;
    dev->queue = NULL;
    memset(dev->kernels, 0, sizeof dev->kernels);
    dev->profile = NULL;
    dev->launches = 0;
    memset(dev->variants.fallbacks, 0, sizeof dev->variants.fallbacks);
    cl_int err;
    dev->queue =
        clCreateCommandQueue(base->context, base->info.device, CL_QUEUE_PROFILING_ENABLE, &err);
    if (err != CL_SUCCESS) {
        memset(dev, 0, sizeof *dev);
        return mbn_fail_cl(err, "device %s: clCreateCommandQueue", base->info.name);
    }
    clRetainContext(dev->context);
    clRetainProgram(dev->program);
    if (dev->context_users) atomic_fetch_add(dev->context_users, 1);
    return MBN_OK;
}
