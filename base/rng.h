/* Small, fast, reproducible random numbers: splitmix64 for seeding and hashing, xoshiro256** for
 * streams. Every stream is derived from integers (seed, epoch, sample index, ...) so the data
 * pipeline gives the same result whatever the thread count or scheduling. */
#ifndef MBN_BASE_RNG_H
#define MBN_BASE_RNG_H
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} MbnRng;

/* One splitmix64 step: advances *state and returns a well-mixed value. */
uint64_t mbn_splitmix64(uint64_t *state);
/* Hashes a sequence of integers into one 64-bit key (order matters). */
uint64_t mbn_rng_key(uint64_t a, uint64_t b, uint64_t c);
void mbn_rng_seed(MbnRng *rng, uint64_t seed);
uint64_t mbn_rng_next(MbnRng *rng);
/* Uniform double in [0, 1). */
double mbn_rng_uniform(MbnRng *rng);
/* Uniform double in [lo, hi). */
double mbn_rng_range(MbnRng *rng, double lo, double hi);
/* Uniform integer in [0, n); n > 0. Lemire's multiply-shift, bias < n / 2^64. */
uint64_t mbn_rng_below(MbnRng *rng, uint64_t n);
/* Fisher-Yates shuffle of n int64 values. */
void mbn_rng_shuffle(MbnRng *rng, int64_t *v, int64_t n);
/* Standard normal (Box-Muller, two uniforms per value). */
double mbn_rng_normal(MbnRng *rng);

#endif
