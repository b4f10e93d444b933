/* The kernel variants a device uses (host/variants.h), as JSON for `mbn devices --json` and
 * `mbn bench --json`. */
#ifndef MBN_APPS_VARIANTS_JSON_H
#define MBN_APPS_VARIANTS_JSON_H
#include <jansson.h>
#include <stdbool.h>

#include "host/variants.h"

/* The value of a "kernels" key: {"family": "auto", "ops": {"<op>": {"variant": row, "family":
 * ..., "kernels": ..., "params": {...}, "tuned": bool, "fallbacks": n}, ...}} (fallbacks: the
 * calls that ran the generic row, for shapes the variant does not handle). NULL when out of
 * memory. */
json_t *mbn_json_variants(const MbnVariantSet *set, bool with_fallbacks);

#endif
