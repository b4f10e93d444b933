/* Dataset detection and lifetime; the formats themselves live in one file each (readers.h). */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/data/readers.h"

/* Every format mbn reads, tried in this order by mbn_dataset_open (class folders first: a
 * folder with train/ or val/ is an ImageNet layout whatever else lies beside it). */
static const MbnDataReader *const READERS[] = {
    &mbn_reader_imagefolder,
    &mbn_reader_idx,
    &mbn_reader_cifar10,
};

int mbn_dataset_sample(const MbnDataset *ds, int64_t idx, int res, bool train, MbnRng *rng,
                       float *out) {
    return ds->format->sample(ds, idx, res, train, rng, out);
}

int mbn_dataset_sample_recorded(const MbnDataset *ds, int64_t idx, const MbnPreprocess *p, int res,
                                float *out) {
    return ds->format->sample_recorded(ds, idx, p, res, out);
}

static int detect_and_read(MbnDataset *ds) {
    for (size_t i = 0; i < sizeof READERS / sizeof READERS[0]; i++)
        if (READERS[i]->detect(ds->root)) {
            ds->format = READERS[i];
            return READERS[i]->open(ds);
        }
    return mbn_fail(MBN_EFAIL,
                    "%s: no dataset found (expected train/ and val/ class folders, MNIST-format "
                    "IDX files or CIFAR-10 binary batches)",
                    ds->root);
}

int mbn_dataset_open(const char *dir, MbnSplit split, MbnDataset **out) {
    *out = NULL;
    if (!mbn_is_dir(dir)) return mbn_fail(MBN_EUSAGE, "%s: no such directory", dir);
    MbnDataset *ds = calloc(1, sizeof *ds);
    if (!ds) return mbn_fail(MBN_EFAIL, "out of host memory opening %s", dir);
    if (strlen(dir) >= sizeof ds->root) {
        free(ds);
        return mbn_fail(MBN_EUSAGE, "%s: path too long", dir);
    }
    strcpy(ds->root, dir);
    /* A trailing slash would double up in the paths we build and in messages. */
    size_t n = strlen(ds->root);
    while (n > 1 && ds->root[n - 1] == '/')
        ds->root[--n] = 0;
    ds->split = split;
    int rc = detect_and_read(ds);
    if (rc != MBN_OK) {
        mbn_dataset_free(ds);
        return rc;
    }
    if (ds->count <= 0) {
        mbn_dataset_free(ds);
        return mbn_fail(MBN_EFAIL, "%s: no samples in the %s split", dir,
                        split == MBN_SPLIT_TRAIN ? "train" : "val");
    }
    *out = ds;
    return MBN_OK;
}

void mbn_dataset_free(MbnDataset *ds) {
    if (!ds) return;
    if (ds->class_names)
        for (int i = 0; i < ds->num_classes; i++)
            free(ds->class_names[i]);
    free(ds->class_names);
    if (ds->paths)
        for (int64_t i = 0; i < ds->count; i++)
            free(ds->paths[i]);
    free(ds->paths);
    free(ds->labels);
    free(ds->pixels);
    free(ds);
}

int mbn_dataset_from_files(const char *const *paths, int n, int num_classes, MbnDataset **out) {
    *out = NULL;
    MbnDataset *ds = calloc(1, sizeof *ds);
    if (!ds) return mbn_fail(MBN_EFAIL, "out of host memory");
    ds->format = &mbn_reader_imagefolder; /* samples are image files */
    ds->split = MBN_SPLIT_VAL;
    ds->count = n;
    ds->num_classes = 0; /* no class names: the model's labels file names the classes */
    ds->labels = calloc((size_t)n, sizeof *ds->labels);
    ds->paths = (char **)mbn_strings_dup(paths, n);
    (void)num_classes;
    if (!ds->labels || !ds->paths) {
        mbn_dataset_free(ds);
        return mbn_fail(MBN_EFAIL, "out of host memory");
    }
    *out = ds;
    return MBN_OK;
}
