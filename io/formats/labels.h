/* Labels file (SPEC §5): one class name per line, in class-index order. */
#ifndef MBN_IO_FORMATS_LABELS_H
#define MBN_IO_FORMATS_LABELS_H
#include <stddef.h>

/* Writes the class names, one per line (the labels file that travels with checkpoints). */
int mbn_labels_write(const char *path, char *const *names, int n);
/* Reads a labels file; *names is malloc'ed (free with mbn_labels_free). */
int mbn_labels_read(const char *path, char ***names, int *n);
void mbn_labels_free(char **names, int n);
/* The labels file that travels with a model: labels.txt in the folder of model_path (the file
 * mbn train writes beside its checkpoints). */
void mbn_labels_path_beside(const char *model_path, char *out, size_t cap);

#endif
