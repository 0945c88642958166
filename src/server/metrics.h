/*
 * metrics.h — Prometheus metrics for voxd. Updated only on the event-loop thread (workers
 * report through their completions), so no locks or atomics are needed.
 */
#ifndef VX_METRICS_H
#define VX_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum {
    VX_ROUTE_SPEECH,
    VX_ROUTE_VOICES,
    VX_ROUTE_MODELS,
    VX_ROUTE_HEALTHZ,
    VX_ROUTE_READYZ,
    VX_ROUTE_METRICS,
    VX_ROUTE_INDEX,
    VX_ROUTE_OTHER,
    VX_ROUTE_COUNT
};

#define VX_HIST_BUCKETS 12
#define VX_MAX_CODES    24

typedef struct vx_hist {
    const double *bounds; /* VX_HIST_BUCKETS upper bounds */
    uint64_t counts[VX_HIST_BUCKETS + 1];
    double sum;
    uint64_t n;
} vx_hist;

typedef struct vx_metrics {
    struct {
        int code;
        uint64_t n[VX_ROUTE_COUNT];
    } codes[VX_MAX_CODES];
    int n_codes;
    uint64_t bytes_out;
    double synth_seconds, audio_seconds;
    vx_hist rtf, ttfb, latency;
    uint64_t rejected_429, cancelled, timeouts;
    uint64_t wide_sentences; /* sentences run on more than one inference thread */
    uint64_t early_parts;    /* audio sent from a sentence still being made */
    uint64_t connections_total;
} vx_metrics;

void vx_metrics_init(vx_metrics *m);
void vx_metrics_request(vx_metrics *m, int route, int code);
void vx_hist_observe(vx_hist *h, double v);
/* Render the text exposition format into b. */
int vx_metrics_render(const vx_metrics *m, vx_buf *b, int queue_depth, int in_flight,
                      int connections, int workers, int ready);

#endif
