/* Packed-weight cache: the load-time packing of a model's conv weights (pack.c), kept in a
 * file and mapped from the page cache on the next load of the same model by the same build.
 *
 * Why: on a warm load, packing is most of the load time. The packed arena is fresh memory
 * the kernel must zero (on a VM, pages the host must back first), plus a staging copy of
 * every misaligned weight and the packing itself: ~50 of ~80 ms for the medium voice.
 * A cache hit maps the file instead (already in the page cache after the first load:
 * no zeroing, no packing, pages shared between processes) and checks its checksum.
 *
 * One file per (model file identity, build of vox, kernel tables, precision, packing
 * layout): the name is a 128-bit hash of all of it, and the header repeats the key. Any
 * change to the model file (device, inode, size, mtime or ctime), to the code (the ELF
 * build-id of the object this file is linked into) or to the kernel choice gives a new
 * name. Without a build-id the cache is off: nothing else tells builds apart.
 *
 * Files are written to a temporary name and renamed, so readers see whole files only; a
 * 64-bit checksum over the data catches a file damaged afterwards (a torn write after a
 * power loss, a bad disk). A bad file is a miss: the weights are packed again and the file
 * rewritten. The directory is trusted like the model files (created 0700): the checksum is
 * not a signature. Limits: the directory keeps at most VOX_PACK_CACHE_MAX_MB (default
 * 1024) MiB of cache files; the least recently used (by mtime, set on every hit) go first.
 */
#ifndef VX_PACK_CACHE_H
#define VX_PACK_CACHE_H
#include <stddef.h>
#include <stdint.h>

#define VX_PACK_CACHE_MAX_MB_DEFAULT 1024
#define VX_PACK_CACHE_HDR            4096 /* header block; the data starts page-aligned */

/* The cache directory for an option value: NULL -> $VOX_PACK_CACHE, else
 * $XDG_CACHE_HOME/vox/pack, else $HOME/.cache/vox/pack; "off", "0" or "" (option or
 * variable) -> NULL (no cache). The result is in buf (n bytes), or NULL. */
const char *vx_pack_cache_dir(const char *opt, char *buf, size_t n);

/* Key hashing: start with vx_pack_key_init, feed words, read key[2]. */
typedef struct vx_pack_key {
    uint64_t h[2];
} vx_pack_key;
/* 0, or -1 when this build has no build-id (then no cache). */
int vx_pack_key_init(vx_pack_key *k);
void vx_pack_key_add(vx_pack_key *k, uint64_t w);
void vx_pack_key_str(vx_pack_key *k, const char *s);

/* 64-bit checksum of n bytes. */
uint64_t vx_pack_checksum(const void *p, size_t n);

/* A mapping (read-only, n bytes) of the cache file for key, or NULL (no file, or a file
 * that is not whole and intact: then it is removed). A hit marks the file used. */
void *vx_pack_cache_get(const char *dir, const vx_pack_key *key, size_t n);
/* Store n bytes for key (temporary file + rename), then keep the directory within its
 * limit. 0 on success; failures (no space, read-only directory) only mean no cache. */
int vx_pack_cache_put(const char *dir, const vx_pack_key *key, const void *data, size_t n);

/* Small named values kept with a cache file, in its header block's spare room (the
 * header is never mapped with the data): e.g. a voice's calibration gain, which depends
 * on exactly what the key names. At most VX_PACK_AUX_SLOTS names of VX_PACK_AUX_NAME - 1
 * characters, VX_PACK_AUX_BYTES each; every record has its own checksum (a torn or
 * foreign record reads as absent). 0 on success, -1: absent / not stored. */
#define VX_PACK_AUX_SLOTS 16
#define VX_PACK_AUX_NAME  32
#define VX_PACK_AUX_BYTES 16
int vx_pack_cache_aux_get(const char *dir, const vx_pack_key *key, const char *name, void *val,
                          size_t n);
int vx_pack_cache_aux_put(const char *dir, const vx_pack_key *key, const char *name,
                          const void *val, size_t n);

#endif
