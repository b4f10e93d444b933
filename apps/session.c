#include "apps/session.h"

#include <string.h>

#include "base/error.h"

int mbn_session_open(MbnSession *s, const char *model_path, const MbnModelFlags *flags,
                     const char *device, int batch) {
    memset(s, 0, sizeof *s);
    MbnTensorSet tensors = {0};
    int rc = mbn_weights_open(model_path, flags, &s->arch, &tensors);
    if (rc == MBN_OK) rc = mbn_device_open_selected_for(&s->dev, device, MBN_USE_INFER);
    s->dev_open = rc == MBN_OK;
    if (rc == MBN_OK) rc = mbn_net_create(&s->net, &s->dev, &s->arch, batch, false);
    s->net_open = rc == MBN_OK;
    if (rc == MBN_OK) {
        rc = mbn_net_import(&s->net, &tensors, false, false);
        if (rc) mbn_fail_context(rc, "%s", model_path);
    }
    mbn_tensors_free(&tensors);
    if (rc) mbn_session_close(s);
    return rc;
}

void mbn_session_close(MbnSession *s) {
    if (s->net_open) mbn_net_destroy(&s->net);
    if (s->dev_open) mbn_device_close(&s->dev);
    s->net_open = s->dev_open = false;
}
