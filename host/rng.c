#include "host/rng.h"

#include <math.h>

uint64_t mbn_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void mbn_rng_seed(MbnRng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++)
        r->s[i] = mbn_splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t mbn_rng_next(MbnRng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double mbn_rng_uniform(MbnRng *r) {
    return (double)(mbn_rng_next(r) >> 11) * 0x1.0p-53;
}

double mbn_rng_normal(MbnRng *r) {
    double u1 = mbn_rng_uniform(r), u2 = mbn_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}
