/* Mirror of espeak-ng 1.51's ReadClause(); see clause.h for why. Only the paths a
 * plain-text espeak_TextToPhonemes call can take are kept: no SSML, no spoken
 * punctuation, no line-length option, no [[phoneme]] input mode. Text reaches espeak
 * as a C string it decodes with length strlen+1, so the codepoint stream we replay
 * ends with one U+0000, exactly as espeak's does. */
#include "text/clause.h"
#include "text/unicode.h"
#include <string.h>

#define N_BUF      800 /* espeak's N_TR_SOURCE: bytes of one clause's source text */
#define C_ELLIPSIS 0x2026

/* espeak-ng's own punctuation properties (its ucd-tools PropList). */
enum {
    P_FS = 1,
    P_Q = 2,
    P_E = 4,
    P_CM = 8,
    P_CL = 16,
    P_SC = 32,
    P_DASH = 64,
    P_ELL = 128,
    P_PARA = 256,
    P_OSA = 512,
    P_PIW = 1024,
    P_INV = 2048
};
static const struct {
    uint32_t lo, hi;
    uint16_t p;
} punct_props[] = {
    {0x21, 0x21, P_E},
    {0x2C, 0x2C, P_CM},
    {0x2E, 0x2E, P_FS},
    {0x3A, 0x3A, P_CL},
    {0x3B, 0x3B, P_SC},
    {0x3F, 0x3F, P_Q},
    {0xA1, 0xA1, P_E | P_OSA | P_INV},
    {0xBF, 0xBF, P_Q | P_OSA | P_INV},
    {0x37E, 0x37E, P_Q},
    {0x387, 0x387, P_SC},
    {0x55B, 0x55C, P_E | P_PIW},
    {0x55D, 0x55D, P_CM},
    {0x55E, 0x55E, P_Q | P_PIW},
    {0x589, 0x589, P_FS | P_OSA},
    {0x60C, 0x60C, P_CM},
    {0x61B, 0x61B, P_SC},
    {0x61F, 0x61F, P_Q},
    {0x6D4, 0x6D4, P_FS},
    {0x700, 0x700, P_PARA},
    {0x701, 0x701, P_FS},
    {0x702, 0x702, P_CM},
    {0x703, 0x703, P_E},
    {0x704, 0x704, P_FS},
    {0x706, 0x707, P_CL},
    {0x708, 0x708, P_SC},
    {0x709, 0x709, P_Q},
    {0x7F8, 0x7F8, P_CM},
    {0x7F9, 0x7F9, P_E},
    {0x964, 0x964, P_FS | P_OSA},
    {0x965, 0x965, P_PARA},
    {0xDF4, 0xDF4, P_FS | P_OSA},
    {0xEAF, 0xEAF, P_ELL},
    {0xF0D, 0xF0D, P_FS | P_OSA},
    {0xF0E, 0xF0E, P_PARA},
    {0xF14, 0xF14, P_CM},
    {0x10FB, 0x10FB, P_PARA},
    {0x1362, 0x1362, P_FS},
    {0x1363, 0x1363, P_CM},
    {0x1364, 0x1364, P_SC},
    {0x1365, 0x1366, P_CL},
    {0x1367, 0x1367, P_Q},
    {0x1368, 0x1368, P_PARA},
    {0x166E, 0x166E, P_FS},
    {0x1801, 0x1801, P_ELL},
    {0x1802, 0x1802, P_CM},
    {0x1803, 0x1803, P_FS},
    {0x1804, 0x1804, P_CL},
    {0x1808, 0x1808, P_CM},
    {0x1809, 0x1809, P_FS},
    {0x1944, 0x1944, P_E},
    {0x1945, 0x1945, P_Q},
    {0x2013, 0x2014, P_DASH},
    {0x2026, 0x2026, P_ELL},
    {0x2029, 0x2029, P_PARA},
    {0x203C, 0x203C, P_E},
    {0x2047, 0x2047, P_Q},
    {0x2048, 0x2049, P_Q | P_E},
    {0x204F, 0x204F, P_SC},
    {0x22EE, 0x22F1, P_ELL},
    {0x2488, 0x249B, P_FS},
    {0x2753, 0x2754, P_Q},
    {0x2755, 0x2755, P_E},
    {0x2757, 0x2757, P_E},
    {0x2762, 0x2763, P_E},
    {0x2982, 0x2982, P_CL},
    {0x2CF9, 0x2CF9, P_FS},
    {0x2CFA, 0x2CFB, P_Q},
    {0x2CFE, 0x2CFE, P_FS},
    {0x2E32, 0x2E32, P_CM},
    {0x2E33, 0x2E33, P_FS},
    {0x2E34, 0x2E34, P_CM},
    {0x2E35, 0x2E35, P_SC},
    {0x2E3A, 0x2E3B, P_DASH},
    {0x2E3C, 0x2E3C, P_FS},
    {0x2E41, 0x2E41, P_CM},
    {0x3001, 0x3001, P_CM | P_OSA},
    {0x3002, 0x3002, P_FS | P_OSA},
    {0xA4FE, 0xA4FE, P_CM},
    {0xA4FF, 0xA4FF, P_FS},
    {0xA60D, 0xA60D, P_CM},
    {0xA60E, 0xA60E, P_FS},
    {0xA60F, 0xA60F, P_Q},
    {0xA6F3, 0xA6F3, P_FS},
    {0xA6F4, 0xA6F4, P_CL},
    {0xA6F5, 0xA6F5, P_CM},
    {0xA6F6, 0xA6F6, P_SC},
    {0xA6F7, 0xA6F7, P_Q},
    {0xFE10, 0xFE11, P_CM},
    {0xFE12, 0xFE12, P_FS},
    {0xFE13, 0xFE13, P_CL},
    {0xFE14, 0xFE14, P_SC},
    {0xFE15, 0xFE15, P_E},
    {0xFE16, 0xFE16, P_Q},
    {0xFE19, 0xFE19, P_ELL},
    {0xFE31, 0xFE32, P_DASH},
    {0xFE50, 0xFE51, P_CM},
    {0xFE52, 0xFE52, P_FS},
    {0xFE54, 0xFE54, P_SC},
    {0xFE55, 0xFE55, P_CL},
    {0xFE56, 0xFE56, P_Q},
    {0xFE57, 0xFE57, P_E},
    {0xFF01, 0xFF01, P_E | P_OSA},
    {0xFF0C, 0xFF0C, P_CM | P_OSA},
    {0xFF0E, 0xFF0E, P_FS | P_OSA},
    {0xFF1A, 0xFF1A, P_CL | P_OSA},
    {0xFF1B, 0xFF1B, P_SC | P_OSA},
    {0xFF1F, 0xFF1F, P_Q | P_OSA},
    {0xFF61, 0xFF61, P_FS},
    {0xFF64, 0xFF64, P_CM},
    {0x11143, 0x11143, P_Q},
    {0x1144D, 0x1144D, P_CM},
    {0x12471, 0x12472, P_CL},
    {0x16AF5, 0x16AF5, P_FS},
    {0x1BC9F, 0x1BC9F, P_FS},
    {0x1DA87, 0x1DA87, P_CM},
    {0x1DA88, 0x1DA88, P_FS},
    {0x1DA89, 0x1DA89, P_SC},
    {0x1DA8A, 0x1DA8A, P_CL},
    {0x1E95E, 0x1E95E, P_E},
    {0x1E95F, 0x1E95F, P_Q},
    {0x1F100, 0x1F100, P_FS},
    {0x1F101, 0x1F10A, P_CM},
    {0xE0021, 0xE0021, P_E},
    {0xE002C, 0xE002C, P_CM},
    {0xE002E, 0xE002E, P_FS},
    {0xE003A, 0xE003A, P_CL},
    {0xE003B, 0xE003B, P_SC},
    {0xE003F, 0xE003F, P_Q},
};

static int props_of(uint32_t c) {
    size_t lo = 0, hi = sizeof punct_props / sizeof punct_props[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < punct_props[mid].lo)
            hi = mid;
        else if (c > punct_props[mid].hi)
            lo = mid + 1;
        else
            return punct_props[mid].p;
    }
    return 0;
}

/* espeak's clause_type_from_codepoint(): an exact match on the property set, so a
 * character with an unexpected combination (e.g. U+2049 "!?") is no terminator. */
static int clause_type(uint32_t c) {
    switch (props_of(c)) {
    case P_FS: return VX_CLAUSE_PERIOD;
    case P_FS | P_OSA: return VX_CLAUSE_PERIOD | VX_CLAUSE_OPTIONAL_SPACE_AFTER;
    case P_Q: return VX_CLAUSE_QUESTION;
    case P_Q | P_OSA: return VX_CLAUSE_QUESTION | VX_CLAUSE_OPTIONAL_SPACE_AFTER;
    case P_Q | P_PIW: return VX_CLAUSE_QUESTION | VX_CLAUSE_PUNCTUATION_IN_WORD;
    case P_E: return VX_CLAUSE_EXCLAMATION;
    case P_E | P_OSA: return VX_CLAUSE_EXCLAMATION | VX_CLAUSE_OPTIONAL_SPACE_AFTER;
    case P_E | P_PIW: return VX_CLAUSE_EXCLAMATION | VX_CLAUSE_PUNCTUATION_IN_WORD;
    case P_CM: return VX_CLAUSE_COMMA;
    case P_CM | P_OSA: return VX_CLAUSE_COMMA | VX_CLAUSE_OPTIONAL_SPACE_AFTER;
    case P_CL: return VX_CLAUSE_COLON;
    case P_CL | P_OSA: return VX_CLAUSE_COLON | VX_CLAUSE_OPTIONAL_SPACE_AFTER;
    case P_SC:
    case P_DASH: return VX_CLAUSE_SEMICOLON;
    case P_SC | P_OSA:
    case P_Q | P_OSA | P_INV:
    case P_E | P_OSA | P_INV: return VX_CLAUSE_SEMICOLON | VX_CLAUSE_OPTIONAL_SPACE_AFTER;
    case P_ELL:
        return VX_CLAUSE_SEMICOLON | VX_CLAUSE_SPEAK_PUNCTUATION_NAME |
               VX_CLAUSE_OPTIONAL_SPACE_AFTER;
    case P_PARA: return VX_CLAUSE_PARAGRAPH;
    default: return VX_CLAUSE_NONE;
    }
}

/* espeak's IsBracket(): brackets, quotes and U+2014..U+201F. */
static int is_bracket(uint32_t c) {
    if (c >= 0x2014 && c <= 0x201f) return 1;
    switch (c) {
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
    case '<':
    case '>':
    case '"':
    case '\'':
    case '`':
    case 0xab:
    case 0xbb:
    case 0x300a:
    case 0x300b:
    case 0xe000 + '<': return 1;
    default: return 0;
    }
}

static int is_roman_u(uint32_t c) { return c == 'I' || c == 'V' || c == 'X' || c == 'L'; }

static size_t utf8_len(uint32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }

void vx_clause_lang_for(const char *lang, vx_clause_lang *out) {
    /* Translators with NUM_ORDINAL_DOT in espeak-ng 1.51's tr_languages.c, and the one
     * voice with lowercaseSentence (Georgian). */
    static const char *const ordinal[] = {"da", "de",  "et", "fi", "hu", "kl", "lt",
                                          "lv", "ltg", "nl", "nb", "sl", "smj"};
    char code[8] = {0};
    size_t k = 0;
    while (lang && lang[k] && lang[k] != '-' && lang[k] != '_' && k < sizeof code - 1) {
        code[k] = lang[k];
        k++;
    }
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof ordinal / sizeof ordinal[0]; i++)
        if (!strcmp(code, ordinal[i])) out->ordinal_dot = 1;
    out->lowercase_sentence = !strcmp(code, "ka");
    out->hungarian = !strcmp(code, "hu");
}

void vx_clause_reader_init(vx_clause_reader *r, const uint32_t *cp, size_t n,
                           const vx_clause_lang *lang) {
    memset(r, 0, sizeof *r);
    r->cp = cp;
    r->n = n;
    if (lang) r->lang = *lang;
}

int vx_clause_more(const vx_clause_reader *r) { return r->pos < r->n; }

static int eof(const vx_clause_reader *r) { return !r->ungot && r->pos >= r->n; }

static uint32_t getc_(vx_clause_reader *r) {
    if (r->ungot) {
        uint32_t c = r->ungot;
        r->ungot = 0;
        r->last_idx = r->ungot_idx;
        return c;
    }
    if (r->pos >= r->n) {
        r->last_idx = r->n;
        return 0;
    }
    r->last_idx = r->pos;
    return r->cp[r->pos++];
}

static void ungetc_(vx_clause_reader *r, uint32_t c, size_t idx) {
    r->ungot = c;
    r->ungot_idx = idx;
}

/* Note that a codepoint at index idx (non-space) belongs to the clause. */
static void mark(vx_clause *cl, size_t idx) {
    if (cl->first > cl->last) cl->first = idx;
    cl->last = idx;
}

void vx_clause_read(vx_clause_reader *r, vx_clause *cl) {
    uint32_t c1 = ' ', c2, cprev = ' ', cprev2 = ' ', c_next;
    size_t i1 = 0, i2, i_next;
    int any_alnum = 0, ix = 0, punct_data;
    const size_t none = (size_t)-1;
    cl->first = 1;
    cl->last = 0;
    cl->term_idx = none;

    if (eof(r)) {
        c2 = 0;
        i2 = r->n;
    } else {
        c2 = getc_(r);
        i2 = r->last_idx;
    }

    while (!eof(r) || r->ungot) {
        cprev2 = cprev;
        cprev = c1;
        c1 = c2;
        i1 = i2;
        if (eof(r)) {
            c2 = ' ';
            i2 = r->n;
        } else {
            c2 = getc_(r);
            i2 = r->last_idx;
        }

        /* tr->chars_ignore (default list): soft hyphen, zero-width non-joiner. */
        if (c1 == 0xad || c1 == 0x200c) continue;
        if (vx_uni_isalnum(c1))
            any_alnum = 1;
        else if (c1 == 0xf0b)
            c1 = ' ';

        if (c1 == '\n') {
            int parag = 0;
            while (!eof(r) && vx_uni_isspace(c2)) {
                if (c2 == '\n') parag++;
                c2 = getc_(r);
                i2 = r->last_idx;
            }
            if (parag > 0) { /* blank line: a paragraph ends the sentence */
                ungetc_(r, c2, i2);
                if (parag > 3) parag = 3;
                cl->terminator = (VX_CLAUSE_PARAGRAPH - 30) + 30 * parag;
                return;
            }
        }

        int is_end_clause = 0;
        if (c1 == '.' && c2 == '.') { /* three or more dots: an ellipsis */
            size_t dot_idx = i2;
            while ((c_next = getc_(r)) == '.') {
                dot_idx = r->last_idx;
                c1 = C_ELLIPSIS;
                c2 = ' ';
            }
            i_next = r->last_idx;
            if (c1 == C_ELLIPSIS) {
                c2 = c_next;
                i2 = i_next;
                i1 = dot_idx;
            } else
                ungetc_(r, c_next, i_next);
        }

        if ((punct_data = clause_type(c1)) != VX_CLAUSE_NONE) {
            /* runs of ? and !: the first decides */
            if (punct_data & (VX_CLAUSE_QUESTION | VX_CLAUSE_EXCLAMATION)) {
                while (clause_type(c2) & (VX_CLAUSE_QUESTION | VX_CLAUSE_EXCLAMATION)) {
                    i1 = i2; /* the run belongs to this clause's span */
                    c2 = getc_(r);
                    i2 = r->last_idx;
                }
            }
            if (punct_data & VX_CLAUSE_PUNCTUATION_IN_WORD) continue; /* Armenian */
            if (vx_uni_isspace(c2) || (punct_data & VX_CLAUSE_OPTIONAL_SPACE_AFTER) ||
                is_bracket(c2) || c2 == '?' || eof(r))
                is_end_clause = 1;
        }

        if (is_end_clause) {
            int nl_count = 0;
            c_next = c2;
            i_next = i2;
            if (vx_uni_isspace(c_next)) {
                while (!eof(r) && vx_uni_isspace(c_next)) {
                    if (c_next == '\n') nl_count++;
                    c_next = getc_(r);
                    i_next = r->last_idx;
                }
            }
            if (nl_count == 0) {
                if (c1 == ',' && cprev == '.' && r->lang.hungarian && vx_uni_isdigit(cprev2) &&
                    (vx_uni_isdigit(c_next) || vx_uni_islower(c_next)))
                    is_end_clause = 0; /* "december 2., szerda" */
                if (c1 == '.' && c_next == '\'' && r->pos < r->n && r->cp[r->pos] == 's')
                    is_end_clause = 0; /* u.s.a.'s */
                if (c1 == '.') {
                    if (r->lang.ordinal_dot &&
                        (vx_uni_isdigit(cprev) ||
                         (is_roman_u(cprev) && (is_roman_u(cprev2) || vx_uni_isspace(cprev2))))) {
                        if (!vx_uni_isdigit(cprev))
                            is_end_clause = 0;
                        else if (vx_uni_islower(c_next) || c_next == '-')
                            is_end_clause = 0;
                    }
                    if (vx_uni_islower(c_next) && !r->lang.lowercase_sentence)
                        is_end_clause = 0; /* probably an abbreviation */
                    if (!any_alnum) {
                        c1 = ' ';
                        is_end_clause = 0;
                    }
                } else if (!any_alnum) {
                    is_end_clause = 0;
                }
            }
            if (is_end_clause) {
                ungetc_(r, c_next, i_next);
                cl->term_idx = i1;
                mark(cl, i1);
                if (nl_count > 1) {
                    if (punct_data == VX_CLAUSE_QUESTION || punct_data == VX_CLAUSE_EXCLAMATION)
                        cl->terminator = punct_data + 35;
                    else
                        cl->terminator = VX_CLAUSE_PARAGRAPH;
                    return;
                }
                cl->terminator = punct_data;
                return;
            } else if (!eof(r) && vx_uni_isspace(c2)) {
                ungetc_(r, c_next, i_next);
            }
        }

        /* The character goes into espeak's clause buffer. */
        ix += (int)utf8_len(c1);
        if (!vx_uni_isspace(c1) && c1 != 0) mark(cl, i1);
        if ((ix > N_BUF - 75 && !vx_uni_isalpha_espeak(c1) && !vx_uni_isdigit(c1)) ||
            ix >= N_BUF - 4) {
            /* clause too long: espeak breaks it here, with no terminator */
            ungetc_(r, c2, i2);
            cl->terminator = VX_CLAUSE_NONE;
            return;
        }
    }
    cl->terminator = VX_CLAUSE_EOF;
}

const char *vx_clause_punct(int t) {
    switch (t & 0x000FFFFF) {
    case VX_CLAUSE_PERIOD: return ".";
    case VX_CLAUSE_QUESTION: return "?";
    case VX_CLAUSE_EXCLAMATION: return "!";
    case VX_CLAUSE_COMMA: return ", ";
    case VX_CLAUSE_COLON: return ": ";
    case VX_CLAUSE_SEMICOLON: return "; ";
    default: return "";
    }
}
