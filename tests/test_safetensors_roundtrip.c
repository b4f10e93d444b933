/* safetensors: mbn's writer produces what the reference library does (8-byte length, compact
 * JSON header sorted by name with __metadata__, padded with spaces to 8 bytes, contiguous F32
 * data) and reads back bit-exact; F16, BF16 and F64 convert exactly on known values (normals,
 * subnormals, +-0, infinities, NaN); I64 num_batches_tracked is skipped, other I64 refused. */
#include <math.h>

#include "io/formats/safetensors.h"
#include "tests/support/st_read.h"
#include "tests/support/testutil.h"

static bool same_bits(float a, float b) {
    return memcmp(&a, &b, 4) == 0;
}

static void read_image(const char *path, const unsigned char *img, size_t len, MbnTensorSet *out,
                       int want_rc) {
    T_CHECK(t_write_file(path, img, len) == 0, "write");
    int rc = mbn_safetensors_read(path, out);
    T_CHECK(rc == want_rc, "rc %d (want %d): %s", rc, want_rc, rc ? mbn_last_error() : "");
}

int main(void) {
    char dir[64], path[512];
    t_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/w.safetensors", dir);

    /* Round trip, inserted out of name order. */
    MbnTensorSet a = {0}, b = {0};
    int64_t s1[4] = {4, 3, 3, 3}, s2[1] = {4}, s3[2] = {10, 4};
    MbnHostTensor *t1 = mbn_tensors_add(&a, "conv_stem.weight", 4, s1, NULL);
    MbnHostTensor *t2 = mbn_tensors_add(&a, "bn1.weight", 1, s2, NULL);
    MbnHostTensor *t3 = mbn_tensors_add(&a, "classifier.weight", 2, s3, NULL);
    mbn_tensors_add(&a, "scalar", 0, NULL, NULL)->data[0] = -0.0f;
    MbnRng rng;
    mbn_rng_seed(&rng, 99);
    for (int i = 0; i < 108; i++)
        t1->data[i] = (float)mbn_rng_uniform(&rng) - 0.5f;
    for (int i = 0; i < 4; i++)
        t2->data[i] = 1.0f + (float)i;
    for (int i = 0; i < 40; i++)
        t3->data[i] = (float)i * 1e-3f;
    const char *meta[] = {"format", "pt", "note", "quote\" back\\slash", NULL};
    T_CHECK(mbn_safetensors_write(path, &a, meta) == MBN_OK, "%s", mbn_last_error());
    T_CHECK(mbn_safetensors_read(path, &b) == MBN_OK, "%s", mbn_last_error());
    T_CHECK(b.count == 4, "count %d", b.count);
    for (int k = 0; k < a.count; k++) {
        const MbnHostTensor *x = &a.items[k], *y = mbn_tensors_find(&b, x->name);
        T_CHECK(y != NULL, "missing %s", x->name);
        if (!y) continue;
        T_CHECK(x->ndim == y->ndim && !memcmp(x->shape, y->shape, sizeof x->shape[0] * x->ndim),
                "%s shape", x->name);
        T_CHECK(!memcmp(x->data, y->data, 4 * (size_t)mbn_tensor_numel(x)), "%s data", x->name);
    }
    /* Byte layout: header padded to 8, sorted names, data in that order. */
    size_t len = 0;
    unsigned char *img = t_read_file(path, &len);
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--)
        hlen = hlen << 8 | img[k];
    T_CHECK((8 + hlen) % 8 == 0, "header not 8-aligned: %llu", (unsigned long long)hlen);
    char *hdr = calloc(1, (size_t)hlen + 1);
    memcpy(hdr, img + 8, (size_t)hlen);
    const char *expect =
        "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"quote\\\" back\\\\slash\"},"
        "\"bn1.weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
        "\"classifier.weight\":{\"dtype\":\"F32\",\"shape\":[10,4],\"data_offsets\":[16,176]},"
        "\"conv_stem.weight\":{\"dtype\":\"F32\",\"shape\":[4,3,3,3],\"data_offsets\":[176,608]},"
        "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[608,612]}}";
    T_CHECK(strncmp(hdr, expect, strlen(expect)) == 0, "header:\n%s\nwant:\n%s", hdr, expect);
    for (size_t k = strlen(expect); k < hlen; k++)
        T_CHECK(hdr[k] == ' ', "padding byte %zu", k);
    T_CHECK(len == 8 + hlen + 612, "file size %zu", len);
    float first;
    memcpy(&first, img + 8 + hlen, 4);
    T_CHECK(first == 1.0f, "data order: first float %g", first);
    free(hdr);
    free(img);
    mbn_tensors_free(&b);
    mbn_tensors_free(&a);

    /* F16 known values. */
    const uint16_t h[] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x0400,
                          0x7C00, 0xFC00, 0x8000, 0x3555, 0x7E00, 0x0000};
    const float hf[] = {1.0f,
                        -2.0f,
                        65504.0f,
                        5.9604644775390625e-08f,
                        6.09755516052246094e-05f,
                        6.103515625e-05f,
                        INFINITY,
                        -INFINITY,
                        -0.0f,
                        0.333251953125f,
                        NAN,
                        0.0f};
    for (size_t k = 0; k < sizeof h / sizeof h[0]; k++) {
        float got = mbn_half_to_float(h[k]);
        if (isnan(hf[k]))
            T_CHECK(isnan(got), "half %04x -> %g", h[k], got);
        else
            T_CHECK(same_bits(got, hf[k]), "half %04x -> %.10g want %.10g", h[k], got, hf[k]);
    }
    /* Exhaustive: every finite half survives float -> half by the hardware-independent rule
     * value == m * 2^e; compare against ldexp. */
    for (uint32_t u = 0; u < 0x10000; u++) {
        uint32_t e = (u >> 10) & 0x1F, m = u & 0x3FF;
        if (e == 0x1F) continue;
        double v = e ? ldexp(1024 + m, (int)e - 25) : ldexp(m, -24);
        if (u & 0x8000) v = -v;
        float got = mbn_half_to_float((uint16_t)u);
        if ((double)got != v || !!signbit(got) != (int)((u >> 15) & 1)) {
            T_CHECK(0, "half %04x -> %.10g want %.10g", u, got, v);
            break;
        }
    }
    const uint16_t bf[] = {0x3F80, 0x4049, 0xC2F7, 0x0001, 0x7F80, 0x8000};
    const float bff[] = {1.0f, 3.140625f, -123.5f, 9.18354961579912e-41f, INFINITY, -0.0f};
    for (size_t k = 0; k < sizeof bf / sizeof bf[0]; k++)
        T_CHECK(same_bits(mbn_bf16_to_float(bf[k]), bff[k]), "bf16 %04x -> %.10g", bf[k],
                mbn_bf16_to_float(bf[k]));

    /* A file with every dtype, in the reference layout. */
    unsigned char data[6 + 6 + 16 + 8 + 8];
    uint16_t hv[3] = {0x3C00, 0x0001, 0xFC00}, bv[3] = {0x3F80, 0x4049, 0xC2F7};
    double dv[2] = {0.1, -1e300};
    int64_t nbt = 12345;
    int64_t other = 7;
    memcpy(data, hv, 6);
    memcpy(data + 6, bv, 6);
    memcpy(data + 12, dv, 16);
    memcpy(data + 28, &nbt, 8);
    memcpy(data + 36, &other, 8);
    const char *hdr_ok = "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]},"
                         "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[6,12]},"
                         "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[12,28]},"
                         "\"bn1.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],"
                         "\"data_offsets\":[28,36]}}";
    img = st_image(hdr_ok, data, 36, &len);
    MbnTensorSet c = {0};
    read_image(path, img, len, &c, MBN_OK);
    free(img);
    T_CHECK(c.count == 3, "count %d (num_batches_tracked must be skipped)", c.count);
    const MbnHostTensor *th = mbn_tensors_find(&c, "h"), *tb = mbn_tensors_find(&c, "b"),
                        *td = mbn_tensors_find(&c, "d");
    T_CHECK(th && th->data[0] == 1.0f && th->data[1] == 5.9604644775390625e-08f &&
                th->data[2] == -INFINITY,
            "F16 values");
    T_CHECK(tb && tb->data[0] == 1.0f && tb->data[1] == 3.140625f && tb->data[2] == -123.5f,
            "BF16 values");
    T_CHECK(td && td->data[0] == (float)0.1 && td->data[1] == -INFINITY, "F64 values");
    T_CHECK(!mbn_tensors_find(&c, "bn1.num_batches_tracked"), "num_batches_tracked kept");
    mbn_tensors_free(&c);

    const char *hdr_i64 = "{\"step\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}";
    img = st_image(hdr_i64, &other, 8, &len);
    read_image(path, img, len, &c, MBN_EFAIL);
    T_CHECK(strstr(mbn_last_error(), "tensor step: dtype I64") != NULL, "%s", mbn_last_error());
    free(img);

    /* Empty file set: "{}" with no data is valid. */
    img = st_image("{}", NULL, 0, &len);
    read_image(path, img, len, &c, MBN_OK);
    T_CHECK(c.count == 0, "empty");
    free(img);

    /* Writing fails cleanly into a missing folder, and refuses duplicate names. */
    MbnTensorSet dup = {0};
    mbn_tensors_add(&dup, "x", 1, s2, NULL);
    T_CHECK(mbn_safetensors_write("/nonexistent-mbn/w.safetensors", &dup, NULL) == MBN_EFAIL,
            "nowhere");
    mbn_tensors_add(&dup, "x", 1, s2, NULL);
    T_CHECK(mbn_safetensors_write(path, &dup, NULL) == MBN_EFAIL, "duplicate written");
    T_CHECK(t_count_files(dir, ".tmp.") == 0, "temporary file left");
    mbn_tensors_free(&dup);

    t_rmtree(dir);
    return t_summary("test_safetensors_roundtrip");
}
