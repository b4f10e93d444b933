/* One `mbn bench` measurement (a device on a workload) and the outputs built from it: the
 * text table, --json and the --report HTML page (apps/bench_report.c). */
#ifndef MBN_APPS_BENCH_H
#define MBN_APPS_BENCH_H
#include <stdbool.h>

#include "host/profile.h"
#include "host/variants.h"
#include "model/arch.h"
#include "model/net.h"

typedef struct {
    int device_index; /* as `mbn devices` lists it */
    char device[256];
    char device_type[16]; /* "GPU", "CPU", ... */
    bool train;
    int batch;
    MbnPrecision precision; /* what ran (auto resolved) */
    MbnArch arch;
    int iterations;
    double seconds, images_per_s, ms_per_step;
    /* The median and the 90th percentile of the steps' wall times (each step waited for): the
     * latency figures that ONNX Runtime or PyTorch benchmarks report, without the slow steps a
     * shared machine adds to the mean. */
    double median_ms_per_step, p90_ms_per_step;
    /* Work counted per image (mbn_arch_flop_per_image) and the rate reached. */
    double gflop_per_image, gflops;
    /* The device's measured fp32 FMA peak (host/peak.h); <= 0 when it could not be measured. */
    double peak_gflops;
    /* Kernels and GEMMs enqueued per timed step (MbnDevice.launches). */
    double launches_per_step;
    MbnVariantSet variants; /* which kernel variant each op ran */
    /* Device memory the network allocated (MbnNet.device_bytes: weights, activations, scratch). */
    long long device_memory_bytes;
    /* Inference: device memory read and written per image, counted from the layer table
     * (mbn_net_bytes_moved), and the input and output bytes one inference copied per image as the
     * library runs it (preprocessing into the input, top-k from the probabilities): 0 where
     * they are mapped (zero_copy: the device shares the host's memory), else both copied. */
    double bytes_moved_per_image, bytes_copied_per_image;
    bool zero_copy;
    /* `mbn tune` result in use: "" when untuned, else its id, and the workload it was tuned on
     * ("infer 1.0-224 batch 32"); decisions from the shipped tuning database. */
    char tuning[48];
    char tuned_for[48];
    int database_decisions;
    MbnProfile prof; /* per-layer ms, averaged over the timed iterations */
} MbnBenchResult;

/* Writes one self-contained HTML page (inline SVG and CSS, no scripts, no network): a summary
 * table of every result and a bar chart of per-layer times per result. Atomic: the file is
 * complete or absent. */
int mbn_bench_write_html(const char *path, const MbnBenchResult *results, int n);

#endif
