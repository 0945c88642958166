/* Piper voice config (.onnx.json): parsing and validation. */
#ifndef VX_VOICE_PIPER_CONFIG_H
#define VX_VOICE_PIPER_CONFIG_H
#include <stddef.h>
#include <stdint.h>

/* Explicit limits. */
#define VX_PIPER_CONFIG_MAX_BYTES    (16u << 20) /* config file size */
#define VX_PIPER_MAX_KEY_CP          8           /* codepoints in one phoneme key */
#define VX_PIPER_MAX_IDS_PER_PHONEME 16
#define VX_PIPER_MAX_PHONEMES        65536 /* entries in phoneme_id_map / phoneme_map */
#define VX_PIPER_MAX_SPEAKERS        65536
#define VX_PIPER_MAX_NAME            256 /* bytes of voice/language/speaker names */

typedef struct vx_phoneme_key {
    uint32_t cp[VX_PIPER_MAX_KEY_CP];
    int len;
} vx_phoneme_key;

/* phoneme_id_map entry: a phoneme (1+ codepoints) and its ids. */
typedef struct vx_phoneme_ids {
    vx_phoneme_key key;
    int64_t ids[VX_PIPER_MAX_IDS_PER_PHONEME];
    int n_ids;
} vx_phoneme_ids;

/* phoneme_map entry: one phoneme replaced by a list of phonemes. */
typedef struct vx_phoneme_mapping {
    vx_phoneme_key from;
    vx_phoneme_key *to;
    int n_to;
} vx_phoneme_mapping;

typedef struct vx_speaker {
    char *name;
    int id;
} vx_speaker;

typedef struct vx_piper_config {
    int sample_rate;    /* audio.sample_rate (required) */
    char *quality;      /* audio.quality, or NULL */
    char *espeak_voice; /* espeak.voice (required when phoneme_type is espeak) */
    float noise_scale, length_scale, noise_w; /* inference.* (defaults 0.667, 1, 0.8) */
    int phoneme_type_text;                    /* phoneme_type: 0 espeak (default), 1 text */
    vx_phoneme_ids *id_map;                   /* phoneme_id_map (required), sorted by key */
    size_t n_id_map;
    vx_phoneme_mapping *phoneme_map; /* phoneme_map, sorted by from */
    size_t n_phoneme_map;
    vx_phoneme_key *vowel_clusters; /* vowel_clusters (each 2+ codepoints) */
    size_t n_vowel_clusters;
    int num_symbols;      /* 0 if absent */
    int num_speakers;     /* default 1 */
    vx_speaker *speakers; /* speaker_id_map, sorted by id */
    size_t n_speakers;
    int hop_length;         /* default 256 */
    int default_speaker_id; /* default 0 */
    char *language_code;    /* language.code, or NULL */
    char *dataset;          /* dataset, or NULL */
} vx_piper_config;

int vx_piper_config_load(const char *json_path, vx_piper_config **out, char *err, size_t errlen);
int vx_piper_config_parse(const char *json, size_t len, vx_piper_config **out, char *err,
                          size_t errlen);
void vx_piper_config_free(vx_piper_config *c);

/* Lookups. key: codepoints; NULL when absent. */
const vx_phoneme_ids *vx_piper_config_ids(const vx_piper_config *c, const uint32_t *key, int len);
const vx_phoneme_mapping *vx_piper_config_map(const vx_piper_config *c, const uint32_t *key,
                                              int len);
/* Speaker id by name, or -1. */
int vx_piper_config_speaker(const vx_piper_config *c, const char *name);
#endif
