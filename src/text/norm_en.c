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
#include "text/norm.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *ONES[] = {"zero", "one", "two", "three", "four", "five", "six", "seven",
                             "eight", "nine", "ten", "eleven", "twelve", "thirteen",
                             "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
                             "nineteen"};
static const char *TENS[] = {"", "", "twenty", "thirty", "forty", "fifty", "sixty",
                             "seventy", "eighty", "ninety"};

static int gb(const vx_norm_ctx *c) { return c->region == VX_NORM_REGION_GB; }

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
        if (v % 10) snprintf(w, sizeof w, "%s-%s", TENS[v / 10], ONES[v % 10]);
        else snprintf(w, sizeof w, "%s", TENS[v / 10]);
        vx_sb_word(b, w);
    } else if (v) {
        vx_sb_word(b, ONES[v]);
    }
}

static void cardinal(vx_sb *b, uint64_t v, int gbr) {
    static const struct { uint64_t s; const char *w; } sc[] = {
        {1000000000000ull, "trillion"}, {1000000000ull, "billion"}, {1000000ull, "million"},
        {1000ull, "thousand"}};
    if (v == 0) { vx_sb_word(b, "zero"); return; }
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

static void digit_words(vx_sb *b, const char *d, size_t n, int oh) {
    for (size_t i = 0; i < n; i++)
        vx_sb_word(b, d[i] == '0' && oh ? "oh" : ONES[d[i] - '0']);
}

/* The integer part: a cardinal, or digit by digit when it is too long or has a leading
 * zero ("007"). */
static void int_part(vx_sb *b, const vx_num *n, int gbr) {
    if (n->nip == 0) return;
    if (n->nip > 15 || (n->nip > 1 && n->ip[0] == '0' && !n->grouped)) digit_words(b, n->ip, n->nip, 0);
    else cardinal(b, n->value, gbr);
}

static void number(vx_sb *b, const vx_num *n, int gbr) {
    if (n->neg) vx_sb_word(b, "minus");
    if (n->nip) int_part(b, n, gbr);
    else vx_sb_word(b, "zero");
    if (n->has_frac) {
        vx_sb_word(b, "point");
        digit_words(b, n->fp, n->nfp, 0);
    }
}

/* Turn the last word of b into its ordinal ("twenty-one" -> "twenty-first"). */
static void ordinalize(vx_sb *b) {
    static const struct { const char *c, *o; } irr[] = {
        {"one", "first"}, {"two", "second"}, {"three", "third"}, {"five", "fifth"},
        {"eight", "eighth"}, {"nine", "ninth"}, {"twelve", "twelfth"}};
    size_t s = b->n;
    while (s > 0 && b->s[s - 1] != ' ' && b->s[s - 1] != '-') s--;
    const char *w = b->s + s;
    for (size_t i = 0; i < sizeof irr / sizeof irr[0]; i++)
        if (!strcmp(w, irr[i].c)) { vx_sb_chop(b, strlen(w)); vx_sb_raw(b, irr[i].o); return; }
    size_t k = strlen(w);
    if (k && w[k - 1] == 'y') { vx_sb_chop(b, 1); vx_sb_raw(b, "ieth"); return; }
    vx_sb_raw(b, "th");
}

/* Plural of the last word ("nineties", "hundreds"). */
static void pluralize(vx_sb *b) {
    if (b->n && b->s[b->n - 1] == 'y') { vx_sb_chop(b, 1); vx_sb_raw(b, "ies"); }
    else if (b->n && b->s[b->n - 1] == 'x') vx_sb_raw(b, "es");
    else vx_sb_raw(b, "s");
}

static void ordinal(vx_sb *b, uint64_t v, int gbr) { cardinal(b, v, gbr); ordinalize(b); }

static void year(vx_sb *b, unsigned y, int gbr) {
    if (y < 1000 || y > 9999) { cardinal(b, y, gbr); return; }
    unsigned hi = y / 100, lo = y % 100;
    if (y % 1000 == 0 || (y >= 2000 && y % 1000 < 10)) { cardinal(b, y, gbr); return; } /* 2000, 2005 */
    below1000(b, hi, 0, 0);
    if (lo == 0) vx_sb_word(b, "hundred");
    else if (lo < 10) { vx_sb_word(b, "oh"); vx_sb_word(b, ONES[lo]); }
    else below1000(b, lo, 0, 0);
}

/* ---------------------------------------------------------------- tables */

static const char *MONTHS[] = {"January", "February", "March", "April", "May", "June", "July",
                               "August", "September", "October", "November", "December"};
static const char *MON_ABBR[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                 "Sep", "Oct", "Nov", "Dec"};

/* A month name at pos (full, or an abbreviation with optional dot; "Sept" too).
 * Returns the length and sets *m (1..12). */
static size_t month_at(const vx_norm_ctx *c, size_t pos, int *m) {
    for (int i = 0; i < 12; i++) {
        size_t k = strlen(MONTHS[i]);
        if (pos + k <= c->len && !strncasecmp(c->in + pos, MONTHS[i], k) &&
            vx_norm_boundary_after(c, pos + k) && isupper((unsigned char)c->in[pos])) {
            *m = i + 1;
            return k;
        }
    }
    for (int i = 0; i < 12; i++) {
        const char *a = i == 8 && pos + 4 <= c->len && !strncmp(c->in + pos, "Sept", 4) ? "Sept"
                                                                                          : MON_ABBR[i];
        size_t k = strlen(a);
        if (pos + k <= c->len && !strncmp(c->in + pos, a, k) && vx_norm_boundary_after(c, pos + k)) {
            *m = i + 1;
            if (pos + k < c->len && c->in[pos + k] == '.') k++;
            return k;
        }
    }
    return 0;
}

typedef struct currency { const char *sym, *one, *many, *sub_one, *sub_many; } currency;

static const currency CUR_SYM[] = {
    {"US$", "US dollar", "US dollars", "cent", "cents"},
    {"C$", "Canadian dollar", "Canadian dollars", "cent", "cents"},
    {"A$", "Australian dollar", "Australian dollars", "cent", "cents"},
    {"NZ$", "New Zealand dollar", "New Zealand dollars", "cent", "cents"},
    {"HK$", "Hong Kong dollar", "Hong Kong dollars", "cent", "cents"},
    {"$", "dollar", "dollars", "cent", "cents"},
    {"\xE2\x82\xAC", "euro", "euros", "cent", "cents"},          /* € */
    {"\xC2\xA3", "pound", "pounds", "penny", "pence"},           /* £ */
    {"\xC2\xA5", "yen", "yen", NULL, NULL},                      /* ¥ */
    {"\xE2\x82\xB9", "rupee", "rupees", "paisa", "paise"},       /* ₹ */
    {"\xE2\x82\xA9", "won", "won", NULL, NULL},                  /* ₩ */
    {"\xE2\x82\xBD", "ruble", "rubles", "kopek", "kopeks"},      /* ₽ */
    {"\xE2\x82\xBA", "lira", "lira", "kurus", "kurus"},          /* ₺ */
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
#define NCUR_SYM (sizeof CUR_SYM / sizeof CUR_SYM[0])
#define NCUR_CODE (sizeof CUR_CODE / sizeof CUR_CODE[0])

static const currency *cur_sym_at(const vx_norm_ctx *c, size_t pos, size_t *k) {
    for (size_t i = 0; i < NCUR_SYM; i++) {
        size_t l = strlen(CUR_SYM[i].sym);
        if (pos + l <= c->len && !memcmp(c->in + pos, CUR_SYM[i].sym, l)) { *k = l; return &CUR_SYM[i]; }
    }
    return NULL;
}

static const currency *cur_code_at(const vx_norm_ctx *c, size_t pos, size_t *k) {
    for (size_t i = 0; i < NCUR_CODE; i++)
        if (pos + 3 <= c->len && !memcmp(c->in + pos, CUR_CODE[i].sym, 3) &&
            vx_norm_boundary_after(c, pos + 3)) { *k = 3; return &CUR_CODE[i]; }
    return NULL;
}

/* Magnitude after an amount: "M", "bn", "k" attached, or a word after a space. */
static size_t magnitude_at(const vx_norm_ctx *c, size_t pos, const char **w) {
    static const struct { const char *s, *w; int attached; } t[] = {
        {"thousand", "thousand", 0}, {"million", "million", 0}, {"billion", "billion", 0},
        {"trillion", "trillion", 0}, {"bn", "billion", 1}, {"mn", "million", 1},
        {"tn", "trillion", 1}, {"k", "thousand", 1}, {"K", "thousand", 1}, {"M", "million", 1},
        {"m", "million", 1}, {"B", "billion", 1}, {"T", "trillion", 1}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t at = t[i].attached ? pos : vx_norm_skip_sp(c, pos);
        if (!t[i].attached && at == pos) continue;
        size_t l = strlen(t[i].s);
        if (at + l <= c->len && !strncmp(c->in + at, t[i].s, l) && vx_norm_boundary_after(c, at + l)) {
            *w = t[i].w;
            return at + l - pos;
        }
    }
    return 0;
}

static void money(vx_sb *b, const vx_num *n, const currency *cu, const char *mag, int gbr) {
    if (n->neg) vx_sb_word(b, "minus");
    vx_num a = *n;
    a.neg = 0;
    if (mag) {
        number(b, &a, gbr);
        vx_sb_word(b, mag);
        vx_sb_word(b, cu->many);
        return;
    }
    if (a.has_frac && a.nfp <= 2 && cu->sub_one && a.nip <= 15) {
        unsigned sub = (unsigned)(a.fp[0] - '0') * 10 + (a.nfp == 2 ? (unsigned)(a.fp[1] - '0') : 0);
        if (a.value == 0 && sub) {
            cardinal(b, sub, gbr);
            vx_sb_word(b, sub == 1 ? cu->sub_one : cu->sub_many);
            return;
        }
        int_part(b, &a, gbr);
        vx_sb_word(b, a.value == 1 ? cu->one : cu->many);
        if (sub) {
            vx_sb_word(b, "and");
            cardinal(b, sub, gbr);
            vx_sb_word(b, sub == 1 ? cu->sub_one : cu->sub_many);
        }
        return;
    }
    number(b, &a, gbr);
    vx_sb_word(b, !a.has_frac && a.value == 1 ? cu->one : cu->many);
}

/* Units after a number. Matching is case-sensitive; the unit must end at a boundary. */
typedef struct unit { const char *sym, *one, *many, *gb_one, *gb_many; int attached_only; } unit;
static const unit UNITS[] = {
    {"km/h", "kilometer per hour", "kilometers per hour", "kilometre per hour", "kilometres per hour", 0},
    {"m/s", "meter per second", "meters per second", "metre per second", "metres per second", 0},
    {"MB/s", "megabyte per second", "megabytes per second", NULL, NULL, 0},
    {"GB/s", "gigabyte per second", "gigabytes per second", NULL, NULL, 0},
    {"\xC2\xB0" "C", "degree Celsius", "degrees Celsius", NULL, NULL, 0},
    {"\xC2\xB0" "F", "degree Fahrenheit", "degrees Fahrenheit", NULL, NULL, 0},
    {"\xE2\x84\x83", "degree Celsius", "degrees Celsius", NULL, NULL, 0},
    {"\xC2\xB0", "degree", "degrees", NULL, NULL, 0},
    {"km\xC2\xB2", "square kilometer", "square kilometers", "square kilometre", "square kilometres", 0},
    {"m\xC2\xB2", "square meter", "square meters", "square metre", "square metres", 0},
    {"m\xC2\xB3", "cubic meter", "cubic meters", "cubic metre", "cubic metres", 0},
    {"ft\xC2\xB2", "square foot", "square feet", NULL, NULL, 0},
    {"sq ft", "square foot", "square feet", NULL, NULL, 0},
    {"mph", "mile per hour", "miles per hour", NULL, NULL, 0},
    {"kph", "kilometer per hour", "kilometers per hour", "kilometre per hour", "kilometres per hour", 0},
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
static size_t unit_at(const vx_norm_ctx *c, size_t pos, const unit **u) {
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

static void say_unit(vx_sb *b, const unit *u, int plural, int gbr) {
    const char *w = plural ? (gbr && u->gb_many ? u->gb_many : u->many)
                           : (gbr && u->gb_one ? u->gb_one : u->one);
    vx_sb_word(b, w);
}

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
        if (i + 1 < c->len && c->in[i] == sep && is_ascii_digit(c->in[i + 1]) && g < max) { i++; continue; }
        break;
    }
    *end = i;
    return g;
}

static void say_digit_groups(vx_sb *b, const vx_norm_ctx *c, size_t pos, size_t end, int oh) {
    int first = 1;
    for (size_t i = pos; i < end;) {
        if (!is_ascii_digit(c->in[i])) { i++; continue; }
        size_t d = vx_digits(c, i, NULL);
        if (!first) vx_sb_raw(b, ",");
        digit_words(b, c->in + i, d, oh);
        first = 0;
        i += d;
    }
}

/* Phone numbers: NANP shapes (555-123-4567, 1-800-555-1234, 555.123.4567, 555-1234),
 * "(555) 123-4567" and international "+44 20 7946 0958". */
static size_t phone(vx_norm_ctx *c, size_t pos) {
    size_t lens[6], end = pos;
    int oh = gb(c);
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
            if (i + 1 < c->len && (c->in[i] == ' ' || c->in[i] == '-') && is_ascii_digit(c->in[i + 1])) i++;
            else break;
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
                c->in[pos] != '1') ok = 1;
            /* UK: 020-7946-0958, 0161-496-0000 */
            if (g == 3 && *s == '-' && c->in[pos] == '0' &&
                ((lens[0] == 3 && lens[1] == 4 && lens[2] == 4) ||
                 (lens[0] == 4 && lens[1] == 3 && lens[2] == 4))) ok = 1;
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

static int valid_date(int y, int m, int d) {
    static const int md[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    (void)y;
    return m >= 1 && m <= 12 && d >= 1 && d <= md[m - 1];
}

/* A date, written in the voice's order: US "December second, twenty twenty-six",
 * GB "the second of December twenty twenty-six". y < 0: no year. */
static void say_date(vx_sb *b, int y, int m, int d, int day_first, int gbr) {
    if (day_first) {
        if (day_first != 2) vx_sb_word(b, "the");
        ordinal(b, (uint64_t)d, gbr);
        vx_sb_word(b, "of");
        vx_sb_word(b, MONTHS[m - 1]);
    } else {
        vx_sb_word(b, MONTHS[m - 1]);
        if (gbr) vx_sb_word(b, "the");
        ordinal(b, (uint64_t)d, gbr);
        if (y >= 0) vx_sb_raw(b, ",");
    }
    if (y >= 0) year(b, (unsigned)y, gbr);
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
        vx_digits(c, i, &a); i += lens[0] + 1;
        vx_digits(c, i, &bb); i += lens[1] + 1;
        vx_digits(c, i, &cc);
        int y, m, d;
        if (lens[0] == 4 && lens[1] <= 2 && lens[2] <= 2 && *s != '.') {
            y = (int)a; m = (int)bb; d = (int)cc;
        } else if (lens[0] <= 2 && lens[1] <= 2 && (lens[2] == 4 || (lens[2] == 2 && *s == '/'))) {
            y = lens[2] == 4 ? (int)cc : (int)(cc < 50 ? 2000 + cc : 1900 + cc);
            int dayfirst = gb(c) || *s == '.';
            m = dayfirst ? (int)bb : (int)a;
            d = dayfirst ? (int)a : (int)bb;
            if (!valid_date(y, m, d) && valid_date(y, d, m)) { int t = m; m = d; d = t; }
        } else {
            continue;
        }
        if (y < 1000 || y > 2999 || !valid_date(y, m, d)) continue;
        vx_sb b;
        vx_sb_init(&b);
        say_date(&b, y, m, d, gb(c), gb(c));
        if (stamp) {
            uint64_t h, mi, se = 0;
            size_t t = end + 1;
            if (vx_digits(c, t, &h) != 2 || t + 5 > c->len || c->in[t + 2] != ':' ||
                vx_digits(c, t + 3, &mi) != 2 || h > 23 || mi > 59)
                return 0;
            t += 5;
            if (t + 2 < c->len && c->in[t] == ':' && vx_digits(c, t + 1, &se) == 2) t += 3;
            if (t + 1 < c->len && c->in[t] == '.' && isdigit((unsigned char)c->in[t + 1])) { t++; t += vx_digits(c, t, NULL); }
            if (t < c->len && c->in[t] == 'Z') t++;
            if (!vx_norm_boundary_after(c, t)) return 0;
            vx_sb_raw(&b, ",");
            say_clock(&b, (unsigned)h, (unsigned)mi, 0, 0, gb(c));
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
        cardinal(b, h == 0 ? 12 : h, gbr);
        if (mi) {
            if (mi < 10) vx_sb_word(b, "oh");
            cardinal(b, mi, gbr);
        }
        vx_sb_word(b, pm ? "PM" : "AM");
        return;
    }
    if (h == 0 && mi == 0) { vx_sb_word(b, "midnight"); return; }
    if (mi == 0) {
        cardinal(b, h, gbr);
        vx_sb_word(b, h <= 12 ? "o'clock" : "hundred");
        return;
    }
    if (h == 0) vx_sb_word(b, "zero");
    else cardinal(b, h, gbr);
    if (mi < 10) vx_sb_word(b, "oh");
    cardinal(b, mi, gbr);
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
        if (i + 2 < c->len && c->in[i] == ':' && vx_digits(c, i + 1, &se) == 2) { has_sec = 1; i += 3; }
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
    say_clock(&b, (unsigned)h, (unsigned)mi, ap != 0, pm, gb(c));
    if (has_sec) {
        vx_sb_word(&b, "and");
        cardinal(&b, se, gb(c));
        vx_sb_word(&b, se == 1 ? "second" : "seconds");
    }
    if (b.over) return 0;
    size_t end = i + ap;
    vx_norm_say(c, pos, end, b.s);
    return end - pos;
}

/* Versions and addresses: v2.0.1, 2.0.1, 3.10.2 (three or more parts), v1.2;
 * 192.168.1.1 (four parts of 0..255) reads "dot". */
static size_t version(vx_norm_ctx *c, size_t pos) {
    size_t i = pos;
    int v = 0;
    if (c->in[i] == 'v' || c->in[i] == 'V') { v = 1; i++; }
    size_t lens[8], end;
    int g = groups(c, i, '.', lens, 8, &end);
    if (g < (v ? 2 : 3) || !vx_norm_boundary_after(c, end)) return 0;
    for (int k = 0; k < g; k++) if (lens[k] > 4) return 0;
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
        if (ip) cardinal(&b, x, gb(c));
        else if (lens[k] > 1 && c->in[p] == '0') digit_words(&b, c->in + p, lens[k], 1);
        else if (x == 0 && k) vx_sb_word(&b, "oh");
        else cardinal(&b, x, gb(c));
        p += lens[k] + 1;
    }
    if (b.over) return 0;
    vx_norm_say(c, pos, end, b.s);
    return end - pos;
}

/* The denominator of a fraction, singular or plural. */
static void denominator(vx_sb *b, uint64_t den, int plural, int gbr) {
    if (den == 2) vx_sb_word(b, plural ? "halves" : "half");
    else if (den == 4) vx_sb_word(b, plural ? "quarters" : "quarter");
    else {
        ordinal(b, den, gbr);
        if (plural) vx_sb_raw(b, "s");
    }
}

static int fraction_den_ok(uint64_t d) {
    return (d >= 2 && d <= 10) || d == 12 || d == 16 || d == 20 || d == 32 || d == 64 ||
           d == 100 || d == 1000;
}

/* Unicode vulgar fractions: returns bytes and the numerator/denominator. */
static size_t vulgar_at(const vx_norm_ctx *c, size_t pos, unsigned *num, unsigned *den) {
    static const struct { const char *s; unsigned n, d; } t[] = {
        {"\xC2\xBD", 1, 2}, {"\xC2\xBC", 1, 4}, {"\xC2\xBE", 3, 4}, {"\xE2\x85\x93", 1, 3},
        {"\xE2\x85\x94", 2, 3}, {"\xE2\x85\x95", 1, 5}, {"\xE2\x85\x96", 2, 5},
        {"\xE2\x85\x97", 3, 5}, {"\xE2\x85\x98", 4, 5}, {"\xE2\x85\x99", 1, 6},
        {"\xE2\x85\x9A", 5, 6}, {"\xE2\x85\x9B", 1, 8}, {"\xE2\x85\x9C", 3, 8},
        {"\xE2\x85\x9D", 5, 8}, {"\xE2\x85\x9E", 7, 8}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t l = strlen(t[i].s);
        if (pos + l <= c->len && !memcmp(c->in + pos, t[i].s, l)) { *num = t[i].n; *den = t[i].d; return l; }
    }
    return 0;
}

static void say_fraction(vx_sb *b, uint64_t whole, int has_whole, uint64_t num, uint64_t den, int gbr) {
    if (has_whole) {
        cardinal(b, whole, gbr);
        vx_sb_word(b, "and");
        if (num == 1) { vx_sb_word(b, den == 8 ? "an" : "a"); denominator(b, den, 0, gbr); return; }
    }
    cardinal(b, num, gbr);
    denominator(b, den, num != 1, gbr);
}

/* What follows a number (or a range a..b): percent, units, currency, magnitude. The
 * spoken number is already in b. Returns bytes consumed after `at`. */
static size_t number_suffix(vx_norm_ctx *c, size_t at, vx_sb *b, const vx_num *last) {
    int plural = !(last->value == 1 && !last->has_frac && last->nip <= 15);
    size_t sp = vx_norm_skip_sp(c, at);
    if (sp < c->len && c->in[sp] == '%') { vx_sb_word(b, "percent"); return sp + 1 - at; }
    if (sp + 2 < c->len && !memcmp(c->in + sp, "\xE2\x80\xB0", 3)) { vx_sb_word(b, "per mille"); return sp + 3 - at; }
    const unit *u;
    size_t k = unit_at(c, at, &u);
    if (k) { say_unit(b, u, plural, gb(c)); return k; }
    return 0;
}

/* Amount with a currency after it: "20 €", "20€", "5 USD", "50¢". */
static size_t currency_suffix(vx_norm_ctx *c, size_t pos, const vx_num *n) {
    size_t at = vx_norm_skip_sp(c, n->end), k = 0;
    const currency *cu = cur_sym_at(c, at, &k);
    if (cu && cu->sym[0] == '$' ) cu = NULL; /* "5 $" is rare; "$" leads in English */
    if (!cu) cu = cur_code_at(c, at, &k);
    vx_sb b;
    vx_sb_init(&b);
    if (!cu) {
        if (at + 1 < c->len && !memcmp(c->in + at, "\xC2\xA2", 2)) { /* ¢ */
            number(&b, n, gb(c));
            vx_sb_word(&b, n->value == 1 && !n->has_frac ? "cent" : "cents");
            if (b.over) return 0;
            vx_norm_say(c, pos, at + 2, b.s);
            return at + 2 - pos;
        }
        return 0;
    }
    money(&b, n, cu, NULL, gb(c));
    if (b.over) return 0;
    vx_norm_say(c, pos, at + k, b.s);
    return at + k - pos;
}

/* Currency first: "$500", "$3.50", "$1.2M", "-$5", "€20", "£2.50", "USD 20", "$5 million". */
static size_t currency_prefix(vx_norm_ctx *c, size_t pos) {
    size_t i = pos, k = 0;
    int neg = 0;
    if (c->in[i] == '-' || (i + 2 < c->len && !memcmp(c->in + i, "\xE2\x88\x92", 3))) {
        neg = 1;
        i += c->in[i] == '-' ? 1 : 3;
    }
    const currency *cu = cur_sym_at(c, i, &k);
    int code = 0;
    if (!cu) { cu = cur_code_at(c, i, &k); code = 1; }
    if (!cu) return 0;
    size_t at = code ? vx_norm_skip_sp(c, i + k) : i + k;
    if (!code) at = vx_norm_skip_sp(c, at);
    if (code && at == i + k) return 0;
    vx_num n;
    if (!vx_num_scan(c, at, 1, &n)) return 0;
    if (neg) n.neg = 1;
    const char *mag = NULL;
    size_t end = n.end + magnitude_at(c, n.end, &mag);
    if (!vx_norm_boundary_after(c, end)) return 0;
    vx_sb b;
    vx_sb_init(&b);
    /* a range: "$5-10", "$5 - $10", "$5–$10" */
    size_t r = end;
    if (!mag && r < c->len && (c->in[r] == '-' || (r + 2 < c->len && !memcmp(c->in + r, "\xE2\x80\x93", 3)))) {
        r += c->in[r] == '-' ? 1 : 3;
        size_t k2 = 0;
        if (!code && r + k < c->len && !memcmp(c->in + r, cu->sym, k)) k2 = k;
        vx_num z;
        if (vx_num_scan(c, r + k2, 0, &z)) {
            const char *mag2 = NULL;
            size_t e2 = z.end + magnitude_at(c, z.end, &mag2);
            if (vx_norm_boundary_after(c, e2) && !n.has_frac && !z.has_frac) {
                if (neg) vx_sb_word(&b, "minus");
                n.neg = 0;
                number(&b, &n, gb(c));
                vx_sb_word(&b, "to");
                money(&b, &z, cu, mag2, gb(c));
                if (b.over) return 0;
                vx_norm_say(c, pos, e2, b.s);
                return e2 - pos;
            }
        }
    }
    money(&b, &n, cu, mag, gb(c));
    if (b.over) return 0;
    vx_norm_say(c, pos, end, b.s);
    return end - pos;
}

static int ord_suffix_ok(uint64_t v, const char *s) {
    const char *want = "th";
    if (v % 100 < 11 || v % 100 > 13) {
        if (v % 10 == 1) want = "st";
        else if (v % 10 == 2) want = "nd";
        else if (v % 10 == 3) want = "rd";
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
    size_t k = month_at(c, i, &m);
    if (!k || !valid_date(2000, m, (int)day)) return 0;
    size_t end = i + k;
    if (c->in[end - 1] == '.') end--; /* keep a final dot of "Dec." in the text */
    int y = -1;
    size_t j = vx_norm_skip_sp(c, i + k);
    uint64_t yv;
    size_t yd = vx_digits(c, j, &yv);
    if (j > i + k && yd == 4 && vx_norm_boundary_after(c, j + 4)) { y = (int)yv; end = j + 4; }
    vx_sb b;
    vx_sb_init(&b);
    size_t pl, ph;
    int has_the = vx_norm_prev_word(c, pos, &pl, &ph) && ph - pl == 3 &&
                  !strncasecmp(c->in + pl, "the", 3);
    say_date(&b, y, m, (int)day, has_the ? 2 : 1, gb(c));
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
static size_t numeric(vx_norm_ctx *c, size_t pos) {
    size_t k;
    if ((k = phone(c, pos))) return k;
    if ((k = date_numeric(c, pos))) return k;
    if ((k = clock_time(c, pos))) return k;
    if ((k = version(c, pos))) return k;
    if ((k = dash_code(c, pos))) return k;
    vx_num a;
    if (!vx_num_scan(c, pos, 1, &a)) return 0;
    if ((k = currency_suffix(c, pos, &a))) return k;
    size_t i = a.end;
    int gbr = gb(c);
    vx_sb b;
    vx_sb_init(&b);
    /* ordinals 1st 2nd 3rd 4th */
    if (!a.has_frac && !a.neg && a.nip <= 15 && i + 2 <= c->len &&
        vx_norm_boundary_after(c, i + 2) && isalpha((unsigned char)c->in[i]) &&
        ord_suffix_ok(a.value, c->in + i)) {
        if ((k = date_day_first(c, pos, a.value, i + 2))) return k;
        ordinal(&b, a.value, gbr);
        if (b.over) return 0;
        vx_norm_say(c, pos, i + 2, b.s);
        return i + 2 - pos;
    }
    /* decades: 1990s, 90s */
    if (!a.has_frac && !a.neg && !a.grouped && i < c->len && c->in[i] == 's' &&
        vx_norm_boundary_after(c, i + 1) && a.value % 10 == 0 &&
        (a.nip == 4 || a.nip == 2)) {
        if (a.nip == 4) year(&b, (unsigned)a.value, gbr);
        else cardinal(&b, a.value, gbr);
        pluralize(&b);
        if (b.over) return 0;
        vx_norm_say(c, pos, i + 1, b.s);
        return i + 1 - pos;
    }
    /* vulgar fraction after a whole number: 2½ */
    unsigned vn, vd;
    size_t vk = vulgar_at(c, i, &vn, &vd);
    if (vk && !a.has_frac && !a.neg && a.nip <= 15) {
        say_fraction(&b, a.value, 1, vn, vd, gbr);
        size_t e = i + vk;
        e += number_suffix(c, e, &b, &(vx_num){.value = 2});
        if (b.over) return 0;
        vx_norm_say(c, pos, e, b.s);
        return e - pos;
    }
    if (!a.neg && a.nip <= 15 && i < c->len &&
        (c->in[i] == 'M' || c->in[i] == 'B' || (i + 2 <= c->len && !memcmp(c->in + i, "bn", 2)))) {
        const char *mag = NULL;
        size_t mk = magnitude_at(c, i, &mag);
        if (mk && (c->in[i] == 'M' || c->in[i] == 'B' || c->in[i] == 'b')) {
            number(&b, &a, gbr);
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
            cardinal(&b, a.value, gbr);
            vx_sb_word(&b, a.value == 1 ? "foot" : "feet");
            cardinal(&b, inch, gbr);
            vx_sb_word(&b, inch == 1 ? "inch" : "inches");
            if (b.over) return 0;
            vx_norm_say(c, pos, e, b.s);
            return e - pos;
        }
    }
    if (!vx_norm_boundary_after(c, i)) {
        /* glued unit: 10km, 5kg, 3GB, 8pm handled above */
        const unit *u;
        size_t uk = unit_at(c, i, &u);
        if (!uk || c->in[i] == ' ') return 0;
        number(&b, &a, gbr);
        say_unit(&b, u, !(a.value == 1 && !a.has_frac), gbr);
        if (b.over) return 0;
        vx_norm_say(c, pos, i + uk, b.s);
        return i + uk - pos;
    }
    /* ratings: 4.5/5, 8.5/10 */
    if (a.has_frac && !a.neg && i + 1 < c->len && c->in[i] == '/' && isdigit((unsigned char)c->in[i + 1])) {
        uint64_t den;
        size_t dd = vx_digits(c, i + 1, &den);
        if (dd <= 3 && vx_norm_boundary_after(c, i + 1 + dd)) {
            number(&b, &a, gbr);
            vx_sb_word(&b, "out of");
            cardinal(&b, den, gbr);
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
                say_fraction(&b, 0, 0, a.value, den, gbr);
                e += number_suffix(c, e, &b, &(vx_num){.value = 2});
            } else {
                int m = (int)a.value, d = (int)den;
                if (gbr) { m = (int)den; d = (int)a.value; }
                if (!valid_date(2000, m, d) || a.neg) return 0;
                say_date(&b, -1, m, d, gbr, gbr);
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
                say_fraction(&b, a.value, 1, nu, de, gbr);
                e += number_suffix(c, e, &b, &(vx_num){.value = 2});
                if (b.over) return 0;
                vx_norm_say(c, pos, e, b.s);
                return e - pos;
            }
        }
    }
    /* day-first dates: "2 December 2026" */
    if (!a.has_frac && !a.neg && !a.grouped && a.nip <= 2 && (k = date_day_first(c, pos, a.value, i)))
        return k;
    /* ranges: 10-20, 1990-1995, 5–10 km, 10-20% */
    static const char *const YEAR_CTX[] = {"in", "In", "since", "Since", "from", "until", "by",
                                           "year", "circa", "around", "of", NULL};
    int is_year = !a.has_frac && !a.neg && !a.grouped && a.nip == 4 && a.value <= 2099 &&
                  (a.value >= 1100 || (a.value >= 1000 && prev_in(c, pos, YEAR_CTX)));
    size_t dash = 0;
    if (i + 1 < c->len && c->in[i] == '-') dash = 1;
    else if (i + 3 < c->len && !memcmp(c->in + i, "\xE2\x80\x93", 3)) dash = 3; /* – */
    if (dash && is_ascii_digit(c->in[i + dash])) {
        vx_num z;
        if (vx_num_scan(c, i + dash, 0, &z) && vx_norm_boundary_after(c, z.end) &&
            !(z.end < c->len && (c->in[z.end] == '-' || c->in[z.end] == ':'))) {
            int zyear = is_year && !z.has_frac && !z.grouped &&
                        ((z.nip == 4 && z.value >= 1100 && z.value <= 2099) ||
                         (z.nip == 2 && z.value > a.value % 100));
            if (zyear) {
                year(&b, (unsigned)a.value, gbr);
                vx_sb_word(&b, "to");
                if (z.nip == 4) year(&b, (unsigned)z.value, gbr);
                else cardinal(&b, z.value, gbr);
            } else {
                number(&b, &a, gbr);
                vx_sb_word(&b, "to");
                number(&b, &z, gbr);
            }
            size_t e = z.end;
            size_t cs = vx_norm_skip_sp(c, e), ck;
            const currency *cu = cur_code_at(c, cs, &ck);
            if (cu && !zyear) { vx_sb_word(&b, cu->many); e = cs + ck; }
            else e += number_suffix(c, e, &b, &z);
            if (b.over) return 0;
            vx_norm_say(c, pos, e, b.s);
            return e - pos;
        }
    }
    /* plain numbers, with percent / units after them */
    if (is_year) {
        size_t sk = number_suffix(c, i, &b, &a);
        if (sk) { vx_sb_init(&b); }
        else {
            year(&b, (unsigned)a.value, gbr);
            if (b.over) return 0;
            vx_norm_say(c, pos, i, b.s);
            return i - pos;
        }
    }
    number(&b, &a, gbr);
    size_t e = i + number_suffix(c, i, &b, &a);
    /* "-" alone before a digit must be a sign, not a dash in "pages 3 -5" */
    if (b.over) return 0;
    vx_norm_say(c, pos, e, b.s);
    return e - pos;
}

/* ------------------------------------------------------------- words */

typedef struct abbrev { const char *a, *say; int kind; } abbrev;
enum { AB_TITLE = 1, /* before a name or number: the dot goes (no sentence break) */
       AB_KEEP = 2,  /* the dot stays, so a sentence can end there */
       AB_NODOT = 4, /* also without a dot */
       AB_ANY = 8    /* the dot goes, whatever follows ("e.g. this") */ };
static const abbrev ABBR[] = {
    {"Dr", "Doctor", AB_TITLE | AB_NODOT}, {"Mr", "Mister", AB_TITLE | AB_NODOT},
    {"Mrs", "Missus", AB_TITLE | AB_NODOT}, {"Ms", "Miz", AB_TITLE | AB_NODOT},
    {"Prof", "Professor", AB_TITLE}, {"Mt", "Mount", AB_TITLE}, {"Ft", "Fort", AB_TITLE},
    {"Gen", "General", AB_TITLE}, {"Capt", "Captain", AB_TITLE}, {"Lt", "Lieutenant", AB_TITLE},
    {"Sgt", "Sergeant", AB_TITLE}, {"Col", "Colonel", AB_TITLE}, {"Gov", "Governor", AB_TITLE},
    {"Sen", "Senator", AB_TITLE}, {"Rep", "Representative", AB_TITLE}, {"Rev", "Reverend", AB_TITLE},
    {"Hon", "Honorable", AB_TITLE}, {"Pres", "President", AB_TITLE}, {"St", "Saint", AB_TITLE},
    {"No", "number", AB_TITLE}, {"no", "number", AB_TITLE}, {"Nos", "numbers", AB_TITLE},
    {"pp", "pages", AB_TITLE}, {"p", "page", AB_TITLE}, {"fig", "figure", AB_TITLE},
    {"Fig", "figure", AB_TITLE}, {"vol", "volume", AB_TITLE}, {"Vol", "volume", AB_TITLE},
    {"ch", "chapter", AB_TITLE}, {"Ch", "chapter", AB_TITLE}, {"approx", "approximately", AB_ANY},
    {"e.g", "for example", AB_ANY}, {"i.e", "that is", AB_ANY}, {"vs", "versus", AB_ANY | AB_NODOT},
    {"etc", "et cetera", AB_KEEP}, {"Jr", "Junior", AB_KEEP}, {"Sr", "Senior", AB_KEEP},
    {"Inc", "Incorporated", AB_KEEP}, {"Ltd", "Limited", AB_KEEP}, {"Corp", "Corporation", AB_KEEP},
    {"Co", "Company", AB_KEEP}, {"Ave", "Avenue", AB_KEEP}, {"Blvd", "Boulevard", AB_KEEP},
    {"Rd", "Road", AB_KEEP}, {"Dept", "Department", AB_KEEP}, {"Univ", "University", AB_KEEP},
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
                isupper((unsigned char)c->in[pl])) say = "Street";
            if ((!strcmp(ab->a, "No") || !strcmp(ab->a, "no")) &&
                !isdigit((unsigned char)c->in[vx_norm_skip_sp(c, e)])) continue;
            if ((!strcmp(ab->a, "p") || !strcmp(ab->a, "pp")) &&
                (!dot || !isdigit((unsigned char)c->in[vx_norm_skip_sp(c, e)]))) continue;
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
    "Henry", "Edward", "George", "Elizabeth", "Charles", "Louis", "William", "James", "Richard",
    "John", "Mary", "Victoria", "Peter", "Paul", "Pius", "Leo", "Benedict", "Gregory",
    "Alexander", "Nicholas", "Frederick", "Philip", "Ferdinand", "Catherine", "Napoleon",
    "Innocent", "Clement", "Urban", "Boniface", "Ivan", "Wilhelm", "Constantine", "Ramesses",
    "Anne", "Robert", "David", "Alfonso", "Carlos", "Juan", "Felipe", "Gustav", "Olaf",
    "Christian", "Harald", "Haakon", "Rama", "Mehmed", "Selim", "Otto", "Rudolf", "Francis",
    "Joseph", "Leopold", "Sixtus", "Stephen", "Boleslaw", "Casimir", "Sigismund", "Umberto",
    "Vittorio", "Ludwig", "Friedrich", "Karl", "Franz", "Juliana", "Margrethe", "Isabella",
    "Pedro", "Manuel", "Baldwin", "Amenhotep", "Thutmose", "Ptolemy", "Antiochus", "Darius",
    "Xerxes", "Cyrus", NULL};
static const char *ROMAN_CARD[] = {
    "Chapter", "Part", "Volume", "Vol", "Book", "Act", "Scene", "Section", "Article",
    "Appendix", "Phase", "Stage", "Episode", "Season", "Round", "Title", "Class", "Type",
    "Level", "Grade", "Mark", "Schedule", "Canto", "Psalm", "Plate", "Figure", "Table",
    "War", "Bowl", "Apollo", "Vatican", "Council", "Division", "Corps", "Army", "Fleet",
    "Gemini", "Saturn", "Rocky", "Star", NULL};

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
    for (size_t i = pos; i < e; i++) if (!strchr("IVX", c->in[i])) ivx = 0;
    if (!regnal && !card) {
        if (!(ivx && e - pos >= 2 && v <= 39 && isupper((unsigned char)c->in[pl]))) return 0;
        /* an all-capitals neighbour ("THE END II"?) says nothing about context */
        int caps = 1;
        for (size_t i = pl; i < ph; i++) if (!isupper((unsigned char)c->in[i])) caps = 0;
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
    if (card) cardinal(&b, (uint64_t)v, gb(c));
    else { vx_sb_word(&b, "the"); ordinal(&b, (uint64_t)v, gb(c)); }
    if (b.over) return 0;
    vx_norm_say(c, pos, e, b.s);
    return e - pos;
}

/* "December 2, 2026", "Dec. 2nd", "March 3rd", "December 2026" */
static size_t date_month_first(vx_norm_ctx *c, size_t pos) {
    int m;
    size_t k = month_at(c, pos, &m);
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
        vx_sb_word(&b, MONTHS[m - 1]);
        year(&b, (unsigned)d, gb(c));
    } else {
        if (e + 2 <= c->len && isalpha((unsigned char)c->in[e]) && ord_suffix_ok(d, c->in + e) &&
            vx_norm_boundary_after(c, e + 2))
            e += 2;
        if (!vx_norm_boundary_after(c, e) || !valid_date(2000, m, (int)d)) return 0;
        int y = -1;
        size_t j = e;
        if (j < c->len && c->in[j] == ',') j++;
        j = vx_norm_skip_sp(c, j);
        uint64_t yv;
        if (j > e && vx_digits(c, j, &yv) == 4 && vx_norm_boundary_after(c, j + 4)) {
            y = (int)yv;
            e = j + 4;
        }
        say_date(&b, y, m, (int)d, 0, gb(c));
    }
    if (b.over) return 0;
    vx_norm_say(c, pos, e, b.s);
    return e - pos;
}

/* Symbols: & @ # + = and friends. */
static size_t symbol(vx_norm_ctx *c, size_t pos) {
    static const struct { const char *s, *w; } t[] = {
        {"+/-", "plus or minus"}, {"&", "and"}, {"@", "at"}, {"=", "equals"}, {"+", "plus"},
        {"\xC3\x97", "times"}, {"\xC3\xB7", "divided by"}, {"\xC2\xB1", "plus or minus"},
        {"\xE2\x89\x88", "approximately"}, {"\xE2\x89\xA0", "is not equal to"},
        {"\xE2\x89\xA4", "is less than or equal to"}, {"\xE2\x89\xA5", "is greater than or equal to"},
        {"\xC2\xA9", "copyright"}, {"\xC2\xAE", "registered"}, {"\xE2\x84\xA2", "trademark"},
        {"\xC2\xA7", "section"}, {"%", "percent"}, {"\xC2\xB0", "degrees"}};
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
    int start = pos == 0 || (!vx_norm_is_word_byte((unsigned char)c->in[pos - 1]) && c->in[pos - 1] != '_');
    if (start) {
        if ((k = vx_norm_url_email(c, pos))) return k;
        if ((k = currency_prefix(c, pos))) return k;
        if (isdigit(ch) || ((ch == '-' || ch == 0xE2) && pos + 1 < c->len)) {
            if ((k = numeric(c, pos))) return k;
        }
        if (ch == '(' && (k = phone(c, pos))) return k;
        if (ch == '+' && (k = phone(c, pos))) return k;
        if (ch == 'v' || ch == 'V') { if ((k = version(c, pos))) return k; }
        if (isupper(ch)) {
            if ((k = date_month_first(c, pos))) return k;
            if ((k = roman(c, pos))) return k;
        }
        if (isalpha(ch) && (k = abbreviation(c, pos))) return k;
        unsigned vn, vd;
        if ((k = vulgar_at(c, pos, &vn, &vd))) {
            vx_sb b;
            vx_sb_init(&b);
            say_fraction(&b, 0, 0, vn, vd, gb(c));
            vx_norm_say(c, pos, pos + k, b.s);
            return k;
        }
    }
    if (!isalnum(ch)) return symbol(c, pos);
    return 0;
}

const vx_norm_lang vx_norm_en = {
    .code = "en", .decimal_sep = '.', .group_sep = ',',
    .w_dot = "dot", .w_slash = "slash", .w_at = "at", .w_colon = "colon", .w_dash = "dash",
    .w_underscore = "underscore", .token = en_token,
};
