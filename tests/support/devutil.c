#include "tests/support/devutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/cl_error.h"
#include "tune/open.h"
#include "tests/support/testutil.h"

void tdev_test_profile(MbnDeviceInfo *info) {
    const char *e = getenv("MBN_TEST_VECTOR_FLOATS");
    if (!e || !*e) return;
    int n = atoi(e);
    if (n != 4 && n != 8 && n != 16) {
        printf("FATAL: MBN_TEST_VECTOR_FLOATS=%s: expected 4, 8 or 16\n", e);
        exit(1);
    }
    info->profile.vector_floats = n;
    info->profile.vector_registers = n >= 16 ? 32 : 16; /* as a CPU's (host/device_profile.c) */
    fprintf(stderr, "device profile: %d floats a vector (MBN_TEST_VECTOR_FLOATS)\n", n);
}

int tdev_open_selected(MbnDevice *dev, const char *sel) {
    MbnDeviceInfo *all = NULL;
    int count = 0, *idx = NULL, n = 0;
    int rc = mbn_devices_list(&all, &count);
    if (rc == MBN_OK) rc = mbn_devices_select(sel, all, count, &idx, &n);
    if (rc == MBN_OK) {
        tdev_test_profile(&all[idx[0]]);
        rc = mbn_device_open(dev, &all[idx[0]]);
    }
    free(idx);
    free(all);
    return rc;
}

void tdev_open(MbnDevice *dev) {
    if (tdev_open_selected(dev, NULL) != MBN_OK) {
        printf("FATAL: no OpenCL device: %s\n", mbn_last_error());
        exit(1);
    }
    printf("device: %s (%s)\n", dev->info.name, dev->info.platform_name);
}

static TBuf make(MbnDevice *d, const void *data, size_t n, size_t off, uint32_t guard_bits) {
    TBuf b = {NULL, off, n, guard_bits == (uint32_t)-7777};
    size_t total = off + n + TBUF_GUARD;
    uint32_t *h = T_NEW(uint32_t, total);
    for (size_t i = 0; i < total; i++)
        h[i] = guard_bits;
    if (data)
        memcpy(h + off, data, n * 4);
    else
        memset(h + off, 0, n * 4);
    cl_int err;
    b.mem =
        clCreateBuffer(d->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, total * 4, h, &err);
    free(h);
    if (err != CL_SUCCESS) {
        printf("FATAL: clCreateBuffer(%zu floats): %s\n", total, mbn_cl_error_name(err));
        exit(1);
    }
    return b;
}

TBuf tbuf_new(MbnDevice *d, const float *data, size_t n, size_t off) {
    float g = TBUF_GUARD_VALUE;
    uint32_t bits;
    memcpy(&bits, &g, 4);
    return make(d, data, n, off, bits);
}

TBuf tbuf_new_int(MbnDevice *d, const int32_t *data, size_t n, size_t off) {
    return make(d, data, n, off, (uint32_t)-7777);
}

/* Writes the whole buffer, guard zones as they are now on the device (a kernel's stray write
 * stays visible to tbuf_guards_ok): oclgrind's uninitialised-value checker (ci/oclgrind.sh)
 * tracks a host write as the buffer's new extent from offset 0, so writing only the tensor
 * would make it report reads of the tensor and drop what it knew of the rest. */
void tbuf_write(MbnDevice *d, TBuf b, const float *data) {
    size_t total = b.off + b.n + TBUF_GUARD;
    float *h = T_NEW(float, total);
    cl_int err = clEnqueueReadBuffer(d->queue, b.mem, CL_TRUE, 0, total * 4, h, 0, NULL, NULL);
    if (err == CL_SUCCESS) {
        memcpy(h + b.off, data, b.n * 4);
        err = clEnqueueWriteBuffer(d->queue, b.mem, CL_TRUE, 0, total * 4, h, 0, NULL, NULL);
    }
    free(h);
    if (err != CL_SUCCESS) {
        printf("FATAL: writing a test buffer: %s\n", mbn_cl_error_name(err));
        exit(1);
    }
}

void tbuf_read(MbnDevice *d, TBuf b, float *out) {
    cl_int err =
        clEnqueueReadBuffer(d->queue, b.mem, CL_TRUE, b.off * 4, b.n * 4, out, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        printf("FATAL: clEnqueueReadBuffer: %s\n", mbn_cl_error_name(err));
        exit(1);
    }
}

bool tbuf_guards_ok(MbnDevice *d, TBuf b, const char *what) {
    size_t total = b.off + b.n + TBUF_GUARD;
    uint32_t *h = T_NEW(uint32_t, total);
    cl_int err = clEnqueueReadBuffer(d->queue, b.mem, CL_TRUE, 0, total * 4, h, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        printf("FATAL: clEnqueueReadBuffer: %s\n", mbn_cl_error_name(err));
        exit(1);
    }
    float g = TBUF_GUARD_VALUE;
    uint32_t want;
    memcpy(&want, &g, 4);
    if (b.is_int) want = (uint32_t)-7777;
    size_t bad = 0, where = 0;
    for (size_t i = 0; i < total; i++) {
        if (i >= b.off && i < b.off + b.n) continue;
        if (h[i] != want) {
            if (!bad) where = i;
            bad++;
        }
    }
    free(h);
    if (bad)
        printf("FAIL %s: %zu guard floats overwritten, first at %s %zu\n", what, bad,
               where < b.off ? "offset" : "tensor end +",
               where < b.off ? where : where - b.off - b.n);
    return bad == 0;
}

void tbuf_free(TBuf *b) {
    if (b->mem) clReleaseMemObject(b->mem);
    b->mem = NULL;
}

void tdev_finish(MbnDevice *d) {
    cl_int err = clFinish(d->queue);
    if (err != CL_SUCCESS) {
        printf("FATAL: clFinish: %s\n", mbn_cl_error_name(err));
        exit(1);
    }
}

TBuf tbuf_new_fill(MbnDevice *d, float value, size_t n, size_t off) {
    float *h = T_NEW(float, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        h[i] = value;
    TBuf b = tbuf_new(d, h, n, off);
    free(h);
    return b;
}

void tbuf_poison(MbnDevice *d, TBuf b, float value) {
    float *h = T_NEW(float, b.n ? b.n : 1);
    for (size_t i = 0; i < b.n; i++)
        h[i] = value;
    tbuf_write(d, b, h);
    free(h);
}

bool tbuf_unchanged(MbnDevice *d, TBuf b, const float *data, const char *what) {
    float *h = T_NEW(float, b.n ? b.n : 1);
    tbuf_read(d, b, h);
    bool same = memcmp(h, data, b.n * sizeof *h) == 0;
    free(h);
    if (!same) printf("FAIL %s: an input tensor was modified\n", what);
    return same;
}
