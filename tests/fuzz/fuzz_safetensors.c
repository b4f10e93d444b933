/* Fuzzes the safetensors parser (header JSON, offsets, dtypes) on arbitrary file images. */
#include <stdint.h>
#include <stdlib.h>

#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    MbnTensorSet s;
    if (mbn_safetensors_parse(data, size, "fuzz.safetensors", &s) == 0) {
        volatile float sink = 0;
        for (int k = 0; k < s.count; k++) {
            int64_t n = mbn_tensor_numel(&s.items[k]);
            for (int64_t i = 0; i < n; i++)
                sink += s.items[k].data[i];
        }
        (void)sink;
        mbn_tensors_free(&s);
    } else if (s.count || s.items) {
        abort();
    }
    return 0;
}
