/* An inference session shared by eval and infer: a model file (checkpoint or safetensors)
 * opened into an inference network on the selected device. */
#ifndef MBN_APPS_SESSION_H
#define MBN_APPS_SESSION_H
#include <stdbool.h>

#include "host/device.h"
#include "model/net.h"
#include "model/weights_file.h"

typedef struct {
    MbnArch arch;
    MbnDevice dev;
    MbnNet net;
    bool dev_open, net_open;
} MbnSession;

int mbn_session_open(MbnSession *s, const char *model_path, const MbnModelFlags *flags,
                     const char *device, int batch, MbnPrecision precision);
void mbn_session_close(MbnSession *s);

/* The one note for a model file without a preprocessing record (stderr): which defaults apply. */
void mbn_session_note_preprocess(const char *model_path, const MbnArch *arch);
/* Class names: --labels L (must exist and match the class count: usage error otherwise), else
 * labels.txt beside the model when it exists (a mismatch there is a warning, no names).
 * *names stays NULL when there are none; free with mbn_labels_free. */
int mbn_session_find_labels(const char *flag, const char *model_path, int num_classes,
                            char ***names, int *n);

#endif
