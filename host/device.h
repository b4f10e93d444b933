/* OpenCL devices: enumeration, selection (--device / MBN_DEVICE), and an opened
 * device with its context, in-order profiling queue and built kernels. */
#ifndef MBN_HOST_DEVICE_H
#define MBN_HOST_DEVICE_H
#include <CL/cl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "host/device_profile.h"
#include "host/kernels.h"
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
    bool host_unified;        /* CL_DEVICE_HOST_UNIFIED_MEMORY: the device uses the host's memory */
    char extensions[4096];    /* CL_DEVICE_EXTENSIONS (truncated if longer) */
    MbnDeviceProfile profile; /* what the kernel plan is made from (host/plan.h) */
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

/* The environment that changes how a device is opened, read once per open (mbn_device_env):
 * MBN_KERNELS=auto|generic|cpu|gpu forces a kernel family (host/variants.h: tests ask for
 * exactly that family, so no tuning decision changes its rows); MBN_NO_TUNING=1 ignores the
 * shipped tuning database and the user's tuning cache (tune/open.h); MBN_TUNE_DATABASE=FILE
 * reads the database from FILE instead (to try an entry before sending it in); MBN_ZERO_COPY=0
 * copies inputs and outputs even where the device shares the host's memory (model/net.h:
 * mapped_io), to compare the two. */
typedef struct {
    int family;          /* MBN_FAMILY_AUTO or the forced family */
    bool no_tuning;      /* neither database nor cache */
    bool no_zero_copy;   /* MBN_ZERO_COPY=0 */
    char database[1024]; /* MBN_TUNE_DATABASE: a database file instead of the shipped one */
    /* MBN_VERBOSE=1: kernels built with compiler warnings on and every build log printed, and
     * at close the names of the kernels each handle launched (ci/oclgrind.sh checks that its
     * runs launch every kernel). */
    bool verbose;
} MbnDeviceEnv;

/* Reads MBN_KERNELS, MBN_NO_TUNING, MBN_TUNE_DATABASE, MBN_ZERO_COPY and MBN_VERBOSE;
 * MBN_EUSAGE naming the variable for a bad value. */
int mbn_device_env(MbnDeviceEnv *env);

typedef struct MbnDevice {
    MbnDeviceInfo info;
    MbnDeviceEnv env; /* as read when it was opened */
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    cl_kernel kernels[MBN_KERNEL_COUNT];
    MbnVariantSet variants;      /* which kernel variant each op uses (host/variants.h) */
    char build_options[4096];    /* the program's build options, variant defines included */
    unsigned long long launches; /* kernels and GEMMs enqueued since open (bench) */
    struct MbnGemmLog *gemm_log; /* when set, CLBlast GEMMs are recorded (host/blas.h) */
    char tuning[24];        /* id of the `mbn tune` decisions in use (tune/cache.h); "" untuned */
    char tuned_for[48];     /* the workload the cache's decisions were tuned on ("infer 1.0-224
                               batch 32"), "" untuned */
    int database_decisions; /* decisions taken from the shipped tuning database (tune/database.h) */
    bool program_from_cache;
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

/* Opens the device: kernel variants resolved for its profile (host/variants.h, host/plan.h) under
 * `env`, the given decisions applied to them (n may be 0), context, in-order queue with
 * profiling, kernels built (or loaded from the program cache) with the variants' parameters.
 * Opening with the device's tuning (database and cache) is tune/open.h's
 * mbn_device_open_for. */
int mbn_device_open_env(MbnDevice *dev, const MbnDeviceInfo *info, const MbnDeviceEnv *env,
                        const MbnVariantOverride *overrides, int n);
/* The same with the environment read now (mbn_device_env). */
int mbn_device_open_with(MbnDevice *dev, const MbnDeviceInfo *info,
                         const MbnVariantOverride *overrides, int n);
void mbn_device_close(MbnDevice *dev);

/* The program's build options for a set of variants: the OpenCL C version and every row's
 * defines (mbn_variants_build_options). */
int mbn_device_build_options(const MbnVariantSet *set, char *out, size_t len);

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

#endif
