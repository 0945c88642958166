/* French rules (fr): currency, times (14h30, 14:30), dates, ordinals (1er, 2e, 3ème),
 * percent; shapes in norm_eu.c. Numbers follow the 1990 spelling reform only where it
 * does not change pronunciation: we keep the traditional hyphens and "et un". */
#include "text/norm_eu.h"
#include <string.h>
#include <stdio.h>
#include <strings.h>

static const char *ONES[] = {"zéro",   "un",    "deux",     "trois",    "quatre",
                             "cinq",   "six",   "sept",     "huit",     "neuf",
                             "dix",    "onze",  "douze",    "treize",   "quatorze",
                             "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf"};
static const char *TENS[] = {"", "", "vingt", "trente", "quarante", "cinquante", "soixante"};

/* 0 < v < 100; plural_ok: "quatre-vingts" takes its s only at the end of a number. */
static void below100(vx_sb *b, unsigned v, int fem, int end) {
    char w[64];
    if (v < 20) {
        snprintf(w, sizeof w, "%s", v == 1 && fem ? "une" : ONES[v]);
    } else if (v < 70) {
        unsigned u = v % 10;
        if (!u)
            snprintf(w, sizeof w, "%s", TENS[v / 10]);
        else if (u == 1)
            snprintf(w, sizeof w, "%s et %s", TENS[v / 10], fem ? "une" : "un");
        else
            snprintf(w, sizeof w, "%s-%s", TENS[v / 10], ONES[u]);
    } else if (v < 80) {
        if (v == 71)
            snprintf(w, sizeof w, "soixante et onze");
        else
            snprintf(w, sizeof w, "soixante-%s", ONES[v - 60]);
    } else {
        unsigned r = v - 80;
        if (!r)
            snprintf(w, sizeof w, "%s", end ? "quatre-vingts" : "quatre-vingt");
        else
            snprintf(w, sizeof w, "quatre-vingt-%s", r == 1 && fem ? "une" : ONES[r]);
    }
    vx_sb_word(b, w);
}

static void below1000(vx_sb *b, unsigned v, int fem, int end) {
    if (v >= 100) {
        unsigned h = v / 100, r = v % 100;
        if (h > 1) vx_sb_word(b, ONES[h]);
        vx_sb_word(b, h > 1 && !r && end ? "cents" : "cent");
        v = r;
    }
    if (v) below100(b, v, fem, end);
}

static void fr_cardinal(vx_sb *b, uint64_t n, int form) {
    int fem = form == VX_EU_FEM;
    if (n == 0) {
        vx_sb_word(b, "zéro");
        return;
    }
    static const struct {
        uint64_t s;
        const char *one, *many;
    } big[] = {{1000000000ull, "milliard", "milliards"}, {1000000ull, "million", "millions"}};
    for (int i = 0; i < 2; i++) {
        if (n >= big[i].s) {
            uint64_t q = n / big[i].s;
            if (q >= 1000)
                fr_cardinal(b, q, VX_EU_PLAIN);
            else
                below1000(b, (unsigned)q, 0, 1);
            vx_sb_word(b, q == 1 ? big[i].one : big[i].many);
            n %= big[i].s;
        }
    }
    if (n >= 1000) {
        unsigned t = (unsigned)(n / 1000);
        if (t > 1) below1000(b, t, 0, 0);
        vx_sb_word(b, "mille");
        n %= 1000;
    }
    if (n) below1000(b, (unsigned)n, fem, 1);
}

static void fr_year(vx_sb *b, unsigned y) { fr_cardinal(b, y, VX_EU_PLAIN); }

static void fr_ordinal(vx_sb *b, uint64_t n, int fem) {
    if (n == 1) {
        vx_sb_word(b, fem ? "première" : "premier");
        return;
    }
    fr_cardinal(b, n, VX_EU_PLAIN);
    size_t s = b->n;
    while (s > 0 && b->s[s - 1] != ' ' && b->s[s - 1] != '-') s--;
    const char *w = b->s + s;
    size_t l = strlen(w);
    if (!strcmp(w, "cinq"))
        vx_sb_raw(b, "uième");
    else if (!strcmp(w, "neuf")) {
        vx_sb_chop(b, 1);
        vx_sb_raw(b, "vième");
    } else if (l && w[l - 1] == 'e') {
        vx_sb_chop(b, 1);
        vx_sb_raw(b, "ième");
    } else if (l && w[l - 1] == 's' && (!strcmp(w, "vingts") || !strcmp(w, "cents"))) {
        vx_sb_chop(b, 1);
        vx_sb_raw(b, "ième");
    } else
        vx_sb_raw(b, "ième");
}

/* 1er 1re 1ère 2e 2ème 2nd 3ᵉ (the marker must end the word) */
static size_t fr_ord(vx_norm_ctx *c, size_t pos, const vx_num *n) {
    static const struct {
        const char *m;
        int fem, first_only;
    } mk[] = {{"er", 0, 1}, {"re", 1, 1},           {"ère", 1, 1}, {"ème", 0, 0}, {"ième", 0, 0},
              {"e", 0, 0},  {"\xE1\xB5\x89", 0, 0}, {"nd", 0, 0},  {"nde", 1, 0}};
    size_t i = n->end;
    if (n->grouped || n->nip > 6) return 0;
    for (size_t k = sizeof mk / sizeof mk[0]; k-- > 0;) {
        size_t l = strlen(mk[k].m);
        if (i + l > c->len || memcmp(c->in + i, mk[k].m, l) || !vx_norm_boundary_after(c, i + l))
            continue;
        if (mk[k].first_only && n->value != 1) continue;
        if ((!strcmp(mk[k].m, "nd") || !strcmp(mk[k].m, "nde")) && n->value != 2) continue;
        vx_sb b;
        vx_sb_init(&b);
        if (!strcmp(mk[k].m, "nd") || !strcmp(mk[k].m, "nde"))
            vx_sb_word(&b, mk[k].fem ? "seconde" : "second");
        else
            fr_ordinal(&b, n->value, mk[k].fem);
        if (b.over) return 0;
        vx_norm_say(c, pos, i + l, b.s);
        return i + l - pos;
    }
    return 0;
}

static const char *MONTHS[] = {"janvier",   "février", "mars",     "avril",
                               "mai",       "juin",    "juillet",  "août",
                               "septembre", "octobre", "novembre", "décembre"};

static void fr_date(const vx_norm_ctx *c, size_t pos, vx_sb *b, int y, int m, int d) {
    (void)c;
    (void)pos;
    if (d == 1)
        vx_sb_word(b, "premier");
    else
        fr_cardinal(b, (uint64_t)d, VX_EU_PLAIN);
    vx_sb_word(b, MONTHS[m - 1]);
    if (y >= 0) fr_year(b, (unsigned)y);
}

static void fr_clock(vx_sb *b, unsigned h, unsigned mi) {
    if (h == 0 && mi == 0) {
        vx_sb_word(b, "minuit");
        return;
    }
    fr_cardinal(b, h, VX_EU_FEM);
    vx_sb_word(b, h == 1 ? "heure" : "heures");
    if (mi) fr_cardinal(b, mi, VX_EU_FEM);
}

static const vx_eu_currency CUR[] = {
    {"\xE2\x82\xAC", "euro", "euros", "centime", "centimes", 0},
    {"EUR", "euro", "euros", "centime", "centimes", 0},
    {"$", "dollar", "dollars", "cent", "cents", 0},
    {"USD", "dollar américain", "dollars américains", "cent", "cents", 0},
    {"\xC2\xA3", "livre", "livres", "penny", "pence", 1},
    {"GBP", "livre sterling", "livres sterling", "penny", "pence", 1},
    {"CHF", "franc suisse", "francs suisses", "centime", "centimes", 0},
    {"\xC2\xA5", "yen", "yens", NULL, NULL, 0},
};

static void fr_money(vx_sb *b, const vx_num *n, const vx_eu_currency *cu);

static const vx_eu_words W = {
    .cardinal = fr_cardinal,
    .year = fr_year,
    .ordinal = fr_ord,
    .date = fr_date,
    .clock = fr_clock,
    .money = fr_money,
    .months = {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
               "octobre", "novembre", "décembre"},
    .abbr = {"janv", "févr", "mars", "avr", "mai", "juin", "juil", "août", "sept", "oct", "nov",
             "déc"},
    .point = "virgule",
    .minus = "moins",
    .percent = "pour cent",
    .hour_words = NULL,
    .day_marker = "er",
    .de_word = NULL,
    .h_times = 1,
    .cur = CUR,
    .ncur = sizeof CUR / sizeof CUR[0],
};

static void fr_money(vx_sb *b, const vx_num *n, const vx_eu_currency *cu) {
    vx_eu_money_default(b, n, cu, &W, NULL);
}

static size_t fr_token(vx_norm_ctx *c, size_t pos) { return vx_eu_token(c, pos, &W); }

const vx_norm_lang vx_norm_fr = {
    .code = "fr",
    .decimal_sep = ',',
    .group_sep = ' ',
    .w_dot = "point",
    .w_slash = "barre oblique",
    .w_at = "arobase",
    .w_colon = "deux-points",
    .w_dash = "tiret",
    .w_underscore = "tiret bas",
    .token = fr_token,
};
