/* OpenCL devices: enumeration, selection (--device / MBN_DEVICE), and an opened
 * device with its context, in-order profiling queue and built kernels. */
#ifndef MBN_HOST_DEVICE_H
#define MBN_HOST_DEVICE_H
#include <CL/cl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "host/kernels.h"
#include "host/tune_cache.h"
#include "host/variants.h"

typedef struct MbnDeviceInfo {
    int index; /* position in the flat list over all platforms, as `mbn devices` prints */
    cl_platform_id platform;
    cl_device_id device;
    char platform_name[128];
    char platform_version[128];
    char name[256];
    char vendor[128];
    char driver[128];
    char version[128];
    cl_device_type type;
    unsigned long long memory_bytes;
    unsigned long long max_alloc_bytes;
    unsigned compute_units;
    size_t max_work_group;
    unsigned long long local_mem_bytes; /* CL_DEVICE_LOCAL_MEM_SIZE */
    bool local_mem_dedicated;           /* CL_LOCAL (GPUs), not emulated in global memory */
    bool fp16;
    char extensions[4096]; /* CL_DEVICE_EXTENSIONS (truncated if longer) */
} MbnDeviceInfo;

/* Lists every device of every platform. *out is malloc'ed (free it); zero devices is not an
 * error here (callers decide). Fails only when the OpenCL loader itself fails. */
int mbn_devices_list(MbnDeviceInfo **out, int *count);

/* Selects devices by SEL: NULL/"" means $MBN_DEVICE, else the first GPU, else the first
 * device; "all" means every device; a number is an index; "0,1" a list of indices (repeats
 * allowed); anything else is a
 * case-insensitive substring of the device name. Returns MBN_EUSAGE naming the flag when
 * nothing matches. *selected is malloc'ed. */
int mbn_devices_select(const char *sel, const MbnDeviceInfo *all, int count, int **selected,
                       int *n_selected);

const char *mbn_device_type_name(cl_device_type type);

typedef struct MbnDevice {
    MbnDeviceInfo info;
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    cl_kernel kernels[MBN_KERNEL_COUNT];
    MbnVariantSet variants;      /* which kernel variant each op uses (host/variants.h) */
    char build_options[4096];    /* the program's build options, variant defines included */
    unsigned long long launches; /* kernels and GEMMs enqueued since open (bench) */
    struct MbnGemmLog *gemm_log; /* when set, CLBlast GEMMs are recorded (host/blas.h) */
    char tuning[24]; /* id of the `mbn tune` decisions in use (host/tune_cache.h); "" untuned */
    bool program_from_cache;
    /* MBN_VERBOSE=1 (read when the device is opened): kernels built with compiler warnings on
     * and their build log printed, and at close the names of the kernels this handle launched
     * (ci/oclgrind.sh checks that its runs launch every kernel). */
    bool verbose;
    /* Handles (the device and its siblings) that share this context: the last one to close
     * empties CLBlast's program cache before the context goes (host/blas.h). */
    atomic_int *context_users;
    /* Driver quirk: PoCL 3.x can abort (an assertion in pocl_release_dlhandle_cache) when the
     * same kernel runs with different grid sizes in two command queues at once: its cache of
     * compiled work-group functions releases entries by kernel and local size only, so one queue
     * can release another's entry (PoCL later keys the release by the entry itself). Code that
     * feeds several queues of such a device waits for each before starting the next
     * (mbn_device_settle); on a CPU that costs nothing, as the queues share the same cores. */
    bool serialize_queues;
    /* Per-layer profiling (see host/profile.h); NULL when not recording. */
    struct MbnProfile *profile;
} MbnDevice;

/* Opens the device: kernel variants resolved (host/variants.h; $MBN_KERNELS read here) with
 * the decisions of `mbn tune` applied when its cache holds some for this device
 * (host/tune_cache.h), context, in-order queue with profiling, kernels built (or loaded from
 * the program cache) with the variants' parameters, CLBlast tuned for it. */
int mbn_device_open(MbnDevice *dev, const MbnDeviceInfo *info);
/* The same with the tuning decisions made for `use` (MBN_USE_INFER: networks that only run
 * inference; mbn_device_open is MBN_USE_TRAIN, whose set covers every op). */
int mbn_device_open_for(MbnDevice *dev, const MbnDeviceInfo *info, MbnUse use);
/* The same with the given tuner decisions applied before the program is built (n may be 0)
 * instead of the tuning cache's. */
int mbn_device_open_with(MbnDevice *dev, const MbnDeviceInfo *info,
                         const MbnVariantOverride *overrides, int n);
void mbn_device_close(MbnDevice *dev);

/* Waits for the device's queue when its driver must not run two queues at once
 * (serialize_queues); a no-op otherwise. Code that feeds several queues calls it after each
 * queue's share of the work. */
int mbn_device_settle(MbnDevice *dev);

/* Opens a second handle on an already opened device: the same context, program, kernel
 * variants, build options and CLBlast tuning (retained, not rebuilt), with its own in-order
 * queue, kernel objects and counters (launches, variant fallbacks), so two handles can be used
 * from two threads at once. Close it with mbn_device_close (before or after
 * the base). Used by the library so that all models on a device share one OpenCL context. */
int mbn_device_open_sibling(MbnDevice *dev, const MbnDevice *base);

/* Convenience: list, select by SEL (must match exactly one device unless allow_many) and open
 * the first match. */
int mbn_device_open_selected(MbnDevice *dev, const char *sel);
int mbn_device_open_selected_for(MbnDevice *dev, const char *sel, MbnUse use);

#endif
