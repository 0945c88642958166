/* Piper phonemes -> model input ids. */
#ifndef VX_TEXT_IDS_H
#define VX_TEXT_IDS_H
#include "voice/piper_config.h"
#include <stddef.h>
#include <stdint.h>

#define VX_IDS_MAX_PHONEMES (1u << 22) /* phonemes in one call */

/* Piper's phonemes_to_ids: vowel_clusters merged (longest first), phoneme_map applied,
 * then BOS '^', PAD '_', each phoneme's ids followed by PAD, EOS '$'. Phonemes missing
 * from the id map are dropped (noted on stderr when VOX_DEBUG is set), never an error.
 * id_phoneme (optional) gets, per id, the index in ph of the phoneme it came from, or
 * -1 for BOS/EOS/PAD. Arrays are malloc'd; the caller frees them. */
int vx_phonemes_to_ids(const vx_piper_config *c, const uint32_t *ph, size_t n, int64_t **ids,
                       size_t *n_ids, int32_t **id_phoneme, char *err, size_t errlen);
#endif
