#include "api/device_registry.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tune/open.h"

struct MbnRegistryEntry {
    cl_device_id id;
    MbnDevice base; /* context, program, tuning: shared by every view */
    int refs;
    /* Held while a model runs work on a device whose queues must not run at the same time
     * (MbnDevice.serialize_queues: PoCL); unused elsewhere. */
    pthread_mutex_t run_lock;
    MbnRegistryEntry *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static MbnRegistryEntry *registry;

int mbn_registry_acquire(const char *sel, MbnDevice *view, MbnRegistryEntry **entry) {
    *entry = NULL;
    memset(view, 0, sizeof *view);
    MbnDeviceInfo *all = NULL;
    int count = 0, *idx = NULL, n = 0;
    MBN_TRY(mbn_devices_list(&all, &count));
    int rc = mbn_devices_select(sel, all, count, &idx, &n);
    if (rc) {
        free(all);
        return rc;
    }
    MbnDeviceInfo info = all[idx[0]];
    free(idx);
    free(all);
    /* Held across the first open of a device (kernel compilation can take seconds), so that two
     * threads opening models on a new device build its program once. */
    pthread_mutex_lock(&registry_lock);
    MbnRegistryEntry *e = registry;
    while (e && e->id != info.device)
        e = e->next;
    bool fresh = e == NULL;
    if (fresh) {
        e = calloc(1, sizeof *e);
        if (!e) rc = mbn_fail(MBN_EFAIL, "out of host memory");
        if (rc == MBN_OK) rc = mbn_device_open_for(&e->base, &info, MBN_USE_INFER);
        if (rc == MBN_OK) {
            pthread_mutex_init(&e->run_lock, NULL);
            e->id = info.device;
            e->next = registry;
            registry = e;
        } else {
            free(e);
            e = NULL;
        }
    }
    if (rc == MBN_OK) rc = mbn_device_open_sibling(view, &e->base);
    if (rc == MBN_OK) {
        e->refs++;
        *entry = e;
    } else if (e && e->refs == 0) {
        /* A device opened just now for this model and nothing else. */
        MbnRegistryEntry **p = &registry;
        while (*p != e)
            p = &(*p)->next;
        *p = e->next;
        mbn_device_close(&e->base);
        pthread_mutex_destroy(&e->run_lock);
        free(e);
    }
    pthread_mutex_unlock(&registry_lock);
    return rc;
}

void mbn_registry_release(MbnRegistryEntry *entry, MbnDevice *view) {
    if (!entry) return;
    pthread_mutex_lock(&registry_lock);
    mbn_device_close(view);
    if (--entry->refs == 0) {
        MbnRegistryEntry **p = &registry;
        while (*p && *p != entry)
            p = &(*p)->next;
        if (*p) *p = entry->next;
        mbn_device_close(&entry->base);
        pthread_mutex_destroy(&entry->run_lock);
        free(entry);
    }
    pthread_mutex_unlock(&registry_lock);
}

int mbn_registry_open_devices(void) {
    pthread_mutex_lock(&registry_lock);
    int n = 0;
    for (MbnRegistryEntry *e = registry; e; e = e->next)
        n++;
    pthread_mutex_unlock(&registry_lock);
    return n;
}

cl_context mbn_registry_context(const MbnRegistryEntry *entry) {
    return entry ? entry->base.context : NULL;
}

void mbn_registry_run_begin(MbnRegistryEntry *entry) {
    if (entry && entry->base.serialize_queues) pthread_mutex_lock(&entry->run_lock);
}

int mbn_registry_run_end(MbnRegistryEntry *entry, MbnDevice *view, int rc) {
    if (!entry || !entry->base.serialize_queues) return rc;
    int settled = mbn_device_settle(view); /* nothing of this model's may still run */
    pthread_mutex_unlock(&entry->run_lock);
    return rc ? rc : settled;
}
