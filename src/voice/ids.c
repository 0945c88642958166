#include "util/vec.h"
#include "voice/ids.h"
#include "util/log.h"
#include "vox.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct idbuf {
    int64_t *ids;
    int32_t *src;
    size_t n, cap;
} idbuf;

static int put(idbuf *b, const vx_phoneme_ids *p, int32_t src) {
    size_t need = b->n + (size_t)p->n_ids, cap_src = b->cap;
    if (vx_grow((void **)&b->src, &cap_src, need, sizeof *b->src, 64) ||
        vx_grow((void **)&b->ids, &b->cap, need, sizeof *b->ids, 64))
        return -1;
    /* both arrays hold at least b->cap entries (src's capacity grew the same way) */
    for (int k = 0; k < p->n_ids; k++) {
        b->ids[b->n] = p->ids[k];
        b->src[b->n++] = src;
    }
    return 0;
}

/* Longest vowel cluster starting at ph[i] (0 if none). */
static int cluster_at(const vx_piper_config *c, const uint32_t *ph, size_t n, size_t i) {
    int best = 0;
    for (size_t k = 0; k < c->n_vowel_clusters; k++) {
        const vx_phoneme_key *v = &c->vowel_clusters[k];
        if (v->len <= best || i + (size_t)v->len > n) continue;
        if (!memcmp(v->cp, ph + i, (size_t)v->len * sizeof *ph)) best = v->len;
    }
    return best;
}

/* A phoneme the voice cannot say is dropped, as Piper does; debug builds say which. */
static void note_missing(const uint32_t *key, int len) {
    VX_DEBUG("phoneme not in id map, dropped: U+%04X%s", len > 0 ? (unsigned)key[0] : 0u,
             len > 1 ? " (+more codepoints)" : "");
}

/* One phoneme (after cluster merge): phoneme_map, then ids + PAD. */
static int emit(const vx_piper_config *c, idbuf *b, const uint32_t *key, int len, int32_t src,
                const vx_phoneme_ids *pad) {
    const vx_phoneme_mapping *m = vx_piper_config_map(c, key, len);
    int n = m ? m->n_to : 1;
    for (int k = 0; k < n; k++) {
        const uint32_t *kk = m ? m->to[k].cp : key;
        int kl = m ? m->to[k].len : len;
        const vx_phoneme_ids *p = vx_piper_config_ids(c, kk, kl);
        if (!p) {
            note_missing(kk, kl);
            continue;
        }
        if (put(b, p, src) || put(b, pad, -1)) return -1;
    }
    return 0;
}

int vx_phonemes_to_ids(const vx_piper_config *c, const uint32_t *ph, size_t n, int64_t **ids,
                       size_t *n_ids, int32_t **id_phoneme, char *err, size_t errlen) {
    *ids = NULL;
    *n_ids = 0;
    if (id_phoneme) *id_phoneme = NULL;
    if (!c || (!ph && n)) {
        snprintf(err, errlen, "vx_phonemes_to_ids: invalid argument");
        return VOX_ERR_ARG;
    }
    if (n > VX_IDS_MAX_PHONEMES) {
        snprintf(err, errlen, "too many phonemes (%zu, limit %u)", n, VX_IDS_MAX_PHONEMES);
        return VOX_ERR_TOO_LONG;
    }
    static const uint32_t k_pad = '_', k_bos = '^', k_eos = '$';
    const vx_phoneme_ids *pad = vx_piper_config_ids(c, &k_pad, 1),
                         *bos = vx_piper_config_ids(c, &k_bos, 1),
                         *eos = vx_piper_config_ids(c, &k_eos, 1);
    if (!pad || !bos || !eos) {
        snprintf(err, errlen, "voice config: phoneme_id_map lacks '_', '^' or '$'");
        return VOX_ERR_CONFIG;
    }
    idbuf b = {0};
    int rc = put(&b, bos, -1) || put(&b, pad, -1);
    for (size_t i = 0; i < n && !rc;) {
        int len = c->n_vowel_clusters ? cluster_at(c, ph, n, i) : 0;
        if (len < 2) len = 1;
        rc = emit(c, &b, ph + i, len, (int32_t)i, pad);
        i += (size_t)len;
    }
    if (!rc) rc = put(&b, eos, -1);
    if (rc) {
        free(b.ids);
        free(b.src);
        snprintf(err, errlen, "out of memory");
        return VOX_ERR_NOMEM;
    }
    *ids = b.ids;
    *n_ids = b.n;
    if (id_phoneme)
        *id_phoneme = b.src;
    else
        free(b.src);
    return 0;
}
