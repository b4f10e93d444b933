/* mbn eval: top-1, top-5, mean loss and image count on the val/test split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/json_out.h"
#include "host/device.h"
#include "base/error.h"
#include "io/data/dataset.h"
#include "io/data/loader.h"
#include "model/evaluate.h"
#include "apps/model_file.h"

int cmd_eval(int argc, char **argv) {
    MbnCommonFlags c;
    mbn_common_from_file(&c);
    const char *data = NULL, *ckpt = NULL, *precision = NULL;
    int batch = 64, workers = 8;
    bool quiet = false;
    const MbnFlag flags[] = {
        {"data", FLAG_STRING, &data, "dataset folder (its val or test split is used)", "DIR", NULL},
        {"checkpoint", FLAG_STRING, &ckpt, "mbn checkpoint (.ckpt) or safetensors weights", "F",
         NULL},
        MBN_FLAG_DEVICE(&c),
        {"batch-size", FLAG_INT, &batch, "images per batch", "B", NULL},
        {"workers", FLAG_INT, &workers, "data loader threads, at most the cores", "N", NULL},
        MBN_FLAGS_MODEL_CHECKS(&c),
        {"quiet", FLAG_BOOL, &quiet, "no progress output", NULL, NULL},
        MBN_FLAG_PRECISION(&precision),
        MBN_FLAG_JSON(&c),
    };
    MbnCli cli = MBN_CLI("eval",
                         "mbn eval --data DIR --checkpoint F [--batch-size B] [--precision P] "
                         "[--json]",
                         "Evaluates a model on the val split (ImageNet layout) or the test split "
                         "(IDX, CIFAR-10): top-1, top-5, mean cross-entropy (no smoothing), "
                         "images, skipped. The model's configuration comes from the file.",
                         flags, NULL, 0);
    MbnPrecision prec = MBN_PRECISION_FP32;
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return mbn_cli_report(&cli, rc);
    if (mbn_precision_parse("--precision", precision, &prec))
        rc = MBN_EUSAGE;
    else if (!data)
        rc = mbn_fail(MBN_EUSAGE, "--data is required");
    else if (!ckpt)
        rc = mbn_fail(MBN_EUSAGE, "--checkpoint is required");
    else if (batch < 1)
        rc = mbn_fail(MBN_EUSAGE, "--batch-size %d: must be at least 1", batch);
    else if (workers < 0)
        rc = mbn_fail(MBN_EUSAGE, "--workers %d: must be >= 0", workers);
    if (rc == MBN_OK) rc = mbn_cli_input_dir("--data", data);
    if (rc == MBN_OK) rc = mbn_cli_input_file("--checkpoint", ckpt);
    if (rc) return mbn_cli_report(&cli, rc);
    MbnModelFlags mf = {c.alpha, c.resolution, c.num_classes};
    MbnModel *m = NULL;
    MbnDataset *ds = NULL;
    MbnLoader *ld = NULL;
    rc = mbn_model_open_checked(ckpt, c.device, &mf, batch, prec, &m);
    if (rc) return mbn_cli_report(&cli, rc);
    const MbnArch *arch = mbn_model_arch(m);
    mbn_model_file_note(ckpt, arch);
    rc = mbn_dataset_open(data, MBN_SPLIT_VAL, &ds);
    if (rc == MBN_OK && ds->num_classes != arch->num_classes)
        rc = mbn_fail(MBN_EFAIL, "%s has %d classes but the model %s has %d", data, ds->num_classes,
                      ckpt, arch->num_classes);
    if (rc == MBN_OK) {
        MbnLoaderConfig lc = {batch, arch->resolution, workers, 1, false, false, 0, 1, 0};
        rc = mbn_loader_create(ds, &lc, &ld);
    }
    /* The model's record, whatever the data's format; without one, each format's defaults. */
    if (rc == MBN_OK && arch->preprocess.recorded) mbn_loader_set_preprocess(ld, &arch->preprocess);
    MbnEvalStats st;
    if (rc == MBN_OK) {
        mbn_registry_run_begin(m->entry); /* the library's rule for work on a model's device */
        rc = mbn_registry_run_end(m->entry, &m->dev,
                                  mbn_evaluate(&m->net, ld, quiet || c.json, &st));
    }
    if (rc == MBN_OK) {
        double top1 = (double)st.top1 / (double)st.images,
               top5 = (double)st.top5 / (double)st.images;
        double loss = st.loss_sum / (double)st.images;
        if (st.skipped) mbn_warn("%lld unusable images were skipped", (long long)st.skipped);
        if (c.json) {
            rc = mbn_json_print(json_pack(
                "{s:o, s:o, s:o, s:I, s:I, s:o, s:s}", "top1", mbn_json_number(top1), "top5",
                mbn_json_number(top5), "loss", mbn_json_number(loss), "images",
                (json_int_t)st.images, "skipped", (json_int_t)st.skipped, "seconds",
                mbn_json_number(st.seconds), "precision", mbn_precision_name(m->net.precision)));
        } else {
            printf("top-1 %.2f%%  top-5 %.2f%%  loss %.4f  (%lld images, %lld skipped, %.1f s)\n",
                   100 * top1, 100 * top5, loss, (long long)st.images, (long long)st.skipped,
                   st.seconds);
        }
    }
    if (ld) mbn_loader_destroy(ld);
    if (ds) mbn_dataset_free(ds);
    mbn_model_close(m);
    return mbn_cli_report(&cli, rc);
}
