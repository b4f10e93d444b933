#include "host/profile.h"

#include <stdio.h>
#include <string.h>

#include "host/device.h"
#include "host/cl_error.h"

void mbn_profile_begin(MbnDevice *dev, MbnProfile *p) {
    if (p->n_layers == 0) memset(p, 0, sizeof *p);
    p->current[0] = '\0';
    p->n_events = 0;
    dev->profile = p;
}

static int layer_slot(MbnProfile *p, const char *name) {
    for (int i = 0; i < p->n_layers; i++)
        if (strcmp(p->layer_names[i], name) == 0) return i;
    if (p->n_layers == MBN_PROFILE_MAX_LAYERS) return MBN_PROFILE_MAX_LAYERS - 1;
    snprintf(p->layer_names[p->n_layers], sizeof p->layer_names[0], "%s", name);
    p->layer_ms[p->n_layers] = 0;
    return p->n_layers++;
}

void mbn_profile_layer(MbnDevice *dev, const char *name) {
    if (dev->profile) snprintf(dev->profile->current, sizeof dev->profile->current, "%s", name);
}

const char *mbn_profile_current(const MbnDevice *dev) {
    const MbnProfile *p = dev->profile;
    return p && p->current[0] ? p->current : NULL;
}

static int flush(MbnDevice *dev) {
    MbnProfile *p = dev->profile;
    MBN_CL_CHECK(clFinish(dev->queue), "device %s: clFinish", dev->info.name);
    cl_ulong prev_end = 0;
    for (int i = 0; i < p->n_events; i++) {
        cl_ulong start = 0, end = 0;
        if (!p->events[i]) continue;
        clGetEventProfilingInfo(p->events[i], CL_PROFILING_COMMAND_START, sizeof start, &start,
                                NULL);
        clGetEventProfilingInfo(p->events[i], CL_PROFILING_COMMAND_END, sizeof end, &end, NULL);
        cl_ulong from = prev_end && prev_end < end ? prev_end : start;
        if (end > from) p->layer_ms[p->event_layer[i]] += (double)(end - from) * 1e-6;
        prev_end = end;
        clReleaseEvent(p->events[i]);
    }
    p->n_events = 0;
    return MBN_OK;
}

cl_event *mbn_profile_slot(MbnDevice *dev) {
    MbnProfile *p = dev->profile;
    if (!p) return NULL;
    if (p->n_events == MBN_PROFILE_MAX_EVENTS && flush(dev) != MBN_OK) return NULL;
    int i = p->n_events++;
    p->events[i] = NULL;
    p->event_layer[i] = layer_slot(p, p->current[0] ? p->current : "other");
    return &p->events[i];
}

int mbn_profile_end(MbnDevice *dev) {
    if (!dev->profile) return MBN_OK;
    int rc = flush(dev);
    dev->profile = NULL;
    return rc;
}
