/* Interchange with timm, through the product's own paths: the safetensors written by
 * tests/make_timm_fixture.py (PyTorch with timm's mobilenetv1_100 names, random weights and BN
 * statistics) is opened with mbn_weights_open (the code behind `mbn eval/infer --checkpoint
 * W.safetensors`), which derives alpha 0.25 and 10 classes from the shapes; mbn's eval-mode
 * logits on the fixture's input match PyTorch's. Then mbn_net_export returns every tensor
 * bit-identical to the file, so `mbn export` gives timm back what it gave (the reverse,
 * strict=True loading in PyTorch, is tests/check_timm_roundtrip.py, run where torch exists).
 * Tolerance: 1e-4 of the largest logit; float32 sums over <= 256 terms per layer differ from
 * PyTorch's summation order by ~1e-6 relative per layer, far inside it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/device.h"
#include "base/error.h"
#include "io/formats/safetensors.h"
#include "model/net.h"
#include "model/weights_file.h"

int main(void) {
    const char *wf = "tests/fixtures/timm_mbv1_025.safetensors";
    const char *iof = "tests/fixtures/timm_mbv1_025_io.safetensors";
    MbnModelFlags flags = {0, 32, 0};
    MbnArch arch;
    MbnTensorSet w = {0}, io = {0}, back = {0};
    MbnDevice dev;
    MbnNet net;
    if (mbn_weights_open(wf, &flags, &arch, &w) || mbn_safetensors_read(iof, &io) ||
        mbn_device_open_selected(&dev, NULL) || mbn_net_create(&net, &dev, &arch, 2, false) ||
        mbn_net_import(&net, &w, false, false)) {
        printf("FAIL: %s\n", mbn_last_error());
        return 1;
    }
    int fail = 0;
    if (fabsf(arch.alpha - 0.25f) > 1e-6f || arch.num_classes != 10) {
        printf("FAIL: derived alpha %g classes %d, want 0.25 and 10\n", (double)arch.alpha,
               arch.num_classes);
        fail = 1;
    }
    const MbnHostTensor *in = mbn_tensors_find(&io, "input"), *want = mbn_tensors_find(&io, "logits");
    if (!in || !want) {
        printf("FAIL: io fixture lacks input/logits\n");
        return 1;
    }
    int N = 2, C = 3, H = 32, W = 32, K = 10;
    float x[2 * 32 * 32 * 3], got[20];
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++)
                for (int q = 0; q < W; q++)
                    x[((n * H + h) * W + q) * C + c] = in->data[((n * C + c) * H + h) * W + q];
    if (mbn_net_set_input(&net, x, N) || mbn_net_forward(&net, N, false) ||
        mbn_net_read_logits(&net, N, got)) {
        printf("FAIL: %s\n", mbn_last_error());
        return 1;
    }
    float scale = 0, err = 0;
    for (int i = 0; i < N * K; i++) {
        scale = fmaxf(scale, fabsf(want->data[i]));
        err = fmaxf(err, fabsf(got[i] - want->data[i]));
    }
    printf("%s timm -> mbn logits: max |diff| %.3g, largest logit %.3g\n",
           err <= 1e-4f * scale ? "ok  " : "FAIL", (double)err, (double)scale);
    fail |= !(err <= 1e-4f * scale);
    if (mbn_net_export(&net, &back, false)) {
        printf("FAIL: %s\n", mbn_last_error());
        return 1;
    }
    int same = back.count == w.count;
    for (int i = 0; same && i < w.count; i++) {
        const MbnHostTensor *b = mbn_tensors_find(&back, w.items[i].name);
        same = b && b->ndim == w.items[i].ndim &&
               !memcmp(b->shape, w.items[i].shape, sizeof b->shape[0] * (size_t)b->ndim) &&
               !memcmp(b->data, w.items[i].data, sizeof(float) * (size_t)mbn_tensor_numel(b));
    }
    printf("%s mbn -> timm: %d tensors exported with timm's names, shapes and bits\n",
           same ? "ok  " : "FAIL", back.count);
    fail |= !same;
    mbn_tensors_free(&w);
    mbn_tensors_free(&io);
    mbn_tensors_free(&back);
    mbn_net_destroy(&net);
    mbn_device_close(&dev);
    return fail;
}
