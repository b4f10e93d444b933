/* Builds the ONNX ModelProto (export/onnx.h) as protobuf-c messages. Every message and
 * string is allocated from one arena that is freed in one go after packing. */
#include "export/onnx.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "base/error.h"
#include "base/half.h"
#include "base/version.h"
#include "io/formats/atomic_file.h"
#include "io/data/preprocess_record.h"
#include "onnx/onnx.pb-c.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ONNX raw_data is little-endian float32, copied as is"
#endif

#define ONNX_STR2(x) #x
#define ONNX_STR(x) ONNX_STR2(x)

const char *mbn_onnx_build_info(void) {
    return "opset " ONNX_STR(MBN_ONNX_OPSET) ", protobuf-c " PROTOBUF_C_VERSION;
}

/* ---- arena ---- */

typedef struct Block {
    struct Block *next;
    _Alignas(16) unsigned char data[];
} Block;

typedef struct {
    Block *blocks;
    bool failed;
} Arena;

static void *arena_alloc(Arena *a, size_t n) {
    Block *b = calloc(1, sizeof *b + n);
    if (!b) {
        a->failed = true;
        return NULL;
    }
    b->next = a->blocks;
    a->blocks = b;
    return b->data;
}

static char *arena_str(Arena *a, const char *s) {
    size_t n = strlen(s) + 1;
    char *d = arena_alloc(a, n);
    if (d) memcpy(d, s, n);
    return d;
}

static void arena_free(Arena *a) {
    while (a->blocks) {
        Block *b = a->blocks;
        a->blocks = b->next;
        free(b);
    }
}

/* Growable arrays of message pointers (graph nodes, initializers, ...). */
typedef struct {
    void **items;
    size_t n, cap;
} PtrList;

static void list_push(Arena *a, PtrList *l, void *item) {
    if (!item) {
        a->failed = true;
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        void **grown = arena_alloc(a, cap * sizeof *grown);
        if (!grown) return;
        if (l->n) memcpy(grown, l->items, l->n * sizeof *grown);
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->n++] = item;
}

typedef struct {
    Arena arena;
    const MbnArch *arch;
    const MbnTensorSet *tensors;
    PtrList nodes, inits;
    const char *path;
    bool fp16;
    int rc;
} Builder;

/* ---- tensors ---- */

/* A tensor of `count` values of `type` (FLOAT or FLOAT16) whose little-endian bytes are `data`
 * (borrowed: the tensors and the arena outlive packing). */
static Onnx__TensorProto *tensor_typed(Builder *b, const char *name, int ndim, const int64_t *dims,
                                       int type, const void *data, size_t bytes) {
    Onnx__TensorProto *t = arena_alloc(&b->arena, sizeof *t);
    int64_t *d = arena_alloc(&b->arena, (ndim ? ndim : 1) * sizeof *d);
    if (!t || !d) return NULL;
    onnx__tensor_proto__init(t);
    if (ndim) memcpy(d, dims, (size_t)ndim * sizeof *d);
    t->n_dims = (size_t)ndim;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = type;
    t->name = arena_str(&b->arena, name);
    t->has_raw_data = 1;
    t->raw_data.len = bytes;
    t->raw_data.data = (uint8_t *)data;
    return t;
}

static Onnx__TensorProto *tensor(Builder *b, const char *name, int ndim, const int64_t *dims,
                                 const float *data, size_t count) {
    return tensor_typed(b, name, ndim, dims, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, data,
                        count * sizeof(float));
}

/* A float16 tensor of the values (rounded to nearest even), its data in the arena. */
static Onnx__TensorProto *tensor_half(Builder *b, const char *name, int ndim, const int64_t *dims,
                                      const float *values, size_t count) {
    uint16_t *h = arena_alloc(&b->arena, (count ? count : 1) * sizeof *h);
    if (!h) return NULL;
    for (size_t i = 0; i < count; i++)
        h[i] = mbn_half_from_float(values[i]);
    return tensor_typed(b, name, ndim, dims, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16, h,
                        count * sizeof *h);
}

/* A tensor of the file, checked against the shape the architecture needs; NULL (b->rc set)
 * when it is missing or of another size. */
static const MbnHostTensor *checked(Builder *b, const char *name, int ndim, const int64_t *shape) {
    if (b->rc) return NULL;
    const MbnHostTensor *t = mbn_tensors_find(b->tensors, name);
    int64_t want = 1, have = t ? mbn_tensor_numel(t) : -1;
    for (int i = 0; i < ndim; i++)
        want *= shape[i];
    if (!t) {
        b->rc = mbn_fail(MBN_EFAIL, "%s: tensor %s is missing", b->path, name);
        return NULL;
    }
    if (have != want) {
        b->rc = mbn_fail(MBN_EFAIL, "%s: tensor %s has %lld values, the model needs %lld", b->path,
                         name, (long long)have, (long long)want);
        return NULL;
    }
    return t;
}

/* A weight from the file as a float initializer of its own name. */
static void weight(Builder *b, const char *name, int ndim, const int64_t *shape) {
    const MbnHostTensor *t = checked(b, name, ndim, shape);
    if (t)
        list_push(&b->arena, &b->inits,
                  tensor(b, name, ndim, shape, t->data, (size_t)mbn_tensor_numel(t)));
}

/* ---- nodes ---- */

static Onnx__AttributeProto *attr_ints(Builder *b, const char *name, int n, const int64_t *v) {
    Onnx__AttributeProto *a = arena_alloc(&b->arena, sizeof *a);
    int64_t *d = arena_alloc(&b->arena, (size_t)n * sizeof *d);
    if (!a || !d) return NULL;
    onnx__attribute_proto__init(a);
    a->name = arena_str(&b->arena, name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    memcpy(d, v, (size_t)n * sizeof *d);
    a->n_ints = (size_t)n;
    a->ints = d;
    return a;
}

static Onnx__AttributeProto *attr_int(Builder *b, const char *name, int64_t v) {
    Onnx__AttributeProto *a = arena_alloc(&b->arena, sizeof *a);
    if (!a) return NULL;
    onnx__attribute_proto__init(a);
    a->name = arena_str(&b->arena, name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
    return a;
}

static Onnx__AttributeProto *attr_float(Builder *b, const char *name, float v) {
    Onnx__AttributeProto *a = arena_alloc(&b->arena, sizeof *a);
    if (!a) return NULL;
    onnx__attribute_proto__init(a);
    a->name = arena_str(&b->arena, name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    a->has_f = 1;
    a->f = v;
    return a;
}

/* A node with up to 5 inputs, one output and up to 5 attributes (NULL-terminated lists). */
static void node(Builder *b, const char *op, const char *name, const char *const *inputs,
                 const char *output, Onnx__AttributeProto *const *attrs) {
    Onnx__NodeProto *n = arena_alloc(&b->arena, sizeof *n);
    char **in = arena_alloc(&b->arena, 5 * sizeof *in);
    char **out = arena_alloc(&b->arena, sizeof *out);
    Onnx__AttributeProto **at = arena_alloc(&b->arena, 5 * sizeof *at);
    if (!n || !in || !out || !at) return;
    onnx__node_proto__init(n);
    n->op_type = arena_str(&b->arena, op);
    n->name = arena_str(&b->arena, name);
    for (int i = 0; inputs[i]; i++)
        in[n->n_input++] = arena_str(&b->arena, inputs[i]);
    n->input = in;
    out[0] = arena_str(&b->arena, output);
    n->n_output = 1;
    n->output = out;
    for (int i = 0; attrs && attrs[i]; i++)
        at[n->n_attribute++] = attrs[i];
    n->attribute = at;
    list_push(&b->arena, &b->nodes, n);
}

/* Layer L's Conv node "<layer>.conv" on x with weight w (and bias, or NULL): kernel, stride,
 * symmetric padding and group as the layer; its weight's shape in ws. */
static void conv_node(Builder *b, const MbnLayer *L, const char *x, const char *w, const char *bias,
                      int64_t ws[4]) {
    int k = L->type == MBN_LAYER_PW ? 1 : 3, pad = (k - 1) / 2;
    ws[0] = L->cout;
    ws[1] = L->type == MBN_LAYER_STEM ? 3 : L->type == MBN_LAYER_DW ? 1 : L->cin;
    ws[2] = ws[3] = k;
    int64_t kernel[2] = {k, k}, strides[2] = {L->stride, L->stride}, pads[4] = {pad, pad, pad, pad},
            dil[2] = {1, 1};
    Onnx__AttributeProto *attrs[6] = {attr_ints(b, "kernel_shape", 2, kernel),
                                      attr_ints(b, "strides", 2, strides),
                                      attr_ints(b, "pads", 4, pads),
                                      attr_ints(b, "dilations", 2, dil),
                                      attr_int(b, "group", L->type == MBN_LAYER_DW ? L->cout : 1),
                                      NULL};
    char out[64];
    snprintf(out, sizeof out, "%s.conv", L->name);
    node(b, "Conv", out, (const char *const[]){x, w, bias, NULL}, out, attrs);
}

/* The timm names of layer L's BatchNorm tensors: weight, bias, running mean and variance. */
static void bn_names(const MbnLayer *L, char bn[][96]) {
    static const char *suffix[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int i = 0; i < 4; i++)
        snprintf(bn[i], 96, "%s.%s", L->timm_bn, suffix[i]);
}

/* conv -> BatchNormalization -> Clip(0, 6) for one layer; returns the output's name. */
static void conv_bn_relu6(Builder *b, const MbnLayer *L, const char *x, char *out, size_t cap) {
    char wname[96], conv_out[64], bn_out[64], bn[5][96];
    snprintf(wname, sizeof wname, "%s.weight", L->timm);
    int64_t ws[4];
    conv_node(b, L, x, wname, NULL, ws);
    weight(b, wname, 4, ws);
    snprintf(conv_out, sizeof conv_out, "%s.conv", L->name);
    int64_t cs[1] = {L->cout};
    bn_names(L, bn);
    for (int i = 0; i < 4; i++)
        weight(b, bn[i], 1, cs);
    snprintf(bn_out, sizeof bn_out, "%s.bn", L->name);
    Onnx__AttributeProto *bn_attrs[2] = {attr_float(b, "epsilon", b->arch->bn_eps), NULL};
    node(b, "BatchNormalization", bn_out,
         (const char *const[]){conv_out, bn[0], bn[1], bn[2], bn[3], NULL}, bn_out, bn_attrs);
    snprintf(out, cap, "%s", L->name);
    node(b, "Clip", L->name, (const char *const[]){bn_out, "relu6.min", "relu6.max", NULL}, out,
         NULL);
}

/* The fp16 graph's body layer: Conv with BatchNorm folded into its weight and bias (the float
 * arithmetic of mbn's fold: w * gamma / sqrt(var + eps), beta - mean * gamma / sqrt(var + eps)),
 * both rounded once to float16, then Clip(0, 6) in float16. Initializers
 * "<conv>.weight_folded" and "<conv>.bias_folded" (folded: not timm's tensors). */
static void conv_folded_h(Builder *b, const MbnLayer *L, const char *x, char *out, size_t cap) {
    char name[96], wname[112], bname[112], conv_out[64], bn[4][96];
    snprintf(name, sizeof name, "%s.weight", L->timm);
    snprintf(wname, sizeof wname, "%s.weight_folded", L->timm);
    snprintf(bname, sizeof bname, "%s.bias_folded", L->timm);
    int64_t ws[4], cs[1] = {L->cout};
    conv_node(b, L, x, wname, bname, ws);
    const MbnHostTensor *w = checked(b, name, 4, ws), *t[4];
    bn_names(L, bn);
    for (int i = 0; i < 4; i++)
        t[i] = checked(b, bn[i], 1, cs);
    if (b->rc) return;
    size_t per = (size_t)(ws[1] * ws[2] * ws[3]);
    float *fw = arena_alloc(&b->arena, (size_t)L->cout * per * sizeof *fw);
    float *fb = arena_alloc(&b->arena, (size_t)L->cout * sizeof *fb);
    if (!fw || !fb) return;
    for (int c = 0; c < L->cout; c++) {
        float scale = t[0]->data[c] / sqrtf(t[3]->data[c] + b->arch->bn_eps);
        for (size_t i = 0; i < per; i++)
            fw[c * per + i] = w->data[c * per + i] * scale;
        fb[c] = t[1]->data[c] - t[2]->data[c] * scale;
    }
    list_push(&b->arena, &b->inits, tensor_half(b, wname, 4, ws, fw, (size_t)L->cout * per));
    list_push(&b->arena, &b->inits, tensor_half(b, bname, 1, cs, fb, (size_t)L->cout));
    snprintf(conv_out, sizeof conv_out, "%s.conv", L->name);
    snprintf(out, cap, "%s", L->name);
    node(b, "Clip", L->name,
         (const char *const[]){conv_out, "relu6.min.f16", "relu6.max.f16", NULL}, out, NULL);
}

/* An elementwise Cast of x to `to` (ONNX data type) named `out`. */
static void cast(Builder *b, const char *x, const char *out, int64_t to) {
    Onnx__AttributeProto *attrs[2] = {attr_int(b, "to", to), NULL};
    node(b, "Cast", out, (const char *const[]){x, NULL}, out, attrs);
}

/* ---- graph inputs/outputs ---- */

static Onnx__ValueInfoProto *value_info(Builder *b, const char *name, int ndim, const int64_t *dims,
                                        const char *doc) {
    Onnx__ValueInfoProto *v = arena_alloc(&b->arena, sizeof *v);
    Onnx__TypeProto *type = arena_alloc(&b->arena, sizeof *type);
    Onnx__TypeProto__Tensor *tt = arena_alloc(&b->arena, sizeof *tt);
    Onnx__TensorShapeProto *shape = arena_alloc(&b->arena, sizeof *shape);
    Onnx__TensorShapeProto__Dimension **dim = arena_alloc(&b->arena, (size_t)ndim * sizeof *dim);
    if (!v || !type || !tt || !shape || !dim) return NULL;
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(type);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(shape);
    for (int i = 0; i < ndim; i++) {
        dim[i] = arena_alloc(&b->arena, sizeof *dim[i]);
        if (!dim[i]) return NULL;
        onnx__tensor_shape_proto__dimension__init(dim[i]);
        if (dims[i] < 0) { /* the dynamic batch */
            dim[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dim[i]->dim_param = arena_str(&b->arena, "batch");
        } else {
            dim[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dim[i]->dim_value = dims[i];
        }
    }
    shape->n_dim = (size_t)ndim;
    shape->dim = dim;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = shape;
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type->tensor_type = tt;
    v->name = arena_str(&b->arena, name);
    v->type = type;
    v->doc_string = arena_str(&b->arena, doc);
    return v;
}

static Onnx__StringStringEntryProto *entry(Builder *b, const char *key, const char *value) {
    Onnx__StringStringEntryProto *e = arena_alloc(&b->arena, sizeof *e);
    if (!e) return NULL;
    onnx__string_string_entry_proto__init(e);
    e->key = arena_str(&b->arena, key);
    e->value = arena_str(&b->arena, value);
    return e;
}

/* What a user of the file must do to an image, in words (doc_string of the model). */
static void describe(const MbnArch *a, bool fp16, char *out, size_t cap) {
    char how[640], label[32];
    mbn_preprocess_describe(&a->preprocess, a->resolution, how, sizeof how);
    mbn_arch_label(a, label, sizeof label);
    snprintf(out, cap,
             "MobileNet V1 %s, %d classes, exported by mbn %s%s. Input \"input\": float32 "
             "[batch, 3, %d, %d] (NCHW, RGB channel order), preprocessed as the model was "
             "trained: %s. Outputs: \"logits\" [batch, %d] and \"probs\" (softmax) [batch, %d]. "
             "The metadata_props preprocess.* hold the same as keys.",
             label, a->num_classes, MBN_VERSION_STRING,
             fp16 ? " in fp16 (as mbn --precision fp16: the stem in float, the other convolutions "
                    "with BatchNorm folded into float16 weights and biases on float16 "
                    "activations, the pool, classifier and softmax in float)"
                  : "",
             a->resolution, a->resolution, how, a->num_classes, a->num_classes);
}

static void metadata(Builder *b, PtrList *props, char *const *labels) {
    const MbnArch *a = b->arch;
    MbnPreprocess p = a->preprocess;
    p.recorded = true; /* defaults are written out too: the ONNX user needs them either way */
    MbnRecordPair pairs[MBN_PREPROCESS_MAX_PAIRS];
    int n = mbn_preprocess_to_pairs(&p, a->resolution, pairs);
    for (int i = 0; i < n; i++)
        list_push(&b->arena, props,
                  entry(b, pairs[i].key,
                        strcmp(pairs[i].key, "preprocess.layout") ? pairs[i].value : "NCHW"));
    list_push(&b->arena, props,
              entry(b, "preprocess.source",
                    a->preprocess.recorded ? "recorded by training"
                                           : "defaults (the model file had no record)"));
    char v[64];
    list_push(&b->arena, props, entry(b, "arch", "mobilenetv1"));
    snprintf(v, sizeof v, "%g", (double)a->alpha);
    list_push(&b->arena, props, entry(b, "alpha", v));
    snprintf(v, sizeof v, "%d", a->resolution);
    list_push(&b->arena, props, entry(b, "resolution", v));
    snprintf(v, sizeof v, "%d", a->num_classes);
    list_push(&b->arena, props, entry(b, "num_classes", v));
    snprintf(v, sizeof v, "%g", (double)a->bn_eps);
    list_push(&b->arena, props, entry(b, "bn_eps", v));
    if (!labels) return;
    size_t len = 1;
    for (int k = 0; k < a->num_classes; k++)
        len += strlen(labels[k]) + 1;
    char *joined = arena_alloc(&b->arena, len);
    if (!joined) return;
    char *w = joined;
    for (int k = 0; k < a->num_classes; k++) {
        size_t l = strlen(labels[k]);
        memcpy(w, labels[k], l);
        w += l;
        *w++ = k + 1 < a->num_classes ? '\n' : 0;
    }
    *w = 0;
    list_push(&b->arena, props, entry(b, "labels", joined));
}

static int build_graph(Builder *b, Onnx__GraphProto *g) {
    const MbnArch *a = b->arch;
    static const float relu6[2] = {0.0f, 6.0f};
    list_push(&b->arena, &b->inits, tensor(b, "relu6.min", 0, NULL, &relu6[0], 1));
    list_push(&b->arena, &b->inits, tensor(b, "relu6.max", 0, NULL, &relu6[1], 1));
    char x[64] = "input";
    int pool = a->n_layers - 2;
    if (b->fp16) { /* the stem in float as mbn runs it, its output stored as float16 */
        static const float relu6_h[2] = {0.0f, 6.0f};
        list_push(&b->arena, &b->inits, tensor_half(b, "relu6.min.f16", 0, NULL, &relu6_h[0], 1));
        list_push(&b->arena, &b->inits, tensor_half(b, "relu6.max.f16", 0, NULL, &relu6_h[1], 1));
    }
    for (int l = 0; l < pool && b->rc == MBN_OK; l++) {
        char out[64];
        if (b->fp16 && l > 0)
            conv_folded_h(b, &a->layers[l], x, out, sizeof out);
        else
            conv_bn_relu6(b, &a->layers[l], x, out, sizeof out);
        snprintf(x, sizeof x, "%s", out);
        if (b->fp16 && l == 0) {
            cast(b, out, "stem.f16", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16);
            snprintf(x, sizeof x, "stem.f16");
        }
    }
    if (b->rc) return b->rc;
    if (b->fp16) { /* the pool, the classifier and the softmax in float, as mbn runs them */
        cast(b, x, "features.f32", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
        snprintf(x, sizeof x, "features.f32");
    }
    node(b, "GlobalAveragePool", "pool", (const char *const[]){x, NULL}, "pool", NULL);
    Onnx__AttributeProto *flat_attrs[2] = {attr_int(b, "axis", 1), NULL};
    node(b, "Flatten", "flatten", (const char *const[]){"pool", NULL}, "features", flat_attrs);
    const MbnLayer *F = &a->layers[pool + 1];
    int64_t ws[2] = {F->cout, F->cin}, bs[1] = {F->cout};
    weight(b, "classifier.weight", 2, ws);
    weight(b, "classifier.bias", 1, bs);
    if (b->rc) return b->rc;
    Onnx__AttributeProto *gemm_attrs[2] = {attr_int(b, "transB", 1), NULL};
    node(b, "Gemm", "classifier",
         (const char *const[]){"features", "classifier.weight", "classifier.bias", NULL}, "logits",
         gemm_attrs);
    Onnx__AttributeProto *softmax_attrs[2] = {attr_int(b, "axis", 1), NULL};
    node(b, "Softmax", "softmax", (const char *const[]){"logits", NULL}, "probs", softmax_attrs);

    int64_t in_dims[4] = {-1, 3, a->resolution, a->resolution}, out_dims[2] = {-1, a->num_classes};
    Onnx__ValueInfoProto **inputs = arena_alloc(&b->arena, sizeof *inputs);
    Onnx__ValueInfoProto **outputs = arena_alloc(&b->arena, 2 * sizeof *outputs);
    if (!inputs || !outputs) return mbn_fail(MBN_EFAIL, "out of host memory");
    inputs[0] = value_info(b, "input", 4, in_dims,
                           "float32 NCHW, normalised as the model's preprocess.* metadata says");
    outputs[0] = value_info(b, "logits", 2, out_dims, "class scores before softmax");
    outputs[1] = value_info(b, "probs", 2, out_dims, "class probabilities (softmax of logits)");
    if (!inputs[0] || !outputs[0] || !outputs[1]) b->arena.failed = true;
    char name[64];
    snprintf(name, sizeof name, "mobilenet_v1_%g_%d", (double)a->alpha, a->resolution);
    g->name = arena_str(&b->arena, name);
    g->n_node = b->nodes.n;
    g->node = (Onnx__NodeProto **)b->nodes.items;
    g->n_initializer = b->inits.n;
    g->initializer = (Onnx__TensorProto **)b->inits.items;
    g->n_input = 1;
    g->input = inputs;
    g->n_output = 2;
    g->output = outputs;
    return b->arena.failed ? mbn_fail(MBN_EFAIL, "out of host memory building the ONNX graph")
                           : MBN_OK;
}

int mbn_onnx_write(const char *path, const MbnArch *arch, const MbnTensorSet *tensors,
                   char *const *labels, bool fp16) {
    Builder b;
    memset(&b, 0, sizeof b);
    b.fp16 = fp16;
    b.arch = arch;
    b.tensors = tensors;
    b.path = path;
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset;
    onnx__model_proto__init(&model);
    onnx__graph_proto__init(&graph);
    onnx__operator_set_id_proto__init(&opset);
    int rc = build_graph(&b, &graph);
    PtrList props = {0};
    char doc[1536];
    if (rc == MBN_OK) {
        metadata(&b, &props, labels);
        list_push(&b.arena, &props, entry(&b, "precision", fp16 ? "fp16" : "fp32"));
        describe(arch, fp16, doc, sizeof doc);
        if (b.arena.failed) rc = mbn_fail(MBN_EFAIL, "out of host memory building the ONNX graph");
    }
    unsigned char *bytes = NULL;
    size_t size = 0;
    if (rc == MBN_OK) {
        opset.domain = (char *)"";
        opset.has_version = 1;
        opset.version = MBN_ONNX_OPSET;
        Onnx__OperatorSetIdProto *opsets[1] = {&opset};
        model.has_ir_version = 1;
        model.ir_version = MBN_ONNX_IR_VERSION;
        model.n_opset_import = 1;
        model.opset_import = opsets;
        model.producer_name = (char *)"mbn";
        model.producer_version = (char *)MBN_VERSION_STRING;
        model.doc_string = doc;
        model.graph = &graph;
        model.n_metadata_props = props.n;
        model.metadata_props = (Onnx__StringStringEntryProto **)props.items;
        size = onnx__model_proto__get_packed_size(&model);
        bytes = malloc(size ? size : 1);
        if (!bytes)
            rc = mbn_fail(MBN_EFAIL, "out of host memory (%zu bytes of ONNX)", size);
        else if (onnx__model_proto__pack(&model, bytes) != size)
            rc = mbn_fail(MBN_EFAIL, "%s: protobuf-c packed an unexpected size", path);
    }
    arena_free(&b.arena);
    if (rc == MBN_OK) {
        MbnAtomicFile af;
        rc = mbn_atomic_open(&af, path);
        if (rc == MBN_OK) {
            rc = mbn_atomic_write(&af, bytes, size);
            if (rc == MBN_OK)
                rc = mbn_atomic_commit(&af);
            else
                mbn_atomic_abort(&af);
        }
    }
    free(bytes);
    return rc;
}
