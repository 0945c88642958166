#include "cli_out.h"
#include "audio/wav.h"
#include "text/lexicon.h"
#include "text/norm.h"
#include "text/ssml.h"
#include "voice/voice.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void vx_timings_init(vx_timings_out *t) {
    memset(t, 0, sizeof *t);
    t->words = cJSON_CreateArray();
    t->phonemes = cJSON_CreateArray();
    t->sentences = cJSON_CreateArray();
    t->marks = cJSON_CreateArray();
}

void vx_timings_free(vx_timings_out *t) {
    cJSON_Delete(t->words);
    cJSON_Delete(t->phonemes);
    cJSON_Delete(t->sentences);
    cJSON_Delete(t->marks);
    memset(t, 0, sizeof *t);
}

static cJSON *span_item(const char *text, size_t off, size_t len, double start, double end) {
    cJSON *o = cJSON_CreateObject();
    char *s = strndup(text + off, len);
    cJSON_AddStringToObject(o, "text", s ? s : "");
    free(s);
    cJSON_AddNumberToObject(o, "start", start);
    cJSON_AddNumberToObject(o, "end", end);
    cJSON_AddNumberToObject(o, "offset", (double)off);
    cJSON_AddNumberToObject(o, "length", (double)len);
    return o;
}

void vx_timings_add(vx_timings_out *t, const vox_chunk *ch, const char *text) {
    double dur = ch->n_samples / (double)ch->sample_rate;
    t->sample_rate = ch->sample_rate;
    /* Text of the chunk: trim surrounding white space for display. */
    size_t off = ch->text_offset, len = ch->text_length;
    while (len &&
           (text[off] == ' ' || text[off] == '\n' || text[off] == '\t' || text[off] == '\r')) {
        off++;
        len--;
    }
    while (len && (text[off + len - 1] == ' ' || text[off + len - 1] == '\n' ||
                   text[off + len - 1] == '\t' || text[off + len - 1] == '\r'))
        len--;
    cJSON_AddItemToArray(t->sentences, span_item(text, off, len, t->t, t->t + dur));
    for (size_t i = 0; i < ch->n_words; i++) {
        const vox_timing *w = &ch->words[i];
        cJSON_AddItemToArray(t->words,
                             span_item(text, w->text_offset, w->text_length, w->start, w->end));
    }
    for (size_t i = 0; i < ch->n_phonemes; i++) {
        const vox_timing *p = &ch->phonemes[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "phoneme", p->phoneme ? p->phoneme : "");
        cJSON_AddNumberToObject(o, "start", p->start);
        cJSON_AddNumberToObject(o, "end", p->end);
        cJSON_AddNumberToObject(o, "offset", (double)p->text_offset);
        cJSON_AddItemToArray(t->phonemes, o);
    }
    for (size_t i = 0; i < ch->n_marks; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", ch->marks[i].name);
        cJSON_AddNumberToObject(o, "time", ch->marks[i].time);
        cJSON_AddNumberToObject(o, "offset", (double)ch->marks[i].text_offset);
        cJSON_AddItemToArray(t->marks, o);
    }
    t->t += dur;
}

static void fmt_time(char *buf, size_t n, double s, int srt) {
    if (s < 0) s = 0;
    long ms = (long)(s * 1000.0 + 0.5);
    snprintf(buf, n, "%02ld:%02ld:%02ld%c%03ld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
             srt ? ',' : '.', ms % 1000);
}

static int write_subs(const vx_timings_out *t, const char *path) {
    size_t n = strlen(path);
    int srt = n >= 4 && !strcmp(path + n - 4, ".srt");
    int vtt = n >= 4 && !strcmp(path + n - 4, ".vtt");
    if (!srt && !vtt) {
        fprintf(stderr, "vox: error: subtitles file must end in .vtt or .srt: '%s'\n", path);
        return 1;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "vox: error: cannot open '%s': %s\n", path, strerror(errno));
        return 1;
    }
    if (vtt) fputs("WEBVTT\n\n", f);
    int k = 0;
    cJSON *s;
    cJSON_ArrayForEach(s, t->sentences) {
        const char *txt = cJSON_GetObjectItem(s, "text")->valuestring;
        if (!*txt) continue;
        char a[32], b[32];
        fmt_time(a, sizeof a, cJSON_GetObjectItem(s, "start")->valuedouble, srt);
        fmt_time(b, sizeof b, cJSON_GetObjectItem(s, "end")->valuedouble, srt);
        if (srt) fprintf(f, "%d\n", ++k);
        fprintf(f, "%s --> %s\n", a, b);
        /* A cue line may not be blank, nor contain "-->": fold newlines to spaces. */
        for (const char *p = txt; *p; p++) fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
        fputs("\n\n", f);
    }
    if (fclose(f)) {
        fprintf(stderr, "vox: error: cannot write '%s'\n", path);
        return 1;
    }
    return 0;
}

int vx_timings_write(vx_timings_out *t, const char *json_path, const char *subs_path) {
    if (json_path) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddNumberToObject(root, "sample_rate", t->sample_rate);
        cJSON_AddNumberToObject(root, "duration", t->t);
        cJSON_AddItemReferenceToObject(root, "sentences", t->sentences);
        cJSON_AddItemReferenceToObject(root, "words", t->words);
        cJSON_AddItemReferenceToObject(root, "phonemes", t->phonemes);
        if (cJSON_GetArraySize(t->marks)) cJSON_AddItemReferenceToObject(root, "marks", t->marks);
        char *s = cJSON_Print(root);
        cJSON_Delete(root);
        FILE *f = fopen(json_path, "w");
        int bad = !f || !s || fputs(s, f) < 0;
        if (f && fclose(f)) bad = 1;
        free(s);
        if (bad) {
            fprintf(stderr, "vox: error: cannot write '%s'\n", json_path);
            return 1;
        }
    }
    if (subs_path) return write_subs(t, subs_path);
    return 0;
}

/* One JSON object per line: {"text", "speaker_id" | "speaker", "output_file"}. Each line
 * goes to its output_file, or to a numbered WAV in out_dir, or as raw s16 to stdout. */
int vx_cli_json_input(vox_voice *v, const vox_synth_options *base, const char *out_dir, int quiet) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0, k = 0, lineno = 0;
    vox_voice_info info;
    vox_voice_get_info(v, &info);
    while (!rc && (n = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        if (n > (ssize_t)VOX_MAX_TEXT_BYTES) {
            fprintf(stderr, "vox: error: line %d too long\n", lineno);
            rc = 1;
            break;
        }
        cJSON *j = cJSON_ParseWithLength(line, (size_t)n);
        if (!j || !cJSON_IsObject(j)) {
            cJSON_Delete(j);
            size_t i = 0;
            while (i < (size_t)n &&
                   (line[i] == ' ' || line[i] == '\n' || line[i] == '\r' || line[i] == '\t'))
                i++;
            if (i == (size_t)n) continue; /* blank line */
            fprintf(stderr, "vox: error: line %d: not a JSON object\n", lineno);
            rc = 1;
            break;
        }
        cJSON *text = cJSON_GetObjectItem(j, "text");
        cJSON *sid = cJSON_GetObjectItem(j, "speaker_id");
        cJSON *spk = cJSON_GetObjectItem(j, "speaker");
        cJSON *of = cJSON_GetObjectItem(j, "output_file");
        vox_synth_options so = *base;
        if (!cJSON_IsString(text)) {
            fprintf(stderr, "vox: error: line %d: \"text\" must be a string\n", lineno);
            rc = 1;
        } else if (sid &&
                   !(cJSON_IsNumber(sid) && sid->valuedouble >= 0 && sid->valuedouble < 1e6)) {
            fprintf(stderr, "vox: error: line %d: \"speaker_id\" must be a non-negative integer\n",
                    lineno);
            rc = 1;
        } else if (spk && !cJSON_IsString(spk)) {
            fprintf(stderr, "vox: error: line %d: \"speaker\" must be a string\n", lineno);
            rc = 1;
        } else if (of && !cJSON_IsString(of)) {
            fprintf(stderr, "vox: error: line %d: \"output_file\" must be a string\n", lineno);
            rc = 1;
        }
        if (rc) {
            cJSON_Delete(j);
            break;
        }
        if (sid) so.speaker_id = (int)sid->valuedouble;
        if (spk) so.speaker = spk->valuestring;
        char path[4096] = "";
        if (of)
            snprintf(path, sizeof path, "%s", of->valuestring);
        else if (out_dir)
            snprintf(path, sizeof path, "%s/%d.wav", out_dir, k);
        k++;
        FILE *f = *path ? fopen(path, "wb") : stdout;
        if (!f) {
            fprintf(stderr, "vox: error: cannot open output file '%s': %s\n", path,
                    strerror(errno));
            cJSON_Delete(j);
            rc = 1;
            break;
        }
        vox_synth *s = NULL;
        int r = vox_synth_start(v, text->valuestring, strlen(text->valuestring), &so, &s);
        vx_wav_writer w;
        if (!r && *path && vx_wav_begin(&w, f, info.sample_rate)) r = VOX_ERR_IO;
        vox_chunk ch;
        while (!r) {
            r = vox_synth_next(s, &ch);
            if (r) break;
            if (*path) {
                if (vx_wav_write(&w, ch.pcm16, ch.n_samples)) r = VOX_ERR_IO;
            } else if (fwrite(ch.pcm16, 2, ch.n_samples, f) != ch.n_samples || fflush(f))
                r = VOX_ERR_IO;
            if (ch.last) break;
        }
        if (!r && *path && vx_wav_end(&w)) r = VOX_ERR_IO;
        if (r) {
            fprintf(stderr, "vox: error: line %d: %s\n", lineno,
                    r == VOX_ERR_IO ? "cannot write audio" : vox_synth_error(s));
            rc = 1;
        } else if (*path && !quiet)
            fprintf(stderr, "vox: wrote %s\n", path);
        vox_synth_free(s);
        if (f != stdout && fclose(f) && !rc) {
            fprintf(stderr, "vox: error: cannot write '%s'\n", path);
            rc = 1;
        }
        cJSON_Delete(j);
    }
    free(line);
    return rc;
}

int vx_cli_phonemes(vox_voice *v, const char *text, const vox_synth_options *so) {
    size_t len = 0;
    char *buf = NULL;
    if (text) {
        buf = strdup(text);
        len = strlen(text);
    } else {
        size_t cap = 0;
        FILE *m = open_memstream(&buf, &cap);
        char tmp[65536];
        size_t k;
        while (m && (k = fread(tmp, 1, sizeof tmp, stdin)) > 0 && len < VOX_MAX_TEXT_BYTES) {
            fwrite(tmp, 1, k, m);
            len += k;
        }
        if (m) fclose(m);
    }
    if (!buf) {
        fprintf(stderr, "vox: error: out of memory\n");
        return 1;
    }
    size_t bad;
    char err[512];
    int rc = 0;
    if (len > VOX_MAX_TEXT_BYTES) {
        fprintf(stderr, "vox: error: input too long\n");
        rc = 1;
    } else if (vox_utf8_check(buf, len, &bad)) {
        fprintf(stderr, "vox: error: invalid UTF-8 in input at byte offset %zu\n", bad);
        rc = 1;
    } else if (so->input_format == VOX_INPUT_SSML ||
               (so->input_format == VOX_INPUT_AUTO && vox_text_is_ssml(buf, len))) {
        /* SSML: each block's text (normalized as synthesis would) on its own lines */
        vx_ssml x;
        if (vx_ssml_parse(buf, len, 1, v->language, &x, err, sizeof err)) {
            fprintf(stderr, "vox: error: %s\n", err);
            rc = 1;
        }
        for (size_t i = 0; !rc && i < x.nb; i++) {
            const char *t = x.text.text + x.b[i].lo;
            size_t tl = x.b[i].hi - x.b[i].lo;
            vx_norm n;
            vx_norm_opts no = {x.b[i].lang[0] ? x.b[i].lang : v->language, so->text_norm,
                               (const vx_lex *)so->lexicon, 1};
            if (tl && (vx_normalize_opts(&no, t, tl, &n, err, sizeof err) ||
                       vx_piper_voice_print_phonemes(v, n.text, n.len, stdout, err, sizeof err))) {
                fprintf(stderr, "vox: error: %s\n", err);
                rc = 1;
            }
            if (tl) vx_norm_free(&n);
        }
        if (!rc) vx_ssml_free(&x);
    } else if (so->text_norm || so->lexicon) {
        vx_norm n;
        vx_norm_opts no = {v->language, so->text_norm, (const vx_lex *)so->lexicon, 1};
        if (vx_normalize_opts(&no, buf, len, &n, err, sizeof err) ||
            vx_piper_voice_print_phonemes(v, n.text, n.len, stdout, err, sizeof err)) {
            fprintf(stderr, "vox: error: %s\n", err);
            rc = 1;
        }
        vx_norm_free(&n);
    } else if (vx_piper_voice_print_phonemes(v, buf, len, stdout, err, sizeof err)) {
        fprintf(stderr, "vox: error: %s\n", err);
        rc = 1;
    }
    free(buf);
    return rc;
}

/* vox lexicon compile SRC OUT: compile a source to an image.
 * vox lexicon lookup FILE WORD...: open FILE (image or source) and print each word's
 * entry; the time to open is printed to stderr (for bench/lexicon.sh). */
int vx_cli_lexicon(int argc, char **argv) {
    char err[512];
    if (argc == 4 && !strcmp(argv[1], "compile")) {
        if (vox_lexicon_compile(argv[2], argv[3], err, sizeof err)) {
            fprintf(stderr, "vox: error: %s\n", err);
            return 1;
        }
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "lookup")) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        vx_lex *l;
        if (vx_lex_open(argv[2], &l, err, sizeof err)) {
            fprintf(stderr, "vox: error: %s\n", err);
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        fprintf(stderr, "vox: lexicon %s: %zu entries, opened in %.3f ms\n", argv[2],
                vx_lex_count(l), (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
        int rc = 0;
        for (int i = 3; i < argc; i++) {
            vx_lex_hit h;
            if (vx_lex_find(l, argv[i], strlen(argv[i]), &h))
                printf("%s\t%s%.*s%s\n", argv[i], h.kind == VX_LEX_IPA ? "/" : "", (int)h.value_len,
                       h.value, h.kind == VX_LEX_IPA ? "/" : "");
            else {
                printf("%s\t(not found)\n", argv[i]);
                rc = 2;
            }
        }
        vx_lex_release(l);
        return rc;
    }
    fprintf(stderr,
            "vox: error: usage: vox lexicon compile SRC OUT | vox lexicon lookup FILE WORD...\n");
    return 1;
}
