/* mbn_weights_load tells checkpoints from safetensors by the magic; for the timm fixture it
 * infers alpha 0.25, 10 classes and eps from metadata; a wrong --alpha, a file without a
 * classifier, inconsistent widths and a missing file are refused with the file named (missing:
 * MBN_EUSAGE). */
#include <math.h>

#include "ckpt_sample.h"
#include "io/weights.h"

int main(void) {
    char dir[64], path[256];
    make_tmpdir(dir, sizeof dir);
    MbnCheckpoint ck, a;
    MbnWeightsKind kind;

    /* A checkpoint comes back as such. */
    sample_checkpoint(&a, 5, 1);
    snprintf(path, sizeof path, "%s/m.ckpt", dir);
    CHECK(mbn_ckpt_save(path, &a) == MBN_OK, "%s", mbn_last_error());
    CHECK(mbn_weights_load(path, 0, &ck, &kind) == MBN_OK, "%s", mbn_last_error());
    CHECK(kind == MBN_WEIGHTS_CHECKPOINT && ckpt_diff(&a, &ck) == NULL, "checkpoint differs");
    mbn_ckpt_free(&ck);
    mbn_ckpt_free(&a);

    /* The timm fixture: config inferred from shapes and metadata. */
    const char *fx = "tests/fixtures/timm_mbv1_025.safetensors";
    CHECK(mbn_weights_load(fx, 0, &ck, &kind) == MBN_OK, "%s", mbn_last_error());
    CHECK(kind == MBN_WEIGHTS_SAFETENSORS, "kind");
    CHECK(ck.config.alpha == 0.25f && ck.config.num_classes == 10 && ck.config.bn_eps == 1e-5f &&
              ck.config.resolution == 224,
          "config %g %d %d %g", (double)ck.config.alpha, ck.config.num_classes,
          ck.config.resolution, (double)ck.config.bn_eps);
    CHECK(ck.tensors.count == 137 && ck.n_meta == 0, "%d tensors", ck.tensors.count);

    /* Written back by mbn with metadata, eps and resolution survive. */
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    const char *meta[] = {"format", "pt", "bn_eps", "0.001", "resolution", "160", NULL};
    CHECK(mbn_safetensors_write(path, &ck.tensors, meta) == MBN_OK, "%s", mbn_last_error());
    MbnCheckpoint back;
    CHECK(mbn_weights_load(path, 0.25f, &back, NULL) == MBN_OK, "%s", mbn_last_error());
    CHECK(back.config.bn_eps == 1e-3f && back.config.resolution == 160, "metadata config");
    mbn_ckpt_free(&back);

    CHECK(mbn_weights_load(fx, 0.5f, &back, NULL) == MBN_EFAIL, "alpha 0.5 accepted");
    CHECK(strstr(mbn_last_error(), "does not match --alpha 0.5") &&
              strstr(mbn_last_error(), fx) == mbn_last_error(),
          "%s", mbn_last_error());

    /* Inconsistent widths: one pointwise conv with a wrong channel count. */
    MbnHostTensor *pw = mbn_tensors_find(&ck.tensors, "blocks.3.2.conv_pw.weight");
    CHECK(pw != NULL, "fixture tensor");
    if (pw) pw->shape[0] = 100;
    MbnModelConfig cfg;
    CHECK(mbn_weights_infer_config("x.safetensors", &ck.tensors, 0, NULL, &cfg) == MBN_EFAIL,
          "bad widths accepted");
    CHECK(strstr(mbn_last_error(), "blocks.3.2.conv_pw.weight has 100 channels"), "%s",
          mbn_last_error());

    /* No classifier. */
    MbnTensorSet empty = {0};
    CHECK(mbn_weights_infer_config("y.safetensors", &empty, 0, NULL, &cfg) == MBN_EFAIL, "empty");
    CHECK(strstr(mbn_last_error(), "y.safetensors: no classifier.weight"), "%s", mbn_last_error());
    mbn_ckpt_free(&ck);

    CHECK(mbn_weights_load("/nonexistent-mbn.ckpt", 0, &ck, NULL) == MBN_EUSAGE, "missing");
    snprintf(path, sizeof path, "%s/junk", dir);
    spill(path, "junk junk junk", 14);
    CHECK(mbn_weights_load(path, 0, &ck, NULL) == MBN_EFAIL, "junk accepted");
    CHECK(strstr(mbn_last_error(), path) == mbn_last_error(), "%s", mbn_last_error());

    rm_tree(dir);
    return test_summary("test_weights_load");
}
