/* The loader's determinism and sharding: the same seed gives byte-identical batches with 1 and 4
 * workers (photos with random crops, and IDX), including when some files are corrupt; two ranks
 * get disjoint shards that together cover the epoch; skip_batches resumes exactly; epochs
 * reshuffle; a restart mid-epoch is clean. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "base/error.h"
#include "io/data/dataset.h"
#include "io/data/loader.h"
#include "tests/support/data_util.h"
#include "tests/support/testutil.h"

#define RES 24

typedef struct {
    int nb;
    int *n;
    float *images; /* nb x bs x RES x RES x 3 */
    int64_t *indices;
    int32_t *labels;
} Epoch;

static void epoch_free(Epoch *e) {
    free(e->n);
    free(e->images);
    free(e->indices);
    free(e->labels);
    memset(e, 0, sizeof *e);
}

/* Runs one epoch (optionally after skipping batches) and keeps copies of all batches. */
static void run_epoch(const MbnDataset *ds, MbnLoaderConfig cfg, int epoch, int64_t skip,
                      Epoch *out) {
    memset(out, 0, sizeof *out);
    MbnLoader *ld = NULL;
    T_CHECK(mbn_loader_create(ds, &cfg, &ld) == MBN_OK, "create: %s", mbn_last_error());
    if (!ld) return;
    int64_t nb = mbn_loader_batches_per_epoch(ld);
    size_t per = (size_t)cfg.batch_size * RES * RES * 3;
    out->n = calloc((size_t)nb, sizeof(int));
    out->images = calloc((size_t)nb * per, sizeof(float));
    out->indices = calloc((size_t)nb * cfg.batch_size, sizeof(int64_t));
    out->labels = calloc((size_t)nb * cfg.batch_size, sizeof(int32_t));
    T_CHECK(mbn_loader_start_epoch(ld, epoch, skip) == MBN_OK, "start");
    MbnBatch b;
    int rc;
    while ((rc = mbn_loader_next(ld, &b)) == MBN_OK && b.n > 0 && out->nb < nb) {
        int i = out->nb++;
        out->n[i] = b.n;
        memcpy(out->images + (size_t)i * per, b.images, sizeof(float) * RES * RES * 3 * b.n);
        memcpy(out->indices + (size_t)i * cfg.batch_size, b.indices, sizeof(int64_t) * b.n);
        memcpy(out->labels + (size_t)i * cfg.batch_size, b.labels, sizeof(int32_t) * b.n);
    }
    T_CHECK(rc == MBN_OK, "next: %s", mbn_last_error());
    T_CHECK(mbn_loader_wait_seconds(ld) >= 0, "wait seconds");
    mbn_loader_destroy(ld);
}

static bool epochs_equal(const Epoch *a, const Epoch *b, int bs) {
    if (a->nb != b->nb) return false;
    for (int i = 0; i < a->nb; i++) {
        if (a->n[i] != b->n[i]) return false;
        size_t per = (size_t)bs * RES * RES * 3;
        if (memcmp(a->images + i * per, b->images + i * per,
                   sizeof(float) * RES * RES * 3 * a->n[i]) ||
            memcmp(a->indices + (size_t)i * bs, b->indices + (size_t)i * bs,
                   sizeof(int64_t) * a->n[i]) ||
            memcmp(a->labels + (size_t)i * bs, b->labels + (size_t)i * bs,
                   sizeof(int32_t) * a->n[i]))
            return false;
    }
    return true;
}

/* 3 classes x 11 JPEGs of different sizes and content, plus 3 corrupt files. */
static void build_folder(const char *root) {
    for (int c = 0; c < 3; c++) {
        const char *dir = t_path("%s/train/class%d", root, c);
        T_CHECK(t_mkdirs(dir) == 0, "mkdir");
        char d[256];
        snprintf(d, sizeof d, "%s", dir);
        for (int i = 0; i < 11; i++) {
            int w = 40 + 7 * i, h = 30 + 5 * ((i + c) % 4);
            uint8_t *px = malloc((size_t)w * h * 3);
            tu_pattern(px, w, h, (unsigned)(c * 11 + i));
            size_t n = 0;
            uint8_t *j = tu_jpeg(px, w, h, TJPF_RGB, TJSAMP_420, 85, &n);
            T_CHECK(j && t_write_file(t_path("%s/img%02d.JPEG", d, i), j, n) == 0, "jpeg");
            free(j);
            free(px);
        }
        T_CHECK(t_write_file(t_path("%s/zz_bad.JPEG", d), "\xff\xd8\xff\xe0 junk", 9) == 0, "bad");
    }
}

static void check_determinism(const MbnDataset *ds, bool train, int bs) {
    MbnLoaderConfig cfg = {.batch_size = bs,
                           .resolution = RES,
                           .workers = 1,
                           .seed = 7,
                           .train = train,
                           .drop_last = train,
                           .rank = 0,
                           .world = 1,
                           .prefetch = 0};
    Epoch one, four, again;
    run_epoch(ds, cfg, 3, 0, &one);
    cfg.workers = 4; /* capped at the core count: still at least 2 threads on CI machines */
    cfg.prefetch = 2;
    run_epoch(ds, cfg, 3, 0, &four);
    T_CHECK(one.nb > 0 && epochs_equal(&one, &four, bs),
            "%s: 1 and 4 workers give different batches", ds->root);
    /* skip_batches resumes exactly where the full epoch would be. */
    run_epoch(ds, cfg, 3, 2, &again);
    bool same = again.nb == one.nb - 2;
    size_t per = (size_t)bs * RES * RES * 3;
    for (int i = 0; same && i < again.nb; i++)
        same = again.n[i] == one.n[i + 2] &&
               !memcmp(again.images + i * per, one.images + (i + 2) * per,
                       sizeof(float) * RES * RES * 3 * again.n[i]);
    T_CHECK(same, "skip_batches=2 is not the tail of the full epoch (%d vs %d batches)", again.nb,
            one.nb);
    epoch_free(&again);
    if (train) { /* another epoch is another shuffle and other crops */
        run_epoch(ds, cfg, 4, 0, &again);
        T_CHECK(!epochs_equal(&one, &again, bs), "epoch 4 equals epoch 3");
        epoch_free(&again);
    }
    epoch_free(&one);
    epoch_free(&four);
}

static void check_shards(const MbnDataset *ds, int64_t usable) {
    MbnLoaderConfig cfg = {.batch_size = 10,
                           .resolution = RES,
                           .workers = 2,
                           .seed = 3,
                           .train = true,
                           .drop_last = false,
                           .rank = 0,
                           .world = 2};
    Epoch r0, r1;
    run_epoch(ds, cfg, 1, 0, &r0);
    cfg.rank = 1;
    run_epoch(ds, cfg, 1, 0, &r1);
    char *seen = calloc((size_t)ds->count, 1);
    int64_t total = 0;
    bool ok = true;
    Epoch *rs[2] = {&r0, &r1};
    for (int r = 0; r < 2; r++)
        for (int b = 0; b < rs[r]->nb; b++)
            for (int i = 0; i < rs[r]->n[b]; i++) {
                int64_t idx = rs[r]->indices[b * 10 + i];
                if (idx < 0 || idx >= ds->count || seen[idx])
                    ok = false;
                else
                    seen[idx] = 1, total++;
            }
    T_CHECK(ok, "shards overlap or hold invalid indices");
    T_CHECK(total == usable, "shards cover %lld of %lld usable samples", (long long)total,
            (long long)usable);
    T_CHECK(r0.nb == r1.nb, "ranks see %d and %d batches", r0.nb, r1.nb);
    free(seen);
    epoch_free(&r0);
    epoch_free(&r1);
}

/* Restarting an epoch while batches are in flight, and destroying mid-epoch, must be clean. */
static void check_restart(const MbnDataset *ds) {
    MbnLoaderConfig cfg = {.batch_size = 4,
                           .resolution = RES,
                           .workers = 4,
                           .seed = 5,
                           .train = true,
                           .drop_last = true,
                           .rank = 0,
                           .world = 1};
    MbnLoader *ld = NULL;
    T_CHECK(mbn_loader_create(ds, &cfg, &ld) == MBN_OK, "create");
    if (!ld) return;
    MbnBatch b;
    for (int e = 0; e < 3; e++) {
        T_CHECK(mbn_loader_start_epoch(ld, e, 0) == MBN_OK, "start");
        T_CHECK(mbn_loader_next(ld, &b) == MBN_OK && b.n == 4, "first batch");
    }
    mbn_loader_destroy(ld);
    MbnLoaderConfig bad = cfg;
    bad.rank = 2;
    bad.world = 2;
    T_CHECK(mbn_loader_create(ds, &bad, &ld) == MBN_EUSAGE, "rank 2 of 2 refused");
    bad = cfg;
    bad.batch_size = 0;
    T_CHECK(mbn_loader_create(ds, &bad, &ld) == MBN_EUSAGE, "batch 0 refused");
}

int main(void) {
    char root[64];
    t_tempdir(root, sizeof root);
    build_folder(root);
    MbnDataset *ds = NULL;
    T_CHECK(mbn_dataset_open(root, MBN_SPLIT_TRAIN, &ds) == MBN_OK, "open: %s", mbn_last_error());
    if (ds) {
        T_CHECK(ds->count == 36, "count %lld", (long long)ds->count);
        check_determinism(ds, true, 5);
        check_determinism(ds, false, 5);
        check_shards(ds, ds->count - 3); /* the 3 zz_bad files are skipped */
        check_restart(ds);
        mbn_dataset_free(ds);
    }
    t_rmtree(root);
    if (mbn_dataset_open("/usr/share/datasets/fashion-mnist", MBN_SPLIT_VAL, &ds) == MBN_OK) {
        check_determinism(ds, true, 256);
        check_shards(ds, ds->count);
        mbn_dataset_free(ds);
    }
    return t_summary("test_data_loader");
}
