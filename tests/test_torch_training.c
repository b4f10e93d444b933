/* Training against PyTorch (tests/fixtures/train_*.safetensors, made by
 * tests/gen_torch_fixtures.py): MindSpore-style smoothed cross-entropy (e = 0.1), momentum SGD
 * (lr 0.1, momentum 0.9) with weight decay 0, and 1e-4 with the depthwise/BN/bias exclusion;
 * alpha 0.25 and 0.5, resolution 32 and 64, batch 4 and 8. The initial weights are those of
 * fwd_a025/fwd_a050 with a few BN biases overridden ("init.*", see "kinks" below); the same
 * batch (inputs.safetensors) is used at every step.
 *
 * From the initial weights, step 1 through mbn_net_forward(train) / mbn_net_backward /
 * mbn_net_sgd_step:
 *   - the loss against PyTorch's;
 *   - every gradient present in the fixture (all tensors; for alpha 0.5 all but the two
 *     largest, blocks.4.*.conv_pw) read from net->grads, depthwise converted to [C,1,3,3];
 *   - the parameters after the step, against w0 - lr * (g + wd * w0) with PyTorch's float64
 *     gradient g, relative to the update size: |w - ref| <= rel * max|w_ref - w0| + 4u |w_ref|
 *     with rel the gradient's tolerance (fixtol.h: 10x PyTorch's own float32 deviation, at
 *     least 2e-5), so a wrong update is caught however small lr * g is next to w;
 *   - BN running statistics after the step, relative to their change.
 * Steps 2 and 3 free-running: step 2's loss (10x PyTorch's float32 deviation over the 3 steps);
 * step 3's loss only printed: the free-running trajectory is chaotic at lr 0.1 on 4-8 images
 * (PyTorch float32 vs float64 parameters after 3 steps differ by 20-100% of the update, its
 * step-3 losses by up to 2.5%). So steps 2 and 3 are tested by teacher forcing (config *_wd):
 * from PyTorch's state and momentum after step 1 (rebuilt from its gradients) and after step 2
 * (stored), one step each, comparing loss, parameters and running statistics with PyTorch's next
 * state relative to the update size. That checks momentum accumulation, weight decay with a
 * nonzero momentum and the exclusion switch, and running statistics over consecutive steps.
 *
 * Kinks: a BN output within ~1e-5 of a ReLU6 kink can land on the other side in float32 than in
 * float64; the gradient mask then legitimately differs and every gradient upstream moves by up
 * to 3% (seen here: t = +4.3e-6 in float64, -3.4e-6 on the device). The generator nudges BN
 * biases of each start state (by <= a few 1e-3) until no BN output is within 1e-4 of a kink,
 * and check_kinks() verifies on the device's own forward that none is within 1e-5, so a failure
 * can only be a real difference. MBN_DIAG=1 prints the nearest kink per layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tests/support/devutil.h"
#include "tests/support/fixtol.h"
#include "tests/support/netutil.h"
#include "tests/support/st_read.h"
#include "tests/support/testutil.h"

static MbnDevice dev;

/* The fixtures' start states are "de-kinked" (gen_torch_fixtures.py: dekink): no BN output lies
 * within 1e-4 of the ReLU6 kinks in float64. The device's float32 t is within ~1e-5 of float64's,
 * so the ReLU6 masks agree and gradients are a well-posed comparison. Without this, one element
 * at t = +4.3e-6 (float64) vs -3.4e-6 (float32) moved every upstream gradient by up to 3%.
 * check_kinks() verifies, on the device's own forward, that no t is within KINK_MIN. */
#define KINK_MIN 1e-5

static double meta_num(const StFile *st, const char *key) {
    const char *v = st_meta(st, key);
    if (!v) {
        printf("FATAL: fixture metadata has no %s\n", key);
        exit(1);
    }
    return atof(v);
}

static float *fixture(const StFile *st, const char *name, size_t want) {
    size_t n = 0;
    float *d = st_f32(st, name, &n);
    if (!d || n != want) {
        printf("FATAL: fixture tensor %s missing or %zu floats, want %zu\n", name, n, want);
        exit(1);
    }
    return d;
}

/* The initial value of a tensor: the training fixture's "init." override, else the fwd file. */
static float *init_tensor(const StFile *st, const StFile *init, const char *name, size_t count) {
    char key[256];
    snprintf(key, sizeof key, "init.%s", name);
    return st_find(st, key) ? fixture(st, key, count) : fixture(init, name, count);
}

static bool decayed(const MbnParam *p) {
    return p->kind == MBN_PARAM_CONV_WEIGHT || p->kind == MBN_PARAM_FC_WEIGHT;
}

static void check_loss(const StFile *st, const char *name, int index, float got) {
    size_t n = 0;
    float *l = st_f32(st, name, &n);
    if (!l || (size_t)index >= n) {
        T_CHECK(0, "fixture %s[%d]", name, index);
        free(l);
        return;
    }
    double want = l[index];
    /* dev.<name> is relative to max loss over the stored steps */
    double atol = fix_rel(st, name) * fix_maxabs(&want, 1);
    char what[96];
    snprintf(what, sizeof what, "%s[%d] (dev %.1e)", name, index, fix_dev(st, name));
    T_OK(tcheck(what, &got, &want, NULL, atol, 1));
    free(l);
}

/* Parameters (and running stats) after a step, relative to the update from `start`:
 * |got - ref| <= rel * max|ref - start| + 4u |ref|. */
static void check_state(const StFile *st, const char *prefix, const char *name, const float *start,
                        const float *got, const double *ref, size_t n, double rel) {
    double dmax = 0;
    for (size_t i = 0; i < n; i++)
        dmax = fmax(dmax, fabs(ref[i] - start[i]));
    double *tol = T_NEW(double, n);
    for (size_t i = 0; i < n; i++)
        tol[i] = rel * dmax + 4 * T_U * fabs(ref[i]);
    char what[400];
    snprintf(what, sizeof what, "%s%s (rel %.1e of update %.2g)", prefix, name, rel, dmax);
    T_OK(tcheck(what, got, ref, tol, 0.0, n));
    T_CHECK(dmax > 0 || strstr(name, "running") == NULL, "%s%s did not change", prefix, name);
    free(tol);
}

/* MBN_DIAG=1: per layer, the smallest distance of a BN output (pre-ReLU6) to the kinks 0 and
 * 6 in the last training forward, as the device computed it. Where it is below the float32
 * error of t, the ReLU6 mask may legitimately differ from float64's. */
static double check_kinks(MbnNet *n, int B, const char *what) {
    double overall = INFINITY;
    const char *where = "";
    float *pp = tnet_read_flat(n, n->params), *sm = tnet_read_flat(n, n->save_mean),
          *si = tnet_read_flat(n, n->save_invstd);
    for (int l = 0; l < n->arch.n_layers - 2; l++) {
        const MbnLayer *L = &n->arch.layers[l];
        size_t M = (size_t)B * L->hout * L->wout;
        int C = L->cout;
        float *z = T_NEW(float, M *C);
        if (clEnqueueReadBuffer(dev.queue, n->z[l], CL_TRUE, 0, M * C * 4, z, 0, NULL, NULL))
            exit(1);
        double best = INFINITY, tb = 0;
        int bc = -1;
        size_t bm = 0;
        for (int c = 0; c < C; c++) {
            size_t o = n->lp[l].gamma + (size_t)c;
            for (size_t m = 0; m < M; m++) {
                double t = ((double)z[m * C + c] - sm[o]) * si[o] * pp[o] + pp[n->lp[l].beta + c];
                double d = fmin(fabs(t), fabs(t - 6));
                if (d < best) best = d, bc = c, bm = m, tb = t;
            }
        }
        if (getenv("MBN_DIAG"))
            printf("diag %-5s (%s) nearest kink: t = %.6g at row %zu channel %d\n", L->name,
                   L->timm_bn, tb, bm, bc);
        if (best < overall) overall = best, where = L->timm_bn;
        free(z);
    }
    free(pp), free(sm), free(si);
    printf("%s: nearest ReLU6 kink on the device: %.3g (%s)\n", what, overall, where);
    T_CHECK(overall >= KINK_MIN,
            "%s: a BN output lies %.3g from a ReLU6 kink (%s): float32 may flip its gradient "
            "mask, the gradient comparison is not well-posed for this device",
            what, overall, where);
    return overall;
}

/* Overwrites the tensors named prefix + <param name> present in the fixture (BN biases). */
static void apply_overrides(MbnNet *n, const StFile *st, const char *prefix) {
    float *flat = tnet_read_flat(n, n->params);
    int count = 0;
    char name[256];
    for (int i = 0; i < n->n_params; i++) {
        const MbnParam *p = &n->params_table[i];
        snprintf(name, sizeof name, "%s%s", prefix, p->name);
        if (!st_find(st, name)) continue;
        if (p->kind != MBN_PARAM_BN_BETA) {
            printf("FATAL: override %s is not a BN bias\n", name);
            exit(1);
        }
        size_t nn = 0;
        float *d = st_f32(st, name, &nn);
        if (!d || nn != p->count) exit(1);
        memcpy(flat + p->offset, d, nn * sizeof *d);
        free(d);
        count++;
    }
    T_MBN(mbn_net_write_buffer(n, n->params, flat));
    printf("applied %d %s* BN bias overrides\n", count, prefix);
    free(flat);
}

static void run_config(const char *file) {
    StFile st, init, inputs;
    printf("== %s\n", file);
    if (st_open(&st, file)) {
        T_CHECK(0, "cannot open %s", file);
        return;
    }
    float alpha = (float)meta_num(&st, "alpha");
    int R = (int)meta_num(&st, "resolution"), B = (int)meta_num(&st, "batch"),
        K = (int)meta_num(&st, "num_classes");
    float lr = (float)meta_num(&st, "lr"), mom = (float)meta_num(&st, "momentum"),
          e = (float)meta_num(&st, "smoothing"), wd = (float)meta_num(&st, "weight_decay");
    char path[128];
    snprintf(path, sizeof path, "tests/fixtures/fwd_a%03d.safetensors", (int)lrintf(alpha * 100));
    if (st_open(&init, path) || st_open(&inputs, "tests/fixtures/inputs.safetensors")) exit(1);
    MbnArch arch;
    MbnNet net;
    T_MBN(mbn_arch_build(&arch, alpha, R, K));
    /* the 32 px config allocates for B + 2 images and trains on B: forward, backward and the
     * loss must use the batch they are given */
    T_MBN(mbn_net_create(&net, &dev, &arch, R == 32 ? B + 2 : B, true));
    tnet_import(&net, &init, "", NULL);
    apply_overrides(&net, &st, "init.");
    char name[256];
    snprintf(name, sizeof name, "input_r%d_b%d_nchw", R, B);
    float *nchw = fixture(&inputs, name, (size_t)B * 3 * R * R);
    float *x = T_NEW(float, (size_t)B * 3 * R * R);
    tnchw_to_nhwc(nchw, x, B, 3, R, R);
    snprintf(name, sizeof name, "labels_b%d", B);
    size_t nl = 0;
    int32_t *labels = st_i32(&inputs, name, &nl);
    if (!labels || nl != (size_t)B) exit(1);
    MbnSgdConfig sgd = {lr, mom, wd, false};

    /* ---- step 1 ---- */
    float loss;
    T_MBN(mbn_net_set_input(&net, x, B));
    T_MBN(mbn_net_forward(&net, B, true));
    T_MBN(mbn_net_backward(&net, labels, B, e));
    T_MBN(mbn_net_read_loss(&net, &loss));
    check_loss(&st, "loss1", 0, loss);
    check_kinks(&net, B, "step 1");
    float *g = tnet_read_flat(&net, net.grads);
    T_MBN(mbn_net_sgd_step(&net, &sgd));
    float *w1 = tnet_read_flat(&net, net.params);
    int ngrad = 0;
    for (int i = 0; i < net.n_params; i++) {
        const MbnParam *p = &net.params_table[i];
        float *w0 = init_tensor(&st, &init, p->name, p->count);
        float *got = T_NEW(float, p->count);
        double *ref = T_NEW(double, p->count);
        if (p->trainable) {
            snprintf(name, sizeof name, "grad.%s", p->name);
            if (!st_find(&st, name)) goto next; /* not stored (size) */
            float *gr = fixture(&st, name, p->count);
            tnet_to_timm(p, g, got);
            tf2d(gr, ref, p->count);
            double grel = fix_rel(&st, name);
            char what[320];
            snprintf(what, sizeof what, "%s (dev %.1e)", name, fix_dev(&st, name));
            T_OK(tcheck(what, got, ref, NULL, grel * fix_maxabs(ref, p->count), p->count));
            ngrad++;
            /* parameter after the step: w0 - lr (g + wd w0), in double from PyTorch's g */
            double pwd = decayed(p) ? (double)wd : 0.0;
            for (size_t k = 0; k < p->count; k++)
                ref[k] = (double)w0[k] - (double)lr * ((double)gr[k] + pwd * w0[k]);
            tnet_to_timm(p, w1, got);
            check_state(&st, "step1.", p->name, w0, got, ref, p->count, grel);
            free(gr);
        } else {
            snprintf(name, sizeof name, "step1.%s", p->name);
            float *r1 = fixture(&st, name, p->count);
            tf2d(r1, ref, p->count);
            tnet_to_timm(p, w1, got);
            check_state(&st, "", name, w0, got, ref, p->count, fix_rel(&st, name));
            free(r1);
        }
    next:
        free(w0), free(got), free(ref);
    }
    printf("compared %d gradients\n", ngrad);
    T_CHECK(ngrad >= 50, "only %d gradients compared", ngrad);

    /* ---- steps 2 and 3, free-running. Step 2's loss is one step from a checked state; the
     * third is chaotic (see above) and only printed, with a sanity bound. ---- */
    for (int step = 1; step < 3; step++) {
        T_MBN(mbn_net_forward(&net, B, true));
        T_MBN(mbn_net_backward(&net, labels, B, e));
        T_MBN(mbn_net_read_loss(&net, &loss));
        if (step == 1) {
            check_loss(&st, "loss", step, loss);
        } else {
            float *l = fixture(&st, "loss", 3);
            printf("info free-running loss at step 3: %.6f, PyTorch float64 %.6f (not compared: "
                   "chaotic)\n",
                   (double)loss, (double)l[2]);
            T_CHECK(isfinite(loss) && loss < 2 * l[0], "step 3 loss %g not sane", (double)loss);
            free(l);
        }
        T_MBN(mbn_net_sgd_step(&net, &sgd));
    }

    /* ---- teacher-forced step 2: from the state after step 1 rebuilt from PyTorch's float64
     * gradients (w1 = w0 - lr (g + wd w0), momentum g + wd w0, running stats step1.*) ---- */
    if (st_find(&st, "step2.conv_stem.weight")) {
        MbnTensorSet s1 = {0};
        for (int i = 0; i < net.n_params; i++) {
            const MbnParam *p = &net.params_table[i];
            const StEntry *ent = st_find(&init, p->name);
            float *w0 = init_tensor(&st, &init, p->name, p->count);
            float *w = T_NEW(float, p->count), *v = T_NEW(float, p->count);
            if (p->trainable) {
                snprintf(name, sizeof name, "grad.%s", p->name);
                float *gr = fixture(&st, name, p->count);
                double pwd = decayed(p) ? (double)wd : 0.0;
                for (size_t k = 0; k < p->count; k++) {
                    double gg = (double)gr[k] + pwd * w0[k];
                    v[k] = (float)gg;
                    w[k] = (float)((double)w0[k] - (double)lr * gg);
                }
                free(gr);
                char mname[MBN_TENSOR_NAME_MAX];
                snprintf(mname, sizeof mname, "optim.momentum.%s", p->name);
                if (!mbn_tensors_add(&s1, mname, ent->ndim, ent->shape, v)) exit(1);
            } else {
                snprintf(name, sizeof name, "step1.%s", p->name);
                float *r1 = fixture(&st, name, p->count);
                memcpy(w, r1, p->count * sizeof *w);
                free(r1);
            }
            if (!mbn_tensors_add(&s1, p->name, ent->ndim, ent->shape, w)) exit(1);
            free(w0), free(w), free(v);
        }
        for (int i = 0; i < s1.count; i++) { /* start2.* BN bias overrides */
            char key[256];
            snprintf(key, sizeof key, "start2.%s", s1.items[i].name);
            if (!st_find(&st, key)) continue;
            float *d = fixture(&st, key, (size_t)mbn_tensor_numel(&s1.items[i]));
            memcpy(s1.items[i].data, d, (size_t)mbn_tensor_numel(&s1.items[i]) * sizeof *d);
            free(d);
        }
        MbnNet n1;
        T_MBN(mbn_net_create(&n1, &dev, &arch, B, true));
        T_MBN(mbn_net_import(&n1, &s1, false, true));
        T_MBN(mbn_net_set_input(&n1, x, B));
        T_MBN(mbn_net_forward(&n1, B, true));
        T_MBN(mbn_net_backward(&n1, labels, B, e));
        T_MBN(mbn_net_read_loss(&n1, &loss));
        check_loss(&st, "loss2", 0, loss);
        check_kinks(&n1, B, "teacher-forced step 2");
        T_MBN(mbn_net_sgd_step(&n1, &sgd));
        float *w2 = tnet_read_flat(&n1, n1.params);
        for (int i = 0; i < n1.n_params; i++) {
            const MbnParam *p = &n1.params_table[i];
            const MbnHostTensor *start = mbn_tensors_find(&s1, p->name);
            snprintf(name, sizeof name, "step2.%s", p->name);
            float *r2 = fixture(&st, name, p->count);
            float *got = T_NEW(float, p->count);
            double *ref = T_NEW(double, p->count);
            tf2d(r2, ref, p->count);
            tnet_to_timm(p, w2, got);
            check_state(&st, "", name, start->data, got, ref, p->count, fix_rel(&st, name));
            free(r2), free(got), free(ref);
        }
        free(w2);
        mbn_net_destroy(&n1);
        mbn_tensors_free(&s1);
    }

    /* ---- teacher-forced step 3 from PyTorch's state and momentum after step 2 ---- */
    if (st_find(&st, "loss3")) {
        MbnNet n2;
        T_MBN(mbn_net_create(&n2, &dev, &arch, B, true));
        tnet_import(&n2, &st, "step2.", "momentum2.");
        apply_overrides(&n2, &st, "start3.");
        float *start3 = tnet_read_flat(&n2, n2.params);
        T_MBN(mbn_net_set_input(&n2, x, B));
        T_MBN(mbn_net_forward(&n2, B, true));
        T_MBN(mbn_net_backward(&n2, labels, B, e));
        T_MBN(mbn_net_read_loss(&n2, &loss));
        check_loss(&st, "loss3", 0, loss);
        check_kinks(&n2, B, "teacher-forced step 3");
        T_MBN(mbn_net_sgd_step(&n2, &sgd));
        float *w3 = tnet_read_flat(&n2, n2.params);
        for (int i = 0; i < n2.n_params; i++) {
            const MbnParam *p = &n2.params_table[i];
            float *w2 = T_NEW(float, p->count);
            tnet_to_timm(p, start3, w2);
            snprintf(name, sizeof name, "step3.%s", p->name);
            float *r3 = fixture(&st, name, p->count);
            float *got = T_NEW(float, p->count);
            double *ref = T_NEW(double, p->count);
            tf2d(r3, ref, p->count);
            tnet_to_timm(p, w3, got);
            check_state(&st, "", name, w2, got, ref, p->count, fix_rel(&st, name));
            free(w2), free(r3), free(got), free(ref);
        }
        free(w3), free(start3);
        mbn_net_destroy(&n2);
    }
    free(g), free(w1), free(nchw), free(x), free(labels);
    mbn_net_destroy(&net);
    st_close(&st), st_close(&init), st_close(&inputs);
}

int main(void) {
    tdev_open(&dev);
    run_config("tests/fixtures/train_a025_r32_b4.safetensors");
    run_config("tests/fixtures/train_a025_r64_b8_wd.safetensors");
    run_config("tests/fixtures/train_a050_r64_b8.safetensors");
    mbn_device_close(&dev);
    return t_summary("test_torch_training");
}
