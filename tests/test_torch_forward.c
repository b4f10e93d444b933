/* The whole network's forward pass against PyTorch (tests/fixtures/fwd_a025.safetensors,
 * fwd_a050.safetensors, inputs.safetensors; made by tests/gen_torch_fixtures.py): MobileNet V1
 * per SPEC §1 at alpha 0.25 and 0.5, 10 classes, resolutions 32, 64 and 96, batch 2, with
 * random non-trivial BN parameters and running statistics, imported by timm name through
 * mbn_net_import. Checks:
 *   - eval-mode logits (BN folded with running statistics) against PyTorch's model.eval();
 *   - train-mode logits (batch statistics) against model.train();
 *   - for alpha 0.25, the BN running statistics after that one train-mode forward
 *     (momentum 0.1, unbiased variance), read back with mbn_net_export, and the eval-mode
 *     logits again afterwards (the BN fold must not be stale);
 *   - at 64 px the net is allocated for 3 images and run on 2 (ops must use n, not max_batch);
 *   - export returns the imported weights unchanged (timm layouts, dw [C,1,3,3]).
 *   - the fp16 path (--precision fp16) on the same weights and images: eval-mode logits.
 * Tolerances: tests/support/fixtol.h (10x PyTorch's own float32 deviation from float64 on that
 * tensor, at least 2e-5 of the tensor's largest value), for the running statistics too; fp16
 * adds 6 sigma of the error half storage adds to each logit (tests/support/half_ref.h: from
 * half's unit roundoff and each layer's weights, activations and K). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tests/support/devutil.h"
#include "tests/support/fixtol.h"
#include "tests/support/half_ref.h"
#include "tests/support/netutil.h"
#include "tests/support/st_read.h"
#include "tests/support/testutil.h"

static MbnDevice dev;

static void compare(const StFile *st, const char *name, const float *got, size_t n) {
    size_t m = 0;
    float *ref = st_f32(st, name, &m);
    if (!ref || m != n) {
        T_CHECK(0, "fixture %s missing or of size %zu, expected %zu", name, m, n);
        free(ref);
        return;
    }
    double *rd = T_NEW(double, n);
    tf2d(ref, rd, n);
    double atol = fix_rel(st, name) * fix_maxabs(rd, n);
    char what[160];
    snprintf(what, sizeof what, "%s (dev %.1e)", name, fix_dev(st, name));
    T_OK(tcheck(what, got, rd, NULL, atol, n));
    free(ref);
    free(rd);
}

/* The fp16 path (--precision fp16) on the same weights and images: eval-mode logits against
 * PyTorch's float64 ones, within 6 sigma of the error half storage adds
 * (tests/support/half_ref.h, from half's unit roundoff and each layer's K) on top of the float32
 * tolerance above. */
static void check_fp16(const StFile *st, const MbnArch *arch, const float *nhwc, int N) {
    int R = arch->resolution, K = arch->num_classes;
    size_t nin = (size_t)N * 3 * R * R, nk = (size_t)N * K;
    MbnNet net;
    T_MBN(mbn_net_create_infer(&net, &dev, arch, N, MBN_PRECISION_FP16));
    tnet_import(&net, st, "", NULL);
    float *logits = T_NEW(float, nk);
    T_MBN(mbn_net_set_input(&net, nhwc, N));
    T_MBN(mbn_net_forward(&net, N, false));
    T_MBN(mbn_net_read_logits(&net, N, logits));
    double *x = T_NEW(double, nin), *ref = T_NEW(double, nk), *sigma = T_NEW(double, nk),
           *tol = T_NEW(double, nk), *fixd = T_NEW(double, nk), worst = 0;
    tf2d(nhwc, x, nin);
    half_ref_forward(arch, st, x, N, ref, sigma);
    char name[64];
    snprintf(name, sizeof name, "logits_eval_r%d", R);
    size_t m = 0;
    float *fix = st_f32(st, name, &m);
    T_CHECK(fix && m == nk, "fixture %s", name);
    if (!fix) exit(1);
    tf2d(fix, fixd, nk);
    double atol = fix_rel(st, name) * fix_maxabs(fixd, nk);
    for (size_t i = 0; i < nk; i++) {
        T_CHECK(fabs(ref[i] - fixd[i]) <= atol, "the double reference matches the fixture");
        tol[i] = 6 * sigma[i] + atol;
        worst = fmax(worst, fabs(logits[i] - fixd[i]) / sigma[i]);
    }
    printf("-- fp16: errors up to %.2f sigma\n", worst);
    snprintf(name, sizeof name, "fp16 logits_eval_r%d", R);
    T_OK(tcheck(name, logits, fixd, tol, 0.0, nk));
    free(fix), free(logits), free(x), free(ref), free(sigma), free(tol), free(fixd);
    mbn_net_destroy(&net);
}

static void run_alpha(const char *file, float alpha, const StFile *inputs, bool running) {
    StFile st;
    if (st_open(&st, file)) {
        T_CHECK(0, "cannot open %s", file);
        return;
    }
    const int N = 2, K = 10;
    for (int R = 32; R <= 96; R += 32) {
        printf("-- alpha %.2f resolution %d\n", (double)alpha, R);
        MbnArch arch;
        MbnNet net;
        T_MBN(mbn_arch_build(&arch, alpha, R, K));
        /* at 64 px the network is built for 3 images and run on 2: every op must use the
         * batch it is given (BN statistics over 2 images), not the allocation's */
        T_MBN(mbn_net_create(&net, &dev, &arch, R == 64 ? N + 1 : N, true));
        tnet_import(&net, &st, "", NULL);
        /* export gives back exactly what was imported */
        MbnTensorSet ex = {0};
        T_MBN(mbn_net_export(&net, &ex, false));
        int same = 1;
        for (int i = 0; i < ex.count; i++) {
            size_t n = 0;
            float *ref = st_f32(&st, ex.items[i].name, &n);
            same &= ref && n == (size_t)mbn_tensor_numel(&ex.items[i]) &&
                    memcmp(ref, ex.items[i].data, n * sizeof(float)) == 0;
            if (ref && !same) printf("  export differs from import: %s\n", ex.items[i].name);
            free(ref);
        }
        T_CHECK(same && ex.count == net.n_params, "export after import round-trips (%d tensors)",
                ex.count);
        mbn_tensors_free(&ex);

        char name[64];
        snprintf(name, sizeof name, "input_r%d_b2_nchw", R);
        size_t nin = 0;
        float *nchw = st_f32(inputs, name, &nin);
        T_CHECK(nchw && nin == (size_t)N * 3 * R * R, "input %s", name);
        if (!nchw) exit(1);
        float *nhwc = T_NEW(float, nin), logits[2 * 10];
        tnchw_to_nhwc(nchw, nhwc, N, 3, R, R);
        T_MBN(mbn_net_set_input(&net, nhwc, N));
        T_MBN(mbn_net_forward(&net, N, false));
        T_MBN(mbn_net_read_logits(&net, N, logits));
        snprintf(name, sizeof name, "logits_eval_r%d", R);
        compare(&st, name, logits, (size_t)N * K);
        check_fp16(&st, &arch, nhwc, N);
        T_MBN(mbn_net_forward(&net, N, true));
        T_MBN(mbn_net_read_logits(&net, N, logits));
        snprintf(name, sizeof name, "logits_train_r%d", R);
        compare(&st, name, logits, (size_t)N * K);
        if (running) {
            /* running stats after the one train-mode forward */
            MbnTensorSet out = {0};
            T_MBN(mbn_net_export(&net, &out, false));
            int nstat = 0;
            for (int i = 0; i < out.count; i++) {
                const MbnHostTensor *t = &out.items[i];
                if (!strstr(t->name, "running")) continue;
                char fname[200];
                snprintf(fname, sizeof fname, "after_train_r%d.%s", R, t->name);
                size_t n = 0;
                float *ref = st_f32(&st, fname, &n), *init = st_f32(&st, t->name, NULL);
                if (!ref || !init || n != (size_t)mbn_tensor_numel(t)) {
                    T_CHECK(0, "fixture %s", fname);
                    free(ref), free(init);
                    continue;
                }
                double *dref = T_NEW(double, n), *tol = T_NEW(double, n);
                tf2d(ref, dref, n);
                /* dev was measured on the values (relative to their max), as for logits */
                double atol = fix_rel(&st, fname) * fix_maxabs(dref, n);
                for (size_t k = 0; k < n; k++)
                    tol[k] = atol + 4 * T_U * fabs(dref[k]);
                char what[240];
                snprintf(what, sizeof what, "%s (dev %.1e)", fname, fix_dev(&st, fname));
                bool ok = tcheck(what, t->data, dref, tol, 0.0, n);
                T_OK(ok);
                nstat++;
                free(ref), free(init), free(dref), free(tol);
            }
            T_CHECK(nstat == 2 * 27, "compared %d running-stat tensors, want 54", nstat);
            mbn_tensors_free(&out);
            /* inference again: the folded weights must follow the moved running statistics */
            T_MBN(mbn_net_forward(&net, N, false));
            T_MBN(mbn_net_read_logits(&net, N, logits));
            snprintf(name, sizeof name, "logits_eval_after_train_r%d", R);
            compare(&st, name, logits, (size_t)N * K);
        }
        free(nchw);
        free(nhwc);
        mbn_net_destroy(&net);
    }
    st_close(&st);
}

int main(void) {
    tdev_open(&dev);
    StFile inputs;
    if (st_open(&inputs, "tests/fixtures/inputs.safetensors")) return 1;
    run_alpha("tests/fixtures/fwd_a025.safetensors", 0.25f, &inputs, true);
    run_alpha("tests/fixtures/fwd_a050.safetensors", 0.5f, &inputs, false);
    st_close(&inputs);
    mbn_device_close(&dev);
    return t_summary("test_torch_forward");
}
