/* Shared German / French / Spanish rules (see norm_eu.h). Plain integers and decimals
 * are left to espeak-ng, which reads them well in these languages; we rewrite the
 * shapes it misreads: currency ("€20" -> "euros twenty"), times, numeric and ISO dates,
 * ordinal markers and percentages. */
#include "text/norm_eu.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

void vx_eu_number(vx_sb *b, const vx_num *n, const vx_eu_words *w, int form) {
    if (n->neg) vx_sb_word(b, w->minus);
    if (n->nip > 15) {
        for (size_t i = 0; i < n->nip; i++) w->cardinal(b, (uint64_t)(n->ip[i] - '0'), VX_EU_PLAIN);
    } else {
        w->cardinal(b, n->value, n->has_frac ? VX_EU_PLAIN : form);
    }
    if (n->has_frac) {
        vx_sb_word(b, w->point);
        for (size_t i = 0; i < n->nfp; i++) w->cardinal(b, (uint64_t)(n->fp[i] - '0'), VX_EU_PLAIN);
    }
}

void vx_eu_money_default(vx_sb *b, const vx_num *n, const vx_eu_currency *cu, const vx_eu_words *w,
                         const char *joiner) {
    int form = cu->fem ? VX_EU_FEM : VX_EU_MASC;
    if (n->has_frac && n->nfp <= 2 && n->nip <= 15 && cu->sub_one) {
        unsigned sub =
            (unsigned)(n->fp[0] - '0') * 10 + (n->nfp == 2 ? (unsigned)(n->fp[1] - '0') : 0);
        if (n->neg) vx_sb_word(b, w->minus);
        if (n->value == 0 && sub) {
            w->cardinal(b, sub, VX_EU_MASC);
            vx_sb_word(b, sub == 1 ? cu->sub_one : cu->sub_many);
            return;
        }
        w->cardinal(b, n->value, form);
        vx_sb_word(b, n->value == 1 ? cu->one : cu->many);
        if (sub) {
            if (joiner) vx_sb_word(b, joiner);
            w->cardinal(b, sub, joiner ? VX_EU_MASC : VX_EU_PLAIN);
            if (joiner) vx_sb_word(b, sub == 1 ? cu->sub_one : cu->sub_many);
        }
        return;
    }
    vx_eu_number(b, n, w, form);
    vx_sb_word(b, !n->has_frac && n->value == 1 ? cu->one : cu->many);
}

int vx_eu_prev_is(const vx_norm_ctx *c, size_t pos, const char *const *words) {
    size_t lo, hi;
    if (!vx_norm_prev_word(c, pos, &lo, &hi)) return 0;
    for (int i = 0; words[i]; i++)
        if (strlen(words[i]) == hi - lo && !strncasecmp(c->in + lo, words[i], hi - lo)) return 1;
    return 0;
}

static const vx_eu_currency *cur_at(const vx_norm_ctx *c, size_t pos, const vx_eu_words *w,
                                    size_t *k) {
    for (size_t i = 0; i < w->ncur; i++) {
        size_t l = strlen(w->cur[i].sym);
        if (pos + l > c->len || memcmp(c->in + pos, w->cur[i].sym, l)) continue;
        if (isalpha((unsigned char)w->cur[i].sym[0]) && !vx_norm_boundary_after(c, pos + l))
            continue;
        *k = l;
        return &w->cur[i];
    }
    return NULL;
}

static void money(vx_sb *b, const vx_num *n, const vx_eu_currency *cu, const vx_eu_words *w) {
    if (w->money)
        w->money(b, n, cu);
    else
        vx_eu_money_default(b, n, cu, w, NULL);
}

static int valid_date(int m, int d) {
    static const int md[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m >= 1 && m <= 12 && d >= 1 && d <= md[m - 1];
}

static size_t month_at(const vx_norm_ctx *c, size_t pos, const vx_eu_words *w, int *m) {
    for (int i = 0; i < 12; i++) {
        size_t l = strlen(w->months[i]);
        if (pos + l <= c->len && !strncasecmp(c->in + pos, w->months[i], l) &&
            vx_norm_boundary_after(c, pos + l)) {
            *m = i + 1;
            return l;
        }
    }
    for (int i = 0; i < 12 && w->abbr[0]; i++) {
        size_t l = strlen(w->abbr[i]);
        if (pos + l <= c->len && !strncasecmp(c->in + pos, w->abbr[i], l) &&
            vx_norm_boundary_after(c, pos + l)) {
            *m = i + 1;
            if (pos + l < c->len && c->in[pos + l] == '.') l++;
            return l;
        }
    }
    return 0;
}

/* Digit groups a SEP b SEP c. */
static int three_groups(const vx_norm_ctx *c, size_t pos, char sep, size_t len[3], uint64_t v[3],
                        size_t *end) {
    size_t i = pos;
    for (int g = 0; g < 3; g++) {
        len[g] = vx_digits(c, i, &v[g]);
        if (!len[g] || len[g] > 4) return 0;
        i += len[g];
        if (g < 2) {
            if (i >= c->len || c->in[i] != sep) return 0;
            i++;
        }
    }
    if (!vx_norm_boundary_after(c, i)) return 0;
    if (i + 1 < c->len && c->in[i] == sep && isdigit((unsigned char)c->in[i + 1])) return 0;
    *end = i;
    return 1;
}

/* 03.10.2026, 3/10/2026, 3-10-2026 (day first), 2026-10-03 (ISO). */
static size_t date_numeric(vx_norm_ctx *c, size_t pos, const vx_eu_words *w) {
    for (const char *s = ".-/"; *s; s++) {
        size_t len[3], end;
        uint64_t v[3];
        if (!three_groups(c, pos, *s, len, v, &end)) continue;
        int y, m, d;
        if (len[0] == 4 && len[1] <= 2 && len[2] <= 2 && *s == '-') {
            y = (int)v[0];
            m = (int)v[1];
            d = (int)v[2];
        } else if (len[0] <= 2 && len[1] <= 2 && len[2] == 4) {
            d = (int)v[0];
            m = (int)v[1];
            y = (int)v[2];
        } else
            continue;
        if (y < 1000 || !valid_date(m, d)) continue;
        vx_sb b;
        vx_sb_init(&b);
        w->date(c, pos, &b, y, m, d);
        if (b.over) return 0;
        vx_norm_say(c, pos, end, b.s);
        return end - pos;
    }
    return 0;
}

/* "3. Oktober 2026", "1er décembre", "2 de diciembre de 2026", "2 décembre". */
static size_t date_text(vx_norm_ctx *c, size_t pos, const vx_eu_words *w, const vx_num *n) {
    if (n->has_frac || n->neg || n->grouped || n->nip > 2 || n->value < 1 || n->value > 31)
        return 0;
    size_t i = n->end;
    if (w->day_marker) {
        size_t l = strlen(w->day_marker);
        if (i + l <= c->len && !strncmp(c->in + i, w->day_marker, l))
            i += l;
        else if (w->day_marker[0] == '.')
            return 0; /* German needs the dot */
    }
    size_t j = vx_norm_skip_sp(c, i);
    if (j == i) return 0;
    if (w->de_word) {
        size_t k = vx_norm_word_at(c, j, w->de_word);
        if (!k) return 0;
        j = vx_norm_skip_sp(c, j + k);
    }
    int m;
    size_t mk = month_at(c, j, w, &m);
    if (!mk || !valid_date(m, (int)n->value)) return 0;
    size_t end = j + mk;
    if (c->in[end - 1] == '.') end--;
    int y = -1;
    size_t q = vx_norm_skip_sp(c, j + mk);
    if (q > j + mk && w->de_word) {
        size_t k = vx_norm_word_at(c, q, w->de_word);
        q = k ? vx_norm_skip_sp(c, q + k) : j + mk;
    }
    uint64_t yv;
    if (q > j + mk && vx_digits(c, q, &yv) == 4 && vx_norm_boundary_after(c, q + 4)) {
        y = (int)yv;
        end = q + 4;
    }
    vx_sb b;
    vx_sb_init(&b);
    w->date(c, pos, &b, y, m, (int)n->value);
    if (b.over) return 0;
    vx_norm_say(c, pos, end, b.s);
    return end - pos;
}

/* 14:30, 8:05 (+ the module's hour word, e.g. "Uhr"), fr 14h30 / 14 h 30 / 8h. */
static size_t clock_time(vx_norm_ctx *c, size_t pos, const vx_eu_words *w) {
    uint64_t h, mi = 0;
    size_t d = vx_digits(c, pos, &h), i = pos + d;
    if (!d || d > 2 || h > 24) return 0;
    int ok = 0;
    if (i + 2 < c->len && c->in[i] == ':' && vx_digits(c, i + 1, &mi) == 2) {
        ok = 1;
        i += 3;
    } else if (w->h_times) {
        size_t j = vx_norm_skip_sp(c, i);
        if (j < c->len && c->in[j] == 'h') {
            size_t k = vx_norm_skip_sp(c, j + 1);
            if (vx_digits(c, k, &mi) == 2) {
                ok = 1;
                i = k + 2;
            } else if (vx_norm_boundary_after(c, j + 1)) {
                ok = 1;
                i = j + 1;
            }
        }
    }
    if (!ok || mi > 59 || !vx_norm_boundary_after(c, i)) return 0;
    if (i < c->len && c->in[i] == ':') return 0;
    if (w->hour_words) {
        size_t j = vx_norm_skip_sp(c, i), k = vx_norm_word_at(c, j, w->hour_words);
        if (k) i = j + k;
    }
    vx_sb b;
    vx_sb_init(&b);
    w->clock(&b, (unsigned)h, (unsigned)mi);
    if (b.over) return 0;
    vx_norm_say(c, pos, i, b.s);
    return i - pos;
}

static size_t currency_prefix(vx_norm_ctx *c, size_t pos, const vx_eu_words *w) {
    size_t k, i = pos;
    int neg = 0;
    if (c->in[i] == '-') {
        neg = 1;
        i++;
    }
    const vx_eu_currency *cu = cur_at(c, i, w, &k);
    if (!cu) return 0;
    size_t at = vx_norm_skip_sp(c, i + k);
    if (isalpha((unsigned char)cu->sym[0]) && at == i + k) return 0;
    vx_num n;
    if (!vx_num_scan(c, at, 1, &n) || !vx_norm_boundary_after(c, n.end)) return 0;
    if (neg) n.neg = 1;
    vx_sb b;
    vx_sb_init(&b);
    money(&b, &n, cu, w);
    if (b.over) return 0;
    vx_norm_say(c, pos, n.end, b.s);
    return n.end - pos;
}

size_t vx_eu_token(vx_norm_ctx *c, size_t pos, const vx_eu_words *w) {
    unsigned char ch = (unsigned char)c->in[pos];
    int start = pos == 0 || !vx_norm_is_word_byte((unsigned char)c->in[pos - 1]);
    if (!start) return 0;
    size_t k;
    if ((k = vx_norm_url_email(c, pos))) return k;
    if ((k = currency_prefix(c, pos, w))) return k;
    if (!isdigit(ch) && ch != '-') return 0;
    if (isdigit(ch)) {
        if ((k = date_numeric(c, pos, w))) return k;
        if ((k = clock_time(c, pos, w))) return k;
    }
    vx_num n;
    if (!vx_num_scan(c, pos, 1, &n)) return 0;
    /* amount then currency: "20 €", "20,50 €", "5 USD" */
    size_t at = vx_norm_skip_sp(c, n.end);
    const vx_eu_currency *cu = cur_at(c, at, w, &k);
    if (cu) {
        vx_sb b;
        vx_sb_init(&b);
        money(&b, &n, cu, w);
        if (b.over) return 0;
        vx_norm_say(c, pos, at + k, b.s);
        return at + k - pos;
    }
    if (at < c->len && c->in[at] == '%') {
        vx_sb b;
        vx_sb_init(&b);
        vx_eu_number(&b, &n, w, VX_EU_PLAIN);
        vx_sb_word(&b, w->percent);
        if (b.over) return 0;
        vx_norm_say(c, pos, at + 1, b.s);
        return at + 1 - pos;
    }
    if ((k = date_text(c, pos, w, &n))) return k;
    if (!n.has_frac && !n.neg && (k = w->ordinal(c, pos, &n))) return k;
    return 0;
}
