/* Fuzzes the checkpoint loader. Inputs starting with the magic are loaded as whole files, so
 * the container checks (sizes, CRCs, inflate) are exercised. Anything else is treated as a raw
 * payload and wrapped in a valid container first (compressed, correct sizes and CRCs), because
 * random mutations would otherwise never get past the checksum to the payload parser. A load
 * that succeeds must expose only readable data; a refused one must leave the output empty. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/error.h"
#include "io/formats/checkpoint.h"

static void put32(unsigned char *p, uint32_t v) {
    for (int k = 0; k < 4; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}
static void put64(unsigned char *p, uint64_t v) {
    for (int k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static unsigned char *wrap_payload(const uint8_t *data, size_t size, size_t *len) {
    uLongf comp = compressBound((uLong)size);
    unsigned char *f = malloc(40 + comp + 4);
    if (!f || compress2(f + 40, &comp, data, (uLong)size, 1) != Z_OK) {
        free(f);
        return NULL;
    }
    memcpy(f, "MBNCKPT", 8);
    put32(f + 8, MBN_CKPT_VERSION);
    put32(f + 12, 0);
    put64(f + 16, size);
    put64(f + 24, comp);
    put32(f + 32, 0);
    put32(f + 36, (uint32_t)crc32(0, f, 36));
    put32(f + 40 + comp, (uint32_t)crc32(0, f, (uInt)(40 + comp)));
    *len = 40 + comp + 4;
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *buf = data;
    unsigned char *owned = NULL;
    size_t len = size;
    if (size < 8 || memcmp(data, "MBNCKPT", 8) != 0) {
        owned = wrap_payload(data, size, &len);
        if (!owned) return 0;
        buf = owned;
    }
    MbnCheckpoint ck;
    if (mbn_ckpt_load_mem(buf, len, "fuzz.ckpt", &ck) == MBN_OK) {
        /* Everything loaded must be self-consistent: touch every byte. */
        volatile float sink = 0;
        for (int k = 0; k < ck.tensors.count; k++) {
            const MbnHostTensor *t = &ck.tensors.items[k];
            int64_t n = mbn_tensor_numel(t);
            for (int64_t i = 0; i < n; i++)
                sink += t->data[i];
        }
        for (int k = 0; k < ck.n_meta; k++)
            if (ck.meta[k].type == MBN_META_STRING && strlen(ck.meta[k].s) > (1u << 30)) abort();
        (void)sink;
        mbn_ckpt_free(&ck);
    } else if (ck.tensors.count || ck.n_meta || ck.meta || ck.tensors.items) {
        abort(); /* a refused file must leave nothing behind */
    }
    free(owned);
    return 0;
}
