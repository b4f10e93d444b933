/* The timm fixture (tests/make_timm_fixture.py, PyTorch with timm's mobilenetv1_100 names) reads
 * cleanly, and its names and shapes are exactly what the layer table (model/arch.h timm and
 * timm_bn prefixes) expects for alpha 0.25, 10 classes: conv OIHW, depthwise [C,1,3,3], FC
 * [out, in] + bias, BN weight/bias/running_mean/running_var; num_batches_tracked skipped; no
 * extra tensors. The io file holds the input batch and logits. Also writes the set back with
 * mbn's writer and checks it reads identically.
 *
 * With the argument "torch" (ctest: test_safetensors_timm_fixture_torch), PyTorch then loads the
 * file mbn wrote (tests/check_timm_roundtrip.py, strict=True) and must reproduce the fixture's
 * logits exactly; without python3-torch that test is reported as skipped, never as passed.
 * MBN_TEST_PYTHON names the interpreter (default /usr/bin/python3, where Debian's
 * python3-torch lives). */
#include "io/formats/safetensors.h"
#include "tests/support/testutil.h"
#include "model/arch.h"

static void expect(const MbnTensorSet *s, const char *name, int ndim, int64_t a, int64_t b,
                   int64_t c, int64_t d, int *matched) {
    const MbnHostTensor *t = mbn_tensors_find(s, name);
    T_CHECK(t != NULL, "missing %s", name);
    if (!t) return;
    int64_t want[4] = {a, b, c, d};
    bool ok = t->ndim == ndim;
    for (int k = 0; ok && k < ndim; k++)
        ok = t->shape[k] == want[k];
    T_CHECK(ok, "%s: shape mismatch (rank %d, [%lld, %lld, ...])", name, t->ndim,
            (long long)t->shape[0], (long long)(t->ndim > 1 ? t->shape[1] : 0));
    (*matched)++;
}

int main(int argc, char **argv) {
    bool with_torch = argc > 1 && strcmp(argv[1], "torch") == 0;
    const char *test =
        with_torch ? "test_safetensors_timm_fixture_torch" : "test_safetensors_timm_fixture";
    MbnTensorSet w, io;
    const char *wf = "tests/fixtures/timm_mbv1_025.safetensors";
    T_CHECK(mbn_safetensors_read(wf, &w) == MBN_OK, "%s", mbn_last_error());
    MbnArch arch;
    T_CHECK(mbn_arch_build(&arch, 0.25f, 32, 10) == MBN_OK, "%s", mbn_last_error());
    int matched = 0;
    char n[96];
    for (int i = 0; i < arch.n_layers; i++) {
        const MbnLayer *L = &arch.layers[i];
        switch (L->type) {
        case MBN_LAYER_STEM:
        case MBN_LAYER_PW:
        case MBN_LAYER_DW: {
            int64_t cin = L->type == MBN_LAYER_DW ? 1 : L->cin, k = L->type == MBN_LAYER_PW ? 1 : 3;
            snprintf(n, sizeof n, "%s.weight", L->timm);
            expect(&w, n, 4, L->cout, cin, k, k, &matched);
            const char *bn[4] = {"weight", "bias", "running_mean", "running_var"};
            for (int j = 0; j < 4; j++) {
                snprintf(n, sizeof n, "%s.%s", L->timm_bn, bn[j]);
                expect(&w, n, 1, L->cout, 0, 0, 0, &matched);
            }
            break;
        }
        case MBN_LAYER_FC:
            snprintf(n, sizeof n, "%s.weight", L->timm);
            expect(&w, n, 2, L->cout, L->cin, 0, 0, &matched);
            snprintf(n, sizeof n, "%s.bias", L->timm);
            expect(&w, n, 1, L->cout, 0, 0, 0, &matched);
            break;
        case MBN_LAYER_POOL:
            break;
        }
    }
    T_CHECK(matched == 27 * 5 + 2 && w.count == matched, "%d tensors, %d expected by the table",
            w.count, matched);
    const MbnHostTensor *rv = mbn_tensors_find(&w, "blocks.3.5.bn2.running_var");
    T_CHECK(rv && rv->data[0] >= 0.25f && rv->data[0] <= 1.75f, "running_var value");

    T_CHECK(mbn_safetensors_read("tests/fixtures/timm_mbv1_025_io.safetensors", &io) == MBN_OK,
            "%s", mbn_last_error());
    int m2 = 0;
    expect(&io, "input", 4, 2, 3, 32, 32, &m2);
    expect(&io, "logits", 2, 2, 10, 0, 0, &m2);

    /* mbn's writer round-trips the same set bit-exactly. */
    char dir[64], path[128];
    t_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/export.safetensors", dir);
    T_CHECK(mbn_safetensors_write(path, &w, NULL) == MBN_OK, "%s", mbn_last_error());
    MbnTensorSet back;
    T_CHECK(mbn_safetensors_read(path, &back) == MBN_OK, "%s", mbn_last_error());
    T_CHECK(back.count == w.count, "count");
    for (int k = 0; k < w.count; k++) {
        const MbnHostTensor *b = mbn_tensors_find(&back, w.items[k].name);
        T_CHECK(b && !memcmp(b->data, w.items[k].data, 4 * (size_t)mbn_tensor_numel(b)), "%s",
                w.items[k].name);
    }
    mbn_tensors_free(&back);
    mbn_tensors_free(&w);
    mbn_tensors_free(&io);
    /* Reverse direction: the file mbn wrote (no num_batches_tracked) loads strictly into the
     * PyTorch model and reproduces the fixture's logits. */
    if (with_torch) {
        const char *py = getenv("MBN_TEST_PYTHON");
        if (!py || !*py) py = "/usr/bin/python3";
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "'%s' -c 'import torch' >/dev/null 2>&1", py);
        if (system(cmd) != 0) {
            t_rmtree(dir);
            t_skip(test,
                   "%s cannot import torch (Debian: python3-torch): PyTorch's load of the "
                   "file mbn wrote is not checked",
                   py);
        }
        snprintf(cmd, sizeof cmd,
                 "'%s' tests/check_timm_roundtrip.py %s --expect --tol 0 >/dev/null", py, path);
        T_CHECK(system(cmd) == 0, "PyTorch did not load mbn's file or logits differ: %s", cmd);
    }
    t_rmtree(dir);
    return t_summary(test);
}
