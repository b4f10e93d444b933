/* The public C API (include/mbn.h) as a program built against the installed library sees it
 * (tests/cli_library.sh compiles this with pkg-config and runs it):
 *
 *   lib_api_check MODEL IMAGE.png IMAGE.rgb WIDTH HEIGHT CORRUPT_FILE
 *
 * MODEL has labels.txt beside it and 10 classes; IMAGE.rgb holds the PNG's pixels as raw 8-bit
 * RGB. Checks: argument errors return MBN_STATUS_BAD_ARGUMENT with a message; failures name the
 * file; results are sorted and sum to 1; classify_rgb (with and without row padding) gives the
 * same bits as classify_file on the same pixels; classify_files marks an unreadable file and
 * classifies the rest the same; two models on one device used from two threads at once give
 * the single-thread bits; labels load and are refused when the count is wrong; warnings and
 * notes reach the log callback (the first-run note once when MBN_EXPECT_FIRST_RUN=1, the
 * unreadable file's warning) and nothing of them stderr (the script checks stderr).
 * It keeps its own CHECK rather than tests/support/testutil: that harness needs mbn's internal
 * symbols (base/rng, base/error), which libmbn.so does not export. */
#include <mbn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                            \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

#define K 10

typedef struct {
    MbnModel *model;
    const unsigned char *rgb;
    int w, h, rounds;
    int classes[K];
    float probs[K];
    int ok;
} Job;

static void *worker(void *arg) {
    Job *j = arg;
    int classes[K];
    float probs[K];
    j->ok = 1;
    for (int r = 0; r < j->rounds; r++) {
        /* Poisoned before each call: a stale result cannot pass. */
        memset(classes, 0xff, sizeof classes);
        memset(probs, 0xff, sizeof probs);
        if (mbn_model_classify_rgb(j->model, j->rgb, j->w, j->h, 3 * j->w, K, classes, probs) !=
                MBN_STATUS_OK ||
            memcmp(classes, j->classes, sizeof classes) || memcmp(probs, j->probs, sizeof probs))
            j->ok = 0;
    }
    return NULL;
}

/* What the log callback received (from any thread). */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int notes, first_run_notes, warnings, corrupt_warnings;
static const char *corrupt_name;

static void on_log(int level, const char *message, void *user) {
    pthread_mutex_lock(&log_lock);
    *(int *)user += 1;
    if (level == MBN_LOG_NOTE) {
        notes++;
        first_run_notes += strstr(message, "compiling kernels for ") == message &&
                           strstr(message, " (first run only)") != NULL;
    } else if (level == MBN_LOG_WARNING) {
        warnings++;
        corrupt_warnings += corrupt_name && strstr(message, corrupt_name) != NULL;
    }
    pthread_mutex_unlock(&log_lock);
}

static unsigned char *read_all(const char *path, long *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)*n);
    if (b && fread(b, 1, (size_t)*n, f) != (size_t)*n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: lib_api_check MODEL IMAGE.png IMAGE.rgb W H CORRUPT\n");
        return 2;
    }
    const char *model_path = argv[1], *png = argv[2], *corrupt = argv[6];
    int w = atoi(argv[4]), h = atoi(argv[5]);
    long n_rgb = 0;
    unsigned char *rgb = read_all(argv[3], &n_rgb);
    if (!rgb || n_rgb != 3L * w * h) {
        fprintf(stderr, "lib_api_check: %s is not %dx%d RGB\n", argv[3], w, h);
        return 2;
    }
    char version[32];
    snprintf(version, sizeof version, "%d.%d.%d", MBN_VERSION_MAJOR, MBN_VERSION_MINOR,
             MBN_VERSION_PATCH);
    CHECK(strcmp(mbn_version(), version) == 0, "mbn_version %s, header %s", mbn_version(), version);
    static int calls;
    corrupt_name = corrupt;
    mbn_set_log_callback(on_log, &calls);

    MbnModel *m = (MbnModel *)1;
    CHECK(mbn_model_open(NULL, NULL, &m) == MBN_STATUS_BAD_ARGUMENT && m == NULL,
          "NULL path: bad argument, *out cleared");
    CHECK(strlen(mbn_last_error()) > 0, "a message for the NULL path");
    CHECK(mbn_model_open(model_path, NULL, NULL) == MBN_STATUS_BAD_ARGUMENT, "NULL out");
    CHECK(mbn_model_open("/nonexistent/m.ckpt", NULL, &m) != MBN_STATUS_OK && m == NULL,
          "missing file refused");
    CHECK(strstr(mbn_last_error(), "/nonexistent/m.ckpt") != NULL, "message names the file: %s",
          mbn_last_error());
    CHECK(mbn_model_open(corrupt, NULL, &m) != MBN_STATUS_OK && m == NULL, "corrupt model");
    CHECK(mbn_model_open(model_path, "no-such-device-name", &m) == MBN_STATUS_BAD_ARGUMENT,
          "unknown device: %s", mbn_last_error());
    CHECK(strstr(mbn_last_error(), "no-such-device-name") != NULL, "names the device: %s",
          mbn_last_error());
    mbn_model_close(NULL);

    MbnModel *a = NULL, *b = NULL;
    if (mbn_model_open(model_path, NULL, &a) != MBN_STATUS_OK ||
        mbn_model_open(model_path, NULL, &b) != MBN_STATUS_OK) {
        printf("FAIL: cannot open %s: %s\n", model_path, mbn_last_error());
        return 1;
    }
    const char *expect = getenv("MBN_EXPECT_FIRST_RUN");
    CHECK(first_run_notes == (expect && strcmp(expect, "1") == 0), "%d first-run notes",
          first_run_notes);
    CHECK(mbn_model_num_classes(a) == K, "classes %d", mbn_model_num_classes(a));
    CHECK(mbn_model_resolution(a) == 32, "resolution %d", mbn_model_resolution(a));
    CHECK(mbn_model_label(a, 0) && strcmp(mbn_model_label(a, 0), "T-shirt/top") == 0,
          "label 0 from labels.txt: %s", mbn_model_label(a, 0) ? mbn_model_label(a, 0) : "NULL");
    CHECK(mbn_model_label(a, -1) == NULL && mbn_model_label(a, K) == NULL, "labels out of range");
    CHECK(strstr(mbn_model_preprocessing(a), "pad") != NULL &&
              strstr(mbn_model_preprocessing(a), "no record") == NULL,
          "preprocessing: %s", mbn_model_preprocessing(a));

    int classes[K];
    float probs[K];
    CHECK(mbn_model_classify_file(a, png, 0, classes, probs) == MBN_STATUS_BAD_ARGUMENT, "top 0");
    CHECK(mbn_model_classify_file(a, png, K + 1, classes, probs) == MBN_STATUS_BAD_ARGUMENT,
          "top K+1");
    CHECK(strstr(mbn_last_error(), "top_k") != NULL, "names top_k: %s", mbn_last_error());
    CHECK(mbn_model_classify_file(a, png, 3, NULL, probs) == MBN_STATUS_BAD_ARGUMENT, "NULL out");
    CHECK(mbn_model_classify_file(NULL, png, 3, classes, probs) == MBN_STATUS_BAD_ARGUMENT,
          "NULL model");
    CHECK(mbn_model_classify_rgb(a, rgb, w, h, 3 * w - 1, 3, classes, probs) ==
              MBN_STATUS_BAD_ARGUMENT,
          "stride below 3 x width");
    CHECK(mbn_model_classify_file(a, corrupt, 3, classes, probs) == MBN_STATUS_FAILED &&
              strstr(mbn_last_error(), corrupt) != NULL,
          "corrupt image named: %s", mbn_last_error());

    memset(probs, 0xff, sizeof probs);
    CHECK(mbn_model_classify_file(a, png, K, classes, probs) == MBN_STATUS_OK, "%s",
          mbn_last_error());
    double sum = 0;
    for (int k = 0; k < K; k++) {
        sum += probs[k];
        CHECK(k == 0 || probs[k] <= probs[k - 1], "sorted at %d", k);
        for (int j = 0; j < k; j++)
            CHECK(classes[j] != classes[k], "class %d twice", classes[k]);
    }
    CHECK(sum > 0.9999 && sum < 1.0001, "all %d probabilities sum to %g", K, sum);
    printf("file: class %d (%s) %.4f\n", classes[0], mbn_model_label(a, classes[0]), probs[0]);

    /* The same pixels in memory, tightly packed and with padded rows: the same bits. */
    int c2[K];
    float p2[K];
    memset(p2, 0xff, sizeof p2);
    CHECK(mbn_model_classify_rgb(a, rgb, w, h, 3 * w, K, c2, p2) == MBN_STATUS_OK, "%s",
          mbn_last_error());
    CHECK(!memcmp(c2, classes, sizeof c2) && !memcmp(p2, probs, sizeof p2),
          "classify_rgb = classify_file");
    int stride = 3 * w + 7;
    unsigned char *padded = calloc((size_t)stride * h, 1);
    for (int y = 0; y < h; y++)
        memcpy(padded + (size_t)y * stride, rgb + (size_t)y * 3 * w, (size_t)3 * w);
    memset(p2, 0xff, sizeof p2);
    CHECK(mbn_model_classify_rgb(b, padded, w, h, stride, K, c2, p2) == MBN_STATUS_OK, "%s",
          mbn_last_error());
    CHECK(!memcmp(c2, classes, sizeof c2) && !memcmp(p2, probs, sizeof p2),
          "padded rows, second model: same bits");

    /* Many files: the unreadable one is marked, the others classified as one by one. */
    const char *files[3] = {png, corrupt, png};
    int fc[3 * 2], st[3];
    float fp[3 * 2];
    CHECK(mbn_model_classify_files(a, files, 3, 2, 2, 2, fc, fp, st) == MBN_STATUS_OK, "%s",
          mbn_last_error());
    CHECK(st[0] == 0 && st[1] != 0 && st[2] == 0, "status %d %d %d", st[0], st[1], st[2]);
    CHECK(corrupt_warnings == 1, "%d warnings naming %s through the callback", corrupt_warnings,
          corrupt);
    CHECK(fc[2] == -1 && fc[3] == -1 && fp[2] == 0.0f, "failed image: classes -1, probs 0");
    CHECK(fc[0] == classes[0] && fc[1] == classes[1] && fp[0] == probs[0] && fc[4] == classes[0] &&
              fp[5] == probs[1],
          "batched = single");
    /* The network grew to batch 2; single-image calls still give the same bits. */
    memset(p2, 0xff, sizeof p2);
    CHECK(mbn_model_classify_file(a, png, K, c2, p2) == MBN_STATUS_OK &&
              !memcmp(p2, probs, sizeof p2),
          "after classify_files");

    /* Two models on one device, two threads at once. */
    Job jobs[2] = {{a, rgb, w, h, 20, {0}, {0}, 0}, {b, rgb, w, h, 20, {0}, {0}, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        memcpy(jobs[i].classes, classes, sizeof classes);
        memcpy(jobs[i].probs, probs, sizeof probs);
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK(jobs[0].ok && jobs[1].ok, "concurrent classification gives the single-thread bits");

    /* Labels: a file with the wrong count is refused and the old names stay. */
    char labels_path[4096];
    snprintf(labels_path, sizeof labels_path, "%s.labels", corrupt);
    FILE *f = fopen(labels_path, "w");
    fprintf(f, "a\nb\n");
    fclose(f);
    CHECK(mbn_model_load_labels(a, labels_path) == MBN_STATUS_FAILED, "2 names for 10 classes");
    CHECK(strstr(mbn_last_error(), labels_path) != NULL, "names the file: %s", mbn_last_error());
    CHECK(strcmp(mbn_model_label(a, 0), "T-shirt/top") == 0, "old names kept");
    remove(labels_path);

    /* fp16 (weights and activations stored as half): the same file, probabilities within 1e-2
     * of fp32's; "auto" is fp16 or fp32; other precisions refused naming the parameter. */
    MbnModel *m16 = NULL;
    CHECK(mbn_model_open_precision(model_path, NULL, "fp8", &m16) == MBN_STATUS_BAD_ARGUMENT &&
              m16 == NULL && strstr(mbn_last_error(), "precision fp8") != NULL,
          "precision fp8 refused: %s", mbn_last_error());
    CHECK(mbn_model_open_precision(model_path, NULL, "auto", &m16) == MBN_STATUS_OK &&
              (!strcmp(mbn_model_precision(m16), "fp32") ||
               !strcmp(mbn_model_precision(m16), "fp16")),
          "auto: %s", m16 ? mbn_model_precision(m16) : mbn_last_error());
    mbn_model_close(m16);
    m16 = NULL;
    CHECK(mbn_model_open_precision(model_path, NULL, "fp16", &m16) == MBN_STATUS_OK &&
              !strcmp(mbn_model_precision(m16), "fp16") && !strcmp(mbn_model_precision(a), "fp32"),
          "fp16 model: %s", m16 ? mbn_model_precision(m16) : mbn_last_error());
    if (m16) {
        int ch[K];
        float ph[K], p32[K];
        memset(p32, 0, sizeof p32);
        for (int k = 0; k < K; k++)
            p32[classes[k]] = probs[k];
        CHECK(mbn_model_classify_rgb(m16, rgb, w, h, 3 * w, K, ch, ph) == MBN_STATUS_OK, "%s",
              mbn_last_error());
        double worst = 0;
        for (int k = 0; k < K; k++) {
            double d = ph[k] - p32[ch[k]];
            if (d < 0) d = -d;
            if (d > worst) worst = d;
        }
        CHECK(worst <= 1e-2, "fp16 probabilities within %g of fp32's", worst);
        printf("fp16: class %d %.4f (fp32 %.4f), largest difference %.2g\n", ch[0], ph[0],
               p32[ch[0]], worst);
        mbn_model_close(m16);
    }

    mbn_model_close(a);
    mbn_model_close(b);
    CHECK(first_run_notes <= 1 && calls == notes + warnings, "notes %d (first run %d), warnings %d",
          notes, first_run_notes, warnings);
    mbn_set_log_callback(NULL, NULL);
    free(rgb);
    free(padded);
    printf("%s: %d failures\n", failures ? "FAIL" : "ok  ", failures);
    return failures ? 1 : 0;
}
