/* The kernel variants a device uses (host/variants.h), as JSON for `mbn devices --json` and
 * `mbn bench --json`. Each returns NULL when out of memory. */
#ifndef MBN_APPS_VARIANTS_JSON_H
#define MBN_APPS_VARIANTS_JSON_H
#include <jansson.h>
#include <stdbool.h>

#include "host/variants.h"
#include "tune/open.h"

/* The value of a "kernels" key: {"family": "auto", "cpu_vector": 16, "ops": {"<op>":
 * {"variant": row, "family": ..., "kernels": ..., "params": {...}, "sources": {"<param>":
 * "device"|"database"|"tuned"}, "tuned": bool, "fallbacks": n}, ...}} (fallbacks: the calls that
 * ran the generic row, for shapes the variant does not handle). */
json_t *mbn_json_variants(const MbnVariantSet *set, bool with_fallbacks);

/* The device profile the plan was made from (host/device_profile.h). */
json_t *mbn_json_profile(const MbnDeviceProfile *p);

/* Which tuning applies: {"cache": id or null, "database_decisions": n, "database_entries":
 * [...]} (tune/open.h). */
json_t *mbn_json_tuning(const MbnTuning *t);

#endif
