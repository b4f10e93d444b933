/* MobileNet V1 as a table, like Table 1 of the paper: the stem, 13 depthwise-separable
 * blocks, global average pooling and the classifier, for any width multiplier alpha,
 * input resolution and class count (SPEC §1). */
#ifndef MBN_MODEL_ARCH_H
#define MBN_MODEL_ARCH_H
#include <stdbool.h>
#include <stdint.h>

#include "io/data/preprocess.h"

typedef enum {
    MBN_LAYER_STEM, /* 3x3 conv, stride 2, 3 -> C, + BN + ReLU6 */
    MBN_LAYER_DW,   /* depthwise 3x3, stride s, + BN + ReLU6 */
    MBN_LAYER_PW,   /* pointwise 1x1 (a GEMM), + BN + ReLU6 */
    MBN_LAYER_POOL, /* global average pool */
    MBN_LAYER_FC,   /* fully connected with bias */
} MbnLayerType;

#define MBN_BLOCKS 13
#define MBN_MAX_LAYERS (1 + 2 * MBN_BLOCKS + 2)

typedef struct {
    char name[16];    /* "stem", "dw1".."dw13", "pw1".."pw13", "pool", "fc" */
    char timm[40];    /* timm module prefix, e.g. "blocks.3.2.conv_dw" ("" for pool) */
    char timm_bn[40]; /* timm BN prefix, e.g. "blocks.3.2.bn1" ("" when no BN) */
    MbnLayerType type;
    int stride;
    int cin, hin, win;
    int cout, hout, wout;
    int64_t macs;   /* multiply-accumulates per image */
    int64_t params; /* trainable parameters: weights, BN gamma and beta, FC bias */
} MbnLayer;

typedef struct {
    float alpha;
    int resolution;
    int num_classes;
    float bn_eps;
    int n_layers;
    MbnLayer layers[MBN_MAX_LAYERS];
    int64_t macs, params;
    int feature_channels; /* channels entering the classifier */
    /* The input pipeline the model was trained for: part of the model, saved and loaded with
     * its weights (io/data/preprocess_record.h). mbn_arch_build sets the ImageNet defaults
     * with recorded = false. */
    MbnPreprocess preprocess;
} MbnArch;

/* Output side of a 3x3 convolution with symmetric padding 1: (in + 2 - 3) / stride + 1. */
static inline int mbn_conv_out(int in, int stride) {
    return (in - 1) / stride + 1;
}

/* Weights per output channel (the K of the layer's GEMM or BN fold): 9 * cin for the stem,
 * 9 for a depthwise layer, cin for a pointwise layer or the classifier. */
static inline int mbn_layer_k(const MbnLayer *L) {
    return L->type == MBN_LAYER_STEM ? 9 * L->cin : L->type == MBN_LAYER_DW ? 9 : L->cin;
}

/* Channel count after the width multiplier: max(8, floor(c * alpha)). */
int mbn_scale_channels(int c, float alpha);

/* Fills `arch`; returns MBN_EUSAGE naming the parameter for an alpha, resolution or class
 * count outside the ranges of io/formats/checkpoint.h (MBN_ALPHA_MAX ...). */
int mbn_arch_build(MbnArch *arch, float alpha, int resolution, int num_classes);

/* "1.0-224", "0.25-32": width multiplier and resolution as the paper names models. */
void mbn_arch_label(const MbnArch *arch, char *out, unsigned long len);

/* Floating-point operations counted per image: 2 per multiply-accumulate of the convolutions
 * and the classifier (the paper's mult-adds, `mbn summary`'s MACs). Inference: the forward
 * pass, 2*MACs. Training: forward + the weight gradient of every layer (2*MACs again) + the
 * input gradient of every layer but the stem (the input image needs none), i.e.
 * 6*MACs - 2*stem MACs. BatchNorm, ReLU6, pooling, loss and SGD are not counted (under 1%). */
double mbn_arch_flop_per_image(const MbnArch *arch, bool train);

/* The largest activation (elements per image) over all layers. */
int64_t mbn_arch_max_activation(const MbnArch *arch);

#endif
