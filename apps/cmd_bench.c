/* mbn bench: images/s, ms per step, GFLOP/s and its share of the device's measured FMA peak,
 * and per-layer milliseconds (from OpenCL profiling events) on one device or on every device,
 * for inference or training steps, on random inputs; optionally an HTML report. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/bench.h"
#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/json_out.h"
#include "base/clock.h"
#include "host/device.h"
#include "tune/open.h"
#include "base/error.h"
#include "host/peak.h"
#include "host/profile.h"
#include "base/rng.h"
#include "io/formats/atomic_file.h"
#include "model/net.h"
#include "apps/variants_json.h"

typedef MbnBenchResult BenchResult;

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int step(MbnNet *net, bool train, int batch, const int32_t *labels) {
    MBN_TRY(mbn_net_forward(net, batch, train));
    if (!train) return MBN_OK;
    MBN_TRY(mbn_net_backward(net, labels, batch, 0.1f));
    MbnSgdConfig sgd = {0.01f, 0.9f, 0.0f, false};
    return mbn_net_sgd_step(net, &sgd);
}

/* Developer aid for kernel work: with MBN_BENCH_DUMP=FILE set, the logits (and in training the
 * loss) after the warm-up step and after the last timed step go to FILE as text, so a change
 * can be compared against the previous build on the same seed (differences should stay at
 * float rounding level). */
static int dump_outputs(MbnNet *net, bool train, int batch, FILE *f) {
    size_t n = (size_t)batch * net->arch.num_classes;
    float *logits = malloc(n * sizeof *logits);
    if (!logits) return mbn_fail(MBN_EFAIL, "out of host memory");
    int rc = mbn_net_read_logits(net, batch, logits);
    for (size_t i = 0; rc == MBN_OK && i < n; i++)
        fprintf(f, "%.9g\n", (double)logits[i]);
    float loss = 0;
    if (rc == MBN_OK && train && (rc = mbn_net_read_loss(net, &loss)) == MBN_OK)
        fprintf(f, "loss %.9g\n", (double)loss);
    free(logits);
    return rc;
}

typedef struct {
    bool train, measure_peak;
    int batch, iterations;
    double min_seconds;
    MbnPrecision precision; /* as asked: auto is resolved per device */
} BenchOptions;

static int bench_device(const MbnDeviceInfo *info, const MbnArch *arch, const BenchOptions *o,
                        BenchResult *r) {
    MbnDevice dev;
    MbnNet net;
    bool train = o->train;
    int batch = o->batch, iterations = o->iterations;
    double min_seconds = o->min_seconds;
    memset(r, 0, sizeof *r);
    r->device_index = info->index;
    snprintf(r->device, sizeof r->device, "%s", info->name);
    snprintf(r->device_type, sizeof r->device_type, "%s", mbn_device_type_name(info->type));
    r->train = train;
    r->batch = batch;
    r->arch = *arch;
    r->peak_gflops = -1;
    r->device_memory_bytes = -1;
    MBN_TRY(mbn_device_open_for(&dev, info, train ? MBN_USE_TRAIN : MBN_USE_INFER));
    snprintf(r->tuning, sizeof r->tuning, "%s", dev.tuning);
    snprintf(r->tuned_for, sizeof r->tuned_for, "%s", dev.tuned_for);
    r->database_decisions = dev.database_decisions;
    /* The peak first (cached after the first run): measured on an idle device. A failure to
     * measure it is a warning, not a failed benchmark. */
    MbnPeak peak;
    if (mbn_device_peak(&dev, o->measure_peak, &peak) == MBN_OK)
        r->peak_gflops = peak.gflops;
    else
        mbn_warn("device %s: FMA peak not measured: %s", info->name, mbn_last_error());
    MbnPrecision precision = mbn_precision_resolve(&dev, o->precision);
    r->precision = precision;
    int rc = train ? mbn_net_create(&net, &dev, arch, batch, true)
                   : mbn_net_create_infer(&net, &dev, arch, batch, precision);
    if (rc) {
        mbn_device_close(&dev);
        return rc;
    }
    r->device_memory_bytes = (long long)net.device_bytes;
    r->zero_copy = net.mapped_io;
    size_t n_in = (size_t)batch * arch->resolution * arch->resolution * 3;
    float *x = NULL;
    int32_t *labels = malloc((size_t)batch * sizeof *labels);
    if (!labels) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    /* The input as the library places it (inference): written where the device reads it. */
    unsigned long long copied0 = net.bytes_copied;
    if (rc == MBN_OK) rc = train ? MBN_OK : mbn_net_input_map(&net, batch, &x);
    if (rc == MBN_OK && train && !(x = malloc(n_in * sizeof *x)))
        rc = mbn_fail(MBN_EFAIL, "out of host memory");
    MbnRng rng;
    mbn_rng_seed(&rng, 1);
    for (size_t i = 0; rc == MBN_OK && i < n_in; i++)
        x[i] = (float)mbn_rng_normal(&rng);
    for (int i = 0; rc == MBN_OK && i < batch; i++)
        labels[i] = (int32_t)(mbn_rng_next(&rng) % (uint64_t)arch->num_classes);
    if (rc == MBN_OK)
        rc = train ? mbn_net_set_input(&net, x, batch) : mbn_net_input_done(&net, batch);
    if (rc == MBN_OK) rc = mbn_net_init(&net, 1);
    /* Warm-up: kernel compilation (PoCL, CLBlast) and first-touch allocations. */
    if (rc == MBN_OK) rc = step(&net, train, batch, labels);
    const float *probs = NULL; /* inference: the probabilities read where they are */
    if (rc == MBN_OK && !train) rc = mbn_net_probs_map(&net, batch, &probs);
    if (rc == MBN_OK && !train) rc = mbn_net_probs_done(&net);
    if (rc == MBN_OK && !train) {
        r->bytes_copied_per_image = (double)(net.bytes_copied - copied0) / batch;
        r->bytes_moved_per_image = mbn_net_bytes_moved(&net, batch);
    }
    if (rc == MBN_OK) rc = clFinish(dev.queue) == CL_SUCCESS ? MBN_OK : MBN_EFAIL;
    const char *dump_path = getenv("MBN_BENCH_DUMP");
    FILE *dump = dump_path && *dump_path ? fopen(dump_path, "w") : NULL;
    if (dump && rc == MBN_OK) rc = dump_outputs(&net, train, batch, dump);
    /* Timed: wall clock over whole iterations; per-layer times from profiling events. */
    unsigned long long launches0 = dev.launches;
    double t0 = mbn_now();
    int it = 0, cap = 0;
    double *step_ms = NULL;
    while (rc == MBN_OK &&
           (it < iterations || (iterations <= 0 && (mbn_now() - t0 < min_seconds || it < 2)))) {
        double ts = mbn_now();
        mbn_profile_begin(&dev, &r->prof);
        rc = step(&net, train, batch, labels);
        int rc2 = mbn_profile_end(&dev); /* waits for the step (clFinish) */
        if (rc == MBN_OK) rc = rc2;
        if (rc == MBN_OK && it == cap) {
            cap = cap ? 2 * cap : 256;
            double *grown = realloc(step_ms, (size_t)cap * sizeof *grown);
            if (!grown)
                rc = mbn_fail(MBN_EFAIL, "out of host memory");
            else
                step_ms = grown;
        }
        if (rc == MBN_OK) step_ms[it] = (mbn_now() - ts) * 1e3;
        it++;
    }
    double dt = mbn_now() - t0;
    if (rc == MBN_OK) {
        qsort(step_ms, (size_t)it, sizeof *step_ms, by_value);
        r->median_ms_per_step =
            it % 2 ? step_ms[it / 2] : 0.5 * (step_ms[it / 2 - 1] + step_ms[it / 2]);
        r->p90_ms_per_step = step_ms[(int)(0.9 * (it - 1) + 0.5)];
    }
    free(step_ms);
    if (dump) {
        if (rc == MBN_OK) rc = dump_outputs(&net, train, batch, dump);
        fclose(dump);
    }
    if (rc == MBN_OK) {
        r->iterations = it;
        r->seconds = dt;
        r->images_per_s = (double)it * batch / dt;
        r->ms_per_step = 1000.0 * dt / it;
        r->gflop_per_image = mbn_arch_flop_per_image(arch, train) * 1e-9;
        r->gflops = r->gflop_per_image * r->images_per_s;
        /* A workload near the cached peak means the peak was measured on a busy machine. */
        if (r->peak_gflops > 0 && r->gflops > 0.9 * r->peak_gflops && !o->measure_peak &&
            mbn_device_peak(&dev, true, &peak) == MBN_OK && peak.gflops > r->peak_gflops)
            r->peak_gflops = peak.gflops;
        r->launches_per_step = (double)(dev.launches - launches0) / it;
        r->variants = dev.variants;
        for (int l = 0; l < r->prof.n_layers; l++)
            r->prof.layer_ms[l] /= it;
    }
    if (train) free(x); /* inference: x was the network's own input */
    free(labels);
    mbn_net_destroy(&net);
    mbn_device_close(&dev);
    return rc;
}

static json_t *result_json(const BenchResult *r) {
    json_t *layers = json_array();
    for (int l = 0; layers && l < r->prof.n_layers; l++)
        if (json_array_append_new(layers, json_pack("{s:s, s:o}", "name", r->prof.layer_names[l],
                                                    "ms", mbn_json_number(r->prof.layer_ms[l]))))
            json_decref(layers), layers = NULL;
    bool peak = r->peak_gflops > 0;
    json_t *o = json_pack(
        "{s:s, s:i, s:s, s:s, s:i, s:o, s:i, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
        "device", r->device, "device_index", r->device_index, "device_type", r->device_type, "mode",
        r->train ? "train" : "infer", "batch", r->batch, "alpha", mbn_json_number(r->arch.alpha),
        "resolution", r->arch.resolution, "num_classes", r->arch.num_classes, "iterations",
        r->iterations, "seconds", mbn_json_number(r->seconds), "images_per_s",
        mbn_json_number(r->images_per_s), "ms_per_step", mbn_json_number(r->ms_per_step),
        "median_ms_per_step", mbn_json_number(r->median_ms_per_step), "p90_ms_per_step",
        mbn_json_number(r->p90_ms_per_step), "gflop_per_image", mbn_json_number(r->gflop_per_image),
        "gflops", mbn_json_number(r->gflops));
    json_t *more = json_pack("{s:o, s:o, s:I, s:o, s:o, s:b, s:o, s:o, s:i, s:o}", "peak_gflops",
                             peak ? mbn_json_number(r->peak_gflops) : json_null(), "peak_fraction",
                             peak ? mbn_json_number(r->gflops / r->peak_gflops) : json_null(),
                             "device_memory_bytes", (json_int_t)r->device_memory_bytes,
                             "launches_per_step", mbn_json_number(r->launches_per_step), "kernels",
                             mbn_json_variants(&r->variants, true), "tuned", r->tuning[0] != 0,
                             "tuning", r->tuning[0] ? json_string(r->tuning) : json_null(),
                             "tuned_for", r->tuning[0] ? json_string(r->tuned_for) : json_null(),
                             "database_decisions", r->database_decisions, "layers", layers);
    /* inference: the precision, and what moved and what was copied per image */
    json_t *io =
        r->train ? json_object()
                 : json_pack("{s:s, s:o, s:o, s:b}", "precision", mbn_precision_name(r->precision),
                             "bytes_moved_per_image", mbn_json_number(r->bytes_moved_per_image),
                             "bytes_copied_per_image", mbn_json_number(r->bytes_copied_per_image),
                             "zero_copy", r->zero_copy);
    if (!o || !more || !io || json_object_update(o, more) != 0 || json_object_update(o, io) != 0) {
        json_decref(o);
        o = NULL;
    }
    json_decref(more);
    json_decref(io);
    return o;
}

static int write_json(const BenchResult *res, int n) {
    json_t *results = json_array();
    for (int i = 0; results && i < n; i++)
        if (json_array_append_new(results, result_json(&res[i])) != 0)
            json_decref(results), results = NULL;
    return mbn_json_print(results ? json_pack("{s:o}", "results", results) : NULL);
}

static void write_text(const BenchResult *res, int n) {
    for (int i = 0; i < n; i++) {
        const BenchResult *r = &res[i];
        double total = 0;
        for (int l = 0; l < r->prof.n_layers; l++)
            total += r->prof.layer_ms[l];
        printf("%s | %s%s | batch %d | %.2f images/s | %.2f ms/step (median %.2f, p90 %.2f) | %d "
               "iterations in %.1f s\n",
               r->device, r->train ? "train" : "infer",
               r->train ? "" : (r->precision == MBN_PRECISION_FP16 ? " fp16" : " fp32"), r->batch,
               r->images_per_s, r->ms_per_step, r->median_ms_per_step, r->p90_ms_per_step,
               r->iterations, r->seconds);
        printf("  %.1f GFLOP/s (%.3f GFLOP per image)", r->gflops, r->gflop_per_image);
        if (r->peak_gflops > 0)
            printf(" = %.1f%% of the measured FMA peak %.0f GFLOP/s",
                   100.0 * r->gflops / r->peak_gflops, r->peak_gflops);
        printf(" | %.0f kernel launches/step | device memory %.1f MiB", r->launches_per_step,
               (double)r->device_memory_bytes / 1048576.0);
        if (!r->train)
            printf(" | %.1f MB moved/image | I/O %s, %.0f bytes copied/image",
                   r->bytes_moved_per_image / 1e6, r->zero_copy ? "mapped" : "copied",
                   r->bytes_copied_per_image);
        printf(" | kernels %s (%s, vector %d) | %s", mbn_family_name(r->variants.family),
               r->variants.profile.isa[0] ? r->variants.profile.isa : "no ISA", r->variants.cpu_vec,
               r->tuning[0] ? r->tuning : "untuned");
        /* A tuning made for another network or batch: say so (its choices may not suit this). */
        char label[32], workload[64];
        mbn_arch_label(&r->arch, label, sizeof label);
        snprintf(workload, sizeof workload, "%s %s batch %d", r->train ? "train" : "infer", label,
                 r->batch);
        if (r->tuning[0] && strcmp(workload, r->tuned_for) != 0)
            printf(" (tuned on %s)", r->tuned_for);
        printf("\n");
        for (int l = 0; l < r->prof.n_layers; l++)
            printf("  %-10s %9.3f ms  %5.1f%%\n", r->prof.layer_names[l], r->prof.layer_ms[l],
                   total > 0 ? 100.0 * r->prof.layer_ms[l] / total : 0.0);
    }
}

int cmd_bench(int argc, char **argv) {
    MbnCommonFlags c;
    mbn_common_defaults(&c);
    const char *mode = "infer", *report = NULL, *precision = NULL;
    /* Sentinels for "not given" that no command line can type (the parser refuses INT_MIN and
     * non-finite numbers): --iterations and --seconds exclude each other. */
    int batch = 32, iterations = INT_MIN;
    float min_seconds = NAN;
    bool measure_peak = false;
    const MbnFlag flags[] = {
        MBN_FLAG_DEVICES(&c),
        {"mode", FLAG_STRING, &mode,
         "infer (forward, folded BN) or train (forward, backward and SGD)", "MODE", NULL},
        {"batch-size", FLAG_INT, &batch, "images per batch", "B", NULL},
        {"iterations", FLAG_INT, &iterations, "timed steps per device, at least 1", "N",
         "as many as fit --seconds"},
        {"seconds", FLAG_FLOAT, &min_seconds, "minimum timed seconds per device, more than 0", "S",
         "5"},
        {"report", FLAG_STRING, &report,
         "also write an HTML page (summary table, per-layer bar chart per device)", "F.html", NULL},
        {"measure-peak", FLAG_BOOL, &measure_peak,
         "measure the device's FMA peak again instead of using the cached figure", NULL, NULL},
        MBN_FLAG_PRECISION(&precision),
        MBN_FLAGS_NETWORK(&c),
        MBN_FLAG_JSON(&c),
    };
    MbnCli cli = MBN_CLI("bench",
                         "mbn bench [--device all|SEL] [--mode infer|train] [--batch-size B] "
                         "[--iterations N | --seconds S] [--precision P] [--json] "
                         "[--report F.html]",
                         "Measures images/s, ms per step, GFLOP/s and its share of the device's "
                         "FMA peak, and per-layer milliseconds on random inputs, one row per "
                         "device (--device all compares every OpenCL device on the same "
                         "workload).",
                         flags, NULL, 0);
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return mbn_cli_report(&cli, rc);
    bool by_count = iterations != INT_MIN, by_time = !isnan(min_seconds);
    BenchOptions o = {false,
                      measure_peak,
                      batch,
                      by_count ? iterations : 0,
                      by_time ? min_seconds : 5.0,
                      MBN_PRECISION_FP32};
    if (!strcmp(mode, "train"))
        o.train = true;
    else if (strcmp(mode, "infer") != 0)
        rc = mbn_fail(MBN_EUSAGE, "--mode %s: expected infer or train", mode);
    if (rc == MBN_OK) rc = mbn_precision_parse("--precision", precision, &o.precision);
    if (rc == MBN_OK && o.train && o.precision != MBN_PRECISION_FP32)
        rc = mbn_fail(MBN_EUSAGE, "--precision %s: training runs in fp32", precision);
    if (rc == MBN_OK && (batch < 1 || (o.train && batch < 2)))
        rc = mbn_fail(MBN_EUSAGE, "--batch-size %d: must be at least %d", batch, o.train ? 2 : 1);
    if (rc == MBN_OK && by_count && by_time)
        rc = mbn_fail(MBN_EUSAGE, "--iterations and --seconds: give one or the other");
    if (rc == MBN_OK && by_count && iterations < 1)
        rc = mbn_fail(MBN_EUSAGE, "--iterations %d: must be at least 1", iterations);
    if (rc == MBN_OK && by_time && !(min_seconds > 0))
        rc = mbn_fail(MBN_EUSAGE, "--seconds %g: must be more than 0", (double)min_seconds);
    if (rc == MBN_OK && report) rc = mbn_cli_output_file("--report", report);
    if (rc) return mbn_cli_report(&cli, rc);
    MbnArch arch;
    rc = mbn_arch_build(&arch, c.alpha, c.resolution, c.num_classes);
    if (rc) return mbn_cli_report(&cli, rc);
    if (report) {
        /* Fail before a benchmark of minutes when the page could not be written after it. */
        MbnAtomicFile probe;
        rc = mbn_atomic_open(&probe, report);
        if (rc) return mbn_cli_report(&cli, mbn_fail_context(rc, "--report"));
        mbn_atomic_abort(&probe);
    }
    MbnDeviceInfo *all = NULL;
    int count = 0, *sel = NULL, n_sel = 0;
    rc = mbn_devices_list(&all, &count);
    if (rc == MBN_OK) rc = mbn_devices_select(c.device, all, count, &sel, &n_sel);
    if (rc) {
        free(all);
        return mbn_cli_report(&cli, rc);
    }
    BenchResult *res = calloc((size_t)n_sel, sizeof *res);
    if (!res) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    for (int i = 0; rc == MBN_OK && i < n_sel; i++) {
        if (!c.json) {
            char label[32];
            mbn_arch_label(&arch, label, sizeof label);
            fprintf(stderr, "mbn: benchmarking %s on %s (MobileNet V1 %s, batch %d)...\n", mode,
                    all[sel[i]].name, label, batch);
        }
        rc = bench_device(&all[sel[i]], &arch, &o, &res[i]);
    }
    if (rc == MBN_OK && report) {
        rc = mbn_bench_write_html(report, res, n_sel);
        if (rc == MBN_OK)
            fprintf(stderr, "mbn: wrote %s (%d device%s)\n", report, n_sel, n_sel > 1 ? "s" : "");
    }
    if (rc == MBN_OK && c.json)
        rc = write_json(res, n_sel);
    else if (rc == MBN_OK)
        write_text(res, n_sel);
    free(res);
    free(sel);
    free(all);
    return mbn_cli_report(&cli, rc);
}
