/* Datasets (SPEC §3). `mbn_dataset_open` detects the layout of --data DIR:
 *   - ImageNet folders: DIR/train/<class>/<image>.{JPEG,jpg,jpeg,png}, DIR/val/<class>/<image>;
 *     classes are the sorted folder names of train/ (torchvision ImageFolder / MindSpore); val/
 *     folders map to them by name (an unknown one is an error); an empty class folder is kept
 *     (its index stays) with a warning; a folder with only val/ takes its classes from val/;
 *   - MNIST-format IDX: DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz];
 *   - CIFAR-10 binary: DIR/data_batch_{1..5}.bin, DIR/test_batch.bin (or a
 *     cifar-10-batches-bin/ subfolder), class names from batches.meta.txt.
 *   - class names: Fashion-MNIST's when the path contains "fashion", else the digits "0".."9";
 *     CIFAR: batches.meta.txt when present, else the standard ten.
 * IDX and CIFAR images are held in memory as uint8; ImageNet samples are file paths decoded on
 * demand by the loader (a corrupt file is only found, and skipped, there). */
#ifndef MBN_IO_DATA_DATASET_H
#define MBN_IO_DATA_DATASET_H
#include <stdbool.h>
#include <stdint.h>

#include "base/rng.h"
#include "io/data/preprocess.h"

typedef enum { MBN_SPLIT_TRAIN, MBN_SPLIT_VAL } MbnSplit;

typedef struct MbnDataset {
    const struct MbnDataReader *format; /* the reader that opened it (io/data/readers.h) */
    MbnSplit split;
    char root[1024];
    int num_classes;
    char **class_names; /* num_classes entries */
    int64_t count;      /* samples */
    int32_t *labels;    /* count entries */
    /* In-memory kinds (IDX, CIFAR): count images of height x width x channels uint8, HWC. */
    uint8_t *pixels;
    int height, width, channels;
    /* ImageFolder: count file paths. */
    char **paths;
} MbnDataset;

/* MBN_EUSAGE when DIR does not exist or is not a directory; MBN_EFAIL naming the folder when
 * it holds no recognisable data, no classes, no samples, or (for split VAL) no val split. */
int mbn_dataset_open(const char *dir, MbnSplit split, MbnDataset **out);
void mbn_dataset_free(MbnDataset *ds);
/* A list of image files as an (unlabelled) dataset, for mbn infer: decoded and preprocessed by
 * the loader like a val split; every label is 0. */
int mbn_dataset_from_files(const char *const *paths, int n, int num_classes, MbnDataset **out);
/* Sample idx decoded and preprocessed into out [res, res, 3] by the dataset's reader (training
 * augmentation from rng when train); MBN_EFAIL naming the file when it is unusable. */
int mbn_dataset_sample(const MbnDataset *ds, int64_t idx, int res, bool train, MbnRng *rng,
                       float *out);
/* The same for evaluation through a model's preprocessing record p (io/data/preprocess.h). */
int mbn_dataset_sample_recorded(const MbnDataset *ds, int64_t idx, const MbnPreprocess *p, int res,
                                float *out);

#endif
