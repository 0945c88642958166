/*
 * wyoming_parse.c — Wyoming event framing (wyoming_parse.h). Pure; fuzzed.
 */
#include "wyoming_parse.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *msg) {
    snprintf(err, errlen, "%s", msg);
    return -1;
}

/* A length field: absent or null is 0; else an integral number in [0, max]. */
static int get_len(const cJSON *h, const char *key, size_t max, size_t *out, char *err,
                   size_t errlen) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, key);
    *out = 0;
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble != floor(v->valuedouble)) {
        snprintf(err, errlen, "%s must be a non-negative integer", key);
        return -1;
    }
    if (v->valuedouble > (double)max) {
        snprintf(err, errlen, "%s %.0f is over the limit of %zu bytes", key, v->valuedouble, max);
        return -1;
    }
    *out = (size_t)v->valuedouble;
    return 0;
}

/* Exactly one JSON value in p[0..n), whitespace around it allowed (as Python's
 * json.loads: no trailing bytes). */
static cJSON *parse_exact(const char *p, size_t n) {
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(p, n, &end, 0);
    if (!v) return NULL;
    for (; end && end < p + n; end++)
        if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
            cJSON_Delete(v);
            return NULL;
        }
    return v;
}

void vx_wy_event_free(vx_wy_event *ev) {
    cJSON_Delete(ev->data);
    ev->data = NULL;
}

int vx_wy_parse(const vx_wy_limits *lim, const char *buf, size_t len, vx_wy_event *ev,
                size_t *consumed, char *err, size_t errlen) {
    memset(ev, 0, sizeof(*ev));
    *consumed = 0;
    size_t scan = len < lim->max_line ? len : lim->max_line;
    const char *nl = memchr(buf, '\n', scan);
    if (!nl) {
        if (len >= lim->max_line) {
            snprintf(err, errlen, "event header line is over %zu bytes", lim->max_line);
            return VX_WY_BROKEN;
        }
        return VX_WY_MORE;
    }
    size_t line = (size_t)(nl - buf);
    size_t hl = line;
    if (hl && buf[hl - 1] == '\r') hl--;
    if (hl == 0) { /* an empty line between events: nothing */
        *consumed = line + 1;
        return VX_WY_MORE;
    }
    cJSON *h = parse_exact(buf, hl);
    const cJSON *t = h ? cJSON_GetObjectItemCaseSensitive(h, "type") : NULL;
    size_t dlen = 0, plen = 0;
    int rc = VX_WY_BROKEN;
    if (!cJSON_IsObject(h)) {
        fail(err, errlen, "event header is not a JSON object");
    } else if (!cJSON_IsString(t) || !t->valuestring) {
        fail(err, errlen, "event header has no string \"type\"");
    } else if (strlen(t->valuestring) >= sizeof(ev->type)) {
        fail(err, errlen, "event type is too long");
    } else if (!get_len(h, "data_length", lim->max_data, &dlen, err, errlen) &&
               !get_len(h, "payload_length", lim->max_payload, &plen, err, errlen)) {
        rc = VX_WY_MORE;
    }
    if (rc == VX_WY_BROKEN) {
        cJSON_Delete(h);
        return rc;
    }
    size_t need = line + 1 + dlen + plen;
    if (len < need) {
        cJSON_Delete(h);
        return VX_WY_MORE;
    }
    snprintf(ev->type, sizeof(ev->type), "%s", t->valuestring);
    *consumed = need;
    /* the header's inline data, then the data block's members over it */
    cJSON *data = cJSON_DetachItemFromObjectCaseSensitive(h, "data");
    cJSON_Delete(h);
    if (data && cJSON_IsNull(data)) {
        cJSON_Delete(data);
        data = NULL;
    }
    if (data && !cJSON_IsObject(data)) {
        cJSON_Delete(data);
        fail(err, errlen, "event data is not a JSON object");
        return VX_WY_BAD;
    }
    if (!data && !(data = cJSON_CreateObject())) {
        fail(err, errlen, "out of memory");
        return VX_WY_BAD;
    }
    if (dlen) {
        cJSON *d = parse_exact(buf + line + 1, dlen);
        if (!cJSON_IsObject(d)) {
            cJSON_Delete(d);
            cJSON_Delete(data);
            fail(err, errlen, "event data is not a JSON object");
            return VX_WY_BAD;
        }
        while (d->child) {
            cJSON *it = cJSON_DetachItemViaPointer(d, d->child);
            const char *k = it->string;
            if (k && cJSON_GetObjectItemCaseSensitive(data, k))
                cJSON_DeleteItemFromObjectCaseSensitive(data, k);
            cJSON_AddItemToObject(data, k ? k : "", it);
        }
        cJSON_Delete(d);
    }
    ev->data = data;
    ev->payload = plen ? buf + line + 1 + dlen : NULL;
    ev->payload_len = plen;
    return VX_WY_EVENT;
}

static int opt_string(const cJSON *o, const char *key, const char **out, char *err, size_t errlen) {
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsString(v) || !v->valuestring) {
        snprintf(err, errlen, "\"%s\" must be a string", key);
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

int vx_wy_get_synth(const cJSON *data, int need_text, vx_wy_synth *out, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    if (opt_string(data, "text", &out->text, err, errlen)) return -1;
    if (need_text && !out->text) return fail(err, errlen, "\"text\" is missing");
    if (out->text) out->text_len = strlen(out->text);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, "voice");
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsObject(v)) return fail(err, errlen, "\"voice\" must be an object");
    if (opt_string(v, "name", &out->name, err, errlen) ||
        opt_string(v, "language", &out->language, err, errlen) ||
        opt_string(v, "speaker", &out->speaker, err, errlen))
        return -1;
    return 0;
}

size_t vx_wy_header(char *dst, size_t cap, const char *type, size_t data_len, size_t payload_len) {
    for (const char *p = type; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) return 0;
    char dl[40] = "", pl[40] = "";
    if (data_len) snprintf(dl, sizeof dl, ",\"data_length\":%zu", data_len);
    if (payload_len) snprintf(pl, sizeof pl, ",\"payload_length\":%zu", payload_len);
    int n = snprintf(dst, cap, "{\"type\":\"%s\",\"version\":\"%s\"%s%s}\n", type, VX_WY_VERSION,
                     dl, pl);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
