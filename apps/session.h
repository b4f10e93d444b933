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
                     const char *device, int batch);
void mbn_session_close(MbnSession *s);

#endif
