/* vox: text to speech on the command line, with Piper's flags.
 *
 *   echo "Hello." | vox -m espeak:en-us -f out.wav
 *   echo "Hello." | vox -m en_US-lessac-medium --output-raw | aplay -r 22050 -f S16_LE -c 1
 *   vox infer -m voice.onnx --ids 1,0,20,0,2        (engine work: phoneme ids in)
 */
#include "vox.h"
#include "audio/encoder.h"
#include "audio/resample.h"
#include "audio/wav.h"
#include "cli_out.h"
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* `vox infer`: phoneme ids straight into the engine (tools/vox_infer.c). */
int vox_infer_main(int argc, char **argv);

#define MAX_STDIN_BYTES VOX_MAX_TEXT_BYTES

typedef struct cli {
    const char *model, *config, *output_file, *output_dir, *text, *espeak_data;
    const char *timings_path, *subtitles_path, *data_dir, *lexicon;
    int output_raw, raw_f32, quiet, debug, json_input, phonemes_only, threads, precision;
    int format;      /* vx_audio_format of -f/-d; -1: from the file extension */
    int sample_rate; /* 0: the voice's */
    vx_enc_options enc;
    vox_synth_options so;
} cli;

static void die_usage(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("vox: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see vox --help)\n", stderr);
    va_end(ap);
    exit(2);
}

static int fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("vox: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static void usage(void) {
    puts(
        "usage: vox [options] < text\n"
        "       vox infer -m MODEL.onnx --ids 1,0,20,0,2 [...]   (run a model on phoneme ids)\n"
        "\n"
        "  -m, --model VOICE        espeak:<name> (default espeak:en-us), a Piper .onnx, or a "
        "voice name\n"
        "  -c, --config FILE        Piper voice config (default: MODEL.onnx.json)\n"
        "  --data-dir DIR           where voice names are looked up (default "
        "~/.local/share/vox/voices and .)\n"
        "  --espeak_data DIR        espeak-ng data directory\n"
        "  -f, --output_file FILE   write all input to one file (- = stdout), in the format of "
        "its\n"
        "                           extension: .mp3 .opus .ogg .aac .flac .wav (others: WAV)\n"
        "  -d, --output_dir DIR     write one numbered file per input line (WAV unless --format)\n"
        "  --format FMT             mp3, opus, aac, flac, wav or pcm (raw s16le) for -f/-d\n"
        "  --sample-rate HZ         output rate, 8000..48000 (default: the voice's); resampled\n"
        "  --bitrate BPS            mp3 8000..320000, opus 6000..256000, aac 16000..256000\n"
        "  --compression N          flac level 0..8, mp3 quality 0..9, opus complexity 0..10\n"
        "  --output-raw             stream raw audio to stdout, each sentence as soon as it is "
        "ready\n"
        "  --raw-format s16|f32     sample format of --output-raw (default s16 = s16le)\n"
        "  --text TEXT              speak TEXT instead of reading stdin\n"
        "  --json-input             stdin lines are JSON: {\"text\", \"speaker_id\"|\"speaker\", "
        "\"output_file\"}\n"
        "  -s, --speaker ID|NAME    speaker of a multi-speaker voice\n"
        "  --length_scale X         phoneme length (larger = slower); --speed X = 1/X\n"
        "  --noise_scale X, --noise_w X   generator and duration noise\n"
        "  --sentence_silence SEC   silence after each sentence\n"
        "  --volume X               output gain (1 = unchanged)\n"
        "  --rate X, --pitch X      espeak voices: speed factor and pitch (1 = normal)\n"
        "  --no-normalize           keep the model's raw amplitude (no per-sentence peak "
        "normalization)\n"
        "  --loudness peak|steady|off  peak: Piper's per-sentence peak normalization (default; a\n"
        "                           sentence is synthesized whole first); steady: one gain per "
        "voice\n"
        "                           and a soft limiter, so audio streams from inside a sentence\n"
        "                           (with --output-raw: first audio after ~8 frames); off: raw\n"
        "  --chunk-frames N         streaming: frames of a sentence's first chunk (default 8; 0 = "
        "whole)\n"
        "  --text-norm on|off       read numbers, dates, money, units... as words (default on;\n"
        "                           off = the text goes to espeak-ng as written, Piper's exact "
        "ids)\n"
        "  --lexicon FILE           pronunciation lexicon: word<TAB>/IPA/ or word<TAB>respelling "
        "lines\n"
        "                           (or an image from 'vox lexicon compile SRC OUT')\n"
        "  --input-format auto|text|ssml   auto (default): SSML when the input starts with <speak\n"
        "  --seed N                 noise seed\n"
        "  --threads N              inference threads (default: all cores)\n"
        "  --precision P            fp32 (default, onnxruntime's numerics), bf16 or int8 for the\n"
        "                           flow + decoder of Piper voices (faster; see vox infer "
        "--compare)\n"
        "  --pack-cache DIR|off     packed-weight cache of Piper voices (default $VOX_PACK_CACHE,\n"
        "                           else ~/.cache/vox/pack): later loads map, not pack\n"
        "  --timings FILE.json      write word and phoneme timings\n"
        "  --subtitles FILE.vtt|srt write subtitles\n"
        "  --phonemes               print phonemes and ids instead of audio (Piper voices)\n"
        "  --list-voices            list available voices\n"
        "  -q, --quiet              no progress output\n"
        "  --debug                  print per-sentence details to stderr\n"
        "  --version, -h/--help");
}

/* Piper accepts both --output_file and --output-file: fold '-' to '_' in long names. */
static void normalize_long_opts(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (strncmp(argv[i], "--", 2)) continue;
        for (char *p = argv[i] + 2; *p && *p != '='; p++)
            if (*p == '-') *p = '_';
    }
}

static float parse_float(const char *s, const char *name) {
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end) die_usage("invalid number for %s: '%s'", name, s);
    return v;
}

static long parse_long(const char *s, const char *name) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) die_usage("invalid integer for %s: '%s'", name, s);
    return v;
}

enum {
    O_RAW = 1000,
    O_RAWFMT,
    O_TEXT,
    O_JSON,
    O_LEN,
    O_SPEED,
    O_NOISE,
    O_NOISEW,
    O_SIL,
    O_VOL,
    O_RATE,
    O_PITCH,
    O_NONORM,
    O_SEED,
    O_THREADS,
    O_TIMINGS,
    O_SUBS,
    O_PHON,
    O_LIST,
    O_VERSION,
    O_DEBUG,
    O_ESPEAK,
    O_DATADIR,
    O_TEXTNORM,
    O_LEXICON,
    O_INFMT,
    O_PRECISION,
    O_PACK_CACHE,
    O_LOUD,
    O_CHUNKF,
    O_FORMAT,
    O_SRATE,
    O_BITRATE,
    O_COMPRESSION,
};

static void parse_args(int argc, char **argv, cli *c) {
    static const struct option opts[] = {
        {"model", 1, 0, 'm'},
        {"config", 1, 0, 'c'},
        {"output_file", 1, 0, 'f'},
        {"output_dir", 1, 0, 'd'},
        {"output_raw", 0, 0, O_RAW},
        {"raw_format", 1, 0, O_RAWFMT},
        {"text", 1, 0, O_TEXT},
        {"json_input", 0, 0, O_JSON},
        {"speaker", 1, 0, 's'},
        {"length_scale", 1, 0, O_LEN},
        {"speed", 1, 0, O_SPEED},
        {"noise_scale", 1, 0, O_NOISE},
        {"noise_w", 1, 0, O_NOISEW},
        {"sentence_silence", 1, 0, O_SIL},
        {"volume", 1, 0, O_VOL},
        {"rate", 1, 0, O_RATE},
        {"pitch", 1, 0, O_PITCH},
        {"no_normalize", 0, 0, O_NONORM},
        {"seed", 1, 0, O_SEED},
        {"threads", 1, 0, O_THREADS},
        {"timings", 1, 0, O_TIMINGS},
        {"subtitles", 1, 0, O_SUBS},
        {"phonemes", 0, 0, O_PHON},
        {"list_voices", 0, 0, O_LIST},
        {"quiet", 0, 0, 'q'},
        {"debug", 0, 0, O_DEBUG},
        {"version", 0, 0, O_VERSION},
        {"help", 0, 0, 'h'},
        {"espeak_data", 1, 0, O_ESPEAK},
        {"data_dir", 1, 0, O_DATADIR},
        {"text_norm", 1, 0, O_TEXTNORM},
        {"lexicon", 1, 0, O_LEXICON},
        {"loudness", 1, 0, O_LOUD},
        {"chunk_frames", 1, 0, O_CHUNKF},
        {"input_format", 1, 0, O_INFMT},
        {"precision", 1, 0, O_PRECISION},
        {"pack_cache", 1, 0, O_PACK_CACHE},
        {"format", 1, 0, O_FORMAT},
        {"sample_rate", 1, 0, O_SRATE},
        {"bitrate", 1, 0, O_BITRATE},
        {"compression", 1, 0, O_COMPRESSION},
        {0, 0, 0, 0},
    };
    normalize_long_opts(argc, argv);
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "m:c:f:d:s:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'm': c->model = optarg; break;
        case 'c': c->config = optarg; break;
        case 'f': c->output_file = optarg; break;
        case 'd': c->output_dir = optarg; break;
        case 's': {
            char *end;
            long id = strtol(optarg, &end, 10);
            if (*optarg && !*end) {
                if (id < 0 || id > 1000000) die_usage("invalid speaker id '%s'", optarg);
                c->so.speaker_id = (int)id;
            } else
                c->so.speaker = optarg;
            break;
        }
        case O_RAW: c->output_raw = 1; break;
        case O_RAWFMT:
            if (!strcmp(optarg, "f32"))
                c->raw_f32 = 1;
            else if (strcmp(optarg, "s16"))
                die_usage("--raw-format must be s16 or f32");
            break;
        case O_TEXT: c->text = optarg; break;
        case O_JSON: c->json_input = 1; break;
        case O_LEN: c->so.length_scale = parse_float(optarg, "--length_scale"); break;
        case O_SPEED: {
            float s = parse_float(optarg, "--speed");
            if (!(s > 0)) die_usage("--speed must be > 0");
            c->so.length_scale = 1.0f / s;
            c->so.rate = s;
            break;
        }
        case O_NOISE: c->so.noise_scale = parse_float(optarg, "--noise_scale"); break;
        case O_NOISEW: c->so.noise_w = parse_float(optarg, "--noise_w"); break;
        case O_SIL: c->so.sentence_silence = parse_float(optarg, "--sentence_silence"); break;
        case O_VOL: c->so.volume = parse_float(optarg, "--volume"); break;
        case O_RATE: c->so.rate = parse_float(optarg, "--rate"); break;
        case O_PITCH: c->so.pitch = parse_float(optarg, "--pitch"); break;
        case O_NONORM: c->so.normalize = 0; break;
        case O_LEXICON: c->lexicon = optarg; break;
        case O_LOUD:
            if (!strcmp(optarg, "peak"))
                c->so.normalize = VOX_NORMALIZE_PEAK;
            else if (!strcmp(optarg, "steady"))
                c->so.normalize = VOX_NORMALIZE_STEADY;
            else if (!strcmp(optarg, "off"))
                c->so.normalize = VOX_NORMALIZE_OFF;
            else {
                fprintf(stderr, "vox: --loudness must be peak, steady or off\n");
                exit(2);
            }
            break;
        case O_CHUNKF: c->so.chunk_frames = (int)parse_float(optarg, "--chunk-frames"); break;
        case O_INFMT:
            if (!strcmp(optarg, "auto"))
                c->so.input_format = VOX_INPUT_AUTO;
            else if (!strcmp(optarg, "text"))
                c->so.input_format = VOX_INPUT_TEXT;
            else if (!strcmp(optarg, "ssml"))
                c->so.input_format = VOX_INPUT_SSML;
            else
                die_usage("--input-format must be auto, text or ssml");
            break;
        case O_TEXTNORM:
            if (!strcmp(optarg, "on"))
                c->so.text_norm = 1;
            else if (!strcmp(optarg, "off"))
                c->so.text_norm = 0;
            else
                die_usage("--text-norm must be on or off");
            break;
        case O_SEED: c->so.seed = (uint64_t)parse_long(optarg, "--seed"); break;
        case O_THREADS: c->threads = (int)parse_long(optarg, "--threads"); break;
        case O_PRECISION:
            c->precision = vox_precision_parse(optarg);
            if (c->precision < 0)
                die_usage("--precision must be fp32, bf16 or int8 (got '%s')", optarg);
            break;
        case O_PACK_CACHE: /* read by every voice load (vox_load_options.pack_cache NULL) */
            setenv("VOX_PACK_CACHE", optarg, 1);
            break;
        case O_TIMINGS:
            c->timings_path = optarg;
            c->so.timings = 1;
            break;
        case O_SUBS:
            c->subtitles_path = optarg;
            c->so.timings = 1;
            break;
        case O_PHON: c->phonemes_only = 1; break;
        case O_LIST:
            c->model = c->model ? c->model : "";
            c->phonemes_only = -1;
            break;
        case 'q': c->quiet = 1; break;
        case O_DEBUG: c->debug = 1; break;
        case O_ESPEAK: c->espeak_data = optarg; break;
        case O_DATADIR: c->data_dir = optarg; break;
        case O_FORMAT: {
            vx_audio_format f;
            if (vx_audio_format_parse(optarg, &f))
                die_usage("--format must be mp3, opus, aac, flac, wav or pcm (not '%s')", optarg);
            c->format = (int)f;
            break;
        }
        case O_SRATE: {
            long r = parse_long(optarg, "--sample-rate");
            if (r < VX_AUDIO_RATE_MIN || r > VX_AUDIO_RATE_MAX)
                die_usage("--sample-rate must be %d..%d", VX_AUDIO_RATE_MIN, VX_AUDIO_RATE_MAX);
            c->sample_rate = (int)r;
            break;
        }
        case O_BITRATE: {
            long b = parse_long(optarg, "--bitrate");
            if (b <= 0 || b > 1000000) die_usage("--bitrate must be a positive number of bits/s");
            c->enc.bitrate = (int)b;
            break;
        }
        case O_COMPRESSION: {
            long k = parse_long(optarg, "--compression");
            if (k < 0 || k > 10) die_usage("--compression must be 0..10 (see --help per format)");
            c->enc.compression = (int)k;
            break;
        }
        case O_VERSION: printf("vox %s\n", vox_version()); exit(0);
        case 'h': usage(); exit(0);
        case '?':
        default:
            if (optopt) die_usage("option -%c needs a value or is unknown", optopt);
            die_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) die_usage("unexpected argument '%s'", argv[optind]);
    if (c->threads < 0 || c->threads > 1024) die_usage("--threads must be 0..1024");
    int outs = !!c->output_file + !!c->output_dir + c->output_raw;
    if (outs > 1) die_usage("choose one of -f, -d and --output-raw");
}

/* ---------------------------------------------------------------- listing */

/* One line per voice: name, language, kind, and the model path for Piper voices. */
static int print_voice(const vox_voice_entry *v, void *user) {
    (void)user;
    printf("%s\t%s\t%s", v->name, v->language, v->kind);
    if (v->path)
        printf("\t%s\t%d Hz\t%d speaker%s", v->path, v->sample_rate, v->num_speakers,
               v->num_speakers == 1 ? "" : "s");
    putchar('\n');
    return 0;
}

static int list_voices(const cli *c) {
    vox_load_options lo;
    vox_load_options_init(&lo);
    lo.espeak_data = c->espeak_data;
    const char *dirs[1] = {c->data_dir};
    if (c->data_dir) {
        lo.data_dirs = dirs;
        lo.n_data_dirs = 1;
    }
    int rc = vox_list_voices(&lo, VOX_LIST_ESPEAK | VOX_LIST_PIPER, print_voice, NULL);
    if (rc) return fail("cannot list voices: %s", vox_strerror(rc));
    return 0;
}

/* ------------------------------------------------------------------ input */

static char *read_all(FILE *f, size_t *len, int *too_long) {
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    *too_long = 0;
    if (!buf) return NULL;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_STDIN_BYTES) {
                *too_long = 1;
                break;
            }
            cap *= 2;
            char *p = realloc(buf, cap + 1);
            if (!p) {
                free(buf);
                return NULL;
            }
            buf = p;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        if (!k) break;
        n += k;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return 0;
    return 1;
}

/* The whole input (--text or stdin), checked: within limits, valid UTF-8, not blank.
 * Returns 0, or 1 after printing the error; *text is the caller's to free either way. */
static int read_input(const cli *c, char **text, size_t *len) {
    int too_long = 0;
    size_t bad;
    if (c->text) {
        *text = strdup(c->text);
        *len = strlen(c->text);
    } else
        *text = read_all(stdin, len, &too_long);
    if (!*text) return fail("out of memory reading input");
    if (too_long) return fail("input longer than %u bytes", MAX_STDIN_BYTES);
    if (vox_utf8_check(*text, *len, &bad))
        return fail("invalid UTF-8 in input at byte offset %zu", bad);
    if (is_blank(*text, *len)) return fail("empty input: nothing to speak");
    return 0;
}

/* ------------------------------------------------------------------ speak */

/* Every output goes through one streaming encoder (src/audio/encoder.h), resampled first
 * when --sample-rate differs from the voice. On a seekable file the stream start is patched
 * at the end (exact WAV sizes, FLAC length and MD5); pipes get the streaming form. */
typedef struct sink {
    FILE *f;
    vx_encoder *enc;
    vx_resampler *rs;
    int started, seekable;
    vx_timings_out *tim;
} sink;

static int sink_drain(sink *s) {
    size_t n;
    const uint8_t *p = vx_encoder_data(s->enc, &n);
    if (n && fwrite(p, 1, n, s->f) != n) return -1;
    vx_encoder_consume(s->enc, n);
    return 0;
}

/* Opens the encoder; on a bad format/rate/option combination prints why and returns -1. */
static int sink_open(sink *s, FILE *f, vx_audio_format fmt, const cli *c, int voice_rate) {
    char err[256];
    vx_timings_out *tim = s->tim;
    memset(s, 0, sizeof *s);
    s->tim = tim;
    s->f = f;
    int rate = c->sample_rate ? c->sample_rate : voice_rate;
    if (!c->sample_rate && !vx_audio_rate_supported(fmt, rate)) rate = vx_audio_rate_for(fmt, rate);
    if (rate != voice_rate) {
        s->rs = vx_resampler_create(voice_rate, rate, 1, VX_RESAMPLE_HQ, err, sizeof err);
        if (!s->rs) return fail("%s", err), -1;
    }
    struct stat st;
    s->seekable = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && ftell(f) == 0;
    vx_enc_options eo = c->enc;
    eo.patchable = s->seekable; /* a file gets exact headers (and mp3 its LAME tag) */
    s->enc = vx_encoder_create(fmt, rate, 1, &eo, err, sizeof err);
    if (!s->enc) {
        vx_resampler_free(s->rs);
        s->rs = NULL;
        return fail("%s", err), -1;
    }
    s->started = 1;
    return sink_drain(s);
}

static int sink_push(sink *s, const float *x, size_t n) {
    if (s->rs && vx_resampler_push(s->rs, x, n, &x, &n)) return -1;
    if (n && vx_encoder_push_f32(s->enc, x, n)) return -1;
    return sink_drain(s);
}

static int sink_write(sink *s, const vox_chunk *ch) {
    if (sink_push(s, ch->samples, ch->n_samples)) return -1;
    return fflush(s->f) ? -1 : 0; /* streaming: each sentence leaves as soon as it exists */
}

static int sink_close(sink *s) {
    if (!s->started) return 0;
    int rc = 0;
    const float *x;
    size_t n;
    if (s->rs && (vx_resampler_finish(s->rs, &x, &n) || (n && vx_encoder_push_f32(s->enc, x, n))))
        rc = -1;
    if (!rc && (vx_encoder_finish(s->enc) || sink_drain(s))) rc = -1;
    size_t off, len;
    const uint8_t *patch;
    if (!rc && s->seekable && !vx_encoder_patch(s->enc, &off, &patch, &len) && len &&
        (fseek(s->f, (long)off, SEEK_SET) || fwrite(patch, 1, len, s->f) != len ||
         fseek(s->f, 0, SEEK_END)))
        rc = -1;
    if (fflush(s->f)) rc = -1;
    vx_encoder_free(s->enc);
    vx_resampler_free(s->rs);
    s->enc = NULL;
    s->rs = NULL;
    s->started = 0;
    return rc;
}

/* -f's format: --format, else the extension (.mp3 .opus .ogg .aac .flac .wav .pcm .raw),
 * else WAV (as Piper: any other name gets WAV). */
static vx_audio_format file_format(const cli *c, const char *path) {
    if (c->format >= 0) return (vx_audio_format)c->format;
    const char *dot = strrchr(path, '.');
    vx_audio_format f;
    if (dot && !strchr(dot, '/')) {
        char ext[8];
        size_t i = 0;
        for (dot++; *dot && i < sizeof ext - 1; dot++) ext[i++] = (char)(*dot | 0x20);
        ext[i] = 0;
        if (!*dot && !strcmp(ext, "raw")) return VX_AUDIO_PCM;
        if (!*dot && strcmp(ext, "f32le") && !vx_audio_format_parse(ext, &f)) return f;
    }
    return VX_AUDIO_WAV;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Speak one text into an open sink. */
static int speak(vox_voice *v, const char *text, size_t len, const vox_synth_options *so, sink *out,
                 const cli *c) {
    vox_synth *s = NULL;
    int rc = vox_synth_start(v, text, len, so, &s);
    if (rc) {
        int r = fail("%s", vox_synth_error(s));
        vox_synth_free(s);
        return r;
    }
    vox_chunk ch;
    double t = now_s();
    for (int k = 0;; k++) {
        if (c->debug) fprintf(stderr, "vox: synthesizing sentence %d\n", k);
        rc = vox_synth_next(s, &ch);
        if (rc) {
            int r = fail("%s", vox_synth_error(s));
            vox_synth_free(s);
            return r;
        }
        if (ch.n_samples) {
            if (c->debug)
                fprintf(stderr, "vox: sentence %d: bytes %zu+%zu, %zu samples, %.3f s synth\n",
                        ch.sentence_index, ch.text_offset, ch.text_length, ch.n_samples,
                        now_s() - t);
            if (out->tim) vx_timings_add(out->tim, &ch, text);
            if (sink_write(out, &ch)) {
                vox_synth_free(s);
                return fail("cannot write audio: %s", strerror(errno ? errno : EIO));
            }
            t = now_s();
        }
        if (ch.last) break;
    }
    vox_synth_free(s);
    return 0;
}

static FILE *open_out(const char *path) {
    if (!strcmp(path, "-")) return stdout;
    return fopen(path, "wb");
}

/* Raw mode reads stdin line by line and speaks each line as it arrives, so a
 * producer can feed text interactively (as with Piper's --output-raw). */
static int run_raw_stream(vox_voice *v, const cli *c, sink *out) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0, spoke = 0, lineno = 0;
    size_t total = 0;
    while (!rc && (n = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        total += (size_t)n;
        if (total > MAX_STDIN_BYTES) {
            rc = fail("input longer than %u bytes", MAX_STDIN_BYTES);
            break;
        }
        size_t bad;
        if (vox_utf8_check(line, (size_t)n, &bad)) {
            rc = fail("invalid UTF-8 in input line %d at byte offset %zu", lineno, bad);
            break;
        }
        if (is_blank(line, (size_t)n)) continue;
        rc = speak(v, line, (size_t)n, &c->so, out, c);
        spoke = 1;
    }
    free(line);
    if (!rc && !spoke) rc = fail("empty input: nothing to speak");
    return rc;
}

static int run_text_mode(vox_voice *v, const cli *c) {
    vox_voice_info info;
    vox_voice_get_info(v, &info);
    sink out = {0};
    vx_timings_out tim;
    if (c->timings_path || c->subtitles_path) {
        vx_timings_init(&tim);
        out.tim = &tim;
    }
    int rc = 0;
    char *text = NULL;
    vx_audio_format raw = c->raw_f32 ? VX_AUDIO_PCM_F32 : VX_AUDIO_PCM;
    if (c->output_raw && !c->text) {
        if (sink_open(&out, stdout, raw, c, info.sample_rate)) {
            rc = 1;
            goto done;
        }
        rc = run_raw_stream(v, c, &out);
        if (sink_close(&out) && !rc) rc = fail("cannot write audio to stdout");
        goto done;
    }
    size_t len = 0;
    rc = read_input(c, &text, &len);
    if (rc) goto done;
    if (c->output_raw) {
        if (sink_open(&out, stdout, raw, c, info.sample_rate)) {
            rc = 1;
            goto done;
        }
        rc = speak(v, text, len, &c->so, &out, c);
        if (sink_close(&out) && !rc) rc = fail("cannot write audio to stdout");
    } else {
        const char *path = c->output_file ? c->output_file : "-";
        if (!c->output_file && isatty(STDOUT_FILENO)) {
            rc = fail("no output chosen: use -f FILE.wav, -d DIR or --output-raw");
            goto done;
        }
        FILE *f = open_out(path);
        if (!f) {
            rc = fail("cannot open output file '%s': %s", path, strerror(errno));
            goto done;
        }
        if (sink_open(&out, f, file_format(c, path), c, info.sample_rate)) rc = 1;
        if (!rc) rc = speak(v, text, len, &c->so, &out, c);
        if (sink_close(&out) && !rc) rc = fail("cannot write '%s': %s", path, strerror(errno));
        if (f != stdout && fclose(f) && !rc) rc = fail("cannot write '%s'", path);
        if (!rc && !c->quiet && f != stdout) fprintf(stderr, "vox: wrote %s\n", path);
    }
done:
    if (!rc && out.tim) rc = vx_timings_write(&tim, c->timings_path, c->subtitles_path);
    if (out.tim) vx_timings_free(&tim);
    free(text);
    return rc;
}

static int run_dir_mode(vox_voice *v, const cli *c) {
    struct stat st;
    if (stat(c->output_dir, &st) || !S_ISDIR(st.st_mode))
        return fail("output directory '%s' does not exist", c->output_dir);
    size_t len = 0;
    char *text = NULL;
    if (read_input(c, &text, &len)) {
        free(text);
        return 1;
    }
    vox_voice_info info;
    vox_voice_get_info(v, &info);
    int rc = 0, k = 0;
    char *line = text;
    while (!rc && line < text + len) {
        char *nl = memchr(line, '\n', text + len - line);
        size_t n = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
        if (!is_blank(line, n)) {
            char path[4096];
            vx_audio_format fmt = c->format >= 0 ? (vx_audio_format)c->format : VX_AUDIO_WAV;
            snprintf(path, sizeof path, "%s/%d.%s", c->output_dir, k++, vx_audio_extension(fmt));
            FILE *f = fopen(path, "wb");
            if (!f) {
                rc = fail("cannot open output file '%s': %s", path, strerror(errno));
                break;
            }
            sink out = {0};
            if (sink_open(&out, f, fmt, c, info.sample_rate)) rc = 1;
            if (!rc) rc = speak(v, line, n, &c->so, &out, c);
            if (sink_close(&out) && !rc) rc = fail("cannot write '%s'", path);
            if (fclose(f) && !rc) rc = fail("cannot write '%s'", path);
            if (!rc && !c->quiet) fprintf(stderr, "vox: wrote %s\n", path);
        }
        line += n + (nl ? 1 : 0);
    }
    free(text);
    return rc;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "infer")) return vox_infer_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "lexicon")) return vx_cli_lexicon(argc - 1, argv + 1);
    cli c = {0};
    c.format = -1;
    vx_enc_options_init(&c.enc);
    vox_synth_options_init(&c.so);
    parse_args(argc, argv, &c);
    if (c.phonemes_only == -1) return list_voices(&c);
    vox_lexicon *lex = NULL;
    if (c.lexicon) {
        char lerr[512];
        if (vox_lexicon_open(c.lexicon, &lex, lerr, sizeof lerr)) return fail("%s", lerr);
        c.so.lexicon = lex;
    }

    const char *model = c.model && *c.model ? c.model : "espeak:en-us";
    vox_load_options lo;
    vox_load_options_init(&lo);
    lo.config_path = c.config;
    lo.espeak_data = c.espeak_data;
    lo.threads = c.threads;
    lo.precision = c.precision;
    const char *dirs[1] = {c.data_dir};
    if (c.data_dir) {
        lo.data_dirs = dirs;
        lo.n_data_dirs = 1;
    }
    char err[1024];
    vox_voice *v = NULL;
    int rc = vox_voice_load(model, &lo, &v, err, sizeof err);
    if (rc) {
        vox_lexicon_free(lex);
        return fail("%s", err);
    }
    if (c.json_input)
        rc = vx_cli_json_input(v, &c.so, c.output_dir, c.quiet);
    else if (c.phonemes_only == 1)
        rc = vx_cli_phonemes(v, c.text, &c.so);
    else if (c.output_dir)
        rc = run_dir_mode(v, &c);
    else
        rc = run_text_mode(v, &c);
    vox_voice_free(v);
    vox_lexicon_free(lex);
    return rc;
}
