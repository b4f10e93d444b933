/* Test helpers around model/net.h: importing fixture tensors by timm name, reading flat
 * parameter/gradient vectors back in timm layout, NCHW -> NHWC. */
#ifndef MBN_TESTS_SUPPORT_NETUTIL_H
#define MBN_TESTS_SUPPORT_NETUTIL_H
#include <stdbool.h>

#include "model/net.h"
#include "tests/support/st_read.h"

/* Imports state_prefix + <name> for every tensor of the net's table and, when mom_prefix is
 * not NULL, mom_prefix + <name> as the momentum of every trainable tensor. Exits on error. */
void tnet_import(MbnNet *net, const StFile *st, const char *state_prefix, const char *mom_prefix);
/* Reads a whole flat vector (params, grads, momentum) and converts one tensor to timm layout
 * (depthwise [9, C] -> [C, 1, 3, 3]). `flat` is from mbn_net_read_buffer. */
void tnet_to_timm(const MbnParam *p, const float *flat, float *out);
float *tnet_read_flat(MbnNet *net, cl_mem buf);
/* NCHW -> NHWC */
void tnchw_to_nhwc(const float *in, float *out, int N, int C, int H, int W);

#endif
