/* The device's fp32 FMA peak, measured by cl/peak.cl, so `mbn bench` can say what share of the
 * chip a workload reaches. Measured once (about a second) and cached per device, driver and
 * kernel source in <cache>/peak/ (host/cache_dir.h); a damaged or foreign cache file is
 * ignored with one warning and measured again. A figure measured while other processes used
 * the device is too low; `mbn bench` measures again when a workload reaches 90% of it. */
#ifndef MBN_HOST_PEAK_H
#define MBN_HOST_PEAK_H
#include <stdbool.h>
#include <stddef.h>

struct MbnDevice;

typedef struct {
    double gflops;   /* best rate over the kernel variants: 2 flops per FMA lane */
    char kernel[24]; /* the fastest variant, e.g. "peak_fma16_c12" */
    size_t work_items;
    bool from_cache;
} MbnPeak;

/* Reads the cached figure, or measures (and caches) it. `remeasure` measures now and returns
 * that figure; the cache keeps the best of it and the cached one (a busy machine only ever
 * measures too low). */
int mbn_device_peak(struct MbnDevice *dev, bool remeasure, MbnPeak *out);

/* Runs each peak kernel once, on work_items work-items for iters iterations, untimed and
 * uncached: a check that they run (ci/oclgrind.sh runs it under the simulator). */
int mbn_peak_run_once(struct MbnDevice *dev, size_t work_items, int iters);

/* The cache file's path for this device (for tests). */
int mbn_peak_cache_path(const struct MbnDevice *dev, char *out, size_t len);

#endif
