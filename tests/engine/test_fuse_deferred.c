/* Fusion passes read constants that the loader may have deferred: an initializer whose
 * bytes sit misaligned in the mapped file is not copied at load (data NULL until
 * vx_graph_const_restore rebuilds it). The seeds of fuzz_graph_compile
 * (tests/onnx/gen_onnx_seeds.c) hold the flows' WaveNet gate, HiFi-GAN's residual-block
 * mean and VITS's channel LayerNorm with their constants as such initializers. Each must
 * compile (norm.onnx crashed the LayerNorm pass before: it read its ReduceMean axes through
 * a NULL pointer), fuse into its one step, and give what the graph compiled with
 * VOX_FUSE=0 gives, at several lengths. And fold_huge_constant.onnx (found by
 * fuzz_graph_compile: the gate seed with its ConstantOfShape fed a constant shape of ~1e9
 * elements) must compile without folding it: the load stays small (it took 3.8 GB); and
 * node_without_outputs.onnx (a Slice with no outputs, whose folded result leaked) is
 * refused with a message. */
#include "engine/graph_internal.h"
#include "test.h"
#include "vox.h"
#include <math.h>
#include <sys/resource.h>

#define DIR "tests/fuzz/corpus/fuzz_graph_compile/"

static int count_label(const vx_graph *g, const char *label) {
    int n = 0;
    for (int k = 0; k < g->n_steps; k++) n += !strcmp(g->steps[k].label, label);
    return n;
}

static vx_graph *load(const char *path, int fuse) {
    char err[256];
    vx_graph *g = NULL;
    if (!fuse) setenv("VOX_FUSE", "0", 1);
    int rc = vx_graph_load(path, &g, err, sizeof err);
    unsetenv("VOX_FUSE");
    CHECKF(rc == 0, "%s (fuse %d): %s", path, fuse, err);
    return rc ? NULL : g;
}

/* Runs g on inputs [1, C_i, t] (C_i from the model's input i) filled from seed; the
 * first output into out. */
static int run(const vx_graph *g, int64_t t, unsigned seed, vx_tensor *out) {
    int n = vx_graph_n_inputs(g);
    vx_tensor in[4];
    memset(in, 0, sizeof in);
    vx_tensor outs[2];
    memset(outs, 0, sizeof outs);
    int rc = n > 4 ? -1 : 0;
    for (int i = 0; i < n && !rc; i++) {
        int64_t dims[3] = {1, g->model->inputs[i].dims[1], t};
        rc = vx_tensor_alloc(&in[i], VX_FLOAT, 3, dims);
        float *d = rc ? NULL : in[i].data;
        for (int64_t j = 0; d && j < in[i].numel; j++)
            d[j] = 2.0f * sinf(0.37f * (float)j + 1.3f * (float)(i + 1) + (float)seed);
    }
    vx_run_opts o;
    vx_run_opts_init(&o);
    if (!rc) rc = vx_graph_run(g, &o, in, n, outs);
    for (int i = 0; i < n; i++) vx_tensor_release(&in[i]);
    *out = outs[0];
    vx_tensor_release(&outs[1]);
    return rc;
}

static void huge_constant(void) {
    vx_graph *g = load(DIR "fold_huge_constant.onnx", 1);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    CHECKF(ru.ru_maxrss < 200 * 1024, "compiling fold_huge_constant.onnx: peak RSS %ld KB",
           (long)ru.ru_maxrss);
    if (g) CHECKF(count_label(g, "ConstantOfShape") == 1, "the huge ConstantOfShape was folded");
    vx_graph_free(g);
}

static void no_outputs(void) {
    char err[256] = "";
    vx_graph *g = NULL;
    int rc = vx_graph_load(DIR "node_without_outputs.onnx", &g, err, sizeof err);
    CHECKF(rc != 0 && !g && strstr(err, "has no outputs"), "node without outputs: rc %d, '%s'", rc,
           err);
    vx_graph_free(g);
}

int main(void) {
    huge_constant(); /* first: the RSS peak is the process's */
    no_outputs();
    static const struct {
        const char *file, *label;
    } cases[] = {{DIR "gate.onnx", "Add+Slice+Tanh+Sigmoid+Mul"},
                 {DIR "sum_div.onnx", "Add+Add+Div"},
                 {DIR "norm.onnx", "ChannelLayerNorm"}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        vx_graph *gf = load(cases[c].file, 1), *gu = load(cases[c].file, 0);
        if (!gf || !gu) {
            vx_graph_free(gf);
            vx_graph_free(gu);
            continue;
        }
        CHECKF(count_label(gf, cases[c].label) == 1, "%s: not fused into %s", cases[c].file,
               cases[c].label);
        CHECKF(count_label(gu, cases[c].label) == 0, "%s: fused with VOX_FUSE=0", cases[c].file);
        static const int64_t lens[] = {1, 7, 600};
        for (int li = 0; li < 3; li++) {
            vx_tensor a = {0}, b = {0};
            int ra = run(gf, lens[li], (unsigned)li, &a), rb = run(gu, lens[li], (unsigned)li, &b);
            CHECKF(ra == 0 && rb == 0, "%s t=%lld: runs fail (%d, %d)", cases[c].file,
                   (long long)lens[li], ra, rb);
            if (!ra && !rb) {
                CHECKF(a.numel == b.numel && a.numel > 0, "%s t=%lld: %lld vs %lld elements",
                       cases[c].file, (long long)lens[li], (long long)a.numel, (long long)b.numel);
                double worst = 0;
                for (int64_t j = 0; j < a.numel && a.numel == b.numel; j++) {
                    double d = fabs((double)((float *)a.data)[j] - ((float *)b.data)[j]);
                    if (!(d <= worst)) worst = d; /* NaN counts */
                }
                CHECKF(worst <= 1e-5, "%s t=%lld: fused and unfused differ by %g", cases[c].file,
                       (long long)lens[li], worst);
            }
            vx_tensor_release(&a);
            vx_tensor_release(&b);
        }
        vx_graph_free(gf);
        vx_graph_free(gu);
    }
    TEST_SUMMARY();
}
