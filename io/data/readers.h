/* Internal to io/: the per-format dataset readers behind mbn_dataset_open, and small helpers they
 * share. Each reader fills an already zeroed MbnDataset (kind, root and split set by the caller)
 * and returns MBN_OK, or MBN_EFAIL naming the file or folder; the caller frees on failure. */
#ifndef MBN_IO_DATA_READERS_H
#define MBN_IO_DATA_READERS_H
#include <stdbool.h>
#include <stddef.h>

#include "io/data/dataset.h"

int mbn_idx_read_dataset(MbnDataset *ds);
int mbn_cifar_read_dataset(MbnDataset *ds);
int mbn_imagefolder_read_dataset(MbnDataset *ds);

/* Does the IDX reader find files for the split in dir? (either split suffices for detection) */
bool mbn_idx_detect(const char *dir);
/* The folder holding CIFAR-10 batches (dir or dir/cifar-10-batches-bin) into out, or false. */
bool mbn_cifar_detect(const char *dir, char *out, size_t cap);

/* snprintf "a/b" into out; MBN_EFAIL when it does not fit. */
int mbn_path_join(char *out, size_t cap, const char *a, const char *b);
bool mbn_is_dir(const char *path);
bool mbn_is_file(const char *path);
/* Copies n C strings into a malloc'ed array (class names); NULL on allocation failure. */
char **mbn_strings_dup(const char *const *src, int n);

#endif
