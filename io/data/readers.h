/* Internal to io/data: one reader per data format (SPEC §3), and small helpers they share
 * (reader_util.c). A new format is one file defining an MbnDataReader plus one row in the table
 * of dataset.c.
 *
 * Every reader answers these questions:
 *   detect: does folder `dir` hold this format? (the table is tried in order, first match wins)
 *   open:   read one split into an already zeroed MbnDataset (root, split and format set by the
 *           caller): class names, labels, count and the samples (pixels in memory, or file
 *           paths); MBN_OK, or MBN_EFAIL naming the file or folder (the caller frees);
 *   sample: sample idx decoded and preprocessed into out [res, res, 3] (normalised floats):
 *           the training augmentation drawn from rng when train, else the eval transform;
 *           MBN_EFAIL naming the file when it is unusable (the loader warns and skips it).
 *           Called from the loader's worker threads: it must only read the dataset.
 *   sample_recorded: the same for evaluation through a model's preprocessing record
 *           (io/data/preprocess.h) in place of the format's own eval transform;
 *   pipeline: the record of the pipeline a model trained on this data is evaluated with
 *           (training writes it into checkpoints; `recorded` is left to the caller). */
#ifndef MBN_IO_DATA_READERS_H
#define MBN_IO_DATA_READERS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "io/data/dataset.h"
#include "io/data/preprocess.h"

typedef struct MbnDataReader {
    const char *name; /* short, for tests and messages: "imagefolder", "idx", "cifar10" */
    bool (*detect)(const char *dir);
    int (*open)(MbnDataset *ds);
    int (*sample)(const MbnDataset *ds, int64_t idx, int res, bool train, MbnRng *rng, float *out);
    int (*sample_recorded)(const MbnDataset *ds, int64_t idx, const MbnPreprocess *p, int res,
                           float *out);
    void (*pipeline)(const MbnDataset *ds, MbnPreprocess *p);
} MbnDataReader;

extern const MbnDataReader mbn_reader_imagefolder; /* imagefolder.c */
extern const MbnDataReader mbn_reader_idx;         /* idx.c */
extern const MbnDataReader mbn_reader_cifar10;     /* cifar.c */

/* sample() for formats held in memory as uint8 HWC pixels (ds->pixels, width, height,
 * channels): small images, placed as the model records (io/data/augment.h), no augmentation. */
int mbn_sample_in_memory(const MbnDataset *ds, int64_t idx, int res, bool train, MbnRng *rng,
                         float *out);
/* sample_recorded() and pipeline() for those formats: grayscale data (channels 1, IDX) trains
 * as gray, colour (CIFAR) as rgb, both padded to 32 with a plain resize. */
int mbn_sample_in_memory_recorded(const MbnDataset *ds, int64_t idx, const MbnPreprocess *p,
                                  int res, float *out);
void mbn_pipeline_in_memory(const MbnDataset *ds, MbnPreprocess *p);

/* snprintf "a/b" into out; MBN_EFAIL when it does not fit. */
int mbn_path_join(char *out, size_t cap, const char *a, const char *b);
bool mbn_is_dir(const char *path);
bool mbn_is_file(const char *path);
/* Copies n C strings into a malloc'ed array (class names); NULL on allocation failure. */
char **mbn_strings_dup(const char *const *src, int n);

#endif
