/* mbn_net_create cleans up after itself: a create that fails part-way (a buffer larger than the
 * device allows, at every allocation in turn, for training and inference nets; an absurd batch
 * size) returns an error naming the device and the batch, leaves the net zeroed, and holds no
 * OpenCL buffer afterwards: every buffer retains the context, so the context's reference count
 * must be back where it was. mbn_net_destroy is safe on a zeroed net and after a failed create.
 * The sanitizer CI runs this under LeakSanitizer for the host side. */
#include "host/device.h"
#include "model/net.h"
#include "tests/support/devutil.h"
#include "tests/support/testutil.h"

static cl_uint context_refs(MbnDevice *dev) {
    cl_uint n = 0;
    T_CHECK(clGetContextInfo(dev->context, CL_CONTEXT_REFERENCE_COUNT, sizeof n, &n, NULL) ==
                CL_SUCCESS,
            "CL_CONTEXT_REFERENCE_COUNT");
    return n;
}

static bool all_zero(const MbnNet *net) {
    const unsigned char *p = (const unsigned char *)net;
    for (size_t i = 0; i < sizeof *net; i++)
        if (p[i]) return false;
    return true;
}

/* Creates with the device's largest allocation capped at `cap` bytes; returns the status. */
static int create_capped(MbnDevice *dev, const MbnArch *arch, int batch, bool training,
                         unsigned long long cap, MbnNet *net) {
    unsigned long long real = dev->info.max_alloc_bytes;
    dev->info.max_alloc_bytes = cap;
    int rc = mbn_net_create(net, dev, arch, batch, training);
    dev->info.max_alloc_bytes = real;
    return rc;
}

int main(void) {
    MbnDevice dev;
    tdev_open(&dev);
    MbnArch arch;
    T_MBN(mbn_arch_build(&arch, 0.25f, 32, 10));
    static MbnNet net; /* large: static, not on the stack */
    memset(&net, 0, sizeof net);
    mbn_net_destroy(&net); /* a zeroed net: nothing to free, no crash */
    cl_uint base = context_refs(&dev);
    printf("context references with no net: %u\n", base);

    for (int training = 0; training < 2; training++) {
        /* A cap just under each buffer size in turn makes the create fail at that allocation,
         * after every smaller-or-equal earlier one succeeded. Walk caps downwards from the
         * largest buffer until the very first allocation fails. */
        T_MBN(mbn_net_create(&net, &dev, &arch, 8, training != 0));
        T_CHECK(context_refs(&dev) > base, "a created net holds buffers (references %u)",
                context_refs(&dev));
        mbn_net_destroy(&net);
        T_CHECK(context_refs(&dev) == base, "destroy released every buffer (%u, want %u)",
                context_refs(&dev), base);
        int failures = 0;
        for (unsigned long long cap = 64ull << 20; cap >= 16; cap /= 2) {
            memset(&net, 0x5A, sizeof net); /* create must not depend on a clean struct */
            int rc = create_capped(&dev, &arch, 8, training != 0, cap, &net);
            if (rc == MBN_OK) {
                mbn_net_destroy(&net);
                continue;
            }
            failures++;
            T_CHECK(rc == MBN_EFAIL, "cap %llu: status %d", cap, rc);
            T_CHECK(strstr(mbn_last_error(), dev.info.name) != NULL &&
                        strstr(mbn_last_error(), "largest allocation") != NULL,
                    "cap %llu: unclear error: %s", cap, mbn_last_error());
            T_CHECK(all_zero(&net), "cap %llu: a failed create left a non-zeroed net", cap);
            T_CHECK(context_refs(&dev) == base, "%s, cap %llu: %u context references, want %u",
                    training ? "training" : "inference", cap, context_refs(&dev), base);
            mbn_net_destroy(&net); /* after a failed create: safe, frees nothing twice */
        }
        T_CHECK(failures >= 10, "only %d capped creates failed", failures);
        printf("%s net: %d creates failed part-way, each released everything\n",
               training ? "training" : "inference", failures);
    }

    /* An absurd batch: refused before anything is allocated, naming the batch size. */
    memset(&net, 0x5A, sizeof net);
    int rc = mbn_net_create(&net, &dev, &arch, 1 << 30, true);
    T_CHECK(rc != MBN_OK && strstr(mbn_last_error(), "batch_size 1073741824: "),
            "batch 2^30: %d %s", rc, mbn_last_error());
    T_CHECK(all_zero(&net) && context_refs(&dev) == base, "batch 2^30 left something behind");
    /* A batch that passes the indexing limit but not the device's allocation limit. */
    T_MBN(mbn_arch_build(&arch, 1.0f, 224, 1000));
    size_t per_image = (size_t)mbn_arch_max_activation(&arch) * sizeof(float);
    int batch = (int)(dev.info.max_alloc_bytes / per_image) + 1;
    if ((size_t)batch * mbn_arch_max_activation(&arch) <= 0x7fffffffu) {
        rc = mbn_net_create(&net, &dev, &arch, batch, true);
        T_CHECK(rc == MBN_EFAIL && strstr(mbn_last_error(), "largest allocation"),
                "batch %d: %d %s", batch, rc, mbn_last_error());
        T_CHECK(all_zero(&net) && context_refs(&dev) == base, "batch %d left something behind",
                batch);
        printf("batch %d: %s\n", batch, mbn_last_error());
    }
    mbn_device_close(&dev);
    return t_summary("test_net_create_fail");
}
