#include "apps/variants_json.h"

#include <stdio.h>
#include <string.h>

json_t *mbn_json_variants(const MbnVariantSet *set, bool with_fallbacks) {
    json_t *ops = json_object();
    for (int op = 0; ops && op < MBN_OP_COUNT; op++) {
        const MbnVariantChoice *c = &set->op[op];
        json_t *params = json_object(), *sources = json_object();
        for (int p = 0; params && sources && p < c->row->n_params; p++) {
            json_object_set_new(params, c->row->params[p].name, json_integer(c->value[p]));
            /* where each value comes from: the device's plan, the shipped database, `mbn tune` */
            json_object_set_new(sources, c->row->params[p].name,
                                json_string(mbn_param_source_name((MbnParamSource)c->source[p])));
        }
        json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:b}", "variant", c->row->name, "family",
                              mbn_family_name(c->row->family), "kernels", c->row->kernels, "params",
                              params, "sources", sources, "tuned", c->overridden);
        if (o && with_fallbacks)
            json_object_set_new(o, "fallbacks", json_integer((json_int_t)set->fallbacks[op]));
        if (!o || json_object_set_new(ops, mbn_op_name((MbnOp)op), o) != 0) {
            json_decref(ops);
            ops = NULL;
        }
    }
    return json_pack("{s:s, s:i, s:o}", "family", mbn_family_name(set->family), "cpu_vector",
                     set->cpu_vec, "ops", ops);
}

json_t *mbn_json_profile(const MbnDeviceProfile *p) {
    char text[256];
    mbn_profile_describe(p, text, sizeof text);
    return json_pack("{s:s, s:s, s:s, s:b, s:i, s:i, s:i, s:I, s:b}", "summary", text, "isa",
                     p->isa, "target", p->target, "fma", p->fma, "vector_floats", p->vector_floats,
                     "vector_registers", p->vector_registers, "simd_width", p->simd_width,
                     "cache_bytes", (json_int_t)p->cache_bytes, "subgroups", p->subgroups);
}

json_t *mbn_json_tuning(const MbnTuning *t) {
    /* one line per database decision: which entry (vendor / platform / class / device) */
    json_t *entries = json_array();
    char lines[sizeof t->levels];
    snprintf(lines, sizeof lines, "%s", t->levels);
    char *save = NULL;
    for (char *l = strtok_r(lines, "\n", &save); entries && l; l = strtok_r(NULL, "\n", &save))
        json_array_append_new(entries, json_string(l));
    return json_pack("{s:o, s:i, s:o}", "cache", t->id[0] ? json_string(t->id) : json_null(),
                     "database_decisions", t->database_decisions, "database_entries", entries);
}
