/* The strict JSON parser: values of every kind, escapes and surrogate pairs decode correctly,
 * integers stay exact to int64, and malformed or hostile input (bad tokens, trailing data,
 * depth and value limits, raw control characters, invalid UTF-8, duplicate keys) is refused. */
#include <locale.h>

#include "io/formats/json_parse.h"
#include "tests/support/testutil.h"

static int parse(const char *s, MbnJsonv *v) {
    return mbn_jsonv_parse(s, strlen(s), NULL, v);
}

static void bad(const char *s, const char *needle) {
    MbnJsonv v;
    T_CHECK(parse(s, &v) == MBN_EFAIL, "accepted: %s", s);
    if (needle) T_CHECK(strstr(mbn_last_error(), needle) != NULL, "%s: %s", s, mbn_last_error());
}

int main(void) {
    MbnJsonv v;
    const char *doc = " {\"a\": [1, -2.5e3, true, false, null, \"x\\\"y\\\\z\\/\\b\\f\\n\\r\\t\"],"
                      " \"u\": \"\\u00e9\\u20ac\\ud83d\\ude00\xc3\xa9\", \"big\": 9007199254740993,"
                      " \"neg\": -9223372036854775808, \"huge\": 1e400, \"e\": {}, \"z\": []} ";
    T_CHECK(parse(doc, &v) == MBN_OK, "%s", mbn_last_error());
    const MbnJsonv *a = mbn_jsonv_get(&v, "a");
    T_CHECK(a && a->type == MBN_JSONV_ARRAY && a->count == 6, "array");
    if (a && a->count == 6) {
        T_CHECK(a->items[0].is_int && a->items[0].i == 1, "1");
        T_CHECK(!a->items[1].is_int && a->items[1].num == -2500.0, "-2.5e3");
        T_CHECK(a->items[2].type == MBN_JSONV_BOOL && a->items[2].b, "true");
        T_CHECK(a->items[3].type == MBN_JSONV_BOOL && !a->items[3].b, "false");
        T_CHECK(a->items[4].type == MBN_JSONV_NULL, "null");
        T_CHECK(a->items[5].type == MBN_JSONV_STRING &&
                    strcmp(a->items[5].str, "x\"y\\z/\b\f\n\r\t") == 0,
                "escapes: %s", a->items[5].str);
    }
    const MbnJsonv *u = mbn_jsonv_get(&v, "u");
    T_CHECK(u && strcmp(u->str, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc3\xa9") == 0, "unicode");
    const MbnJsonv *big = mbn_jsonv_get(&v, "big");
    T_CHECK(big && big->is_int && big->i == 9007199254740993LL, "2^53+1 exact");
    const MbnJsonv *neg = mbn_jsonv_get(&v, "neg");
    T_CHECK(neg && neg->is_int && neg->i == INT64_MIN, "int64 min");
    const MbnJsonv *huge = mbn_jsonv_get(&v, "huge");
    T_CHECK(huge && !huge->is_int, "1e400");
    T_CHECK(mbn_jsonv_get(&v, "e") && mbn_jsonv_get(&v, "e")->count == 0, "empty object");
    T_CHECK(!mbn_jsonv_get(&v, "missing"), "missing key");
    mbn_jsonv_free(&v);

    T_CHECK(parse("18446744073709551615", &v) == MBN_OK && !v.is_int, "over int64 is not int");
    mbn_jsonv_free(&v);
    /* "\u0000" is kept, with its length. */
    T_CHECK(parse("\"a\\u0000b\"", &v) == MBN_OK && v.str_len == 3 && v.str[1] == 0, "NUL escape");
    mbn_jsonv_free(&v);

    bad("", "end of input");
    bad("   ", "end of input");
    bad("{", NULL);
    bad("[1,]", NULL);
    bad("{\"a\":1,}", NULL);
    bad("{\"a\" 1}", "':'");
    bad("{a:1}", "string key");
    bad("[1 2]", NULL);
    bad("01", "trailing");
    bad("-", "bad number");
    bad("1.", "fraction");
    bad("1e", "exponent");
    bad(".5", NULL);
    bad("+1", NULL);
    bad("NaN", NULL);
    bad("tru", NULL);
    bad("nulls", "trailing");
    bad("\"abc", "unterminated");
    bad("\"a\\", "unterminated");
    bad("\"\\x\"", "bad escape");
    bad("\"\\u12G4\"", "hex");
    bad("\"\\u12\"", NULL);
    bad("\"\\ud800\"", "surrogate");
    bad("\"\\udc00\"", "surrogate");
    bad("\"\\ud800\\u0041\"", "surrogate");
    bad("\"a\nb\"", "control character");
    bad("\"\xc0\xaf\"", "UTF-8");         /* overlong */
    bad("\"\xed\xa0\x80\"", "UTF-8");     /* encoded surrogate */
    bad("\"\xf4\x90\x80\x80\"", "UTF-8"); /* > U+10FFFF */
    bad("\"\xe2\x82\"", "UTF-8");         /* truncated sequence */
    bad("{\"a\":1,\"a\":2}", "duplicate key");
    bad("[1] [2]", "trailing");

    /* Depth limit, and a value-count limit bounding memory. */
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    T_CHECK(mbn_jsonv_parse(deep, 200, NULL, &v) == MBN_EFAIL, "depth 100 accepted");
    MbnJsonParseOptions o = {.max_depth = 200};
    T_CHECK(mbn_jsonv_parse(deep, 200, &o, &v) == MBN_OK, "depth 100 with max 200: %s",
            mbn_last_error());
    mbn_jsonv_free(&v);
    MbnJsonParseOptions lim = {.max_values = 3};
    T_CHECK(mbn_jsonv_parse("[1,2,3]", 7, &lim, &v) == MBN_EFAIL, "value limit");
    T_CHECK(strstr(mbn_last_error(), "too many values") != NULL, "%s", mbn_last_error());
    /* Length-bounded: a document followed by bytes outside len parses. */
    T_CHECK(mbn_jsonv_parse("[1]garbage", 3, NULL, &v) == MBN_OK, "bounded length");
    mbn_jsonv_free(&v);
    MbnJsonParseOptions dup_ok = {.reject_duplicate_keys = false};
    T_CHECK(mbn_jsonv_parse("{\"a\":1,\"a\":2}", 13, &dup_ok, &v) == MBN_OK, "duplicates allowed");
    mbn_jsonv_free(&v);

    /* Many keys: the duplicate check must not be quadratic (200k keys parse in well under a
     * second), and a duplicate among them is still found. */
    int nk = 200000;
    char *many = malloc((size_t)nk * 16 + 64);
    size_t at = 0;
    many[at++] = '{';
    for (int k = 0; k < nk; k++)
        at += (size_t)sprintf(many + at, "%s\"k%d\":0", k ? "," : "", k);
    many[at] = '}';
    T_CHECK(mbn_jsonv_parse(many, at + 1, NULL, &v) == MBN_OK && v.count == nk, "many keys: %s",
            mbn_last_error());
    mbn_jsonv_free(&v);
    at += (size_t)sprintf(many + at, ",\"k%d\":1}", nk / 2);
    T_CHECK(mbn_jsonv_parse(many, at, NULL, &v) == MBN_EFAIL, "duplicate among many keys");
    T_CHECK(strstr(mbn_last_error(), "duplicate key") != NULL, "%s", mbn_last_error());
    free(many);

    /* Under a locale whose decimal point is ',' numbers still parse ('.' is JSON's). */
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
        T_CHECK(parse("2.5", &v) == MBN_OK && v.num == 2.5, "locale: %g", v.num);
        mbn_jsonv_free(&v);
        setlocale(LC_NUMERIC, "C");
    }

    return t_summary("test_json_parse");
}
