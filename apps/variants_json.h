/* The kernel variants a device uses (host/variants.h), as JSON for `mbn devices --json` and
 * `mbn bench --json`. */
#ifndef MBN_APPS_VARIANTS_JSON_H
#define MBN_APPS_VARIANTS_JSON_H
#include "host/variants.h"
#include "io/util/json_writer.h"
#include "tune/open.h"

/* Writes the value of a "kernels" key: {"family": "auto", "cpu_vector": 16, "ops": {"<op>":
 * {"variant": row, "family": ..., "kernels": ..., "params": {...}, "sources": {"<param>":
 * "device"|"database"|"tuned"}, "tuned": bool, "fallbacks": n}, ...}}. */
void mbn_json_variants(MbnJson *j, const MbnVariantSet *set, bool with_fallbacks);

/* The device profile the plan was made from (host/device_profile.h). */
void mbn_json_profile(MbnJson *j, const MbnDeviceProfile *p);

/* Which tuning applies: {"cache": id or null, "database_decisions": n, "database_entries":
 * [...]} (tune/open.h). */
void mbn_json_tuning(MbnJson *j, const MbnTuning *t);

#endif
