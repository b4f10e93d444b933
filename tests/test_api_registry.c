/* The library's device sharing (api/device_registry.h): two models opened on the same device
 * share one OpenCL context and one built program, each with its own queue; the device is held
 * while a model is open and released with the last one; a model opened afterwards gets a fresh
 * one. A foreign timm file (no record) opens with the ImageNet defaults, says so, and its
 * results do not depend on which model of the pair computes them. An inference network holds
 * no training buffers and counts its device bytes exactly. The handles share the device's
 * kernel variants and build options (those of the device opened on its own) and count their
 * own launches; a sibling handle starts its counters at zero. Uses the committed timm fixture
 * at 32 px. */
#include <string.h>

#include "api/model.h"
#include "tune/open.h"
#include "host/program.h"
#include "base/error.h"
#include "tests/support/data_util.h"
#include "tests/support/testutil.h"

#define WEIGHTS "tests/fixtures/timm_mbv1_025.safetensors"

static MbnModel *open_model(void) {
    MbnModelFlags flags = {0, 32, 0};
    MbnModel *m = NULL;
    int rc = mbn_model_open_checked(WEIGHTS, NULL, &flags, 1, MBN_PRECISION_FP32, &m);
    T_CHECK(rc == MBN_OK && m, "open: %s", mbn_last_error());
    return m;
}

int main(void) {
    T_CHECK(mbn_registry_open_devices() == 0, "nothing held before any model");
    MbnModel *a = open_model(), *b = open_model();
    if (!a || !b) return t_summary("test_api_registry");
    T_CHECK(mbn_registry_open_devices() == 1, "one device for two models");
    T_CHECK(a->dev.context == b->dev.context && a->dev.context == mbn_registry_context(a->entry),
            "one context");
    T_CHECK(a->dev.program == b->dev.program, "one program, built once");
    T_CHECK(a->dev.queue != b->dev.queue, "a queue per model");
    /* The kernel variants and build options belong to the device: each model's handle has
     * those of a device opened on its own (the program was built with them). */
    MbnDevice ref;
    T_MBN(mbn_device_open_selected(&ref, NULL));
    T_CHECK(!strcmp(a->dev.build_options, ref.build_options) &&
                !strcmp(b->dev.build_options, ref.build_options) &&
                !strcmp(mbn_program_options(&a->dev), ref.build_options),
            "the device's build options: %s / %s / %s", a->dev.build_options, b->dev.build_options,
            ref.build_options);
    T_CHECK(a->dev.variants.family == ref.variants.family &&
                !memcmp(a->dev.variants.op, ref.variants.op, sizeof ref.variants.op) &&
                !memcmp(b->dev.variants.op, ref.variants.op, sizeof ref.variants.op),
            "the device's kernel variants");
    /* A sibling copies those, but not what one queue counted (launches, variant fallbacks). */
    ref.launches = 5;
    ref.variants.fallbacks[0] = 3;
    MbnDevice sib;
    T_MBN(mbn_device_open_sibling(&sib, &ref));
    T_CHECK(sib.context == ref.context && sib.program == ref.program && sib.queue != ref.queue &&
                !strcmp(sib.build_options, ref.build_options) &&
                !memcmp(sib.variants.op, ref.variants.op, sizeof ref.variants.op),
            "a sibling shares the context, program, build options and variants");
    T_CHECK(sib.launches == 0 && sib.variants.fallbacks[0] == 0,
            "a sibling's counters start at zero: launches %llu, fallbacks %lu", sib.launches,
            sib.variants.fallbacks[0]);
    ref.variants.fallbacks[0] = 0; /* not reported at close: it never ran */
    mbn_device_close(&sib);
    mbn_device_close(&ref);
    T_CHECK(strstr(mbn_model_preprocessing(a), "no record") != NULL, "foreign file: defaults: %s",
            mbn_model_preprocessing(a));
    T_CHECK(mbn_model_resolution(a) == 32 && mbn_model_num_classes(a) == 10, "32 px, 10 classes");

    /* An inference network holds no training buffers, and device_bytes counts exactly the
     * buffers it holds. */
    const MbnNet *n = &a->net;
    T_CHECK(!n->training && !n->grads && !n->momentum && !n->save_mean && !n->save_invstd &&
                !n->dlogits && !n->dbuf[0] && !n->dbuf[1] && !n->scratch && !n->loss &&
                !n->labels && !n->z[0] && !n->z[n->arch.n_layers - 3],
            "no training buffers in an inference net");
    int pool = n->arch.n_layers - 2;
    cl_mem held[] = {n->params, n->folded, n->wt,    n->input, n->patches,
                     n->logits, n->probs,  n->act_a, n->act_b, n->y[pool]};
    size_t total = 0;
    for (size_t i = 0; i < sizeof held / sizeof held[0]; i++) {
        size_t bytes = 0;
        T_CHECK(held[i] && clGetMemObjectInfo(held[i], CL_MEM_SIZE, sizeof bytes, &bytes, NULL) ==
                               CL_SUCCESS,
                "buffer %zu", i);
        total += bytes;
    }
    T_CHECK(total == n->device_bytes, "device_bytes %zu, buffers %zu", n->device_bytes, total);

    unsigned char rgb[40 * 30 * 3];
    tu_pattern(rgb, 40, 30, 5);
    int ca[10], cb[10];
    float pa[10], pb[10];
    memset(ca, 0xff, sizeof ca);
    memset(cb, 0xff, sizeof cb);
    memset(pa, 0xff, sizeof pa);
    memset(pb, 0xff, sizeof pb);
    unsigned long long launches_b = b->dev.launches;
    T_CHECK(mbn_model_classify_rgb(a, rgb, 40, 30, 120, 10, ca, pa) == MBN_OK, "%s",
            mbn_last_error());
    T_CHECK(a->dev.launches > 0 && b->dev.launches == launches_b,
            "launches counted per model: %llu on the one that ran, %llu -> %llu on the other",
            a->dev.launches, launches_b, b->dev.launches);
    T_CHECK(mbn_model_classify_rgb(b, rgb, 40, 30, 120, 10, cb, pb) == MBN_OK, "%s",
            mbn_last_error());
    T_CHECK(!memcmp(ca, cb, sizeof ca) && !memcmp(pa, pb, sizeof pa), "same bits on both models");

    mbn_model_close(a);
    T_CHECK(mbn_registry_open_devices() == 1, "still held by the second model");
    memset(pb, 0xff, sizeof pb);
    T_CHECK(mbn_model_classify_rgb(b, rgb, 40, 30, 120, 10, cb, pb) == MBN_OK &&
                !memcmp(pa, pb, sizeof pa),
            "the second model works after the first closed");
    mbn_model_close(b);
    T_CHECK(mbn_registry_open_devices() == 0, "released with the last model");

    MbnModel *c = open_model();
    if (c) {
        memset(pb, 0xff, sizeof pb);
        T_CHECK(mbn_model_classify_rgb(c, rgb, 40, 30, 120, 10, cb, pb) == MBN_OK &&
                    !memcmp(pa, pb, sizeof pa),
                "a fresh device gives the same bits");
        mbn_model_close(c);
    }
    T_CHECK(mbn_registry_open_devices() == 0, "released again");
    return t_summary("test_api_registry");
}
