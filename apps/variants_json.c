#include "apps/variants_json.h"

void mbn_json_variants(MbnJson *j, const MbnVariantSet *set, bool with_fallbacks) {
    mbn_json_begin_object(j);
    mbn_json_key(j, "family");
    mbn_json_string(j, mbn_family_name(set->family));
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
