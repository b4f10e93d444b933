/* mbn infer: top-k classes with probabilities for each image, through the library's own API
 * (include/mbn.h): the model's preprocessing record is applied to every image, images are
 * decoded on worker threads and classified in batches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/session.h"
#include "base/error.h"
#include "io/formats/labels.h"
#include "io/util/json_writer.h"

#define MAX_IMAGES 100000

static void print_results(const MbnModel *m, bool json, const char *const *images, int n, int top_k,
                          const int *classes, const float *probs, const int *status, int skipped,
                          FILE *out) {
    MbnJson j;
    if (json) {
        mbn_json_init(&j, out);
        mbn_json_begin_object(&j);
        mbn_json_key(&j, "results");
        mbn_json_begin_array(&j);
    }
    for (int i = 0; i < n; i++) {
        if (status[i] != MBN_STATUS_OK) continue;
        if (json) {
            mbn_json_begin_object(&j);
            mbn_json_key(&j, "image");
            mbn_json_string(&j, images[i]);
            mbn_json_key(&j, "top");
            mbn_json_begin_array(&j);
        } else {
            fprintf(out, "%s\n", images[i]);
        }
        for (int t = 0; t < top_k; t++) {
            int k = classes[(size_t)i * top_k + t];
            float p = probs[(size_t)i * top_k + t];
            char num[16];
            snprintf(num, sizeof num, "%d", k);
            const char *label = mbn_model_label(m, k) ? mbn_model_label(m, k) : num;
            if (json) {
                mbn_json_begin_object(&j);
                mbn_json_key(&j, "class");
                mbn_json_int(&j, k);
                mbn_json_key(&j, "label");
                mbn_json_string(&j, label);
                mbn_json_key(&j, "prob");
                mbn_json_double(&j, p);
                mbn_json_end_object(&j);
            } else {
                fprintf(out, "  %2d. %-24s %8.4f%%  (class %d)\n", t + 1, label, 100.0 * p, k);
            }
        }
        if (json) {
            mbn_json_end_array(&j);
            mbn_json_end_object(&j);
        }
    }
    if (json) {
        mbn_json_end_array(&j);
        mbn_json_key(&j, "skipped");
        mbn_json_int(&j, skipped);
        mbn_json_end_object(&j);
        mbn_json_finish(&j);
    }
}

/* --labels L is the user's explicit choice: a file that cannot be read or does not have one line
 * per class is a usage error naming the flag (labels.txt beside the checkpoint, which the model
 * loads itself, only gives a warning and class numbers). On success the model owns the names. */
static int load_labels_flag(MbnModel *m, const char *flag) {
    char **names = NULL;
    int n = 0;
    if (mbn_labels_read(flag, &names, &n) != MBN_OK)
        return mbn_fail_context(MBN_EUSAGE, "--labels");
    int K = mbn_model_num_classes(m);
    if (n != K) {
        mbn_labels_free(names, n);
        return mbn_fail(MBN_EUSAGE,
                        "--labels %s: %d names, but the model has %d classes (one line "
                        "per class, in class-index order)",
                        flag, n, K);
    }
    mbn_model_set_labels(m, names, n);
    return MBN_OK;
}

int cmd_infer(int argc, char **argv) {
    MbnCommonFlags c;
    mbn_common_defaults(&c);
    c.alpha = 0;
    c.resolution = 0;
    c.num_classes = 0;
    const char *ckpt = NULL, *labels_flag = NULL, *precision = NULL;
    int top_k = 5, batch = 32, workers = 8;
    static const char *images[MAX_IMAGES];
    const MbnFlag flags[] = {
        MBN_COMMON_FLAGS(&c),
        {"checkpoint", FLAG_STRING, &ckpt, "mbn checkpoint (.ckpt) or safetensors weights", "F"},
        {"labels", FLAG_STRING, &labels_flag,
         "class names, one per line (default: labels.txt "
         "beside the checkpoint)",
         "L"},
        {"top-k", FLAG_INT, &top_k, "classes to print per image (default 5)", "K"},
        {"batch-size", FLAG_INT, &batch, "images per batch (default 32)", "B"},
        {"workers", FLAG_INT, &workers, "decoding threads (default 8)", "N"},
        MBN_PRECISION_FLAG(&precision),
    };
    MbnCli cli = {"infer",
                  "mbn infer --checkpoint F [--labels L] [--top-k 5] [--precision fp32|fp16|auto] "
                  "[--json] IMAGE...",
                  "Classifies JPEG/PNG images with the preprocessing the model was trained for "
                  "(its record; ImageNet defaults for files without one): the top-k classes with "
                  "probabilities, highest first.",
                  flags,
                  (int)(sizeof flags / sizeof flags[0]),
                  images,
                  MAX_IMAGES,
                  0,
                  false};
    MbnPrecision prec = MBN_PRECISION_FP32;
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return mbn_cli_report(&cli, rc);
    if (mbn_precision_parse("--precision", precision, &prec))
        rc = MBN_EUSAGE;
    else if (!ckpt)
        rc = mbn_fail(MBN_EUSAGE, "--checkpoint is required");
    else if (cli.n_positional == 0)
        rc = mbn_fail(MBN_EUSAGE, "no IMAGE given");
    else if (batch < 1)
        rc = mbn_fail(MBN_EUSAGE, "--batch-size %d: must be at least 1", batch);
    else if (top_k < 1)
        rc = mbn_fail(MBN_EUSAGE, "--top-k %d: must be at least 1", top_k);
    else if (workers < 0)
        rc = mbn_fail(MBN_EUSAGE, "--workers %d: must be >= 0", workers);
    for (int i = 0; rc == MBN_OK && i < cli.n_positional; i++) {
        FILE *f = fopen(images[i], "rb");
        if (!f)
            rc = mbn_fail(MBN_EUSAGE, "%s: cannot open the image", images[i]);
        else
            fclose(f);
    }
    if (rc) return mbn_cli_report(&cli, rc);
    int n = cli.n_positional;
    MbnModelFlags mf = {c.alpha, c.resolution, c.num_classes};
    MbnModel *m = NULL;
    rc = mbn_model_open_checked(ckpt, c.device, &mf, batch < n ? batch : n, prec, &m);
    if (rc) return mbn_cli_report(&cli, rc);
    mbn_session_note_preprocess(ckpt, mbn_model_arch(m));
    int K = mbn_model_num_classes(m);
    if (top_k > K)
        rc = mbn_fail(MBN_EUSAGE, "--top-k %d: the model has only %d classes", top_k, K);
    else if (labels_flag)
        rc = load_labels_flag(m, labels_flag);
    else if (!labels_flag && m->labels_note[0])
        mbn_warn("%s; printing class numbers", m->labels_note);
    int *classes = malloc((size_t)n * top_k * sizeof *classes);
    float *probs = malloc((size_t)n * top_k * sizeof *probs);
    int *status = malloc((size_t)n * sizeof *status);
    if (rc == MBN_OK && (!classes || !probs || !status))
        rc = mbn_fail(MBN_EFAIL, "out of host memory");
    if (rc == MBN_OK)
        rc = mbn_model_classify_files(m, images, n, top_k, batch, workers, classes, probs, status);
    int skipped = 0;
    for (int i = 0; rc == MBN_OK && i < n; i++)
        skipped += status[i] != MBN_STATUS_OK;
    /* Printed only when the whole run succeeded: a failure never leaves half a JSON document
     * (or half a table) on stdout. */
    if (rc == MBN_OK && skipped < n)
        print_results(m, c.json, images, n, top_k, classes, probs, status, skipped, stdout);
    if (rc == MBN_OK && skipped)
        mbn_warn("%d of %d images could not be read and were skipped", skipped, n);
    if (rc == MBN_OK && skipped == n)
        rc = mbn_fail(MBN_EFAIL, "none of the %d images could be read", n);
    free(classes);
    free(probs);
    free(status);
    mbn_model_close(m);
    return mbn_cli_report(&cli, rc);
}
