/* Unicode helpers for the text front end: UTF-8 decoding, the character classes
 * espeak-ng's own tables define (its clause reader uses them, so our mirror of it
 * must too), and canonical decomposition (NFD) as Piper applies it to phonemes. */
#ifndef VX_TEXT_UNICODE_H
#define VX_TEXT_UNICODE_H
#include <stddef.h>
#include <stdint.h>

/* Decode one UTF-8 codepoint at s[*i] (i < len), advance *i. Invalid bytes decode
 * as U+FFFD and advance by one byte (callers validate UTF-8 first; this only keeps
 * arbitrary input safe). */
uint32_t vx_utf8_next(const char *s, size_t len, size_t *i);
/* Encode c into out (>= 4 bytes); returns the number of bytes. */
size_t vx_utf8_put(uint32_t c, char *out);

/* espeak-ng ucd-tools semantics (ucd_isalpha etc.). */
int vx_uni_isalpha(uint32_t c);
int vx_uni_isalnum(uint32_t c);
int vx_uni_isupper(uint32_t c);
int vx_uni_islower(uint32_t c);
int vx_uni_isspace(uint32_t c);
int vx_uni_isdigit(uint32_t c); /* ASCII 0-9 only, as ucd_isdigit */
/* espeak-ng's IsAlpha(): iswalpha plus some in-word marks (combining accents, ...). */
int vx_uni_isalpha_espeak(uint32_t c);

/* Canonical combining class. */
int vx_uni_ccc(uint32_t c);
/* Canonical decomposition of in[0..n) appended to *out (a growing array with
 * capacity *cap, at most max codepoints). Returns 0, or -1 when max is exceeded or
 * allocation fails. Equal to Python's unicodedata.normalize("NFD", ...). */
int vx_uni_nfd(const uint32_t *in, size_t n, uint32_t **out, size_t *n_out, size_t *cap,
               size_t max);

/* Generated tables (unitab.c). */
typedef struct vx_uni_decomp {
    uint32_t cp;
    uint32_t d[4];
} vx_uni_decomp;
typedef struct vx_uni_ccc_range {
    uint32_t lo, hi;
    uint8_t ccc;
} vx_uni_ccc_range;
extern const uint32_t vx_uni_alpha[][2], vx_uni_alnum[][2], vx_uni_upper[][2], vx_uni_lower[][2],
    vx_uni_space[][2];
extern const size_t vx_uni_alpha_n, vx_uni_alnum_n, vx_uni_upper_n, vx_uni_lower_n, vx_uni_space_n;
extern const vx_uni_decomp vx_uni_nfd_tab[];
extern const size_t vx_uni_nfd_tab_n;
extern const vx_uni_ccc_range vx_uni_ccc_tab[];
extern const size_t vx_uni_ccc_tab_n;
#endif
