#include <stdlib.h>
#include <string.h>

#include "host/device.h"
#include "host/cl_error.h"
#include "host/kernels.h"
#include "host/profile.h"

const char *const mbn_kernel_names[MBN_KERNEL_COUNT] = {
#define MBN_KERNEL_NAME(name) #name,
    MBN_KERNEL_LIST(MBN_KERNEL_NAME)
#undef MBN_KERNEL_NAME
};

static int get_kernel(MbnDevice *dev, MbnKernelId id, cl_kernel *out) {
    if (!dev->kernels[id]) {
        cl_int err;
        dev->kernels[id] = clCreateKernel(dev->program, mbn_kernel_names[id], &err);
        if (err != CL_SUCCESS)
            return mbn_fail_cl(err, "device %s: kernel %s", dev->info.name, mbn_kernel_names[id]);
    }
    *out = dev->kernels[id];
    return MBN_OK;
}

int mbn_launch(MbnDevice *dev, MbnKernelId id, int dims, const size_t *global, const size_t *local,
               const MbnKArg *args, int nargs) {
    cl_kernel k = NULL;
    MBN_TRY(get_kernel(dev, id, &k));
    for (int i = 0; i < nargs; i++)
        MBN_CL_CHECK(clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value),
                     "kernel %s argument %d", mbn_kernel_names[id], i);
    size_t g[3];
    for (int d = 0; d < dims; d++) {
        if (global[d] == 0) return MBN_OK; /* nothing to do (an empty batch) */
        g[d] = local ? (global[d] + local[d] - 1) / local[d] * local[d] : global[d];
    }
    cl_event *ev = mbn_profile_slot(dev);
    dev->launches++;
    cl_int err = clEnqueueNDRangeKernel(dev->queue, k, (cl_uint)dims, NULL, g, local, 0, NULL, ev);
    if (err != CL_SUCCESS) {
        if (ev) *ev = NULL;
        const char *layer = mbn_profile_current(dev);
        return mbn_fail_cl(err, "device %s: launching %s%s%s", dev->info.name, mbn_kernel_names[id],
                           layer ? " in layer " : "", layer ? layer : "");
    }
    return MBN_OK;
}
