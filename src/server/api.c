/* api.c — speech request parsing and validation, errors, WAV header, auth. See api.h. */
#include "api.h"

#include "vox.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vx_api_set_error(vx_api_error *err, int status, const char *type, const char *code,
                     const char *param, const char *fmt, ...) {
    err->status = status;
    err->type = type;
    err->code = code;
    err->param = param;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

#define BAD(param, code, ...)                                                                      \
    vx_api_set_error(err, 400, "invalid_request_error", code, param, __VA_ARGS__)

char *vx_api_error_json(const vx_api_error *err) {
    cJSON *root = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(e, "message", err->message);
    cJSON_AddStringToObject(e, "type", err->type ? err->type : "server_error");
    if (err->param)
        cJSON_AddStringToObject(e, "param", err->param);
    else
        cJSON_AddNullToObject(e, "param");
    if (err->code)
        cJSON_AddStringToObject(e, "code", err->code);
    else
        cJSON_AddNullToObject(e, "code");
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

int vx_api_utf8_count(const char *s, size_t len, size_t *chars) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t k;
        unsigned cp;
        if (c < 0x80) {
            i++;
            n++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07;
        } else
            return -1;
        if (len - i <= k) return -1;
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80) return -1;
            cp = (cp << 6) | (p[i + j] & 0x3f);
        }
        /* Reject overlongs, surrogates and > U+10FFFF. */
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        i += k + 1;
        n++;
    }
    *chars = n;
    return 0;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

int vx_voice_name_ok(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n >= VX_VOICE_NAME_MAX) return 0;
    const char *p = name;
    if (!strncmp(p, "espeak:", 7)) p += 7;
    if (!*p || *p == '.' || *p == '-') return 0;
    for (const char *q = p; *q; q++) {
        char c = *q;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-' || c == '+';
        if (!ok) return 0;
    }
    if (strstr(p, "..") || ends_with(p, ".onnx") || ends_with(p, ".json")) return 0;
    return 1;
}

static const char *const openai_voices[] = {"alloy", "ash",   "ballad", "coral", "echo",
                                            "fable", "onyx",  "nova",   "sage",  "shimmer",
                                            "verse", "marin", "cedar",  NULL};

static int is_openai_voice(const char *v) {
    for (int i = 0; openai_voices[i]; i++)
        if (!strcmp(v, openai_voices[i])) return 1;
    return 0;
}

/* voice > model (if it is a vox voice name) > alias map > default voice. */
static int resolve_voice(const char *voice, const char *model, const vx_api_config *cfg,
                         vx_speech_req *out, vx_api_error *err) {
    const char *pick = NULL;
    if (voice && !is_openai_voice(voice)) {
        pick = voice;
    } else if (model && strcmp(model, "tts-1") && strcmp(model, "tts-1-hd") &&
               strcmp(model, "gpt-4o-mini-tts")) {
        pick = model;
    } else if (voice) {
        pick = cfg->default_voice;
        for (int i = 0; i < cfg->n_aliases; i++)
            if (!strcmp(cfg->aliases[i].name, voice)) pick = cfg->aliases[i].voice;
    } else {
        pick = cfg->default_voice;
    }
    if (!pick || !vx_voice_name_ok(pick))
        return vx_api_set_error(err, 404, "invalid_request_error", "voice_not_found",
                                voice ? "voice" : "model", "voice '%.100s' not found",
                                pick ? pick : "");
    snprintf(out->voice, sizeof(out->voice), "%s", pick);
    return 0;
}

static int get_number(const cJSON *root, const char *key, double lo, double hi, float *out,
                      vx_api_error *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!it || cJSON_IsNull(it)) return 0;
    if (!cJSON_IsNumber(it)) return BAD(key, "invalid_type", "'%s' must be a number", key);
    double v = it->valuedouble;
    if (!isfinite(v) || v < lo || v > hi)
        return BAD(key, "invalid_value", "'%s' must be between %g and %g", key, lo, hi);
    *out = (float)v;
    return 0;
}

static int parse_format(const cJSON *root, vx_speech_req *out, vx_api_error *err) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "response_format");
    if (!f || cJSON_IsNull(f)) return 0; /* OpenAI's default: mp3 (set by vx_speech_parse) */
    if (!cJSON_IsString(f))
        return BAD("response_format", "invalid_type", "'response_format' must be a string");
    static const char *const names[] = {"mp3", "opus", "aac", "flac", "wav", "pcm"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(f->valuestring, names[i])) {
            vx_audio_format_parse(names[i], &out->format);
            return 0;
        }
    return BAD("response_format", "invalid_value",
               "response_format '%.40s' is invalid; use mp3, opus, aac, flac, wav or pcm",
               f->valuestring);
}

/* An optional integer field in [lo, hi]; *out untouched when absent. */
static int get_int(const cJSON *root, const char *key, int lo, int hi, int *out,
                   vx_api_error *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!it || cJSON_IsNull(it)) return 0;
    if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble))
        return BAD(key, "invalid_type", "'%s' must be an integer", key);
    if (it->valuedouble < lo || it->valuedouble > hi)
        return BAD(key, "invalid_value", "'%s' must be between %d and %d", key, lo, hi);
    *out = (int)it->valuedouble;
    return 0;
}

/* sample_rate, bitrate, compression: checked against the format's bounds now, so a bad
 * value is a 400 before any work (the messages name the field and the bounds). */
static int parse_audio_options(const cJSON *root, vx_speech_req *out, vx_api_error *err) {
    if (get_int(root, "sample_rate", VX_AUDIO_RATE_MIN, VX_AUDIO_RATE_MAX, &out->sample_rate,
                err) ||
        get_int(root, "bitrate", 1, 10000000, &out->enc.bitrate, err) ||
        get_int(root, "compression", 0, 100, &out->enc.compression, err))
        return -1;
    /* the rate bound per format is known now; without sample_rate any voice rate works
     * (mp3/aac take the next rate their bitstream has) */
    int rate = out->sample_rate
                   ? out->sample_rate
                   : vx_audio_rate_for(out->format,
                                       out->format == VX_AUDIO_PCM ? VX_OPENAI_PCM_RATE : 22050);
    char msg[200];
    if (vx_encoder_check(out->format, rate, 1, &out->enc, msg, sizeof msg)) {
        const char *param = strstr(msg, "bitrate")       ? "bitrate"
                            : strstr(msg, "compression") ? "compression"
                                                         : "sample_rate";
        return BAD(param, "invalid_value", "%s", msg);
    }
    return 0;
}

static int parse_extensions(const cJSON *root, vx_speech_req *out, vx_api_error *err) {
    if (get_number(root, "speed", 0.25, 4.0, &out->speed, err)) return -1;
    if (get_number(root, "noise_scale", 0.0, 10.0, &out->noise_scale, err)) return -1;
    if (get_number(root, "noise_w", 0.0, 10.0, &out->noise_w, err)) return -1;
    if (get_number(root, "length_scale", 0.05, 20.0, &out->length_scale, err)) return -1;
    if (get_number(root, "sentence_silence", 0.0, VX_MAX_SENTENCE_SILENCE, &out->sentence_silence,
                   err))
        return -1;
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(root, "speaker");
    if (sp && !cJSON_IsNull(sp)) {
        if (cJSON_IsNumber(sp)) {
            double d = sp->valuedouble;
            if (d < 0 || d > 100000 || d != floor(d))
                return BAD("speaker", "invalid_value", "'speaker' id must be an integer >= 0");
            out->speaker_id = (int)d;
        } else if (cJSON_IsString(sp)) {
            if (strlen(sp->valuestring) >= sizeof(out->speaker))
                return BAD("speaker", "invalid_value", "'speaker' name too long");
            snprintf(out->speaker, sizeof(out->speaker), "%s", sp->valuestring);
        } else {
            return BAD("speaker", "invalid_type", "'speaker' must be a name or an id");
        }
    }
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "stream");
    if (st && !cJSON_IsNull(st)) {
        if (!cJSON_IsBool(st)) return BAD("stream", "invalid_type", "'stream' must be a boolean");
        out->stream = cJSON_IsTrue(st);
    }
    const cJSON *sf = cJSON_GetObjectItemCaseSensitive(root, "stream_format");
    if (sf && !cJSON_IsNull(sf)) {
        if (!cJSON_IsString(sf))
            return BAD("stream_format", "invalid_type", "'stream_format' must be a string");
        if (!strcmp(sf->valuestring, "sse"))
            out->sse = 1;
        else if (strcmp(sf->valuestring, "audio"))
            return BAD("stream_format", "invalid_value",
                       "stream_format '%.40s' is invalid; use 'audio' or 'sse'", sf->valuestring);
    }
    const cJSON *tn = cJSON_GetObjectItemCaseSensitive(root, "text_norm");
    if (tn && !cJSON_IsNull(tn)) {
        if (!cJSON_IsBool(tn))
            return BAD("text_norm", "invalid_type", "'text_norm' must be a boolean");
        out->text_norm = cJSON_IsTrue(tn);
    }
    const cJSON *ld = cJSON_GetObjectItemCaseSensitive(root, "loudness");
    if (ld && !cJSON_IsNull(ld)) {
        const char *v = cJSON_IsString(ld) ? ld->valuestring : "";
        if (!strcmp(v, "steady"))
            out->loudness = VOX_NORMALIZE_STEADY;
        else if (!strcmp(v, "peak"))
            out->loudness = VOX_NORMALIZE_PEAK;
        else
            return BAD("loudness", "invalid_value",
                       "'loudness' must be 'steady' (streams within a sentence) or 'peak' "
                       "(Piper's per-sentence level)");
    }
    const cJSON *inf = cJSON_GetObjectItemCaseSensitive(root, "input_format");
    if (inf && !cJSON_IsNull(inf)) {
        const char *v = cJSON_IsString(inf) ? inf->valuestring : "";
        if (!strcmp(v, "auto"))
            out->input_format = VOX_INPUT_AUTO;
        else if (!strcmp(v, "text"))
            out->input_format = VOX_INPUT_TEXT;
        else if (!strcmp(v, "ssml"))
            out->input_format = VOX_INPUT_SSML;
        else
            return BAD("input_format", "invalid_value",
                       "'input_format' must be 'text', 'ssml' or 'auto'");
    }
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(root, "instructions");
    /* accepted and ignored, as tts-1 does: vox voices take no style prompt */
    if (ins && !cJSON_IsNull(ins) && !cJSON_IsString(ins))
        return BAD("instructions", "invalid_type", "'instructions' must be a string");
    return 0;
}

static const char *opt_string(const cJSON *root, const char *key, int *bad) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!it || cJSON_IsNull(it)) return NULL;
    if (cJSON_IsString(it)) return it->valuestring;
    /* OpenAI also accepts a custom voice as {"id": "..."}. */
    if (cJSON_IsObject(it)) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        if (cJSON_IsString(id)) return id->valuestring;
    }
    *bad = 1;
    return NULL;
}

static int parse_root(const cJSON *root, const vx_api_config *cfg, vx_speech_req *out,
                      vx_api_error *err) {
    if (!cJSON_IsObject(root))
        return BAD(NULL, "invalid_json", "request body must be a JSON object");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(root, "input");
    if (!in || cJSON_IsNull(in))
        return BAD("input", "missing_required_parameter", "'input' is required");
    if (!cJSON_IsString(in)) return BAD("input", "invalid_type", "'input' must be a string");
    size_t len = strlen(in->valuestring), chars;
    if (vx_api_utf8_count(in->valuestring, len, &chars))
        return BAD("input", "invalid_value", "'input' is not valid UTF-8");
    if (chars == 0) return BAD("input", "invalid_value", "'input' is empty");
    if (chars > cfg->max_input_chars)
        return BAD("input", "string_above_max_length",
                   "'input' is %zu characters; the maximum is %zu", chars, cfg->max_input_chars);
    int bad = 0;
    const char *model = opt_string(root, "model", &bad);
    if (bad) return BAD("model", "invalid_type", "'model' must be a string");
    const char *voice = opt_string(root, "voice", &bad);
    if (bad) return BAD("voice", "invalid_type", "'voice' must be a string");
    if (parse_format(root, out, err) || parse_extensions(root, out, err) ||
        parse_audio_options(root, out, err))
        return -1;
    if (resolve_voice(voice, model, cfg, out, err)) return -1;
    if (out->input_format == VOX_INPUT_SSML ||
        (out->input_format == VOX_INPUT_AUTO && vox_text_is_ssml(in->valuestring, len))) {
        char msg[240];
        if (vox_ssml_check(in->valuestring, len, msg, sizeof msg))
            return BAD("input", "invalid_ssml", "%s", msg);
        out->input_format = VOX_INPUT_SSML;
    }
    out->input = malloc(len + 1);
    if (!out->input)
        return vx_api_set_error(err, 500, "server_error", "out_of_memory", NULL, "out of memory");
    memcpy(out->input, in->valuestring, len + 1);
    out->input_len = len;
    out->input_chars = chars;
    return 0;
}

/* A NUL in a JSON string (raw, or the escape \u0000) would silently cut the C string
 * cJSON hands us ("voice-a\u0000x" loads "voice-a"): refused instead. */
static int json_has_nul(const char *p, size_t n) {
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        if (!p[i]) return 1;
        if (!in_str) {
            in_str = p[i] == '"';
        } else if (p[i] == '"') {
            in_str = 0;
        } else if (p[i] == '\\' && i + 1 < n) {
            if (p[i + 1] == 'u' && i + 5 < n && !memcmp(p + i + 2, "0000", 4)) return 1;
            i++; /* the escaped character */
        }
    }
    return 0;
}

int vx_speech_parse(const char *body, size_t len, const vx_api_config *cfg, vx_speech_req *out,
                    vx_api_error *err) {
    memset(out, 0, sizeof(*out));
    out->format = VX_AUDIO_MP3;
    vx_enc_options_init(&out->enc);
    out->stream = 1;
    out->speed = 1.0f;
    out->speaker_id = -1;
    out->noise_scale = out->noise_w = out->length_scale = out->sentence_silence = -1.0f;
    out->text_norm = 1;
    out->loudness = -1;
    memset(err, 0, sizeof(*err));
    if (json_has_nul(body, len))
        return BAD(NULL, "invalid_value", "NUL characters are not allowed in the request");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root) return BAD(NULL, "invalid_json", "request body is not valid JSON");
    /* one object and nothing after it (but whitespace) */
    while (end < body + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')) end++;
    if (end < body + len) {
        cJSON_Delete(root);
        return BAD(NULL, "invalid_json", "data after the JSON object");
    }
    int rc = parse_root(root, cfg, out, err);
    cJSON_Delete(root);
    if (rc) vx_speech_free(out);
    return rc;
}

void vx_speech_free(vx_speech_req *r) {
    free(r->input);
    r->input = NULL;
}

int vx_auth_ok(const char *header, size_t header_len, const char *key) {
    if (!key || !*key) return 1;
    if (!header || header_len < 7 || strncmp(header, "Bearer ", 7)) return 0;
    /* Compare digests so the time depends on neither the key's bytes nor its length. */
    unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)header + 7, header_len - 7, a);
    SHA256((const unsigned char *)key, strlen(key), b);
    return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}
