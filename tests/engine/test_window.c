/* Windowed runs of the frame-level part (engine/split.c, stream.c).
 *
 * For every case of ../shared/reference/manifest.json (onnxruntime's outputs), at several
 * window schedules including 1-frame windows: the windowed output has the sample count
 * of the reference and of our whole run, SNR >= 60 dB against onnxruntime, and is bit for
 * bit our whole run. The same on random ids of both shared models, and with noise on
 * (scales 0.667,1,0.8, one seed): windowed == whole, bit for bit. The split itself must
 * be found on both models with a halo within reason. VOX_TEST_SLOW=0 (sanitizers) keeps
 * the short cases and shortens the schedules (1-frame windows for the first 24 frames). */
#include "engine/graph.h"
#include "engine/graph_internal.h"
#include "util/tpool.h"
#include "test.h"
#include "vox.h"
#include <cjson/cJSON.h>
#include <stdint.h>
#include <time.h>

static int quick;
static int carry_on, span_on; /* VOX_WINDOW_CARRY, VOX_WINDOW_SPAN (children turn them off) */

typedef struct inputs {
    int64_t ids[4096], len, sid;
    float scales[3];
    vx_tensor t[4];
    int n;
} inputs;

static void make_inputs(const vx_graph *g, inputs *in, int n_ids) {
    in->len = n_ids;
    in->n = vx_graph_n_inputs(g);
    for (int i = 0; i < in->n && i < 4; i++) {
        const char *nm = vx_graph_input(g, i)->name;
        int64_t d[2] = {1, n_ids};
        vx_tensor *t = &in->t[i];
        memset(t, 0, sizeof *t);
        if (!strcmp(nm, "input")) {
            vx_tensor_set_shape(t, 2, d);
            t->dtype = VX_INT64;
            t->data = in->ids;
        } else if (!strcmp(nm, "input_lengths")) {
            vx_tensor_set_shape(t, 1, d);
            t->dtype = VX_INT64;
            t->data = &in->len;
        } else if (!strcmp(nm, "sid")) {
            vx_tensor_set_shape(t, 1, d);
            t->dtype = VX_INT64;
            t->data = &in->sid;
        } else {
            d[0] = 3;
            vx_tensor_set_shape(t, 1, d);
            t->dtype = VX_FLOAT;
            t->data = in->scales;
        }
    }
}

/* A schedule: `ones` 1-frame windows, then windows of `first`, then `next` frames;
 * `threads` 2: on a 2-thread pool (windows of 32 frames or more are made two at a time,
 * one per thread: stream.c), else on the calling thread. */
typedef struct sched {
    int ones, first, next, threads;
    int grow; /* 1: windows double from `first` up to `next` (voxd's schedule) */
} sched;

static vx_tpool *pool2; /* 2 threads */

/* The windowed run concatenated into *out (malloc'd); sample count, or -1. */
static int64_t run_windowed(const vx_graph *g, const inputs *in, uint64_t seed, sched s,
                            float **out, int *n_chunks) {
    char err[512] = "";
    vx_run_opts o;
    vx_run_opts_init(&o);
    o.seed = seed;
    o.err = err;
    o.errlen = sizeof err;
    if (s.threads == 2) {
        o.pool = pool2;
        o.threads = 2;
    }
    vx_stream *st = NULL;
    int rc = vx_stream_start(g, &o, in->t, in->n, NULL, &st);
    CHECKF(rc == 0, "stream start: %s", err);
    if (rc) return -1;
    CHECK(vx_stream_windowed(st));
    int64_t n = 0, cap = 1 << 16;
    float *buf = malloc((size_t)cap * sizeof(float));
    vx_tensor c = {0};
    *n_chunks = 0;
    for (int i = 0; buf; i++) {
        int64_t f = i < s.ones ? 1 : i == s.ones ? s.first : s.next;
        if (s.grow && i >= s.ones)
            f = i - s.ones < 20 && ((int64_t)s.first << (i - s.ones)) < s.next
                    ? (int64_t)s.first << (i - s.ones)
                    : s.next;
        int got = vx_stream_next(st, f, &c);
        CHECKF(got >= 0, "stream next: %s", err);
        if (got <= 0) {
            if (got < 0) n = -1;
            break;
        }
        (*n_chunks)++;
        if (n + c.numel > cap) {
            cap = (n + c.numel) * 2;
            float *nb = realloc(buf, (size_t)cap * sizeof(float));
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        memcpy(buf + n, c.data, (size_t)c.numel * sizeof(float));
        n += c.numel;
    }
    vx_tensor_release(&c);
    vx_stream_free(st);
    *out = buf;
    return buf ? n : -1;
}

static int run_whole(const vx_graph *g, const inputs *in, uint64_t seed, vx_tensor *y) {
    char err[512] = "";
    vx_run_opts o;
    vx_run_opts_init(&o);
    o.seed = seed;
    o.err = err;
    o.errlen = sizeof err;
    vx_tensor outs[4] = {{0}};
    int rc = vx_graph_run(g, &o, in->t, in->n, outs);
    CHECKF(rc == 0, "whole run: %s", err);
    *y = outs[0];
    for (int i = 1; i < 4; i++) vx_tensor_release(&outs[i]);
    return rc;
}

/* Windowed vs whole (and vs ref when given) at each schedule. */
static void compare(const char *what, const vx_graph *g, const inputs *in, uint64_t seed,
                    const float *ref, int64_t ref_n, const sched *ss, int n_s) {
    vx_tensor y = {0};
    if (run_whole(g, in, seed, &y)) return;
    for (int k = 0; k < n_s; k++) {
        float *w = NULL;
        int chunks = 0;
        long pairs = vx_stream_pair_runs(), carried = vx_stream_carried_parts(),
             spans = vx_stream_span_parts();
        int64_t n = run_windowed(g, in, seed, ss[k], &w, &chunks);
        /* the carry and the spans ran (or, turned off, did not) */
        if (chunks >= 4 && n > 0)
            CHECKF((vx_stream_carried_parts() > carried) == carry_on, "%s: carry %s but %s used",
                   what, carry_on ? "on" : "off", carry_on ? "never" : "still");
        if (n > 0)
            CHECKF((vx_stream_span_parts() > spans) == span_on, "%s: spans %s but %s run", what,
                   span_on ? "on" : "off", span_on ? "none" : "some");
        /* 2 threads and windows of >= 32 frames: some were made two at a time */
        if (ss[k].threads == 2 && ss[k].next >= 32 && !ss[k].grow &&
            n > (int64_t)(ss[k].ones + ss[k].first + 2 * ss[k].next) * 256)
            CHECKF(vx_stream_pair_runs() > pairs, "%s: no window pair on 2 threads", what);
        CHECKF(n == y.numel, "%s: windowed %lld samples, whole %lld", what, (long long)n,
               (long long)y.numel);
        if (ref)
            CHECKF(n == ref_n, "%s: windowed %lld samples, reference %lld", what, (long long)n,
                   (long long)ref_n);
        if (n == y.numel && w) {
            int same = !memcmp(w, y.data, (size_t)n * sizeof(float));
            double snr_w = test_snr_db(y.data, w, (size_t)n);
            double snr_r = ref && n == ref_n ? test_snr_db(ref, w, (size_t)n) : 0;
            printf("%-44s schedule %2d x1,%4d,%s%4d on %d thr: %3d chunks, %8lld samples, %s whole, "
                   "SNR vs ort %s%.2f dB\n",
                   what, ss[k].ones, ss[k].first, ss[k].grow ? "..." : "", ss[k].next,
                   ss[k].threads ? ss[k].threads : 1,
                   chunks, (long long)n, same ? "bit-identical to" : "DIFFERS from",
                   ref ? "" : "(n/a) ", snr_r);
            CHECKF(same, "%s: windowed differs from whole (SNR %.2f dB)", what, snr_w);
            CHECKF(snr_w >= 60, "%s: SNR vs whole %.2f dB", what, snr_w);
            if (ref) CHECKF(snr_r >= 60, "%s: SNR vs onnxruntime %.2f dB < 60", what, snr_r);
        }
        free(w);
    }
    vx_tensor_release(&y);
}

static void reference_cases(void) {
    char dir[1024], path[2048];
    snprintf(dir, sizeof dir, "%s/reference", test_shared_dir());
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *text = test_slurp(path, NULL);
    CHECKF(text != NULL, "cannot read %s", path);
    if (!text) return;
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(j, "cases")) {
        const char *model = cJSON_GetStringValue(cJSON_GetObjectItem(c, "model"));
        const char *idsf = cJSON_GetStringValue(cJSON_GetObjectItem(c, "ids"));
        const char *outf = cJSON_GetStringValue(cJSON_GetObjectItem(c, "output"));
        const cJSON *sidj = cJSON_GetObjectItem(c, "sid"), *sc = cJSON_GetObjectItem(c, "scales");
        double samples = cJSON_GetNumberValue(cJSON_GetObjectItem(c, "samples"));
        CHECK(model && idsf && outf && cJSON_GetArraySize(sc) == 3);
        if (!model || !idsf || !outf || cJSON_GetArraySize(sc) != 3) continue;
        int big = samples > 1000000, mid = samples > 100000;
        if (quick && mid) continue;
        snprintf(path, sizeof path, "%s/%s", dir, model);
        char err[512] = "";
        vx_graph *g = NULL;
        int rc = vx_graph_load(path, &g, err, sizeof err);
        if (!rc) rc = vx_graph_split_piper(g, NULL, err, sizeof err);
        CHECKF(rc == 0, "%s: %s", path, err);
        if (rc) {
            vx_graph_free(g);
            continue;
        }
        static inputs in;
        memset(&in, 0, sizeof in);
        snprintf(path, sizeof path, "%s/%s", dir, idsf);
        char *idt = test_slurp(path, NULL);
        int n = 0;
        for (char *p = idt, *e; p && *p && n < 4096; p = e) {
            long long v = strtoll(p, &e, 10);
            if (e == p) {
                e = p + 1;
                continue;
            }
            in.ids[n++] = v;
        }
        free(idt);
        in.sid = cJSON_IsNumber(sidj) ? (int64_t)sidj->valuedouble : 0;
        for (int i = 0; i < 3; i++) in.scales[i] = (float)cJSON_GetArrayItem(sc, i)->valuedouble;
        make_inputs(g, &in, n);
        snprintf(path, sizeof path, "%s/%s", dir, outf);
        long rb = 0;
        float *ref = (float *)test_slurp(path, &rb);
        CHECKF(ref != NULL, "cannot read %s", path);
        /* 1-frame windows everywhere on short cases; on longer ones for the first frames. */
        sched all[4] = {{mid || quick ? 24 : 100000, 97, 97, 0, 0},
                        {0, 3, 50, 2, 0},
                        {0, 13, 200, 0, 0},
                        {0, 8, 256, 2, 1}};
        sched one[2] = {{0, 8, 160, 2, 0}, {0, 8, 256, 2, 1}};
        compare(outf, g, &in, 0, ref, rb / 4, big ? one : all, big ? 2 : quick ? 1 : 4);
        free(ref);
        vx_graph_free(g);
    }
    cJSON_Delete(j);
}

static void model_checks(const char *name, int n_ids, int halo_max) {
    char path[2048], err[512] = "";
    snprintf(path, sizeof path, "%s/models/%s", test_shared_dir(), name);
    vx_graph *g = NULL;
    int rc = vx_graph_load(path, &g, err, sizeof err);
    if (!rc) rc = vx_graph_split_piper(g, NULL, err, sizeof err);
    CHECKF(rc == 0, "%s: %s", path, err);
    if (rc) {
        vx_graph_free(g);
        return;
    }
    vx_split_info si;
    vx_graph_split_get(g, &si);
    printf("%s: %s\n", name, si.note);
    CHECKF(si.ok, "%s: no split: %s", name, si.note);
    CHECK(si.halo_left > 0 && si.halo_left <= halo_max && si.halo_right > 0 &&
          si.halo_right <= halo_max);
    CHECK(si.out_rate == 256);
    /* Cuts: the decoder's last stages need far less context than the whole part. */
    CHECKF(si.n_cuts > 0 && si.cut_left < si.halo_left && si.cut_right < si.halo_right,
           "%s: %d cuts, context %d/%d after the last", name, si.n_cuts, si.cut_left, si.cut_right);
    CHECK(si.n_frame > 100 && si.n_front > si.n_frame);
    /* Random ids (valid: below the id map's size, 0..99 for both configs), with and
     * without noise, one seed. */
    static inputs in;
    memset(&in, 0, sizeof in);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < n_ids; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        in.ids[i] = i == 0 ? 1 : i == n_ids - 1 ? 2 : i % 2 ? 0 : (int64_t)(3 + x % 60);
    }
    in.sid = 1;
    make_inputs(g, &in, n_ids);
    sched ss[5] = {{30, 5, 40, 2, 0},
                   {0, 1, 300, 0, 0},
                   {0, 8, 160, 0, 0},
                   {0, 8, 160, 2, 0},
                   {0, 8, 256, 2, 1}};
    in.scales[0] = 0;
    in.scales[1] = 1;
    in.scales[2] = 0;
    char what[160];
    snprintf(what, sizeof what, "%s random %d ids", name, n_ids);
    compare(what, g, &in, 7, NULL, 0, ss, quick ? 1 : 5);
    in.scales[0] = 0.667f;
    in.scales[1] = 1;
    in.scales[2] = 0.8f;
    snprintf(what, sizeof what, "%s random %d ids, noise on", name, n_ids);
    compare(what, g, &in, 12345, NULL, 0, ss, quick ? 1 : 5);
    vx_graph_free(g);
}

int main(int argc, char **argv) {
    (void)argc;
    const char *slow = getenv("VOX_TEST_SLOW");
    quick = slow && !strcmp(slow, "0");
    carry_on = !vx_env_off("VOX_WINDOW_CARRY"); /* as stream.c reads them */
    span_on = !vx_env_off("VOX_WINDOW_SPAN");
    printf("carry %s, spans %s\n", carry_on ? "on" : "off", span_on ? "on" : "off");
    pool2 = vx_tpool_create(2);
    CHECK(pool2 != NULL);
    model_checks("en_US-rand-medium.onnx", quick ? 15 : 60, 64);
    model_checks("en_US-rand3spk-x_low.onnx", quick ? 15 : 60, 64);
    reference_cases();
    vx_tpool_free(pool2);
    /* The same, quick, without the carry, without the spans, without both (the windows
     * then recompute their whole context, as they did before either existed). */
    if (!getenv("VOX_TEST_WINDOW_CHILD")) {
        const char *modes[3][8] = {
            {"VOX_WINDOW_CARRY", "0", "VOX_TEST_SLOW", "0", "VOX_TEST_WINDOW_CHILD", "1", NULL},
            {"VOX_WINDOW_SPAN", "0", "VOX_TEST_SLOW", "0", "VOX_TEST_WINDOW_CHILD", "1", NULL},
            {"VOX_WINDOW_CARRY", "0", "VOX_WINDOW_SPAN", "0", "VOX_TEST_SLOW", "0",
             "VOX_TEST_WINDOW_CHILD", "1"}};
        for (int m = 0; m < 3; m++) {
            const char *env[10] = {0};
            for (int i = 0; i < 8 && modes[m][i]; i++) env[i] = modes[m][i];
            CHECKF(test_run_child(argv[0], env) == 0, "child run %d (%s=0 ...) failed", m,
                   modes[m][0]);
        }
    }
    TEST_SUMMARY();
}
