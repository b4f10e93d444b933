/* The whole network in inference (BatchNorm folded, double precision) from timm-named tensors,
 * with the error mbn's fp16 path (model/ops.h) may add to each logit, derived from half's unit
 * roundoff u = 2^-11 and each layer's K (summed terms), for tests/test_torch_forward.c.
 *
 * Where the fp16 path rounds: every folded depthwise and pointwise weight (relative error at
 * most u), every activation after the stem and after each depthwise and pointwise layer (at
 * most u of its value). If every rounding error is independent and uniform on its half-ulp
 * interval, an error on a value v has variance at most u^2 v^2 / 3; the variances propagate
 * layer by layer through the reference's own weights and activations: a conv's output gets
 * sum_k W^2 var_x (the rounded activations of the layer before) + u^2 / 3 sum_k W^2 x^2 (its
 * rounded weights), ReLU6 passes it where 0 < z < 6 (first order), its rounding adds
 * u^2 / 3 y^2, the pool divides the summed variance by HW^2 and the float classifier
 * propagates it through W^2. sigma is the square root: what a correct implementation's error
 * looks like (1.1 to 1.7 sigma at most on the fixtures); a wrong index, a missing term or an
 * unrounded layer is off by the size of the values. (The worst-case bound, |W| e per layer,
 * came out over 1000 times the measured errors: no use as a test.) The float sums' own error
 * is float32's, which the fixtures' float32 tolerance covers. */
#ifndef MBN_TESTS_SUPPORT_HALF_REF_H
#define MBN_TESTS_SUPPORT_HALF_REF_H

#include "model/arch.h"
#include "tests/support/st_read.h"

/* x: N images NHWC (float values); logits and sigma: N x K each. */
void half_ref_forward(const MbnArch *a, const StFile *st, const double *x, int N, double *logits,
                      double *sigma);

#endif
