/* Checkpoint size and speed for a 1.0-224 sized state (SPEC §5): every tensor of the model under
 * its timm name (4,231,976 params with 1000 classes, plus BN running stats) and the same again as
 * SGD momentum. Weights ~ N(0, He std), BN gamma ~ 1 + N(0, 0.1), momentum ~ N(0, 1e-3): random
 * mantissas, so this is close to the worst case for compression (trained weights compress about
 * the same; float data is mostly mantissa noise).
 *
 *   build/bench/ckpt_bench [DIR]      (DIR defaults to /tmp; files are removed afterwards)
 *
 * Prints, per zlib level and strategy: file size vs raw payload, save time (serialize, compress,
 * write, fsync, rename) and load time (read, CRC, inflate, parse), best of 3. Also safetensors for
 * the weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "io/formats/checkpoint.h"
#include "io/formats/safetensors.h"
#include "model/arch.h"

static uint64_t rng = 88172645463325252ULL;
static double uniform(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}
static float normal(double std) {
    return (float)(std * sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform()));
}

static void add(MbnTensorSet *s, const char *name, int ndim, int64_t a, int64_t b, int64_t c,
                int64_t d, double mean, double std) {
    int64_t shape[4] = {a, b, c, d};
    MbnHostTensor *t = mbn_tensors_add(s, name, ndim, shape, NULL);
    if (!t) exit(1);
    for (int64_t i = 0; i < mbn_tensor_numel(t); i++)
        t->data[i] = (float)mean + normal(std);
}

static void build(MbnCheckpoint *ck) {
    MbnArch arch;
    mbn_arch_build(&arch, 1.0f, 224, 1000);
    memset(ck, 0, sizeof *ck);
    ck->config = (MbnModelConfig){1.0f, 224, 1000, 1e-5f};
    char n[128];
    for (int i = 0; i < arch.n_layers; i++) {
        const MbnLayer *L = &arch.layers[i];
        if (L->type == MBN_LAYER_POOL) continue;
        if (L->type == MBN_LAYER_FC) {
            snprintf(n, sizeof n, "%s.weight", L->timm);
            add(&ck->tensors, n, 2, L->cout, L->cin, 0, 0, 0, sqrt(1.0 / L->cin));
            snprintf(n, sizeof n, "%s.bias", L->timm);
            add(&ck->tensors, n, 1, L->cout, 0, 0, 0, 0, 0.01);
            continue;
        }
        int64_t cin = L->type == MBN_LAYER_DW ? 1 : L->cin, k = L->type == MBN_LAYER_PW ? 1 : 3;
        snprintf(n, sizeof n, "%s.weight", L->timm);
        add(&ck->tensors, n, 4, L->cout, cin, k, k, 0, sqrt(2.0 / (double)(cin * k * k)));
        const char *bn[4] = {"weight", "bias", "running_mean", "running_var"};
        const double mean[4] = {1, 0, 0, 1}, std[4] = {0.1, 0.1, 0.5, 0.2};
        for (int j = 0; j < 4; j++) {
            snprintf(n, sizeof n, "%s.%s", L->timm_bn, bn[j]);
            add(&ck->tensors, n, 1, L->cout, 0, 0, 0, mean[j], std[j]);
        }
    }
    int n_weights = ck->tensors.count;
    for (int k = 0; k < n_weights; k++) {
        const MbnHostTensor *t = &ck->tensors.items[k];
        if (strstr(t->name, "running_")) continue;
        snprintf(n, sizeof n, "optim.momentum.%s", t->name);
        add(&ck->tensors, n, t->ndim, t->shape[0], t->shape[1], t->shape[2], t->shape[3], 0, 1e-3);
    }
    mbn_ckpt_set_int(ck, "epoch", 100);
    mbn_ckpt_set_int(ck, "step", 2001900);
    mbn_ckpt_set_float(ck, "lr", 0.05);
    mbn_ckpt_set_string(ck, "lr_schedule", "cosine");
}

static long long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    MbnCheckpoint ck;
    build(&ck);
    int64_t params = 0, total = 0;
    for (int k = 0; k < ck.tensors.count; k++) {
        int64_t n = mbn_tensor_numel(&ck.tensors.items[k]);
        total += n;
        if (!strstr(ck.tensors.items[k].name, "running_") &&
            strncmp(ck.tensors.items[k].name, "optim.", 6))
            params += n;
    }
    printf("tensors: %d, floats: %lld (trainable params %lld), raw float bytes: %.2f MB\n",
           ck.tensors.count, (long long)total, (long long)params, total * 4 / 1e6);
    char path[1024];
    snprintf(path, sizeof path, "%s/ckpt_bench.%ld.ckpt", dir, (long)getpid());
    printf("%-22s %12s %8s %10s %10s\n", "zlib level/strategy", "file bytes", "ratio", "save ms",
           "load ms");
    static const struct {
        int level, strategy;
        const char *name;
    } levels[] = {{0, 0, "0 (stored)"}, {1, 2, "1 huffman (default)"}, {1, 3, "1 rle"},
                  {1, 0, "1 default"},  {6, 0, "6 default"},           {9, 0, "9 default"}};
    for (size_t li = 0; li < sizeof levels / sizeof levels[0]; li++) {
        double best_save = 1e9, best_load = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = mbn_now();
            if (mbn_ckpt_save_ex(path, &ck, levels[li].level, levels[li].strategy)) {
                fprintf(stderr, "mbn: error: %s\n", mbn_last_error());
                return 1;
            }
            double t1 = mbn_now();
            MbnCheckpoint back;
            if (mbn_ckpt_load(path, &back)) {
                fprintf(stderr, "mbn: error: %s\n", mbn_last_error());
                return 1;
            }
            double t2 = mbn_now();
            mbn_ckpt_free(&back);
            if (t1 - t0 < best_save) best_save = t1 - t0;
            if (t2 - t1 < best_load) best_load = t2 - t1;
        }
        long long sz = file_size(path);
        printf("%-22s %12lld %7.1f%% %10.1f %10.1f\n", levels[li].name, sz,
               100.0 * sz / (total * 4.0), best_save * 1e3, best_load * 1e3);
    }
    unlink(path);
    /* Weights only, as safetensors (uncompressed, what `mbn export` writes). */
    MbnTensorSet w = {0};
    for (int k = 0; k < ck.tensors.count; k++) {
        const MbnHostTensor *t = &ck.tensors.items[k];
        if (strncmp(t->name, "optim.", 6) == 0) continue;
        mbn_tensors_add(&w, t->name, t->ndim, t->shape, t->data);
    }
    snprintf(path, sizeof path, "%s/ckpt_bench.%ld.safetensors", dir, (long)getpid());
    double best_save = 1e9, best_load = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = mbn_now();
        if (mbn_safetensors_write(path, &w, NULL)) return 1;
        double t1 = mbn_now();
        MbnTensorSet back;
        if (mbn_safetensors_read(path, &back)) return 1;
        double t2 = mbn_now();
        mbn_tensors_free(&back);
        if (t1 - t0 < best_save) best_save = t1 - t0;
        if (t2 - t1 < best_load) best_load = t2 - t1;
    }
    printf("safetensors (weights + BN stats only): %lld bytes, write %.1f ms, read %.1f ms\n",
           file_size(path), best_save * 1e3, best_load * 1e3);
    unlink(path);
    mbn_tensors_free(&w);
    mbn_ckpt_free(&ck);
    return 0;
}
