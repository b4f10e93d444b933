/* Per-layer timing from OpenCL profiling events. A layer's time is the span from the end of
 * the previous recorded command to the end of the layer's last command on the in-order queue,
 * so kernels CLBlast launches internally (padding, transposes) are counted in their layer. */
#ifndef MBN_HOST_PROFILE_H
#define MBN_HOST_PROFILE_H
#include <CL/cl.h>

#define MBN_PROFILE_MAX_LAYERS 96
#define MBN_PROFILE_MAX_EVENTS 4096

typedef struct MbnProfile {
    char current[24]; /* label of the commands being enqueued (a copy); "" before any layer */
    int n_layers;
    char layer_names[MBN_PROFILE_MAX_LAYERS][24];
    double layer_ms[MBN_PROFILE_MAX_LAYERS];
    int n_events;
    cl_event events[MBN_PROFILE_MAX_EVENTS];
    int event_layer[MBN_PROFILE_MAX_EVENTS];
} MbnProfile;

struct MbnDevice;
void mbn_profile_begin(struct MbnDevice *dev, MbnProfile *p);
/* Labels the commands enqueued from now on (the name is copied: a temporary is fine). */
void mbn_profile_layer(struct MbnDevice *dev, const char *name);
/* The current layer's label for error messages, or NULL when not profiling or before any
 * layer. */
const char *mbn_profile_current(const struct MbnDevice *dev);
/* Returns a slot for an event of the current layer, or NULL when not profiling. */
cl_event *mbn_profile_slot(struct MbnDevice *dev);
/* Waits for the queue, adds up the per-layer times (accumulating over calls), releases events
 * and stops recording. */
int mbn_profile_end(struct MbnDevice *dev);

#endif
