/* Text normalization: written forms ("$1.2M", "8:30 pm", "2026-12-02", "Henry VIII")
 * become the words a reader says, before phonemization, and every piece of the output
 * remembers the byte range of the input it came from, so word timings and subtitles
 * point at "$500", not at "five hundred dollars".
 *
 * Why our own code: no Debian library does locale-aware TTS normalization in C with
 * span mapping (espeak-ng reads numbers itself, but "$500" becomes "dollar five
 * hundred"; see issue 17). We keep what espeak-ng already reads well (plain words,
 * most initialisms) and rewrite only tokens a rule recognizes; everything else is
 * copied byte for byte, so text with nothing to normalize is unchanged.
 *
 * Per-language module interface (norm_en*.c, norm_de.c, norm_fr.c, norm_es.c):
 * a module is one const vx_norm_lang. The shared driver (norm.c) walks the text,
 * passes "[[ raw phonemes ]]" blocks through untouched, and at every token start
 * (a position not preceded by a letter or digit) calls lang->token(ctx, pos). The
 * rule either returns 0 (no match; the driver copies one character and moves on) or
 * emits the spoken form with vx_norm_say / vx_norm_copy for a prefix of the input
 * starting at pos and returns its length in bytes. Rules must consume at least one
 * byte when they return non-zero and may only look at ctx->in. The module's word
 * lists (numbers, months, units) are its own; the shared helpers below do number
 * scanning and output bookkeeping. A module with no rule for something returns 0 and
 * the text reaches espeak-ng unchanged.
 *
 * Limits: the output is at most VX_NORM_MAX_OUT bytes (VOX_ERR_TOO_LONG beyond);
 * integers above 15 digits are read digit by digit; one token's spoken form is at
 * most VX_NORM_MAX_WORDS bytes (longer ones are left as written).
 */
#ifndef VX_TEXT_NORM_H
#define VX_TEXT_NORM_H
#include <stddef.h>
#include <stdint.h>

#define VX_NORM_MAX_OUT   (1u << 20) /* bytes of normalized text (= the phonemizer's limit) */
#define VX_NORM_MAX_WORDS 1024       /* bytes of one token's spoken form */

/* One piece of output: out[out_off, out_off+out_len) came from in[in_off, in_off+in_len).
 * copy = 1: the bytes are the input's own, one to one (out_len == in_len). */
typedef struct vx_norm_piece {
    size_t out_off, out_len, in_off, in_len;
    int copy;
} vx_norm_piece;

/* Normalized text and its pieces (sorted by out_off, contiguous, covering text). */
typedef struct vx_norm {
    char *text; /* NUL-terminated */
    size_t len, cap;
    vx_norm_piece *p;
    size_t np, pcap;
    int err; /* sticky: 0 or a VOX_ERR_* */
} vx_norm;

/* Locale details a module may need. */
enum { VX_NORM_REGION_DEFAULT = 0, VX_NORM_REGION_US, VX_NORM_REGION_GB };

typedef struct vx_norm_ctx vx_norm_ctx;
typedef struct vx_lex vx_lex;

typedef struct vx_norm_lang {
    const char *code; /* "en", "de", "fr", "es" */
    char decimal_sep; /* '.' or ',' */
    char group_sep;   /* ',' '.' or ' ' (also accepts U+00A0 / U+202F for ' ') */
    /* Words for the shared URL / e-mail reader. */
    const char *w_dot, *w_slash, *w_at, *w_colon, *w_dash, *w_underscore;
    /* Try the module's rules at a token start; see the interface comment above. */
    size_t (*token)(vx_norm_ctx *c, size_t pos);
} vx_norm_lang;

struct vx_norm_ctx {
    const char *in; /* the input text (valid UTF-8) */
    size_t len;
    const vx_norm_lang *lang;
    int region; /* VX_NORM_REGION_* (en: US vs GB dates and "and") */
    vx_norm *out;
    const vx_lex *lex; /* pronunciation lexicon or NULL (applied before the rules) */
    int ipa;           /* lexicon IPA entries become "[[ phonemes ]]" */
};

typedef struct vx_norm_opts {
    const char *tag;   /* language tag for the rules */
    int rules;         /* 1: the language's rules; 0: lexicon only */
    const vx_lex *lex; /* or NULL */
    int ipa;           /* 1: the voice takes IPA phonemes (Piper); 0: IPA entries
                                 are skipped, respellings still apply */
} vx_norm_opts;

/* The module for a language tag ("en-us", "en_GB", "de", "fr-fr", "es-419", ...), or
 * NULL when there is none (the text is then left as it is). *region gets the region. */
const vx_norm_lang *vx_norm_lang_for(const char *tag, int *region);

/* Normalize in[0..len) (valid UTF-8) for a language tag. out is initialized here and
 * freed with vx_norm_free, also on error. Returns 0 or VOX_ERR_NOMEM / VOX_ERR_TOO_LONG
 * with a message in err. Unknown languages give an identity result. */
int vx_normalize(const char *tag, const char *in, size_t len, vx_norm *out, char *err,
                 size_t errlen);
void vx_norm_free(vx_norm *n);
/* The same with a lexicon: at every word start the longest key of up to the lexicon's
 * max words matches first (its respelling, or its IPA as a raw phoneme block). */
int vx_normalize_opts(const vx_norm_opts *o, const char *in, size_t len, vx_norm *out, char *err,
                      size_t errlen);

/* Map an output byte range [lo, hi) back to the input range it came from. A range
 * inside a spoken piece maps to the whole written token; copied bytes map exactly. */
void vx_norm_map(const vx_norm *n, size_t lo, size_t hi, size_t *in_lo, size_t *in_hi);

/* ----------------------------------------------------- helpers for the modules */

/* Append in[lo, hi) unchanged / append spoken for in[lo, hi). Spoken text gets a space
 * before or after when it would otherwise touch a letter or digit. */
void vx_norm_copy(vx_norm_ctx *c, size_t lo, size_t hi);
void vx_norm_say(vx_norm_ctx *c, size_t lo, size_t hi, const char *spoken);

/* A bounded string builder for spoken forms. */
typedef struct vx_sb {
    char s[VX_NORM_MAX_WORDS];
    size_t n;
    int over;
} vx_sb;
void vx_sb_init(vx_sb *b);
void vx_sb_raw(vx_sb *b, const char *s);  /* append as is */
void vx_sb_word(vx_sb *b, const char *w); /* append with a space before if needed */
void vx_sb_chop(vx_sb *b, size_t n);      /* drop the last n bytes */

/* A number as written: digits of the integer part (group separators removed) and of
 * the fraction. */
typedef struct vx_num {
    size_t end; /* input offset after the number */
    char ip[32];
    size_t nip; /* integer digits (may be empty for ".5") */
    char fp[32];
    size_t nfp; /* fraction digits */
    int has_frac, grouped, neg;
    uint64_t value; /* integer part, if nip <= 15 */
} vx_num;

/* Scan a number at pos: [-|−]? digits (groups of 3 after group_sep allowed)
 * (decimal_sep digits)?. signed_ok allows a leading minus. Returns 1 on a match. */
int vx_num_scan(const vx_norm_ctx *c, size_t pos, int signed_ok, vx_num *n);
/* Plain digits only at pos (no sign, no separators); returns count (0 = none). */
size_t vx_digits(const vx_norm_ctx *c, size_t pos, uint64_t *value);

/* Character classes on the input. */
int vx_norm_is_word_byte(unsigned char ch); /* ASCII letter/digit or any non-ASCII byte */
int vx_norm_boundary_after(const vx_norm_ctx *c, size_t pos); /* no letter/digit at pos */
/* Case-insensitive match of ASCII word w at pos, followed by a boundary. Returns len. */
size_t vx_norm_word_at(const vx_norm_ctx *c, size_t pos, const char *w);
/* Skip spaces (ASCII space, U+00A0, U+202F) from pos; returns the new position. */
size_t vx_norm_skip_sp(const vx_norm_ctx *c, size_t pos);
/* The previous word before pos (skipping spaces): [*lo, *hi). Returns 0 if none. */
int vx_norm_prev_word(const vx_norm_ctx *c, size_t pos, size_t *lo, size_t *hi);

/* Shared rules (norm.c), which modules call from their token function. */
size_t vx_norm_url_email(vx_norm_ctx *c, size_t pos);
/* Value of a Roman numeral in in[lo, hi) (canonical form only), or 0. */
int vx_roman_value(const char *s, size_t n);

extern const vx_norm_lang vx_norm_en, vx_norm_de, vx_norm_fr, vx_norm_es;
#endif
