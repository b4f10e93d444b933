#include "apps/json_out.h"

#include <math.h>
#include <stdio.h>

#include "base/error.h"

json_t *mbn_json_number(double v) {
    if (!isfinite(v)) return json_null();
    /* Whole numbers print as integers ("12345", not "12345.0"), as "%.9g" would. */
    if (v == floor(v) && fabs(v) < 9007199254740992.0) return json_integer((json_int_t)v);
    return json_real(v);
}

json_t *mbn_json_text(const char *s) {
    return s ? json_string(s) : json_null();
}

int mbn_json_print(json_t *doc) {
    if (!doc) return mbn_fail(MBN_EFAIL, "out of host memory writing the JSON document");
    int rc = json_dumpf(doc, stdout, JSON_COMPACT | JSON_REAL_PRECISION(9)) == 0 &&
                     fputc('\n', stdout) != EOF && fflush(stdout) == 0
                 ? MBN_OK
                 : mbn_fail(MBN_EFAIL, "writing the JSON document to stdout failed");
    json_decref(doc);
    return rc;
}
