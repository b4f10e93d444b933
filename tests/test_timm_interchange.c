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
#include "tune/open.h"
#include "base/error.h"
#include "io/formats/safetensors.h"
#include "model/net.h"
#include "model/weights_file.h"
#include "tests/support/testutil.h"

int main(void) {
    const char *wf = "tests/fixtures/timm_mbv1_025.safetensors";
    const char *iof = "tests/fixtures/timm_mbv1_025_io.safetensors";
    MbnModelFlags flags = {0, 32, 0};
    MbnArch arch;
    MbnTensorSet w = {0}, io = {0}, back = {0};
    MbnDevice dev;
    MbnNet net;
    T_MBN(mbn_weights_open(wf, &flags, &arch, &w));
    T_MBN(mbn_safetensors_read(iof, &io));
    T_MBN(mbn_device_open_selected(&dev, NULL));
    T_MBN(mbn_net_create(&net, &dev, &arch, 2, false));
    T_MBN(mbn_net_import(&net, &w, false, false));
    T_CHECK(fabsf(arch.alpha - 0.25f) <= 1e-6f && arch.num_classes == 10,
            "derived alpha %g classes %d, want 0.25 and 10", (double)arch.alpha, arch.num_classes);
    const MbnHostTensor *in = mbn_tensors_find(&io, "input"),
                        *want = mbn_tensors_find(&io, "logits");
    T_CHECK(in && want, "io fixture lacks input/logits");
    if (!in || !want) return t_summary("test_timm_interchange");
    int N = 2, C = 3, H = 32, W = 32, K = 10;
    float x[2 * 32 * 32 * 3], got[20];
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int h = 0; h < H; h++)
                for (int q = 0; q < W; q++)
                    x[((n * H + h) * W + q) * C + c] = in->data[((n * C + c) * H + h) * W + q];
    for (int i = 0; i < N * K; i++)
        got[i] = NAN; /* poison: a read that delivers nothing fails */
    T_MBN(mbn_net_set_input(&net, x, N));
    T_MBN(mbn_net_forward(&net, N, false));
    T_MBN(mbn_net_read_logits(&net, N, got));
    float scale = 0, err = 0;
    for (int i = 0; i < N * K; i++) {
        scale = fmaxf(scale, fabsf(want->data[i]));
        err = fmaxf(err, fabsf(got[i] - want->data[i]));
    }
    printf("timm -> mbn logits: max |diff| %.3g, largest logit %.3g\n", (double)err, (double)scale);
    T_CHECK(err <= 1e-4f * scale, "logits differ from PyTorch's: %.3g > 1e-4 * %.3g", (double)err,
            (double)scale);
    T_MBN(mbn_net_export(&net, &back, false));
    int same = back.count == w.count;
    for (int i = 0; same && i < w.count; i++) {
        const MbnHostTensor *b = mbn_tensors_find(&back, w.items[i].name);
        same = b && b->ndim == w.items[i].ndim &&
               !memcmp(b->shape, w.items[i].shape, sizeof b->shape[0] * (size_t)b->ndim) &&
               !memcmp(b->data, w.items[i].data, sizeof(float) * (size_t)mbn_tensor_numel(b));
    }
    T_CHECK(same,
            "mbn -> timm: the %d exported tensors differ from the file's %d (names, shapes "
            "or bits)",
            back.count, w.count);
    mbn_tensors_free(&w);
    mbn_tensors_free(&io);
    mbn_tensors_free(&back);
    mbn_net_destroy(&net);
    mbn_device_close(&dev);
    return t_summary("test_timm_interchange");
}
