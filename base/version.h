/* mbn's version, from the numbers the public header states (include/mbn.h), in one place: the
 * library's mbn_version(), `mbn --version`, the ONNX producer field and the tuning cache's build
 * key all read it here. */
#ifndef MBN_BASE_VERSION_H
#define MBN_BASE_VERSION_H
#include "include/mbn.h"

#define MBN_STR2_(x) #x
#define MBN_STR_(x) MBN_STR2_(x)
/* "0.1.0" as a string literal. */
#define MBN_VERSION_STRING                                                                         \
    MBN_STR_(MBN_VERSION_MAJOR) "." MBN_STR_(MBN_VERSION_MINOR) "." MBN_STR_(MBN_VERSION_PATCH)

#endif
