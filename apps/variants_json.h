/* The kernel variants a device uses (host/variants.h), as JSON for `mbn devices --json` and
 * `mbn bench --json`. */
#ifndef MBN_APPS_VARIANTS_JSON_H
#define MBN_APPS_VARIANTS_JSON_H
#include "host/variants.h"
#include "io/util/json_writer.h"

/* Writes the value of a "kernels" key: {"family": "auto", "ops": {"<op>": {"variant": row,
 * "family": ..., "kernels": ..., "params": {...}, "fallbacks": n}, ...}}. */
void mbn_json_variants(MbnJson *j, const MbnVariantSet *set, bool with_fallbacks);

#endif
