/* The test harness (tests only): every tests/test_*.c uses it. Random inputs from base/rng
 * (seeded, the same sequence everywhere), tolerance-aware comparisons that print the worst
 * element, assertions that count failures and keep going (so one run reports all of them),
 * skipping through ctest's SKIP_RETURN_CODE (never a silent pass), and temporary files. */
#ifndef MBN_TESTS_SUPPORT_TESTUTIL_H
#define MBN_TESTS_SUPPORT_TESTUTIL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h> /* every test allocates and compares: stdlib and string come along */
#include <string.h>

#include "base/error.h"
#include "base/rng.h"

/* float32 unit roundoff 2^-24: every correctly rounded float operation has relative error
 * at most T_U; a sum of K terms accumulated in float in any order is off by at most
 * about (K-1) * T_U * sum|terms| (Higham, "Accuracy and Stability", 3.1). */
#define T_U (1.0 / 16777216.0)

/* ---- random inputs (base/rng) ---- */
/* Uniform integer in [lo, hi] (inclusive). */
int t_rand_int(MbnRng *r, int lo, int hi);

/* Fill float arrays (values rounded to float) and mirror them into doubles when `d` != NULL,
 * so the reference sees exactly the device's inputs. */
void tfill_uniform(MbnRng *r, float *f, double *d, size_t n, double lo, double hi);
void tfill_normal(MbnRng *r, float *f, double *d, size_t n, double mean, double std);
void tf2d(const float *f, double *d, size_t n);
void td2f(const double *d, float *f, size_t n);

/* MBN_TEST_SMALL=1: a test runs only its small shapes, which still cover its partial tiles,
 * halos and edges (ci/oclgrind.sh, where the simulator checks every access of every
 * work-item and large shapes take minutes). */
bool t_small_shapes(void);

/* ---- comparisons ---- */
/* Element i passes when |got[i] - want[i]| <= tol[i] (tol == NULL: use atol) + atol; prints
 * the worst element (largest error / allowed), the count of failures, and returns true when
 * all pass. NaN in got fails. */
bool tcheck(const char *what, const float *got, const double *want, const double *tol, double atol,
            size_t n);
/* |got - want| <= rtol * max(1, |want|) + atol, elementwise */
bool tcheck_rel(const char *what, const float *got, const double *want, double rtol, double atol,
                size_t n);
/* Maximum |a - b| and its index. */
double tmax_abs_diff(const float *a, const double *b, size_t n, size_t *where);
/* Bitwise equality of two float arrays; prints the first difference. */
bool tsame_bits(const char *what, const float *a, const float *b, size_t n);

/* ---- assertions ---- */
extern int t_failures;
extern int t_checks;
/* Records one check; on failure prints the condition and a printf-style explanation. */
#define T_CHECK(cond, ...)                                                                         \
    do {                                                                                           \
        t_checks++;                                                                                \
        if (!(cond)) {                                                                             \
            t_failures++;                                                                          \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                 \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            fflush(stdout);                                                                        \
        }                                                                                          \
    } while (0)
/* Records a boolean result from tcheck()/tsame_bits(). */
#define T_OK(expr)                                                                                 \
    do {                                                                                           \
        t_checks++;                                                                                \
        if (!(expr)) {                                                                             \
            t_failures++;                                                                          \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #expr);                                 \
        }                                                                                          \
    } while (0)
/* Aborts the test (exit 1) when a library call returns nonzero, printing mbn_last_error(). */
#define T_MBN(call)                                                                                \
    do {                                                                                           \
        int t_rc_ = (call);                                                                        \
        if (t_rc_ != 0) t_die(__FILE__, __LINE__, #call, t_rc_);                                   \
    } while (0)
void t_die(const char *file, int line, const char *what, int rc);
/* Prints a summary and returns the process exit status (0 when nothing failed). */
int t_summary(const char *test);
/* Exit status ctest reports as "Skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt). */
#define T_SKIP_CODE 77
/* A check that cannot run here (a missing tool, no device): prints why and exits with
 * T_SKIP_CODE, unless an earlier check failed (then exits 1: failures are never hidden). */
void t_skip(const char *test, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* Allocation that aborts on failure. */
void *t_alloc(size_t bytes);
/* |x| elementwise into a new array (the reference run on |inputs| gives sum|terms|). */
double *dabs(const double *x, size_t n);
/* tol[i] = (K + 2) * u * S[i]: the bound on a K-term float sum whose sum|terms| is S[i]. */
double *sum_tol(const double *S, size_t n, double K);

/* A random float tensor and its exact double mirror. */
typedef struct {
    float *f;
    double *d;
    size_t n;
} Tensor;
Tensor ttensor_new(MbnRng *r, size_t n, double lo, double hi);
void tfree(Tensor *t);

#define T_NEW(type, n) ((type *)t_alloc((size_t)(n) * sizeof(type)))

/* ---- files ---- */
/* A fresh folder /tmp/mbn-test-XXXXXX into out (cap >= 32); exits 1 when none can be made. */
void t_tempdir(char *out, size_t cap);
/* rm -rf path (files and folders below it). */
void t_rmtree(const char *path);
/* mkdir -p; 0 on success. */
int t_mkdirs(const char *path);
/* Writes n bytes; 0 on success. */
int t_write_file(const char *path, const void *data, size_t n);
/* The whole file, malloc'ed (free()), its size in *len; NULL when unreadable. */
unsigned char *t_read_file(const char *path, size_t *len);
/* Entries of dir whose name contains substr; -1 when dir cannot be read. */
int t_count_files(const char *dir, const char *substr);
/* printf-style path into one of 8 rotating static buffers (valid for 8 calls). */
const char *t_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
