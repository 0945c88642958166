/* SSML front end on expat (see ssml.h). */
#include "text/ssml.h"
#include "vox.h"
#include <ctype.h>
#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { C_NONE, C_SAYAS, C_PHONEME, C_SUB };

typedef struct frame {
    float rate, pitch, volume;
    char voice[128], lang[32];
    int closes_block; /* its end starts a new block */
} frame;

typedef struct parser {
    XML_Parser xp;
    const char *doc;
    size_t len;
    vx_ssml *out;
    vx_norm_ctx ctx;
    int ipa;
    const char *lang; /* the voice's language (for say-as ordinal) */
    frame st[VX_SSML_MAX_DEPTH + 1];
    int depth, elements, seen_speak, failed;
    int collect; /* C_* while inside say-as / phoneme / sub */
    char cbuf[4096];
    size_t cn;
    char a1[VX_SSML_MAX_ATTR + 1], a2[VX_SSML_MAX_ATTR + 1];
    size_t elem_start;
    size_t block_lo;
    size_t open_marks; /* marks in the block still open */
    char err[256];
    int rc;
} parser;

static void failf(parser *p, int rc, const char *fmt, const char *arg) {
    if (p->failed) return;
    p->failed = 1;
    p->rc = rc;
    char msg[200];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    snprintf(p->err, sizeof p->err, "SSML line %lu, column %lu: %s",
             (unsigned long)XML_GetCurrentLineNumber(p->xp),
             (unsigned long)XML_GetCurrentColumnNumber(p->xp) + 1, msg);
    XML_StopParser(p->xp, XML_FALSE);
}

static const char *attr(const XML_Char **atts, const char *name) {
    for (int i = 0; atts[i]; i += 2)
        if (!strcmp(atts[i], name)) return atts[i + 1];
    return NULL;
}

static size_t src_pos(parser *p) { return (size_t)XML_GetCurrentByteIndex(p->xp); }
static size_t src_end(parser *p) { return src_pos(p) + (size_t)XML_GetCurrentByteCount(p->xp); }

/* Close the open block (if it has text, marks or a break) and open the next. */
static void close_block(parser *p, double brk) {
    vx_ssml *o = p->out;
    size_t hi = o->text.len;
    if (hi == p->block_lo && brk <= 0 && !p->open_marks) return;
    vx_ssml_block *nb = realloc(o->b, (o->nb + 1) * sizeof *nb);
    if (!nb) {
        failf(p, VOX_ERR_NOMEM, "out of memory", NULL);
        return;
    }
    o->b = nb;
    vx_ssml_block *b = &o->b[o->nb++];
    memset(b, 0, sizeof *b);
    const frame *f = &p->st[p->depth];
    /* without the white space around it, which would become a word gap before a
     * leading [[phonemes]] block */
    const char *t = o->text.text;
    size_t lo = p->block_lo;
    while (lo < hi && isspace((unsigned char)t[lo])) lo++;
    while (hi > lo && isspace((unsigned char)t[hi - 1])) hi--;
    b->lo = lo;
    b->hi = hi;
    hi = o->text.len;
    b->rate = f->rate;
    b->pitch = f->pitch;
    b->volume = f->volume;
    b->break_after = brk;
    snprintf(b->voice, sizeof b->voice, "%s", f->voice);
    snprintf(b->lang, sizeof b->lang, "%s", f->lang);
    p->block_lo = hi;
    p->open_marks = 0;
}

/* "1s", "500ms", "1.5 s" -> seconds; -1 if malformed. */
static double parse_time(const char *s) {
    char *end;
    double v = strtod(s, &end);
    if (end == s || !(v >= 0)) return -1;
    while (*end == ' ') end++;
    if (!strcmp(end, "s")) return v;
    if (!strcmp(end, "ms")) return v / 1000;
    return -1;
}

/* A keyword from a table, or a number with the given suffix; def when absent. */
typedef struct kw {
    const char *k;
    float v;
} kw;
static int parse_level(const char *s, const kw *t, float *out) {
    for (int i = 0; t[i].k; i++)
        if (!strcmp(s, t[i].k)) {
            *out = t[i].v;
            return 0;
        }
    char *end;
    double v = strtod(s, &end);
    if (end == s) return -1;
    int sign = s[0] == '+' || s[0] == '-';
    if (!strcmp(end, "%")) {
        *out = (float)(sign ? 1 + v / 100 : v / 100);
        return 0;
    }
    if (!strcmp(end, "dB")) {
        *out = (float)pow(10.0, v / 20);
        return 0;
    }
    if (!*end && !sign) {
        *out = (float)v;
        return 0;
    }
    return -1;
}

static const kw RATES[] = {{"x-slow", 0.5f},  {"slow", 0.75f}, {"medium", 1}, {"fast", 1.25f},
                           {"x-fast", 1.75f}, {"default", 1},  {NULL, 0}};
static const kw PITCHES[] = {{"x-low", 0.6f},  {"low", 0.8f},  {"medium", 1}, {"high", 1.2f},
                             {"x-high", 1.4f}, {"default", 1}, {NULL, 0}};
static const kw VOLUMES[] = {{"silent", 0},  {"x-soft", 0.25f}, {"soft", 0.5f}, {"medium", 1},
                             {"loud", 1.5f}, {"x-loud", 2},     {"default", 1}, {NULL, 0}};
static const kw STRENGTHS[] = {{"none", 0},      {"x-weak", 0.1f},  {"weak", 0.25f},
                               {"medium", 0.5f}, {"strong", 0.75f}, {"x-strong", 1},
                               {NULL, 0}};

static int too_long(parser *p, const char *v, const char *what) {
    if (v && strlen(v) > VX_SSML_MAX_ATTR) {
        failf(p, VOX_ERR_SSML, "attribute %s is too long", what);
        return 1;
    }
    return 0;
}

static void XMLCALL on_start(void *u, const XML_Char *name, const XML_Char **atts) {
    parser *p = u;
    if (p->failed) return;
    if (++p->elements > VX_SSML_MAX_ELEMENTS) {
        failf(p, VOX_ERR_SSML, "more than %s elements", "10000");
        return;
    }
    if (p->depth >= VX_SSML_MAX_DEPTH) {
        failf(p, VOX_ERR_SSML, "elements nested deeper than %s", "32");
        return;
    }
    if (p->collect) {
        failf(p, VOX_ERR_SSML, "<%s> inside <say-as>, <phoneme> or <sub> is not supported", name);
        return;
    }
    for (int i = 0; atts[i]; i += 2)
        if (too_long(p, atts[i + 1], atts[i])) return;
    frame f = p->st[p->depth];
    f.closes_block = 0;
    const char *lang = attr(atts, "xml:lang");
    if (lang) snprintf(f.lang, sizeof f.lang, "%s", lang);
    if (!p->seen_speak) {
        if (strcmp(name, "speak")) {
            failf(p, VOX_ERR_SSML, "the root element must be <speak>, not <%s>", name);
            return;
        }
        p->seen_speak = 1;
        p->st[++p->depth] = f;
        return;
    }
    if (!strcmp(name, "speak")) {
        failf(p, VOX_ERR_SSML, "<speak> inside <speak>", NULL);
        return;
    }
    if (!strcmp(name, "p") || !strcmp(name, "s") || !strcmp(name, "lang")) {
        close_block(p, 0);
        f.closes_block = 1;
    } else if (!strcmp(name, "break")) {
        const char *t = attr(atts, "time"), *s = attr(atts, "strength");
        double sec = 0.5;
        float lv;
        if (t) {
            sec = parse_time(t);
            if (sec < 0) {
                failf(p, VOX_ERR_SSML, "bad break time '%s' (use e.g. 500ms or 1.5s)", t);
                return;
            }
        } else if (s) {
            if (parse_level(s, STRENGTHS, &lv) || strchr(s, '%')) {
                failf(p, VOX_ERR_SSML, "bad break strength '%s'", s);
                return;
            }
            sec = lv;
        }
        if (sec > VX_SSML_MAX_BREAK) {
            failf(p, VOX_ERR_SSML, "break longer than 60 s ('%s')", t);
            return;
        }
        close_block(p, sec > 0 ? sec : 1e-9);
    } else if (!strcmp(name, "prosody")) {
        close_block(p, 0);
        f.closes_block = 1;
        const char *r = attr(atts, "rate"), *pi = attr(atts, "pitch"), *v = attr(atts, "volume");
        float x;
        if (r) {
            if (parse_level(r, RATES, &x) || !(x >= 0.2f && x <= 5)) {
                failf(p, VOX_ERR_SSML, "bad prosody rate '%s' (0.2 to 5 times)", r);
                return;
            }
            f.rate *= x;
        }
        if (pi) {
            if (parse_level(pi, PITCHES, &x) || !(x >= 0 && x <= 2)) {
                failf(p, VOX_ERR_SSML, "bad prosody pitch '%s'", pi);
                return;
            }
            f.pitch *= x;
        }
        if (v) {
            if (parse_level(v, VOLUMES, &x) || !(x >= 0 && x <= 10)) {
                failf(p, VOX_ERR_SSML, "bad prosody volume '%s'", v);
                return;
            }
            f.volume *= x;
        }
    } else if (!strcmp(name, "emphasis")) {
        /* accepted; said as written */
    } else if (!strcmp(name, "voice")) {
        const char *n = attr(atts, "name");
        if (!n || !*n) {
            failf(p, VOX_ERR_SSML, "<voice> needs a name", NULL);
            return;
        }
        if (strlen(n) >= sizeof f.voice) {
            failf(p, VOX_ERR_SSML, "voice name too long", NULL);
            return;
        }
        close_block(p, 0);
        f.closes_block = 1;
        snprintf(f.voice, sizeof f.voice, "%s", n);
    } else if (!strcmp(name, "say-as")) {
        const char *ia = attr(atts, "interpret-as"), *fm = attr(atts, "format");
        static const char *ok[] = {"characters", "spell-out", "cardinal", "number",
                                   "ordinal",    "digits",    "date",     "time",
                                   "telephone",  "currency",  NULL};
        int good = 0;
        for (int i = 0; ia && ok[i]; i++) good |= !strcmp(ia, ok[i]);
        if (!good) {
            failf(p, VOX_ERR_SSML, "unsupported say-as interpret-as '%s'", ia ? ia : "(missing)");
            return;
        }
        snprintf(p->a1, sizeof p->a1, "%s", ia);
        snprintf(p->a2, sizeof p->a2, "%s", fm ? fm : "");
        p->collect = C_SAYAS;
    } else if (!strcmp(name, "phoneme")) {
        const char *al = attr(atts, "alphabet"), *ph = attr(atts, "ph");
        if (al && strcmp(al, "ipa")) {
            failf(p, VOX_ERR_SSML, "unsupported phoneme alphabet '%s' (only ipa)", al);
            return;
        }
        if (!ph || !*ph) {
            failf(p, VOX_ERR_SSML, "<phoneme> needs ph", NULL);
            return;
        }
        if (strchr(ph, '[') || strchr(ph, ']')) {
            failf(p, VOX_ERR_SSML, "'[' and ']' are not allowed in ph", NULL);
            return;
        }
        snprintf(p->a1, sizeof p->a1, "%s", ph);
        p->collect = C_PHONEME;
    } else if (!strcmp(name, "sub")) {
        const char *al = attr(atts, "alias");
        if (!al) {
            failf(p, VOX_ERR_SSML, "<sub> needs alias", NULL);
            return;
        }
        snprintf(p->a1, sizeof p->a1, "%s", al);
        p->collect = C_SUB;
    } else if (!strcmp(name, "mark")) {
        const char *n = attr(atts, "name");
        if (!n) {
            failf(p, VOX_ERR_SSML, "<mark> needs a name", NULL);
            return;
        }
        if (strlen(n) >= sizeof p->out->m[0].name) {
            failf(p, VOX_ERR_SSML, "mark name too long", NULL);
            return;
        }
        vx_ssml *o = p->out;
        if (o->nm >= VX_SSML_MAX_MARKS) {
            failf(p, VOX_ERR_SSML, "more than %s marks", "1000");
            return;
        }
        vx_ssml_mark *m = realloc(o->m, (o->nm + 1) * sizeof *m);
        if (!m) {
            failf(p, VOX_ERR_NOMEM, "out of memory", NULL);
            return;
        }
        o->m = m;
        vx_ssml_mark *k = &o->m[o->nm++];
        snprintf(k->name, sizeof k->name, "%s", n);
        k->block = o->nb;
        k->pos = o->text.len;
        k->src = src_pos(p);
        p->open_marks++;
    } else {
        failf(p, VOX_ERR_SSML, "unsupported SSML element <%s>", name);
        return;
    }
    if (p->collect) {
        p->cn = 0;
        p->elem_start = src_pos(p);
    }
    p->st[++p->depth] = f;
}

/* say-as content -> what the normalizer (or espeak) then reads. */
static void say_as(parser *p, vx_sb *b) {
    const char *ia = p->a1, *t = p->cbuf;
    size_t n = p->cn;
    while (n && isspace((unsigned char)t[0])) {
        t++;
        n--;
    }
    while (n && isspace((unsigned char)t[n - 1])) n--;
    char w[8];
    if (!strcmp(ia, "characters") || !strcmp(ia, "spell-out") || !strcmp(ia, "digits")) {
        for (size_t i = 0; i < n;) {
            unsigned char ch = (unsigned char)t[i];
            size_t k = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
            if (i + k > n) k = n - i;
            if (!isspace(ch) && (strcmp(ia, "digits") || isdigit(ch))) {
                memcpy(w, t + i, k);
                w[k] = 0;
                vx_sb_word(b, w);
                vx_sb_raw(b, " ");
            }
            i += k;
        }
        if (b->n) vx_sb_chop(b, 1);
        return;
    }
    if (!strcmp(ia, "telephone")) {
        int prev_digit = 0;
        for (size_t i = 0; i < n; i++) {
            if (isdigit((unsigned char)t[i])) {
                w[0] = t[i];
                w[1] = 0;
                if (prev_digit) vx_sb_raw(b, " ");
                vx_sb_raw(b, w);
                prev_digit = 1;
            } else if (t[i] == '+' && !b->n) {
                vx_sb_raw(b, "+");
            } else if (prev_digit) {
                vx_sb_raw(b, ", ");
                prev_digit = 0;
            }
        }
        return;
    }
    char tmp[sizeof p->cbuf + 8];
    memcpy(tmp, t, n);
    tmp[n] = 0;
    int digits = n > 0;
    for (size_t i = 0; i < n; i++) digits &= isdigit((unsigned char)t[i]) != 0;
    if (!strcmp(ia, "ordinal") && digits && n < 12) {
        const char *l = p->lang ? p->lang : "en";
        unsigned long v = strtoul(tmp, NULL, 10);
        const char *suf = "th";
        if (!strncasecmp(l, "de", 2))
            suf = ".";
        else if (!strncasecmp(l, "fr", 2))
            suf = v == 1 ? "er" : "e";
        else if (!strncasecmp(l, "es", 2))
            suf = "\xC2\xBA";
        else if (v % 100 < 11 || v % 100 > 13)
            suf = v % 10 == 1 ? "st" : v % 10 == 2 ? "nd" : v % 10 == 3 ? "rd" : "th";
        vx_sb_raw(b, tmp);
        vx_sb_raw(b, suf);
        if (suf[0] == '.') vx_sb_raw(b, " "); /* German "3." reads as an ordinal before a word */
        return;
    }
    if (!strcmp(ia, "date") && p->a2[0]) {
        unsigned long g[3];
        int ng = 0;
        size_t lens[3] = {0};
        for (size_t i = 0; i < n && ng < 3;) {
            if (!isdigit((unsigned char)t[i])) {
                i++;
                continue;
            }
            char *end;
            g[ng] = strtoul(t + i, &end, 10);
            lens[ng] = (size_t)(end - (t + i));
            i = (size_t)(end - t);
            ng++;
        }
        const char *f = p->a2;
        if (ng == 3 && strlen(f) == 3) {
            unsigned long y = 0, m = 0, d = 0;
            size_t ylen = 0;
            for (int i = 0; i < 3; i++) {
                if (f[i] == 'y') {
                    y = g[i];
                    ylen = lens[i];
                } else if (f[i] == 'm')
                    m = g[i];
                else if (f[i] == 'd')
                    d = g[i];
            }
            if (ylen == 2) y += y < 50 ? 2000 : 1900;
            if (y >= 1000 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
                char iso[16];
                snprintf(iso, sizeof iso, "%04lu-%02lu-%02lu", y, m, d);
                vx_sb_raw(b, iso);
                return;
            }
        }
    }
    vx_sb_raw(b, tmp); /* cardinal, time, currency, other dates: the normalizer reads them */
}

static void XMLCALL on_end(void *u, const XML_Char *name) {
    parser *p = u;
    if (p->failed) return;
    if (p->collect) {
        vx_sb b;
        vx_sb_init(&b);
        if (p->collect == C_SAYAS)
            say_as(p, &b);
        else if (p->collect == C_PHONEME && p->ipa) {
            vx_sb_raw(&b, "[[");
            vx_sb_raw(&b, p->a1);
            vx_sb_raw(&b, "]]");
        } else if (p->collect == C_PHONEME) {
            p->cbuf[p->cn] = 0;
            vx_sb_raw(&b, p->cbuf);
        } else
            vx_sb_raw(&b, p->a1);
        if (b.over) {
            failf(p, VOX_ERR_SSML, "<%s> content too long", name);
            return;
        }
        vx_norm_say(&p->ctx, p->elem_start, src_end(p), b.s);
        p->collect = C_NONE;
    }
    /* the block ends with the element's own prosody, voice and language */
    if (p->st[p->depth].closes_block || p->depth == 1) close_block(p, 0);
    p->depth--;
}

static void XMLCALL on_text(void *u, const XML_Char *s, int len) {
    parser *p = u;
    if (p->failed || len <= 0) return;
    if (p->collect) {
        if (p->cn + (size_t)len >= sizeof p->cbuf) {
            failf(p, VOX_ERR_SSML, "element content too long", NULL);
            return;
        }
        memcpy(p->cbuf + p->cn, s, (size_t)len);
        p->cn += (size_t)len;
        return;
    }
    size_t at = src_pos(p), cnt = (size_t)XML_GetCurrentByteCount(p->xp);
    if (cnt == (size_t)len && at + cnt <= p->len && !memcmp(p->doc + at, s, (size_t)len)) {
        vx_norm_copy(&p->ctx, at, at + cnt);
        return;
    }
    /* decoded differently from the bytes (an entity, a character reference, CRLF) */
    char buf[256];
    for (int i = 0; i < len; i += (int)sizeof buf - 1) {
        int k = len - i < (int)sizeof buf - 1 ? len - i : (int)sizeof buf - 1;
        memcpy(buf, s + i, (size_t)k);
        buf[k] = 0;
        vx_norm_say(&p->ctx, at, at + cnt, buf);
    }
}

static void XMLCALL on_doctype(void *u, const XML_Char *name, const XML_Char *sys,
                               const XML_Char *pub, int has_internal) {
    (void)name;
    (void)sys;
    (void)pub;
    (void)has_internal;
    failf(u, VOX_ERR_SSML, "a DOCTYPE is not allowed (no DTDs or entity declarations)", NULL);
}

static void XMLCALL on_entity(void *u, const XML_Char *name, int pe, const XML_Char *v, int vl,
                              const XML_Char *base, const XML_Char *sys, const XML_Char *pub,
                              const XML_Char *notation) {
    (void)pe;
    (void)v;
    (void)vl;
    (void)base;
    (void)sys;
    (void)pub;
    (void)notation;
    failf(u, VOX_ERR_SSML, "entity declarations are not allowed (%s)", name);
}

int vx_ssml_detect(const char *t, size_t n) {
    size_t i = 0;
    if (n >= 3 && !memcmp(t, "\xEF\xBB\xBF", 3)) i = 3;
    while (i < n && isspace((unsigned char)t[i])) i++;
    if (i + 5 < n && !memcmp(t + i, "<?xml", 5)) {
        const char *e = memmem(t + i, n - i, "?>", 2);
        if (!e) return 0;
        i = (size_t)(e - t) + 2;
        while (i < n && isspace((unsigned char)t[i])) i++;
    }
    return i + 6 <= n && !memcmp(t + i, "<speak", 6) &&
           (i + 6 == n || t[i + 6] == '>' || t[i + 6] == '/' || isspace((unsigned char)t[i + 6]));
}

void vx_ssml_free(vx_ssml *s) {
    vx_norm_free(&s->text);
    free(s->b);
    free(s->m);
    memset(s, 0, sizeof *s);
}

int vx_ssml_parse(const char *doc, size_t len, int ipa, const char *lang, vx_ssml *out, char *err,
                  size_t errlen) {
    memset(out, 0, sizeof *out);
    if (len > VOX_MAX_TEXT_BYTES) {
        snprintf(err, errlen, "SSML document is %zu bytes; the limit is %u", len,
                 VOX_MAX_TEXT_BYTES);
        return VOX_ERR_TOO_LONG;
    }
    parser *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return VOX_ERR_NOMEM;
    }
    p->xp = XML_ParserCreate("UTF-8");
    if (!p->xp) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return VOX_ERR_NOMEM;
    }
    p->doc = doc;
    p->len = len;
    p->out = out;
    p->ipa = ipa;
    p->lang = lang;
    p->ctx.in = doc;
    p->ctx.len = len;
    p->ctx.out = &out->text;
    p->st[0] = (frame){1, 1, 1, "", "", 0};
    XML_SetUserData(p->xp, p);
    XML_SetElementHandler(p->xp, on_start, on_end);
    XML_SetCharacterDataHandler(p->xp, on_text);
    XML_SetStartDoctypeDeclHandler(p->xp, on_doctype);
    XML_SetEntityDeclHandler(p->xp, on_entity);
    XML_SetParamEntityParsing(p->xp, XML_PARAM_ENTITY_PARSING_NEVER);
    int ok = XML_Parse(p->xp, doc, (int)len, 1) == XML_STATUS_OK;
    int rc = 0;
    if (p->failed) {
        snprintf(err, errlen, "%s", p->err);
        rc = p->rc;
    } else if (!ok) {
        snprintf(err, errlen, "SSML line %lu, column %lu: %s",
                 (unsigned long)XML_GetCurrentLineNumber(p->xp),
                 (unsigned long)XML_GetCurrentColumnNumber(p->xp) + 1,
                 XML_ErrorString(XML_GetErrorCode(p->xp)));
        rc = VOX_ERR_SSML;
    } else if (out->text.err) {
        snprintf(err, errlen, "SSML: text too long or out of memory");
        rc = out->text.err;
    }
    XML_ParserFree(p->xp);
    free(p);
    if (!rc && !out->text.text) { /* nothing said at all: keep a valid empty text */
        out->text.text = calloc(1, 1);
        if (!out->text.text) rc = VOX_ERR_NOMEM;
    }
    if (rc) vx_ssml_free(out);
    return rc;
}
