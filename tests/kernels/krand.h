/* The random inputs of the kernel tests: a xorshift generator (each test seeds it with its
 * own KRAND_SEED, so its sequence is its own), ints in a range, floats in [-1, 1], and
 * the sanitizer-run divisor. Include after defining KRAND_SEED. */
#ifndef VOX_TESTS_KRAND_H
#define VOX_TESTS_KRAND_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = KRAND_SEED;
static uint32_t rnd(void) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 11);
}
static inline int64_t rint_in(int64_t lo, int64_t hi) {
    return lo + (int64_t)(rnd() % (uint32_t)(hi - lo + 1));
}
/* Sanitizer runs (VOX_TEST_SLOW=0) check a quarter of the random shapes: same
 * coverage of shape classes, a fraction of the time under ASan. */
static inline int iter_div(void) {
    const char *s = getenv("VOX_TEST_SLOW");
    return s && !strcmp(s, "0") ? 4 : 1;
}
static inline float rf(void) { return (float)((rnd() % 20001) / 10000.0 - 1.0); }
#endif
