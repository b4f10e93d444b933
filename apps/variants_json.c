#include "apps/variants_json.h"

#include <stdio.h>
#include <string.h>

void mbn_json_variants(MbnJson *j, const MbnVariantSet *set, bool with_fallbacks) {
    mbn_json_begin_object(j);
    mbn_json_key(j, "family");
    mbn_json_string(j, mbn_family_name(set->family));
    mbn_json_key(j, "cpu_vector");
    mbn_json_int(j, set->cpu_vec);
    mbn_json_key(j, "ops");
    mbn_json_begin_object(j);
    for (int op = 0; op < MBN_OP_COUNT; op++) {
        const MbnVariantChoice *c = &set->op[op];
        mbn_json_key(j, mbn_op_name((MbnOp)op));
        mbn_json_begin_object(j);
        mbn_json_key(j, "variant");
        mbn_json_string(j, c->row->name);
        mbn_json_key(j, "family");
        mbn_json_string(j, mbn_family_name(c->row->family));
        mbn_json_key(j, "kernels");
        mbn_json_string(j, c->row->kernels);
        mbn_json_key(j, "params");
        mbn_json_begin_object(j);
        for (int p = 0; p < c->row->n_params; p++) {
            mbn_json_key(j, c->row->params[p].name);
            mbn_json_int(j, c->value[p]);
        }
        mbn_json_end_object(j);
        /* where each value comes from: the device's plan, the shipped database, `mbn tune` */
        mbn_json_key(j, "sources");
        mbn_json_begin_object(j);
        for (int p = 0; p < c->row->n_params; p++) {
            mbn_json_key(j, c->row->params[p].name);
            mbn_json_string(j, mbn_param_source_name((MbnParamSource)c->source[p]));
        }
        mbn_json_end_object(j);
        mbn_json_key(j, "tuned");
        mbn_json_bool(j, c->overridden);
        if (with_fallbacks) {
            /* Calls that ran the generic row instead (shapes the variant does not handle). */
            mbn_json_key(j, "fallbacks");
            mbn_json_int(j, (int64_t)set->fallbacks[op]);
        }
        mbn_json_end_object(j);
    }
    mbn_json_end_object(j);
    mbn_json_end_object(j);
}

void mbn_json_profile(MbnJson *j, const MbnDeviceProfile *p) {
    char text[256];
    mbn_profile_describe(p, text, sizeof text);
    mbn_json_begin_object(j);
    mbn_json_key(j, "summary");
    mbn_json_string(j, text);
    mbn_json_key(j, "isa");
    mbn_json_string(j, p->isa);
    mbn_json_key(j, "target");
    mbn_json_string(j, p->target);
    mbn_json_key(j, "fma");
    mbn_json_bool(j, p->fma);
    mbn_json_key(j, "vector_floats");
    mbn_json_int(j, p->vector_floats);
    mbn_json_key(j, "vector_registers");
    mbn_json_int(j, p->vector_registers);
    mbn_json_key(j, "simd_width");
    mbn_json_int(j, p->simd_width);
    mbn_json_key(j, "cache_bytes");
    mbn_json_int(j, (int64_t)p->cache_bytes);
    mbn_json_key(j, "subgroups");
    mbn_json_bool(j, p->subgroups);
    mbn_json_end_object(j);
}

void mbn_json_tuning(MbnJson *j, const MbnTuning *t) {
    mbn_json_begin_object(j);
    mbn_json_key(j, "cache");
    if (t->id[0])
        mbn_json_string(j, t->id);
    else
        mbn_json_null(j);
    mbn_json_key(j, "database_decisions");
    mbn_json_int(j, t->database_decisions);
    /* one line per database decision: which entry (vendor / platform / class / device) */
    mbn_json_key(j, "database_entries");
    mbn_json_begin_array(j);
    char lines[sizeof t->levels];
    snprintf(lines, sizeof lines, "%s", t->levels);
    char *save = NULL;
    for (char *l = strtok_r(lines, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        mbn_json_string(j, l);
    mbn_json_end_array(j);
    mbn_json_end_object(j);
}
