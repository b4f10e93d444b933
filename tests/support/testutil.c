#include "tests/support/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int t_failures = 0;
int t_checks = 0;

int t_rand_int(MbnRng *r, int lo, int hi) {
    return lo + (int)mbn_rng_below(r, (uint64_t)(hi - lo) + 1);
}

void tfill_uniform(MbnRng *r, float *f, double *d, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) {
        f[i] = (float)(lo + (hi - lo) * mbn_rng_uniform(r));
        if (d) d[i] = f[i];
    }
}

void tfill_normal(MbnRng *r, float *f, double *d, size_t n, double mean, double std) {
    for (size_t i = 0; i < n; i++) {
        f[i] = (float)(mean + std * mbn_rng_normal(r));
        if (d) d[i] = f[i];
    }
}

void tf2d(const float *f, double *d, size_t n) {
    for (size_t i = 0; i < n; i++)
        d[i] = f[i];
}

void td2f(const double *d, float *f, size_t n) {
    for (size_t i = 0; i < n; i++)
        f[i] = (float)d[i];
}

bool tcheck(const char *what, const float *got, const double *want, const double *tol, double atol,
            size_t n) {
    size_t bad = 0, worst = 0;
    double worst_ratio = -1.0;
    for (size_t i = 0; i < n; i++) {
        double allowed = (tol ? tol[i] : 0.0) + atol;
        double err = fabs((double)got[i] - want[i]);
        double ratio = allowed > 0 ? err / allowed : (err > 0 ? INFINITY : 0.0);
        if (isnan(got[i]) || isnan(err)) ratio = INFINITY;
        if (ratio > 1.0) bad++;
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            worst = i;
        }
    }
    if (n == 0) return true;
    double allowed = (tol ? tol[worst] : 0.0) + atol;
    printf("%s %-44s n=%-8zu worst [%zu] got %.9g want %.9g |err| %.3g allowed %.3g (%.3f)%s",
           bad ? "FAIL" : "ok  ", what, n, worst, (double)got[worst], want[worst],
           fabs((double)got[worst] - want[worst]), allowed, worst_ratio, bad ? "" : "\n");
    if (bad) printf("; %zu elements out of tolerance\n", bad);
    return bad == 0;
}

bool tcheck_rel(const char *what, const float *got, const double *want, double rtol, double atol,
                size_t n) {
    double *tol = T_NEW(double, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        tol[i] = rtol * fmax(1.0, fabs(want[i]));
    bool ok = tcheck(what, got, want, tol, atol, n);
    free(tol);
    return ok;
}

double tmax_abs_diff(const float *a, const double *b, size_t n, size_t *where) {
    double m = 0;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (e > m || isnan(e)) {
            m = e;
            w = i;
        }
    }
    if (where) *where = w;
    return m;
}

bool tsame_bits(const char *what, const float *a, const float *b, size_t n) {
    if (memcmp(a, b, n * sizeof *a) == 0) {
        printf("ok   %-44s n=%zu bit-identical\n", what, n);
        return true;
    }
    size_t diff = 0, first = n;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof *a) != 0) {
            if (first == n) first = i;
            diff++;
        }
    printf("FAIL %-44s n=%zu: %zu elements differ, first [%zu]: %.9g vs %.9g\n", what, n, diff,
           first, (double)a[first], (double)b[first]);
    return false;
}

void t_die(const char *file, int line, const char *what, int rc) {
    printf("FATAL %s:%d: %s returned %d: %s\n", file, line, what, rc, mbn_last_error());
    fflush(stdout);
    exit(1);
}

bool t_small_shapes(void) {
    const char *e = getenv("MBN_TEST_SMALL");
    return e && strcmp(e, "1") == 0;
}

int t_summary(const char *test) {
    printf("%s: %d checks, %d failed\n", test, t_checks, t_failures);
    return t_failures ? 1 : 0;
}

void t_skip(const char *test, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("SKIP %s: ", test);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (t_failures) exit(t_summary(test));
    printf("%s: %d checks passed before the skip\n", test, t_checks);
    fflush(stdout);
    exit(T_SKIP_CODE);
}

/* Every test allocation stays listed here for the life of the process, so a test that returns
 * early on a failure (or forgets a free) is not reported by LeakSanitizer in the sanitizer CI;
 * the library's own allocations are not listed and are still checked. */
static void **t_registry;
static size_t t_registry_n, t_registry_cap;

void *t_alloc(size_t bytes) {
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p) {
        printf("FATAL: out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    if (t_registry_n == t_registry_cap) {
        size_t cap = t_registry_cap ? 2 * t_registry_cap : 1024;
        void **grown = realloc(t_registry, cap * sizeof *grown);
        if (!grown) {
            printf("FATAL: out of memory\n");
            exit(1);
        }
        t_registry = grown;
        t_registry_cap = cap;
    }
    t_registry[t_registry_n++] = p;
    return p;
}

double *dabs(const double *x, size_t n) {
    double *a = T_NEW(double, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        a[i] = fabs(x[i]);
    return a;
}

double *sum_tol(const double *S, size_t n, double K) {
    double *t = T_NEW(double, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        t[i] = (K + 2) * T_U * S[i];
    return t;
}

Tensor ttensor_new(MbnRng *r, size_t n, double lo, double hi) {
    Tensor t = {T_NEW(float, n ? n : 1), T_NEW(double, n ? n : 1), n};
    tfill_uniform(r, t.f, t.d, n, lo, hi);
    return t;
}

void tfree(Tensor *t) {
    free(t->f);
    free(t->d);
}

void t_tempdir(char *out, size_t cap) {
    if (cap >= 32) snprintf(out, cap, "/tmp/mbn-test-XXXXXX");
    if (cap < 32 || !mkdtemp(out)) {
        printf("FATAL: cannot create a temporary folder: %s\n", strerror(errno));
        exit(1);
    }
}

void t_rmtree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            t_rmtree(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

int t_mkdirs(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        mkdir(tmp, 0755);
        *p = '/';
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

int t_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    return fclose(f) == 0 && w == n ? 0 : -1;
}

unsigned char *t_read_file(const char *path, size_t *len) {
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    unsigned char *b = n >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc(n > 0 ? (size_t)n : 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) *len = (size_t)n;
    return b;
}

int t_count_files(const char *dir, const char *substr) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strstr(de->d_name, substr)) n++;
    closedir(d);
    return n;
}

const char *t_path(const char *fmt, ...) {
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, 4096, fmt, ap);
    va_end(ap);
    return b;
}
