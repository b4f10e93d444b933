/* Cross-checks the product's safetensors reader (io/formats/safetensors.c) against the oracle's
 * test-only reader (tests/support/st_read.c) on the PyTorch fixtures written by
 * tests/gen_torch_fixtures.py (files produced by a third, independent writer): every F32 tensor
 * must come back with the same name, shape and bits, and nothing else may appear. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/formats/safetensors.h"
#include "tests/support/st_read.h"
#include "tests/support/testutil.h"

static void crosscheck(const char *path) {
    StFile st;
    if (st_open(&st, path)) {
        T_CHECK(0, "oracle reader cannot open %s", path);
        return;
    }
    MbnTensorSet set = {0};
    int rc = mbn_safetensors_read(path, &set);
    T_CHECK(rc == 0, "mbn_safetensors_read(%s): %s", path, rc ? mbn_last_error() : "");
    if (rc) {
        st_close(&st);
        return;
    }
    int f32 = 0, same = 0;
    for (int i = 0; i < st.n; i++) {
        const StEntry *e = &st.e[i];
        if (strcmp(e->dtype, "F32") != 0) continue;
        f32++;
        const MbnHostTensor *t = mbn_tensors_find(&set, e->name);
        T_CHECK(t != NULL, "%s: tensor %s missing from mbn's reading", path, e->name);
        if (!t) continue;
        int ok = t->ndim == e->ndim;
        for (int d = 0; ok && d < e->ndim; d++)
            ok = t->shape[d] == e->shape[d];
        size_t n = 0;
        float *ref = st_f32(&st, e->name, &n);
        ok = ok && ref && (size_t)mbn_tensor_numel(t) == n &&
             memcmp(ref, t->data, n * sizeof(float)) == 0;
        T_CHECK(ok, "%s: tensor %s differs (shape or bits)", path, e->name);
        same += ok;
        free(ref);
    }
    printf("%s: %d of %d F32 tensors identical, mbn read %d tensors\n", path, same, f32, set.count);
    T_CHECK(same == f32 && set.count == f32, "%s: %d/%d identical, %d read", path, same, f32,
            set.count);
    mbn_tensors_free(&set);
    st_close(&st);
}

int main(void) {
    /* files with F32 tensors only (inputs/ops also hold I32 labels, which mbn does not read) */
    crosscheck("tests/fixtures/fwd_a025.safetensors");
    crosscheck("tests/fixtures/fwd_a050.safetensors");
    crosscheck("tests/fixtures/train_a025_r32_b4.safetensors");
    crosscheck("tests/fixtures/train_a025_r64_b8_wd.safetensors");
    crosscheck("tests/fixtures/train_a050_r64_b8.safetensors");
    return t_summary("test_st_crosscheck");
}
