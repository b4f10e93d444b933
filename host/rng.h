/* A small, fast, seedable PRNG (xoshiro256** seeded through splitmix64), identical on every
 * platform, so the same seed gives the same weights and the same data order everywhere. */
#ifndef MBN_HOST_RNG_H
#define MBN_HOST_RNG_H
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} MbnRng;

uint64_t mbn_splitmix64(uint64_t *state);
void mbn_rng_seed(MbnRng *r, uint64_t seed);
uint64_t mbn_rng_next(MbnRng *r);
/* Uniform in [0, 1) with 53 random bits. */
double mbn_rng_uniform(MbnRng *r);
/* Standard normal (Box-Muller, both values used in order). */
double mbn_rng_normal(MbnRng *r);

#endif
