/* What the op families share: the reduction chunking and the scratch check. */
#include "model/ops_internal.h"

void mbn_ops_chunking(const MbnVariantChoice *v, size_t rows, int *chunks, int *rows_per_chunk) {
    size_t max_chunks = (size_t)mbn_vparam(v, "CHUNKS");
    size_t min_rows = (size_t)mbn_vparam(v, "MIN_ROWS");
    size_t p = rows / min_rows;
    if (p < 1) p = 1;
    if (p > max_chunks) p = max_chunks;
    if (p > MBN_OPS_MAX_PARTIALS) p = MBN_OPS_MAX_PARTIALS;
    size_t rpc = (rows + p - 1) / p;
    if (rpc < 1) rpc = 1;
    *rows_per_chunk = (int)rpc;
    *chunks = (int)((rows + rpc - 1) / rpc);
}

int mbn_ops_chunks(size_t M) {
    const MbnVariant *row = mbn_variant_find("bn_fwd.generic");
    if (!row) return 1;
    MbnVariantChoice c = {.row = row};
    for (int k = 0; k < row->n_params; k++)
        c.value[k] = row->params[k].value;
    int p, r;
    mbn_ops_chunking(&c, M, &p, &r);
    return p;
}

int mbn_ops_need_scratch(MbnBuf scratch, size_t floats, const char *op) {
    size_t bytes = 0;
    if (!scratch.mem)
        return mbn_fail(MBN_EFAIL, "%s: needs a scratch buffer of %zu floats", op, floats);
    if (scratch.off != 0)
        return mbn_fail(MBN_EFAIL, "%s: the scratch buffer is used from its start (offset %zu)", op,
                        scratch.off);
    if (clGetMemObjectInfo(scratch.mem, CL_MEM_SIZE, sizeof bytes, &bytes, NULL) != CL_SUCCESS ||
        bytes / sizeof(float) < floats)
        return mbn_fail(MBN_EFAIL, "%s: scratch buffer of %zu floats, needs %zu", op,
                        bytes / sizeof(float), floats);
    return MBN_OK;
}
