/* Weights released after packing (pack.c: vx_graph_drop_consts) must come back whenever a
 * step reads them raw. A model written to a file (so its weights live in the mapping or
 * in the loader's copies), run with residuals of every shape the fused conv accepts or
 * falls back on, against a conv computed here from the weights we wrote. Then the restore
 * path itself: a step whose packing no longer matches the kernel table reads the raw
 * weights, which come back from the file (also when several threads ask at once). */
#include "test.h"
#include "engine/graph.h"
#include "engine/graph_internal.h"
#include <pthread.h>
#include "onnx/pbw.h"
#include "onnx/model.h"
#include <string.h>
#include <unistd.h>

enum { C = 8, K = 3, T = 53 };

static float lrelu(float x) { return x > 0 ? x : 0.1f * x; }

static void reference(const float *x, const float *w, const float *b, const float *r, int r_t,
                      float *y) {
    for (int co = 0; co < C; co++)
        for (int t = 0; t < T; t++) {
            double acc = b[co];
            for (int ci = 0; ci < C; ci++)
                for (int k = 0; k < K; k++) {
                    int ti = t + k - 1;
                    if (ti >= 0 && ti < T)
                        acc += (double)w[(co * C + ci) * K + k] * lrelu(x[ci * T + ti]);
                }
            y[co * T + t] = (float)acc + r[co * r_t + (r_t == 1 ? 0 : t)];
        }
}

/* pad: doc_string bytes ahead of the initializers, to put the weights' raw_data at every
 * alignment (a view of the mapping when 4-aligned, else deferred by the loader). */
static int write_model(const char *path, const float *w, const float *b, int r_t, int pad) {
    pbw g = {0}, a = {0}, m = {0};
    if (pad) pbw_str(&g, 10, &"xxx"[3 - pad]);
    int64_t wd[3] = {C, C, K}, bd[1] = {C}, xd[3] = {1, C, T}, rd[3] = {1, C, r_t};
    onnx_value_info(&g, 11, "x", 1, 3, xd);
    onnx_value_info(&g, 11, "r", 1, 3, rd);
    onnx_init_f32(&g, "w", 3, wd, w);
    onnx_init_f32(&g, "b", 1, bd, b);
    onnx_attr_float(&a, "alpha", 0.1f);
    onnx_node(&g, "LeakyRelu", "lk", "x", "xa", &a);
    int64_t pads[2] = {1, 1}, ks[1] = {K};
    onnx_attr_ints(&a, "pads", pads, 2);
    onnx_attr_ints(&a, "kernel_shape", ks, 1);
    onnx_node(&g, "Conv", "conv", "xa,w,b", "y0", &a);
    onnx_node(&g, "Add", "add", "y0,r", "y", NULL);
    int64_t yd[3] = {1, C, T};
    onnx_value_info(&g, 12, "y", 1, 3, yd);
    pbw_str(&g, 2, "drop");
    onnx_model(&m, 15, &g);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(m.p, 1, m.len, f) == m.len;
    if (f) fclose(f);
    pbw_free(&g);
    pbw_free(&a);
    pbw_free(&m);
    return ok ? 0 : -1;
}

static double run_case(const char *path, const float *x, const float *r, int r_t, const float *ref,
                       int threads_runs) {
    char err[512];
    vx_graph *g = NULL;
    if (vx_graph_load(path, &g, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1e9;
    }
    double worst = 0;
    for (int run = 0; run < threads_runs; run++) {
        vx_tensor in[2] = {{0}}, out[1] = {{0}};
        int64_t xd[3] = {1, C, T}, rd[3] = {1, C, r_t};
        in[0].dtype = VX_FLOAT;
        vx_tensor_set_shape(&in[0], 3, xd);
        in[0].data = (void *)x;
        in[1].dtype = VX_FLOAT;
        vx_tensor_set_shape(&in[1], 3, rd);
        in[1].data = (void *)r;
        vx_run_opts o;
        vx_run_opts_init(&o);
        o.err = err;
        o.errlen = sizeof err;
        if (vx_graph_run(g, &o, in, 2, out)) {
            fprintf(stderr, "%s\n", err);
            worst = 1e9;
            break;
        }
        const float *y = out[0].data;
        for (int i = 0; i < C * T; i++) worst = fmax(worst, fabs(y[i] - ref[i]));
        vx_tensor_release(&out[0]);
    }
    vx_graph_free(g);
    return worst;
}

typedef struct {
    const vx_graph *g;
    int s, rc;
    const void *data;
} restore_t;
static int n_lazy; /* restore cases whose weights were really released */
static void *restore_fn(void *arg) {
    restore_t *r = arg;
    r->rc = vx_graph_const_restore(r->g, r->s);
    r->data = r->g->consts[r->s].data;
    return NULL;
}

/* Loads path, checks "w" was dropped, makes the conv step read its raw weights (as if
 * the kernel table had changed since packing), runs it against ref; then restores "w"
 * from 4 threads at once on a fresh load. */
static void restore_case(const char *path, const float *x, const float *r, const float *w,
                         const float *ref) {
    char err[512];
    vx_graph *g = NULL;
    CHECK_EQ_INT(vx_graph_load(path, &g, err, sizeof err), 0);
    if (!g) return;
    int s = vx_graph_slot(g, "w"), conv = -1;
    CHECK(s >= 0);
    for (int k = 0; k < g->n_steps; k++)
        if (g->steps[k].node && !strcmp(g->steps[k].node->op_type, "Conv")) conv = k;
    CHECK(conv >= 0);
    if (s < 0 || conv < 0) {
        vx_graph_free(g);
        return;
    }
    /* dropped: either lazy (data NULL, rebuilt from the file) or a view of the mapping
     * whose pages were given back (they fault in again) */
    int lazy = !g->consts[s].data;
    CHECK(!lazy || (g->lazy_src && g->lazy_src[s]));
    n_lazy += lazy;
    g->steps[conv].prep.kernels = NULL; /* the packing no longer applies */
    vx_tensor in[2] = {{0}}, out[1] = {{0}};
    int64_t xd[3] = {1, C, T};
    in[0].dtype = VX_FLOAT;
    vx_tensor_set_shape(&in[0], 3, xd);
    in[0].data = (void *)x;
    in[1].dtype = VX_FLOAT;
    vx_tensor_set_shape(&in[1], 3, xd);
    in[1].data = (void *)r;
    vx_run_opts o;
    vx_run_opts_init(&o);
    o.err = err;
    o.errlen = sizeof err;
    CHECK_EQ_INT(vx_graph_run(g, &o, in, 2, out), 0);
    double worst = out[0].data ? 0 : 1e9;
    for (int i = 0; out[0].data && i < C * T; i++)
        worst = fmax(worst, fabs(((float *)out[0].data)[i] - ref[i]));
    CHECKF(worst < 1e-4, "raw-weight run after restore: max error %g", worst);
    CHECK(g->consts[s].data && !memcmp(g->consts[s].data, w, sizeof(float) * C * C * K));
    vx_tensor_release(&out[0]);
    vx_graph_free(g);

    CHECK_EQ_INT(vx_graph_load(path, &g, err, sizeof err), 0);
    if (!g) return;
    restore_t rt[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        rt[i] = (restore_t){g, s, -1, NULL};
        pthread_create(&th[i], NULL, restore_fn, &rt[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) CHECK(rt[i].rc == 0 && rt[i].data && rt[i].data == rt[0].data);
    CHECK(rt[0].data && !memcmp(rt[0].data, w, sizeof(float) * C * C * K));
    CHECK_EQ_INT(vx_graph_const_restore(g, s), 0); /* idempotent */
    CHECK(g->consts[s].data == rt[0].data);
    vx_graph_free(g);
}

int main(void) {
    float w[C * C * K], b[C], x[C * T], r_full[C * T], r_bc[C], ref[C * T];
    unsigned s = 12345;
    for (int i = 0; i < C * C * K; i++) {
        s = s * 1103515245u + 12345u;
        w[i] = ((s >> 9) % 2001) / 1000.0f - 1.0f;
    }
    for (int i = 0; i < C; i++) {
        b[i] = 0.1f * i - 0.3f;
        r_bc[i] = 0.05f * i;
    }
    for (int i = 0; i < C * T; i++) {
        x[i] = sinf(0.37f * i);
        r_full[i] = cosf(0.11f * i);
    }
    char path[] = "/tmp/vox_drop_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    /* residual of the conv's own shape (fused path) and broadcast over time (fallback) */
    const float *rs[2] = {r_full, r_bc};
    int rts[2] = {T, 1};
    int seen[2] = {0, 0}; /* the weight loaded as a view / deferred */
    for (int c = 0; c < 8; c++) {
        int pad = c >> 1;
        CHECK_EQ_INT(write_model(path, w, b, rts[c & 1], pad), 0);
        vx_model *md = NULL;
        char err[512];
        CHECK_EQ_INT(vx_model_load_flags(path, VX_LOAD_DEFER_COPIES, &md, err, sizeof err), 0);
        for (int i = 0; md && i < md->n_inits; i++)
            if (!strcmp(md->init_names[i], "w")) seen[vx_model_init_deferred(md, i)] = 1;
        vx_model_free(md);
        reference(x, w, b, rs[c & 1], rts[c & 1], ref);
        unsetenv("VOX_DROP_CONSTS");
        double e1 = run_case(path, x, rs[c & 1], rts[c & 1], ref, 3);
        setenv("VOX_DROP_CONSTS", "0", 1);
        double e0 = run_case(path, x, rs[c & 1], rts[c & 1], ref, 1);
        unsetenv("VOX_DROP_CONSTS");
        CHECKF(e1 < 1e-4, "residual T=%d pad %d, weights dropped: max error %g", rts[c & 1], pad,
               e1);
        CHECKF(e0 < 1e-4, "residual T=%d pad %d, weights kept: max error %g", rts[c & 1], pad, e0);
    }
    CHECK(seen[0] && seen[1]);
    for (int pad = 0; pad < 4; pad++) { /* weights as a view of the mapping / deferred */
        CHECK_EQ_INT(write_model(path, w, b, T, pad), 0);
        reference(x, w, b, r_full, T, ref);
        restore_case(path, x, r_full, w, ref);
    }
    /* the scalar table packs nothing, so nothing is released there */
    CHECK(n_lazy > 0 || !strcmp(vx_kernels_get()->name, "scalar"));
    unlink(path);
    TEST_SUMMARY();
}
