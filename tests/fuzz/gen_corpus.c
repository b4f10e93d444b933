/* Writes the seed corpora under tests/fuzz/corpus_ckpt and tests/fuzz/corpus_safetensors (not
 * built by CMake; run once, outputs are committed):
 *   cc -std=c11 -D_POSIX_C_SOURCE=200809L -I. tests/fuzz/gen_corpus.c build/libmbncore.a -lz \
 *      -lm -o /tmp/gen_corpus && /tmp/gen_corpus
 * Seeds: small valid checkpoints (with and without meta/tensors) and their raw payloads (the
 * fuzzer wraps inputs without the magic into a valid container), and small safetensors files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "io/formats/checkpoint.h"
#include "io/formats/safetensors.h"

static void raw_payload(const char *ckpt, const char *out) {
    FILE *f = fopen(ckpt, "rb");
    static unsigned char buf[1 << 16], raw[1 << 18];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    uLongf rn = sizeof raw;
    if (uncompress(raw, &rn, buf + 40, (uLong)(n - 44)) != Z_OK) exit(1);
    f = fopen(out, "wb");
    fwrite(raw, 1, rn, f);
    fclose(f);
}

int main(void) {
    mkdir("tests/fuzz/corpus_ckpt", 0755);
    mkdir("tests/fuzz/corpus_safetensors", 0755);
    MbnCheckpoint ck = {.config = {0.25f, 32, 10, 1e-5f}};
    int64_t s4[4] = {2, 1, 3, 3}, s2[2] = {3, 2}, s1[1] = {3};
    MbnHostTensor *t = mbn_tensors_add(&ck.tensors, "blocks.0.0.conv_dw.weight", 4, s4, NULL);
    for (int i = 0; i < 18; i++)
        t->data[i] = (float)i * 0.125f - 1.0f;
    t = mbn_tensors_add(&ck.tensors, "classifier.weight", 2, s2, NULL);
    for (int i = 0; i < 6; i++)
        t->data[i] = (float)i;
    mbn_tensors_add(&ck.tensors, "classifier.bias", 1, s1, NULL);
    mbn_tensors_add(&ck.tensors, "optim.momentum.classifier.bias", 1, s1, NULL);
    mbn_ckpt_set_int(&ck, "epoch", 3);
    mbn_ckpt_set_int(&ck, "step", 300);
    mbn_ckpt_set_float(&ck, "lr", 0.05);
    mbn_ckpt_set_string(&ck, "lr_schedule", "cosine");
    if (mbn_ckpt_save("tests/fuzz/corpus_ckpt/full.ckpt", &ck)) return 1;
    raw_payload("tests/fuzz/corpus_ckpt/full.ckpt", "tests/fuzz/corpus_ckpt/full.payload");
    if (mbn_safetensors_write("tests/fuzz/corpus_safetensors/small.safetensors", &ck.tensors,
                              (const char *const[]){"format", "pt", NULL}))
        return 1;
    MbnCheckpoint empty = {.config = {1.0f, 224, 1000, 1e-3f}};
    mbn_ckpt_set_string(&empty, "note", "empty");
    if (mbn_ckpt_save("tests/fuzz/corpus_ckpt/empty.ckpt", &empty)) return 1;
    raw_payload("tests/fuzz/corpus_ckpt/empty.ckpt", "tests/fuzz/corpus_ckpt/empty.payload");
    if (mbn_safetensors_write("tests/fuzz/corpus_safetensors/empty.safetensors", &empty.tensors,
                              NULL))
        return 1;
    mbn_ckpt_free(&ck);
    mbn_ckpt_free(&empty);
    return 0;
}
