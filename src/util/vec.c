#include "util/vec.h"
#include <stdint.h>
#include <stdlib.h>

int vx_grow(void **p, size_t *cap, size_t need, size_t elem, size_t min_cap) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : (min_cap ? min_cap : 1);
    while (c < need) {
        if (c > SIZE_MAX / 2) return -1;
        c *= 2;
    }
    if (elem && c > SIZE_MAX / elem) return -1;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}
