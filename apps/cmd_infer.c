/* mbn infer: top-k classes with probabilities for each image, batched through the same
 * decoding and eval preprocessing as mbn eval (resize short side to res/0.875, center crop). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "host/device.h"
#include "base/error.h"
#include "io/data/dataset.h"
#include "io/formats/labels.h"
#include "io/util/json_writer.h"
#include "io/data/loader.h"
#include "apps/session.h"

#define MAX_IMAGES 100000

typedef struct {
    int k;
    float p;
} Ranked;

static int by_prob(const void *a, const void *b) {
    const Ranked *x = a, *y = b;
    if (x->p != y->p) return x->p < y->p ? 1 : -1;
    return x->k - y->k;
}

/* Class names for the output. --labels L is the user's explicit choice: a file that cannot be
 * read or does not have one line per class is a usage error naming the flag. Without it,
 * labels.txt beside the checkpoint is used when present and matching; one that does not match
 * gives a warning and class numbers. *names stays NULL when class numbers are printed. */
static int load_labels(const char *flag, const char *ckpt, int K, char ***names, int *n) {
    *names = NULL;
    *n = 0;
    if (flag) {
        if (mbn_labels_read(flag, names, n) != MBN_OK)
            return mbn_fail_context(MBN_EUSAGE, "--labels");
        if (*n == K) return MBN_OK;
        int got = *n;
        mbn_labels_free(*names, *n);
        *names = NULL;
        *n = 0;
        return mbn_fail(MBN_EUSAGE,
                        "--labels %s: %d names, but the model has %d classes (one line "
                        "per class, in class-index order)",
                        flag, got, K);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s", ckpt);
    char *slash = strrchr(path, '/');
    if (slash)
        snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "labels.txt");
    else
        snprintf(path, sizeof path, "labels.txt");
    if (access(path, F_OK) != 0) return MBN_OK; /* no labels: class numbers */
    if (mbn_labels_read(path, names, n) != MBN_OK) {
        mbn_warn("%s; printing class numbers", mbn_last_error());
        return MBN_OK;
    }
    if (*n != K) {
        mbn_warn("%s has %d names but the model has %d classes; printing class numbers", path, *n,
                 K);
        mbn_labels_free(*names, *n);
        *names = NULL;
        *n = 0;
    }
    return MBN_OK;
}

int cmd_infer(int argc, char **argv) {
    MbnCommonFlags c;
    mbn_common_defaults(&c);
    c.alpha = 0;
    c.resolution = 0;
    c.num_classes = 0;
    const char *ckpt = NULL, *labels_flag = NULL;
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
    };
    MbnCli cli = {"infer",
                  "mbn infer --checkpoint F [--labels L] [--top-k 5] [--json] IMAGE...",
                  "Classifies JPEG/PNG images: the top-k classes with probabilities, highest "
                  "first.",
                  flags,
                  (int)(sizeof flags / sizeof flags[0]),
                  images,
                  MAX_IMAGES,
                  0,
                  false};
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return mbn_cli_report(&cli, rc);
    if (!ckpt)
        rc = mbn_fail(MBN_EUSAGE, "--checkpoint is required");
    else if (cli.n_positional == 0)
        rc = mbn_fail(MBN_EUSAGE, "no IMAGE given");
    else if (batch < 1)
        rc = mbn_fail(MBN_EUSAGE, "--batch-size %d: must be at least 1", batch);
    else if (top_k < 1)
        rc = mbn_fail(MBN_EUSAGE, "--top-k %d: must be at least 1", top_k);
    for (int i = 0; rc == MBN_OK && i < cli.n_positional; i++) {
        FILE *f = fopen(images[i], "rb");
        if (!f)
            rc = mbn_fail(MBN_EUSAGE, "%s: cannot open the image", images[i]);
        else
            fclose(f);
    }
    if (rc) return mbn_cli_report(&cli, rc);
    MbnModelFlags mf = {c.alpha, c.resolution, c.num_classes};
    MbnSession ses;
    rc = mbn_session_open(&ses, ckpt, &mf, c.device, batch);
    if (rc) return mbn_cli_report(&cli, rc);
    int K = ses.arch.num_classes;
    if (top_k > K) {
        mbn_session_close(&ses);
        return mbn_cli_report(
            &cli, mbn_fail(MBN_EUSAGE, "--top-k %d: the model has only %d classes", top_k, K));
    }
    int n_names = 0;
    char **names = NULL;
    rc = load_labels(labels_flag, ckpt, K, &names, &n_names);
    if (rc) {
        mbn_session_close(&ses);
        return mbn_cli_report(&cli, rc);
    }
    MbnNet *net = &ses.net;
    MbnDataset *ds = NULL;
    MbnLoader *ld = NULL;
    rc = mbn_dataset_from_files(images, cli.n_positional, K, &ds);
    if (rc == MBN_OK) {
        MbnLoaderConfig lc = {batch, ses.arch.resolution, workers, 1, false, false, 0, 1, 0};
        rc = mbn_loader_create(ds, &lc, &ld);
    }
    float *probs = malloc((size_t)batch * K * sizeof *probs);
    Ranked *rank = malloc((size_t)K * sizeof *rank);
    if (rc == MBN_OK && (!probs || !rank)) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    /* Results are collected in memory and printed only when the whole run succeeded, so a
     * failure never leaves half a JSON document (or half a table) on stdout. */
    char *out_text = NULL;
    size_t out_len = 0;
    FILE *out = open_memstream(&out_text, &out_len);
    if (!out && rc == MBN_OK) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    MbnJson j;
    if (c.json) {
        mbn_json_init(&j, out ? out : stdout);
        mbn_json_begin_object(&j);
        mbn_json_key(&j, "results");
        mbn_json_begin_array(&j);
    }
    if (rc == MBN_OK) rc = mbn_loader_start_epoch(ld, 0, 0);
    while (rc == MBN_OK) {
        MbnBatch b;
        rc = mbn_loader_next(ld, &b);
        if (rc || b.n == 0) break;
        rc = mbn_net_set_input(net, b.images, b.n);
        if (rc == MBN_OK) rc = mbn_net_forward(net, b.n, false);
        if (rc == MBN_OK) rc = mbn_net_read_probs(net, b.n, probs);
        for (int i = 0; rc == MBN_OK && i < b.n; i++) {
            for (int k = 0; k < K; k++)
                rank[k] = (Ranked){k, probs[(size_t)i * K + k]};
            qsort(rank, (size_t)K, sizeof *rank, by_prob);
            const char *path = images[b.indices[i]];
            if (c.json) {
                mbn_json_begin_object(&j);
                mbn_json_key(&j, "image");
                mbn_json_string(&j, path);
                mbn_json_key(&j, "top");
                mbn_json_begin_array(&j);
            } else {
                fprintf(out, "%s\n", path);
            }
            for (int t = 0; t < top_k; t++) {
                char num[16];
                snprintf(num, sizeof num, "%d", rank[t].k);
                const char *label = names ? names[rank[t].k] : num;
                if (c.json) {
                    mbn_json_begin_object(&j);
                    mbn_json_key(&j, "class");
                    mbn_json_int(&j, rank[t].k);
                    mbn_json_key(&j, "label");
                    mbn_json_string(&j, label);
                    mbn_json_key(&j, "prob");
                    mbn_json_double(&j, rank[t].p);
                    mbn_json_end_object(&j);
                } else {
                    fprintf(out, "  %2d. %-24s %8.4f%%  (class %d)\n", t + 1, label,
                            100.0 * rank[t].p, rank[t].k);
                }
            }
            if (c.json) {
                mbn_json_end_array(&j);
                mbn_json_end_object(&j);
            }
        }
    }
    int64_t skipped = ld ? mbn_loader_skipped(ld) : 0;
    if (c.json) {
        mbn_json_end_array(&j);
        mbn_json_key(&j, "skipped");
        mbn_json_int(&j, skipped);
        mbn_json_end_object(&j);
        mbn_json_finish(&j);
    }
    if (out) fclose(out);
    if (rc == MBN_OK && skipped != cli.n_positional && out_text)
        fwrite(out_text, 1, out_len, stdout);
    free(out_text);
    if (rc == MBN_OK && skipped)
        mbn_warn("%lld of %d images could not be read and were skipped", (long long)skipped,
                 cli.n_positional);
    if (rc == MBN_OK && skipped == cli.n_positional)
        rc = mbn_fail(MBN_EFAIL, "none of the %d images could be read", cli.n_positional);
    free(probs);
    free(rank);
    if (ld) mbn_loader_destroy(ld);
    if (ds) mbn_dataset_free(ds);
    if (names) mbn_labels_free(names, n_names);
    mbn_session_close(&ses);
    return mbn_cli_report(&cli, rc);
}
