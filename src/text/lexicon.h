/* Pronunciation lexicon: a plain source file compiled once into a sorted binary image
 * that is memory-mapped read-only (so every voice and process using it shares the
 * pages), with hot reload by atomic swap.
 *
 * Source format (UTF-8, one entry per line; '#' starts a comment line):
 *     word<TAB>/IPA/          phonemes for neural (Piper) voices, e.g. tomato<TAB>/təˈmɑːtoʊ/
 *     word<TAB>sounds like    a respelling every voice reads, e.g. nginx<TAB>engine x
 * Keys may be several words ("New York<TAB>/nuː jˈɔːɹk/"); runs of spaces in a key are
 * one space, and it matches the same words separated by any spaces in the text.
 * Case rules: a key matches regardless of case (ASCII, Latin-1 and Cyrillic letters are
 * folded); a key written as !Key matches only exactly as written, and wins over a
 * case-free key with the same letters. A later line for the same key replaces an
 * earlier one. IPA entries apply only to voices that take phonemes (Piper); espeak-ng
 * voices skip them (espeak's [[ ]] input is not IPA) and use respellings only.
 *
 * Limits (errors name the line): source <= 64 MiB, <= 4M entries, key <= 255 bytes
 * and <= 8 words, value <= 1000 bytes, no control characters, no '[' or ']' in values.
 *
 * Image ("VOXLEX1\n", little-endian): a 64-byte header, then n index entries of 20 bytes
 * sorted by folded key (exact-case entries first among equals), then the strings. The
 * loader checks every offset and the order before use, so a damaged or hostile image
 * is refused, never read out of bounds.
 */
#ifndef VX_TEXT_LEXICON_H
#define VX_TEXT_LEXICON_H
#include <stddef.h>
#include <stdint.h>

#define VX_LEX_MAX_SOURCE  (64u << 20)
#define VX_LEX_MAX_ENTRIES (4u << 20)
#define VX_LEX_MAX_KEY     255
#define VX_LEX_MAX_WORDS   8
#define VX_LEX_MAX_VALUE   1000

enum { VX_LEX_IPA = 1, VX_LEX_RESPELL = 2 };

typedef struct vx_lex vx_lex;

typedef struct vx_lex_hit {
    const char *value; /* IPA (without slashes) or respelling; not NUL-terminated */
    size_t value_len;
    int kind; /* VX_LEX_IPA or VX_LEX_RESPELL */
} vx_lex_hit;

/* Compile source text to an image in memory (*img malloc'd). Returns 0 or a VOX_ERR_*
 * with "line N: ..." in err. */
int vx_lex_compile(const char *src, size_t len, unsigned char **img, size_t *img_len, char *err,
                   size_t errlen);
/* Check an image (as the loader does); 0 if it is sound. */
int vx_lex_validate(const unsigned char *img, size_t len, char *err, size_t errlen);
/* Use an image in memory (validated; not copied: it must outlive the vx_lex). */
int vx_lex_from_memory(const unsigned char *img, size_t len, vx_lex **out, char *err,
                       size_t errlen);
/* Open a lexicon file: a compiled image is mapped; a source file is compiled to
 * PATH.vxlex beside it (reused while the source is unchanged; written atomically) and
 * that is mapped, or compiled into memory when the directory is not writable. */
int vx_lex_open(const char *path, vx_lex **out, char *err, size_t errlen);
/* References: open/from_memory return one; release frees at zero. Thread-safe. */
vx_lex *vx_lex_ref(vx_lex *l);
void vx_lex_release(vx_lex *l);

size_t vx_lex_count(const vx_lex *l);
unsigned vx_lex_max_words(const vx_lex *l);
/* Look up a key (words separated by single spaces) as written in the text. */
int vx_lex_find(const vx_lex *l, const char *key, size_t n, vx_lex_hit *hit);

/* Fold case in place (ASCII, Latin-1, Cyrillic; byte length never changes). */
void vx_lex_fold(char *s, size_t n);

/* Hot reload: a watch holds the current lexicon of a path. vx_lex_watch_get returns a
 * new reference to it (release it when done), first reloading if the file changed
 * (checked at most every check_ms). A reload that fails keeps the old lexicon (its
 * error is kept for vx_lex_watch_error). A synthesis holding the old reference keeps
 * using it; the old map goes when the last holder releases it. Thread-safe. */
typedef struct vx_lex_watch vx_lex_watch;
int vx_lex_watch_open(const char *path, unsigned check_ms, vx_lex_watch **out, char *err,
                      size_t errlen);
vx_lex *vx_lex_watch_get(vx_lex_watch *w);
/* Copy the last reload error ("" if none) into buf. Returns the number of reloads done. */
unsigned vx_lex_watch_status(vx_lex_watch *w, char *buf, size_t cap);
void vx_lex_watch_free(vx_lex_watch *w);
#endif
