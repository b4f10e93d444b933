/* The MobileNet V1 network on one device: parameters (one buffer), activations, the forward
 * pass in training mode (batch-statistics BN, keeping what backward needs) and in inference
 * mode (BN folded into the conv weights and a bias), backward, and the optimizer step.
 *
 * All trainable parameters, BN running statistics and the FC bias live in one device buffer
 * `params` described by a tensor table (names and shapes as timm's mobilenetv1_100); gradients
 * and momentum have the same layout, so the optimizer and data-parallel gradient averaging see
 * one contiguous vector. */
#ifndef MBN_MODEL_NET_H
#define MBN_MODEL_NET_H
#include <CL/cl.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/device.h"
#include "io/formats/tensors.h"
#include "model/arch.h"
#include "model/ops.h"

typedef enum {
    MBN_PARAM_CONV_WEIGHT, /* stem / pointwise weight (decayed) */
    MBN_PARAM_DW_WEIGHT,   /* depthwise weight, stored [9, C] (decay switchable) */
    MBN_PARAM_BN_GAMMA,    /* never decayed when exclusion is on */
    MBN_PARAM_BN_BETA,
    MBN_PARAM_BN_MEAN, /* running statistics: not trainable */
    MBN_PARAM_BN_VAR,
    MBN_PARAM_FC_WEIGHT,
    MBN_PARAM_FC_BIAS,
} MbnParamKind;

typedef struct {
    char name[80]; /* timm name, e.g. "blocks.3.2.conv_dw.weight" */
    MbnParamKind kind;
    int layer; /* index into arch.layers */
    int ndim;
    int64_t shape[4]; /* timm shape */
    size_t offset;    /* in floats within params/grads/momentum */
    size_t count;
    bool trainable;
} MbnParam;

/* The numbers an inference network stores and computes with: fp32 everywhere, or fp16 (weights
 * with BatchNorm folded in rounded once to half, activations stored as half between layers,
 * arithmetic in float; the stem's weight, the biases, the classifier and the softmax float:
 * model/ops.h). auto is fp16 where the device has cl_khr_fp16 and its plan (the database or the
 * user's tuning: gemm.gpu_tiled's AUTO_FP16) says fp16 is faster there, else fp32. */
typedef enum { MBN_PRECISION_FP32, MBN_PRECISION_FP16, MBN_PRECISION_AUTO } MbnPrecision;

/* "fp32", "fp16" or "auto" (NULL or "": fp32); MBN_EUSAGE naming `what` (the flag or
 * parameter) otherwise. */
int mbn_precision_parse(const char *what, const char *value, MbnPrecision *out);
const char *mbn_precision_name(MbnPrecision p);
/* What auto means on this device (fp32 and fp16 are returned as they are). */
MbnPrecision mbn_precision_resolve(const MbnDevice *dev, MbnPrecision p);

/* Offsets of one layer's tensors (SIZE_MAX where absent). */
typedef struct {
    size_t w, gamma, beta, mean, var, bias;
} MbnLayerParams;

typedef struct {
    MbnArch arch;
    MbnDevice *dev;
    int max_batch;
    bool training; /* allocated for training: activations kept, gradients and momentum */

    int n_params;
    MbnParam params_table[160];
    MbnLayerParams lp[MBN_MAX_LAYERS];
    size_t param_floats;

    cl_mem params, grads, momentum;
    cl_mem folded;     /* inference weights with BN folded, same offsets as params (w, bias) */
    bool folded_valid; /* false after any change to params */
    cl_mem wt;         /* stem and pointwise weights transposed to [Cin, Cout] (see ops.h),
                          same offsets as params: of `folded` in inference, of `params` in
                          training (redone every training forward) */

    /* Activations per layer: z = conv output (pre-BN), y = ReLU6 output (next layer input). In
     * inference-only nets y alternates between two buffers and z is unused. */
    cl_mem input; /* [max_batch, R, R, 3] */
    cl_mem z[MBN_MAX_LAYERS], y[MBN_MAX_LAYERS];
    cl_mem patches;                /* stem im2col [max_batch*Ho*Wo, 27] */
    cl_mem save_mean, save_invstd; /* per BN layer, at lp offsets of gamma */
    cl_mem logits, probs, dlogits, labels, loss;
    /* The labels' upload is non-blocking, from this copy; its event is waited for only before the
     * copy is overwritten (by then long complete), so backward never waits for the device. */
    int32_t *host_labels;
    cl_event labels_uploaded;
    cl_mem dbuf[2]; /* backward ping-pong gradients w.r.t. activations */
    cl_mem scratch;
    size_t scratch_floats;
    /* Fused BatchNorm (mbn_ops_bn_fused, training only): per-tile statistics of the layer being
     * computed, sized for the largest layer; NULL when the device runs BN as separate passes. */
    cl_mem bn_stats;
    size_t bn_stats_floats;
    cl_mem act_a, act_b; /* inference ping-pong (halves on the fp16 path) */
    /* Zero-copy input and output: on a device that shares the host's memory
     * (CL_DEVICE_HOST_UNIFIED_MEMORY; not with MBN_ZERO_COPY=0), `input`, `logits` and `probs`
     * are host-visible (CL_MEM_ALLOC_HOST_PTR) and mbn_net_input_map / mbn_net_probs_map map them,
     * so that images are written and probabilities read where the device reads and writes them,
     * with no copy; elsewhere those go through a host array and clEnqueueWrite/ReadBuffer.
     * bytes_copied counts the bytes of input and output copied (driver copies, and copies into or
     * out of mapped memory by mbn_net_set_input and mbn_net_read_*). */
    bool mapped_io;
    unsigned long long bytes_copied;
    float *host_input, *host_probs; /* mbn_net_input_map's and _probs_map's without mapped_io */
    void *mapped; /* what is mapped now (input or probabilities), NULL if nothing */
    cl_mem mapped_buf;
    /* The fp16 path (precision MBN_PRECISION_FP16, inference networks only): no folded, wt or
     * patches; the depthwise and pointwise weights, folded and rounded to half, in `wh` at
     * half_w[l] (halves; in the layouts of mbn_op_bn_fold_to); the stem's folded weight at
     * half_w[0] and every conv layer's folded bias at half_b[l] in `wf` (floats). The
     * classifier reads its weight and bias from params. */
    MbnPrecision precision;
    cl_mem wh, wf;
    size_t half_w[MBN_MAX_LAYERS], half_b[MBN_MAX_LAYERS];
    char bwd_label[MBN_MAX_LAYERS][24]; /* "<layer>.bwd": backward's per-layer profile rows */
    size_t device_bytes;                /* bytes of every buffer above (mbn bench reports it) */
    /* The first-run note (mbn_net_create): the marker to create once this configuration has
     * run, when the note was given; whether a forward was enqueued. */
    char first_run_marker[1024];
    bool forwarded;
} MbnNet;

/* The training scratch (MbnNet.scratch) for M rows of at most C channels: the largest of the
 * op families' needs (model/ops.h, mbn_ops_*_scratch); callers add the loss's N floats. */
size_t mbn_net_scratch_floats(size_t M, int C);

/* Allocates the network for batches up to max_batch. `training` allocates what backward and
 * the optimizer need. Weights are left zero: call mbn_net_init or mbn_net_import. On failure
 * everything allocated so far is released and the net is left zeroed: there is nothing for
 * the caller to destroy (mbn_net_destroy is harmless on it, as on any zeroed net).
 *
 * The first run of a configuration on a device compiles kernels for seconds (PoCL per shape,
 * CLBlast its GEMMs, GPU drivers the program): unless a marker in the cache folder says this
 * device, these kernels, this model shape, batch and use have run before, it notes "compiling
 * kernels for <device> (first run only)" (base/error.h: stderr or the log callback; once per
 * device and process); mbn_net_destroy creates the marker once a forward has completed. */
int mbn_net_create(MbnNet *net, MbnDevice *dev, const MbnArch *arch, int max_batch, bool training);
/* An inference network (training false) computing in `precision` (fp32 or fp16; auto must be
 * resolved first: mbn_precision_resolve). */
int mbn_net_create_infer(MbnNet *net, MbnDevice *dev, const MbnArch *arch, int max_batch,
                         MbnPrecision precision);
void mbn_net_destroy(MbnNet *net);

/* Deterministic seeded init (host PRNG, uploaded): PyTorch's defaults, as a user building this
 * model from nn.Conv2d/nn.Linear gets: conv and FC weights and the FC bias U(+-1/sqrt(fan_in));
 * BN gamma 1, beta 0, running mean 0, var 1; momentum zero. */
int mbn_net_init(MbnNet *net, uint64_t seed);

/* Tensors in timm names/layouts (weights, BN running stats, FC). With `with_momentum`, adds
 * "optim.momentum.<name>" for every trainable tensor. */
int mbn_net_export(MbnNet *net, MbnTensorSet *out, bool with_momentum);
/* Loads tensors by timm name, checking shapes; missing/unexpected/mis-shaped tensors are named
 * in the error. With skip_classifier, classifier.* is left as initialised (fine-tuning to a new
 * class count). "num_batches_tracked" entries are ignored. Loads momentum when present and
 * load_momentum is set. */
int mbn_net_import(MbnNet *net, const MbnTensorSet *set, bool skip_classifier, bool load_momentum);

/* Uploads n images (NHWC float, normalised) into the input buffer (a copy either way). */
int mbn_net_set_input(MbnNet *net, const float *images, int n);
/* Where to write n images so that no copy is made on a device sharing the host's memory
 * (mapped_io: the input buffer mapped; elsewhere a host array), then mbn_net_input_done (which
 * unmaps, or uploads). Nothing else may run on the network in between. */
int mbn_net_input_map(MbnNet *net, int n, float **images);
int mbn_net_input_done(MbnNet *net, int n);
/* The probabilities of the last forward's n images (n x K, softmax run here) where they are:
 * the probs buffer mapped (mapped_io) or read into a host array; release with
 * mbn_net_probs_done before the next forward. */
int mbn_net_probs_map(MbnNet *net, int n, const float **probs);
int mbn_net_probs_done(MbnNet *net);
/* Forward pass over the first n images of the input buffer. train: batch-statistics BN (and
 * running stats updated); else folded BN with running statistics. Result in net->logits. */
int mbn_net_forward(MbnNet *net, int n, bool train);
/* Bytes an inference forward over n images reads and writes in device memory, per image,
 * counted from the layer table (not measured): each conv's input read once and its output
 * written once at the precision's storage size (the image and the features in float), a fused
 * depthwise + pointwise pair's depthwise output kept in local memory, the pool's reads, and
 * the weights read once per batch (divided by n). Caches are not modelled. */
double mbn_net_bytes_moved(MbnNet *net, int n);
/* Softmax of the logits into net->probs and a blocking read into probs (n x K). */
int mbn_net_read_probs(MbnNet *net, int n, float *probs);
int mbn_net_read_logits(MbnNet *net, int n, float *logits);

/* Loss and backward for the last training forward: labels (n int32) uploaded, smoothed
 * cross-entropy, gradients of every trainable tensor into net->grads (overwritten). */
int mbn_net_backward(MbnNet *net, const int32_t *labels, int n, float smoothing);
/* The same, telling `ready` as it goes: after the kernels that finish the gradients of floats
 * [from, param_floats) of net->grads are queued (layer by layer, the last layer first; from
 * reaches 0 with the stem), so the data-parallel loop can queue their read and start averaging
 * them while the rest of backward runs. A non-zero return from ready stops backward with it. */
typedef struct {
    int (*ready)(void *ctx, size_t from);
    void *ctx;
} MbnGradsReady;
int mbn_net_backward_notify(MbnNet *net, const int32_t *labels, int n, float smoothing,
                            const MbnGradsReady *notify);
/* Reads the mean loss of the last backward (blocks). */
int mbn_net_read_loss(MbnNet *net, float *loss);

typedef struct {
    float lr, momentum, weight_decay;
    bool decay_depthwise_and_bn; /* false: no decay on depthwise weights, BN and biases */
} MbnSgdConfig;
/* One momentum-SGD step over every trainable tensor. */
int mbn_net_sgd_step(MbnNet *net, const MbnSgdConfig *cfg);
/* The same step for the tensors that start in floats [lo, hi) only (the buckets of an
 * overlapped gradient exchange): element by element the same arithmetic, so the same bits. */
int mbn_net_sgd_step_range(MbnNet *net, const MbnSgdConfig *cfg, size_t lo, size_t hi);

/* Blocking reads/writes of the whole flat vectors (data-parallel averaging, tests). */
int mbn_net_read_buffer(MbnNet *net, cl_mem buf, float *host);
int mbn_net_write_buffer(MbnNet *net, cl_mem buf, const float *host);

const MbnParam *mbn_net_find_param(const MbnNet *net, const char *name);

#endif
