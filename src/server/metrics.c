/* metrics.c — Prometheus text exposition for voxd. See metrics.h. */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const double rtf_bounds[VX_HIST_BUCKETS] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.3,
                                                   0.5,  0.75, 1,    1.5, 2,   5};
static const double time_bounds[VX_HIST_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                    0.5,   1,    2.5,   5,    10,  30};

static const char *const route_names[VX_ROUTE_COUNT] = {
    "/v1/audio/speech", "/v1/voices", "/v1/models", "/healthz",
    "/readyz",          "/metrics",   "/",          "other"};

void vx_metrics_init(vx_metrics *m) {
    memset(m, 0, sizeof(*m));
    m->rtf.bounds = rtf_bounds;
    m->ttfb.bounds = time_bounds;
    m->latency.bounds = time_bounds;
}

void vx_metrics_request(vx_metrics *m, int route, int code) {
    if (route < 0 || route >= VX_ROUTE_COUNT) route = VX_ROUTE_OTHER;
    for (int i = 0; i < m->n_codes; i++)
        if (m->codes[i].code == code) {
            m->codes[i].n[route]++;
            return;
        }
    if (m->n_codes == VX_MAX_CODES) return; /* bounded: status codes are few */
    m->codes[m->n_codes].code = code;
    memset(m->codes[m->n_codes].n, 0, sizeof(m->codes[0].n));
    m->codes[m->n_codes++].n[route] = 1;
}

void vx_hist_observe(vx_hist *h, double v) {
    int i = 0;
    while (i < VX_HIST_BUCKETS && v > h->bounds[i]) i++;
    h->counts[i]++;
    h->sum += v;
    h->n++;
}

static int pf(vx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int pf(vx_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || vx_buf_reserve(b, (size_t)n + 1)) return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

static void hist(vx_buf *b, const char *name, const char *help, const vx_hist *h) {
    pf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (int i = 0; i < VX_HIST_BUCKETS; i++) {
        cum += h->counts[i];
        pf(b, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i], (unsigned long long)cum);
    }
    cum += h->counts[VX_HIST_BUCKETS];
    pf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
       (unsigned long long)cum, name, h->sum, name, (unsigned long long)h->n);
}

int vx_metrics_render(const vx_metrics *m, vx_buf *b, int queue_depth, int in_flight,
                      int connections, int workers, int ready) {
    pf(b, "# HELP vox_requests_total HTTP requests by route and status code.\n"
          "# TYPE vox_requests_total counter\n");
    for (int i = 0; i < m->n_codes; i++)
        for (int r = 0; r < VX_ROUTE_COUNT; r++)
            if (m->codes[i].n[r])
                pf(b, "vox_requests_total{route=\"%s\",code=\"%d\"} %llu\n", route_names[r],
                   m->codes[i].code, (unsigned long long)m->codes[i].n[r]);
    pf(b,
       "# HELP vox_queue_depth Synthesis tasks waiting for a worker.\n"
       "# TYPE vox_queue_depth gauge\nvox_queue_depth %d\n",
       queue_depth);
    pf(b,
       "# HELP vox_in_flight Speech requests admitted and not finished.\n"
       "# TYPE vox_in_flight gauge\nvox_in_flight %d\n",
       in_flight);
    pf(b,
       "# HELP vox_connections Open client connections.\n"
       "# TYPE vox_connections gauge\nvox_connections %d\n",
       connections);
    pf(b,
       "# HELP vox_connections_total Accepted connections.\n"
       "# TYPE vox_connections_total counter\nvox_connections_total %llu\n",
       (unsigned long long)m->connections_total);
    pf(b,
       "# HELP vox_workers Synthesis worker threads.\n# TYPE vox_workers gauge\n"
       "vox_workers %d\n",
       workers);
    pf(b,
       "# HELP vox_ready 1 once the default voices are loaded.\n# TYPE vox_ready gauge\n"
       "vox_ready %d\n",
       ready);
    pf(b,
       "# HELP vox_synthesis_seconds_total Worker time spent synthesizing.\n"
       "# TYPE vox_synthesis_seconds_total counter\nvox_synthesis_seconds_total %.6f\n",
       m->synth_seconds);
    pf(b,
       "# HELP vox_audio_seconds_total Seconds of audio produced.\n"
       "# TYPE vox_audio_seconds_total counter\nvox_audio_seconds_total %.6f\n",
       m->audio_seconds);
    pf(b,
       "# HELP vox_bytes_out_total Response bytes sent (before TLS).\n"
       "# TYPE vox_bytes_out_total counter\nvox_bytes_out_total %llu\n",
       (unsigned long long)m->bytes_out);
    pf(b,
       "# HELP vox_rejected_total Speech requests rejected with 429 (queue full).\n"
       "# TYPE vox_rejected_total counter\nvox_rejected_total %llu\n",
       (unsigned long long)m->rejected_429);
    pf(b,
       "# HELP vox_cancelled_total Speech requests cancelled (disconnect or reset).\n"
       "# TYPE vox_cancelled_total counter\nvox_cancelled_total %llu\n",
       (unsigned long long)m->cancelled);
    pf(b,
       "# HELP vox_timeouts_total Speech requests that hit the per-request timeout.\n"
       "# TYPE vox_timeouts_total counter\nvox_timeouts_total %llu\n",
       (unsigned long long)m->timeouts);
    pf(b,
       "# HELP vox_wide_sentences_total Sentences synthesized on every worker's core "
       "(first sentence of a request that found the server idle).\n"
       "# TYPE vox_wide_sentences_total counter\nvox_wide_sentences_total %llu\n",
       (unsigned long long)m->wide_sentences);
    pf(b,
       "# HELP vox_early_audio_parts_total Pieces of audio sent from a sentence that was "
       "still being synthesized (streaming inside a sentence).\n"
       "# TYPE vox_early_audio_parts_total counter\nvox_early_audio_parts_total %llu\n",
       (unsigned long long)m->early_parts);
    hist(b, "vox_rtf", "Real-time factor per speech request (synthesis / audio seconds).", &m->rtf);
    hist(b, "vox_ttfb_seconds", "Time from request to the first audio byte.", &m->ttfb);
    hist(b, "vox_request_seconds", "Speech request duration.", &m->latency);
    return 0;
}
