#include "model/net.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/cache_dir.h"
#include "host/cl_error.h"
#include "host/program.h"

/* Tensor offsets are rounded up to 16 floats (64 bytes) so every tensor starts on a cache line
 * and any vector width CLBlast picks is aligned. */
static size_t align16(size_t n) {
    return (n + 15) & ~(size_t)15;
}

/* Adds "<prefix>.<suffix>" (a timm name) to the tensor table. */
static int add_param(MbnNet *net, const char *prefix, const char *suffix, MbnParamKind kind,
                     int layer, int ndim, const int64_t *shape) {
    if (net->n_params >= (int)(sizeof net->params_table / sizeof net->params_table[0]))
        return mbn_fail(MBN_EFAIL, "too many parameter tensors");
    MbnParam *p = &net->params_table[net->n_params++];
    memset(p, 0, sizeof *p);
    int len = snprintf(p->name, sizeof p->name, "%s.%s", prefix, suffix);
    if (len < 0 || (size_t)len >= sizeof p->name)
        return mbn_fail(MBN_EFAIL, "tensor name %s.%s: longer than %zu characters", prefix, suffix,
                        sizeof p->name - 1);
    p->kind = kind;
    p->layer = layer;
    p->ndim = ndim;
    p->count = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->count *= (size_t)shape[i];
    }
    p->offset = net->param_floats;
    p->trainable = kind != MBN_PARAM_BN_MEAN && kind != MBN_PARAM_BN_VAR;
    net->param_floats = align16(net->param_floats + p->count);
    return MBN_OK;
}

static int build_table(MbnNet *net) {
    const MbnArch *a = &net->arch;
    for (int l = 0; l < a->n_layers; l++) {
        const MbnLayer *L = &a->layers[l];
        MbnLayerParams *lp = &net->lp[l];
        memset(lp, 0xff, sizeof *lp); /* SIZE_MAX: absent */
        if (L->type == MBN_LAYER_POOL) continue;
        if (L->type == MBN_LAYER_FC) {
            int64_t ws[2] = {L->cout, L->cin}, bs[1] = {L->cout};
            lp->w = net->param_floats;
            MBN_TRY(add_param(net, L->timm, "weight", MBN_PARAM_FC_WEIGHT, l, 2, ws));
            lp->bias = net->param_floats;
            MBN_TRY(add_param(net, L->timm, "bias", MBN_PARAM_FC_BIAS, l, 1, bs));
            continue;
        }
        int64_t ws[4];
        MbnParamKind wk = MBN_PARAM_CONV_WEIGHT;
        if (L->type == MBN_LAYER_STEM) {
            ws[0] = L->cout, ws[1] = 3, ws[2] = 3, ws[3] = 3;
        } else if (L->type == MBN_LAYER_DW) {
            ws[0] = L->cout, ws[1] = 1, ws[2] = 3, ws[3] = 3;
            wk = MBN_PARAM_DW_WEIGHT;
        } else {
            ws[0] = L->cout, ws[1] = L->cin, ws[2] = 1, ws[3] = 1;
        }
        lp->w = net->param_floats;
        MBN_TRY(add_param(net, L->timm, "weight", wk, l, 4, ws));
        int64_t cs[1] = {L->cout};
        static const char *suffix[4] = {"weight", "bias", "running_mean", "running_var"};
        static const MbnParamKind kinds[4] = {MBN_PARAM_BN_GAMMA, MBN_PARAM_BN_BETA,
                                              MBN_PARAM_BN_MEAN, MBN_PARAM_BN_VAR};
        size_t *slots[4] = {&lp->gamma, &lp->beta, &lp->mean, &lp->var};
        for (int k = 0; k < 4; k++) {
            *slots[k] = net->param_floats;
            MBN_TRY(add_param(net, L->timm_bn, suffix[k], kinds[k], l, 1, cs));
        }
    }
    return MBN_OK;
}

static int alloc_flags(MbnNet *net, cl_mem *m, size_t bytes, cl_mem_flags flags, const char *what) {
    cl_int err;
    if (!bytes) bytes = sizeof(float);
    if (bytes > net->dev->info.max_alloc_bytes)
        return mbn_fail(MBN_EFAIL,
                        "device %s: %s needs %.1f MiB in one buffer, more than the device's "
                        "largest allocation (%.1f MiB); use a smaller batch_size",
                        net->dev->info.name, what, (double)bytes / 1048576.0,
                        (double)net->dev->info.max_alloc_bytes / 1048576.0);
    *m = clCreateBuffer(net->dev->context, CL_MEM_READ_WRITE | flags, bytes, NULL, &err);
    if (err != CL_SUCCESS)
        return mbn_fail_cl(err, "device %s: allocating %.1f MiB for %s", net->dev->info.name,
                           (double)bytes / 1048576.0, what);
    net->device_bytes += bytes;
    return MBN_OK;
}

static int alloc_bytes(MbnNet *net, cl_mem *m, size_t bytes, const char *what) {
    return alloc_flags(net, m, bytes, 0, what);
}

static int alloc(MbnNet *net, cl_mem *m, size_t floats, const char *what) {
    return alloc_bytes(net, m, floats * sizeof(float), what);
}

/* The input and output buffers: host-visible where they are mapped (mapped_io). */
static int alloc_io(MbnNet *net, cl_mem *m, size_t floats, const char *what) {
    return alloc_flags(net, m, floats * sizeof(float), net->mapped_io ? CL_MEM_ALLOC_HOST_PTR : 0,
                       what);
}

/* The fp16 path's weight layout (MbnNet.wh, wf): per conv layer its weight (halves in wh for
 * the depthwise and pointwise layers, floats in wf for the stem) and its bias (floats in wf),
 * each at 64 bytes. Returns the halves of wh; *wf_floats the floats of wf. */
static size_t half_layout(MbnNet *net, size_t *wf_floats) {
    const MbnArch *a = &net->arch;
    size_t halves = 0, floats = 0;
    for (int l = 0; l < a->n_layers; l++) {
        const MbnLayer *L = &a->layers[l];
        if (L->type == MBN_LAYER_POOL || L->type == MBN_LAYER_FC) continue;
        if (L->type == MBN_LAYER_STEM) {
            net->half_w[l] = floats;
            floats = align16(floats + (size_t)L->cout * 27);
        } else {
            size_t n = L->type == MBN_LAYER_DW ? 9 * (size_t)L->cout
                                               : mbn_ops_gemm_b_halves(net->dev, L->cin, L->cout);
            net->half_w[l] = halves;
            halves = (halves + n + 31) & ~(size_t)31; /* 64 bytes */
        }
        net->half_b[l] = floats;
        floats = align16(floats + ((size_t)L->cout + MBN_OPS_BIAS_PAD - 1) / MBN_OPS_BIAS_PAD *
                                      MBN_OPS_BIAS_PAD);
    }
    *wf_floats = floats;
    return halves;
}

static int zero(MbnNet *net, cl_mem m, size_t floats) {
    return mbn_op_fill_zero(net->dev, MBN_BUF(m, 0), floats);
}

/* The marker of this configuration: the device and its kernels (the program key: the variants
 * and their values are in its build options), the model shape, batch and use, and the family
 * the device was opened with (a forced MBN_KERNELS run apart), since kernels are compiled per
 * shape and variant. */
static int first_run_marker(const MbnNet *net, char *out, size_t len) {
    char tag[256];
    snprintf(tag, sizeof tag, "%s alpha %.9g resolution %d classes %d batch %d kernels %s%s",
             net->training ? "train" : "infer", (double)net->arch.alpha, net->arch.resolution,
             net->arch.num_classes, net->max_batch, mbn_family_name(net->dev->env.family),
             net->precision == MBN_PRECISION_FP16 ? " fp16" : "");
    return mbn_program_marker_path(net->dev, tag, out, len);
}

/* Devices noted in this process: data-parallel ranks on one device, a tuner's candidates (each
 * with other build options) and a library's several models say it once. */
static pthread_mutex_t noted_lock = PTHREAD_MUTEX_INITIALIZER;
static char noted[16][256];

static bool note_once(const char *device) {
    bool first = true;
    pthread_mutex_lock(&noted_lock);
    int k = 0;
    for (; k < 16 && noted[k][0] && first; k++)
        first = strcmp(noted[k], device) != 0;
    if (first && k < 16) snprintf(noted[k], sizeof noted[k], "%s", device);
    pthread_mutex_unlock(&noted_lock);
    return first;
}

static void note_first_run(MbnNet *net) {
    char marker[sizeof net->first_run_marker];
    if (first_run_marker(net, marker, sizeof marker) != 0 || access(marker, F_OK) == 0) return;
    snprintf(net->first_run_marker, sizeof net->first_run_marker, "%s", marker);
    if (note_once(net->dev->info.name))
        mbn_note("compiling kernels for %s (first run only)", net->dev->info.name);
}

size_t mbn_net_scratch_floats(size_t M, int C) {
    size_t need[] = {mbn_ops_dw_scratch(M, C), mbn_ops_bn_scratch(M, C), mbn_ops_gemm_scratch(M, C),
                     mbn_ops_head_scratch(M, C)};
    size_t most = 0;
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (need[i] > most) most = need[i];
    return most;
}

static int create(MbnNet *net, MbnDevice *dev, const MbnArch *arch, int max_batch, bool training,
                  MbnPrecision precision) {
    memset(net, 0, sizeof *net);
    if (max_batch < 1) return mbn_fail(MBN_EUSAGE, "batch_size %d: must be at least 1", max_batch);
    if (precision != MBN_PRECISION_FP32 && (precision != MBN_PRECISION_FP16 || training))
        return mbn_fail(MBN_EFAIL, "precision %s: only fp32, or fp16 for inference",
                        mbn_precision_name(precision));
    bool fp16 = precision == MBN_PRECISION_FP16;
    size_t B = (size_t)max_batch;
    size_t max_act = (size_t)mbn_arch_max_activation(arch) * B;
    if (max_act > (size_t)0x7fffffff)
        return mbn_fail(MBN_EUSAGE,
                        "batch_size %d: activations of %zu floats exceed the 2^31 "
                        "elements a kernel indexes; use a smaller batch",
                        max_batch, max_act);
    net->arch = *arch;
    net->dev = dev;
    net->max_batch = max_batch;
    net->training = training;
    net->precision = precision;
    net->mapped_io = dev->info.host_unified && !dev->env.no_zero_copy;
    int rc = build_table(net);
    if (rc) goto fail;
    for (int l = 0; l < arch->n_layers; l++)
        snprintf(net->bwd_label[l], sizeof net->bwd_label[l], "%s.bwd", arch->layers[l].name);
    const MbnArch *a = arch;
    const MbnLayer *stem = &a->layers[0];
    size_t stem_rows = B * (size_t)stem->hout * stem->wout;
    int cmax = a->num_classes;
    for (int l = 0; l < a->n_layers; l++)
        if (a->layers[l].cout > cmax) cmax = a->layers[l].cout;
    net->scratch_floats = training ? mbn_net_scratch_floats(max_act, cmax) + B : 0;
    char what[64];
#define ALLOC(m, n, w)                                                                             \
    do {                                                                                           \
        if ((rc = alloc(net, &(m), (n), (w))) != MBN_OK) goto fail;                                \
    } while (0)
    ALLOC(net->params, net->param_floats, "parameters");
    if (fp16) { /* folded weights in their kernels' layouts; the stem needs no patches */
        size_t wf_floats, halves = half_layout(net, &wf_floats);
        if ((rc = alloc_bytes(net, &net->wh, halves * 2, "half weights")) != MBN_OK) goto fail;
        ALLOC(net->wf, wf_floats, "the stem's weight and the biases");
        /* the padding of the GEMM panels and of the biases is read as zeros */
        if ((rc = zero(net, net->wh, halves / 2)) != MBN_OK) goto fail;
        if ((rc = zero(net, net->wf, wf_floats)) != MBN_OK) goto fail;
    } else {
        ALLOC(net->folded, net->param_floats, "folded inference weights");
        ALLOC(net->wt, net->param_floats, "transposed weights");
        ALLOC(net->patches, stem_rows * 27, "the stem's im2col patches");
    }
    if ((rc = alloc_io(net, &net->input, B * a->resolution * a->resolution * 3,
                       "the input batch")) != MBN_OK)
        goto fail;
    if ((rc = alloc_io(net, &net->logits, B * a->num_classes, "logits")) != MBN_OK ||
        (rc = alloc_io(net, &net->probs, B * a->num_classes, "probabilities")) != MBN_OK)
        goto fail;
    int pool = a->n_layers - 2;
    /* Inference allocates only what the forward pass reads and writes: parameters, folded and
     * transposed weights, the input, the stem's patches, two ping-pong activation buffers, the
     * pooled features, logits and probabilities. */
    if (training) {
        ALLOC(net->scratch, net->scratch_floats, "reduction scratch");
        ALLOC(net->loss, 16, "loss");
        ALLOC(net->labels, B, "labels");
        ALLOC(net->grads, net->param_floats, "gradients");
        ALLOC(net->momentum, net->param_floats, "momentum");
        ALLOC(net->save_mean, net->param_floats, "BN batch means");
        ALLOC(net->save_invstd, net->param_floats, "BN batch inverse std");
        ALLOC(net->dlogits, B * a->num_classes, "logit gradients");
        for (int i = 0; i < 2; i++)
            ALLOC(net->dbuf[i], max_act, "activation gradients");
        if (mbn_ops_bn_fused(dev)) {
            for (int l = 0; l < pool; l++) {
                const MbnLayer *L = &a->layers[l];
                MbnOp producer = L->type == MBN_LAYER_DW ? MBN_OP_DW_FWD : MBN_OP_GEMM;
                size_t rows = mbn_ops_bn_stats_rows(dev, producer, max_batch, L->hout, L->wout);
                size_t n = mbn_ops_bn_stats_floats(rows, L->cout);
                if (n > net->bn_stats_floats) net->bn_stats_floats = n;
            }
            ALLOC(net->bn_stats, net->bn_stats_floats, "BatchNorm tile statistics");
        }
        for (int l = 0; l < pool; l++) {
            const MbnLayer *L = &a->layers[l];
            size_t n = B * (size_t)L->hout * L->wout * L->cout;
            snprintf(what, sizeof what, "layer %s activations", L->name);
            ALLOC(net->z[l], n, what);
            ALLOC(net->y[l], n, what);
        }
        if ((rc = zero(net, net->grads, net->param_floats)) != MBN_OK) goto fail;
        if ((rc = zero(net, net->momentum, net->param_floats)) != MBN_OK) goto fail;
    } else if (fp16) {
        rc = alloc_bytes(net, &net->act_a, max_act * 2, "activations");
        if (rc == MBN_OK) rc = alloc_bytes(net, &net->act_b, max_act * 2, "activations");
        if (rc) goto fail;
        for (int l = 0; l < pool; l++)
            net->y[l] = (l % 2 == 0) ? net->act_a : net->act_b;
    } else {
        ALLOC(net->act_a, max_act, "activations");
        ALLOC(net->act_b, max_act, "activations");
        for (int l = 0; l < pool; l++)
            net->y[l] = (l % 2 == 0) ? net->act_a : net->act_b;
    }
    ALLOC(net->y[pool], B * a->layers[pool].cout, "pooled features");
#undef ALLOC
    if ((rc = zero(net, net->params, net->param_floats)) == MBN_OK) {
        note_first_run(net);
        return MBN_OK;
    }
fail: /* everything allocated so far is released; the net is left zeroed */
    mbn_net_destroy(net);
    return rc;
}

int mbn_net_create(MbnNet *net, MbnDevice *dev, const MbnArch *arch, int max_batch, bool training) {
    return create(net, dev, arch, max_batch, training, MBN_PRECISION_FP32);
}

int mbn_net_create_infer(MbnNet *net, MbnDevice *dev, const MbnArch *arch, int max_batch,
                         MbnPrecision precision) {
    return create(net, dev, arch, max_batch, false, precision);
}

static const char *const precision_names[] = {"fp32", "fp16", "auto"};

const char *mbn_precision_name(MbnPrecision p) {
    return p >= MBN_PRECISION_FP32 && p <= MBN_PRECISION_AUTO ? precision_names[p] : "?";
}

int mbn_precision_parse(const char *what, const char *value, MbnPrecision *out) {
    *out = MBN_PRECISION_FP32;
    if (!value || !*value) return MBN_OK;
    for (int p = MBN_PRECISION_FP32; p <= MBN_PRECISION_AUTO; p++)
        if (strcmp(value, precision_names[p]) == 0) {
            *out = (MbnPrecision)p;
            return MBN_OK;
        }
    return mbn_fail(MBN_EUSAGE, "%s %s: expected fp32, fp16 or auto", what, value);
}

MbnPrecision mbn_precision_resolve(const MbnDevice *dev, MbnPrecision p) {
    if (p != MBN_PRECISION_AUTO) return p;
    /* measured faster on this device: the gpu GEMM row's AUTO_FP16 (the database, or a user's
     * tuning cache); needs cl_khr_fp16 (host/plan.c) */
    bool faster = mbn_vparam_or(&dev->variants.op[MBN_OP_GEMM], "AUTO_FP16", 0) == 1;
    return dev->info.fp16 && faster ? MBN_PRECISION_FP16 : MBN_PRECISION_FP32;
}

void mbn_net_destroy(MbnNet *net) {
    bool ran = net->dev && net->dev->queue && clFinish(net->dev->queue) == CL_SUCCESS;
    if (ran && net->forwarded && net->first_run_marker[0]) mbn_cache_touch(net->first_run_marker);
    if (net->labels_uploaded) clReleaseEvent(net->labels_uploaded);
    free(net->host_labels);
    if (net->mapped && net->mapped_io) { /* a map the caller never released */
        clEnqueueUnmapMemObject(net->dev->queue, net->mapped_buf, net->mapped, 0, NULL, NULL);
        clFinish(net->dev->queue);
    }
    free(net->host_input);
    free(net->host_probs);
    cl_mem *all[] = {&net->params,  &net->grads,     &net->momentum,    &net->folded,
                     &net->wt,      &net->input,     &net->patches,     &net->scratch,
                     &net->logits,  &net->probs,     &net->dlogits,     &net->labels,
                     &net->loss,    &net->save_mean, &net->save_invstd, &net->dbuf[0],
                     &net->dbuf[1], &net->bn_stats,  &net->wh,          &net->wf};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (*all[i]) clReleaseMemObject(*all[i]);
    int pool = net->arch.n_layers - 2;
    for (int l = 0; l < MBN_MAX_LAYERS; l++) {
        if (net->z[l]) clReleaseMemObject(net->z[l]);
        if (net->training || l == pool)
            if (net->y[l]) clReleaseMemObject(net->y[l]);
    }
    if (net->act_a) clReleaseMemObject(net->act_a);
    if (net->act_b) clReleaseMemObject(net->act_b);
    memset(net, 0, sizeof *net);
}

const MbnParam *mbn_net_find_param(const MbnNet *net, const char *name) {
    for (int i = 0; i < net->n_params; i++)
        if (strcmp(net->params_table[i].name, name) == 0) return &net->params_table[i];
    return NULL;
}

int mbn_net_read_buffer(MbnNet *net, cl_mem buf, float *host) {
    MBN_CL_CHECK(clEnqueueReadBuffer(net->dev->queue, buf, CL_TRUE, 0,
                                     net->param_floats * sizeof(float), host, 0, NULL, NULL),
                 "device %s: reading parameters", net->dev->info.name);
    return MBN_OK;
}

int mbn_net_write_buffer(MbnNet *net, cl_mem buf, const float *host) {
    MBN_CL_CHECK(clEnqueueWriteBuffer(net->dev->queue, buf, CL_TRUE, 0,
                                      net->param_floats * sizeof(float), host, 0, NULL, NULL),
                 "device %s: writing parameters", net->dev->info.name);
    if (buf == net->params) net->folded_valid = false;
    return MBN_OK;
}
