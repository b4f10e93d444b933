/* Monotonic wall-clock seconds, for rates, ETAs and benchmarks. */
#ifndef MBN_BASE_CLOCK_H
#define MBN_BASE_CLOCK_H

double mbn_now(void);

#endif
