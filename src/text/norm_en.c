/* English normalization rules (en-us, en-gb): see norm.h for the module interface.
 *
 * Choices (where readers differ, we pick the common US/UK broadcast reading):
 *  - en-us: no "and" inside numbers, numeric dates month first (12/02/2026 = Dec 2);
 *    en-gb: "one hundred and one", day first (12/02/2026 = 12 Feb), "oh" for a 0 digit
 *    in phone numbers.
 *  - A bare four-digit number 1100..2099 without separators is read as a year
 *    ("1999" -> nineteen ninety-nine), the way most written four-digit numbers are meant.
 *  - Times: "8:00 pm" -> eight PM, "8:05" -> eight oh five, "14:00" -> fourteen hundred.
 *  - Roman numerals only in context: after a regnal name (Henry VIII -> Henry the
 *    eighth), after words like Chapter/Part/World War (cardinal), or two or more of
 *    I/V/X after any capitalized word (Final Fantasy VII -> seven).
 *  - Title abbreviations before a name lose their dot (Dr. Smith: no sentence break);
 *    others keep it, so "etc." at a sentence end still ends the sentence.
 */
#include "text/norm_en.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------- words */

typedef struct abbrev {
    const char *a, *say;
    int kind;
} abbrev;
enum {
    AB_TITLE = 1, /* before a name or number: the dot goes (no sentence break) */
    AB_KEEP = 2,  /* the dot stays, so a sentence can end there */
    AB_NODOT = 4, /* also without a dot */
    AB_ANY = 8    /* the dot goes, whatever follows ("e.g. this") */
};
static const abbrev ABBR[] = {
    {"Dr", "Doctor", AB_TITLE | AB_NODOT},
    {"Mr", "Mister", AB_TITLE | AB_NODOT},
    {"Mrs", "Missus", AB_TITLE | AB_NODOT},
    {"Ms", "Miz", AB_TITLE | AB_NODOT},
    {"Prof", "Professor", AB_TITLE},
    {"Mt", "Mount", AB_TITLE},
    {"Ft", "Fort", AB_TITLE},
    {"Gen", "General", AB_TITLE},
    {"Capt", "Captain", AB_TITLE},
    {"Lt", "Lieutenant", AB_TITLE},
    {"Sgt", "Sergeant", AB_TITLE},
    {"Col", "Colonel", AB_TITLE},
    {"Gov", "Governor", AB_TITLE},
    {"Sen", "Senator", AB_TITLE},
    {"Rep", "Representative", AB_TITLE},
    {"Rev", "Reverend", AB_TITLE},
    {"Hon", "Honorable", AB_TITLE},
    {"Pres", "President", AB_TITLE},
    {"St", "Saint", AB_TITLE},
    {"No", "number", AB_TITLE},
    {"no", "number", AB_TITLE},
    {"Nos", "numbers", AB_TITLE},
    {"pp", "pages", AB_TITLE},
    {"p", "page", AB_TITLE},
    {"fig", "figure", AB_TITLE},
    {"Fig", "figure", AB_TITLE},
    {"vol", "volume", AB_TITLE},
    {"Vol", "volume", AB_TITLE},
    {"ch", "chapter", AB_TITLE},
    {"Ch", "chapter", AB_TITLE},
    {"approx", "approximately", AB_ANY},
    {"e.g", "for example", AB_ANY},
    {"i.e", "that is", AB_ANY},
    {"vs", "versus", AB_ANY | AB_NODOT},
    {"etc", "et cetera", AB_KEEP},
    {"Jr", "Junior", AB_KEEP},
    {"Sr", "Senior", AB_KEEP},
    {"Inc", "Incorporated", AB_KEEP},
    {"Ltd", "Limited", AB_KEEP},
    {"Corp", "Corporation", AB_KEEP},
    {"Co", "Company", AB_KEEP},
    {"Ave", "Avenue", AB_KEEP},
    {"Blvd", "Boulevard", AB_KEEP},
    {"Rd", "Road", AB_KEEP},
    {"Dept", "Department", AB_KEEP},
    {"Univ", "University", AB_KEEP},
    {"Bros", "Brothers", AB_KEEP},
};

static int next_is_name_or_number(const vx_norm_ctx *c, size_t pos) {
    size_t i = vx_norm_skip_sp(c, pos);
    if (i == pos || i >= c->len) return 0;
    unsigned char ch = (unsigned char)c->in[i];
    return isupper(ch) || isdigit(ch) || ch == '#' || ch == '&';
}

static size_t abbreviation(vx_norm_ctx *c, size_t pos) {
    for (size_t k = 0; k < sizeof ABBR / sizeof ABBR[0]; k++) {
        const abbrev *ab = &ABBR[k];
        size_t l = strlen(ab->a);
        if (pos + l > c->len || memcmp(c->in + pos, ab->a, l)) continue;
        int dot = pos + l < c->len && c->in[pos + l] == '.';
        if (!dot && !(ab->kind & AB_NODOT)) continue;
        if (!dot && !vx_norm_boundary_after(c, pos + l)) continue;
        size_t e = pos + l + (size_t)dot;
        if (ab->kind & AB_ANY) {
            vx_norm_say(c, pos, e, ab->say);
            return e - pos;
        }
        if (ab->kind & AB_TITLE) {
            if (!next_is_name_or_number(c, e)) continue;
            /* "St." after a name is a street: "Main St. Station" stays "Saint"? No: */
            const char *say = ab->say;
            size_t pl, ph;
            if (!strcmp(ab->a, "St") && vx_norm_prev_word(c, pos, &pl, &ph) &&
                isupper((unsigned char)c->in[pl]))
                say = "Street";
            if ((!strcmp(ab->a, "No") || !strcmp(ab->a, "no")) &&
                !isdigit((unsigned char)c->in[vx_norm_skip_sp(c, e)]))
                continue;
            if ((!strcmp(ab->a, "p") || !strcmp(ab->a, "pp")) &&
                (!dot || !isdigit((unsigned char)c->in[vx_norm_skip_sp(c, e)])))
                continue;
            vx_norm_say(c, pos, e, say);
            return e - pos;
        }
        /* AB_KEEP: the word is said, the dot stays as written */
        vx_norm_say(c, pos, pos + l, ab->say);
        return l;
    }
    return 0;
}

static const char *REGNAL[] = {
    "Henry",     "Edward",    "George",    "Elizabeth",   "Charles",   "Louis",     "William",
    "James",     "Richard",   "John",      "Mary",        "Victoria",  "Peter",     "Paul",
    "Pius",      "Leo",       "Benedict",  "Gregory",     "Alexander", "Nicholas",  "Frederick",
    "Philip",    "Ferdinand", "Catherine", "Napoleon",    "Innocent",  "Clement",   "Urban",
    "Boniface",  "Ivan",      "Wilhelm",   "Constantine", "Ramesses",  "Anne",      "Robert",
    "David",     "Alfonso",   "Carlos",    "Juan",        "Felipe",    "Gustav",    "Olaf",
    "Christian", "Harald",    "Haakon",    "Rama",        "Mehmed",    "Selim",     "Otto",
    "Rudolf",    "Francis",   "Joseph",    "Leopold",     "Sixtus",    "Stephen",   "Boleslaw",
    "Casimir",   "Sigismund", "Umberto",   "Vittorio",    "Ludwig",    "Friedrich", "Karl",
    "Franz",     "Juliana",   "Margrethe", "Isabella",    "Pedro",     "Manuel",    "Baldwin",
    "Amenhotep", "Thutmose",  "Ptolemy",   "Antiochus",   "Darius",    "Xerxes",    "Cyrus",
    NULL};
static const char *ROMAN_CARD[] = {"Chapter", "Part",    "Volume",   "Vol",      "Book",  "Act",
                                   "Scene",   "Section", "Article",  "Appendix", "Phase", "Stage",
                                   "Episode", "Season",  "Round",    "Title",    "Class", "Type",
                                   "Level",   "Grade",   "Mark",     "Schedule", "Canto", "Psalm",
                                   "Plate",   "Figure",  "Table",    "War",      "Bowl",  "Apollo",
                                   "Vatican", "Council", "Division", "Corps",    "Army",  "Fleet",
                                   "Gemini",  "Saturn",  "Rocky",    "Star",     NULL};

static int word_in(const vx_norm_ctx *c, size_t lo, size_t hi, const char **list) {
    for (int i = 0; list[i]; i++)
        if (strlen(list[i]) == hi - lo && !memcmp(c->in + lo, list[i], hi - lo)) return 1;
    return 0;
}

static size_t roman(vx_norm_ctx *c, size_t pos) {
    size_t e = pos;
    while (e < c->len && strchr("IVXLCDM", c->in[e]) && c->in[e]) e++;
    if (e == pos || !vx_norm_boundary_after(c, e)) return 0;
    int v = vx_roman_value(c->in + pos, e - pos);
    if (!v) return 0;
    size_t pl, ph;
    if (!vx_norm_prev_word(c, pos, &pl, &ph)) return 0;
    int regnal = word_in(c, pl, ph, REGNAL);
    int card = word_in(c, pl, ph, ROMAN_CARD);
    int ivx = 1;
    for (size_t i = pos; i < e; i++)
        if (!strchr("IVX", c->in[i])) ivx = 0;
    if (!regnal && !card) {
        if (!(ivx && e - pos >= 2 && v <= 39 && isupper((unsigned char)c->in[pl]))) return 0;
        /* an all-capitals neighbour ("THE END II"?) says nothing about context */
        int caps = 1;
        for (size_t i = pl; i < ph; i++)
            if (!isupper((unsigned char)c->in[i])) caps = 0;
        if (caps) return 0;
        card = 1;
    }
    if (regnal && !card && e - pos == 1 && c->in[pos] == 'I') {
        /* "Elizabeth I" yes, "Mary I know" no: the next word must not go on the clause */
        size_t n = vx_norm_skip_sp(c, e);
        if (n < c->len && islower((unsigned char)c->in[n])) return 0;
    }
    vx_sb b;
    vx_sb_init(&b);
    if (card)
        vx_en_cardinal(&b, (uint64_t)v, vx_en_gb(c));
    else {
        vx_sb_word(&b, "the");
        vx_en_ordinal(&b, (uint64_t)v, vx_en_gb(c));
    }
    if (b.over) return 0;
    vx_norm_say(c, pos, e, b.s);
    return e - pos;
}

/* "December 2, 2026", "Dec. 2nd", "March 3rd", "December 2026" */
static size_t date_month_first(vx_norm_ctx *c, size_t pos) {
    int m;
    size_t k = vx_en_month_at(c, pos, &m);
    if (!k) return 0;
    size_t i = vx_norm_skip_sp(c, pos + k);
    if (i == pos + k) return 0;
    uint64_t d;
    size_t dd = vx_digits(c, i, &d);
    if (!dd || dd > 4) return 0;
    size_t e = i + dd;
    vx_sb b;
    vx_sb_init(&b);
    if (dd == 4) { /* "December 2026" */
        if (!vx_norm_boundary_after(c, e)) return 0;
        vx_sb_word(&b, vx_en_months[m - 1]);
        vx_en_year(&b, (unsigned)d, vx_en_gb(c));
    } else {
        if (e + 2 <= c->len && isalpha((unsigned char)c->in[e]) &&
            vx_en_ord_suffix_ok(d, c->in + e) && vx_norm_boundary_after(c, e + 2))
            e += 2;
        if (!vx_norm_boundary_after(c, e) || !vx_en_valid_date(2000, m, (int)d)) return 0;
        int y = -1;
        size_t j = e;
        if (j < c->len && c->in[j] == ',') j++;
        j = vx_norm_skip_sp(c, j);
        uint64_t yv;
        if (j > e && vx_digits(c, j, &yv) == 4 && vx_norm_boundary_after(c, j + 4)) {
            y = (int)yv;
            e = j + 4;
        }
        vx_en_say_date(&b, y, m, (int)d, 0, vx_en_gb(c));
    }
    if (b.over) return 0;
    vx_norm_say(c, pos, e, b.s);
    return e - pos;
}

/* Symbols: & @ # + = and friends. */
static size_t symbol(vx_norm_ctx *c, size_t pos) {
    static const struct {
        const char *s, *w;
    } t[] = {{"+/-", "plus or minus"},
             {"&", "and"},
             {"@", "at"},
             {"=", "equals"},
             {"+", "plus"},
             {"\xC3\x97", "times"},
             {"\xC3\xB7", "divided by"},
             {"\xC2\xB1", "plus or minus"},
             {"\xE2\x89\x88", "approximately"},
             {"\xE2\x89\xA0", "is not equal to"},
             {"\xE2\x89\xA4", "is less than or equal to"},
             {"\xE2\x89\xA5", "is greater than or equal to"},
             {"\xC2\xA9", "copyright"},
             {"\xC2\xAE", "registered"},
             {"\xE2\x84\xA2", "trademark"},
             {"\xC2\xA7", "section"},
             {"%", "percent"},
             {"\xC2\xB0", "degrees"}};
    char ch = c->in[pos];
    if (ch == '#' && pos + 1 < c->len) {
        if (isdigit((unsigned char)c->in[pos + 1])) {
            vx_norm_say(c, pos, pos + 1, "number");
            return 1;
        }
        if (isalpha((unsigned char)c->in[pos + 1])) {
            vx_norm_say(c, pos, pos + 1, "hashtag");
            return 1;
        }
        return 0;
    }
    if (ch == '~' && pos + 1 < c->len && isdigit((unsigned char)c->in[pos + 1])) {
        vx_norm_say(c, pos, pos + 1, "about");
        return 1;
    }
    if ((ch == '<' || ch == '>') && pos > 0 && pos + 1 < c->len && c->in[pos - 1] == ' ' &&
        c->in[pos + 1] == ' ') {
        vx_norm_say(c, pos, pos + 1, ch == '<' ? "less than" : "greater than");
        return 1;
    }
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t l = strlen(t[i].s);
        if (pos + l <= c->len && !memcmp(c->in + pos, t[i].s, l)) {
            /* "+" and "=" inside a run of them ("C++", "==") still read, once each */
            vx_norm_say(c, pos, pos + l, t[i].w);
            return l;
        }
    }
    return 0;
}

static size_t en_token(vx_norm_ctx *c, size_t pos) {
    unsigned char ch = (unsigned char)c->in[pos];
    size_t k;
    /* "x86_64", "snake_case_2": an underscore joins words */
    int start =
        pos == 0 || (!vx_norm_is_word_byte((unsigned char)c->in[pos - 1]) && c->in[pos - 1] != '_');
    if (start) {
        if ((k = vx_norm_url_email(c, pos))) return k;
        if ((k = vx_en_currency_prefix(c, pos))) return k;
        if (isdigit(ch) || ((ch == '-' || ch == 0xE2) && pos + 1 < c->len)) {
            if ((k = vx_en_numeric(c, pos))) return k;
        }
        if (ch == '(' && (k = vx_en_phone(c, pos))) return k;
        if (ch == '+' && (k = vx_en_phone(c, pos))) return k;
        if (ch == 'v' || ch == 'V') {
            if ((k = vx_en_version(c, pos))) return k;
        }
        if (isupper(ch)) {
            if ((k = date_month_first(c, pos))) return k;
            if ((k = roman(c, pos))) return k;
        }
        if (isalpha(ch) && (k = abbreviation(c, pos))) return k;
        unsigned vn, vd;
        if ((k = vx_en_vulgar_at(c, pos, &vn, &vd))) {
            vx_sb b;
            vx_sb_init(&b);
            vx_en_say_fraction(&b, 0, 0, vn, vd, vx_en_gb(c));
            vx_norm_say(c, pos, pos + k, b.s);
            return k;
        }
    }
    if (!isalnum(ch)) return symbol(c, pos);
    return 0;
}

const vx_norm_lang vx_norm_en = {
    .code = "en",
    .decimal_sep = '.',
    .group_sep = ',',
    .w_dot = "dot",
    .w_slash = "slash",
    .w_at = "at",
    .w_colon = "colon",
    .w_dash = "dash",
    .w_underscore = "underscore",
    .token = en_token,
};
