/* Per-device CLBlast tuning database, in the spirit of CLBlast's own: entries match a device
 * by a substring of its name (and platform), and carry kernel parameters found by search
 * (see docs/PERFORMANCE.md for how each entry was measured). */
#ifndef MBN_HOST_TUNING_H
#define MBN_HOST_TUNING_H
#include <stddef.h>

#include "host/device.h"

#define MBN_TUNING_MAX_PARAMS 24

typedef struct {
    const char *kernel; /* CLBlast kernel family, e.g. "Xgemm" */
    int n_params;
    const char *names[MBN_TUNING_MAX_PARAMS];
    size_t values[MBN_TUNING_MAX_PARAMS];
} MbnTuningKernel;

typedef struct {
    const char *platform_contains; /* e.g. "Portable Computing Language" */
    const char *device_contains;   /* matched case-sensitively against the device name */
    int n_kernels;
    MbnTuningKernel kernels[4];
} MbnTuning;

const MbnTuning *mbn_tuning_lookup(const MbnDeviceInfo *info);

#endif
