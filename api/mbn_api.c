/* The public C API (include/mbn.h) over the network, the preprocessing record and the device
 * registry. Every entry point checks its arguments and reports failures through the
 * per-thread error message (base/error.h), never by printing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/model.h"
#include "base/error.h"
#include "io/data/dataset.h"
#include "io/data/image_decode.h"
#include "io/data/loader.h"
#include "io/formats/labels.h"

_Static_assert(MBN_STATUS_OK == MBN_OK && MBN_STATUS_FAILED == MBN_EFAIL &&
                   MBN_STATUS_BAD_ARGUMENT == MBN_EUSAGE,
               "the public status codes are the internal ones");
_Static_assert(MBN_LOG_WARNING == MBN_LEVEL_WARNING && MBN_LOG_NOTE == MBN_LEVEL_NOTE,
               "the public log levels are the internal ones");

void mbn_set_log_callback(MbnLogCallback callback, void *user_data) {
    mbn_log_set_callback(callback, user_data);
}

static void free_labels(MbnModel *m) {
    if (m->labels) mbn_labels_free(m->labels, m->n_labels);
    m->labels = NULL;
    m->n_labels = 0;
}

static int set_labels(MbnModel *m, const char *path) {
    char **names = NULL;
    int n = 0;
    MBN_TRY(mbn_labels_read(path, &names, &n));
    int K = m->net.arch.num_classes;
    if (n != K) {
        mbn_labels_free(names, n);
        return mbn_fail(MBN_EFAIL, "%s has %d names but the model has %d classes", path, n, K);
    }
    mbn_model_set_labels(m, names, n);
    return MBN_OK;
}

void mbn_model_set_labels(MbnModel *m, char **names, int n) {
    free_labels(m);
    m->labels = names;
    m->n_labels = n;
}

/* labels.txt beside the model file, when there is one. */
static void labels_beside(MbnModel *m, const char *weights_path) {
    char path[4096];
    mbn_labels_path_beside(weights_path, path, sizeof path);
    if (access(path, F_OK) != 0) return;
    if (set_labels(m, path) != MBN_OK)
        snprintf(m->labels_note, sizeof m->labels_note, "%s", mbn_last_error());
}

/* Grows the network to batches of `batch` images: a new net gets the weights of the old one
 * (same architecture, same parameter layout), and only then is the old one released. */
static int ensure_batch(MbnModel *m, int batch) {
    if (batch <= m->net.max_batch) return MBN_OK;
    MbnNet bigger;
    MBN_TRY(mbn_net_create_infer(&bigger, &m->dev, &m->net.arch, batch, m->net.precision));
    float *params = malloc(m->net.param_floats * sizeof *params);
    float *probs = malloc((size_t)batch * m->net.arch.num_classes * sizeof *probs);
    int rc = params && probs ? MBN_OK : mbn_fail(MBN_EFAIL, "out of host memory");
    if (rc == MBN_OK) rc = mbn_net_read_buffer(&m->net, m->net.params, params);
    if (rc == MBN_OK) rc = mbn_net_write_buffer(&bigger, bigger.params, params);
    free(params);
    if (rc) {
        free(probs);
        mbn_net_destroy(&bigger);
        return rc;
    }
    mbn_net_destroy(&m->net);
    m->net = bigger;
    free(m->probs);
    m->probs = probs;
    return MBN_OK;
}

int mbn_model_open_checked(const char *weights_path, const char *device, const MbnModelFlags *flags,
                           int batch, MbnPrecision precision, MbnModel **out) {
    if (!out) return mbn_fail(MBN_EUSAGE, "mbn_model_open: out is NULL");
    *out = NULL;
    if (!weights_path || !*weights_path)
        return mbn_fail(MBN_EUSAGE, "mbn_model_open: no weights path given");
    if (batch < 1) return mbn_fail(MBN_EUSAGE, "batch_size %d: must be at least 1", batch);
    MbnModelFlags none = {0, 0, 0};
    MbnArch arch;
    MbnTensorSet tensors = {0};
    MBN_TRY(mbn_weights_open(weights_path, flags ? flags : &none, &arch, &tensors));
    MbnModel *m = calloc(1, sizeof *m);
    int rc = m ? MBN_OK : mbn_fail(MBN_EFAIL, "out of host memory");
    if (rc == MBN_OK) rc = mbn_registry_acquire(device, &m->dev, &m->entry);
    if (rc == MBN_OK) {
        mbn_registry_run_begin(m->entry);
        rc = mbn_net_create_infer(&m->net, &m->dev, &arch, batch,
                                  mbn_precision_resolve(&m->dev, precision));
        if (rc == MBN_OK) m->net_open = true;
        if (rc == MBN_OK) {
            rc = mbn_net_import(&m->net, &tensors, false, false);
            if (rc) mbn_fail_context(rc, "%s", weights_path);
        }
        rc = mbn_registry_run_end(m->entry, &m->dev, rc);
    }
    mbn_tensors_free(&tensors);
    if (rc == MBN_OK) {
        m->probs = malloc((size_t)batch * arch.num_classes * sizeof *m->probs);
        m->rank = malloc((size_t)arch.num_classes * sizeof *m->rank);
        if (!m->probs || !m->rank) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    }
    if (rc) {
        mbn_model_close(m);
        return rc;
    }
    mbn_preprocess_describe(&arch.preprocess, arch.resolution, m->preprocessing,
                            sizeof m->preprocessing);
    labels_beside(m, weights_path);
    *out = m;
    return MBN_OK;
}

int mbn_model_open(const char *weights_path, const char *device, MbnModel **out) {
    return mbn_model_open_checked(weights_path, device, NULL, 1, MBN_PRECISION_FP32, out);
}

int mbn_model_open_precision(const char *weights_path, const char *device, const char *precision,
                             MbnModel **out) {
    MbnPrecision p;
    if (out) *out = NULL;
    MBN_TRY(mbn_precision_parse("precision", precision, &p));
    return mbn_model_open_checked(weights_path, device, NULL, 1, p, out);
}

const char *mbn_model_precision(const MbnModel *m) {
    return m ? mbn_precision_name(m->net.precision) : "";
}

void mbn_model_close(MbnModel *m) {
    if (!m) return;
    if (m->net_open) {
        mbn_registry_run_begin(m->entry);
        mbn_net_destroy(&m->net);
        mbn_registry_run_end(m->entry, &m->dev, MBN_OK);
    }
    mbn_registry_release(m->entry, &m->dev);
    free_labels(m);
    free(m->probs);
    free(m->rank);
    free(m);
}

const MbnArch *mbn_model_arch(const MbnModel *m) {
    return &m->net.arch;
}

int mbn_model_num_classes(const MbnModel *m) {
    return m ? m->net.arch.num_classes : 0;
}

int mbn_model_resolution(const MbnModel *m) {
    return m ? m->net.arch.resolution : 0;
}

const char *mbn_model_label(const MbnModel *m, int class_index) {
    if (!m || !m->labels || class_index < 0 || class_index >= m->n_labels) return NULL;
    return m->labels[class_index];
}

const char *mbn_model_preprocessing(const MbnModel *m) {
    return m ? m->preprocessing : "";
}

int mbn_model_load_labels(MbnModel *m, const char *labels_path) {
    if (!m || !labels_path)
        return mbn_fail(MBN_EUSAGE, "mbn_model_load_labels: model or path is NULL");
    return set_labels(m, labels_path);
}

static int check_topk(const MbnModel *m, const char *fn, int top_k, const void *classes,
                      const void *probs) {
    if (!m) return mbn_fail(MBN_EUSAGE, "%s: model is NULL", fn);
    if (!classes || !probs) return mbn_fail(MBN_EUSAGE, "%s: classes or probs is NULL", fn);
    int K = m->net.arch.num_classes;
    if (top_k < 1 || top_k > K)
        return mbn_fail(MBN_EUSAGE, "%s: top_k %d is not in 1..%d (the model's classes)", fn, top_k,
                        K);
    return MBN_OK;
}

static int by_prob(const void *a, const void *b) {
    const MbnRanked *x = a, *y = b;
    if (x->p != y->p) return x->p < y->p ? 1 : -1;
    return x->k - y->k;
}

/* The top_k of K probabilities, highest first; ties go to the lower class index (the order
 * `mbn infer` has always printed). */
static void top_k_of(MbnModel *m, const float *p, int top_k, int *classes, float *probs) {
    int K = m->net.arch.num_classes;
    for (int k = 0; k < K; k++)
        m->rank[k] = (MbnRanked){k, p[k]};
    qsort(m->rank, (size_t)K, sizeof *m->rank, by_prob);
    for (int t = 0; t < top_k; t++) {
        classes[t] = m->rank[t].k;
        probs[t] = m->rank[t].p;
    }
}

/* One image: preprocessed straight into the network's input (mapped where the device shares
 * the host's memory: no copy), then classified; the top-k read from the probabilities where
 * they are. The device work is bracketed for the registry; the preprocessing runs outside. */
typedef struct {
    const char *path; /* a file, or: */
    const unsigned char *rgb;
    int width, height, stride;
} ImageSource;

static int classify_one(MbnModel *m, const ImageSource *src, int top_k, int *classes,
                        float *probs) {
    const MbnArch *a = &m->net.arch;
    float *in = NULL;
    mbn_registry_run_begin(m->entry);
    MBN_TRY(mbn_registry_run_end(m->entry, &m->dev, mbn_net_input_map(&m->net, 1, &in)));
    int prep = src->path ? mbn_preprocess_file(&a->preprocess, src->path, a->resolution, in)
                         : mbn_preprocess_rgb(&a->preprocess, src->rgb, src->width, src->height,
                                              (size_t)src->stride, a->resolution, in);
    mbn_registry_run_begin(m->entry);
    int rc = mbn_net_input_done(&m->net, 1); /* released either way */
    if (rc == MBN_OK && prep) rc = prep;
    if (rc == MBN_OK) rc = mbn_net_forward(&m->net, 1, false);
    const float *p = NULL;
    if (rc == MBN_OK) rc = mbn_net_probs_map(&m->net, 1, &p);
    if (rc == MBN_OK) {
        top_k_of(m, p, top_k, classes, probs);
        rc = mbn_net_probs_done(&m->net);
    }
    return mbn_registry_run_end(m->entry, &m->dev, rc);
}

int mbn_model_classify_file(MbnModel *m, const char *image_path, int top_k, int *classes,
                            float *probs) {
    MBN_TRY(check_topk(m, "mbn_model_classify_file", top_k, classes, probs));
    if (!image_path) return mbn_fail(MBN_EUSAGE, "mbn_model_classify_file: image_path is NULL");
    ImageSource src = {image_path, NULL, 0, 0, 0};
    return classify_one(m, &src, top_k, classes, probs);
}

int mbn_model_classify_rgb(MbnModel *m, const unsigned char *rgb, int width, int height,
                           int row_stride_bytes, int top_k, int *classes, float *probs) {
    MBN_TRY(check_topk(m, "mbn_model_classify_rgb", top_k, classes, probs));
    if (!rgb) return mbn_fail(MBN_EUSAGE, "mbn_model_classify_rgb: rgb is NULL");
    if (width < 1 || height < 1 || width > MBN_IMAGE_MAX_SIDE || height > MBN_IMAGE_MAX_SIDE ||
        (long long)width * height > MBN_IMAGE_MAX_PIXELS || row_stride_bytes < 3 * width)
        return mbn_fail(MBN_EUSAGE,
                        "mbn_model_classify_rgb: %dx%d pixels with %d bytes per row (need "
                        "at least 3 x width, at most 16384 px per side and 100 megapixels)",
                        width, height, row_stride_bytes);
    ImageSource src = {NULL, rgb, width, height, row_stride_bytes};
    return classify_one(m, &src, top_k, classes, probs);
}

int mbn_model_classify_files(MbnModel *m, const char *const *image_paths, int n, int top_k,
                             int batch_size, int workers, int *classes, float *probs, int *status) {
    MBN_TRY(check_topk(m, "mbn_model_classify_files", top_k, classes, probs));
    if (n < 0 || (n > 0 && (!image_paths || !status)))
        return mbn_fail(MBN_EUSAGE, "mbn_model_classify_files: bad image list or status");
    if (batch_size < 1 || workers < 0)
        return mbn_fail(MBN_EUSAGE,
                        "mbn_model_classify_files: batch_size %d must be >= 1 and workers %d "
                        ">= 0",
                        batch_size, workers);
    for (int i = 0; i < n; i++)
        if (!image_paths[i])
            return mbn_fail(MBN_EUSAGE, "mbn_model_classify_files: image path %d is NULL", i);
    if (n == 0) return MBN_OK;
    int K = m->net.arch.num_classes;
    for (int i = 0; i < n; i++) {
        status[i] = MBN_EFAIL; /* until its batch comes back */
        for (int t = 0; t < top_k; t++) {
            classes[(size_t)i * top_k + t] = -1;
            probs[(size_t)i * top_k + t] = 0.0f;
        }
    }
    int batch = batch_size < n ? batch_size : n;
    mbn_registry_run_begin(m->entry);
    MBN_TRY(mbn_registry_run_end(m->entry, &m->dev, ensure_batch(m, batch)));
    const MbnArch *a = &m->net.arch;
    MbnDataset *ds = NULL;
    MbnLoader *ld = NULL;
    int rc = mbn_dataset_from_files(image_paths, n, K, &ds);
    if (rc == MBN_OK) {
        MbnLoaderConfig lc = {batch, a->resolution, workers, 1, false, false, 0, 1, 0};
        rc = mbn_loader_create(ds, &lc, &ld);
    }
    if (rc == MBN_OK) {
        mbn_loader_set_preprocess(ld, &a->preprocess);
        rc = mbn_loader_start_epoch(ld, 0, 0);
    }
    while (rc == MBN_OK) {
        MbnBatch b;
        rc = mbn_loader_next(ld, &b);
        if (rc || b.n == 0) break;
        mbn_registry_run_begin(m->entry);
        rc = mbn_net_set_input(&m->net, b.images, b.n);
        if (rc == MBN_OK) rc = mbn_net_forward(&m->net, b.n, false);
        if (rc == MBN_OK) rc = mbn_net_read_probs(&m->net, b.n, m->probs);
        rc = mbn_registry_run_end(m->entry, &m->dev, rc);
        for (int i = 0; rc == MBN_OK && i < b.n; i++) {
            int64_t img = b.indices[i];
            top_k_of(m, m->probs + (size_t)i * K, top_k, classes + img * top_k,
                     probs + img * top_k);
            status[img] = MBN_OK;
        }
    }
    if (ld) mbn_loader_destroy(ld);
    if (ds) mbn_dataset_free(ds);
    return rc;
}
