/*
 * wyoming.c — the Wyoming protocol (rhasspy/wyoming, OHF-Voice/wyoming 1.7) as a voxd
 * front end over the speech-job interface (job.h). Framing is wyoming_parse.c.
 *
 * Events answered, one request at a time per connection (events that come while an
 * answer is being made wait in the input buffer, bounded, reading paused):
 *   describe           -> info: one tts program "vox" with every voice voxd can speak
 *                         (loaded voices, Piper voices in the data dirs with their
 *                         language and speaker names, the espeak-ng voices) and
 *                         supports_synthesize_streaming.
 *   synthesize         -> audio-start {rate, width 2, channels 1}, audio-chunk x n,
 *                         audio-stop (one-shot; ignored inside a stream, where clients
 *                         send it for old servers).
 *   synthesize-start {voice}, synthesize-chunk {text} x n, synthesize-stop
 *                      -> one audio-start/chunk/stop group per sentence, each sent as
 *                         soon as the sentence is complete in the text so far and made
 *                         (job.h: text in pieces), then synthesize-stopped.
 *   ping               -> pong.
 * Voice: {name} (a voxd voice name; with {speaker}: a speaker name of that voice), else
 * {language} (the first Piper voice of that language, else espeak-ng's), else voxd's
 * default voice.
 * Audio: 16-bit mono PCM at the voice's rate, in chunks of at most VX_WY_CHUNK_SAMPLES
 * samples (1024: 46 ms at 22050 Hz, what wyoming-piper sends), so a satellite starts
 * playing early.
 * Errors: an error event {text, code} (code: the job's, or bad_event, unknown_event,
 * not_streaming, already_streaming); a broken framing (header line over the limit, not
 * a JSON object, bad lengths) gets one and the connection closes. Limits: header line
 * VX_WY_MAX_LINE, data max_body (as an HTTP body: --max-input's text as JSON), payload
 * VX_WY_MAX_PAYLOAD; a partial event must complete within --header-timeout, an idle
 * connection closes after --idle-timeout, a client that reads nothing for --write-timeout
 * is dropped. Output above VX_WY_WRITE_HIGH pauses the job (vx_job_pause) until it falls
 * below VX_WY_WRITE_LOW. A disconnect cancels the connection's job.
 */
#include "wyoming.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "state.h"
#include "wyoming_parse.h"

#define VX_WY_CHUNK_SAMPLES 1024
#define VX_WY_WRITE_HIGH    (256u << 10) /* pause the job above this many unsent bytes */
#define VX_WY_WRITE_LOW     (64u << 10)  /* resume below this */
#define VX_WY_READ_AHEAD    (64u << 10)  /* input buffered while an answer is made */

enum { WY_IDLE, WY_ONESHOT, WY_STREAM, WY_STREAM_STOP, WY_STREAM_FAILED };

typedef struct wy_conn wy_conn;

struct vx_wyoming {
    vx_server *srv;
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_handle_t h;
    } l;
    int is_pipe, listening;
    char path[256]; /* the unix socket, removed at exit */
    char where[300];
    wy_conn *conns;
    int n_conns;
    vx_wy_limits lim;
    cJSON *espeak; /* [[name, language], ...], listed once (espeak's lock) */
};

struct wy_conn {
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_stream_t st;
        uv_handle_t h;
    } io;
    vx_wyoming *w;
    wy_conn *prev, *next;
    char *in;
    size_t in_len, in_cap;
    char *out, *wr; /* waiting bytes; bytes being written */
    size_t out_len, out_cap, wr_len, wr_cap;
    uv_write_t wreq;
    int writing, reading, closing, close_after_write, in_process;
    double last_active, last_progress;
    vx_job *job;
    int mode;
    int group; /* audio-start sent, audio-stop not yet */
    int rate;
    unsigned char carry; /* an odd byte between on_audio calls */
    int has_carry;
};

/* ------------------------------------------------------------ output */

static void conn_close(wy_conn *c);
static void process(wy_conn *c);

static size_t pending(const wy_conn *c) { return c->out_len + c->wr_len; }

static int out_append(wy_conn *c, const void *p, size_t n) {
    if (c->closing) return -1;
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 8192;
        while (cap < c->out_len + n) cap *= 2;
        char *q = realloc(c->out, cap);
        if (!q) {
            conn_close(c);
            return -1;
        }
        c->out = q;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    c->w->srv->metrics.bytes_out += n;
    return 0;
}

static void on_write(uv_write_t *req, int status);

/* One write in flight; what comes meanwhile goes out together after it. */
static void flush(wy_conn *c) {
    if (c->writing || c->closing || !c->out_len) return;
    char *t = c->wr;
    size_t tc = c->wr_cap;
    c->wr = c->out;
    c->wr_cap = c->out_cap;
    c->wr_len = c->out_len;
    c->out = t;
    c->out_cap = tc;
    c->out_len = 0;
    c->writing = 1;
    c->last_progress = vx_now();
    uv_buf_t b = uv_buf_init(c->wr, (unsigned)c->wr_len);
    if (uv_write(&c->wreq, &c->io.st, &b, 1, on_write)) {
        c->writing = 0;
        conn_close(c);
    }
}

static void on_write(uv_write_t *req, int status) {
    wy_conn *c = req->data;
    c->writing = 0;
    c->wr_len = 0;
    c->last_progress = vx_now();
    if (c->closing) return;
    if (status < 0) return conn_close(c);
    flush(c);
    if (c->job && vx_job_paused(c->job) && pending(c) < VX_WY_WRITE_LOW) vx_job_resume(c->job);
    if (!c->closing && c->close_after_write && !c->writing && !c->out_len) conn_close(c);
}

/* An event: header line, data (JSON, may be NULL), payload. */
static void send_event_raw(wy_conn *c, const char *type, const char *data, size_t dlen,
                           const void *payload, size_t plen) {
    char head[256];
    size_t hl = vx_wy_header(head, sizeof head, type, dlen, plen);
    if (!hl || out_append(c, head, hl)) return;
    if (dlen && out_append(c, data, dlen)) return;
    if (plen) out_append(c, payload, plen);
}

static void send_event(wy_conn *c, const char *type, cJSON *data) {
    char *js = data ? cJSON_PrintUnformatted(data) : NULL;
    cJSON_Delete(data);
    if (data && !js) return conn_close(c);
    send_event_raw(c, type, js, js ? strlen(js) : 0, NULL, 0);
    free(js);
}

static void send_error(wy_conn *c, const char *text, const char *code) {
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "text", text);
    cJSON_AddStringToObject(d, "code", code ? code : "error");
    send_event(c, "error", d);
}

static void send_audio(wy_conn *c, const char *type, const void *payload, size_t plen) {
    char d[96];
    int n = snprintf(d, sizeof d, "{\"rate\":%d,\"width\":2,\"channels\":1}", c->rate);
    send_event_raw(c, type, d, (size_t)n, payload, plen);
}

static void group_start(wy_conn *c) {
    if (c->group) return;
    c->group = 1;
    c->has_carry = 0;
    send_audio(c, "audio-start", NULL, 0);
}

static void group_stop(wy_conn *c) {
    if (!c->group) return;
    c->group = 0;
    send_event_raw(c, "audio-stop", NULL, 0, NULL, 0);
}

/* ------------------------------------------------------------ job events */

static void ev_start(void *u, const vx_job_info *in) {
    wy_conn *c = u;
    c->rate = in->sample_rate;
    if (c->mode == WY_ONESHOT) group_start(c);
}

static void ev_audio(void *u, const void *p, size_t n) {
    wy_conn *c = u;
    const unsigned char *b = p;
    group_start(c); /* streams: a group per sentence, opened by its first audio */
    unsigned char pair[2];
    if (c->has_carry && n) {
        pair[0] = c->carry;
        pair[1] = b[0];
        send_audio(c, "audio-chunk", pair, 2);
        b++;
        n--;
        c->has_carry = 0;
    }
    size_t max = VX_WY_CHUNK_SAMPLES * 2;
    while (n >= 2) {
        size_t k = n < max ? n & ~(size_t)1 : max;
        send_audio(c, "audio-chunk", b, k);
        b += k;
        n -= k;
    }
    if (n) {
        c->carry = b[0];
        c->has_carry = 1;
    }
    flush(c);
    if (pending(c) > VX_WY_WRITE_HIGH && c->job) vx_job_pause(c->job);
}

static void ev_sentence_end(void *u, size_t index, size_t offset, size_t length) {
    wy_conn *c = u;
    if (c->mode != WY_ONESHOT) group_stop(c);
    flush(c);
}

static void ev_end(void *u, const vx_job_error *e) {
    wy_conn *c = u;
    c->job = NULL;
    int ok = e->status == VX_JOB_OK;
    group_stop(c);
    if (c->mode == WY_ONESHOT) {
        if (!ok) send_error(c, e->message, e->code);
        c->mode = WY_IDLE;
    } else if (c->mode == WY_STREAM) {
        /* failed while text still comes: say so now, synthesize-stopped at the stop */
        send_error(c, e->message, e->code);
        c->mode = WY_STREAM_FAILED;
    } else if (c->mode == WY_STREAM_STOP) {
        /* a stream with nothing to speak is not an error: it just ends */
        if (!ok && strcmp(e->code ? e->code : "", "empty_input"))
            send_error(c, e->message, e->code);
        send_event_raw(c, "synthesize-stopped", NULL, 0, NULL, 0);
        c->mode = WY_IDLE;
    }
    flush(c);
    if (c->mode == WY_IDLE) process(c); /* events that waited for this answer */
}

static const vx_job_events EVENTS = {ev_start, ev_audio, ev_end, ev_sentence_end};

/* ------------------------------------------------------------ voices */

/* "en_US", "en-us": one form for comparing. */
static void lang_norm(const char *in, char *out, size_t cap) {
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++) {
        char ch = in[i] == '_' ? '-' : in[i];
        out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    out[i] = 0;
}

typedef struct lang_find {
    char want[64];
    char found[VX_VOICE_NAME_MAX];
} lang_find;

static void lang_scanned(void *ctx, const vx_voice_meta *m, const char *const *sp, int nsp) {
    lang_find *f = ctx;
    char l[64];
    lang_norm(m->language, l, sizeof l);
    if (!f->found[0] && !strcmp(l, f->want)) snprintf(f->found, sizeof f->found, "%s", m->name);
}

/* The voice a request names: 0, or -1 with err set. */
static int pick_voice(vx_server *s, const vx_wy_synth *sy, char *out, size_t cap, char *err,
                      size_t errlen) {
    if (sy->name && *sy->name) {
        if (strlen(sy->name) >= cap || !vx_voice_name_ok(sy->name)) {
            snprintf(err, errlen, "voice '%.100s' not found", sy->name);
            return -1;
        }
        snprintf(out, cap, "%s", sy->name);
        return 0;
    }
    if (sy->language && *sy->language) {
        lang_find f = {{0}, {0}};
        lang_norm(sy->language, f.want, sizeof f.want);
        vx_voices_lock(&s->voices);
        int n = atomic_load_explicit(&s->voices.n, memory_order_relaxed);
        for (int i = 0; i < n && !f.found[0]; i++) {
            if (!s->voices.ents[i].live) continue;
            const vx_voice_meta *m = &s->voices.ents[i].meta;
            char l[64];
            lang_norm(m->language, l, sizeof l);
            if (!strcmp(m->kind, "piper") && !strcmp(l, f.want))
                snprintf(f.found, sizeof f.found, "%s", m->name);
        }
        vx_voices_unlock(&s->voices);
        if (!f.found[0])
            vx_voices_scan(&s->voices, s->cfg.data_dirs, s->cfg.n_data_dirs, lang_scanned, &f);
        if (!f.found[0]) snprintf(f.found, sizeof f.found, "espeak:%.50s", f.want);
        if (strlen(f.found) >= cap || !vx_voice_name_ok(f.found)) {
            snprintf(err, errlen, "no voice for language '%.60s'", sy->language);
            return -1;
        }
        snprintf(out, cap, "%s", f.found);
        return 0;
    }
    snprintf(out, cap, "%s", s->cfg.default_voice);
    return 0;
}

/* ------------------------------------------------------------ describe */

static cJSON *attribution(const char *name, const char *url) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "name", name);
    cJSON_AddStringToObject(a, "url", url);
    return a;
}

static cJSON *voice_obj(const char *name, const char *desc, const char *lang, int piper) {
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "name", name);
    cJSON_AddStringToObject(v, "description", desc);
    cJSON_AddItemToObject(v, "attribution",
                          piper
                              ? attribution("rhasspy/piper", "https://github.com/rhasspy/piper")
                              : attribution("espeak-ng", "https://github.com/espeak-ng/espeak-ng"));
    cJSON_AddBoolToObject(v, "installed", 1);
    cJSON_AddNullToObject(v, "version");
    cJSON *langs = cJSON_AddArrayToObject(v, "languages");
    cJSON_AddItemToArray(langs, cJSON_CreateString(lang));
    return v;
}

static void add_speakers(cJSON *v, const char *const *names, int n) {
    if (n <= 1) {
        cJSON_AddNullToObject(v, "speakers");
        return;
    }
    cJSON *sp = cJSON_AddArrayToObject(v, "speakers");
    for (int i = 0; i < n && i < 1000; i++) {
        cJSON *o = cJSON_CreateObject();
        char def[16];
        snprintf(def, sizeof def, "%d", i);
        cJSON_AddStringToObject(o, "name", names[i] ? names[i] : def);
        cJSON_AddItemToArray(sp, o);
    }
}

static void piper_scanned(void *ctx, const vx_voice_meta *m, const char *const *sp, int nsp) {
    cJSON *arr = ctx;
    char d[320];
    snprintf(d, sizeof d, "Piper %s (%s)", m->name, m->quality);
    cJSON *v = voice_obj(m->name, d, m->language, 1);
    add_speakers(v, sp, nsp);
    cJSON_AddItemToArray(arr, v);
}

static int espeak_found(const char *name, const char *language, void *user) {
    cJSON *pair = cJSON_CreateArray();
    cJSON_AddItemToArray(pair, cJSON_CreateString(name));
    cJSON_AddItemToArray(pair, cJSON_CreateString(language ? language : name));
    cJSON_AddItemToArray(user, pair);
    return 0;
}

static void describe(wy_conn *c) {
    vx_wyoming *w = c->w;
    vx_server *s = w->srv;
    if (!w->espeak) {
        w->espeak = cJSON_CreateArray();
        if (w->espeak) vox_list_espeak_voices(NULL, espeak_found, w->espeak);
    }
    cJSON *root = cJSON_CreateObject();
    static const char *const empty[] = {"asr", "handle", "intent", "wake", "mic", "snd"};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++)
        cJSON_AddArrayToObject(root, empty[i]);
    cJSON *tts = cJSON_AddArrayToObject(root, "tts");
    cJSON *prog = cJSON_CreateObject();
    cJSON_AddItemToArray(tts, prog);
    cJSON_AddStringToObject(prog, "name", "vox");
    cJSON_AddStringToObject(prog, "description",
                            "vox: neural text to speech (Piper voices, espeak-ng)");
    cJSON_AddItemToObject(prog, "attribution",
                          attribution("vox", "https://github.com/vox-tts/vox"));
    cJSON_AddBoolToObject(prog, "installed", 1);
    cJSON_AddStringToObject(prog, "version", VOX_VERSION);
    cJSON_AddBoolToObject(prog, "supports_synthesize_streaming", 1);
    cJSON *arr = cJSON_AddArrayToObject(prog, "voices");
    vx_voices_lock(&s->voices);
    int n = atomic_load_explicit(&s->voices.n, memory_order_relaxed);
    for (int i = 0; i < n; i++) {
        if (!s->voices.ents[i].live) continue;
        const vx_voice_meta *m = &s->voices.ents[i].meta;
        void *vv = s->voices.ents[i].voice;
        int piper = !strcmp(m->kind, "piper");
        char d[320];
        snprintf(d, sizeof d, "%s %s (%s)", piper ? "Piper" : "espeak-ng", m->name, m->quality);
        cJSON *v = voice_obj(m->name, d, m->language, piper);
        const char *names[1000];
        int k = m->num_speakers < 1000 ? m->num_speakers : 1000;
        for (int j = 0; j < k; j++) names[j] = s->backend.speaker_name(vv, j);
        add_speakers(v, names, k);
        cJSON_AddItemToArray(arr, v);
    }
    vx_voices_unlock(&s->voices);
    vx_voices_scan(&s->voices, s->cfg.data_dirs, s->cfg.n_data_dirs, piper_scanned, arr);
    const cJSON *pair;
    cJSON_ArrayForEach(pair, w->espeak) {
        const char *nm = cJSON_GetArrayItem(pair, 0)->valuestring;
        const char *lg = cJSON_GetArrayItem(pair, 1)->valuestring;
        char full[VX_VOICE_NAME_MAX];
        snprintf(full, sizeof full, "espeak:%s", nm);
        if (vx_voices_loaded(&s->voices, full)) continue; /* listed as loaded */
        char d[320];
        snprintf(d, sizeof d, "espeak-ng %s", nm);
        cJSON *v = voice_obj(full, d, lg, 0);
        cJSON_AddNullToObject(v, "speakers");
        cJSON_AddItemToArray(arr, v);
    }
    send_event(c, "info", root);
}

/* ------------------------------------------------------------ requests */

static vx_job *submit(wy_conn *c, const vx_wy_synth *sy, int open) {
    vx_server *s = c->w->srv;
    char voice[VX_VOICE_NAME_MAX], err[200];
    if (pick_voice(s, sy, voice, sizeof voice, err, sizeof err)) {
        send_error(c, err, "voice_not_found");
        return NULL;
    }
    vx_job_opts o;
    vx_job_opts_init(&o);
    o.voice = voice;
    o.text = open ? "" : sy->text;
    o.text_len = open ? 0 : sy->text_len;
    o.text_open = open;
    o.stream = 1;
    o.format = VX_AUDIO_PCM;
    if (sy->speaker && *sy->speaker) {
        if (strlen(sy->speaker) >= sizeof o.synth.speaker) {
            send_error(c, "speaker name too long", "speaker_not_found");
            return NULL;
        }
        snprintf(o.synth.speaker, sizeof o.synth.speaker, "%s", sy->speaker);
    }
    vx_job_error e;
    vx_job *j = vx_job_submit(s, &o, &EVENTS, c, &e);
    if (!j) send_error(c, e.message, e.code);
    return j;
}

static void on_synthesize(wy_conn *c, const cJSON *data) {
    if (c->mode == WY_STREAM || c->mode == WY_STREAM_FAILED) return; /* the stream's copy */
    vx_wy_synth sy;
    char err[160];
    if (vx_wy_get_synth(data, 1, &sy, err, sizeof err)) return send_error(c, err, "bad_event");
    c->rate = 0;
    c->group = 0;
    c->mode = WY_ONESHOT;
    if (!(c->job = submit(c, &sy, 0))) c->mode = WY_IDLE;
}

static void on_stream_start(wy_conn *c, const cJSON *data) {
    if (c->mode != WY_IDLE)
        return send_error(c, "synthesize-start inside a stream", "already_streaming");
    vx_wy_synth sy;
    char err[160];
    c->group = 0;
    /* a refused start still makes a stream: its chunks are ignored, its stop answered */
    c->mode = WY_STREAM_FAILED;
    if (vx_wy_get_synth(data, 0, &sy, err, sizeof err)) return send_error(c, err, "bad_event");
    if ((c->job = submit(c, &sy, 1))) c->mode = WY_STREAM;
}

static void on_stream_chunk(wy_conn *c, const cJSON *data) {
    if (c->mode == WY_STREAM_FAILED) return;
    if (c->mode != WY_STREAM)
        return send_error(c, "synthesize-chunk outside a stream (send synthesize-start first)",
                          "not_streaming");
    vx_wy_synth sy;
    char err[160];
    vx_job_error e;
    if (vx_wy_get_synth(data, 1, &sy, err, sizeof err)) {
        send_error(c, err, "bad_event");
    } else if (vx_job_append(c->job, sy.text, sy.text_len, &e)) {
        send_error(c, e.message, e.code);
    } else {
        return;
    }
    /* the stream cannot be spoken as sent: end its job, answer its stop */
    vx_job_cancel(c->job);
    c->job = NULL;
    group_stop(c);
    c->mode = WY_STREAM_FAILED;
}

static void on_stream_stop(wy_conn *c) {
    if (c->mode == WY_STREAM_FAILED) {
        group_stop(c);
        send_event_raw(c, "synthesize-stopped", NULL, 0, NULL, 0);
        c->mode = WY_IDLE;
        return;
    }
    if (c->mode != WY_STREAM)
        return send_error(c, "synthesize-stop outside a stream", "not_streaming");
    c->mode = WY_STREAM_STOP;
    vx_job_close(c->job); /* may end it (ev_end) before it returns */
}

static void handle(wy_conn *c, const vx_wy_event *ev) {
    const char *t = ev->type;
    if (!strcmp(t, "describe"))
        describe(c);
    else if (!strcmp(t, "synthesize"))
        on_synthesize(c, ev->data);
    else if (!strcmp(t, "synthesize-start"))
        on_stream_start(c, ev->data);
    else if (!strcmp(t, "synthesize-chunk"))
        on_stream_chunk(c, ev->data);
    else if (!strcmp(t, "synthesize-stop"))
        on_stream_stop(c);
    else if (!strcmp(t, "ping")) {
        cJSON *d = cJSON_CreateObject();
        const cJSON *txt = cJSON_GetObjectItemCaseSensitive(ev->data, "text");
        if (cJSON_IsString(txt)) cJSON_AddStringToObject(d, "text", txt->valuestring);
        send_event(c, "pong", d);
    } else {
        char msg[160];
        snprintf(msg, sizeof msg, "unknown event type '%.64s'", t);
        send_error(c, msg, "unknown_event");
    }
}

/* ------------------------------------------------------------ input */

static void read_start(wy_conn *c);

static int busy(const wy_conn *c) { return c->mode == WY_ONESHOT || c->mode == WY_STREAM_STOP; }

/* Every complete event while no answer is being made. */
static void process(wy_conn *c) {
    if (c->in_process || c->closing) return;
    c->in_process = 1;
    size_t off = 0;
    while (!c->closing && !c->close_after_write && !busy(c)) {
        vx_wy_event ev;
        size_t used;
        char err[200];
        int rc = vx_wy_parse(&c->w->lim, c->in + off, c->in_len - off, &ev, &used, err, sizeof err);
        if (rc == VX_WY_MORE && !used) break;
        if (rc == VX_WY_BROKEN) {
            send_error(c, err, "bad_event");
            c->close_after_write = 1;
            break;
        }
        if (rc == VX_WY_BAD) send_error(c, err, "bad_event");
        if (rc == VX_WY_EVENT) {
            handle(c, &ev);
            vx_wy_event_free(&ev);
        }
        off += used;
    }
    if (off && !c->closing) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    c->in_process = 0;
    if (c->closing) return;
    flush(c);
    if (c->close_after_write && !c->writing && !c->out_len) return conn_close(c);
    if (!c->close_after_write) read_start(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    wy_conn *c = h->data;
    size_t want = 65536;
    if (c->in_cap - c->in_len < want) {
        size_t cap = c->in_cap ? c->in_cap : 65536;
        while (cap - c->in_len < want) cap *= 2;
        char *p = realloc(c->in, cap);
        if (!p) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        c->in = p;
        c->in_cap = cap;
    }
    *buf = uv_buf_init(c->in + c->in_len, (unsigned)want);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
    wy_conn *c = st->data;
    if (nread == 0) return;
    if (nread < 0) return conn_close(c); /* EOF or error: its job is cancelled */
    if (c->close_after_write) return;    /* answered with an error, closing: discard */
    c->in_len += (size_t)nread;
    c->last_active = vx_now();
    /* bounded: while an answer is made, read ahead at most VX_WY_READ_AHEAD; otherwise
     * the parser refuses an event over the limits before this grows past them */
    const vx_wy_limits *l = &c->w->lim;
    if (c->in_len > l->max_line + l->max_data + l->max_payload + VX_WY_READ_AHEAD) {
        send_error(c, "input over the limits", "bad_event");
        c->close_after_write = 1;
        flush(c);
        return;
    }
    if (busy(c)) {
        if (c->in_len > VX_WY_READ_AHEAD && c->reading) {
            uv_read_stop(&c->io.st);
            c->reading = 0;
        }
        return;
    }
    process(c);
}

static void read_start(wy_conn *c) {
    if (!c->reading && !c->closing && !uv_read_start(&c->io.st, on_alloc, on_read)) c->reading = 1;
}

/* ------------------------------------------------------------ connections */

static void on_closed(uv_handle_t *h) {
    wy_conn *c = h->data;
    free(c->in);
    free(c->out);
    free(c->wr);
    free(c);
}

static void conn_close(wy_conn *c) {
    if (c->closing) return;
    c->closing = 1;
    if (c->job) {
        vx_job_cancel(c->job);
        c->job = NULL;
    }
    vx_wyoming *w = c->w;
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    w->n_conns--;
    uv_close(&c->io.h, on_closed);
}

static void on_connection(uv_stream_t *l, int status) {
    vx_wyoming *w = l->data;
    vx_server *s = w->srv;
    if (status < 0) return;
    wy_conn *c = calloc(1, sizeof(*c));
    if (!c) return;
    c->w = w;
    if (w->is_pipe)
        uv_pipe_init(s->loop, &c->io.pipe, 0);
    else
        uv_tcp_init(s->loop, &c->io.tcp);
    c->io.h.data = c;
    c->wreq.data = c;
    if (uv_accept(l, &c->io.st) || s->draining || s->n_conns + w->n_conns >= s->cfg.max_conns) {
        c->closing = 1;
        uv_close(&c->io.h, (uv_close_cb)free);
        return;
    }
    if (!w->is_pipe) uv_tcp_nodelay(&c->io.tcp, 1);
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    w->n_conns++;
    s->metrics.connections_total++;
    c->last_active = c->last_progress = vx_now();
    read_start(c);
}

void vx_wyoming_sweep(vx_server *s, double now) {
    vx_wyoming *w = s->wyoming;
    if (!w) return;
    for (wy_conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        int idle = c->mode == WY_IDLE && !c->job;
        if (c->writing && now - c->last_progress > s->cfg.write_timeout)
            conn_close(c); /* the client stopped reading */
        else if (s->draining && (idle || now > s->drain_deadline))
            conn_close(c);
        else if (idle && c->in_len && now - c->last_active > s->cfg.header_timeout)
            conn_close(c); /* a partial event that does not complete */
        else if (idle && !c->in_len && now - c->last_active > s->cfg.idle_timeout)
            conn_close(c);
    }
}

/* ------------------------------------------------------------ listener */

static int parse_uri(vx_wyoming *w, const char *uri, char *host, size_t hcap, int *port, char *err,
                     size_t errlen) {
    if (!strncmp(uri, "unix://", 7)) {
        const char *p = uri + 7;
        if (!*p || strlen(p) >= sizeof w->path || strlen(p) >= 100) {
            snprintf(err, errlen, "--wyoming %s: bad socket path", uri);
            return -1;
        }
        snprintf(w->path, sizeof w->path, "%s", p);
        w->is_pipe = 1;
        return 0;
    }
    if (strncmp(uri, "tcp://", 6)) {
        snprintf(err, errlen, "--wyoming %s: want tcp://HOST[:PORT] or unix:///PATH", uri);
        return -1;
    }
    const char *h = uri + 6, *colon;
    *port = VX_WY_DEFAULT_PORT;
    size_t hl;
    if (*h == '[') { /* [v6]:port */
        const char *e = strchr(h, ']');
        if (!e) goto bad;
        hl = (size_t)(e - h - 1);
        h++;
        colon = e[1] == ':' ? e + 1 : NULL;
        if (e[1] && !colon) goto bad;
    } else {
        colon = strrchr(h, ':');
        hl = colon ? (size_t)(colon - h) : strlen(h);
    }
    if (!hl || hl >= hcap) goto bad;
    memcpy(host, h, hl);
    host[hl] = 0;
    if (colon) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (!colon[1] || *end || v < 0 || v > 65535) goto bad;
        *port = (int)v;
    }
    return 0;
bad:
    snprintf(err, errlen, "--wyoming %s: want tcp://HOST[:PORT] or unix:///PATH", uri);
    return -1;
}

int vx_wyoming_start(vx_server *s, const char *uri, char *err, size_t errlen) {
    vx_wyoming *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->srv = s;
    w->lim.max_line = VX_WY_MAX_LINE;
    w->lim.max_data = s->cfg.max_body;
    w->lim.max_payload = VX_WY_MAX_PAYLOAD;
    char host[128];
    int port = 0, rc;
    if (parse_uri(w, uri, host, sizeof host, &port, err, errlen)) {
        free(w);
        return -1;
    }
    w->l.h.data = w;
    if (w->is_pipe) {
        /* a socket left by an earlier run is replaced; any other file is not */
        struct stat st;
        if (!lstat(w->path, &st) && S_ISSOCK(st.st_mode)) unlink(w->path);
        uv_pipe_init(s->loop, &w->l.pipe, 0);
        w->l.h.data = w;
        if ((rc = uv_pipe_bind(&w->l.pipe, w->path)) ||
            (rc = uv_listen((uv_stream_t *)&w->l.pipe, 128, on_connection))) {
            snprintf(err, errlen, "cannot listen on %s: %s", uri, uv_strerror(rc));
            uv_close(&w->l.h, NULL);
            w->path[0] = 0;
            s->wyoming = w; /* freed with the server */
            return -1;
        }
        snprintf(w->where, sizeof w->where, "unix://%s", w->path);
    } else {
        struct sockaddr_storage ss;
        rc = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                               : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
        if (!rc) {
            uv_tcp_init(s->loop, &w->l.tcp);
            w->l.h.data = w;
            if ((rc = uv_tcp_bind(&w->l.tcp, (struct sockaddr *)&ss, 0)) ||
                (rc = uv_listen((uv_stream_t *)&w->l.tcp, 511, on_connection)))
                uv_close(&w->l.h, NULL);
        }
        if (rc) {
            snprintf(err, errlen, "cannot listen on %s: %s", uri, uv_strerror(rc));
            s->wyoming = w;
            return -1;
        }
        struct sockaddr_storage got;
        int len = sizeof(got);
        uv_tcp_getsockname(&w->l.tcp, (struct sockaddr *)&got, &len);
        int bound = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                                    : ((struct sockaddr_in *)&got)->sin_port);
        snprintf(w->where, sizeof w->where, "tcp://%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
                 strchr(host, ':') ? "]" : "", bound);
    }
    w->listening = 1;
    s->wyoming = w;
    vx_log(s, "wyoming on %s", w->where);
    return 0;
}

static void stop_listening(vx_wyoming *w) {
    if (!w->listening) return;
    w->listening = 0;
    uv_close(&w->l.h, NULL);
}

void vx_wyoming_drain(vx_server *s) {
    vx_wyoming *w = s->wyoming;
    if (!w) return;
    stop_listening(w);
    vx_wyoming_sweep(s, vx_now()); /* idle connections close now */
}

void vx_wyoming_stop(vx_server *s) {
    vx_wyoming *w = s->wyoming;
    if (!w) return;
    stop_listening(w);
    while (w->conns) conn_close(w->conns);
}

int vx_wyoming_conns(const vx_server *s) { return s->wyoming ? s->wyoming->n_conns : 0; }

void vx_wyoming_free(vx_server *s) {
    vx_wyoming *w = s->wyoming;
    if (!w) return;
    if (w->path[0]) unlink(w->path);
    cJSON_Delete(w->espeak);
    free(w);
    s->wyoming = NULL;
}
