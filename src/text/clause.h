/* A mirror of espeak-ng 1.51's clause reader (ReadClause in readclause.c).
 *
 * Why: Piper needs, for every clause espeak_TextToPhonemes consumes, the clause's
 * terminator (which punctuation to append) and whether it ends a sentence. Piper gets
 * both from espeak_TextToPhonemesWithTerminator, a function Debian's libespeak-ng 1.51
 * does not have. Scanning backwards from where espeak stopped is not enough (quotes,
 * ellipses, "?!" runs, abbreviations before lower-case words, blank lines all change the
 * answer), so we replay espeak's own forward decision procedure on the same codepoints,
 * with espeak's character classes, for the plain-text case Piper uses (no SSML, no
 * spoken punctuation, no line-length option). The reader also reproduces espeak's
 * one-character lookahead ("ungot" character), so its position after each clause can be
 * checked against the text pointer espeak returns.
 */
#ifndef VX_TEXT_CLAUSE_H
#define VX_TEXT_CLAUSE_H
#include <stddef.h>
#include <stdint.h>

/* espeak-ng's clause codes (translate.h), as Piper reads them. */
#define VX_CLAUSE_PAUSE                  0x00000FFF
#define VX_CLAUSE_INTONATION_TYPE        0x00007000
#define VX_CLAUSE_OPTIONAL_SPACE_AFTER   0x00008000
#define VX_CLAUSE_TYPE_EOF               0x00010000
#define VX_CLAUSE_TYPE_CLAUSE            0x00040000
#define VX_CLAUSE_TYPE_SENTENCE          0x00080000
#define VX_CLAUSE_PUNCTUATION_IN_WORD    0x00100000
#define VX_CLAUSE_SPEAK_PUNCTUATION_NAME 0x00200000
#define VX_CLAUSE_DOT_AFTER_LAST_WORD    0x00400000
#define VX_CLAUSE_NONE                   (0 | 0x4000)
#define VX_CLAUSE_PARAGRAPH              (70 | VX_CLAUSE_TYPE_SENTENCE)
#define VX_CLAUSE_EOF                    (40 | VX_CLAUSE_TYPE_SENTENCE | VX_CLAUSE_TYPE_EOF)
#define VX_CLAUSE_PERIOD                 (40 | VX_CLAUSE_TYPE_SENTENCE)
#define VX_CLAUSE_COMMA                  (20 | 0x1000 | VX_CLAUSE_TYPE_CLAUSE)
#define VX_CLAUSE_QUESTION               (40 | 0x2000 | VX_CLAUSE_TYPE_SENTENCE)
#define VX_CLAUSE_EXCLAMATION            (45 | 0x3000 | VX_CLAUSE_TYPE_SENTENCE)
#define VX_CLAUSE_COLON                  (30 | VX_CLAUSE_TYPE_CLAUSE)
#define VX_CLAUSE_SEMICOLON              (30 | 0x1000 | VX_CLAUSE_TYPE_CLAUSE)

/* Language-dependent clause rules (espeak's langopts). */
typedef struct vx_clause_lang {
    int ordinal_dot;        /* NUM_ORDINAL_DOT: "3. oktober" does not end a clause */
    int lowercase_sentence; /* a dot before a lower-case word still ends a clause */
    int hungarian;          /* "2., szerda" comma rule */
} vx_clause_lang;
void vx_clause_lang_for(const char *lang, vx_clause_lang *out);

typedef struct vx_clause_reader {
    const uint32_t *cp; /* codepoints of the text */
    size_t n;
    size_t pos;     /* next codepoint espeak's decoder would read */
    uint32_t ungot; /* espeak's ungot_char (0 = none) */
    size_t ungot_idx;
    size_t last_idx; /* index of the codepoint GetC returned last */
    vx_clause_lang lang;
} vx_clause_reader;

typedef struct vx_clause {
    int terminator;     /* espeak clause code (VX_CLAUSE_*, possibly with flags) */
    size_t first, last; /* codepoint index range of the clause's non-space text;
                              first > last when it has none */
    size_t term_idx;    /* index of the punctuation that ended it, or (size_t)-1 */
} vx_clause;

void vx_clause_reader_init(vx_clause_reader *r, const uint32_t *cp, size_t n,
                           const vx_clause_lang *lang);
/* 1 while espeak would still return a non-NULL text pointer (more to read). */
int vx_clause_more(const vx_clause_reader *r);
/* Read one clause like ReadClause. */
void vx_clause_read(vx_clause_reader *r, vx_clause *out);

/* Piper's terminator text for a clause code: ".", "?", "!", ", ", ": ", "; " or "". */
const char *vx_clause_punct(int terminator);
static inline int vx_clause_ends_sentence(int t) {
    return (t & VX_CLAUSE_TYPE_SENTENCE) == VX_CLAUSE_TYPE_SENTENCE;
}
#endif
