/* End-to-end learning sanity on the device: a 0.25-32 MobileNet memorises 8 random images with
 * random labels within 60 momentum-SGD steps at lr 0.01 (loss falls below a quarter of its
 * start, and the training-mode predictions match every label). It cannot pass with a broken
 * gradient anywhere along the chain: every layer must move the right way for the loss to collapse.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "host/device.h"
#include "tune/open.h"
#include "base/error.h"
#include "base/rng.h"
#include "model/net.h"
#include "tests/support/testutil.h"

int main(void) {
    MbnDevice dev;
    T_MBN(mbn_device_open_selected(&dev, NULL));
    MbnArch arch;
    MbnNet net;
    const int N = 8, K = 10;
    T_MBN(mbn_arch_build(&arch, 0.25f, 32, K));
    T_MBN(mbn_net_create(&net, &dev, &arch, N, true));
    T_MBN(mbn_net_init(&net, 7));
    MbnRng rng;
    mbn_rng_seed(&rng, 3);
    size_t n_in = (size_t)N * 32 * 32 * 3;
    float *x = T_NEW(float, n_in);
    int32_t labels[8];
    for (size_t i = 0; i < n_in; i++)
        x[i] = (float)mbn_rng_normal(&rng);
    for (int i = 0; i < N; i++)
        labels[i] = (int32_t)(mbn_rng_next(&rng) % K);
    MbnSgdConfig sgd = {0.01f, 0.9f, 0.0f, false};
    float first = 0, loss = 0;
    for (int step = 0; step < 60; step++) {
        loss = NAN;
        T_MBN(mbn_net_set_input(&net, x, N));
        T_MBN(mbn_net_forward(&net, N, true));
        T_MBN(mbn_net_backward(&net, labels, N, 0.0f));
        T_MBN(mbn_net_sgd_step(&net, &sgd));
        T_MBN(mbn_net_read_loss(&net, &loss));
        if (step == 0) first = loss;
        if (step % 10 == 0) printf("step %d loss %.4f\n", step, loss);
    }
    printf("first loss %.4f, last %.4f\n", first, loss);
    T_CHECK(first > 1.0f, "an untrained network should not already fit random labels (loss %g)",
            (double)first);
    T_CHECK(loss < 0.25f * first, "loss did not collapse: %g -> %g", (double)first, (double)loss);
    float logits[80];
    for (int i = 0; i < N * K; i++)
        logits[i] = NAN;
    T_MBN(mbn_net_forward(&net, N, true));
    T_MBN(mbn_net_read_logits(&net, N, logits));
    int correct = 0;
    for (int i = 0; i < N; i++) {
        int best = 0;
        for (int k = 1; k < K; k++)
            if (logits[i * K + k] > logits[i * K + best]) best = k;
        correct += best == labels[i];
    }
    T_CHECK(correct == N, "memorised %d/%d", correct, N);
    free(x);
    mbn_net_destroy(&net);
    mbn_device_close(&dev);
    return t_summary("test_train_overfit");
}
