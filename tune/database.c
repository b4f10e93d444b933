#include "host/tuning.h"

#include <stdlib.h>
#include <string.h>

/* PoCL on x86 CPUs: CLBlast's defaults give 6-17 GFLOP/s on a 6272x512x512 pointwise GEMM
 * here; a hand search through CLBlastOverrideParameters found 28-33 with small work-groups and
 * 8-wide vectors (SPEC.md section 6), the entry below. On CPUs mbn now runs its pointwise,
 * stem and classifier GEMMs with gemm.cl instead (docs/PERFORMANCE.md); CLBlast is left with
 * the stem's and the classifier's weight gradients there, and with every GEMM on GPUs. */
static const MbnTuning table[] = {
    {"Portable Computing Language",
     "",
     1,
     {{"Xgemm",
       16,
       {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB", "NDIMC", "NWG", "SA", "SB",
        "STRM", "STRN", "VWM", "VWN"},
       {0, 1, 32, 2, 2, 2, 32, 2, 2, 32, 0, 0, 0, 0, 8, 8}}}},
};

const MbnTuning *mbn_tuning_lookup(const MbnDeviceInfo *info) {
    const char *off = getenv("MBN_NO_TUNING");
    if (off && *off && strcmp(off, "0") != 0) return NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strstr(info->platform_name, table[i].platform_contains) &&
            strstr(info->name, table[i].device_contains))
            return &table[i];
    return NULL;
}
