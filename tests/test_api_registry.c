/* The library's device sharing (api/device_registry.h): two models opened on the same device
 * share one OpenCL context and one built program, each with its own queue; the device is held
 * while a model is open and released with the last one; a model opened afterwards gets a fresh
 * one. A foreign timm file (no record) opens with the ImageNet defaults, says so, and its
 * results do not depend on which model of the pair computes them. An inference network holds
 * no training buffers and counts its device bytes exactly. Uses the committed timm fixture at
 * 32 px. */
#include <string.h>

#include "api/model.h"
#include "base/error.h"
#include "support/data_util.h"

#define WEIGHTS "tests/fixtures/timm_mbv1_025.safetensors"

static MbnModel *open_model(void) {
    MbnModelFlags flags = {0, 32, 0};
    MbnModel *m = NULL;
    int rc = mbn_model_open_checked(WEIGHTS, NULL, &flags, 1, &m);
    CHECK(rc == MBN_OK && m, "open: %s", mbn_last_error());
    return m;
}

int main(void) {
    CHECK(mbn_registry_open_devices() == 0, "nothing held before any model");
    MbnModel *a = open_model(), *b = open_model();
    if (!a || !b) return 1;
    CHECK(mbn_registry_open_devices() == 1, "one device for two models");
    CHECK(a->dev.context == b->dev.context && a->dev.context == mbn_registry_context(a->entry),
          "one context");
    CHECK(a->dev.program == b->dev.program, "one program, built once");
    CHECK(a->dev.queue != b->dev.queue, "a queue per model");
    CHECK(strstr(mbn_model_preprocessing(a), "no record") != NULL, "foreign file: defaults: %s",
          mbn_model_preprocessing(a));
    CHECK(mbn_model_resolution(a) == 32 && mbn_model_num_classes(a) == 10, "32 px, 10 classes");

    /* An inference network holds no training buffers, and device_bytes counts exactly the
     * buffers it holds. */
    const MbnNet *n = &a->net;
    CHECK(!n->training && !n->grads && !n->momentum && !n->save_mean && !n->save_invstd &&
              !n->dlogits && !n->dbuf[0] && !n->dbuf[1] && !n->scratch && !n->loss && !n->labels &&
              !n->z[0] && !n->z[n->arch.n_layers - 3],
          "no training buffers in an inference net");
    int pool = n->arch.n_layers - 2;
    cl_mem held[] = {n->params, n->folded, n->wt,    n->input, n->patches,
                     n->logits, n->probs,  n->act_a, n->act_b, n->y[pool]};
    size_t total = 0;
    for (size_t i = 0; i < sizeof held / sizeof held[0]; i++) {
        size_t bytes = 0;
        CHECK(held[i] && clGetMemObjectInfo(held[i], CL_MEM_SIZE, sizeof bytes, &bytes, NULL) ==
                             CL_SUCCESS,
              "buffer %zu", i);
        total += bytes;
    }
    CHECK(total == n->device_bytes, "device_bytes %zu, buffers %zu", n->device_bytes, total);

    unsigned char rgb[40 * 30 * 3];
    tu_pattern(rgb, 40, 30, 5);
    int ca[10], cb[10];
    float pa[10], pb[10];
    memset(pb, 0xff, sizeof pb);
    CHECK(mbn_model_classify_rgb(a, rgb, 40, 30, 120, 10, ca, pa) == MBN_OK, "%s",
          mbn_last_error());
    CHECK(mbn_model_classify_rgb(b, rgb, 40, 30, 120, 10, cb, pb) == MBN_OK, "%s",
          mbn_last_error());
    CHECK(!memcmp(ca, cb, sizeof ca) && !memcmp(pa, pb, sizeof pa), "same bits on both models");

    mbn_model_close(a);
    CHECK(mbn_registry_open_devices() == 1, "still held by the second model");
    memset(pb, 0xff, sizeof pb);
    CHECK(mbn_model_classify_rgb(b, rgb, 40, 30, 120, 10, cb, pb) == MBN_OK &&
              !memcmp(pa, pb, sizeof pa),
          "the second model works after the first closed");
    mbn_model_close(b);
    CHECK(mbn_registry_open_devices() == 0, "released with the last model");

    MbnModel *c = open_model();
    if (c) {
        memset(pb, 0xff, sizeof pb);
        CHECK(mbn_model_classify_rgb(c, rgb, 40, 30, 120, 10, cb, pb) == MBN_OK &&
                  !memcmp(pa, pb, sizeof pa),
              "a fresh device gives the same bits");
        mbn_model_close(c);
    }
    CHECK(mbn_registry_open_devices() == 0, "released again");
    if (tu_failures) {
        fprintf(stderr, "test_api_registry: %d failures\n", tu_failures);
        return 1;
    }
    printf("test_api_registry: ok\n");
    return 0;
}
