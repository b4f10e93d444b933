/* Device-side test helpers: buffers with guard zones around the tensor (so an op writing out of
 * bounds, or ignoring its offset, is caught), uploads and blocking reads. */
#ifndef MBN_TESTS_SUPPORT_DEVUTIL_H
#define MBN_TESTS_SUPPORT_DEVUTIL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/device.h"
#include "model/ops.h"

/* Sentinel written into guard zones: a float no op computes from our data. */
#define TBUF_GUARD_VALUE (-12345.678f)
#define TBUF_GUARD 37 /* floats after the tensor */

typedef struct {
    cl_mem mem;
    size_t off; /* floats before the tensor (also guarded) */
    size_t n;   /* tensor floats */
    bool is_int;
} TBuf;

/* Opens the device --device SEL would (NULL: the default) as mbn_device_open_selected does,
 * with MBN_TEST_VECTOR_FLOATS applied (below). */
int tdev_open_selected(MbnDevice *dev, const char *sel);
/* tdev_open_selected(dev, NULL); exits 1 when no device opens. */
void tdev_open(MbnDevice *dev);

/* MBN_TEST_VECTOR_FLOATS=N (4, 8 or 16): the device's profile says its native float vector is N
 * floats wide, with a CPU's vector registers for it (16, or 32 at 16 floats), so its plan builds
 * the cpu kernels at that width and half of it, with that GEMM tile (ci/oclgrind.sh checks the
 * 16- and 8-wide forms on a simulator that reports 1). Applied by tdev_open_selected and
 * bench/op_bench; unset or empty: the device's own; exits 1 on another value. */
void tdev_test_profile(MbnDeviceInfo *info);
/* A buffer of off + n + TBUF_GUARD floats; the tensor is at `off`, initialised from data (or
 * zero when data is NULL), guards filled with TBUF_GUARD_VALUE. */
TBuf tbuf_new(MbnDevice *d, const float *data, size_t n, size_t off);
/* The same for int32 data (labels); guards hold -7777. */
TBuf tbuf_new_int(MbnDevice *d, const int32_t *data, size_t n, size_t off);
void tbuf_write(MbnDevice *d, TBuf b, const float *data);
void tbuf_read(MbnDevice *d, TBuf b, float *out);
/* True when both guard zones still hold the sentinel; prints what was overwritten. */
bool tbuf_guards_ok(MbnDevice *d, TBuf b, const char *what);
void tbuf_free(TBuf *b);
static inline MbnBuf tb(TBuf b) {
    return MBN_BUF(b.mem, b.off);
}
void tdev_finish(MbnDevice *d);

#endif

#ifndef MBN_TESTS_SUPPORT_DEVUTIL_EXTRA
#define MBN_TESTS_SUPPORT_DEVUTIL_EXTRA
/* A tensor pre-filled with `value` (output buffers: proves the op overwrites, not accumulates). */
TBuf tbuf_new_fill(MbnDevice *d, float value, size_t n, size_t off);
/* Overwrites the tensor with `value` (outputs before every run: a run that writes nothing, or
 * only part, cannot pass on an earlier run's result). */
void tbuf_poison(MbnDevice *d, TBuf b, float value);
/* True when the tensor still holds exactly `data` (inputs an op must not modify). */
bool tbuf_unchanged(MbnDevice *d, TBuf b, const float *data, const char *what);
#endif
