/* Profiles of real devices (tests/support/device_catalogue.c), each transcribed from a public
 * clinfo-style listing named in a comment above it, for testing the kernel plan on devices CI
 * does not have (tests/test_device_profiles.c). */
#ifndef MBN_TESTS_SUPPORT_DEVICE_CATALOGUE_H
#define MBN_TESTS_SUPPORT_DEVICE_CATALOGUE_H
#include "host/device_profile.h"

typedef struct {
    const char *id; /* short name: "pocl-avx2-znver2-tr3970x" */
    MbnDeviceProfile profile;
} MbnCatalogueEntry;

extern const MbnCatalogueEntry mbn_device_catalogue[];
extern const int mbn_device_catalogue_count;

#endif
