/* The library's registry of open devices: every model opened on the same OpenCL device shares
 * one context, one built program and CLBlast's compiled kernels (CLBlast caches per context),
 * and gets its own queue and kernel objects (host/device.h: mbn_device_open_sibling).
 *
 * This is the library's one piece of process-wide state besides the per-thread error message,
 * and the reason for it: SPEC §7's mbn_model_open takes a device by name, so two models opened
 * independently can only share a context if the library finds the first one. It is guarded by a
 * mutex and holds a device only while a model on it is open (the last close releases the
 * context), so nothing outlives the models. */
#ifndef MBN_API_DEVICE_REGISTRY_H
#define MBN_API_DEVICE_REGISTRY_H
#include "host/device.h"

typedef struct MbnRegistryEntry MbnRegistryEntry;

/* Selects the device by SEL (as --device; the first match), opens it on first use, and opens
 * *view on it. *entry is what mbn_registry_release takes back. */
int mbn_registry_acquire(const char *sel, MbnDevice *view, MbnRegistryEntry **entry);
void mbn_registry_release(MbnRegistryEntry *entry, MbnDevice *view);
/* Brackets a model's work on its device. Where the driver must not run two queues at once
 * (MbnDevice.serialize_queues) the models sharing the device take turns: begin waits for the
 * device, end waits for this model's queue to drain and passes rc on (or the wait's failure).
 * Elsewhere both are no-ops and models on one device run concurrently. */
void mbn_registry_run_begin(MbnRegistryEntry *entry);
int mbn_registry_run_end(MbnRegistryEntry *entry, MbnDevice *view, int rc);
/* Devices currently held (tests). */
int mbn_registry_open_devices(void);
/* The shared context behind an entry (tests check that two models share it). */
cl_context mbn_registry_context(const MbnRegistryEntry *entry);

#endif
