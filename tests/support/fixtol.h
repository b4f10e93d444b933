/* Tolerances for comparisons with the PyTorch fixtures (tests/gen_torch_fixtures.py).
 *
 * The fixtures hold the float64 answer; their metadata records, per tensor, "dev.<name>" =
 * max|torch_float32 - float64| / max|float64|: how far a legitimate float32 implementation
 * (PyTorch's CPU kernels on the same inputs) strayed from the exact answer on that very tensor.
 * mbn computes in float32 with other summation orders (CLBlast tiles, chunked reductions), so
 * it is expected within a small multiple of that: we allow
 *     |mbn - ref| <= max(FIX_FACTOR * dev, FIX_FLOOR) * max|ref| (+ the tensor-specific extras)
 * FIX_FACTOR 10 leaves room for a different but equally valid order; FIX_FLOOR 2e-5 (about 340
 * float ulps of the largest element) covers tensors where torch happened to land almost
 * exactly. Any real bug (wrong index, missing term, wrong constant, wrong mask) moves values by
 * a sizeable fraction of max|ref|, far beyond this. */
#ifndef MBN_TESTS_SUPPORT_FIXTOL_H
#define MBN_TESTS_SUPPORT_FIXTOL_H
#include <math.h>
#include <stdlib.h>

#include "tests/support/st_read.h"

#define FIX_FACTOR 10.0
#define FIX_FLOOR 2e-5

static inline double fix_dev(const StFile *f, const char *name) {
    char key[320];
    snprintf(key, sizeof key, "dev.%s", name);
    const char *v = st_meta(f, key);
    return v ? atof(v) : 0.0;
}

static inline double fix_rel(const StFile *f, const char *name) {
    return fmax(FIX_FACTOR * fix_dev(f, name), FIX_FLOOR);
}

static inline double fix_maxabs(const double *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

#endif
