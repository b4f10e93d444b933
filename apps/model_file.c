#include "apps/model_file.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "io/formats/labels.h"

void mbn_model_file_note(const char *model_path, const MbnArch *arch) {
    if (arch->preprocess.recorded) return;
    int R = arch->resolution;
    mbn_note("note: %s has no preprocessing record (written before mbn recorded it, or by another "
             "tool); using the defaults: image files resized to %d on the shorter side and "
             "centre-cropped to %dx%d (ImageNet mean/std), IDX/CIFAR images padded to 32 and "
             "resized to %d",
             model_path, (int)(R / 0.875 + 0.5), R, R, R);
}

int mbn_model_file_labels(const char *flag, const char *model_path, int num_classes, char ***names,
                          int *n) {
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
