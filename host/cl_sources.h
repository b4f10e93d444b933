/* The OpenCL C sources embedded at build time (see cmake/embed_cl.cmake). */
#ifndef MBN_HOST_CL_SOURCES_H
#define MBN_HOST_CL_SOURCES_H
#include <stddef.h>

typedef struct {
    const char *name; /* file name, e.g. "depthwise.cl" */
    const char *text;
    size_t length;
} MbnClSource;

extern const MbnClSource mbn_cl_sources[];
extern const int mbn_cl_source_count;

#endif
