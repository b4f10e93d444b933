/* IEEE 754 binary16 ("half", OpenCL's half storage type) on the host: conversions that round to
 * nearest even as the device's vstore_half_rte does, for the fp16 ONNX export and the tests'
 * references of the fp16 path. */
#ifndef MBN_BASE_HALF_H
#define MBN_BASE_HALF_H
#include <stdint.h>

/* Half's unit roundoff: a value rounded to half has relative error at most 2^-11 (normal
 * range). */
#define MBN_HALF_U (1.0 / 2048.0)

/* float -> half bits, round to nearest even (subnormals, overflow to infinity, NaN kept). */
uint16_t mbn_half_from_float(float f);
/* half bits -> float (exact). */
float mbn_half_to_float(uint16_t h);
/* f rounded to the nearest half, as a float (as if stored as half and read back). */
float mbn_half_round(float f);

#endif
