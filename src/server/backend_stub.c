/*
 * backend_stub.c — a deterministic synthesis backend for transport tests: voices named
 * "stub:<x>" (and "espeak:<x>", so tests can use the default voice name) at 16000 Hz,
 * 3 speakers; sentences end at '.', '!' or '?'; each byte of text gives 10 ms of a
 * 440 Hz tone; each sentence takes delay_ms of wall time, checked for cancellation;
 * a sentence given T threads takes delay_ms / T (a perfect speed-up, like a neural voice
 * with its inference pool would roughly get).
 */
#include "backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STUB_RATE 16000

static int stub_load(vx_backend *e, const char *name, void **voice, vx_voice_meta *m, char *err,
                     size_t errlen) {
    if (strncmp(name, "stub:", 5) && strncmp(name, "espeak:", 7)) {
        snprintf(err, errlen, "voice '%.100s' not found", name);
        return VOX_ERR_NOT_FOUND;
    }
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->kind, sizeof(m->kind), "stub");
    snprintf(m->language, sizeof(m->language), "en-us");
    snprintf(m->quality, sizeof(m->quality), "stub");
    m->sample_rate = STUB_RATE;
    m->num_speakers = 3;
    m->threads = e->wide_threads > 1 ? e->wide_threads : 1;
    *voice = e;
    return VOX_OK;
}

static void stub_free(vx_backend *e, void *voice) {}

static const char *stub_speaker(void *voice, int id) {
    static const char *const names[] = {"speaker0", "speaker1", "speaker2"};
    return id >= 0 && id < 3 ? names[id] : NULL;
}

static int stub_split(void *voice, const char *text, size_t len, vox_span **spans, size_t *n,
                      char *err, size_t errlen) {
    size_t cap = 8, cnt = 0, start = 0;
    vox_span *s = malloc(cap * sizeof(*s));
    if (!s) return VOX_ERR_NOMEM;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && !strchr(".!?", text[i])) continue;
        size_t end = i < len ? i + 1 : len;
        while (start < end && text[start] == ' ') start++;
        if (end > start) {
            if (cnt == cap) {
                vox_span *t = realloc(s, (cap *= 2) * sizeof(*s));
                if (!t) {
                    free(s);
                    return VOX_ERR_NOMEM;
                }
                s = t;
            }
            s[cnt].offset = start;
            s[cnt].length = end - start;
            cnt++;
        }
        start = end;
    }
    if (!cnt) {
        free(s);
        snprintf(err, errlen, "input has nothing to speak");
        return VOX_ERR_EMPTY;
    }
    *spans = s;
    *n = cnt;
    return VOX_OK;
}

static int stub_synth(void *voice, const char *text, size_t len, const vx_synth_params *p,
                      int threads, vx_ctl *ctl, const vx_sink *out, char *err, size_t errlen) {
    vx_backend *e = voice;
    long long delay_ns = e->stub_delay_ms * 1000000LL / (threads > 1 ? threads : 1);
    /* Sleep toward an absolute deadline in 5 ms steps, so a loaded machine does not add
     * up per-step overshoot, and a cancel is noticed within 5 ms. */
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    long long end_ns = end.tv_sec * 1000000000LL + end.tv_nsec + delay_ns;
    for (;;) {
        if (atomic_load(&ctl->cancelled)) return VOX_ERR_CANCELLED;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long left = end_ns - (now.tv_sec * 1000000000LL + now.tv_nsec);
        if (left <= 0) break;
        struct timespec ts = {0, left < 5000000 ? left : 5000000};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&ctl->cancelled)) return VOX_ERR_CANCELLED;
    size_t n = (size_t)(len * STUB_RATE / 100 / p->speed);
    int16_t *dst = malloc(n ? n * 2 : 1);
    if (!dst) return VOX_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        dst[i] = (int16_t)(8000 * sin(2 * M_PI * 440.0 * (double)i / STUB_RATE));
    int rc = n && out->write(out->arg, dst, n, 1) ? VOX_ERR_NOMEM : VOX_OK;
    free(dst);
    return rc;
}

void vx_backend_stub_init(vx_backend *e, int delay_ms) {
    memset(e, 0, sizeof(*e));
    e->name = "stub";
    e->load = stub_load;
    e->free_voice = stub_free;
    e->speaker_name = stub_speaker;
    e->split = stub_split;
    e->synth = stub_synth;
    e->stub_delay_ms = delay_ms;
}
