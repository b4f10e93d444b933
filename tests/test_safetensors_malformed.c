/* Malformed safetensors files are refused with one line naming the file, nothing half-read:
 * bad JSON (the header is parsed by jansson, strictly: trailing data, duplicate keys, invalid
 * UTF-8, \u0000, bad escapes and surrogates, raw control characters, integers beyond 64 bits),
 * bad header length (huge, past the end, over the cap), offsets out of range, overlapping,
 * gaps, leftover data, shape/size mismatch, bad dtypes and shapes, over-long names, bad
 * metadata and excessive nesting. Escapes and non-ASCII names decode exactly, and offsets
 * above 2^53 stay exact (no double in between). */
#include "io/formats/safetensors.h"
#include "tests/support/st_read.h"
#include "tests/support/testutil.h"

static char path[512];

static void refused(const unsigned char *img, size_t len, const char *what, const char *needle) {
    T_CHECK(t_write_file(path, img, len) == 0, "write");
    MbnTensorSet s;
    memset(&s, 0x5A, sizeof s);
    int rc = mbn_safetensors_read(path, &s);
    T_CHECK(rc == MBN_EFAIL, "%s: accepted", what);
    T_CHECK(s.count == 0 && s.items == NULL, "%s: output not empty", what);
    const char *msg = mbn_last_error();
    T_CHECK(strncmp(msg, path, strlen(path)) == 0, "%s: message does not name the file: %s", what,
            msg);
    if (needle) T_CHECK(strstr(msg, needle) != NULL, "%s: want \"%s\" in: %s", what, needle, msg);
    if (rc == MBN_OK) mbn_tensors_free(&s);
}

static void refused_header(const char *header, size_t dlen, const char *what, const char *needle) {
    unsigned char data[64] = {0};
    size_t len = 0;
    unsigned char *img = st_image(header, data, dlen, &len);
    refused(img, len, what, needle);
    free(img);
}

#define T(name, dtype, shape, b, e)                                                                \
    "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

int main(void) {
    char dir[64];
    t_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bad.safetensors", dir);

    /* Sanity: the helper builds a valid file. */
    unsigned char data[64] = {0};
    size_t len = 0;
    unsigned char *img = st_image("{" T("a", "F32", "[2]", 0, 8) "}", data, 8, &len);
    T_CHECK(t_write_file(path, img, len) == 0, "write");
    MbnTensorSet ok;
    T_CHECK(mbn_safetensors_read(path, &ok) == MBN_OK, "valid file refused: %s", mbn_last_error());
    mbn_tensors_free(&ok);
    free(img);

    /* Escapes, surrogate pairs and raw UTF-8 in names and metadata decode exactly. */
    img = st_image("{\"__metadata__\":{\"k\\u00e9\":\"x\\\"y\\\\z\\n\\ud83d\\ude00\"},"
                   "\"caf\\u00e9.\xe2\x82\xac\":{\"dtype\":\"F32\",\"shape\":[2],"
                   "\"data_offsets\":[0,8]}}",
                   data, 8, &len);
    T_CHECK(t_write_file(path, img, len) == 0, "write");
    MbnStMetadata meta;
    T_CHECK(mbn_safetensors_read_ex(path, &ok, &meta) == MBN_OK, "escapes refused: %s",
            mbn_last_error());
    T_CHECK(ok.count == 1 && strcmp(ok.items[0].name, "caf\xc3\xa9.\xe2\x82\xac") == 0,
            "name decoded as %s", ok.count ? ok.items[0].name : "(none)");
    const char *mv = mbn_st_metadata_get(&meta, "k\xc3\xa9");
    T_CHECK(mv && strcmp(mv, "x\"y\\z\n\xf0\x9f\x98\x80") == 0, "metadata decoded as %s",
            mv ? mv : "(none)");
    mbn_tensors_free(&ok);
    mbn_st_metadata_free(&meta);
    free(img);
    img = st_image("{" T("a", "F32", "[2]", 0, 8) "}", data, 8, &len);

    /* Header length field. */
    unsigned char raw[16] = {0};
    refused(raw, 0, "empty file", "too short");
    refused(raw, 7, "7 bytes", "too short");
    memcpy(raw, img, 8);
    raw[7] = 0x80; /* 2^63 */
    refused(raw, 16, "2^63 header length", "over the");
    memset(raw, 0, 8);
    raw[3] = 0x10; /* 256 MiB > 100 MB cap */
    refused(raw, 16, "256 MiB header length", "over the");
    raw[3] = 0;
    raw[0] = 200;
    refused(raw, 16, "header past the end", "past the end");
    img[8 + 3] ^= 0; /* keep */
    refused(img, len - 1, "data truncated by one byte", NULL);
    free(img);

    refused_header("{" T("a", "F32", "[2]", 0, 8), 8, "unterminated JSON",
                   "bad safetensors header");
    refused_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],}}", 8,
                   "trailing comma", "JSON");
    refused_header("{" T("a", "F32", "[2]", 0, 8) "}x", 8, "garbage after JSON", "JSON");
    refused_header(" {}", 0, "leading space", "does not start");
    refused_header("[]", 0, "array header", "does not start");
    refused_header("{" T("a", "F32", "[01]", 0, 4) "}", 4, "leading zero", "JSON");
    refused_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                   "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                   8, "duplicate name", "duplicate key");
    refused_header("{" T("a", "F32", "[4]", 0, 16) "}", 8, "end past data", "past the data");
    refused_header("{" T("a", "F32", "[2]", 0, 8) "," T("b", "F32", "[1]", 4, 8) "}", 8, "overlap",
                   "overlap");
    refused_header("{" T("a", "F32", "[2]", 0, 8) "," T("b", "F32", "[2]", 0, 8) "}", 8,
                   "same range twice", "overlap");
    refused_header("{" T("a", "F32", "[1]", 0, 4) "," T("b", "F32", "[1]", 8, 12) "}", 12, "gap",
                   "gap");
    refused_header("{" T("a", "F32", "[1]", 4, 8) "}", 8, "not starting at 0", "gap");
    refused_header("{" T("a", "F32", "[1]", 0, 4) "}", 12, "leftover data", "after the last");
    refused_header("{" T("a", "F32", "[2]", 0, 4) "}", 4, "shape/size mismatch", "needs 8 bytes");
    refused_header("{" T("a", "F16", "[3]", 0, 4) "}", 4, "F16 size mismatch", "needs 6 bytes");
    refused_header("{" T("a", "F32", "[1]", 4, 0) "}", 4, "end before begin", "end before begin");
    refused_header("{" T("a", "F32", "[-1]", 0, 0) "}", 0, "negative dim", "bad shape");
    refused_header("{" T("a", "F32", "[1.5]", 0, 4) "}", 4, "fractional dim", "bad shape");
    refused_header("{" T("a", "F32", "[\"1\"]", 0, 4) "}", 4, "string dim", "bad shape");
    refused_header("{" T("a", "F32", "[1,1,1,1,1]", 0, 4) "}", 4, "rank 5", "rank 5");
    refused_header("{" T("a", "F32", "[1099511627776,1099511627776]", 0, 4) "}", 4,
                   "product overflow", "too large");
    refused_header("{" T("a", "F32", "[18446744073709551616]", 0, 4) "}", 4, "dim over int64",
                   "number too large for a 64-bit integer");
    refused_header("{" T("a", "F32", "[1e400]", 0, 4) "}", 4, "dim 1e400", "JSON");
    refused_header("{" T("a", "F32", "[1e3]", 0, 4) "}", 4, "real dim", "bad shape");
    /* 2^53 + 1 stays exact: a parser going through doubles would print ...992. */
    refused_header("{" T("a", "F32", "[1]", 0, 9007199254740993) "}", 4, "offset 2^53+1",
                   "data_offsets span 9007199254740993");
    refused_header("{" T("a", "F32", "[1]", 0, 4.0) "}", 4, "real offset", "bad data_offsets");
    refused_header("{" T("a", "Q4", "[1]", 0, 4) "}", 4, "unknown dtype", "unsupported dtype Q4");
    refused_header("{" T("a", "U8", "[4]", 0, 4) "}", 4, "U8 dtype", "unsupported dtype U8");
    refused_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4,
                   "three offsets", "data_offsets");
    refused_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "missing offsets", "needs");
    refused_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
                   "extra field", "needs exactly");
    refused_header("{\"a\":[1]}", 0, "entry not an object", "not an object");
    refused_header("{\"__metadata__\":{\"k\":1}}", 0, "metadata value not a string", "strings");
    refused_header("{\"__metadata__\":[]}", 0, "metadata not an object", "not an object");
    refused_header("{\"__metadata__\":{\"k\":[[[[[[[[[[\"deep\"]]]]]]]]]]}}", 0, "deep nesting",
                   "nesting too deep");
    refused_header("{\"\xff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                   "invalid UTF-8 name", "UTF-8");
    const char *bad_utf8[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"};
    const char *bad_utf8_what[] = {"overlong UTF-8", "encoded surrogate", "beyond U+10FFFF",
                                   "truncated UTF-8"};
    for (int k = 0; k < 4; k++) {
        char h[200];
        snprintf(h, sizeof h, "{\"a%s\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                 bad_utf8[k]);
        refused_header(h, 4, bad_utf8_what[k], "UTF-8");
    }
    const char *bad_str[] = {"a\\ud800", "a\\udc00b", "a\\ud800\\u0041",
                             "a\\x",     "a\\u12G4",  "a\nb"};
    for (int k = 0; k < 6; k++) {
        char h[200];
        snprintf(h, sizeof h, "{\"%s\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                 bad_str[k]);
        refused_header(h, 4, bad_str[k], "JSON");
    }
    refused_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} {}", 4,
                   "two documents", "JSON");
    refused_header("{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                   "NUL in name", "NUL");
    refused_header("{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                   "empty name", "empty");
    char longname[400];
    snprintf(longname, sizeof longname,
             "{\"%0120d\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 0);
    refused_header(longname, 4, "long name", "longer than");
    refused_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\x01", 4,
                   "control char after JSON", "JSON");
    refused_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4,
                   "missing close brace", "JSON");

    /* A directory or missing file. */
    MbnTensorSet s;
    T_CHECK(mbn_safetensors_read(dir, &s) == MBN_EFAIL, "directory accepted");
    T_CHECK(mbn_safetensors_read("/nonexistent-mbn.safetensors", &s) == MBN_EFAIL, "missing file");
    T_CHECK(strstr(mbn_last_error(), "/nonexistent-mbn.safetensors") != NULL, "%s",
            mbn_last_error());

    t_rmtree(dir);
    return t_summary("test_safetensors_malformed");
}
