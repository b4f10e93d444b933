#include "base/version.h"

const char *mbn_version(void) {
    return MBN_VERSION_STRING;
}
