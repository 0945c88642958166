/* English normalization, numeric tokens: phone numbers, dates, clock times, versions,
 * fractions, money and units after a number, and the number reader that calls them. */
#include "text/norm_en.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* ----------------------------------------------------------------- rules */

static int is_ascii_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* Digit groups separated by one separator character: returns the count, fills lens. */
static int groups(const vx_norm_ctx *c, size_t pos, char sep, size_t *lens, int max, size_t *end) {
    int g = 0;
    size_t i = pos;
    while (g < max) {
        size_t d = vx_digits(c, i, NULL);
        if (!d) break;
        lens[g++] = d;
        i += d;
        if (i + 1 < c->len && c->in[i] == sep && is_ascii_digit(c->in[i + 1]) && g < max) {
            i++;
            continue;
        }
        break;
    }
    *end = i;
    return g;
}

static void say_digit_groups(vx_sb *b, const vx_norm_ctx *c, size_t pos, size_t end, int oh) {
    int first = 1;
    for (size_t i = pos; i < end;) {
        if (!is_ascii_digit(c->in[i])) {
            i++;
            continue;
        }
        size_t d = vx_digits(c, i, NULL);
        if (!first) vx_sb_raw(b, ",");
        vx_en_digit_words(b, c->in + i, d, oh);
        first = 0;
        i += d;
    }
}

/* Phone numbers: NANP shapes (555-123-4567, 1-800-555-1234, 555.123.4567, 555-1234),
 * "(555) 123-4567" and international "+44 20 7946 0958". */
size_t vx_en_phone(vx_norm_ctx *c, size_t pos) {
    size_t lens[6], end = pos;
    int oh = vx_en_gb(c);
    char ch = c->in[pos];
    if (ch == '+') {
        size_t i = pos + 1, digits = 0;
        int g = 0;
        while (i < c->len && is_ascii_digit(c->in[i])) {
            size_t d = vx_digits(c, i, NULL);
            if (d > 4) return 0;
            digits += d;
            g++;
            i += d;
            end = i;
            if (i + 1 < c->len && (c->in[i] == ' ' || c->in[i] == '-') &&
                is_ascii_digit(c->in[i + 1]))
                i++;
            else
                break;
        }
        if (g < 2 || digits < 7 || digits > 15 || !vx_norm_boundary_after(c, end)) return 0;
        vx_sb b;
        vx_sb_init(&b);
        vx_sb_word(&b, "plus");
        say_digit_groups(&b, c, pos + 1, end, oh);
        if (b.over) return 0;
        vx_norm_say(c, pos, end, b.s);
        return end - pos;
    }
    if (ch == '(') {
        if (pos + 5 > c->len || vx_digits(c, pos + 1, NULL) != 3 || c->in[pos + 4] != ')') return 0;
        size_t i = vx_norm_skip_sp(c, pos + 5);
        int g = groups(c, i, '-', lens, 3, &end);
        if (g != 2 || lens[0] != 3 || lens[1] != 4 || !vx_norm_boundary_after(c, end)) return 0;
    } else {
        int ok = 0;
        for (const char *s = "-."; *s && !ok; s++) {
            int g = groups(c, pos, *s, lens, 5, &end);
            if (!vx_norm_boundary_after(c, end)) continue;
            if (g == 3 && lens[0] == 3 && lens[1] == 3 && lens[2] == 4) ok = 1;
            if (g == 4 && lens[0] == 1 && lens[1] == 3 && lens[2] == 3 && lens[3] == 4) ok = 1;
            if (g == 2 && *s == '-' && lens[0] == 3 && lens[1] == 4 && c->in[pos] != '0' &&
                c->in[pos] != '1')
                ok = 1;
            /* UK: 020-7946-0958, 0161-496-0000 */
            if (g == 3 && *s == '-' && c->in[pos] == '0' &&
                ((lens[0] == 3 && lens[1] == 4 && lens[2] == 4) ||
                 (lens[0] == 4 && lens[1] == 3 && lens[2] == 4)))
                ok = 1;
            /* "3.141.5926" is no phone: dots need the full 3-3-4 shape */
            if (*s == '.' && g != 3) ok = 0;
        }
        if (!ok) return 0;
    }
    vx_sb b;
    vx_sb_init(&b);
    say_digit_groups(&b, c, pos, end, oh);
    if (b.over) return 0;
    vx_norm_say(c, pos, end, b.s);
    return end - pos;
}

static void say_clock(vx_sb *b, unsigned h, unsigned mi, int has_ampm, int pm, int gbr);

int vx_en_valid_date(int y, int m, int d) {
    static const int md[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    (void)y;
    return m >= 1 && m <= 12 && d >= 1 && d <= md[m - 1];
}

/* A date, written in the voice's order: US "December second, twenty twenty-six",
 * GB "the second of December twenty twenty-six". y < 0: no year. */
void vx_en_say_date(vx_sb *b, int y, int m, int d, int day_first, int gbr) {
    if (day_first) {
        if (day_first != 2) vx_sb_word(b, "the");
        vx_en_ordinal(b, (uint64_t)d, gbr);
        vx_sb_word(b, "of");
        vx_sb_word(b, vx_en_months[m - 1]);
    } else {
        vx_sb_word(b, vx_en_months[m - 1]);
        if (gbr) vx_sb_word(b, "the");
        vx_en_ordinal(b, (uint64_t)d, gbr);
        if (y >= 0) vx_sb_raw(b, ",");
    }
    if (y >= 0) vx_en_year(b, (unsigned)y, gbr);
}

/* Numeric dates: ISO 2026-12-02, 2026/12/02, and 12/02/2026 / 12.02.2026 / 12-02-2026
 * by the locale's order (a reading that is impossible in that order but valid the
 * other way round is taken the other way round). */
static size_t date_numeric(vx_norm_ctx *c, size_t pos) {
    size_t lens[4], end;
    for (const char *s = "-/."; *s; s++) {
        int g = groups(c, pos, *s, lens, 4, &end);
        int stamp = *s == '-' && end < c->len && c->in[end] == 'T'; /* ISO 8601 2026-12-02T10:00 */
        if (g != 3 || (!stamp && !vx_norm_boundary_after(c, end))) continue;
        if (end < c->len && c->in[end] == *s) continue; /* more groups */
        uint64_t a, bb, cc;
        size_t i = pos;
        vx_digits(c, i, &a);
        i += lens[0] + 1;
        vx_digits(c, i, &bb);
        i += lens[1] + 1;
        vx_digits(c, i, &cc);
        int y, m, d;
        if (lens[0] == 4 && lens[1] <= 2 && lens[2] <= 2 && *s != '.') {
            y = (int)a;
            m = (int)bb;
            d = (int)cc;
        } else if (lens[0] <= 2 && lens[1] <= 2 && (lens[2] == 4 || (lens[2] == 2 && *s == '/'))) {
            y = lens[2] == 4 ? (int)cc : (int)(cc < 50 ? 2000 + cc : 1900 + cc);
            int dayfirst = vx_en_gb(c) || *s == '.';
            m = dayfirst ? (int)bb : (int)a;
            d = dayfirst ? (int)a : (int)bb;
            if (!vx_en_valid_date(y, m, d) && vx_en_valid_date(y, d, m)) {
                int t = m;
                m = d;
                d = t;
            }
        } else {
            continue;
        }
        if (y < 1000 || y > 2999 || !vx_en_valid_date(y, m, d)) continue;
        vx_sb b;
        vx_sb_init(&b);
        vx_en_say_date(&b, y, m, d, vx_en_gb(c), vx_en_gb(c));
        if (stamp) {
            uint64_t h, mi, se = 0;
            size_t t = end + 1;
            if (vx_digits(c, t, &h) != 2 || t + 5 > c->len || c->in[t + 2] != ':' ||
                vx_digits(c, t + 3, &mi) != 2 || h > 23 || mi > 59)
                return 0;
            t += 5;
            if (t + 2 < c->len && c->in[t] == ':' && vx_digits(c, t + 1, &se) == 2) t += 3;
            if (t + 1 < c->len && c->in[t] == '.' && isdigit((unsigned char)c->in[t + 1])) {
                t++;
                t += vx_digits(c, t, NULL);
            }
            if (t < c->len && c->in[t] == 'Z') t++;
            if (!vx_norm_boundary_after(c, t)) return 0;
            vx_sb_raw(&b, ",");
            say_clock(&b, (unsigned)h, (unsigned)mi, 0, 0, vx_en_gb(c));
            end = t;
        }
        if (b.over) return 0;
        vx_norm_say(c, pos, end, b.s);
        return end - pos;
    }
    return 0;
}

/* am / pm after a time: "pm", "PM", "p.m.", "P.M." (a final dot is left in the text, so
 * it can still end a sentence). Returns bytes consumed from pos and sets *pm. */
static size_t ampm_at(const vx_norm_ctx *c, size_t pos, int *pm) {
    size_t i = vx_norm_skip_sp(c, pos);
    if (i >= c->len) return 0;
    char a = (char)tolower((unsigned char)c->in[i]);
    if (a != 'a' && a != 'p') return 0;
    size_t j = i + 1;
    if (j < c->len && c->in[j] == '.') j++;
    if (j >= c->len || tolower((unsigned char)c->in[j]) != 'm') return 0;
    j++;
    if (!vx_norm_boundary_after(c, j)) return 0;
    /* "p.m" then "." : leave the dot */
    *pm = a == 'p';
    return j - pos;
}

static void say_clock(vx_sb *b, unsigned h, unsigned mi, int has_ampm, int pm, int gbr) {
    if (has_ampm) {
        vx_en_cardinal(b, h == 0 ? 12 : h, gbr);
        if (mi) {
            if (mi < 10) vx_sb_word(b, "oh");
            vx_en_cardinal(b, mi, gbr);
        }
        vx_sb_word(b, pm ? "PM" : "AM");
        return;
    }
    if (h == 0 && mi == 0) {
        vx_sb_word(b, "midnight");
        return;
    }
    if (mi == 0) {
        vx_en_cardinal(b, h, gbr);
        vx_sb_word(b, h <= 12 ? "o'clock" : "hundred");
        return;
    }
    if (h == 0)
        vx_sb_word(b, "zero");
    else
        vx_en_cardinal(b, h, gbr);
    if (mi < 10) vx_sb_word(b, "oh");
    vx_en_cardinal(b, mi, gbr);
}

/* Times: H:MM, H:MM:SS, each with optional am/pm; "8pm", "8 p.m." */
static size_t clock_time(vx_norm_ctx *c, size_t pos) {
    uint64_t h, mi = 0, se = 0;
    size_t d = vx_digits(c, pos, &h), i = pos + d;
    if (d == 0 || d > 2) return 0;
    int has_min = 0, has_sec = 0;
    if (i + 2 < c->len && c->in[i] == ':' && vx_digits(c, i + 1, &mi) == 2) {
        has_min = 1;
        i += 3;
        if (i + 2 < c->len && c->in[i] == ':' && vx_digits(c, i + 1, &se) == 2) {
            has_sec = 1;
            i += 3;
        }
    }
    int pm = 0;
    size_t ap = ampm_at(c, i, &pm);
    if (!ap && !vx_norm_boundary_after(c, i)) return 0;
    if (!has_min && !ap) return 0;
    if (ap && (h < 1 || h > 12)) return 0;
    if (h > 24 || mi > 59 || se > 59) return 0;
    if (!ap && i < c->len && c->in[i] == ':') return 0; /* "1:2:3:4" */
    vx_sb b;
    vx_sb_init(&b);
    say_clock(&b, (unsigned)h, (unsigned)mi, ap != 0, pm, vx_en_gb(c));
    if (has_sec) {
        vx_sb_word(&b, "and");
        vx_en_cardinal(&b, se, vx_en_gb(c));
        vx_sb_word(&b, se == 1 ? "second" : "seconds");
    }
    if (b.over) return 0;
    size_t end = i + ap;
    vx_norm_say(c, pos, end, b.s);
    return end - pos;
}

/* Versions and addresses: v2.0.1, 2.0.1, 3.10.2 (three or more parts), v1.2;
 * 192.168.1.1 (four parts of 0..255) reads "dot". */
size_t vx_en_version(vx_norm_ctx *c, size_t pos) {
    size_t i = pos;
    int v = 0;
    if (c->in[i] == 'v' || c->in[i] == 'V') {
        v = 1;
        i++;
    }
    size_t lens[8], end;
    int g = groups(c, i, '.', lens, 8, &end);
    if (g < (v ? 2 : 3) || !vx_norm_boundary_after(c, end)) return 0;
    for (int k = 0; k < g; k++)
        if (lens[k] > 4) return 0;
    int ip = !v && g == 4;
    size_t p = i;
    for (int k = 0; k < g && ip; k++) {
        uint64_t x;
        vx_digits(c, p, &x);
        if (x > 255 || lens[k] > 3) ip = 0;
        p += lens[k] + 1;
    }
    vx_sb b;
    vx_sb_init(&b);
    if (v) vx_sb_word(&b, "version");
    p = i;
    for (int k = 0; k < g; k++) {
        uint64_t x;
        vx_digits(c, p, &x);
        if (k) vx_sb_word(&b, ip ? "dot" : "point");
        if (ip)
            vx_en_cardinal(&b, x, vx_en_gb(c));
        else if (lens[k] > 1 && c->in[p] == '0')
            vx_en_digit_words(&b, c->in + p, lens[k], 1);
        else if (x == 0 && k)
            vx_sb_word(&b, "oh");
        else
            vx_en_cardinal(&b, x, vx_en_gb(c));
        p += lens[k] + 1;
    }
    if (b.over) return 0;
    vx_norm_say(c, pos, end, b.s);
    return end - pos;
}

/* The denominator of a fraction, singular or plural. */
static void denominator(vx_sb *b, uint64_t den, int plural, int gbr) {
    if (den == 2)
        vx_sb_word(b, plural ? "halves" : "half");
    else if (den == 4)
        vx_sb_word(b, plural ? "quarters" : "quarter");
    else {
        vx_en_ordinal(b, den, gbr);
        if (plural) vx_sb_raw(b, "s");
    }
}

static int fraction_den_ok(uint64_t d) {
    return (d >= 2 && d <= 10) || d == 12 || d == 16 || d == 20 || d == 32 || d == 64 || d == 100 ||
           d == 1000;
}

/* Unicode vulgar fractions: returns bytes and the numerator/denominator. */
size_t vx_en_vulgar_at(const vx_norm_ctx *c, size_t pos, unsigned *num, unsigned *den) {
    static const struct {
        const char *s;
        unsigned n, d;
    } t[] = {{"\xC2\xBD", 1, 2},     {"\xC2\xBC", 1, 4},     {"\xC2\xBE", 3, 4},
             {"\xE2\x85\x93", 1, 3}, {"\xE2\x85\x94", 2, 3}, {"\xE2\x85\x95", 1, 5},
             {"\xE2\x85\x96", 2, 5}, {"\xE2\x85\x97", 3, 5}, {"\xE2\x85\x98", 4, 5},
             {"\xE2\x85\x99", 1, 6}, {"\xE2\x85\x9A", 5, 6}, {"\xE2\x85\x9B", 1, 8},
             {"\xE2\x85\x9C", 3, 8}, {"\xE2\x85\x9D", 5, 8}, {"\xE2\x85\x9E", 7, 8}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t l = strlen(t[i].s);
        if (pos + l <= c->len && !memcmp(c->in + pos, t[i].s, l)) {
            *num = t[i].n;
            *den = t[i].d;
            return l;
        }
    }
    return 0;
}

void vx_en_say_fraction(vx_sb *b, uint64_t whole, int has_whole, uint64_t num, uint64_t den,
                        int gbr) {
    if (has_whole) {
        vx_en_cardinal(b, whole, gbr);
        vx_sb_word(b, "and");
        if (num == 1) {
            vx_sb_word(b, den == 8 ? "an" : "a");
            denominator(b, den, 0, gbr);
            return;
        }
    }
    vx_en_cardinal(b, num, gbr);
    denominator(b, den, num != 1, gbr);
}

/* What follows a number (or a range a..b): percent, units, currency, magnitude. The
 * spoken number is already in b. Returns bytes consumed after `at`. */
static size_t number_suffix(vx_norm_ctx *c, size_t at, vx_sb *b, const vx_num *last) {
    int plural = !(last->value == 1 && !last->has_frac && last->nip <= 15);
    size_t sp = vx_norm_skip_sp(c, at);
    if (sp < c->len && c->in[sp] == '%') {
        vx_sb_word(b, "percent");
        return sp + 1 - at;
    }
    if (sp + 2 < c->len && !memcmp(c->in + sp, "\xE2\x80\xB0", 3)) {
        vx_sb_word(b, "per mille");
        return sp + 3 - at;
    }
    const unit *u;
    size_t k = vx_en_unit_at(c, at, &u);
    if (k) {
        vx_en_say_unit(b, u, plural, vx_en_gb(c));
        return k;
    }
    return 0;
}

/* Amount with a currency after it: "20 €", "20€", "5 USD", "50¢". */
static size_t currency_suffix(vx_norm_ctx *c, size_t pos, const vx_num *n) {
    size_t at = vx_norm_skip_sp(c, n->end), k = 0;
    const currency *cu = vx_en_cur_sym_at(c, at, &k);
    if (cu && cu->sym[0] == '$') cu = NULL; /* "5 $" is rare; "$" leads in English */
    if (!cu) cu = vx_en_cur_code_at(c, at, &k);
    vx_sb b;
    vx_sb_init(&b);
    if (!cu) {
        if (at + 1 < c->len && !memcmp(c->in + at, "\xC2\xA2", 2)) { /* ¢ */
            vx_en_number(&b, n, vx_en_gb(c));
            vx_sb_word(&b, n->value == 1 && !n->has_frac ? "cent" : "cents");
            if (b.over) return 0;
            vx_norm_say(c, pos, at + 2, b.s);
            return at + 2 - pos;
        }
        return 0;
    }
    vx_en_money(&b, n, cu, NULL, vx_en_gb(c));
    if (b.over) return 0;
    vx_norm_say(c, pos, at + k, b.s);
    return at + k - pos;
}

/* Currency first: "$500", "$3.50", "$1.2M", "-$5", "€20", "£2.50", "USD 20", "$5 million". */
size_t vx_en_currency_prefix(vx_norm_ctx *c, size_t pos) {
    size_t i = pos, k = 0;
    int neg = 0;
    if (c->in[i] == '-' || (i + 2 < c->len && !memcmp(c->in + i, "\xE2\x88\x92", 3))) {
        neg = 1;
        i += c->in[i] == '-' ? 1 : 3;
    }
    const currency *cu = vx_en_cur_sym_at(c, i, &k);
    int code = 0;
    if (!cu) {
        cu = vx_en_cur_code_at(c, i, &k);
        code = 1;
    }
    if (!cu) return 0;
    size_t at = code ? vx_norm_skip_sp(c, i + k) : i + k;
    if (!code) at = vx_norm_skip_sp(c, at);
    if (code && at == i + k) return 0;
    vx_num n;
    if (!vx_num_scan(c, at, 1, &n)) return 0;
    if (neg) n.neg = 1;
    const char *mag = NULL;
    size_t end = n.end + vx_en_magnitude_at(c, n.end, &mag);
    if (!vx_norm_boundary_after(c, end)) return 0;
    vx_sb b;
    vx_sb_init(&b);
    /* a range: "$5-10", "$5 - $10", "$5–$10" */
    size_t r = end;
    if (!mag && r < c->len &&
        (c->in[r] == '-' || (r + 2 < c->len && !memcmp(c->in + r, "\xE2\x80\x93", 3)))) {
        r += c->in[r] == '-' ? 1 : 3;
        size_t k2 = 0;
        if (!code && r + k < c->len && !memcmp(c->in + r, cu->sym, k)) k2 = k;
        vx_num z;
        if (vx_num_scan(c, r + k2, 0, &z)) {
            const char *mag2 = NULL;
            size_t e2 = z.end + vx_en_magnitude_at(c, z.end, &mag2);
            if (vx_norm_boundary_after(c, e2) && !n.has_frac && !z.has_frac) {
                if (neg) vx_sb_word(&b, "minus");
                n.neg = 0;
                vx_en_number(&b, &n, vx_en_gb(c));
                vx_sb_word(&b, "to");
                vx_en_money(&b, &z, cu, mag2, vx_en_gb(c));
                if (b.over) return 0;
                vx_norm_say(c, pos, e2, b.s);
                return e2 - pos;
            }
        }
    }
    vx_en_money(&b, &n, cu, mag, vx_en_gb(c));
    if (b.over) return 0;
    vx_norm_say(c, pos, end, b.s);
    return end - pos;
}

int vx_en_ord_suffix_ok(uint64_t v, const char *s) {
    const char *want = "th";
    if (v % 100 < 11 || v % 100 > 13) {
        if (v % 10 == 1)
            want = "st";
        else if (v % 10 == 2)
            want = "nd";
        else if (v % 10 == 3)
            want = "rd";
    }
    return !strncasecmp(s, want, 2);
}

/* Day then month: "2 December 2026", "2nd of December", "the 3rd of May". */
static size_t date_day_first(vx_norm_ctx *c, size_t pos, uint64_t day, size_t after_day) {
    if (day < 1 || day > 31) return 0;
    size_t i = vx_norm_skip_sp(c, after_day);
    if (i == after_day) return 0;
    size_t of = vx_norm_word_at(c, i, "of");
    if (of) i = vx_norm_skip_sp(c, i + of);
    int m;
    size_t k = vx_en_month_at(c, i, &m);
    if (!k || !vx_en_valid_date(2000, m, (int)day)) return 0;
    size_t end = i + k;
    if (c->in[end - 1] == '.') end--; /* keep a final dot of "Dec." in the text */
    int y = -1;
    size_t j = vx_norm_skip_sp(c, i + k);
    uint64_t yv;
    size_t yd = vx_digits(c, j, &yv);
    if (j > i + k && yd == 4 && vx_norm_boundary_after(c, j + 4)) {
        y = (int)yv;
        end = j + 4;
    }
    vx_sb b;
    vx_sb_init(&b);
    size_t pl, ph;
    int has_the =
        vx_norm_prev_word(c, pos, &pl, &ph) && ph - pl == 3 && !strncasecmp(c->in + pl, "the", 3);
    vx_en_say_date(&b, y, m, (int)day, has_the ? 2 : 1, vx_en_gb(c));
    if (b.over) return 0;
    vx_norm_say(c, pos, end, b.s);
    return end - pos;
}

static int prev_in(const vx_norm_ctx *c, size_t pos, const char *const *words) {
    size_t lo, hi;
    if (!vx_norm_prev_word(c, pos, &lo, &hi)) return 0;
    for (int i = 0; words[i]; i++)
        if (strlen(words[i]) == hi - lo && !memcmp(c->in + lo, words[i], hi - lo)) return 1;
    return 0;
}

/* Codes of three or more dash-separated digit groups that are no date and no phone
 * number (ISBN 978-3-16-148410-0, serials): read group by group, digit by digit. */
static size_t dash_code(vx_norm_ctx *c, size_t pos) {
    size_t lens[12], end;
    int g = groups(c, pos, '-', lens, 12, &end);
    if (g < 3 || !vx_norm_boundary_after(c, end)) return 0;
    vx_sb b;
    vx_sb_init(&b);
    say_digit_groups(&b, c, pos, end, 0);
    if (b.over) return 0;
    vx_norm_say(c, pos, end, b.s);
    return end - pos;
}

/* Number-led tokens. */
size_t vx_en_numeric(vx_norm_ctx *c, size_t pos) {
    size_t k;
    if ((k = vx_en_phone(c, pos))) return k;
    if ((k = date_numeric(c, pos))) return k;
    if ((k = clock_time(c, pos))) return k;
    if ((k = vx_en_version(c, pos))) return k;
    if ((k = dash_code(c, pos))) return k;
    vx_num a;
    if (!vx_num_scan(c, pos, 1, &a)) return 0;
    if ((k = currency_suffix(c, pos, &a))) return k;
    size_t i = a.end;
    int gbr = vx_en_gb(c);
    vx_sb b;
    vx_sb_init(&b);
    /* ordinals 1st 2nd 3rd 4th */
    if (!a.has_frac && !a.neg && a.nip <= 15 && i + 2 <= c->len &&
        vx_norm_boundary_after(c, i + 2) && isalpha((unsigned char)c->in[i]) &&
        vx_en_ord_suffix_ok(a.value, c->in + i)) {
        if ((k = date_day_first(c, pos, a.value, i + 2))) return k;
        vx_en_ordinal(&b, a.value, gbr);
        if (b.over) return 0;
        vx_norm_say(c, pos, i + 2, b.s);
        return i + 2 - pos;
    }
    /* decades: 1990s, 90s */
    if (!a.has_frac && !a.neg && !a.grouped && i < c->len && c->in[i] == 's' &&
        vx_norm_boundary_after(c, i + 1) && a.value % 10 == 0 && (a.nip == 4 || a.nip == 2)) {
        if (a.nip == 4)
            vx_en_year(&b, (unsigned)a.value, gbr);
        else
            vx_en_cardinal(&b, a.value, gbr);
        vx_en_pluralize(&b);
        if (b.over) return 0;
        vx_norm_say(c, pos, i + 1, b.s);
        return i + 1 - pos;
    }
    /* vulgar fraction after a whole number: 2½ */
    unsigned vn, vd;
    size_t vk = vx_en_vulgar_at(c, i, &vn, &vd);
    if (vk && !a.has_frac && !a.neg && a.nip <= 15) {
        vx_en_say_fraction(&b, a.value, 1, vn, vd, gbr);
        size_t e = i + vk;
        e += number_suffix(c, e, &b, &(vx_num){.value = 2});
        if (b.over) return 0;
        vx_norm_say(c, pos, e, b.s);
        return e - pos;
    }
    if (!a.neg && a.nip <= 15 && i < c->len &&
        (c->in[i] == 'M' || c->in[i] == 'B' || (i + 2 <= c->len && !memcmp(c->in + i, "bn", 2)))) {
        const char *mag = NULL;
        size_t mk = vx_en_magnitude_at(c, i, &mag);
        if (mk && (c->in[i] == 'M' || c->in[i] == 'B' || c->in[i] == 'b')) {
            vx_en_number(&b, &a, gbr);
            vx_sb_word(&b, mag);
            if (b.over) return 0;
            vx_norm_say(c, pos, i + mk, b.s);
            return i + mk - pos;
        }
    }
    /* feet and inches: 5'11", 6′2″ */
    if (!a.has_frac && !a.neg && a.nip <= 2 && i < c->len &&
        (c->in[i] == '\'' || (i + 3 <= c->len && !memcmp(c->in + i, "\xE2\x80\xB2", 3)))) {
        size_t j = i + (c->in[i] == '\'' ? 1 : 3);
        uint64_t inch;
        size_t dd = vx_digits(c, j, &inch);
        size_t e = j + dd;
        if (dd >= 1 && dd <= 2 && inch < 12 && e < c->len &&
            (c->in[e] == '"' || (e + 3 <= c->len && !memcmp(c->in + e, "\xE2\x80\xB3", 3)))) {
            e += c->in[e] == '"' ? 1 : 3;
            vx_en_cardinal(&b, a.value, gbr);
            vx_sb_word(&b, a.value == 1 ? "foot" : "feet");
            vx_en_cardinal(&b, inch, gbr);
            vx_sb_word(&b, inch == 1 ? "inch" : "inches");
            if (b.over) return 0;
            vx_norm_say(c, pos, e, b.s);
            return e - pos;
        }
    }
    if (!vx_norm_boundary_after(c, i)) {
        /* glued unit: 10km, 5kg, 3GB, 8pm handled above */
        const unit *u;
        size_t uk = vx_en_unit_at(c, i, &u);
        if (!uk || c->in[i] == ' ') return 0;
        vx_en_number(&b, &a, gbr);
        vx_en_say_unit(&b, u, !(a.value == 1 && !a.has_frac), gbr);
        if (b.over) return 0;
        vx_norm_say(c, pos, i + uk, b.s);
        return i + uk - pos;
    }
    /* ratings: 4.5/5, 8.5/10 */
    if (a.has_frac && !a.neg && i + 1 < c->len && c->in[i] == '/' &&
        isdigit((unsigned char)c->in[i + 1])) {
        uint64_t den;
        size_t dd = vx_digits(c, i + 1, &den);
        if (dd <= 3 && vx_norm_boundary_after(c, i + 1 + dd)) {
            vx_en_number(&b, &a, gbr);
            vx_sb_word(&b, "out of");
            vx_en_cardinal(&b, den, gbr);
            if (b.over) return 0;
            vx_norm_say(c, pos, i + 1 + dd, b.s);
            return i + 1 + dd - pos;
        }
    }
    /* fractions a/b and mixed numbers "1 1/2" */
    if (!a.has_frac && !a.grouped && a.nip <= 3 && i + 1 < c->len && c->in[i] == '/' &&
        is_ascii_digit(c->in[i + 1])) {
        uint64_t den;
        size_t dd = vx_digits(c, i + 1, &den);
        size_t e = i + 1 + dd;
        if (dd <= 4 && vx_norm_boundary_after(c, e) && !(e < c->len && c->in[e] == '/')) {
            if (a.value == 24 && den == 7) {
                vx_sb_word(&b, "twenty-four seven");
            } else if (fraction_den_ok(den)) {
                if (a.neg) vx_sb_word(&b, "minus");
                vx_en_say_fraction(&b, 0, 0, a.value, den, gbr);
                e += number_suffix(c, e, &b, &(vx_num){.value = 2});
            } else {
                int m = (int)a.value, d = (int)den;
                if (gbr) {
                    m = (int)den;
                    d = (int)a.value;
                }
                if (!vx_en_valid_date(2000, m, d) || a.neg) return 0;
                vx_en_say_date(&b, -1, m, d, gbr, gbr);
            }
            if (b.over) return 0;
            vx_norm_say(c, pos, e, b.s);
            return e - pos;
        }
    }
    if (!a.has_frac && !a.neg && a.nip <= 2 && a.value && i + 1 < c->len && c->in[i] == ' ' &&
        is_ascii_digit(c->in[i + 1])) {
        uint64_t nu, de;
        size_t j = i + 1, d1 = vx_digits(c, j, &nu);
        if (d1 <= 2 && j + d1 < c->len && c->in[j + d1] == '/') {
            size_t d2 = vx_digits(c, j + d1 + 1, &de);
            size_t e = j + d1 + 1 + d2;
            if (d2 && d2 <= 3 && nu < de && fraction_den_ok(de) && vx_norm_boundary_after(c, e) &&
                !(e < c->len && c->in[e] == '/')) {
                vx_en_say_fraction(&b, a.value, 1, nu, de, gbr);
                e += number_suffix(c, e, &b, &(vx_num){.value = 2});
                if (b.over) return 0;
                vx_norm_say(c, pos, e, b.s);
                return e - pos;
            }
        }
    }
    /* day-first dates: "2 December 2026" */
    if (!a.has_frac && !a.neg && !a.grouped && a.nip <= 2 &&
        (k = date_day_first(c, pos, a.value, i)))
        return k;
    /* ranges: 10-20, 1990-1995, 5–10 km, 10-20% */
    static const char *const YEAR_CTX[] = {"in", "In",   "since", "Since",  "from", "until",
                                           "by", "year", "circa", "around", "of",   NULL};
    int is_year = !a.has_frac && !a.neg && !a.grouped && a.nip == 4 && a.value <= 2099 &&
                  (a.value >= 1100 || (a.value >= 1000 && prev_in(c, pos, YEAR_CTX)));
    size_t dash = 0;
    if (i + 1 < c->len && c->in[i] == '-')
        dash = 1;
    else if (i + 3 < c->len && !memcmp(c->in + i, "\xE2\x80\x93", 3))
        dash = 3; /* – */
    if (dash && is_ascii_digit(c->in[i + dash])) {
        vx_num z;
        if (vx_num_scan(c, i + dash, 0, &z) && vx_norm_boundary_after(c, z.end) &&
            !(z.end < c->len && (c->in[z.end] == '-' || c->in[z.end] == ':'))) {
            int zyear = is_year && !z.has_frac && !z.grouped &&
                        ((z.nip == 4 && z.value >= 1100 && z.value <= 2099) ||
                         (z.nip == 2 && z.value > a.value % 100));
            if (zyear) {
                vx_en_year(&b, (unsigned)a.value, gbr);
                vx_sb_word(&b, "to");
                if (z.nip == 4)
                    vx_en_year(&b, (unsigned)z.value, gbr);
                else
                    vx_en_cardinal(&b, z.value, gbr);
            } else {
                vx_en_number(&b, &a, gbr);
                vx_sb_word(&b, "to");
                vx_en_number(&b, &z, gbr);
            }
            size_t e = z.end;
            size_t cs = vx_norm_skip_sp(c, e), ck;
            const currency *cu = vx_en_cur_code_at(c, cs, &ck);
            if (cu && !zyear) {
                vx_sb_word(&b, cu->many);
                e = cs + ck;
            } else
                e += number_suffix(c, e, &b, &z);
            if (b.over) return 0;
            vx_norm_say(c, pos, e, b.s);
            return e - pos;
        }
    }
    /* plain numbers, with percent / units after them */
    if (is_year) {
        size_t sk = number_suffix(c, i, &b, &a);
        if (sk) {
            vx_sb_init(&b);
        } else {
            vx_en_year(&b, (unsigned)a.value, gbr);
            if (b.over) return 0;
            vx_norm_say(c, pos, i, b.s);
            return i - pos;
        }
    }
    vx_en_number(&b, &a, gbr);
    size_t e = i + number_suffix(c, i, &b, &a);
    /* "-" alone before a digit must be a sign, not a dash in "pages 3 -5" */
    if (b.over) return 0;
    vx_norm_say(c, pos, e, b.s);
    return e - pos;
}
