/* One process-wide gate in front of libespeak-ng.
 *
 * libespeak-ng keeps its state in process globals (current voice, synth callback,
 * translator, phoneme buffers), so it is not thread-safe. Every call into it, from any
 * vox module, must happen between vx_espeak_lock() and vx_espeak_unlock(). This lock is
 * the one deliberate global in libvox: it mirrors a global inside the library we call. */
#ifndef VX_ESPEAK_H
#define VX_ESPEAK_H
#include <stddef.h>

void vx_espeak_lock(void);
void vx_espeak_unlock(void);

/* Initialize libespeak-ng once for data_dir (NULL = system data). Call with the lock held.
 * A later call with another data_dir re-initializes. Returns espeak's sample rate
 * (22050) or a negative VOX_ERR_* with a message. */
int vx_espeak_init_locked(const char *data_dir, char *err, size_t errlen);
/* Select a voice by espeak name (e.g. "en-us"). Lock held. 0 or VOX_ERR_NOT_FOUND. */
int vx_espeak_set_voice_locked(const char *name, char *err, size_t errlen);

/* The longest run of non-space bytes libespeak-ng is given. Debian 12's 1.51 smashes its
 * stack on a word of ~170 bytes in some contexts ("x. " or "x ." before it; found by
 * fuzz_phonemize, which aborted in espeak_TextToPhonemes); a longer run reaches espeak
 * with a space inserted every VX_ESPEAK_MAX_WORD bytes (at a character boundary). Words
 * of natural language are far shorter (German compounds ~60-80 bytes); what is cut is
 * URLs, hashes and digit strings, which espeak spells or reads digit by digit anyway. */
#define VX_ESPEAK_MAX_WORD 100

/* The C string for espeak from s[0..len): NUL and U+0001 (espeak's embedded-command
 * marker) become spaces, and words longer than VX_ESPEAK_MAX_WORD bytes are broken as
 * above. *at (len_out + 2 entries) maps each byte of *out to its offset in s, an inserted
 * space to the byte after it; at[len_out] = len, at[len_out + 1] = len + 1 (espeak's
 * position after the terminator). Caller frees both. 0 or -1 (out of memory). */
int vx_espeak_text(const char *s, size_t len, char **out, size_t *len_out, size_t **at);
#endif
