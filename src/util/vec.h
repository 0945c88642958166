/* Growable arrays: a pointer, a count and a capacity, grown by doubling.
 *
 *   VX_VEC(float) v = {0};
 *   if (vx_vec_push(&v, 1.0f)) ...out of memory...
 *   free(v.v);
 *
 * vx_grow is the one place that grows: overflow-checked, the array untouched on failure. */
#ifndef VX_UTIL_VEC_H
#define VX_UTIL_VEC_H
#include <stddef.h>

/* Make *p hold at least `need` elements of `elem` bytes (capacity doubles from min_cap).
 * 0, or -1 (overflow or no memory: *p and *cap unchanged). */
int vx_grow(void **p, size_t *cap, size_t need, size_t elem, size_t min_cap);

#define VX_VEC(T)                                                                                  \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }
#define vx_vec_reserve(vec, need)                                                                  \
    vx_grow((void **)&(vec)->v, &(vec)->cap, (need), sizeof *(vec)->v, 16)
/* 0, or -1 with the array unchanged. */
#define vx_vec_push(vec, x)                                                                        \
    (vx_vec_reserve((vec), (vec)->n + 1) ? -1 : ((vec)->v[(vec)->n++] = (x), 0))
#endif
