/* mbn infer: top-k classes with probabilities for each image, through the library's own API
 * (include/mbn.h): the model's preprocessing record is applied to every image, images are
 * decoded on worker threads and classified in batches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/json_out.h"
#include "apps/model_file.h"
#include "base/error.h"
#include "io/formats/labels.h"

#define MAX_IMAGES 100000

static int print_results(const MbnModel *m, bool json, const char *const *images, int n, int top_k,
                         const int *classes, const float *probs, const int *status, int skipped) {
    json_t *results = json ? json_array() : NULL;
    if (json && !results) return mbn_json_print(NULL);
    for (int i = 0; i < n; i++) {
        if (status[i] != MBN_STATUS_OK) continue;
        json_t *top = json ? json_array() : NULL;
        if (!json) printf("%s\n", images[i]);
        for (int t = 0; t < top_k; t++) {
            int k = classes[(size_t)i * top_k + t];
            float p = probs[(size_t)i * top_k + t];
            char num[16];
            snprintf(num, sizeof num, "%d", k);
            const char *label = mbn_model_label(m, k) ? mbn_model_label(m, k) : num;
            if (json)
                json_array_append_new(top, json_pack("{s:i, s:s, s:o}", "class", k, "label", label,
                                                     "prob", mbn_json_number(p)));
            else
                printf("  %2d. %-24s %8.4f%%  (class %d)\n", t + 1, label, 100.0 * p, k);
        }
        if (json && json_array_append_new(
                        results, json_pack("{s:s, s:o}", "image", images[i], "top", top)) != 0) {
            json_decref(results);
            return mbn_json_print(NULL);
        }
    }
    if (!json) return MBN_OK;
    return mbn_json_print(json_pack("{s:o, s:i}", "results", results, "skipped", skipped));
}

/* Every IMAGE must be a file that exists (not a folder): all of them are checked before the
 * model is opened, and one usage error names those that are not. */
static int check_images(const char *const *images, int n) {
    char list[1024] = "";
    size_t used = 0;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        if (mbn_cli_input_file("IMAGE", images[i]) == MBN_OK) continue;
        if (bad++ < 8) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", used ? "; " : "",
                             mbn_last_error() + strlen("IMAGE "));
            used = w > 0 && (size_t)w < sizeof list - used ? used + (size_t)w : sizeof list - 1;
        }
    }
    if (!bad) return MBN_OK;
    return mbn_fail(MBN_EUSAGE, "%d of %d IMAGE paths %s not files: %s%s", bad, n,
                    bad == 1 ? "is" : "are", list, bad > 8 ? "; ..." : "");
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
    mbn_common_from_file(&c);
    const char *ckpt = NULL, *labels_flag = NULL, *precision = NULL;
    int top_k = 5, batch = 32, workers = 8;
    static const char *images[MAX_IMAGES];
    const MbnFlag flags[] = {
        {"checkpoint", FLAG_STRING, &ckpt, "mbn checkpoint (.ckpt) or safetensors weights", "F",
         NULL},
        {"labels", FLAG_STRING, &labels_flag, "class names, one per line", "L",
         "labels.txt beside the checkpoint"},
        {"top-k", FLAG_INT, &top_k, "classes to print per image", "K", NULL},
        MBN_FLAG_DEVICE(&c),
        {"batch-size", FLAG_INT, &batch, "images per batch", "B", NULL},
        {"workers", FLAG_INT, &workers, "decoding threads, at most the cores", "N", NULL},
        MBN_FLAGS_MODEL_CHECKS(&c),
        MBN_FLAG_PRECISION(&precision),
        MBN_FLAG_JSON(&c),
    };
    MbnCli cli =
        MBN_CLI("infer",
                "mbn infer --checkpoint F [--labels L] [--top-k K] [--precision P] [--json] "
                "IMAGE...",
                "Classifies JPEG/PNG images with the preprocessing the model was trained "
                "for (its record; ImageNet defaults for files without one): the top-k "
                "classes with probabilities, highest first. Every IMAGE must exist; one "
                "that cannot be decoded is skipped with a warning, and the command then "
                "exits with status 1 after printing the others.",
                flags, images, MAX_IMAGES);
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
    if (rc == MBN_OK) rc = mbn_cli_input_file("--checkpoint", ckpt);
    if (rc == MBN_OK && labels_flag) rc = mbn_cli_input_file("--labels", labels_flag);
    if (rc == MBN_OK) rc = check_images(images, cli.n_positional);
    if (rc) return mbn_cli_report(&cli, rc);
    int n = cli.n_positional;
    MbnModelFlags mf = {c.alpha, c.resolution, c.num_classes};
    MbnModel *m = NULL;
    rc = mbn_model_open_checked(ckpt, c.device, &mf, batch < n ? batch : n, prec, &m);
    if (rc) return mbn_cli_report(&cli, rc);
    mbn_model_file_note(ckpt, mbn_model_arch(m));
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
    /* Printed only when the run itself succeeded: a failure never leaves half a JSON document
     * (or half a table) on stdout. Skipped images (each named in a warning) fail the command
     * after the others are printed. */
    if (rc == MBN_OK && skipped < n)
        rc = print_results(m, c.json, images, n, top_k, classes, probs, status, skipped);
    if (rc == MBN_OK && skipped == n)
        rc = mbn_fail(MBN_EFAIL, "%s could not be read",
                      n == 1 ? "the image" : "none of the images");
    else if (rc == MBN_OK && skipped)
        rc = mbn_fail(MBN_EFAIL, "%d of %d images could not be read and %s skipped", skipped, n,
                      skipped == 1 ? "was" : "were");
    free(classes);
    free(probs);
    free(status);
    mbn_model_close(m);
    return mbn_cli_report(&cli, rc);
}
