/*
 * vox infer: run a Piper VITS model on phoneme ids with our engine, the same contract as
 * ../shared/tools/ortref/ortref.js so the two can be compared run for run.
 *
 *   vox infer -m MODEL.onnx --ids 1,0,20,0,2 | --ids @file [--scales 0,1,0] [--sid N]
 *             [--threads T] [--reps R] [--seed S] [--rate HZ] [--out audio.f32] [--profile]
 *             [--precision fp32|bf16|int8] [--compare]
 *
 * --precision runs the frame-level half (flow + decoder convolutions) in bf16 or int8
 * (engine/graph.h vx_graph_opts). --compare also loads the model in FP32, runs both on the
 * same inputs and adds to the JSON line snr_db and logmel_db of the audio against FP32 and
 * both sample counts; stderr gets the per-layer SNR table (tools/lowp_compare.c).
 *
 * Prints one JSON line: samples, sample_rate, load_ms, best_ms, median_ms, first_run_ms (the
 * first of the --reps runs, which alone pays for fresh memory), rtf (best run
 * time / audio duration), peak_rss_mb. --scales defaults to 0,1,0 as in ortref (noise off).
 * Exit status: 0 ok, 1 the model failed to load or run, 2 bad arguments (including a
 * model file that cannot be opened).
 */
#include "engine/graph.h"
#include "engine/pack_cache.h"
#include "lowp_compare.h"
#include "kernels/lowp.h"
#include <math.h>
#include "util/tpool.h"
#include "vox.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

int vox_infer_main(int argc, char **argv);

#define INFER_MAX_IDS     100000
#define INFER_MAX_FILE    ((long)16 << 20)
#define INFER_MAX_REPS    10000
#define INFER_MAX_THREADS 256

typedef struct infer_args {
    const char *model, *ids, *scales, *out;
    const char *pack_cache; /* --pack-cache DIR|off; NULL = the library's default */
    long long sid; /* -1 = not given */
    int threads, reps, profile, compare;
    int precision; /* 0 fp32, 1 bf16, 2 int8 */
    unsigned long long seed;
    int rate;                      /* 0 = from the config */
    long long win_first, win_next; /* --window F[,N]: frames per window (0 = one-shot run) */
} infer_args;

static void usage(FILE *f) {
    fprintf(f, "usage: vox infer -m MODEL.onnx --ids 1,0,20,0,2|@file [--scales n,l,w] [--sid N]\n"
               "                 [--threads T] [--reps R] [--seed S] [--rate HZ] [--out audio.f32] "
               "[--profile]\n"
               "                 [--precision fp32|bf16|int8] [--compare] [--window FIRST[,NEXT]]\n"
               "                 [--pack-cache DIR|off]\n"
               "--window runs the frame-level part in windows of FIRST frames, then NEXT (default "
               "FIRST),\n"
               "and adds first_ms (time to the first window's audio) and the split's halo to the "
               "JSON line.\n");
}

/* One-line error for bad arguments; returns exit status 2. */
static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vox infer: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Whole integer in [lo, hi], else -1 (with *ok = 0). */
static long long parse_int(const char *s, long long lo, long long hi, int *ok) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    *ok = s[0] && !*end && !errno && v >= lo && v <= hi;
    return *ok ? v : -1;
}

static int parse_args(int argc, char **argv, infer_args *a) {
    memset(a, 0, sizeof *a);
    a->sid = -1;
    a->threads = 1;
    a->reps = 1;
    a->scales = "0,1,0";
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        int ok = 1;
        if (!strcmp(k, "-h") || !strcmp(k, "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(k, "--profile")) {
            a->profile = 1;
            continue;
        }
        if (!strcmp(k, "--compare")) {
            a->compare = 1;
            continue;
        }
        if (i + 1 >= argc) return bad("%s needs a value", k);
        const char *v = argv[++i];
        if (!strcmp(k, "-m") || !strcmp(k, "--model"))
            a->model = v;
        else if (!strcmp(k, "--ids"))
            a->ids = v;
        else if (!strcmp(k, "--scales"))
            a->scales = v;
        else if (!strcmp(k, "--out"))
            a->out = v;
        else if (!strcmp(k, "--pack-cache"))
            a->pack_cache = v;
        else if (!strcmp(k, "--precision")) {
            a->precision = !strcmp(v, "fp32")   ? 0
                           : !strcmp(v, "bf16") ? 1
                           : !strcmp(v, "int8") ? 2
                                                : -1;
            if (a->precision < 0) return bad("bad --precision '%s' (fp32, bf16 or int8)", v);
        } else if (!strcmp(k, "--sid"))
            a->sid = parse_int(v, 0, 1 << 20, &ok);
        else if (!strcmp(k, "--threads"))
            a->threads = (int)parse_int(v, 1, INFER_MAX_THREADS, &ok);
        else if (!strcmp(k, "--reps"))
            a->reps = (int)parse_int(v, 1, INFER_MAX_REPS, &ok);
        else if (!strcmp(k, "--rate"))
            a->rate = (int)parse_int(v, 1, 10000000, &ok);
        else if (!strcmp(k, "--window")) {
            char *end;
            a->win_first = strtoll(v, &end, 10);
            a->win_next = *end == ',' ? strtoll(end + 1, &end, 10) : a->win_first;
            ok = !*end && a->win_first >= 1 && a->win_next >= 1 && a->win_first <= 1000000 &&
                 a->win_next <= 1000000;
        } else if (!strcmp(k, "--seed")) {
            char *end;
            errno = 0;
            a->seed = strtoull(v, &end, 10);
            ok = v[0] && v[0] != '-' && !*end && !errno;
        } else
            return bad("unknown option '%s'", k);
        if (!ok) return bad("bad value for %s", k);
    }
    if (!a->model) return bad("missing -m MODEL.onnx");
    if (!a->ids) return bad("missing --ids");
    return 0;
}

/* Reads a whole file of at most INFER_MAX_FILE bytes, NUL-terminated. */
static char *read_file(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    if (!fseek(f, 0, SEEK_END)) {
        long n = ftell(f);
        if (n >= 0 && n <= INFER_MAX_FILE && !fseek(f, 0, SEEK_SET) &&
            (buf = malloc((size_t)n + 1))) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            } else {
                buf[n] = 0;
                if (len) *len = n;
            }
        }
    }
    fclose(f);
    return buf;
}

/* ids separated by commas, spaces or newlines. Returns count, or -1 after a message. */
static int parse_ids(const char *spec, int64_t **out) {
    char *text = NULL;
    if (spec[0] == '@') {
        text = read_file(spec + 1, NULL);
        if (!text) {
            bad("cannot read ids file '%s' (missing, unreadable or over 16 MiB)", spec + 1);
            return -1;
        }
    } else if (!(text = strdup(spec))) {
        return -1;
    }
    int64_t *ids = malloc(sizeof(int64_t) * 1024);
    int n = 0, cap = 1024;
    for (char *p = text; ids;) {
        while (*p == ',' || *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
        if (!*p) break;
        char *e = p;
        while (*e && *e != ',' && *e != ' ' && *e != '\n' && *e != '\r' && *e != '\t') e++;
        char save = *e;
        *e = 0;
        int ok;
        long long v = parse_int(p, 0, INT32_MAX, &ok);
        if (!ok) {
            bad("bad phoneme id '%s'", p);
            free(ids);
            free(text);
            return -1;
        }
        if (n == INFER_MAX_IDS) {
            bad("more than %d ids", INFER_MAX_IDS);
            free(ids);
            free(text);
            return -1;
        }
        if (n == cap) {
            int64_t *nb = realloc(ids, sizeof(int64_t) * (size_t)(cap *= 2));
            if (!nb) {
                free(ids);
                ids = NULL;
                break;
            }
            ids = nb;
        }
        ids[n++] = v;
        *e = save;
        p = e;
    }
    free(text);
    if (!ids) {
        fprintf(stderr, "vox infer: out of memory\n");
        return -1;
    }
    if (!n) {
        free(ids);
        bad("--ids is empty");
        return -1;
    }
    *out = ids;
    return n;
}

/* What MODEL.onnx.json says (0 when absent). */
typedef struct voice_cfg {
    int sample_rate, num_symbols, num_speakers;
} voice_cfg;

static void read_config(const char *model, voice_cfg *c) {
    memset(c, 0, sizeof *c);
    size_t n = strlen(model);
    char *path = malloc(n + 6);
    if (!path) return;
    memcpy(path, model, n);
    memcpy(path + n, ".json", 6);
    char *text = read_file(path, NULL);
    free(path);
    if (!text) return;
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) return;
    const cJSON *audio = cJSON_GetObjectItemCaseSensitive(j, "audio");
    const cJSON *sr = cJSON_GetObjectItemCaseSensitive(audio, "sample_rate");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(j, "num_symbols");
    const cJSON *nsp = cJSON_GetObjectItemCaseSensitive(j, "num_speakers");
    if (cJSON_IsNumber(sr) && sr->valuedouble > 0 && sr->valuedouble < 1e7)
        c->sample_rate = sr->valueint;
    if (cJSON_IsNumber(ns) && ns->valuedouble > 0 && ns->valuedouble < 1e9)
        c->num_symbols = ns->valueint;
    if (cJSON_IsNumber(nsp) && nsp->valuedouble > 0 && nsp->valuedouble < 1e9)
        c->num_speakers = nsp->valueint;
    cJSON_Delete(j);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return 0;
    return ru.ru_maxrss / 1024.0; /* Linux: KiB */
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Builds the Piper inputs in the graph's input order. 0, or 2 after a message. */
static int make_inputs(const vx_graph *g, const infer_args *a, const voice_cfg *cfg, int64_t *ids,
                       int n_ids, const float *scales, int64_t *len, int64_t *sid, vx_tensor *in) {
    int ni = vx_graph_n_inputs(g);
    if (ni > 4) return bad("the model has %d inputs; expected a Piper model", ni);
    if (a->sid >= 0 && vx_graph_find_input(g, "sid") < 0)
        return bad("--sid given but '%s' is a single-speaker model (no 'sid' input)", a->model);
    *sid = a->sid >= 0 ? a->sid : 0;
    if (cfg->num_speakers > 0 && *sid >= cfg->num_speakers && vx_graph_find_input(g, "sid") >= 0)
        return bad("--sid %lld out of range: the voice has %d speakers", (long long)*sid,
                   cfg->num_speakers);
    for (int i = 0; i < n_ids && cfg->num_symbols > 0; i++)
        if (ids[i] >= cfg->num_symbols)
            return bad("id %lld at position %d is out of range: the voice has %d symbols",
                       (long long)ids[i], i, cfg->num_symbols);
    *len = n_ids;
    for (int i = 0; i < ni; i++) {
        const char *nm = vx_graph_input(g, i)->name;
        vx_tensor *t = &in[i];
        memset(t, 0, sizeof *t);
        int64_t d[2] = {1, n_ids};
        if (!strcmp(nm, "input")) {
            vx_tensor_set_shape(t, 2, d);
            t->dtype = VX_INT64;
            t->data = ids;
        } else if (!strcmp(nm, "input_lengths")) {
            vx_tensor_set_shape(t, 1, d);
            t->dtype = VX_INT64;
            t->data = len;
        } else if (!strcmp(nm, "scales")) {
            d[0] = 3;
            vx_tensor_set_shape(t, 1, d);
            t->dtype = VX_FLOAT;
            t->data = (void *)scales;
        } else if (!strcmp(nm, "sid")) {
            vx_tensor_set_shape(t, 1, d);
            t->dtype = VX_INT64;
            t->data = sid;
        } else {
            return bad("the model has an input '%s' that a Piper model does not have", nm);
        }
    }
    return 0;
}

static int parse_scales(const char *s, float *sc) {
    char *end;
    for (int i = 0; i < 3; i++) {
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || errno || v < 0 || v > 100) return -1;
        sc[i] = (float)v;
        if (i < 2 && *end != ',') return -1;
        s = end + (i < 2);
    }
    return *end ? -1 : 0;
}

static int write_f32(const char *path, const vx_tensor *t) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    /* Raw little-endian float32; every target we build for is little-endian. */
    size_t n = t->numel ? fwrite(t->data, sizeof(float), (size_t)t->numel, f) : 0;
    int rc = fclose(f);
    return n == (size_t)t->numel && !rc ? 0 : -1;
}

/* One windowed run: the chunks concatenated into out[0]; *first_ms = time to the first. */
static int run_windows(const vx_graph *g, const vx_run_opts *o, const vx_tensor *in,
                       const infer_args *a, vx_tensor *out, double *first_ms) {
    double t0 = now_ms();
    vx_stream *s = NULL;
    int rc = vx_stream_start(g, o, in, vx_graph_n_inputs(g), NULL, &s);
    vx_tensor c = {0};
    float *buf = NULL;
    int64_t n = 0, cap = 0;
    int64_t dims[VX_MAX_DIMS];
    int ndim = 0;
    for (int i = 0; !rc; i++) {
        int got = vx_stream_next(s, i ? a->win_next : a->win_first, &c);
        if (got < 0) {
            rc = got;
            break;
        }
        if (!got) break;
        if (!i) {
            *first_ms = now_ms() - t0;
            ndim = c.ndim;
            memcpy(dims, c.dims, sizeof dims);
        }
        if (c.dtype != VX_FLOAT) {
            rc = VOX_ERR_MODEL;
            break;
        }
        if (n + c.numel > cap) {
            cap = (n + c.numel) * 2;
            float *nb = realloc(buf, (size_t)cap * sizeof(float));
            if (!nb) {
                rc = VOX_ERR_NOMEM;
                break;
            }
            buf = nb;
        }
        memcpy(buf + n, c.data, (size_t)c.numel * sizeof(float));
        n += c.numel;
    }
    vx_tensor_release(&c);
    vx_stream_free(s);
    if (!rc && ndim > 0) {
        dims[ndim - 1] = n;
        for (int d = 0; d < ndim - 1; d++) dims[d] = 1;
        if (vx_tensor_alloc_raw(out, VX_FLOAT, ndim, dims))
            rc = VOX_ERR_NOMEM;
        else if (n)
            memcpy(out->data, buf, (size_t)n * sizeof(float));
    }
    free(buf);
    return rc;
}

int vox_infer_main(int argc, char **argv) {
    infer_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    float scales[3];
    if (parse_scales(a.scales, scales))
        return bad("bad --scales '%s' (want three numbers n,l,w in [0,100])", a.scales);
    int64_t *ids = NULL;
    int n_ids = parse_ids(a.ids, &ids);
    if (n_ids < 0) return 2;
    voice_cfg cfg;
    read_config(a.model, &cfg);
    int rate = a.rate ? a.rate : cfg.sample_rate ? cfg.sample_rate : 22050;

    char err[512] = "";
    vx_graph *g = NULL;
    double t0 = now_ms();
    char cache_dir[4096];
    vx_graph_opts gopt = {.precision = a.precision,
                          .pack_cache = vx_pack_cache_dir(a.pack_cache, cache_dir, sizeof cache_dir)};
    rc = vx_graph_load_opts(a.model, &gopt, &g, err, sizeof err);
    if (!rc && a.win_first) rc = vx_graph_split_piper(g, NULL, err, sizeof err);
    double load_ms = now_ms() - t0;
    if (rc) {
        fprintf(stderr, "vox infer: %s: %s\n", a.model, err);
        free(ids);
        return rc == VOX_ERR_IO || rc == VOX_ERR_NOT_FOUND ? 2 : 1; /* no such file: bad argument */
    }
    vx_tensor in[4], *outs = NULL;
    int64_t len, sid;
    double *times = calloc((size_t)a.reps, sizeof(double));
    vx_profile *prof = a.profile ? vx_profile_new(g) : NULL;
    int n_out = vx_graph_n_outputs(g);
    outs = calloc((size_t)n_out + 1, sizeof(vx_tensor));
    rc = make_inputs(g, &a, &cfg, ids, n_ids, scales, &len, &sid, in);
    if (!rc && (!times || !outs || (a.profile && !prof))) {
        fprintf(stderr, "vox infer: out of memory\n");
        rc = 1;
    }
    /* Kernels split their loops over this pool (vx_op_ctx.pool); 1 thread needs none. */
    vx_tpool *pool = !rc && a.threads > 1 ? vx_tpool_create(a.threads) : NULL;
    if (!rc && a.threads > 1 && !pool) {
        fprintf(stderr, "vox infer: cannot start %d threads\n", a.threads);
        rc = 1;
    }
    vx_run_opts o;
    vx_run_opts_init(&o);
    o.threads = a.threads;
    o.pool = pool;
    o.seed = a.seed;
    o.profile = prof;
    vx_run_stats st;
    memset(&st, 0, sizeof st);
    o.stats = &st;
    o.err = err;
    o.errlen = sizeof err;
    double first_ms = 0, best_first = 0;
    for (int r = 0; r < a.reps && !rc; r++) {
        for (int i = 0; i < n_out; i++) vx_tensor_release(&outs[i]);
        /* the first run of several stays out of the profile: it alone pays for fresh
         * memory (the host zeroes every new page), which would smear over every node */
        o.profile = r == 0 && a.reps > 1 ? NULL : prof;
        double t = now_ms();
        if (a.win_first ? run_windows(g, &o, in, &a, outs, &first_ms)
                        : vx_graph_run(g, &o, in, vx_graph_n_inputs(g), outs)) {
            fprintf(stderr, "vox infer: %s\n", err);
            rc = 1;
        }
        times[r] = now_ms() - t;
        if (!r || first_ms < best_first) best_first = first_ms;
    }
    if (!rc && (n_out < 1 || outs[0].dtype != VX_FLOAT)) {
        fprintf(stderr, "vox infer: the model's first output is not float audio\n");
        rc = 1;
    }
    if (!rc && a.out && write_f32(a.out, &outs[0])) {
        fprintf(stderr, "vox infer: cannot write '%s'\n", a.out);
        rc = 1;
    }
    /* --compare: the FP32 graph on the same inputs (loaded after the timed runs, so the
     * figures above are this precision's alone) */
    double snr = NAN, lmd = NAN;
    int64_t ref_samples = -1;
    if (!rc && a.compare) {
        vx_graph *gr = NULL;
        vx_tensor *ro = calloc((size_t)n_out + 1, sizeof(vx_tensor));
        if (!ro || vx_graph_load(a.model, &gr, err, sizeof err) ||
            vx_graph_run(gr, &o, in, vx_graph_n_inputs(gr), ro)) {
            fprintf(stderr, "vox infer: --compare: %s\n", err);
            rc = 1;
        } else {
            ref_samples = ro[0].numel;
            if (ro[0].numel == outs[0].numel) {
                snr = lowp_snr_db(ro[0].data, outs[0].data, ro[0].numel);
                lmd = lowp_logmel_db(ro[0].data, outs[0].data, ro[0].numel, rate);
            }
            vx_run_opts lo = o;
            lo.stats = NULL;
            if (a.precision && lowp_compare_layers(gr, g, &lo, in, stderr)) {
                fprintf(stderr, "vox infer: --compare: per-layer run failed: %s\n", err);
                rc = 1;
            }
        }
        for (int i = 0; ro && i < n_out; i++) vx_tensor_release(&ro[i]);
        free(ro);
        vx_graph_free(gr);
    }
    if (!rc) {
        double first_run = times[0]; /* a fresh process's run: pays for first-touch pages */
        qsort(times, (size_t)a.reps, sizeof(double), cmp_double);
        int64_t samples = outs[0].numel;
        double secs = (double)samples / rate;
        printf("{\"model\":\"%s\",\"ids\":%d,\"threads\":%d,\"samples\":%lld,\"sample_rate\":%d,"
               "\"dims\":[",
               base_name(a.model), n_ids, a.threads, (long long)samples, rate);
        for (int d = 0; d < outs[0].ndim; d++)
            printf("%s%lld", d ? "," : "", (long long)outs[0].dims[d]);
        printf("],\"load_ms\":%.1f,\"best_ms\":%.2f,\"median_ms\":%.2f,\"first_run_ms\":%.2f,"
               "\"rtf\":%.5f,\"peak_rss_mb\":%.1f,"
               "\"kernels\":\"%s\",\"peak_live_mb\":%.1f,\"peak_cached_mb\":%.1f,"
               "\"pack_cache\":\"%s\"",
               load_ms, times[0], times[a.reps / 2], first_run,
               secs > 0 ? times[0] / 1000 / secs : 0, peak_rss_mb(), vx_kernels_get()->name,
               st.peak_bytes / 1048576.0, st.buf_peak_cached / 1048576.0, vx_graph_pack_cache(g));
        size_t lpb = 0;
        int nlp = vx_graph_lowp_steps(g, &lpb);
        static const char *const pn[] = {"fp32", "bf16", "int8"};
        const vx_lowp_kernels *lk = a.precision ? vx_lowp_get((vx_lowp_fmt)a.precision) : NULL;
        printf(",\"precision\":\"%s\",\"lowp_kernels\":\"%s\",\"lowp_steps\":%d,\"lowp_packed_mb\":"
               "%.2f",
               pn[a.precision], lk ? lk->name : "none", nlp, lpb / 1048576.0);
        if (a.win_first) {
            vx_split_info si;
            vx_graph_split_get(g, &si);
            printf(",\"windowed\":%d,\"first_ms\":%.2f,\"halo\":[%d,%d],\"split\":\"", si.ok,
                   best_first, si.halo_left, si.halo_right);
            for (const char *p = si.note; *p; p++)
                if (*p != '"' && *p != '\\') putchar(*p);
            printf("\"");
        }
        if (a.compare) {
            printf(",\"ref_samples\":%lld", (long long)ref_samples);
            if (isfinite(snr))
                printf(",\"snr_db\":%.2f", snr);
            else
                printf(",\"snr_db\":%s", snr > 0 ? "\"inf\"" : "null");
            if (isfinite(lmd))
                printf(",\"logmel_db\":%.4f", lmd);
            else
                printf(",\"logmel_db\":null");
        }
        printf("}\n");
        fflush(stdout);
        if (prof) {
            /* VOX_PROFILE_TOP=N lists N nodes (all: a large N) instead of the top 15. */
            const char *top = getenv("VOX_PROFILE_TOP");
            vx_profile_print(g, prof, stderr, top && atoi(top) > 0 ? atoi(top) : 15);
        }
    }
    for (int i = 0; outs && i < n_out; i++) vx_tensor_release(&outs[i]);
    free(outs);
    free(times);
    vx_profile_free(prof);
    vx_tpool_free(pool);
    vx_graph_free(g);
    free(ids);
    return rc;
}
