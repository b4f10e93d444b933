/* End-to-end learning sanity on the device: a 0.25-32 MobileNet memorises 8 random images with
 * random labels within 60 momentum-SGD steps at lr 0.01 (loss falls below a quarter of its
 * start, and the training-mode predictions match every label). It cannot pass with a broken
 * gradient anywhere along the chain: every layer must move the right way for the loss to collapse.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "host/device.h"
#include "base/error.h"
#include "base/rng.h"
#include "model/net.h"

int main(void) {
    MbnDevice dev;
    if (mbn_device_open_selected(&dev, NULL)) {
        fprintf(stderr, "device: %s\n", mbn_last_error());
        return 1;
    }
    MbnArch arch;
    MbnNet net;
    const int N = 8, K = 10;
    if (mbn_arch_build(&arch, 0.25f, 32, K) || mbn_net_create(&net, &dev, &arch, N, true) ||
        mbn_net_init(&net, 7)) {
        fprintf(stderr, "net: %s\n", mbn_last_error());
        return 1;
    }
    MbnRng rng;
    mbn_rng_seed(&rng, 3);
    size_t n_in = (size_t)N * 32 * 32 * 3;
    float *x = malloc(n_in * sizeof *x);
    int32_t labels[8];
    for (size_t i = 0; i < n_in; i++)
        x[i] = (float)mbn_rng_normal(&rng);
    for (int i = 0; i < N; i++)
        labels[i] = (int32_t)(mbn_rng_next(&rng) % K);
    MbnSgdConfig sgd = {0.01f, 0.9f, 0.0f, false};
    float first = 0, loss = 0;
    for (int step = 0; step < 60; step++) {
        if (mbn_net_set_input(&net, x, N) || mbn_net_forward(&net, N, true) ||
            mbn_net_backward(&net, labels, N, 0.0f) || mbn_net_sgd_step(&net, &sgd) ||
            mbn_net_read_loss(&net, &loss)) {
            fprintf(stderr, "step %d: %s\n", step, mbn_last_error());
            return 1;
        }
        if (step == 0) first = loss;
        if (step % 10 == 0) printf("step %d loss %.4f\n", step, loss);
    }
    printf("first loss %.4f, last %.4f\n", first, loss);
    int fail = 0;
    if (!(first > 1.0f)) {
        printf("FAIL: an untrained network should not already fit random labels\n");
        fail = 1;
    }
    if (!(loss < 0.25f * first)) {
        printf("FAIL: loss did not collapse\n");
        fail = 1;
    }
    float logits[80];
    if (mbn_net_forward(&net, N, true) || mbn_net_read_logits(&net, N, logits)) return 1;
    int correct = 0;
    for (int i = 0; i < N; i++) {
        int best = 0;
        for (int k = 1; k < K; k++)
            if (logits[i * K + k] > logits[i * K + best]) best = k;
        correct += best == labels[i];
    }
    printf("memorised %d/%d\n", correct, N);
    if (correct < N) fail = 1;
    free(x);
    mbn_net_destroy(&net);
    mbn_device_close(&dev);
    return fail;
}
