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
#endif
