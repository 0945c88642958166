/* src/util/arena: alignment, zeroing, big allocations, the limit, reset and reuse. */
#include "test.h"
#include "util/arena.h"
#include <stdint.h>

int main(void) {
    vx_arena a;
    vx_arena_init(&a, 1024, 0);
    CHECK(a.head == NULL && a.reserved == 0);

    /* small allocations: 16-byte aligned, zeroed, distinct, writable */
    char *prev = NULL;
    int aligned = 1, zero = 1, distinct = 1;
    for (int i = 0; i < 500; i++) {
        size_t n = (size_t)(i % 37) + 1;
        char *p = vx_arena_alloc(&a, n);
        if (!p) {
            aligned = 0;
            break;
        }
        if ((uintptr_t)p % 16) aligned = 0;
        for (size_t k = 0; k < n; k++) zero &= p[k] == 0;
        if (p == prev) distinct = 0;
        memset(p, 0xab, n);
        prev = p;
    }
    CHECK(aligned);
    CHECK(zero);
    CHECK(distinct);
    CHECK(a.reserved >= a.used);

    /* chosen alignments */
    for (size_t al = 1; al <= VX_ARENA_MAX_ALIGN; al *= 2) {
        void *p = vx_arena_alloc_align(&a, 3, al);
        CHECKF(p && (uintptr_t)p % al == 0, "align %zu", al);
    }
    CHECK(vx_arena_alloc_align(&a, 8, 3) == NULL);    /* not a power of two */
    CHECK(vx_arena_alloc_align(&a, 8, 8192) == NULL); /* over the max */

    /* a big allocation gets its own block; the head keeps its free space */
    char *small1 = vx_arena_alloc(&a, 8);
    char *big = vx_arena_alloc(&a, 100000);
    char *small2 = vx_arena_alloc(&a, 8);
    CHECK(big && small1 && small2);
    CHECK(small2 == small1 + 16); /* bumped in the same block */
    if (big) {
        memset(big, 1, 100000);
        CHECK(big[99999] == 1);
    }

    /* strings and arrays */
    char *s = vx_arena_strdup(&a, "hello");
    CHECK_STR(s, "hello");
    char *z = vx_arena_strndup(&a, "a\0b", 3);
    CHECK(z && z[0] == 'a' && z[1] == 0 && z[2] == 'b' && z[3] == 0);
    char *e = vx_arena_strndup(&a, NULL, 0);
    CHECK(e && e[0] == 0);
    CHECK(vx_arena_array(&a, SIZE_MAX / 4, 8) == NULL); /* n * elem overflows */
    int64_t *arr = vx_arena_array(&a, 10, sizeof *arr);
    CHECK(arr && (uintptr_t)arr % 8 == 0 && arr[9] == 0);

    /* reset keeps the largest block and hands out zeroed memory again */
    vx_arena_reset(&a);
    CHECK(a.used == 0 && a.head != NULL);
    size_t kept = a.reserved;
    CHECK(kept >= 100000);
    char *again = vx_arena_alloc(&a, 50000);
    CHECK(again != NULL);
    int z2 = 1;
    for (int i = 0; again && i < 50000; i++) z2 &= again[i] == 0;
    CHECK(z2);
    CHECK(a.reserved == kept); /* reused, nothing new taken */
    vx_arena_free(&a);
    CHECK(a.head == NULL && a.reserved == 0);

    /* the limit caps reserved bytes; failing allocations leave the arena usable */
    vx_arena_init(&a, 4096, 64 << 10);
    int got = 0;
    while (vx_arena_alloc(&a, 1000) && got < 10000) got++;
    CHECK(got > 10 && got < 70);
    CHECK(a.reserved <= (size_t)64 << 10);
    CHECK(vx_arena_alloc(&a, 1 << 20) == NULL);
    CHECK(vx_arena_alloc(&a, SIZE_MAX - 8) == NULL);
    vx_arena_reset(&a);
    CHECK(vx_arena_alloc(&a, 1000) != NULL);
    vx_arena_free(&a);

    /* default block size, zero-size allocation */
    vx_arena_init(&a, 0, 0);
    CHECK(a.block_size == VX_ARENA_DEFAULT_BLOCK);
    void *p0 = vx_arena_alloc(&a, 0), *p1 = vx_arena_alloc(&a, 0);
    CHECK(p0 && p1 && p0 != p1);
    vx_arena_free(&a);
    TEST_SUMMARY();
}
