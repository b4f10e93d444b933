#include "base/rng.h"

#include <math.h>

uint64_t mbn_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t mbn_rng_key(uint64_t a, uint64_t b, uint64_t c) {
    /* Chained so that (a, b, c) and any permutation of it give unrelated keys. */
    uint64_t st = a;
    uint64_t h = mbn_splitmix64(&st);
    st = h ^ b;
    h = mbn_splitmix64(&st);
    st = h ^ c;
    return mbn_splitmix64(&st);
}

void mbn_rng_seed(MbnRng *rng, uint64_t seed) {
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = mbn_splitmix64(&st);
}

static uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t mbn_rng_next(MbnRng *rng) {
    uint64_t *s = rng->s;
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

double mbn_rng_uniform(MbnRng *rng) {
    return (double)(mbn_rng_next(rng) >> 11) * 0x1.0p-53;
}

double mbn_rng_range(MbnRng *rng, double lo, double hi) {
    return lo + (hi - lo) * mbn_rng_uniform(rng);
}

uint64_t mbn_rng_below(MbnRng *rng, uint64_t n) {
    return (uint64_t)(((unsigned __int128)mbn_rng_next(rng) * n) >> 64);
}

void mbn_rng_shuffle(MbnRng *rng, int64_t *v, int64_t n) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)mbn_rng_below(rng, (uint64_t)i + 1);
        int64_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

double mbn_rng_normal(MbnRng *rng) {
    /* Box-Muller on two uniforms; the cosine branch only, so each call consumes exactly two
     * draws and the sequence stays easy to reproduce elsewhere. */
    double u1 = mbn_rng_uniform(rng), u2 = mbn_rng_uniform(rng);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}
