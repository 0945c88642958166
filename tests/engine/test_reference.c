/* Model-level check: every case of ../shared/reference/manifest.json (onnxruntime's
 * outputs) must give the same sample count and SNR >= 60 dB with our engine.
 * VOX_TEST_THREADS sets kernel threads (default 1). VOX_TEST_SLOW=0 (sanitizer runs)
 * keeps only the short cases (< 100000 samples).
 *
 * Run without VOX_CPU, it checks the default kernel path on every case, then re-runs
 * itself once per other available path (VOX_CPU=avx2, scalar...) on the short and
 * medium cases (< 1000000 samples), and once with fusion off (VOX_FUSE=0) on the short
 * ones; each child must pass. */
#include "engine/graph.h"
#include "util/tpool.h"
#include "test.h"
#include "vox.h"
#include <cjson/cJSON.h>
#include "kernels/kernels.h"
#include <time.h>
#include <unistd.h>

#define MAX_MODELS 8

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct model_slot {
    char path[2048];
    vx_graph *g;
} model_slot;

static vx_graph *get_model(model_slot *ms, int *n, const char *path) {
    for (int i = 0; i < *n; i++)
        if (!strcmp(ms[i].path, path)) return ms[i].g;
    if (*n == MAX_MODELS) return NULL;
    char err[512] = "";
    vx_graph *g = NULL;
    double t0 = now_s();
    int rc = vx_graph_load(path, &g, err, sizeof err);
    CHECKF(rc == 0, "load %s: %s", path, err);
    if (rc) return NULL;
    vx_graph_stats st;
    vx_graph_get_stats(g, &st);
    printf("loaded %s in %.2f s: %d nodes, %d folded, %d steps\n", path, now_s() - t0, st.n_nodes,
           st.n_folded, st.n_steps);
    snprintf(ms[*n].path, sizeof ms[*n].path, "%s", path);
    ms[(*n)++].g = g;
    return g;
}

static int parse_ids(const char *text, int64_t *ids, int cap) {
    int n = 0;
    const char *p = text;
    while (*p && n < cap) {
        char *e;
        long long v = strtoll(p, &e, 10);
        if (e == p) {
            p++;
            continue;
        }
        ids[n++] = v;
        p = e;
    }
    return n;
}

static void run_case(const char *dir, const cJSON *c, model_slot *ms, int *n_models, int threads,
                     vx_tpool *pool) {
    const char *model = cJSON_GetStringValue(cJSON_GetObjectItem(c, "model"));
    const char *idsf = cJSON_GetStringValue(cJSON_GetObjectItem(c, "ids"));
    const char *outf = cJSON_GetStringValue(cJSON_GetObjectItem(c, "output"));
    const cJSON *sidj = cJSON_GetObjectItem(c, "sid"), *sc = cJSON_GetObjectItem(c, "scales");
    const cJSON *nsj = cJSON_GetObjectItem(c, "samples");
    CHECK(model && idsf && outf && cJSON_IsArray(sc) && cJSON_GetArraySize(sc) == 3 &&
          cJSON_IsNumber(nsj));
    if (!model || !idsf || !outf || !cJSON_IsArray(sc) || cJSON_GetArraySize(sc) != 3 ||
        !cJSON_IsNumber(nsj))
        return;
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, model);
    vx_graph *g = get_model(ms, n_models, path);
    if (!g) return;
    snprintf(path, sizeof path, "%s/%s", dir, idsf);
    char *idtext = test_slurp(path, NULL);
    CHECKF(idtext != NULL, "cannot read %s", path);
    if (!idtext) return;
    static int64_t ids[100000];
    int n = parse_ids(idtext, ids, 100000);
    free(idtext);
    snprintf(path, sizeof path, "%s/%s", dir, outf);
    long ref_bytes = 0;
    float *ref = (float *)test_slurp(path, &ref_bytes);
    CHECKF(ref != NULL, "cannot read %s", path);
    if (!ref) return;
    int64_t ref_n = ref_bytes / 4;
    CHECK_EQ_INT(ref_n, (int64_t)nsj->valuedouble);

    int64_t len = n, sid = cJSON_IsNumber(sidj) ? (int64_t)sidj->valuedouble : 0;
    float scales[3];
    for (int i = 0; i < 3; i++) scales[i] = (float)cJSON_GetArrayItem(sc, i)->valuedouble;
    vx_tensor in[4];
    int ni = vx_graph_n_inputs(g);
    CHECK(ni >= 3 && ni <= 4);
    for (int i = 0; i < ni && i < 4; i++) {
        const char *nm = vx_graph_input(g, i)->name;
        int64_t d[2] = {1, n};
        memset(&in[i], 0, sizeof in[i]);
        if (!strcmp(nm, "input")) {
            vx_tensor_set_shape(&in[i], 2, d);
            in[i].dtype = VX_INT64;
            in[i].data = ids;
        } else if (!strcmp(nm, "input_lengths")) {
            vx_tensor_set_shape(&in[i], 1, d);
            in[i].dtype = VX_INT64;
            in[i].data = &len;
        } else if (!strcmp(nm, "sid")) {
            vx_tensor_set_shape(&in[i], 1, d);
            in[i].dtype = VX_INT64;
            in[i].data = &sid;
        } else if (!strcmp(nm, "scales")) {
            d[0] = 3;
            vx_tensor_set_shape(&in[i], 1, d);
            in[i].dtype = VX_FLOAT;
            in[i].data = scales;
        } else
            CHECKF(0, "unexpected input %s", nm);
    }
    /* Also fetch the durations (Ceil output): their sum times the hop is the sample count. */
    const char *dur_name = vx_graph_first_output_of(g, "Ceil");
    CHECK(dur_name != NULL);
    const char *extra[1] = {dur_name};
    char err[512] = "";
    vx_run_opts o;
    vx_run_opts_init(&o);
    o.threads = threads;
    o.pool = pool;
    o.err = err;
    o.errlen = sizeof err;
    o.extra_outputs = extra;
    o.n_extra_outputs = dur_name ? 1 : 0;
    vx_tensor outs[8] = {{0}};
    CHECK(vx_graph_n_outputs(g) + 1 <= 8);
    double t0 = now_s();
    int rc = vx_graph_run(g, &o, in, ni, outs);
    double secs = now_s() - t0;
    CHECKF(rc == 0, "%s: %s", outf, err);
    if (!rc) {
        vx_tensor *y = &outs[0];
        CHECK_EQ_INT(y->dtype, VX_FLOAT);
        CHECK_EQ_INT(y->numel, ref_n);
        double snr = y->numel == ref_n && y->dtype == VX_FLOAT
                         ? test_snr_db(ref, y->data, (size_t)ref_n)
                         : -999;
        double dsum = 0;
        if (dur_name) {
            vx_tensor *d = &outs[vx_graph_n_outputs(g)];
            for (int64_t i = 0; i < d->numel; i++) dsum += vx_tensor_get_f64(d, i);
            CHECKF(dsum > 0 && fmod((double)ref_n, dsum) == 0,
                   "durations sum %.0f does not divide %lld", dsum, (long long)ref_n);
        }
        printf("%-40s ids %4d samples %8lld (ref %8lld) frames %6.0f  SNR %7.2f dB  %.2f s\n", outf,
               n, (long long)y->numel, (long long)ref_n, dsum, snr, secs);
        CHECKF(snr >= 60, "%s: SNR %.2f dB < 60", outf, snr);
    }
    for (int i = 0; i < 8; i++) vx_tensor_release(&outs[i]);
    free(ref);
}

/* Re-runs this test with env name=value and a sample limit; returns its exit status. */
static int run_child(const char *self, const char *name, const char *value, const char *limit) {
    return test_run_child(self, (const char *const[]){name, value, "VOX_TEST_REF_MAX_SAMPLES",
                                                      limit, "VOX_TEST_REF_CHILD", "1", NULL});
}

int main(int argc, char **argv) {
    (void)argc;
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/reference", test_shared_dir());
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *text = test_slurp(path, NULL);
    CHECKF(text != NULL, "cannot read %s", path);
    if (!text) TEST_SUMMARY();
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *cases = cJSON_GetObjectItem(j, "cases");
    CHECK(cJSON_IsArray(cases) && cJSON_GetArraySize(cases) > 0);
    const char *th = getenv("VOX_TEST_THREADS");
    int threads = th && atoi(th) > 0 ? atoi(th) : 1;
    vx_tpool *pool = threads > 1 ? vx_tpool_create(threads) : NULL;
    model_slot ms[MAX_MODELS];
    int n_models = 0;
    double t0 = now_s();
    const char *slow = getenv("VOX_TEST_SLOW");
    int quick = slow && !strcmp(slow, "0");
    const char *lim = getenv("VOX_TEST_REF_MAX_SAMPLES");
    double max_samples = lim ? atof(lim) : 0;
    printf("kernel path %s%s\n", vx_kernels_get()->name,
           getenv("VOX_FUSE") ? " (VOX_FUSE set)" : "");
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        double ns = cJSON_GetNumberValue(cJSON_GetObjectItem(c, "samples"));
        if (quick && ns >= 100000) continue;
        if (max_samples > 0 && ns >= max_samples) continue;
        run_case(dir, c, ms, &n_models, threads, pool);
    }
    printf("total %.1f s\n", now_s() - t0);
    if (!getenv("VOX_TEST_REF_CHILD") && !getenv("VOX_CPU")) {
        static const char *const paths[] = {"avx512", "avx2", "neon", "scalar"};
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
            if (!vx_kernels_by_name(paths[i]) || !strcmp(paths[i], vx_kernels_get()->name))
                continue;
            int st = run_child(argv[0], "VOX_CPU", paths[i], "1000000");
            CHECKF(st == 0, "kernel path %s: child exited with %d", paths[i], st);
        }
        int st = run_child(argv[0], "VOX_FUSE", "0", "100000");
        CHECKF(st == 0, "VOX_FUSE=0: child exited with %d", st);
    }
    for (int i = 0; i < n_models; i++) vx_graph_free(ms[i].g);
    vx_tpool_free(pool);
    cJSON_Delete(j);
    TEST_SUMMARY();
}
