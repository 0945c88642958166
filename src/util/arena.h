/* A bump arena: many small allocations, freed all at once.
 *
 * Used by the model loader (all strings and arrays of a vx_model) and for per-request
 * scratch memory. Memory comes from a chain of malloc'ed blocks; an allocation never
 * moves. Every allocation is zeroed. An optional limit caps the total bytes the arena
 * may reserve, so a hostile input cannot make it grow without bound.
 * Not thread-safe: one arena per owner. */
#ifndef VX_ARENA_H
#define VX_ARENA_H
#include <stddef.h>

typedef struct vx_arena_block vx_arena_block;

typedef struct vx_arena {
    vx_arena_block *head; /* block being bumped; older blocks follow via ->next */
    size_t block_size;    /* size of a normal new block */
    size_t reserved;      /* bytes malloc'ed for blocks (what the limit applies to) */
    size_t used;          /* bytes handed out, including alignment padding */
    size_t limit;         /* max reserved bytes; 0 = unlimited */
} vx_arena;

#define VX_ARENA_DEFAULT_BLOCK ((size_t)64 << 10)
#define VX_ARENA_MAX_ALIGN     4096

/* block_size 0 = VX_ARENA_DEFAULT_BLOCK; limit 0 = unlimited. No memory is taken yet. */
void vx_arena_init(vx_arena *a, size_t block_size, size_t limit);
/* Zeroed memory aligned to 16 bytes; NULL if out of memory or over the limit. */
void *vx_arena_alloc(vx_arena *a, size_t size);
/* Same with a chosen alignment (a power of two, at most VX_ARENA_MAX_ALIGN). */
void *vx_arena_alloc_align(vx_arena *a, size_t size, size_t align);
/* n * elem bytes, NULL if the product overflows. */
void *vx_arena_array(vx_arena *a, size_t n, size_t elem);
/* Copy of n bytes of s plus a terminating NUL (s may contain NULs; NULL s with n 0 is ok). */
char *vx_arena_strndup(vx_arena *a, const char *s, size_t n);
char *vx_arena_strdup(vx_arena *a, const char *s);
/* Forget every allocation; keeps the largest block for reuse (per-request use). */
void vx_arena_reset(vx_arena *a);
/* Release all memory; the arena can be used again after vx_arena_init. */
void vx_arena_free(vx_arena *a);
#endif
