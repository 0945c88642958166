/* Piper's text front end: text -> sentences of phoneme codepoints, exactly as Piper
 * (piper1-gpl / piper-phonemize) produces them with espeak-ng. */
#ifndef VX_TEXT_PHONEMIZE_H
#define VX_TEXT_PHONEMIZE_H
#include <stddef.h>
#include <stdint.h>

/* Explicit limits. */
#define VX_PHONEMIZE_MAX_TEXT     (1u << 20) /* bytes of input text */
#define VX_PHONEMIZE_MAX_PHONEMES (1u << 22) /* codepoints over all sentences */

typedef struct vx_word {
    size_t offset, length;   /* byte span in the input text */
    size_t ph_start, ph_end; /* codepoint range in phonemes[] (may be empty) */
} vx_word;

typedef struct vx_sentence {
    size_t offset, length; /* byte span of the input text this sentence covers */
    uint32_t *phonemes;    /* Piper phoneme codepoints (NFD, terminators and spaces
                              appended as Piper does) */
    size_t n_phonemes;
    vx_word *words; /* best-effort mapping for timings/subtitles */
    size_t n_words;
} vx_sentence;

typedef struct vx_phonemize_opts {
    const char *espeak_voice; /* e.g. "en-us" (config espeak.voice) */
    const char *espeak_data;  /* NULL = system */
    int phoneme_type_text;    /* 1: phonemes are the text's own codepoints (NFD) */
} vx_phonemize_opts;

/* Phonemize text[0..len) (valid UTF-8; callers check). Sentences with no phonemes
 * are left out, so *n may be 0. Takes the espeak lock itself. Returns 0 or a
 * VOX_ERR_* with a message in err. */
int vx_phonemize(const vx_phonemize_opts *o, const char *text, size_t len, vx_sentence **out,
                 size_t *n, char *err, size_t errlen);
void vx_sentences_free(vx_sentence *s, size_t n);
#endif
