/* mbn eval: top-1, top-5, mean loss and image count on the val/test split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "host/device.h"
#include "base/error.h"
#include "io/data/dataset.h"
#include "io/util/json_writer.h"
#include "io/data/loader.h"
#include "model/evaluate.h"
#include "apps/session.h"

int cmd_eval(int argc, char **argv) {
    MbnCommonFlags c;
    mbn_common_defaults(&c);
    c.alpha = 0;
    c.resolution = 0;
    c.num_classes = 0;
    const char *data = NULL, *ckpt = NULL, *precision = NULL;
    int batch = 64, workers = 8;
    bool quiet = false;
    const MbnFlag flags[] = {
        MBN_COMMON_FLAGS(&c),
        {"data", FLAG_STRING, &data, "dataset folder (its val/test split is used)", "DIR"},
        {"checkpoint", FLAG_STRING, &ckpt, "mbn checkpoint (.ckpt) or safetensors weights", "F"},
        {"batch-size", FLAG_INT, &batch, "images per batch (default 64)", "B"},
        {"workers", FLAG_INT, &workers, "data loader threads (default 8)", "N"},
        {"quiet", FLAG_BOOL, &quiet, "no progress output", NULL},
        MBN_PRECISION_FLAG(&precision),
    };
    MbnCli cli = {"eval",
                  "mbn eval --data DIR --checkpoint F [--precision fp32|fp16|auto] [--json]",
                  "Evaluates a model on the val split (ImageNet layout) or the test split (IDX, "
                  "CIFAR-10): top-1, top-5, mean cross-entropy (no smoothing), images, skipped.",
                  flags,
                  (int)(sizeof flags / sizeof flags[0]),
                  NULL,
                  0,
                  0,
                  false};
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
    if (rc) return mbn_cli_report(&cli, rc);
    MbnModelFlags mf = {c.alpha, c.resolution, c.num_classes};
    MbnSession ses;
    MbnDataset *ds = NULL;
    MbnLoader *ld = NULL;
    rc = mbn_session_open(&ses, ckpt, &mf, c.device, batch, prec);
    if (rc) return mbn_cli_report(&cli, rc);
    mbn_session_note_preprocess(ckpt, &ses.arch);
    rc = mbn_dataset_open(data, MBN_SPLIT_VAL, &ds);
    if (rc == MBN_OK && ds->num_classes != ses.arch.num_classes)
        rc = mbn_fail(MBN_EFAIL, "%s has %d classes but the model %s has %d", data, ds->num_classes,
                      ckpt, ses.arch.num_classes);
    if (rc == MBN_OK) {
        MbnLoaderConfig lc = {batch, ses.arch.resolution, workers, 1, false, false, 0, 1, 0};
        rc = mbn_loader_create(ds, &lc, &ld);
    }
    /* The model's record, whatever the data's format; without one, each format's defaults. */
    if (rc == MBN_OK && ses.arch.preprocess.recorded)
        mbn_loader_set_preprocess(ld, &ses.arch.preprocess);
    MbnEvalStats st;
    if (rc == MBN_OK) rc = mbn_evaluate(&ses.net, ld, quiet || c.json, &st);
    if (rc == MBN_OK) {
        double top1 = (double)st.top1 / (double)st.images,
               top5 = (double)st.top5 / (double)st.images;
        double loss = st.loss_sum / (double)st.images;
        if (st.skipped) mbn_warn("%lld unusable images were skipped", (long long)st.skipped);
        if (c.json) {
            MbnJson j;
            mbn_json_init(&j, stdout);
            mbn_json_begin_object(&j);
            mbn_json_key(&j, "top1");
            mbn_json_double(&j, top1);
            mbn_json_key(&j, "top5");
            mbn_json_double(&j, top5);
            mbn_json_key(&j, "loss");
            mbn_json_double(&j, loss);
            mbn_json_key(&j, "images");
            mbn_json_int(&j, st.images);
            mbn_json_key(&j, "skipped");
            mbn_json_int(&j, st.skipped);
            mbn_json_key(&j, "seconds");
            mbn_json_double(&j, st.seconds);
            mbn_json_key(&j, "precision");
            mbn_json_string(&j, mbn_precision_name(ses.net.precision));
            mbn_json_end_object(&j);
            mbn_json_finish(&j);
        } else {
            printf("top-1 %.2f%%  top-5 %.2f%%  loss %.4f  (%lld images, %lld skipped, %.1f s)\n",
                   100 * top1, 100 * top5, loss, (long long)st.images, (long long)st.skipped,
                   st.seconds);
        }
    }
    if (ld) mbn_loader_destroy(ld);
    if (ds) mbn_dataset_free(ds);
    mbn_session_close(&ses);
    return mbn_cli_report(&cli, rc);
}
