#include "util/arena.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct vx_arena_block {
    vx_arena_block *next;
    size_t size; /* usable bytes after the header */
    size_t off;  /* next free byte */
    /* data follows, starting 64-byte aligned relative to the header (see HDR) */
};

/* Header rounded up so block data starts at a 64-byte offset from the malloc'ed base. */
#define HDR (((sizeof(vx_arena_block)) + 63) & ~(size_t)63)

static unsigned char *block_data(vx_arena_block *b) { return (unsigned char *)b + HDR; }

void vx_arena_init(vx_arena *a, size_t block_size, size_t limit) {
    memset(a, 0, sizeof *a);
    a->block_size = block_size ? block_size : VX_ARENA_DEFAULT_BLOCK;
    a->limit = limit;
}

/* Bytes needed inside b to place size bytes at align; SIZE_MAX if it does not fit. */
static size_t fit(vx_arena_block *b, size_t size, size_t align) {
    uintptr_t base = (uintptr_t)block_data(b);
    uintptr_t at = (base + b->off + (align - 1)) & ~(uintptr_t)(align - 1);
    size_t start = (size_t)(at - base);
    if (start > b->size || size > b->size - start) return SIZE_MAX;
    return start;
}

static vx_arena_block *new_block(vx_arena *a, size_t usable) {
    if (usable > SIZE_MAX - HDR) return NULL;
    size_t total = HDR + usable;
    if (a->limit && (total > a->limit || a->reserved > a->limit - total)) return NULL;
    /* aligned_alloc needs a multiple of the alignment */
    size_t rounded = (total + 63) & ~(size_t)63;
    if (rounded < total) return NULL;
    vx_arena_block *b = aligned_alloc(64, rounded);
    if (!b) return NULL;
    b->next = NULL;
    b->size = rounded - HDR;
    b->off = 0;
    a->reserved += rounded;
    return b;
}

void *vx_arena_alloc_align(vx_arena *a, size_t size, size_t align) {
    if (!align || (align & (align - 1)) || align > VX_ARENA_MAX_ALIGN) return NULL;
    if (size == 0) size = 1; /* distinct non-NULL pointers */
    size_t start;
    vx_arena_block *b = a->head;
    if (b && (start = fit(b, size, align)) != SIZE_MAX) {
        b->off = start + size;
    } else {
        /* Worst-case padding is align - 1 (block data is 64-aligned, align may be larger). */
        if (size > SIZE_MAX - align) return NULL;
        size_t need = size + (align > 64 ? align : 0);
        /* Big requests get a block of their own, placed behind the current head so the
         * head's free space is not wasted. */
        int dedicated = need > a->block_size / 4;
        b = new_block(a, dedicated ? need : a->block_size);
        if (!b) return NULL;
        start = fit(b, size, align);
        if (start == SIZE_MAX) { /* cannot happen; be safe */
            a->reserved -= HDR + b->size;
            free(b);
            return NULL;
        }
        b->off = start + size;
        if (dedicated && a->head) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    a->used += size;
    void *p = block_data(b) + start;
    memset(p, 0, size);
    return p;
}

void *vx_arena_alloc(vx_arena *a, size_t size) { return vx_arena_alloc_align(a, size, 16); }

void *vx_arena_array(vx_arena *a, size_t n, size_t elem) {
    if (elem && n > SIZE_MAX / elem) return NULL;
    return vx_arena_alloc_align(a, n * elem, elem >= 16 ? 16 : 8);
}

char *vx_arena_strndup(vx_arena *a, const char *s, size_t n) {
    if (n == SIZE_MAX) return NULL;
    char *d = vx_arena_alloc_align(a, n + 1, 1);
    if (d && n) memcpy(d, s, n);
    return d;
}

char *vx_arena_strdup(vx_arena *a, const char *s) { return vx_arena_strndup(a, s, strlen(s)); }

void vx_arena_reset(vx_arena *a) {
    vx_arena_block *keep = NULL;
    for (vx_arena_block *b = a->head; b; b = b->next)
        if (!keep || b->size > keep->size) keep = b;
    vx_arena_block *b = a->head;
    while (b) {
        vx_arena_block *next = b->next;
        if (b != keep) {
            a->reserved -= HDR + b->size;
            free(b);
        }
        b = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->off = 0;
    }
    a->head = keep;
    a->used = 0;
}

void vx_arena_free(vx_arena *a) {
    vx_arena_block *b = a->head;
    while (b) {
        vx_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->reserved = a->used = 0;
}
