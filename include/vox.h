/*
 * vox.h — the public API of libvox: text in, audio out.
 *
 * Ownership: every vox_*_load / vox_*_start that succeeds hands the caller a handle
 * that the caller frees with the matching vox_*_free. Pointers inside a vox_chunk stay
 * valid until the next vox_synth_next or vox_synth_free on the same synthesis.
 *
 * Threads: a loaded vox_voice is read-only after load; any number of threads may run
 * syntheses on one voice at once, each with its own vox_synth. One vox_synth is used by
 * one thread at a time, except vox_synth_cancel, which any thread may call.
 * libespeak-ng keeps process-global state, so every call vox makes into it runs under one
 * process-wide lock: espeak voices and Piper phonemization serialize on that lock (neural
 * inference does not).
 */
#ifndef VOX_H
#define VOX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libvox is built with hidden visibility: what this header declares is all it exports. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

#define VOX_VERSION "0.1.0"

/* Error codes: 0 is success, every error is negative. */
enum {
    VOX_OK = 0,
    VOX_ERR_ARG = -1,          /* invalid argument or option value */
    VOX_ERR_NOMEM = -2,        /* allocation failed or a size limit was hit */
    VOX_ERR_IO = -3,           /* file could not be read or written */
    VOX_ERR_UTF8 = -4,         /* input text is not valid UTF-8 */
    VOX_ERR_TOO_LONG = -5,     /* input exceeds an explicit limit */
    VOX_ERR_NOT_FOUND = -6,    /* voice, speaker or file not found */
    VOX_ERR_MODEL = -7,        /* model file malformed or unsupported */
    VOX_ERR_CONFIG = -8,       /* voice config malformed */
    VOX_ERR_ESPEAK = -9,       /* libespeak-ng failed */
    VOX_ERR_CANCELLED = -10,   /* vox_synth_cancel was called */
    VOX_ERR_UNSUPPORTED = -11, /* valid, but not supported by this build */
    VOX_ERR_INTERNAL = -12,    /* a bug: please report */
    VOX_ERR_EMPTY = -13,       /* input text has nothing to speak */
    VOX_ERR_SSML = -14, /* malformed or unsupported SSML (the message names line and column) */
};

/* A short static description of an error code. */
const char *vox_strerror(int code);
const char *vox_version(void);

/* Explicit limits. */
#define VOX_MAX_TEXT_BYTES (1u << 20) /* one synthesis: 1 MiB of UTF-8 */

/* ---------------------------------------------------------------- voices */

typedef struct vox_voice vox_voice;

typedef struct vox_load_options {
    const char *config_path;      /* Piper: .onnx.json; NULL = beside the model */
    const char *espeak_data;      /* espeak-ng data dir; NULL = the system's */
    const char *const *data_dirs; /* where voice names are looked up; NULL = defaults */
    int n_data_dirs;
    int threads;   /* inference threads per synthesis; 0 = all cores */
    int precision; /* Piper: VOX_PRECISION_*; espeak voices ignore it */
    /* Piper: directory of the packed-weight cache (a load maps the weights an earlier load
     * of the same model file by the same build packed, instead of packing them again).
     * NULL = $VOX_PACK_CACHE, else $XDG_CACHE_HOME/vox/pack, else ~/.cache/vox/pack;
     * "off" = pack at every load. At most $VOX_PACK_CACHE_MAX_MB (default 1024) MiB. */
    const char *pack_cache;
} vox_load_options;

/* Numerics of a Piper voice's frame-level half (flow + decoder convolutions): FP32 (the
 * default: onnxruntime's output), bf16 or int8 (faster, within a measured SNR of FP32:
 * `vox infer --compare`). The text encoder and duration predictor are always FP32, so
 * durations and sample counts do not change. Weights of those layers are kept in the
 * reduced format only. */
enum { VOX_PRECISION_FP32 = 0, VOX_PRECISION_BF16 = 1, VOX_PRECISION_INT8 = 2 };
/* "fp32", "bf16", "int8" -> VOX_PRECISION_*, else -1. */
int vox_precision_parse(const char *s);

void vox_load_options_init(vox_load_options *o);

/*
 * Load a voice by name: "espeak:<name>" (e.g. "espeak:en-us") for a built-in espeak-ng
 * voice, a path to a Piper ".onnx", or a Piper voice name found in the data dirs.
 * On failure returns an error code and writes a one-line message to err (if non-NULL).
 */
int vox_voice_load(const char *name, const vox_load_options *opt, vox_voice **out, char *err,
                   size_t errlen);
void vox_voice_free(vox_voice *v);

typedef struct vox_voice_info {
    const char *name;     /* as loaded, e.g. "espeak:en-us" or "en_US-lessac-medium" */
    const char *kind;     /* "espeak" or "piper" */
    const char *language; /* e.g. "en-us" */
    const char *quality;  /* Piper's "x_low".."high", or "espeak" */
    int sample_rate;
    int num_speakers; /* 1 for single-speaker voices */
} vox_voice_info;

void vox_voice_get_info(const vox_voice *v, vox_voice_info *out);
/* Name of speaker id (0-based), or NULL when it has none. */
const char *vox_voice_speaker_name(const vox_voice *v, int id);

/* Every voice vox_voice_load can load by name, one call of fn each (fn returns non-zero
 * to stop): with VOX_LIST_ESPEAK the installed espeak-ng voices ("espeak:<name>"), with
 * VOX_LIST_PIPER every Piper voice NAME.onnx in the data dirs of opt (or the defaults,
 * ~/.local/share/vox/voices then ".") whose NAME.onnx.json passes the same validation
 * as loading. A name found in two dirs is listed once (the first, as loading picks it).
 * Limits: VOX_MAX_LISTED_VOICES Piper voices per call; names over 200 bytes and invalid
 * configs are skipped (fn sees only loadable voices). Strings in the entry live until
 * fn returns. Returns VOX_OK, or a negative code (espeak-ng failed, no memory).
 * With VOX_LIST_BROKEN (and VOX_LIST_PIPER), fn also sees the Piper voices that would not
 * load — a NAME.onnx or NAME.onnx.json whose config fails validation or whose model file
 * is missing — with `error` set (why) and only name, kind and path filled in. */
#define VOX_LIST_ESPEAK       1u
#define VOX_LIST_PIPER        2u
#define VOX_LIST_BROKEN       4u
#define VOX_MAX_LISTED_VOICES 1024
typedef struct vox_voice_entry {
    const char *name;     /* what vox_voice_load takes: "espeak:en-us", "en_US-x-medium" */
    const char *kind;     /* "espeak" or "piper" */
    const char *language; /* espeak: its language; Piper: language.code (may be "") */
    const char *quality;  /* Piper's audio.quality (may be ""); "espeak" for espeak */
    const char *path;     /* Piper: the .onnx file; espeak: NULL */
    int sample_rate;
    int num_speakers;
    const char *const *speakers; /* num_speakers names in id order (Piper, > 1), else NULL */
    const char *error;           /* NULL; with VOX_LIST_BROKEN, why the voice would not load */
} vox_voice_entry;
int vox_list_voices(const vox_load_options *opt, unsigned what,
                    int (*fn)(const vox_voice_entry *v, void *user), void *user);

/* Enumerate installed espeak-ng voices; fn returns non-zero to stop. */
int vox_list_espeak_voices(const char *espeak_data,
                           int (*fn)(const char *name, const char *language, void *user),
                           void *user);

/* -------------------------------------------------------------- lexicons */

/* A pronunciation lexicon: a source file (word<TAB>/IPA/ or word<TAB>respelling, see
 * src/text/lexicon.h for the format and case rules) or its compiled image, mapped
 * read-only and shared. Opening a source compiles it once to FILE.vxlex beside it
 * (reused while the source is unchanged). Handles are reference-counted: a synthesis
 * started with one keeps its own reference, so vox_lexicon_free may come at any time. */
typedef struct vox_lexicon vox_lexicon;
int vox_lexicon_open(const char *path, vox_lexicon **out, char *err, size_t errlen);
/* Compile a source file to an image file (written atomically). */
int vox_lexicon_compile(const char *src_path, const char *image_path, char *err, size_t errlen);
size_t vox_lexicon_size(const vox_lexicon *l); /* number of entries */
void vox_lexicon_free(vox_lexicon *l);

/* Hot reload: vox_lexicon_watch_get returns a new reference to the lexicon of path,
 * reloaded first when the file changed (checked at most every check_ms). A failed
 * reload keeps the previous lexicon. Syntheses holding the old one keep it. */
typedef struct vox_lexicon_watch vox_lexicon_watch;
int vox_lexicon_watch_open(const char *path, unsigned check_ms, vox_lexicon_watch **out, char *err,
                           size_t errlen);
vox_lexicon *vox_lexicon_watch_get(vox_lexicon_watch *w);
void vox_lexicon_watch_free(vox_lexicon_watch *w);

/* ------------------------------------------------------------- synthesis */

typedef struct vox_synth_options {
    int speaker_id;      /* -1: by name or the voice's default */
    const char *speaker; /* speaker name, or NULL */
    float length_scale;  /* <= 0: voice default; larger is slower */
    float noise_scale;   /* < 0: voice default */
    float noise_w;       /* < 0: voice default */
    float
        rate; /* espeak: speed factor (1 = normal); neural: 1/length_scale if length_scale unset */
    float pitch;            /* espeak: 0..2, 1 = normal */
    float volume;           /* output gain, 1 = unchanged */
    float sentence_silence; /* seconds of silence after each sentence */
    int normalize;          /* neural loudness: VOX_NORMALIZE_PEAK (1, the default, as Piper):
                                each sentence scaled so its peak is full scale, which needs the
                                whole sentence first, so a sentence is one chunk;
                                VOX_NORMALIZE_STEADY (2): one gain per voice (measured at load)
                                and a soft limiter (never clips): chunks stream from inside a
                                sentence; VOX_NORMALIZE_OFF (0): the model's raw amplitude
                                (also streams). espeak voices ignore it. */
    uint64_t seed;          /* noise seed; 0 = a fixed default */
    int timings;            /* fill word/phoneme timings in chunks */
    int threads;            /* neural: inference threads of this synthesis. 0 (default) = as
                                loaded (vox_load_options.threads); 1 = the calling thread only,
                                even if the voice has an inference pool; > 1 = the voice's pool
                                (all of its load-time threads: a pool is not narrowed per
                                synthesis). espeak voices ignore it. Negative: VOX_ERR_ARG. */
    int text_norm;          /* 1 (vox_synth_options_init's default): normalize the text for
                                the voice's language first ("$500" -> "five hundred dollars",
                                dates, times, units, ...; en, de, fr, es; other languages are
                                left as written). Timings and chunk spans still point into the
                                caller's text. 0: the text goes to the phonemizer as written,
                                giving Piper's exact phoneme ids. */
    vox_lexicon *lexicon;   /* NULL, or a pronunciation lexicon applied to the written words
                                (with or without text_norm); IPA entries only for Piper voices */
    int input_format;       /* VOX_INPUT_AUTO (default): SSML when the text starts with
                                "<speak" (after an optional BOM / XML declaration), else plain
                                text; VOX_INPUT_TEXT; VOX_INPUT_SSML (see src/text/ssml.h for
                                the supported subset). */
    int chunk_frames;       /* latency knob (neural voices that stream inside a sentence,
                                with normalize OFF or STEADY): the first chunk of each sentence
                                has this many model frames (hop_length samples each: 256, ~12 ms
                                at 22,050 Hz), later ones double up to VOX_CHUNK_FRAMES_MAX.
                                Default 8 (~93 ms of audio). 0: one chunk per sentence. Range
                                0..VOX_CHUNK_FRAMES_MAX, else VOX_ERR_ARG. */
} vox_synth_options;

enum { VOX_NORMALIZE_OFF = 0, VOX_NORMALIZE_PEAK = 1, VOX_NORMALIZE_STEADY = 2 };
#define VOX_CHUNK_FRAMES_MAX 256

enum { VOX_INPUT_AUTO = 0, VOX_INPUT_TEXT = 1, VOX_INPUT_SSML = 2 };

/* 1 when VOX_INPUT_AUTO would read text as SSML. Servers that split text into sentences
 * themselves must not split an SSML document: it is one synthesis. */
int vox_text_is_ssml(const char *text, size_t len);
/* Check an SSML document without synthesizing: 0, or VOX_ERR_SSML with "SSML line L,
 * column C: ..." in err (for servers that answer malformed SSML with HTTP 400). */
int vox_ssml_check(const char *text, size_t len, char *err, size_t errlen);

void vox_synth_options_init(vox_synth_options *o);

typedef struct vox_timing {
    size_t text_offset; /* byte span in the input text (words); phonemes: their word */
    size_t text_length;
    double start, end;   /* seconds from the start of the whole synthesis */
    const char *phoneme; /* phoneme (UTF-8) for phoneme timings; NULL for words */
} vox_timing;

/* An SSML <mark>: its name and the time (seconds from the start of the synthesis) at
 * which speech reaches it. */
typedef struct vox_mark {
    const char *name;
    double time;
    size_t text_offset; /* byte offset of the <mark> element in the input */
} vox_mark;

/* A chunk is a piece of one sentence's audio, in order. A sentence comes as one chunk
 * (normalize PEAK, chunk_frames 0, espeak voices, a model without a proven frame-level
 * split) or as several (a Piper voice with normalize OFF or STEADY and chunk_frames > 0):
 * all of a sentence's chunks carry the same sentence_index and text span; the first one
 * also carries the sentence's word/phoneme timings and its SSML marks (known before any
 * audio); the sentence's silence (sentence_silence, SSML breaks) ends its last chunk. Concatenated, the chunks are exactly the audio of one chunk per sentence. */
typedef struct vox_chunk {
    const float *samples; /* n_samples floats in [-1, 1] */
    const int16_t *pcm16; /* the same audio as int16 */
    size_t n_samples;
    int sample_rate;
    int last;           /* 1 on the final chunk of the synthesis */
    int sentence_index; /* 0-based sentence this chunk belongs to */
    size_t text_offset; /* byte span of the input text this chunk speaks */
    size_t text_length;
    const vox_timing *words;
    size_t n_words; /* when options.timings */
    const vox_timing *phonemes;
    size_t n_phonemes;
    const vox_mark *marks;
    size_t n_marks; /* SSML marks reached in this chunk (always) */
} vox_chunk;

typedef struct vox_synth vox_synth;

/* Validate text (UTF-8, limits), split it into sentences and get ready. Synthesis
 * itself happens in vox_synth_next, one sentence per call, so audio streams. */
int vox_synth_start(vox_voice *v, const char *text, size_t len, const vox_synth_options *o,
                    vox_synth **out);
/* Produce the next chunk. Returns VOX_OK and fills *chunk; after the chunk with last=1,
 * further calls return VOX_OK with an empty last chunk. Errors are negative codes. */
int vox_synth_next(vox_synth *s, vox_chunk *chunk);
/* Stop at the next safe point; thread-safe. vox_synth_next then returns VOX_ERR_CANCELLED. */
void vox_synth_cancel(vox_synth *s);
/* The last error message of this synthesis ("" if none). */
const char *vox_synth_error(const vox_synth *s);
void vox_synth_free(vox_synth *s);

/* Sentence spans of text as the voice's front end defines them (espeak-ng clauses);
 * *spans is malloc'd, the caller frees it. For servers that synthesize sentences in
 * parallel, one vox_synth per sentence. */
typedef struct vox_span {
    size_t offset, length;
} vox_span;
int vox_split_sentences(vox_voice *v, const char *text, size_t len, vox_span **spans, size_t *n,
                        char *err, size_t errlen);

/* Validate UTF-8; on error returns VOX_ERR_UTF8 and sets *bad_offset. */
int vox_utf8_check(const char *text, size_t len, size_t *bad_offset);

/* The 44-byte header of a 16-bit PCM mono WAV file holding n_samples samples at
 * sample_rate (n_samples == UINT64_MAX: the streaming form, sizes 0xFFFFFFFF, for pipes). */
void vox_wav_header(uint8_t hdr[44], int sample_rate, uint64_t n_samples);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
