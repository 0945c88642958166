/*
 * routes.c — what voxd answers, for both protocols: the routing table (method, auth,
 * CORS preflight), GET /v1/voices, /v1/models, /healthz, /readyz, /metrics and the web
 * page; POST /v1/audio/speech goes to openai.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "conn.h"

extern const char vx_web_index_html[]; /* web/index.html, embedded at build time */
extern const size_t vx_web_index_html_len;

static void resp_json(vx_req *r, int status, cJSON *root) {
    char *js = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    vx_resp_simple(r, status, "application/json", js ? js : "{}", js ? strlen(js) : 2, NULL, 0);
    free(js);
}

static void voice_json(cJSON *arr, vx_server *s, const vx_voice_meta *m, void *voice,
                       cJSON *speakers) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", m->name);
    cJSON_AddStringToObject(o, "object", "voice");
    cJSON_AddStringToObject(o, "kind", m->kind);
    cJSON_AddStringToObject(o, "language", m->language);
    cJSON_AddStringToObject(o, "quality", m->quality);
    cJSON_AddNumberToObject(o, "sample_rate", m->sample_rate);
    cJSON_AddNumberToObject(o, "num_speakers", m->num_speakers);
    cJSON *sp = speakers ? speakers : cJSON_CreateArray();
    cJSON_AddItemToObject(o, "speakers", sp);
    for (int i = 0; voice && m->num_speakers > 1 && i < m->num_speakers && i < 1000; i++) {
        const char *nm = s->backend.speaker_name(voice, i);
        char def[16];
        snprintf(def, sizeof(def), "%d", i);
        cJSON_AddItemToArray(sp, cJSON_CreateString(nm ? nm : def));
    }
    cJSON_AddBoolToObject(o, "loaded", voice != NULL);
    cJSON_AddBoolToObject(o, "default", !strcmp(m->name, s->cfg.default_voice));
    cJSON_AddBoolToObject(o, "available", 1);
    cJSON_AddItemToArray(arr, o);
}

/* A voice that would not load: its name and why, none of its (unvalidated) metadata. */
static void broken_json(cJSON *arr, vx_server *s, const vx_voice_meta *m, const char *error) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", m->name);
    cJSON_AddStringToObject(o, "object", "voice");
    cJSON_AddStringToObject(o, "kind", m->kind);
    cJSON_AddBoolToObject(o, "loaded", 0);
    cJSON_AddBoolToObject(o, "default", !strcmp(m->name, s->cfg.default_voice));
    cJSON_AddBoolToObject(o, "available", 0);
    cJSON_AddStringToObject(o, "error", error);
    cJSON_AddItemToArray(arr, o);
}

static void on_scanned(void *ctx, const vx_voice_meta *m, const char *const *speakers,
                       int n_speakers, const char *error) {
    void **a = ctx;
    if (error) return broken_json(a[0], a[1], m, error);
    cJSON *sp = cJSON_CreateArray();
    for (int i = 0; i < n_speakers; i++) cJSON_AddItemToArray(sp, cJSON_CreateString(speakers[i]));
    voice_json(a[0], a[1], m, NULL, sp);
}

static void route_voices(vx_server *s, vx_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "object", "list");
    cJSON *arr = cJSON_AddArrayToObject(root, "data");
    vx_voices_lock(&s->voices);
    int n = atomic_load_explicit(&s->voices.n, memory_order_relaxed);
    for (int i = 0; i < n; i++)
        if (s->voices.ents[i].live)
            voice_json(arr, s, &s->voices.ents[i].meta, s->voices.ents[i].voice, NULL);
    vx_voices_unlock(&s->voices);
    void *ctx[2] = {arr, s};
    vx_voices_scan_status(&s->voices, s->cfg.data_dirs, s->cfg.n_data_dirs, on_scanned, ctx);
    cJSON *al = cJSON_AddObjectToObject(root, "aliases");
    static const char *const names[] = {"alloy", "echo",  "fable", "onyx",   "nova", "shimmer",
                                        "ash",   "coral", "sage",  "ballad", "verse"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = s->cfg.default_voice;
        for (int k = 0; k < s->cfg.n_aliases; k++)
            if (!strcmp(s->cfg.aliases[k].name, names[i])) v = s->cfg.aliases[k].voice;
        cJSON_AddStringToObject(al, names[i], v);
    }
    cJSON_AddStringToObject(root, "default", s->cfg.default_voice);
    resp_json(r, 200, root);
}

static void route_models(vx_server *s, vx_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "object", "list");
    cJSON *arr = cJSON_AddArrayToObject(root, "data");
    static const char *const models[] = {"tts-1", "tts-1-hd"};
    for (int i = 0; i < 2; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", models[i]);
        cJSON_AddStringToObject(o, "object", "model");
        cJSON_AddNumberToObject(o, "created", 0);
        cJSON_AddStringToObject(o, "owned_by", "vox");
        cJSON_AddItemToArray(arr, o);
    }
    /* Every loaded voice is also usable as a model name. */
    vx_voices_lock(&s->voices);
    int n = atomic_load_explicit(&s->voices.n, memory_order_relaxed);
    for (int i = 0; i < n; i++) {
        if (!s->voices.ents[i].live) continue;
        const vx_voice_meta *m = &s->voices.ents[i].meta;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", m->name);
        cJSON_AddStringToObject(o, "object", "model");
        cJSON_AddNumberToObject(o, "created", 0);
        cJSON_AddStringToObject(o, "owned_by", "vox");
        cJSON_AddStringToObject(o, "language", m->language);
        cJSON_AddNumberToObject(o, "sample_rate", m->sample_rate);
        cJSON_AddNumberToObject(o, "num_speakers", m->num_speakers);
        cJSON_AddStringToObject(o, "quality", m->quality);
        cJSON_AddItemToArray(arr, o);
    }
    vx_voices_unlock(&s->voices);
    resp_json(r, 200, root);
}

static void route_metrics(vx_server *s, vx_req *r) {
    vx_buf *b = vx_buf_get(&s->bufs);
    if (!b) return vx_resp_simple(r, 503, "text/plain", "no memory\n", 10, NULL, 0);
    /* Count this scrape before rendering so the output includes it. */
    vx_metrics_request(&s->metrics, VX_ROUTE_METRICS, 200);
    vx_metrics_render(&s->metrics, b, atomic_load(&s->sched.depth), s->n_jobs, s->n_conns,
                      s->sched.n_threads, s->ready);
    r->route = -1; /* already counted */
    vx_resp_simple(r, 200, "text/plain; version=0.0.4", b->data, b->len, NULL, 0);
    vx_buf_put(b);
}

static int auth_ok(vx_server *s, vx_req *r) {
    if (!s->cfg.api_key || !*s->cfg.api_key) return 1;
    if (r->auth_too_long) return 0;
    return vx_auth_ok(r->auth, r->auth_len, s->cfg.api_key);
}

void vx_route(vx_req *r) {
    vx_conn *c = r->c;
    vx_server *s = c->srv;
    char *q = strchr(r->path, '?');
    if (q) *q = 0;
    const char *p = r->path, *m = r->method;
    int get = !strcmp(m, "GET"), post = !strcmp(m, "POST");
    struct {
        const char *path;
        int route, method_ok;
    } routes[] = {
        {"/v1/audio/speech", VX_ROUTE_SPEECH, post},
        {"/v1/voices", VX_ROUTE_VOICES, get},
        {"/v1/models", VX_ROUTE_MODELS, get},
        {"/healthz", VX_ROUTE_HEALTHZ, get},
        {"/readyz", VX_ROUTE_READYZ, get},
        {"/metrics", VX_ROUTE_METRICS, get},
        {"/", VX_ROUTE_INDEX, get},
        {"/index.html", VX_ROUTE_INDEX, get},
    };
    int found = -1;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (!strcmp(p, routes[i].path)) found = (int)i;
    vx_api_error e;
    if (!strcmp(m, "OPTIONS")) {
        vx_hdr h[3] = {{"access-control-allow-origin", "*"},
                       {"access-control-allow-methods", "GET, POST, OPTIONS"},
                       {"access-control-allow-headers", "authorization, content-type"}};
        r->route = found >= 0 ? routes[found].route : VX_ROUTE_OTHER;
        vx_resp_simple(r, 204, NULL, NULL, 0, h, 3);
        return;
    }
    if (found < 0) {
        vx_api_set_error(&e, 404, "invalid_request_error", "not_found", NULL, "no route for %.200s",
                         p);
        return vx_resp_error(r, &e);
    }
    r->route = routes[found].route;
    if (!routes[found].method_ok) {
        vx_api_set_error(&e, 405, "invalid_request_error", "method_not_allowed", NULL,
                         "method %s not allowed on %s", m, p);
        return vx_resp_error(r, &e);
    }
    if (!strncmp(p, "/v1/", 4) && !auth_ok(s, r)) {
        vx_api_set_error(&e, 401, "invalid_request_error", "invalid_api_key", NULL,
                         "invalid or missing API key (Authorization: Bearer <key>)");
        return vx_resp_error(r, &e);
    }
    switch (r->route) {
    case VX_ROUTE_SPEECH: vx_openai_speech(s, r); break;
    case VX_ROUTE_VOICES: route_voices(s, r); break;
    case VX_ROUTE_MODELS: route_models(s, r); break;
    case VX_ROUTE_HEALTHZ:
        vx_resp_simple(r, 200, "application/json", "{\"status\":\"ok\"}", 15, NULL, 0);
        break;
    case VX_ROUTE_READYZ:
        if (s->ready && !s->draining)
            vx_resp_simple(r, 200, "application/json", "{\"status\":\"ready\"}", 18, NULL, 0);
        else
            vx_resp_simple(r, 503, "application/json", "{\"status\":\"loading\"}", 20, NULL, 0);
        break;
    case VX_ROUTE_METRICS: route_metrics(s, r); break;
    case VX_ROUTE_INDEX:
        vx_resp_simple(r, 200, "text/html; charset=utf-8", vx_web_index_html, vx_web_index_html_len,
                       NULL, 0);
        break;
    }
}
