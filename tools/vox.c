/* vox: text to speech on the command line, with Piper's flags.
 *
 *   echo "Hello." | vox -m espeak:en-us -f out.wav
 *   echo "Hello." | vox -m en_US-lessac-medium --output-raw | aplay -r 22050 -f S16_LE -c 1
 *   vox infer -m voice.onnx --ids 1,0,20,0,2        (engine work: phoneme ids in)
 */
#include "vox.h"
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
    puts("usage: vox [options] < text\n"
         "       vox infer -m MODEL.onnx --ids 1,0,20,0,2 [...]   (run a model on phoneme ids)\n"
         "\n"
         "  -m, --model VOICE        espeak:<name> (default espeak:en-us), a Piper .onnx, or a voice name\n"
         "  -c, --config FILE        Piper voice config (default: MODEL.onnx.json)\n"
         "  --data-dir DIR           where voice names are looked up (default ~/.local/share/vox/voices and .)\n"
         "  --espeak_data DIR        espeak-ng data directory\n"
         "  -f, --output_file FILE   write one WAV of all input (- = stdout)\n"
         "  -d, --output_dir DIR     write one numbered WAV per input line\n"
         "  --output-raw             stream raw audio to stdout, each sentence as soon as it is ready\n"
         "  --raw-format s16|f32     sample format of --output-raw (default s16 = s16le)\n"
         "  --text TEXT              speak TEXT instead of reading stdin\n"
         "  --json-input             stdin lines are JSON: {\"text\", \"speaker_id\"|\"speaker\", \"output_file\"}\n"
         "  -s, --speaker ID|NAME    speaker of a multi-speaker voice\n"
         "  --length_scale X         phoneme length (larger = slower); --speed X = 1/X\n"
         "  --noise_scale X, --noise_w X   generator and duration noise\n"
         "  --sentence_silence SEC   silence after each sentence\n"
         "  --volume X               output gain (1 = unchanged)\n"
         "  --rate X, --pitch X      espeak voices: speed factor and pitch (1 = normal)\n"
         "  --no-normalize           keep the model's raw amplitude (no per-sentence peak normalization)\n"
         "  --text-norm on|off       read numbers, dates, money, units... as words (default on;\n"
         "                           off = the text goes to espeak-ng as written, Piper's exact ids)\n"
         "  --lexicon FILE           pronunciation lexicon: word<TAB>/IPA/ or word<TAB>respelling lines\n"
         "                           (or an image from 'vox lexicon compile SRC OUT')\n"
         "  --input-format auto|text|ssml   auto (default): SSML when the input starts with <speak\n"
         "  --seed N                 noise seed\n"
         "  --threads N              inference threads (default: all cores)\n"
         "  --precision P            fp32 (default, onnxruntime's numerics), bf16 or int8 for the\n"
         "                           flow + decoder of Piper voices (faster; see vox infer --compare)\n"
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
    O_RAW = 1000, O_RAWFMT, O_TEXT, O_JSON, O_LEN, O_SPEED, O_NOISE, O_NOISEW, O_SIL, O_VOL,
    O_RATE, O_PITCH, O_NONORM, O_SEED, O_THREADS, O_TIMINGS, O_SUBS, O_PHON, O_LIST, O_VERSION,
    O_DEBUG, O_ESPEAK, O_DATADIR, O_TEXTNORM, O_LEXICON, O_INFMT, O_PRECISION,
};

static void parse_args(int argc, char **argv, cli *c) {
    static const struct option opts[] = {
        {"model", 1, 0, 'm'}, {"config", 1, 0, 'c'}, {"output_file", 1, 0, 'f'},
        {"output_dir", 1, 0, 'd'}, {"output_raw", 0, 0, O_RAW}, {"raw_format", 1, 0, O_RAWFMT},
        {"text", 1, 0, O_TEXT}, {"json_input", 0, 0, O_JSON}, {"speaker", 1, 0, 's'},
        {"length_scale", 1, 0, O_LEN}, {"speed", 1, 0, O_SPEED}, {"noise_scale", 1, 0, O_NOISE},
        {"noise_w", 1, 0, O_NOISEW}, {"sentence_silence", 1, 0, O_SIL}, {"volume", 1, 0, O_VOL},
        {"rate", 1, 0, O_RATE}, {"pitch", 1, 0, O_PITCH}, {"no_normalize", 0, 0, O_NONORM},
        {"seed", 1, 0, O_SEED}, {"threads", 1, 0, O_THREADS}, {"timings", 1, 0, O_TIMINGS},
        {"subtitles", 1, 0, O_SUBS}, {"phonemes", 0, 0, O_PHON}, {"list_voices", 0, 0, O_LIST},
        {"quiet", 0, 0, 'q'}, {"debug", 0, 0, O_DEBUG}, {"version", 0, 0, O_VERSION},
        {"help", 0, 0, 'h'}, {"espeak_data", 1, 0, O_ESPEAK}, {"data_dir", 1, 0, O_DATADIR},
        {"text_norm", 1, 0, O_TEXTNORM}, {"lexicon", 1, 0, O_LEXICON},
        {"input_format", 1, 0, O_INFMT},
        {"precision", 1, 0, O_PRECISION}, {0, 0, 0, 0},
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
            } else c->so.speaker = optarg;
            break;
        }
        case O_RAW: c->output_raw = 1; break;
        case O_RAWFMT:
            if (!strcmp(optarg, "f32")) c->raw_f32 = 1;
            else if (strcmp(optarg, "s16")) die_usage("--raw-format must be s16 or f32");
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
        case O_INFMT:
            if (!strcmp(optarg, "auto")) c->so.input_format = VOX_INPUT_AUTO;
            else if (!strcmp(optarg, "text")) c->so.input_format = VOX_INPUT_TEXT;
            else if (!strcmp(optarg, "ssml")) c->so.input_format = VOX_INPUT_SSML;
            else die_usage("--input-format must be auto, text or ssml");
            break;
        case O_TEXTNORM:
            if (!strcmp(optarg, "on")) c->so.text_norm = 1;
            else if (!strcmp(optarg, "off")) c->so.text_norm = 0;
            else die_usage("--text-norm must be on or off");
            break;
        case O_SEED: c->so.seed = (uint64_t)parse_long(optarg, "--seed"); break;
        case O_THREADS: c->threads = (int)parse_long(optarg, "--threads"); break;
        case O_PRECISION:
            c->precision = vox_precision_parse(optarg);
            if (c->precision < 0) die_usage("--precision must be fp32, bf16 or int8 (got '%s')", optarg);
            break;
        case O_TIMINGS: c->timings_path = optarg; c->so.timings = 1; break;
        case O_SUBS: c->subtitles_path = optarg; c->so.timings = 1; break;
        case O_PHON: c->phonemes_only = 1; break;
        case O_LIST: c->model = c->model ? c->model : ""; c->phonemes_only = -1; break;
        case 'q': c->quiet = 1; break;
        case O_DEBUG: c->debug = 1; break;
        case O_ESPEAK: c->espeak_data = optarg; break;
        case O_DATADIR: c->data_dir = optarg; break;
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
    if (v->path) printf("\t%s\t%d Hz\t%d speaker%s", v->path, v->sample_rate, v->num_speakers,
                        v->num_speakers == 1 ? "" : "s");
    putchar('\n');
    return 0;
}

static int list_voices(const cli *c) {
    vox_load_options lo;
    vox_load_options_init(&lo);
    lo.espeak_data = c->espeak_data;
    const char *dirs[1] = { c->data_dir };
    if (c->data_dir) { lo.data_dirs = dirs; lo.n_data_dirs = 1; }
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
            if (cap >= MAX_STDIN_BYTES) { *too_long = 1; break; }
            cap *= 2;
            char *p = realloc(buf, cap + 1);
            if (!p) { free(buf); return NULL; }
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
    if (c->text) { *text = strdup(c->text); *len = strlen(c->text); }
    else *text = read_all(stdin, len, &too_long);
    if (!*text) return fail("out of memory reading input");
    if (too_long) return fail("input longer than %u bytes", MAX_STDIN_BYTES);
    if (vox_utf8_check(*text, *len, &bad)) return fail("invalid UTF-8 in input at byte offset %zu", bad);
    if (is_blank(*text, *len)) return fail("empty input: nothing to speak");
    return 0;
}

/* ------------------------------------------------------------------ speak */

typedef struct sink {
    FILE *f;
    int kind;               /* 0 wav, 1 raw s16, 2 raw f32 */
    vx_wav_writer wav;
    int started;
    vx_timings_out *tim;
} sink;

static int sink_open(sink *s, FILE *f, int kind, int sample_rate) {
    s->f = f;
    s->kind = kind;
    s->started = 1;
    if (kind == 0) return vx_wav_begin(&s->wav, f, sample_rate);
    return 0;
}

static int sink_write(sink *s, const vox_chunk *ch) {
    size_t w;
    switch (s->kind) {
    case 0: return vx_wav_write(&s->wav, ch->pcm16, ch->n_samples);
    case 1: w = fwrite(ch->pcm16, 2, ch->n_samples, s->f); break;
    default: w = fwrite(ch->samples, 4, ch->n_samples, s->f); break;
    }
    if (w != ch->n_samples) return -1;
    return fflush(s->f) ? -1 : 0;   /* streaming: each sentence leaves as soon as it exists */
}

static int sink_close(sink *s) {
    if (!s->started) return 0;
    int rc = s->kind == 0 ? vx_wav_end(&s->wav) : (fflush(s->f) ? -1 : 0);
    return rc;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Speak one text into an open sink. */
static int speak(vox_voice *v, const char *text, size_t len, const vox_synth_options *so,
                 sink *out, const cli *c) {
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
        if (rc) { int r = fail("%s", vox_synth_error(s)); vox_synth_free(s); return r; }
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
        if (total > MAX_STDIN_BYTES) { rc = fail("input longer than %u bytes", MAX_STDIN_BYTES); break; }
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
    if (c->timings_path || c->subtitles_path) { vx_timings_init(&tim); out.tim = &tim; }
    int rc = 0;
    char *text = NULL;
    if (c->output_raw && !c->text) {
        sink_open(&out, stdout, c->raw_f32 ? 2 : 1, info.sample_rate);
        rc = run_raw_stream(v, c, &out);
        if (sink_close(&out) && !rc) rc = fail("cannot write audio to stdout");
        goto done;
    }
    size_t len = 0;
    rc = read_input(c, &text, &len);
    if (rc) goto done;
    if (c->output_raw) {
        sink_open(&out, stdout, c->raw_f32 ? 2 : 1, info.sample_rate);
        rc = speak(v, text, len, &c->so, &out, c);
        if (sink_close(&out) && !rc) rc = fail("cannot write audio to stdout");
    } else {
        const char *path = c->output_file ? c->output_file : "-";
        if (!c->output_file && isatty(STDOUT_FILENO)) {
            rc = fail("no output chosen: use -f FILE.wav, -d DIR or --output-raw");
            goto done;
        }
        FILE *f = open_out(path);
        if (!f) { rc = fail("cannot open output file '%s': %s", path, strerror(errno)); goto done; }
        if (sink_open(&out, f, 0, info.sample_rate)) rc = fail("cannot write '%s'", path);
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
    if (read_input(c, &text, &len)) { free(text); return 1; }
    vox_voice_info info;
    vox_voice_get_info(v, &info);
    int rc = 0, k = 0;
    char *line = text;
    while (!rc && line < text + len) {
        char *nl = memchr(line, '\n', text + len - line);
        size_t n = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
        if (!is_blank(line, n)) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%d.wav", c->output_dir, k++);
            FILE *f = fopen(path, "wb");
            if (!f) { rc = fail("cannot open output file '%s': %s", path, strerror(errno)); break; }
            sink out = {0};
            if (sink_open(&out, f, 0, info.sample_rate)) rc = fail("cannot write '%s'", path);
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
    const char *dirs[1] = { c.data_dir };
    if (c.data_dir) { lo.data_dirs = dirs; lo.n_data_dirs = 1; }
    char err[1024];
    vox_voice *v = NULL;
    int rc = vox_voice_load(model, &lo, &v, err, sizeof err);
    if (rc) { vox_lexicon_free(lex); return fail("%s", err); }
    if (c.json_input) rc = vx_cli_json_input(v, &c.so, c.output_dir, c.quiet);
    else if (c.phonemes_only == 1) rc = vx_cli_phonemes(v, c.text, &c.so);
    else if (c.output_dir) rc = run_dir_mode(v, &c);
    else rc = run_text_mode(v, &c);
    vox_voice_free(v);
    vox_lexicon_free(lex);
    return rc;
}
