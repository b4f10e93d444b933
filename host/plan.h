/* The plan: every kernel parameter's value on a device, computed from its profile
 * (host/device_profile.h) by a pure function, so the choice for any device can be tested
 * without it (tests/test_device_profiles.c checks a catalogue of real devices). The variant
 * table (host/variants.c) says which parameters a row has and which values a tuner may try;
 * the plan sizes them for the device:
 *   - the cpu family's vector width (MBN_CPU_VEC, cl/prelude.cl): the device's float SIMD width
 *     (4 SSE/NEON, 8 AVX2, 16 AVX-512), never a wider vector than its registers;
 *   - the cpu GEMM register tile: TM rows x TN = 2 vectors, TM as large as the vector registers
 *     allow (2 TM accumulators + 2 B vectors + 1 broadcast), 7 where they allow it (7 divides
 *     every layer's pixel count at 224);
 *   - the cpu GEMM's k block KC: a KC x TN block of B of 16 KiB, half a typical L1;
 *   - the cpu rows' channels per work-item (VEC): the full vector, or half of one (a tuner
 *     may choose);
 *   - the gpu rows' work-group shapes and local-memory tiles: the table's defaults, shrunk
 *     (last parameters first) until they fit the device's work-group size and local memory.
 * The shipped tuning database and the user's tuning cache may then replace values
 * (host/variants.h: mbn_variants_override). */
#ifndef MBN_HOST_PLAN_H
#define MBN_HOST_PLAN_H

#include "host/device_profile.h"
#include "host/variants.h"

/* MBN_CPU_VEC on this device: 4, 8 or 16 (4 on GPUs, whose cpu kernels only need to build). */
int mbn_plan_cpu_vec(const MbnDeviceProfile *p);

/* Rows of the cpu GEMM register tile that fit the device's vector registers (1..8). */
int mbn_plan_gemm_rows(const MbnDeviceProfile *p);

/* The row's parameter values on this device (table order). */
void mbn_plan_row(const MbnDeviceProfile *p, const MbnVariant *row, int *values);

/* The values a tuner may give parameter `param` of `row` on this device: the table's
 * candidates that the device can run, and the plan's default (stored in out, up to max).
 * Returns how many; 0 means the parameter is fixed on this device. */
int mbn_plan_candidates(const MbnDeviceProfile *p, const MbnVariant *row, int param, int *out,
                        int max);

#endif
