/* What eval, infer and export say about a model file (checkpoint or safetensors) beyond opening
 * it (the library does that: api/model.h, mbn_model_open_checked): the note for a file without
 * a preprocessing record, and the class names for the ONNX metadata. */
#ifndef MBN_APPS_MODEL_FILE_H
#define MBN_APPS_MODEL_FILE_H
#include "model/arch.h"

/* The one note for a model file without a preprocessing record (stderr): which defaults apply. */
void mbn_model_file_note(const char *model_path, const MbnArch *arch);
/* Class names: --labels L (must exist and match the class count: usage error otherwise), else
 * labels.txt beside the model when it exists (a mismatch there is a warning, no names).
 * *names stays NULL when there are none; free with mbn_labels_free. */
int mbn_model_file_labels(const char *flag, const char *model_path, int num_classes, char ***names,
                          int *n);

#endif
