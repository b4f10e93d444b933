#include "apps/session.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "tune/open.h"
#include "io/formats/labels.h"

int mbn_session_open(MbnSession *s, const char *model_path, const MbnModelFlags *flags,
                     const char *device, int batch, MbnPrecision precision) {
    memset(s, 0, sizeof *s);
    MbnTensorSet tensors = {0};
    int rc = mbn_weights_open(model_path, flags, &s->arch, &tensors);
    if (rc == MBN_OK) rc = mbn_device_open_selected_for(&s->dev, device, MBN_USE_INFER);
    s->dev_open = rc == MBN_OK;
    if (rc == MBN_OK)
        rc = mbn_net_create_infer(&s->net, &s->dev, &s->arch, batch,
                                  mbn_precision_resolve(&s->dev, precision));
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

void mbn_session_note_preprocess(const char *model_path, const MbnArch *arch) {
    if (arch->preprocess.recorded) return;
    int R = arch->resolution;
    fprintf(stderr,
            "mbn: note: %s has no preprocessing record (written before mbn recorded it, or by "
            "another tool); using the defaults: image files resized to %d on the shorter side "
            "and centre-cropped to %dx%d (ImageNet mean/std), IDX/CIFAR images padded to 32 and "
            "resized to %d\n",
            model_path, (int)(R / 0.875 + 0.5), R, R, R);
}

int mbn_session_find_labels(const char *flag, const char *model_path, int num_classes,
                            char ***names, int *n) {
    *names = NULL;
    *n = 0;
    char path[4096];
    if (flag) {
        snprintf(path, sizeof path, "%s", flag);
    } else {
        mbn_labels_path_beside(model_path, path, sizeof path);
        if (access(path, F_OK) != 0) return MBN_OK;
    }
    char **read = NULL;
    int count = 0;
    if (mbn_labels_read(path, &read, &count) != MBN_OK) {
        if (flag) return mbn_fail_context(MBN_EUSAGE, "--labels %s", flag);
        mbn_warn("%s; printing class numbers", mbn_last_error());
        return MBN_OK;
    }
    if (count != num_classes) {
        mbn_labels_free(read, count);
        if (flag)
            return mbn_fail(MBN_EUSAGE, "--labels %s: %d names but the model has %d classes", flag,
                            count, num_classes);
        mbn_warn("%s has %d names but the model has %d classes; printing class numbers", path,
                 count, num_classes);
        return MBN_OK;
    }
    *names = read;
    *n = count;
    return MBN_OK;
}
