/* Spanish rules (es): currency, times, dates ("2 de diciembre de 2026"), ordinals (1º,
 * 1.ª, 3.er), percent; shapes in norm_eu.c. Money reads "veinte euros con cincuenta
 * céntimos"; "un"/"una" agree with the currency ("veintiún euros", "una libra"). */
#include "text/norm_eu.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *ONES[] = {
    "cero",         "uno",         "dos",        "tres",        "cuatro",     "cinco",
    "seis",         "siete",       "ocho",       "nueve",       "diez",       "once",
    "doce",         "trece",       "catorce",    "quince",      "dieciséis",  "diecisiete",
    "dieciocho",    "diecinueve",  "veinte",     "veintiuno",   "veintidós",  "veintitrés",
    "veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho", "veintinueve"};
static const char *TENS[] = {"",          "",        "",        "treinta", "cuarenta",
                             "cincuenta", "sesenta", "setenta", "ochenta", "noventa"};
static const char *HUNDREDS[] = {
    "",           "ciento",      "doscientos",  "trescientos", "cuatrocientos",
    "quinientos", "seiscientos", "setecientos", "ochocientos", "novecientos"};

/* form: PLAIN "uno", MASC "un", FEM "una"; only the final unit agrees. */
static void unit_word(vx_sb *b, unsigned v, int form) {
    if (v == 1)
        vx_sb_word(b, form == VX_EU_PLAIN ? "uno" : form == VX_EU_FEM ? "una" : "un");
    else if (v == 21)
        vx_sb_word(b, form == VX_EU_PLAIN ? "veintiuno"
                      : form == VX_EU_FEM ? "veintiuna"
                                          : "veintiún");
    else
        vx_sb_word(b, ONES[v]);
}

static void below1000(vx_sb *b, unsigned v, int form) {
    if (v >= 100) {
        unsigned h = v / 100;
        v %= 100;
        if (h == 1 && !v) {
            vx_sb_word(b, "cien");
            return;
        }
        if (form == VX_EU_FEM && h >= 2) {
            char w[32];
            snprintf(w, sizeof w, "%.*sas", (int)strlen(HUNDREDS[h]) - 2, HUNDREDS[h]);
            vx_sb_word(b, w);
        } else
            vx_sb_word(b, HUNDREDS[h]);
    }
    if (!v) return;
    if (v < 30) {
        unit_word(b, v, form);
        return;
    }
    vx_sb_word(b, TENS[v / 10]);
    if (v % 10) {
        vx_sb_word(b, "y");
        unit_word(b, v % 10, form);
    }
}

static void es_cardinal(vx_sb *b, uint64_t n, int form) {
    if (n == 0) {
        vx_sb_word(b, "cero");
        return;
    }
    if (n >= 1000000) {
        uint64_t q = n / 1000000;
        if (q == 1)
            vx_sb_word(b, "un millón");
        else {
            es_cardinal(b, q, VX_EU_MASC);
            vx_sb_word(b, "millones");
        }
        n %= 1000000;
        if (!n) return;
    }
    if (n >= 1000) {
        unsigned t = (unsigned)(n / 1000);
        if (t > 1) below1000(b, t, form == VX_EU_FEM ? VX_EU_FEM : VX_EU_MASC);
        vx_sb_word(b, "mil");
        n %= 1000;
    }
    if (n) below1000(b, (unsigned)n, form);
}

static void es_year(vx_sb *b, unsigned y) { es_cardinal(b, y, VX_EU_PLAIN); }

static void es_ordinal(vx_sb *b, uint64_t n, int fem, int apocope) {
    static const char *u[] = {"",       "primero", "segundo", "tercero", "cuarto",
                              "quinto", "sexto",   "séptimo", "octavo",  "noveno"};
    static const char *t[] = {
        "",           "décimo",       "vigésimo",   "trigésimo", "cuadragésimo", "quincuagésimo",
        "sexagésimo", "septuagésimo", "octogésimo", "nonagésimo"};
    if (n == 0 || n > 100) {
        es_cardinal(b, n, fem ? VX_EU_FEM : VX_EU_PLAIN);
        return;
    }
    char w[64];
    if (n == 100)
        snprintf(w, sizeof w, "centésimo");
    else if (n == 11)
        snprintf(w, sizeof w, "undécimo");
    else if (n == 12)
        snprintf(w, sizeof w, "duodécimo");
    else if (n < 10)
        snprintf(w, sizeof w, "%s", u[n]);
    else if (n % 10 == 0)
        snprintf(w, sizeof w, "%s", t[n / 10]);
    else
        snprintf(w, sizeof w, "%s %s", t[n / 10], u[n % 10]);
    size_t l = strlen(w);
    if (fem) {
        /* every word's final o becomes a */
        for (size_t i = 0; i < l; i++)
            if (w[i] == 'o' && (i + 1 == l || w[i + 1] == ' ')) w[i] = 'a';
    } else if (apocope && (n % 10 == 1 || n % 10 == 3) && l > 1 && w[l - 1] == 'o') {
        w[l - 1] = 0; /* primer, tercer */
    }
    vx_sb_word(b, w);
}

/* 1º 1.º 1ª 1.ª 1er 1.er 3er (º U+00BA, ª U+00AA; ° U+00B0 is a common typo for º) */
static size_t es_ord(vx_norm_ctx *c, size_t pos, const vx_num *n) {
    static const struct {
        const char *m;
        int fem, apoc;
    } mk[] = {{".\xC2\xBA", 0, 0}, {".\xC2\xAA", 1, 0}, {"\xC2\xBA", 0, 0},
              {"\xC2\xAA", 1, 0},  {".er", 0, 1},       {"er", 0, 1},
              {".\xC2\xB0", 0, 0}, {".os", 0, 0},       {".as", 1, 0}};
    size_t i = n->end;
    if (n->grouped || n->nip > 3) return 0;
    for (size_t k = 0; k < sizeof mk / sizeof mk[0]; k++) {
        size_t l = strlen(mk[k].m);
        if (i + l > c->len || memcmp(c->in + i, mk[k].m, l) || !vx_norm_boundary_after(c, i + l))
            continue;
        vx_sb b;
        vx_sb_init(&b);
        es_ordinal(&b, n->value, mk[k].fem, mk[k].apoc);
        if (b.over) return 0;
        vx_norm_say(c, pos, i + l, b.s);
        return i + l - pos;
    }
    return 0;
}

static const char *MONTHS[] = {"enero",      "febrero", "marzo",     "abril",
                               "mayo",       "junio",   "julio",     "agosto",
                               "septiembre", "octubre", "noviembre", "diciembre"};

static void es_date(const vx_norm_ctx *c, size_t pos, vx_sb *b, int y, int m, int d) {
    (void)c;
    (void)pos;
    if (d == 1)
        vx_sb_word(b, "uno");
    else
        es_cardinal(b, (uint64_t)d, VX_EU_PLAIN);
    vx_sb_word(b, "de");
    vx_sb_word(b, MONTHS[m - 1]);
    if (y >= 0) {
        vx_sb_word(b, "de");
        es_year(b, (unsigned)y);
    }
}

static void es_clock(vx_sb *b, unsigned h, unsigned mi) {
    es_cardinal(b, h, VX_EU_FEM);
    if (!mi) {
        vx_sb_word(b, "en punto");
        return;
    }
    vx_sb_word(b, "y");
    es_cardinal(b, mi, VX_EU_PLAIN);
}

static const vx_eu_currency CUR[] = {
    {"\xE2\x82\xAC", "euro", "euros", "céntimo", "céntimos", 0},
    {"EUR", "euro", "euros", "céntimo", "céntimos", 0},
    {"US$", "dólar estadounidense", "dólares estadounidenses", "centavo", "centavos", 0},
    {"$", "dólar", "dólares", "centavo", "centavos", 0},
    {"USD", "dólar estadounidense", "dólares estadounidenses", "centavo", "centavos", 0},
    {"\xC2\xA3", "libra", "libras", "penique", "peniques", 1},
    {"GBP", "libra esterlina", "libras esterlinas", "penique", "peniques", 1},
    {"MXN", "peso mexicano", "pesos mexicanos", "centavo", "centavos", 0},
    {"\xC2\xA5", "yen", "yenes", NULL, NULL, 0},
};

static void es_money(vx_sb *b, const vx_num *n, const vx_eu_currency *cu);

static const vx_eu_words W = {
    .cardinal = es_cardinal,
    .year = es_year,
    .ordinal = es_ord,
    .date = es_date,
    .clock = es_clock,
    .money = es_money,
    .months = {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
               "septiembre", "octubre", "noviembre", "diciembre"},
    .abbr = {NULL},
    .point = "coma",
    .minus = "menos",
    .percent = "por ciento",
    .hour_words = "h",
    .day_marker = NULL,
    .de_word = "de",
    .h_times = 0,
    .cur = CUR,
    .ncur = sizeof CUR / sizeof CUR[0],
};

static void es_money(vx_sb *b, const vx_num *n, const vx_eu_currency *cu) {
    vx_eu_money_default(b, n, cu, &W, "con");
}

static size_t es_token(vx_norm_ctx *c, size_t pos) { return vx_eu_token(c, pos, &W); }

const vx_norm_lang vx_norm_es = {
    .code = "es",
    .decimal_sep = ',',
    .group_sep = '.',
    .w_dot = "punto",
    .w_slash = "barra",
    .w_at = "arroba",
    .w_colon = "dos puntos",
    .w_dash = "guion",
    .w_underscore = "guion bajo",
    .token = es_token,
};
