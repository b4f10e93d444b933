#include "apps/variants_json.h"

json_t *mbn_json_variants(const MbnVariantSet *set, bool with_fallbacks) {
    json_t *ops = json_object();
    for (int op = 0; ops && op < MBN_OP_COUNT; op++) {
        const MbnVariantChoice *c = &set->op[op];
        json_t *params = json_object();
        for (int p = 0; params && p < c->row->n_params; p++)
            json_object_set_new(params, c->row->params[p].name, json_integer(c->value[p]));
        json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:b}", "variant", c->row->name, "family",
                              mbn_family_name(c->row->family), "kernels", c->row->kernels, "params",
                              params, "tuned", c->overridden);
        if (o && with_fallbacks)
            json_object_set_new(o, "fallbacks", json_integer((json_int_t)set->fallbacks[op]));
        if (!o || json_object_set_new(ops, mbn_op_name((MbnOp)op), o) != 0) {
            json_decref(ops);
            ops = NULL;
        }
    }
    return json_pack("{s:s, s:o}", "family", mbn_family_name(set->family), "ops", ops);
}
