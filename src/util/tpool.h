/* A persistent thread pool for data-parallel loops.
 *
 * vx_tpool_for(p, n, fn, arg) splits [0, n) into contiguous chunks and runs
 * fn(arg, begin, end) on them with the pool's worker threads AND the calling thread,
 * returning when every chunk is done. No thread is created per call: workers spin
 * briefly after a job, then sleep on a futex.
 *
 * Concurrency: one job runs at a time. A submission that finds the pool busy (another
 * synthesis thread, or a nested call from inside a task) runs fn(arg, 0, n) inline on
 * the submitting thread, so several syntheses can share one pool and nesting never
 * deadlocks. With p == NULL, vx_tpool_for runs fn(arg, 0, n) inline. */
#ifndef VX_TPOOL_H
#define VX_TPOOL_H
#include <stdint.h>

typedef struct vx_tpool vx_tpool;

/* n_threads counts the caller: n_threads - 1 workers are started. 0 (or < 0) = all
 * online cores. Returns NULL on failure (out of memory / thread creation failed). */
vx_tpool *vx_tpool_create(int n_threads);
void vx_tpool_free(vx_tpool *p);
/* Threads that take part in a job (workers + caller); 1 for NULL. */
int vx_tpool_threads(const vx_tpool *p);

typedef void (*vx_tpool_fn)(void *arg, int64_t begin, int64_t end);
/* About 4 chunks per thread (dynamic balancing), never more than n. */
void vx_tpool_for(vx_tpool *p, int64_t n, vx_tpool_fn fn, void *arg);
/* The same with an explicit chunk count (clamped to [1, n]). */
void vx_tpool_for_chunks(vx_tpool *p, int64_t n, int64_t n_chunks, vx_tpool_fn fn, void *arg);
#endif
