/* The language-neutral part of text normalization (see norm.h): the driver, the
 * output with its piece map, number scanning and the URL / e-mail reader. */
#include "text/norm.h"
#include "text/lexicon.h"
#include "text/unicode.h"
#include "vox.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ output */

static int out_reserve(vx_norm *n, size_t add) {
    if (n->err) return -1;
    if (n->len + add > VX_NORM_MAX_OUT) {
        n->err = VOX_ERR_TOO_LONG;
        return -1;
    }
    if (n->len + add + 1 > n->cap) {
        size_t nc = n->cap ? n->cap : 256;
        while (nc < n->len + add + 1) nc *= 2;
        char *p = realloc(n->text, nc);
        if (!p) {
            n->err = VOX_ERR_NOMEM;
            return -1;
        }
        n->text = p;
        n->cap = nc;
    }
    return 0;
}

static int piece_push(vx_norm *n, vx_norm_piece pc) {
    if (n->np && pc.copy && n->p[n->np - 1].copy) {
        vx_norm_piece *l = &n->p[n->np - 1];
        if (l->in_off + l->in_len == pc.in_off && l->out_off + l->out_len == pc.out_off) {
            l->in_len += pc.in_len;
            l->out_len += pc.out_len;
            return 0;
        }
    }
    if (n->np == n->pcap) {
        size_t nc = n->pcap ? n->pcap * 2 : 64;
        vx_norm_piece *p = realloc(n->p, nc * sizeof *p);
        if (!p) {
            n->err = VOX_ERR_NOMEM;
            return -1;
        }
        n->p = p;
        n->pcap = nc;
    }
    n->p[n->np++] = pc;
    return 0;
}

static void out_append(vx_norm *n, const char *s, size_t k) {
    if (out_reserve(n, k)) return;
    memcpy(n->text + n->len, s, k);
    n->len += k;
    n->text[n->len] = 0;
}

void vx_norm_copy(vx_norm_ctx *c, size_t lo, size_t hi) {
    vx_norm *n = c->out;
    if (hi <= lo || n->err) return;
    vx_norm_piece pc = {n->len, hi - lo, lo, hi - lo, 1};
    out_append(n, c->in + lo, hi - lo);
    if (!n->err) piece_push(n, pc);
}

void vx_norm_say(vx_norm_ctx *c, size_t lo, size_t hi, const char *spoken) {
    vx_norm *n = c->out;
    if (n->err) return;
    size_t k = strlen(spoken), start = n->len;
    if (k && n->len && vx_norm_is_word_byte((unsigned char)n->text[n->len - 1]) &&
        vx_norm_is_word_byte((unsigned char)spoken[0]))
        out_append(n, " ", 1);
    out_append(n, spoken, k);
    if (k && hi < c->len && vx_norm_is_word_byte((unsigned char)c->in[hi]) &&
        vx_norm_is_word_byte((unsigned char)spoken[k - 1]))
        out_append(n, " ", 1);
    if (n->err) return;
    vx_norm_piece pc = {start, n->len - start, lo, hi - lo, 0};
    if (pc.out_len) piece_push(n, pc); /* nothing said: the written bytes map nowhere */
}

void vx_norm_free(vx_norm *n) {
    free(n->text);
    free(n->p);
    memset(n, 0, sizeof *n);
}

/* The piece holding output byte o (o < len), by binary search. */
static const vx_norm_piece *piece_at(const vx_norm *n, size_t o) {
    size_t a = 0, b = n->np;
    while (b - a > 1) {
        size_t m = (a + b) / 2;
        if (n->p[m].out_off <= o)
            a = m;
        else
            b = m;
    }
    return &n->p[a];
}

void vx_norm_map(const vx_norm *n, size_t lo, size_t hi, size_t *in_lo, size_t *in_hi) {
    if (!n->np || n->len == 0) {
        *in_lo = *in_hi = 0;
        return;
    }
    if (lo >= n->len) {
        const vx_norm_piece *l = &n->p[n->np - 1];
        *in_lo = *in_hi = l->in_off + l->in_len;
        return;
    }
    if (hi > n->len) hi = n->len;
    const vx_norm_piece *a = piece_at(n, lo);
    *in_lo = a->copy ? a->in_off + (lo - a->out_off) : a->in_off;
    if (hi <= lo) {
        *in_hi = *in_lo;
        return;
    }
    const vx_norm_piece *b = piece_at(n, hi - 1);
    *in_hi = b->copy ? b->in_off + (hi - b->out_off) : b->in_off + b->in_len;
    if (*in_hi < *in_lo) *in_hi = *in_lo;
}

/* ---------------------------------------------------------- string builder */

void vx_sb_init(vx_sb *b) {
    b->n = 0;
    b->over = 0;
    b->s[0] = 0;
}

void vx_sb_raw(vx_sb *b, const char *s) {
    size_t k = strlen(s);
    if (b->n + k + 1 > sizeof b->s) {
        b->over = 1;
        return;
    }
    memcpy(b->s + b->n, s, k + 1);
    b->n += k;
}

void vx_sb_word(vx_sb *b, const char *w) {
    if (!*w) return;
    if (b->n && b->s[b->n - 1] != ' ' && b->s[b->n - 1] != '-') vx_sb_raw(b, " ");
    vx_sb_raw(b, w);
}

void vx_sb_chop(vx_sb *b, size_t k) {
    b->n = k > b->n ? 0 : b->n - k;
    b->s[b->n] = 0;
}

/* -------------------------------------------------------- character classes */

int vx_norm_is_word_byte(unsigned char ch) { return isalnum(ch) || ch >= 0x80; }

/* Is the codepoint starting at in[pos] a letter or digit? */
static int alnum_at(const vx_norm_ctx *c, size_t pos) {
    if (pos >= c->len) return 0;
    unsigned char ch = (unsigned char)c->in[pos];
    if (ch < 0x80) return isalnum(ch);
    size_t i = pos;
    return vx_uni_isalnum(vx_utf8_next(c->in, c->len, &i));
}

/* Is the codepoint ending just before pos a letter or digit? */
static int alnum_before(const vx_norm_ctx *c, size_t pos) {
    if (pos == 0) return 0;
    size_t s = pos - 1;
    while (s > 0 && ((unsigned char)c->in[s] & 0xC0) == 0x80) s--;
    return alnum_at(c, s);
}

int vx_norm_boundary_after(const vx_norm_ctx *c, size_t pos) { return !alnum_at(c, pos); }

size_t vx_norm_word_at(const vx_norm_ctx *c, size_t pos, const char *w) {
    size_t k = strlen(w);
    if (pos + k > c->len || strncasecmp(c->in + pos, w, k)) return 0;
    if (isalnum((unsigned char)w[k - 1]) && !vx_norm_boundary_after(c, pos + k)) return 0;
    return k;
}

size_t vx_norm_skip_sp(const vx_norm_ctx *c, size_t pos) {
    for (;;) {
        if (pos < c->len && c->in[pos] == ' ')
            pos++;
        else if (pos + 1 < c->len && !memcmp(c->in + pos, "\xC2\xA0", 2))
            pos += 2;
        else if (pos + 2 < c->len && !memcmp(c->in + pos, "\xE2\x80\xAF", 3))
            pos += 3;
        else
            return pos;
    }
}

int vx_norm_prev_word(const vx_norm_ctx *c, size_t pos, size_t *lo, size_t *hi) {
    size_t e = pos;
    while (e > 0 && (c->in[e - 1] == ' ' || c->in[e - 1] == '\t')) e--;
    if (e == pos && pos > 0 && alnum_before(c, pos)) return 0; /* glued to a word */
    size_t s = e;
    while (s > 0 && (vx_norm_is_word_byte((unsigned char)c->in[s - 1]) || c->in[s - 1] == '.')) s--;
    while (s < e && c->in[s] == '.') s++;
    while (e > s && c->in[e - 1] == '.') e--;
    if (s >= e) return 0;
    *lo = s;
    *hi = e;
    return 1;
}

/* ---------------------------------------------------------------- numbers */

size_t vx_digits(const vx_norm_ctx *c, size_t pos, uint64_t *value) {
    size_t i = pos;
    uint64_t v = 0;
    while (i < c->len && c->in[i] >= '0' && c->in[i] <= '9') {
        if (i - pos < 18) v = v * 10 + (uint64_t)(c->in[i] - '0');
        i++;
    }
    if (value) *value = v;
    return i - pos;
}

/* Length of a group separator at pos (0 if none). */
static size_t group_sep_at(const vx_norm_ctx *c, size_t pos) {
    char g = c->lang->group_sep;
    if (pos >= c->len) return 0;
    if (c->in[pos] == g && g != ' ') return 1;
    if (g == ' ') {
        if (c->in[pos] == ' ') return 1;
        if (pos + 1 < c->len && !memcmp(c->in + pos, "\xC2\xA0", 2)) return 2;
        if (pos + 2 < c->len && !memcmp(c->in + pos, "\xE2\x80\xAF", 3)) return 3;
    }
    return 0;
}

int vx_num_scan(const vx_norm_ctx *c, size_t pos, int signed_ok, vx_num *n) {
    memset(n, 0, sizeof *n);
    size_t i = pos;
    if (signed_ok && i < c->len) {
        if (c->in[i] == '-' && i + 1 < c->len && isdigit((unsigned char)c->in[i + 1])) {
            n->neg = 1;
            i++;
        } else if (i + 3 < c->len && !memcmp(c->in + i, "\xE2\x88\x92", 3) &&
                   isdigit((unsigned char)c->in[i + 3])) {
            n->neg = 1;
            i += 3;
        }
    }
    size_t d = vx_digits(c, i, NULL);
    if (d == 0 || d > 31) return 0;
    memcpy(n->ip, c->in + i, d);
    n->nip = d;
    i += d;
    /* digit groups: 1-3 digits, then (sep + exactly 3 digits)+ */
    if (d <= 3) {
        for (;;) {
            size_t g = group_sep_at(c, i);
            if (!g || vx_digits(c, i + g, NULL) != 3 || n->nip + 3 > 31) break;
            /* a space-grouped number must not swallow a following year or count */
            memcpy(n->ip + n->nip, c->in + i + g, 3);
            n->nip += 3;
            i += g + 3;
            n->grouped = 1;
        }
    }
    if (i + 1 < c->len && c->in[i] == c->lang->decimal_sep &&
        isdigit((unsigned char)c->in[i + 1])) {
        size_t f = vx_digits(c, i + 1, NULL);
        if (f <= 31) {
            memcpy(n->fp, c->in + i + 1, f);
            n->nfp = f;
            n->has_frac = 1;
            i += 1 + f;
        }
    }
    n->ip[n->nip] = 0;
    n->fp[n->nfp] = 0;
    if (n->nip <= 15) {
        uint64_t v = 0;
        for (size_t k = 0; k < n->nip; k++) v = v * 10 + (uint64_t)(n->ip[k] - '0');
        n->value = v;
    } else {
        n->value = UINT64_MAX;
    }
    n->end = i;
    return 1;
}

/* ------------------------------------------------------------ Roman numerals */

int vx_roman_value(const char *s, size_t n) {
    if (n == 0 || n > 15) return 0;
    static const struct {
        const char *r;
        int v;
    } t[] = {{"M", 1000}, {"CM", 900}, {"D", 500}, {"CD", 400}, {"C", 100}, {"XC", 90}, {"L", 50},
             {"XL", 40},  {"X", 10},   {"IX", 9},  {"V", 5},    {"IV", 4},  {"I", 1}};
    int v = 0;
    size_t i = 0;
    for (size_t k = 0; k < sizeof t / sizeof t[0] && i < n; k++) {
        size_t rl = strlen(t[k].r);
        int reps = 0, max = rl == 1 && (t[k].r[0] == 'M' || t[k].r[0] == 'C' || t[k].r[0] == 'X' ||
                                        t[k].r[0] == 'I')
                                ? 3
                                : 1;
        while (i + rl <= n && !strncmp(s + i, t[k].r, rl) && reps < max) {
            v += t[k].v;
            i += rl;
            reps++;
        }
    }
    if (i != n || v > 3999) return 0;
    /* reject non-canonical forms like "IIV" or "VX" (they do not reach i == n anyway) */
    return v;
}

/* ------------------------------------------------------- URLs and e-mail */

static int url_char(unsigned char ch) {
    return isalnum(ch) || strchr("-._~:/?#[]@!$&'()*+,;=%", ch) != NULL;
}

/* End of a URL-like run at pos: URL characters, minus trailing sentence punctuation. */
static size_t url_end(const vx_norm_ctx *c, size_t pos) {
    size_t i = pos;
    while (i < c->len && url_char((unsigned char)c->in[i])) i++;
    while (i > pos && strchr(".,;:!?)'", c->in[i - 1])) i--;
    return i;
}

static const char *sep_word(const vx_norm_lang *L, char ch) {
    switch (ch) {
    case '.': return L->w_dot;
    case '/': return L->w_slash;
    case '@': return L->w_at;
    case ':': return L->w_colon;
    case '-': return L->w_dash;
    case '_': return L->w_underscore;
    default: return NULL;
    }
}

/* Speak in[lo, hi) as a sequence of alphanumeric runs and named separators. */
static void say_url_parts(vx_norm_ctx *c, size_t lo, size_t hi, vx_sb *b) {
    size_t i = lo;
    while (i < hi) {
        unsigned char ch = (unsigned char)c->in[i];
        if (isalnum(ch)) {
            size_t j = i;
            while (j < hi && isalnum((unsigned char)c->in[j])) j++;
            char w[128];
            size_t k = j - i < sizeof w - 1 ? j - i : sizeof w - 1;
            memcpy(w, c->in + i, k);
            w[k] = 0;
            if (!strcasecmp(w, "www")) strcpy(w, "w w w");
            vx_sb_word(b, w);
            i = j;
            continue;
        }
        const char *sw = sep_word(c->lang, (char)ch);
        if (sw) vx_sb_word(b, sw);
        i++;
    }
}

static int is_tld(const char *s, size_t n) {
    static const char *t[] = {"com", "org", "net", "io", "dev", "edu", "gov", "info", "ai", "app",
                              "uk",  "de",  "fr",  "es", "eu",  "us",  "ca",  "me",   "tv", "co",
                              "ch",  "at",  "be",  "nl", "it",  "mx",  "ar",  "au",   NULL};
    for (int i = 0; t[i]; i++)
        if (strlen(t[i]) == n && !strncasecmp(s, t[i], n)) return 1;
    return 0;
}

size_t vx_norm_url_email(vx_norm_ctx *c, size_t pos) {
    if (!isalnum((unsigned char)c->in[pos])) return 0;
    size_t skip = 0;
    if (pos + 8 <= c->len && !strncasecmp(c->in + pos, "https://", 8))
        skip = 8;
    else if (pos + 7 <= c->len && !strncasecmp(c->in + pos, "http://", 7))
        skip = 7;
    size_t e = url_end(c, pos);
    if (e <= pos + skip) return 0;
    const char *at = memchr(c->in + pos, '@', e - pos);
    size_t dots = 0, last_dot = 0;
    for (size_t i = pos + skip; i < e; i++)
        if (c->in[i] == '.') {
            dots++;
            last_dot = i;
        }
    int www = pos + skip + 4 <= c->len && !strncasecmp(c->in + pos + skip, "www.", 4);
    int is_url = skip || www;
    if (!is_url && !at) {
        /* a bare domain: label(.label)*.tld, letters-only labels around the dots */
        if (!dots) return 0;
        size_t tl = last_dot + 1, te = tl;
        while (te < e && isalpha((unsigned char)c->in[te])) te++;
        if (!is_tld(c->in + tl, te - tl) || te != e) return 0;
        if (!isalpha((unsigned char)c->in[last_dot - 1])) return 0;
        for (size_t i = pos; i < e; i++)
            if (!isalnum((unsigned char)c->in[i]) && c->in[i] != '.' && c->in[i] != '-') return 0;
    }
    if (at && !is_url) {
        /* e-mail: local@domain.tld, one @, a dot in the domain */
        size_t a = (size_t)(at - c->in);
        if (a == pos || !memchr(at + 1, '.', e - a - 1) || memchr(at + 1, '@', e - a - 1)) return 0;
        for (size_t i = pos; i < e; i++)
            if (!isalnum((unsigned char)c->in[i]) && !strchr("._-+@", c->in[i])) return 0;
    }
    if (e < c->len && vx_norm_is_word_byte((unsigned char)c->in[e])) return 0;
    vx_sb b;
    vx_sb_init(&b);
    size_t end = e;
    if (is_url && end > pos + skip && c->in[end - 1] == '/') end--; /* trailing slash */
    say_url_parts(c, pos + skip, end, &b);
    if (b.over || !b.n) return 0;
    vx_norm_say(c, pos, e, b.s);
    return e - pos;
}

/* -------------------------------------------------------------- languages */

const vx_norm_lang *vx_norm_lang_for(const char *tag, int *region) {
    if (region) *region = VX_NORM_REGION_DEFAULT;
    if (!tag || strlen(tag) < 2) return NULL;
    char l[3] = {(char)tolower((unsigned char)tag[0]), (char)tolower((unsigned char)tag[1]), 0};
    if (tag[2] && tag[2] != '-' && tag[2] != '_') return NULL;
    if (!strcmp(l, "en")) {
        if (region) {
            *region = VX_NORM_REGION_US;
            const char *r = tag[2] ? tag + 3 : "";
            /* en-gb and the Commonwealth variants espeak-ng has read dates day first */
            if (!strncasecmp(r, "gb", 2) || !strncasecmp(r, "uk", 2) || !strncasecmp(r, "au", 2) ||
                !strncasecmp(r, "nz", 2) || !strncasecmp(r, "ie", 2) || !strncasecmp(r, "in", 2) ||
                !strncasecmp(r, "gb-", 3) || !strncasecmp(r, "sc", 2) || !strncasecmp(r, "za", 2))
                *region = VX_NORM_REGION_GB;
        }
        return &vx_norm_en;
    }
    if (!strcmp(l, "de")) return &vx_norm_de;
    if (!strcmp(l, "fr")) return &vx_norm_fr;
    if (!strcmp(l, "es")) return &vx_norm_es;
    return NULL;
}

/* ------------------------------------------------------------------ driver */

/* End of a "[[ ... ]]" block starting at pos (no newline inside), or 0. */
static size_t raw_block_end(const char *s, size_t len, size_t pos) {
    if (pos + 1 >= len || s[pos] != '[' || s[pos + 1] != '[') return 0;
    for (size_t j = pos + 2; j + 1 < len && s[j] != '\n'; j++)
        if (s[j] == ']' && s[j + 1] == ']') return j + 2;
    return 0;
}

/* Two IPA words in a row ("[[a]] [[b]]") would get two word gaps: Piper adds a space
 * after a block followed by a space and another before a block preceded by one. So the
 * second joins the first block ("[[a b]]"), which then maps to both words. Returns 1 when
 * it did. */
static int merge_ipa(vx_norm_ctx *c, size_t pos, size_t end, const vx_lex_hit *h) {
    vx_norm *o = c->out;
    if (o->np < 2) return 0;
    vx_norm_piece *gap = &o->p[o->np - 1], *blk = &o->p[o->np - 2];
    if (!gap->copy || blk->copy || blk->out_len < 4 || gap->in_off + gap->in_len != pos) return 0;
    for (size_t i = 0; i < gap->out_len; i++)
        if (o->text[gap->out_off + i] != ' ') return 0;
    if (memcmp(o->text + blk->out_off + blk->out_len - 2, "]]", 2) ||
        blk->out_off + blk->out_len != gap->out_off)
        return 0;
    o->len = blk->out_off + blk->out_len - 2; /* drop "]]" and the gap */
    o->np--;
    char sp[VX_LEX_MAX_VALUE + 8];
    sp[0] = ' ';
    memcpy(sp + 1, h->value, h->value_len);
    memcpy(sp + 1 + h->value_len, "]]", 3);
    size_t k = strlen(sp);
    out_append(o, sp, k);
    if (o->err) return 1;
    blk->out_len = o->len - blk->out_off;
    blk->in_len = end - blk->in_off;
    return 1;
}

/* The longest lexicon key at pos (a word start): returns bytes consumed, 0 = none. */
static size_t lex_match(vx_norm_ctx *c, size_t pos) {
    unsigned maxw = vx_lex_max_words(c->lex);
    char key[VX_LEX_MAX_KEY];
    size_t kn = 0, ends[VX_LEX_MAX_WORDS], kns[VX_LEX_MAX_WORDS], i = pos;
    unsigned nw = 0;
    while (nw < maxw && nw < VX_LEX_MAX_WORDS) {
        size_t s = i;
        while (i < c->len) {
            if (alnum_at(c, i) || (c->in[i] == '\'' && i > s) ||
                (c->in[i] == '-' && i > s && alnum_at(c, i + 1))) {
                vx_utf8_next(c->in, c->len, &i);
            } else
                break;
        }
        if (i == s || kn + (nw ? 1 : 0) + (i - s) > VX_LEX_MAX_KEY) break;
        if (nw) key[kn++] = ' ';
        memcpy(key + kn, c->in + s, i - s);
        kn += i - s;
        ends[nw] = i;
        kns[nw++] = kn;
        size_t j = i;
        while (j < c->len && (c->in[j] == ' ' || c->in[j] == '\t')) j++;
        if (j == i || !alnum_at(c, j)) break;
        i = j;
    }
    for (unsigned k = nw; k-- > 0;) {
        vx_lex_hit h;
        if (!vx_lex_find(c->lex, key, kns[k], &h)) continue;
        if (h.kind == VX_LEX_IPA && !c->ipa) continue;
        if (memchr(h.value, '[', h.value_len) || memchr(h.value, ']', h.value_len)) continue;
        if (h.kind == VX_LEX_IPA && merge_ipa(c, pos, ends[k], &h)) return ends[k] - pos;
        char sp[VX_LEX_MAX_VALUE + 8];
        size_t n = 0;
        if (h.kind == VX_LEX_IPA) {
            memcpy(sp, "[[", 2);
            n = 2;
        }
        memcpy(sp + n, h.value, h.value_len);
        n += h.value_len;
        if (h.kind == VX_LEX_IPA) {
            memcpy(sp + n, "]]", 2);
            n += 2;
        }
        sp[n] = 0;
        vx_norm_say(c, pos, ends[k], sp);
        return ends[k] - pos;
    }
    return 0;
}

int vx_normalize(const char *tag, const char *in, size_t len, vx_norm *out, char *err,
                 size_t errlen) {
    vx_norm_opts o = {tag, 1, NULL, 0};
    return vx_normalize_opts(&o, in, len, out, err, errlen);
}

int vx_normalize_opts(const vx_norm_opts *o, const char *in, size_t len, vx_norm *out, char *err,
                      size_t errlen) {
    memset(out, 0, sizeof *out);
    vx_norm_ctx c = {in, len, NULL, 0, out, o->lex, o->ipa};
    c.lang = vx_norm_lang_for(o->tag, &c.region);
    if (!o->rules) c.lang = NULL;
    if (out_reserve(out, len)) goto fail;
    out->text[0] = 0;
    size_t pos = 0;
    while (pos < len && !out->err) {
        size_t e = raw_block_end(in, len, pos);
        if (e) {
            vx_norm_copy(&c, pos, e);
            pos = e;
            continue;
        }
        if (c.lex && !alnum_before(&c, pos) && alnum_at(&c, pos)) {
            size_t k = lex_match(&c, pos);
            if (k) {
                pos += k;
                continue;
            }
        }
        /* rules run at every place that is not inside a word */
        if (c.lang && !(alnum_before(&c, pos) && alnum_at(&c, pos))) {
            size_t k = c.lang->token(&c, pos);
            if (k) {
                pos += k;
                continue;
            }
        }
        size_t i = pos;
        vx_utf8_next(in, len, &i);
        vx_norm_copy(&c, pos, i);
        pos = i;
    }
    if (!out->err && out->len == 0 && !out->np) {
        vx_norm_piece pc = {0, 0, 0, 0, 1};
        piece_push(out, pc);
    }
    if (!out->err) return 0;
fail:
    if (out->err == VOX_ERR_TOO_LONG)
        snprintf(err, errlen, "normalized text exceeds %u bytes", VX_NORM_MAX_OUT);
    else
        snprintf(err, errlen, "text normalization: out of memory");
    int rc = out->err ? out->err : VOX_ERR_NOMEM;
    vx_norm_free(out);
    return rc;
}
