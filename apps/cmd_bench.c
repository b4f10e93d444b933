/* mbn bench: images/s and per-layer milliseconds (from OpenCL profiling events) on one device
 * or on every device, for inference or training steps, on random inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "host/device.h"
#include "base/error.h"
#include "host/profile.h"
#include "base/rng.h"
#include "io/util/json_writer.h"
#include "model/net.h"
#include "apps/variants_json.h"

typedef struct {
    char device[256];
    double images_per_s, seconds;
    int iterations;
    size_t device_bytes;      /* buffers the network allocated (weights, activations, ...) */
    double launches_per_step; /* kernels and GEMMs enqueued per timed iteration */
    MbnVariantSet variants;   /* which kernel variant each op ran (host/variants.h) */
    MbnProfile prof;
} BenchResult;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
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

static int bench_device(const MbnDeviceInfo *info, const MbnArch *arch, bool train, int batch,
                        int iterations, double min_seconds, BenchResult *r) {
    MbnDevice dev;
    MbnNet net;
    memset(r, 0, sizeof *r);
    snprintf(r->device, sizeof r->device, "%s", info->name);
    MBN_TRY(mbn_device_open(&dev, info));
    int rc = mbn_net_create(&net, &dev, arch, batch, train);
    if (rc) {
        mbn_device_close(&dev);
        return rc;
    }
    r->device_bytes = net.device_bytes;
    size_t n_in = (size_t)batch * arch->resolution * arch->resolution * 3;
    float *x = malloc(n_in * sizeof *x);
    int32_t *labels = malloc((size_t)batch * sizeof *labels);
    if (!x || !labels) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    MbnRng rng;
    mbn_rng_seed(&rng, 1);
    for (size_t i = 0; rc == MBN_OK && i < n_in; i++)
        x[i] = (float)mbn_rng_normal(&rng);
    for (int i = 0; rc == MBN_OK && i < batch; i++)
        labels[i] = (int32_t)(mbn_rng_next(&rng) % (uint64_t)arch->num_classes);
    if (rc == MBN_OK) rc = mbn_net_init(&net, 1);
    if (rc == MBN_OK) rc = mbn_net_set_input(&net, x, batch);
    /* Warm-up: kernel compilation (PoCL, CLBlast) and first-touch allocations. */
    if (rc == MBN_OK) rc = step(&net, train, batch, labels);
    if (rc == MBN_OK) rc = clFinish(dev.queue) == CL_SUCCESS ? MBN_OK : MBN_EFAIL;
    const char *dump_path = getenv("MBN_BENCH_DUMP");
    FILE *dump = dump_path && *dump_path ? fopen(dump_path, "w") : NULL;
    if (dump && rc == MBN_OK) rc = dump_outputs(&net, train, batch, dump);
    /* Timed: wall clock over whole iterations; per-layer times from profiling events. */
    unsigned long long launches0 = dev.launches;
    double t0 = now();
    int it = 0;
    while (rc == MBN_OK &&
           (it < iterations || (iterations <= 0 && (now() - t0 < min_seconds || it < 2)))) {
        mbn_profile_begin(&dev, &r->prof);
        rc = step(&net, train, batch, labels);
        int rc2 = mbn_profile_end(&dev);
        if (rc == MBN_OK) rc = rc2;
        it++;
    }
    double dt = now() - t0;
    if (dump) {
        if (rc == MBN_OK) rc = dump_outputs(&net, train, batch, dump);
        fclose(dump);
    }
    if (rc == MBN_OK) {
        r->iterations = it;
        r->seconds = dt;
        r->images_per_s = (double)it * batch / dt;
        r->launches_per_step = (double)(dev.launches - launches0) / it;
        r->variants = dev.variants;
        for (int l = 0; l < r->prof.n_layers; l++)
            r->prof.layer_ms[l] /= it;
    }
    free(x);
    free(labels);
    mbn_net_destroy(&net);
    mbn_device_close(&dev);
    return rc;
}

int cmd_bench(int argc, char **argv) {
    MbnCommonFlags c;
    mbn_common_defaults(&c);
    const char *mode = "infer";
    int batch = 32, iterations = 0;
    float min_seconds = 5.0f;
    const MbnFlag flags[] = {
        MBN_COMMON_FLAGS(&c),
        {"mode", FLAG_STRING, &mode, "infer (forward, folded BN) or train (forward+backward+SGD)",
         "MODE"},
        {"batch-size", FLAG_INT, &batch, "images per batch (default 32)", "B"},
        {"iterations", FLAG_INT, &iterations,
         "timed iterations (default: as many as fit "
         "--seconds)",
         "N"},
        {"seconds", FLAG_FLOAT, &min_seconds, "minimum timed seconds per device (default 5)", "S"},
    };
    MbnCli cli = {"bench",
                  "mbn bench [--device all|SEL] [--mode infer|train] [--batch-size B] [--json]",
                  "Measures images/s and per-layer milliseconds on random inputs, one row per "
                  "device (--device all compares every OpenCL device on the same workload).",
                  flags,
                  (int)(sizeof flags / sizeof flags[0]),
                  NULL,
                  0,
                  0,
                  false};
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return mbn_cli_report(&cli, rc);
    bool train = false;
    if (!strcmp(mode, "train"))
        train = true;
    else if (strcmp(mode, "infer") != 0)
        return mbn_cli_report(&cli,
                              mbn_fail(MBN_EUSAGE, "--mode %s: expected infer or train", mode));
    if (batch < 1 || (train && batch < 2))
        return mbn_cli_report(&cli, mbn_fail(MBN_EUSAGE, "--batch-size %d: must be at least %d",
                                             batch, train ? 2 : 1));
    if (iterations < 0)
        return mbn_cli_report(
            &cli, mbn_fail(MBN_EUSAGE, "--iterations %d: must be positive", iterations));
    MbnArch arch;
    rc = mbn_arch_build(&arch, c.alpha, c.resolution, c.num_classes);
    if (rc) return mbn_cli_report(&cli, rc);
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
        if (!c.json)
            fprintf(stderr, "mbn: benchmarking %s on %s (%s %.2g-%d, batch %d)...\n", mode,
                    all[sel[i]].name, "MobileNet V1", (double)arch.alpha, arch.resolution, batch);
        rc = bench_device(&all[sel[i]], &arch, train, batch, iterations, min_seconds, &res[i]);
    }
    if (rc == MBN_OK && c.json) {
        MbnJson j;
        mbn_json_init(&j, stdout);
        mbn_json_begin_object(&j);
        mbn_json_key(&j, "results");
        mbn_json_begin_array(&j);
        for (int i = 0; i < n_sel; i++) {
            mbn_json_begin_object(&j);
            mbn_json_key(&j, "device");
            mbn_json_string(&j, res[i].device);
            mbn_json_key(&j, "mode");
            mbn_json_string(&j, train ? "train" : "infer");
            mbn_json_key(&j, "batch");
            mbn_json_int(&j, batch);
            mbn_json_key(&j, "alpha");
            mbn_json_double(&j, arch.alpha);
            mbn_json_key(&j, "resolution");
            mbn_json_int(&j, arch.resolution);
            mbn_json_key(&j, "iterations");
            mbn_json_int(&j, res[i].iterations);
            mbn_json_key(&j, "images_per_s");
            mbn_json_double(&j, res[i].images_per_s);
            mbn_json_key(&j, "device_memory_bytes");
            mbn_json_int(&j, (int64_t)res[i].device_bytes);
            mbn_json_key(&j, "launches_per_step");
            mbn_json_double(&j, res[i].launches_per_step);
            mbn_json_key(&j, "kernels");
            mbn_json_variants(&j, &res[i].variants, true);
            mbn_json_key(&j, "layers");
            mbn_json_begin_array(&j);
            for (int l = 0; l < res[i].prof.n_layers; l++) {
                mbn_json_begin_object(&j);
                mbn_json_key(&j, "name");
                mbn_json_string(&j, res[i].prof.layer_names[l]);
                mbn_json_key(&j, "ms");
                mbn_json_double(&j, res[i].prof.layer_ms[l]);
                mbn_json_end_object(&j);
            }
            mbn_json_end_array(&j);
            mbn_json_end_object(&j);
        }
        mbn_json_end_array(&j);
        mbn_json_end_object(&j);
        mbn_json_finish(&j);
    } else if (rc == MBN_OK) {
        for (int i = 0; i < n_sel; i++) {
            double total = 0;
            for (int l = 0; l < res[i].prof.n_layers; l++)
                total += res[i].prof.layer_ms[l];
            printf("%s | %s | batch %d | %.2f images/s | %d iterations in %.1f s | device memory "
                   "%.1f MiB | %.0f launches per step | kernels %s\n",
                   res[i].device, train ? "train" : "infer", batch, res[i].images_per_s,
                   res[i].iterations, res[i].seconds, (double)res[i].device_bytes / 1048576.0,
                   res[i].launches_per_step, mbn_family_name(res[i].variants.family));
            for (int l = 0; l < res[i].prof.n_layers; l++)
                printf("  %-10s %9.3f ms  %5.1f%%\n", res[i].prof.layer_names[l],
                       res[i].prof.layer_ms[l],
                       total > 0 ? 100.0 * res[i].prof.layer_ms[l] / total : 0.0);
        }
    }
    free(res);
    free(sel);
    free(all);
    return mbn_cli_report(&cli, rc);
}
