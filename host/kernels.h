/* Every OpenCL kernel mbn launches, by name, and the one launch helper.
 * Kernels are created lazily on first launch, so this list may name kernels of any
 * cl/ file; a missing kernel is reported by name when first used. */
#ifndef MBN_HOST_KERNELS_H
#define MBN_HOST_KERNELS_H
#include <CL/cl.h>
#include <stddef.h>

/* clang-format off */
#define MBN_KERNEL_LIST(X)                                                                         \
    /* conv_stem.cl */                                                                             \
    X(stem_im2col) X(stem_conv3x3_direct)                                                          \
    /* depthwise.cl */                                                                             \
    X(dw_conv3x3_fwd) X(dw_conv3x3_bwd_input) X(dw_conv3x3_bwd_weight_partial)                     \
    X(dw_conv3x3_fwd_vec) X(dw_conv3x3_fwd_half) X(dw_conv3x3_bwd_input_vec)                       \
    X(dw_conv3x3_bwd_input_half) X(dw_conv3x3_bwd_weight_partial_vec)                              \
    X(dw_conv3x3_bwd_weight_partial_half)                                                          \
    /* depthwise.cl: dw + pw */                                                                    \
    X(dw_pw_fwd_vec)                                                                               \
    /* depthwise_gpu.cl */                                                                         \
    X(dw_conv3x3_fwd_tile) X(dw_conv3x3_bwd_input_tile) X(dw_conv3x3_bwd_weight_lanes)             \
    /* bn_gpu.cl */                                                                                \
    X(bn_stats_partial_lanes) X(bn_stats_merge) X(bn_relu6_bwd_partial_lanes)                      \
    /* gemm_gpu.cl */                                                                              \
    X(gemm_gpu)                                                                                    \
    /* reduce.cl */                                                                                \
    X(channel_sum_partial) X(channel_reduce_rows)                                                  \
    /* bn.cl */                                                                                    \
    X(channel_sqdev_partial) X(bn_finalize_stats) X(bn_relu6_apply) X(bn_relu6_bwd_partial)        \
    X(bn_bwd_finalize) X(bn_relu6_bwd_apply) X(bn_fold)                                            \
    X(channel_sum_partial_vec) X(channel_sqdev_partial_vec) X(bn_relu6_apply_vec)                  \
    X(bn_relu6_bwd_partial_vec) X(bn_relu6_bwd_apply_vec)                                          \
    X(channel_sum_partial_half) X(channel_sqdev_partial_half) X(bn_relu6_apply_half)               \
    X(bn_relu6_bwd_partial_half) X(bn_relu6_bwd_apply_half)                                        \
    /* activation.cl */                                                                            \
    X(bias_relu6) X(bias_add_rows)                                                                 \
    /* pool.cl */                                                                                  \
    X(avgpool_fwd) X(avgpool_fwd4) X(avgpool_fwd_vec) X(avgpool_bwd)                                     \
    /* loss.cl */                                                                                  \
    X(softmax_rows) X(softmax_xent_smooth) X(mean_reduce)                                          \
    /* optim.cl */                                                                                 \
    X(sgd_momentum) X(fill_zero)                                                                   \
    /* gemm.cl */                                                                                  \
    X(gemm_tiled) X(transpose) X(transpose8) X(pack_b_panels) X(pack_b_panels_rows)                \
    /* the fp16 path: half.cl, half_gpu.cl and the half instantiations elsewhere */                \
    X(bn_fold_h) X(stem_conv3x3_h) X(gemm_rows_h) X(gemm_tiled_h) X(classifier_rows)               \
    X(half_gemm_gpu) X(half_dw_conv3x3_tile) X(dw_conv3x3_fwd_h) X(dw_conv3x3_fwd_vec_h)           \
    X(dw_conv3x3_fwd_half_h) X(dw_pw_fwd_vec_h) X(avgpool_fwd_h) X(avgpool_fwd4_h)                 \
    X(avgpool_fwd_vec_h)
/* clang-format on */

typedef enum {
#define MBN_KERNEL_ENUM(name) MBN_K_##name,
    MBN_KERNEL_LIST(MBN_KERNEL_ENUM)
#undef MBN_KERNEL_ENUM
        MBN_KERNEL_COUNT
} MbnKernelId;

extern const char *const mbn_kernel_names[MBN_KERNEL_COUNT];

struct MbnDevice;

typedef struct {
    size_t size;
    const void *value;
} MbnKArg;

#define KMEM(x) ((MbnKArg){sizeof(cl_mem), &(cl_mem){(x)}})
#define KINT(x) ((MbnKArg){sizeof(cl_int), &(cl_int){(cl_int)(x)}})
#define KFLT(x) ((MbnKArg){sizeof(cl_float), &(cl_float){(cl_float)(x)}})

/* Sets the arguments and enqueues the kernel over `global` (rounded up to a multiple of
 * `local` when given; kernels bound-check). Records a profiling event when the device is
 * profiling. */
int mbn_launch(struct MbnDevice *dev, MbnKernelId id, int dims, const size_t *global,
               const size_t *local, const MbnKArg *args, int nargs);

#define MBN_LAUNCH(dev, id, dims, global, local, ...)                                              \
    mbn_launch((dev), (id), (dims), (global), (local), (MbnKArg[]){__VA_ARGS__},                   \
               (int)(sizeof((MbnKArg[]){__VA_ARGS__}) / sizeof(MbnKArg)))

#endif
