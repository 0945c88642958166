/* SSML front end: an SSML document becomes plain text (what is said, with <phoneme> as
 * "[[ IPA ]]" for voices that take phonemes) whose pieces map back to byte ranges of the
 * document, cut into blocks that share prosody, voice and language, with the pauses of
 * <break> and the positions of <mark>.
 *
 * Subset (W3C SSML 1.1): <speak xml:lang>, <p>, <s>, <break time|strength>,
 * <prosody rate pitch volume>, <say-as interpret-as="characters|spell-out|cardinal|
 * ordinal|digits|date|time|telephone|currency" format>, <phoneme alphabet="ipa" ph>,
 * <sub alias>, <emphasis>, <mark name>, <voice name>, <lang xml:lang>. Elements outside
 * the subset are refused with their name; <emphasis> is accepted and its content said
 * (neither voice kind has an emphasis control we could drive). <p>, <s>, <break>,
 * <prosody>, <voice> and <lang> start a new block, so a sentence ends there.
 *
 * Parsed with expat. A DOCTYPE (and so every entity declaration, the billion-laughs
 * attack) is refused; only the five predefined XML entities and character references
 * work. Errors name the line and column.
 *
 * Limits: nesting depth 32, 10000 elements, 1000 marks, attribute values 1000 bytes,
 * one break at most 60 s, the document at most VOX_MAX_TEXT_BYTES.
 */
#ifndef VX_TEXT_SSML_H
#define VX_TEXT_SSML_H
#include "text/norm.h"
#include <stddef.h>

#define VX_SSML_MAX_DEPTH    32
#define VX_SSML_MAX_ELEMENTS 10000
#define VX_SSML_MAX_MARKS    1000
#define VX_SSML_MAX_ATTR     1000
#define VX_SSML_MAX_BREAK    60.0

typedef struct vx_ssml_block {
    size_t lo, hi;             /* its text: doc.text.text[lo, hi) */
    float rate, pitch, volume; /* multipliers, 1 = unchanged */
    double break_after;        /* seconds of silence after it */
    char voice[128];           /* <voice name>, "" = the synthesis' own voice */
    char lang[32];             /* xml:lang in effect, "" = the voice's language */
} vx_ssml_block;

typedef struct vx_ssml_mark {
    char name[128];
    size_t block; /* the block it is in */
    size_t pos;   /* position in doc.text.text */
    size_t src;   /* byte offset of the <mark> in the document */
} vx_ssml_mark;

typedef struct vx_ssml {
    vx_norm text; /* what is said; pieces map to document bytes */
    vx_ssml_block *b;
    size_t nb;
    vx_ssml_mark *m;
    size_t nm;
} vx_ssml;

/* Does text look like SSML (optional BOM, spaces and <?xml ...?>, then "<speak")? */
int vx_ssml_detect(const char *text, size_t len);
/* Parse; ipa = 1 when the voice takes IPA (Piper). Returns 0 or VOX_ERR_SSML (message
 * "SSML line L, column C: ...") / VOX_ERR_NOMEM. out is freed with vx_ssml_free, also
 * on error. */
int vx_ssml_parse(const char *doc, size_t len, int ipa, const char *lang, vx_ssml *out, char *err,
                  size_t errlen);
void vx_ssml_free(vx_ssml *s);
#endif
