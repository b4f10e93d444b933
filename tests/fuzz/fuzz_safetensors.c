/* Fuzzes the safetensors parser (header JSON, offsets, dtypes, metadata) on arbitrary file
 * images; a refused input must leave both outputs empty. */
#include <stdint.h>
#include <stdlib.h>

#include "io/formats/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    MbnTensorSet s;
    MbnStMetadata meta;
    if (mbn_safetensors_parse_ex(data, size, "fuzz.safetensors", &s, &meta) == 0) {
        for (int k = 0; k < meta.count; k++)
            if (!mbn_st_metadata_get(&meta, meta.items[k].key)) abort();
        mbn_st_metadata_free(&meta);
        volatile float sink = 0;
        for (int k = 0; k < s.count; k++) {
            int64_t n = mbn_tensor_numel(&s.items[k]);
            for (int64_t i = 0; i < n; i++)
                sink += s.items[k].data[i];
        }
        (void)sink;
        mbn_tensors_free(&s);
    } else if (s.count || s.items || meta.count || meta.items) {
        abort();
    }
    return 0;
}
