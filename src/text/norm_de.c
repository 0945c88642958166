/* German rules (de): currency, times, dates, ordinals, percent; shapes in norm_eu.c.
 * Numbers are written as one word below a million ("einundzwanzig",
 * "zweitausendsechsundzwanzig"), as German spells them. Ordinals take their case
 * ending from the article before them ("am 3. Oktober" -> am dritten Oktober,
 * "der 3. Platz" -> der dritte Platz); a date with no article reads "dritter Oktober". */
#include "text/norm_eu.h"
#include <string.h>
#include <strings.h>

static const char *ONES[] = {"null",     "eins",     "zwei",     "drei",     "vier",
                             "fünf",     "sechs",    "sieben",   "acht",     "neun",
                             "zehn",     "elf",      "zwölf",    "dreizehn", "vierzehn",
                             "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn"};
static const char *TENS[] = {"",        "",        "zwanzig", "dreißig", "vierzig",
                             "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"};

/* 0 < v < 1000 as one word; last_eins: "eins" at the very end (else "ein"). */
static void below1000(vx_sb *b, unsigned v, int last_eins, int lead) {
    if (v >= 100) {
        /* "hundert" leads a number, "einhundert" follows a thousand */
        vx_sb_raw(b, v / 100 == 1 ? (lead ? "" : "ein") : ONES[v / 100]);
        vx_sb_raw(b, "hundert");
        v %= 100;
    }
    if (v == 1)
        vx_sb_raw(b, last_eins ? "eins" : "ein");
    else if (v && v < 20)
        vx_sb_raw(b, ONES[v]);
    else if (v) {
        if (v % 10) {
            vx_sb_raw(b, v % 10 == 1 ? "ein" : ONES[v % 10]);
            vx_sb_raw(b, "und");
        }
        vx_sb_raw(b, TENS[v / 10]);
    }
}

static void de_cardinal(vx_sb *b, uint64_t n, int form) {
    if (b->n && b->s[b->n - 1] != ' ') vx_sb_raw(b, " ");
    if (n == 0) {
        vx_sb_raw(b, "null");
        return;
    }
    int lead = 1;
    static const struct {
        uint64_t s;
        const char *one, *many;
    } big[] = {{1000000000000ull, "Billion", "Billionen"},
               {1000000000ull, "Milliarde", "Milliarden"},
               {1000000ull, "Million", "Millionen"}};
    for (int i = 0; i < 3; i++) {
        if (n >= big[i].s) {
            uint64_t q = n / big[i].s;
            if (q == 1)
                vx_sb_word(b, "eine");
            else {
                vx_sb_word(b, "");
                de_cardinal(b, q, VX_EU_PLAIN);
            }
            vx_sb_word(b, q == 1 ? big[i].one : big[i].many);
            n %= big[i].s;
            if (!n) return;
            vx_sb_raw(b, " ");
            lead = 0;
        }
    }
    if (n >= 1000) {
        below1000(b, (unsigned)(n / 1000), 0, 1);
        vx_sb_raw(b, "tausend");
        n %= 1000;
        lead = 0;
    }
    if (n == 1 && form != VX_EU_PLAIN)
        vx_sb_raw(b, form == VX_EU_FEM ? "eine" : "ein");
    else if (n)
        below1000(b, (unsigned)n, form == VX_EU_PLAIN, lead);
}

static void de_year(vx_sb *b, unsigned y) {
    if (y >= 1100 && y < 2000) {
        vx_sb_word(b, "");
        if (b->n && b->s[b->n - 1] != ' ') vx_sb_raw(b, " ");
        below1000(b, y / 100, 0, 1);
        vx_sb_raw(b, "hundert");
        if (y % 100) below1000(b, y % 100, 1, 1);
        return;
    }
    de_cardinal(b, y, VX_EU_PLAIN);
}

/* Ordinal stem + ending ("e", "en", "er"). */
static void de_ordinal(vx_sb *b, uint64_t n, const char *ending) {
    de_cardinal(b, n, VX_EU_PLAIN);
    unsigned r = (unsigned)(n % 100);
    if (r >= 1 && r < 20 && !(n >= 100 && r == 0)) {
        static const struct {
            const char *c, *s;
        } irr[] = {{"eins", "ers"}, {"drei", "drit"}, {"sieben", "sieb"}, {"acht", "ach"}};
        for (size_t i = 0; i < 4; i++) {
            size_t l = strlen(irr[i].c);
            if (b->n >= l && !strcmp(b->s + b->n - l, irr[i].c)) {
                vx_sb_chop(b, l);
                vx_sb_raw(b, irr[i].s);
                break;
            }
        }
        vx_sb_raw(b, "t");
    } else {
        vx_sb_raw(b, "st");
    }
    vx_sb_raw(b, ending);
}

static const char *const DAT[] = {"am",  "vom", "zum", "im",  "beim", "seit", "ab", "dem",
                                  "den", "des", "zur", "bis", "Am",   "Vom",  NULL};
static const char *const NOM[] = {"der", "die", "das", "Der", "Die", "Das", NULL};

static const char *ending_for(const vx_norm_ctx *c, size_t pos) {
    if (vx_eu_prev_is(c, pos, DAT)) return "en";
    if (vx_eu_prev_is(c, pos, NOM)) return "e";
    return NULL;
}

static size_t de_ord(vx_norm_ctx *c, size_t pos, const vx_num *n) {
    /* "der 3. Platz": only after an article and before a word, so "Ich bin 3." stays */
    size_t i = n->end;
    if (n->grouped || n->nip > 6 || i >= c->len || c->in[i] != '.') return 0;
    const char *e = ending_for(c, pos);
    size_t j = vx_norm_skip_sp(c, i + 1);
    if (!e || j == i + 1 || j >= c->len || !vx_norm_is_word_byte((unsigned char)c->in[j])) return 0;
    vx_sb b;
    vx_sb_init(&b);
    de_ordinal(&b, n->value, e);
    if (b.over) return 0;
    vx_norm_say(c, pos, i + 1, b.s);
    return i + 1 - pos;
}

static const char *MONTHS[] = {"Januar", "Februar", "März",      "April",   "Mai",      "Juni",
                               "Juli",   "August",  "September", "Oktober", "November", "Dezember"};

static void de_date(const vx_norm_ctx *c, size_t pos, vx_sb *b, int y, int m, int d) {
    const char *e = ending_for(c, pos);
    de_ordinal(b, (uint64_t)d, e ? e : "er");
    vx_sb_word(b, MONTHS[m - 1]);
    if (y >= 0) de_year(b, (unsigned)y);
}

static void de_clock(vx_sb *b, unsigned h, unsigned mi) {
    de_cardinal(b, h, VX_EU_MASC);
    vx_sb_word(b, "Uhr");
    if (mi) de_cardinal(b, mi, VX_EU_PLAIN);
}

static const vx_eu_currency CUR[] = {
    {"\xE2\x82\xAC", "Euro", "Euro", "Cent", "Cent", 0},
    {"EUR", "Euro", "Euro", "Cent", "Cent", 0},
    {"US$", "US-Dollar", "US-Dollar", "Cent", "Cent", 0},
    {"$", "Dollar", "Dollar", "Cent", "Cent", 0},
    {"USD", "US-Dollar", "US-Dollar", "Cent", "Cent", 0},
    {"\xC2\xA3", "Pfund", "Pfund", "Penny", "Pence", 0},
    {"GBP", "Pfund", "Pfund", "Penny", "Pence", 0},
    {"CHF", "Franken", "Franken", "Rappen", "Rappen", 0},
    {"Fr.", "Franken", "Franken", "Rappen", "Rappen", 0},
    {"\xC2\xA5", "Yen", "Yen", NULL, NULL, 0},
};

static const vx_eu_words W = {
    .cardinal = de_cardinal,
    .year = de_year,
    .ordinal = de_ord,
    .date = de_date,
    .clock = de_clock,
    .money = NULL,
    .months = {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
               "Oktober", "November", "Dezember"},
    .abbr = {"Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"},
    .point = "Komma",
    .minus = "minus",
    .percent = "Prozent",
    .hour_words = "Uhr",
    .day_marker = ".",
    .de_word = NULL,
    .h_times = 0,
    .cur = CUR,
    .ncur = sizeof CUR / sizeof CUR[0],
};

static size_t de_token(vx_norm_ctx *c, size_t pos) { return vx_eu_token(c, pos, &W); }

const vx_norm_lang vx_norm_de = {
    .code = "de",
    .decimal_sep = ',',
    .group_sep = '.',
    .w_dot = "Punkt",
    .w_slash = "Schrägstrich",
    .w_at = "at",
    .w_colon = "Doppelpunkt",
    .w_dash = "Bindestrich",
    .w_underscore = "Unterstrich",
    .token = de_token,
};
