/* The library's model handle (include/mbn.h) from the inside, for the mbn command, which uses
 * the same handle and calls for `mbn infer` and needs two things the public API leaves out: the
 * command line's model checks (--alpha, --resolution, --num-classes) and its batch size. */
#ifndef MBN_API_MODEL_H
#define MBN_API_MODEL_H
#include "api/device_registry.h"
#include "include/mbn.h"
#include "model/net.h"
#include "model/weights_file.h"

typedef struct {
    int k;
    float p;
} MbnRanked;

struct MbnModel {
    MbnDevice dev; /* this model's handle on the shared device */
    MbnRegistryEntry *entry;
    MbnNet net;
    bool net_open;
    char **labels;
    int n_labels;
    char labels_note[600]; /* why labels.txt beside the file was not used ("" if it was) */
    char preprocessing[640];
    float *probs;    /* net.max_batch x classes */
    MbnRanked *rank; /* classes */
};

/* mbn_model_open with the command line's flags checked against the file (flags may be NULL),
 * room for batches of `batch` images and a precision (auto is resolved on the device). */
int mbn_model_open_checked(const char *weights_path, const char *device, const MbnModelFlags *flags,
                           int batch, MbnPrecision precision, MbnModel **out);
/* Replaces the class names with names[0..n) (n = the model's classes, checked by the caller);
 * the model takes ownership of the array and the strings (io/formats/labels.h). */
void mbn_model_set_labels(MbnModel *m, char **names, int n);
/* The architecture and preprocessing of the open model. */
const MbnArch *mbn_model_arch(const MbnModel *m);

#endif
