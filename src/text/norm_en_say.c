/* English normalization, the words for numbers: cardinals, ordinals, years, money and
 * units, with the tables they read (months, currencies, units). See norm_en.h. */
#include "text/norm_en.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *ONES[] = {"zero",    "one",     "two",       "three",    "four",
                             "five",    "six",     "seven",     "eight",    "nine",
                             "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                             "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
static const char *TENS[] = {"",      "",      "twenty",  "thirty", "forty",
                             "fifty", "sixty", "seventy", "eighty", "ninety"};

/* 0 < v < 1000; and_ok: British "and" before the tens when there is more before. */
static void below1000(vx_sb *b, unsigned v, int gbr, int and_ok) {
    char w[48];
    if (v >= 100) {
        vx_sb_word(b, ONES[v / 100]);
        vx_sb_word(b, "hundred");
        v %= 100;
        if (v && gbr) vx_sb_word(b, "and");
    } else if (v && and_ok && gbr) {
        vx_sb_word(b, "and");
    }
    if (v >= 20) {
        if (v % 10)
            snprintf(w, sizeof w, "%s-%s", TENS[v / 10], ONES[v % 10]);
        else
            snprintf(w, sizeof w, "%s", TENS[v / 10]);
        vx_sb_word(b, w);
    } else if (v) {
        vx_sb_word(b, ONES[v]);
    }
}

void vx_en_cardinal(vx_sb *b, uint64_t v, int gbr) {
    static const struct {
        uint64_t s;
        const char *w;
    } sc[] = {{1000000000000ull, "trillion"},
              {1000000000ull, "billion"},
              {1000000ull, "million"},
              {1000ull, "thousand"}};
    if (v == 0) {
        vx_sb_word(b, "zero");
        return;
    }
    if (v >= 1000000000000000ull) { /* beyond trillions: digit by digit */
        char d[24];
        int k = snprintf(d, sizeof d, "%llu", (unsigned long long)v);
        for (int i = 0; i < k; i++) vx_sb_word(b, ONES[d[i] - '0']);
        return;
    }
    int more = 0;
    for (int i = 0; i < 4; i++) {
        if (v >= sc[i].s) {
            below1000(b, (unsigned)(v / sc[i].s), gbr, 0);
            vx_sb_word(b, sc[i].w);
            v %= sc[i].s;
            more = 1;
        }
    }
    if (v) below1000(b, (unsigned)v, gbr, more);
}

void vx_en_digit_words(vx_sb *b, const char *d, size_t n, int oh) {
    for (size_t i = 0; i < n; i++) vx_sb_word(b, d[i] == '0' && oh ? "oh" : ONES[d[i] - '0']);
}

/* The integer part: a cardinal, or digit by digit when it is too long or has a leading
 * zero ("007"). */
static void int_part(vx_sb *b, const vx_num *n, int gbr) {
    if (n->nip == 0) return;
    if (n->nip > 15 || (n->nip > 1 && n->ip[0] == '0' && !n->grouped))
        vx_en_digit_words(b, n->ip, n->nip, 0);
    else
        vx_en_cardinal(b, n->value, gbr);
}

void vx_en_number(vx_sb *b, const vx_num *n, int gbr) {
    if (n->neg) vx_sb_word(b, "minus");
    if (n->nip)
        int_part(b, n, gbr);
    else
        vx_sb_word(b, "zero");
    if (n->has_frac) {
        vx_sb_word(b, "point");
        vx_en_digit_words(b, n->fp, n->nfp, 0);
    }
}

/* Turn the last word of b into its ordinal ("twenty-one" -> "twenty-first"). */
static void ordinalize(vx_sb *b) {
    static const struct {
        const char *c, *o;
    } irr[] = {{"one", "first"},    {"two", "second"}, {"three", "third"},   {"five", "fifth"},
               {"eight", "eighth"}, {"nine", "ninth"}, {"twelve", "twelfth"}};
    size_t s = b->n;
    while (s > 0 && b->s[s - 1] != ' ' && b->s[s - 1] != '-') s--;
    const char *w = b->s + s;
    for (size_t i = 0; i < sizeof irr / sizeof irr[0]; i++)
        if (!strcmp(w, irr[i].c)) {
            vx_sb_chop(b, strlen(w));
            vx_sb_raw(b, irr[i].o);
            return;
        }
    size_t k = strlen(w);
    if (k && w[k - 1] == 'y') {
        vx_sb_chop(b, 1);
        vx_sb_raw(b, "ieth");
        return;
    }
    vx_sb_raw(b, "th");
}

/* Plural of the last word ("nineties", "hundreds"). */
void vx_en_pluralize(vx_sb *b) {
    if (b->n && b->s[b->n - 1] == 'y') {
        vx_sb_chop(b, 1);
        vx_sb_raw(b, "ies");
    } else if (b->n && b->s[b->n - 1] == 'x')
        vx_sb_raw(b, "es");
    else
        vx_sb_raw(b, "s");
}

void vx_en_ordinal(vx_sb *b, uint64_t v, int gbr) {
    vx_en_cardinal(b, v, gbr);
    ordinalize(b);
}

void vx_en_year(vx_sb *b, unsigned y, int gbr) {
    if (y < 1000 || y > 9999) {
        vx_en_cardinal(b, y, gbr);
        return;
    }
    unsigned hi = y / 100, lo = y % 100;
    if (y % 1000 == 0 || (y >= 2000 && y % 1000 < 10)) {
        vx_en_cardinal(b, y, gbr);
        return;
    } /* 2000, 2005 */
    below1000(b, hi, 0, 0);
    if (lo == 0)
        vx_sb_word(b, "hundred");
    else if (lo < 10) {
        vx_sb_word(b, "oh");
        vx_sb_word(b, ONES[lo]);
    } else
        below1000(b, lo, 0, 0);
}

/* ---------------------------------------------------------------- tables */

const char *const vx_en_months[12] = {"January",   "February", "March",    "April",
                                      "May",       "June",     "July",     "August",
                                      "September", "October",  "November", "December"};
static const char *MON_ABBR[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* A month name at pos (full, or an abbreviation with optional dot; "Sept" too).
 * Returns the length and sets *m (1..12). */
size_t vx_en_month_at(const vx_norm_ctx *c, size_t pos, int *m) {
    for (int i = 0; i < 12; i++) {
        size_t k = strlen(vx_en_months[i]);
        if (pos + k <= c->len && !strncasecmp(c->in + pos, vx_en_months[i], k) &&
            vx_norm_boundary_after(c, pos + k) && isupper((unsigned char)c->in[pos])) {
            *m = i + 1;
            return k;
        }
    }
    for (int i = 0; i < 12; i++) {
        const char *a =
            i == 8 && pos + 4 <= c->len && !strncmp(c->in + pos, "Sept", 4) ? "Sept" : MON_ABBR[i];
        size_t k = strlen(a);
        if (pos + k <= c->len && !strncmp(c->in + pos, a, k) &&
            vx_norm_boundary_after(c, pos + k)) {
            *m = i + 1;
            if (pos + k < c->len && c->in[pos + k] == '.') k++;
            return k;
        }
    }
    return 0;
}

static const currency CUR_SYM[] = {
    {"US$", "US dollar", "US dollars", "cent", "cents"},
    {"C$", "Canadian dollar", "Canadian dollars", "cent", "cents"},
    {"A$", "Australian dollar", "Australian dollars", "cent", "cents"},
    {"NZ$", "New Zealand dollar", "New Zealand dollars", "cent", "cents"},
    {"HK$", "Hong Kong dollar", "Hong Kong dollars", "cent", "cents"},
    {"$", "dollar", "dollars", "cent", "cents"},
    {"\xE2\x82\xAC", "euro", "euros", "cent", "cents"},     /* € */
    {"\xC2\xA3", "pound", "pounds", "penny", "pence"},      /* £ */
    {"\xC2\xA5", "yen", "yen", NULL, NULL},                 /* ¥ */
    {"\xE2\x82\xB9", "rupee", "rupees", "paisa", "paise"},  /* ₹ */
    {"\xE2\x82\xA9", "won", "won", NULL, NULL},             /* ₩ */
    {"\xE2\x82\xBD", "ruble", "rubles", "kopek", "kopeks"}, /* ₽ */
    {"\xE2\x82\xBA", "lira", "lira", "kurus", "kurus"},     /* ₺ */
};
static const currency CUR_CODE[] = {
    {"USD", "US dollar", "US dollars", "cent", "cents"},
    {"EUR", "euro", "euros", "cent", "cents"},
    {"GBP", "pound", "pounds", "penny", "pence"},
    {"JPY", "yen", "yen", NULL, NULL},
    {"CHF", "Swiss franc", "Swiss francs", "centime", "centimes"},
    {"CAD", "Canadian dollar", "Canadian dollars", "cent", "cents"},
    {"AUD", "Australian dollar", "Australian dollars", "cent", "cents"},
    {"INR", "rupee", "rupees", "paisa", "paise"},
    {"CNY", "yuan", "yuan", NULL, NULL},
};
#define NCUR_SYM  (sizeof CUR_SYM / sizeof CUR_SYM[0])
#define NCUR_CODE (sizeof CUR_CODE / sizeof CUR_CODE[0])

const currency *vx_en_cur_sym_at(const vx_norm_ctx *c, size_t pos, size_t *k) {
    for (size_t i = 0; i < NCUR_SYM; i++) {
        size_t l = strlen(CUR_SYM[i].sym);
        if (pos + l <= c->len && !memcmp(c->in + pos, CUR_SYM[i].sym, l)) {
            *k = l;
            return &CUR_SYM[i];
        }
    }
    return NULL;
}

const currency *vx_en_cur_code_at(const vx_norm_ctx *c, size_t pos, size_t *k) {
    for (size_t i = 0; i < NCUR_CODE; i++)
        if (pos + 3 <= c->len && !memcmp(c->in + pos, CUR_CODE[i].sym, 3) &&
            vx_norm_boundary_after(c, pos + 3)) {
            *k = 3;
            return &CUR_CODE[i];
        }
    return NULL;
}

/* Magnitude after an amount: "M", "bn", "k" attached, or a word after a space. */
size_t vx_en_magnitude_at(const vx_norm_ctx *c, size_t pos, const char **w) {
    static const struct {
        const char *s, *w;
        int attached;
    } t[] = {{"thousand", "thousand", 0}, {"million", "million", 0}, {"billion", "billion", 0},
             {"trillion", "trillion", 0}, {"bn", "billion", 1},      {"mn", "million", 1},
             {"tn", "trillion", 1},       {"k", "thousand", 1},      {"K", "thousand", 1},
             {"M", "million", 1},         {"m", "million", 1},       {"B", "billion", 1},
             {"T", "trillion", 1}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t at = t[i].attached ? pos : vx_norm_skip_sp(c, pos);
        if (!t[i].attached && at == pos) continue;
        size_t l = strlen(t[i].s);
        if (at + l <= c->len && !strncmp(c->in + at, t[i].s, l) &&
            vx_norm_boundary_after(c, at + l)) {
            *w = t[i].w;
            return at + l - pos;
        }
    }
    return 0;
}

void vx_en_money(vx_sb *b, const vx_num *n, const currency *cu, const char *mag, int gbr) {
    if (n->neg) vx_sb_word(b, "minus");
    vx_num a = *n;
    a.neg = 0;
    if (mag) {
        vx_en_number(b, &a, gbr);
        vx_sb_word(b, mag);
        vx_sb_word(b, cu->many);
        return;
    }
    if (a.has_frac && a.nfp <= 2 && cu->sub_one && a.nip <= 15) {
        unsigned sub =
            (unsigned)(a.fp[0] - '0') * 10 + (a.nfp == 2 ? (unsigned)(a.fp[1] - '0') : 0);
        if (a.value == 0 && sub) {
            vx_en_cardinal(b, sub, gbr);
            vx_sb_word(b, sub == 1 ? cu->sub_one : cu->sub_many);
            return;
        }
        int_part(b, &a, gbr);
        vx_sb_word(b, a.value == 1 ? cu->one : cu->many);
        if (sub) {
            vx_sb_word(b, "and");
            vx_en_cardinal(b, sub, gbr);
            vx_sb_word(b, sub == 1 ? cu->sub_one : cu->sub_many);
        }
        return;
    }
    vx_en_number(b, &a, gbr);
    vx_sb_word(b, !a.has_frac && a.value == 1 ? cu->one : cu->many);
}

/* Units after a number. Matching is case-sensitive; the unit must end at a boundary. */
static const unit UNITS[] = {
    {"km/h", "kilometer per hour", "kilometers per hour", "kilometre per hour",
     "kilometres per hour", 0},
    {"m/s", "meter per second", "meters per second", "metre per second", "metres per second", 0},
    {"MB/s", "megabyte per second", "megabytes per second", NULL, NULL, 0},
    {"GB/s", "gigabyte per second", "gigabytes per second", NULL, NULL, 0},
    {"\xC2\xB0"
     "C",
     "degree Celsius", "degrees Celsius", NULL, NULL, 0},
    {"\xC2\xB0"
     "F",
     "degree Fahrenheit", "degrees Fahrenheit", NULL, NULL, 0},
    {"\xE2\x84\x83", "degree Celsius", "degrees Celsius", NULL, NULL, 0},
    {"\xC2\xB0", "degree", "degrees", NULL, NULL, 0},
    {"km\xC2\xB2", "square kilometer", "square kilometers", "square kilometre", "square kilometres",
     0},
    {"m\xC2\xB2", "square meter", "square meters", "square metre", "square metres", 0},
    {"m\xC2\xB3", "cubic meter", "cubic meters", "cubic metre", "cubic metres", 0},
    {"ft\xC2\xB2", "square foot", "square feet", NULL, NULL, 0},
    {"sq ft", "square foot", "square feet", NULL, NULL, 0},
    {"mph", "mile per hour", "miles per hour", NULL, NULL, 0},
    {"kph", "kilometer per hour", "kilometers per hour", "kilometre per hour",
     "kilometres per hour", 0},
    {"mpg", "mile per gallon", "miles per gallon", NULL, NULL, 0},
    {"km", "kilometer", "kilometers", "kilometre", "kilometres", 0},
    {"cm", "centimeter", "centimeters", "centimetre", "centimetres", 0},
    {"mm", "millimeter", "millimeters", "millimetre", "millimetres", 0},
    {"\xC2\xB5m", "micrometer", "micrometers", "micrometre", "micrometres", 0},
    {"nm", "nanometer", "nanometers", "nanometre", "nanometres", 0},
    {"m", "meter", "meters", "metre", "metres", 0},
    {"mi", "mile", "miles", NULL, NULL, 0},
    {"yd", "yard", "yards", NULL, NULL, 0},
    {"ft", "foot", "feet", NULL, NULL, 0},
    {"in", "inch", "inches", NULL, NULL, 1},
    {"kg", "kilogram", "kilograms", NULL, NULL, 0},
    {"mg", "milligram", "milligrams", NULL, NULL, 0},
    {"\xC2\xB5g", "microgram", "micrograms", NULL, NULL, 0},
    {"g", "gram", "grams", NULL, NULL, 0},
    {"lbs", "pound", "pounds", NULL, NULL, 0},
    {"lb", "pound", "pounds", NULL, NULL, 0},
    {"oz", "ounce", "ounces", NULL, NULL, 0},
    {"ml", "milliliter", "milliliters", "millilitre", "millilitres", 0},
    {"mL", "milliliter", "milliliters", "millilitre", "millilitres", 0},
    {"cl", "centiliter", "centiliters", "centilitre", "centilitres", 0},
    {"l", "liter", "liters", "litre", "litres", 0},
    {"L", "liter", "liters", "litre", "litres", 0},
    {"gal", "gallon", "gallons", NULL, NULL, 0},
    {"ha", "hectare", "hectares", NULL, NULL, 0},
    {"KiB", "kibibyte", "kibibytes", NULL, NULL, 0},
    {"MiB", "mebibyte", "mebibytes", NULL, NULL, 0},
    {"GiB", "gibibyte", "gibibytes", NULL, NULL, 0},
    {"TiB", "tebibyte", "tebibytes", NULL, NULL, 0},
    {"kB", "kilobyte", "kilobytes", NULL, NULL, 0},
    {"KB", "kilobyte", "kilobytes", NULL, NULL, 0},
    {"MB", "megabyte", "megabytes", NULL, NULL, 0},
    {"GB", "gigabyte", "gigabytes", NULL, NULL, 0},
    {"TB", "terabyte", "terabytes", NULL, NULL, 0},
    {"PB", "petabyte", "petabytes", NULL, NULL, 0},
    {"kbps", "kilobit per second", "kilobits per second", NULL, NULL, 0},
    {"Kbps", "kilobit per second", "kilobits per second", NULL, NULL, 0},
    {"Mbps", "megabit per second", "megabits per second", NULL, NULL, 0},
    {"Gbps", "gigabit per second", "gigabits per second", NULL, NULL, 0},
    {"Mb", "megabit", "megabits", NULL, NULL, 0},
    {"Gb", "gigabit", "gigabits", NULL, NULL, 0},
    {"GHz", "gigahertz", "gigahertz", NULL, NULL, 0},
    {"MHz", "megahertz", "megahertz", NULL, NULL, 0},
    {"kHz", "kilohertz", "kilohertz", NULL, NULL, 0},
    {"Hz", "hertz", "hertz", NULL, NULL, 0},
    {"kWh", "kilowatt hour", "kilowatt hours", NULL, NULL, 0},
    {"kW", "kilowatt", "kilowatts", NULL, NULL, 0},
    {"MW", "megawatt", "megawatts", NULL, NULL, 0},
    {"W", "watt", "watts", NULL, NULL, 1},
    {"mAh", "milliamp hour", "milliamp hours", NULL, NULL, 0},
    {"mA", "milliamp", "milliamps", NULL, NULL, 0},
    {"V", "volt", "volts", NULL, NULL, 1},
    {"ms", "millisecond", "milliseconds", NULL, NULL, 0},
    {"\xC2\xB5s", "microsecond", "microseconds", NULL, NULL, 0},
    {"ns", "nanosecond", "nanoseconds", NULL, NULL, 0},
    {"sec", "second", "seconds", NULL, NULL, 0},
    {"s", "second", "seconds", NULL, NULL, 1},
    {"min", "minute", "minutes", NULL, NULL, 0},
    {"hrs", "hour", "hours", NULL, NULL, 0},
    {"hr", "hour", "hours", NULL, NULL, 0},
    {"h", "hour", "hours", NULL, NULL, 1},
    {"kcal", "kilocalorie", "kilocalories", NULL, NULL, 0},
    {"dB", "decibel", "decibels", NULL, NULL, 0},
    {"px", "pixel", "pixels", NULL, NULL, 0},
    {"kPa", "kilopascal", "kilopascals", NULL, NULL, 0},
    {"hPa", "hectopascal", "hectopascals", NULL, NULL, 0},
    {"psi", "pound per square inch", "pounds per square inch", NULL, NULL, 0},
};

/* A unit at pos (after optional spaces unless attached-only). Returns bytes from pos. */
size_t vx_en_unit_at(const vx_norm_ctx *c, size_t pos, const unit **u) {
    size_t sp = vx_norm_skip_sp(c, pos);
    for (size_t i = 0; i < sizeof UNITS / sizeof UNITS[0]; i++) {
        size_t at = UNITS[i].attached_only ? pos : sp;
        size_t l = strlen(UNITS[i].sym);
        if (at + l > c->len || memcmp(c->in + at, UNITS[i].sym, l)) continue;
        if (!vx_norm_boundary_after(c, at + l)) continue;
        /* "5 m." at a sentence end is fine; "5 in." is not a unit (attached only). */
        *u = &UNITS[i];
        return at + l - pos;
    }
    return 0;
}

void vx_en_say_unit(vx_sb *b, const unit *u, int plural, int gbr) {
    const char *w = plural ? (gbr && u->gb_many ? u->gb_many : u->many)
                           : (gbr && u->gb_one ? u->gb_one : u->one);
    vx_sb_word(b, w);
}
