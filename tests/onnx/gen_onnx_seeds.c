/* Writes the seed corpus of tests/fuzz/fuzz_onnx_load and fuzz_graph_compile (not built
 * by CMake; the same seeds go to both):
 *   cc -Iinclude -Isrc -Itests tests/onnx/gen_onnx_seeds.c build/libvoxcore.a -lm -o /tmp/gen
 *   /tmp/gen ../shared tests/fuzz/corpus/fuzz_onnx_load
 *   /tmp/gen ../shared tests/fuzz/corpus/fuzz_graph_compile
 * Seeds: small hand-built models covering each encoding, a slice of the shared medium
 * voice (its first nodes, re-encoded with pbw.h, small initializers only), and the graph
 * patterns the compiler's fusion passes look for (the flows' WaveNet gate, the residual-
 * block mean), so the compile fuzzer starts inside them. */
#include "onnx/pbw.h"
#include "onnx/model.h"
#include <stdio.h>

static void save(const char *dir, const char *name, const pbw *m) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(m->p, 1, m->len, f) != m->len) {
        perror(path);
        exit(1);
    }
    fclose(f);
    printf("%s: %zu bytes\n", path, m->len);
}

static void tensor_body(pbw *t, const char *name, const vx_tensor *x) {
    onnx_tensor_raw(t, name, x->dtype, x->ndim, x->dims, x->data, vx_tensor_bytes(x));
}

static void attr_body(pbw *attrs, const vx_attr *a) {
    pbw b = {0}, t = {0};
    pbw_str(&b, 1, a->name);
    pbw_int(&b, 20, a->type);
    switch (a->type) {
    case 1: pbw_float(&b, 2, a->f); break;
    case 2: pbw_int(&b, 3, a->i); break;
    case 3: pbw_bytes(&b, 4, a->s, a->s_len); break;
    case 4:
        tensor_body(&t, "", a->t);
        pbw_msg(&b, 5, &t);
        break;
    case 6: pbw_packed_floats(&b, 7, a->floats, (int)a->n); break;
    case 7:
        for (int64_t i = 0; i < a->n; i++) pbw_int(&b, 8, a->ints[i]);
        break; /* unpacked, as torch writes */
    default: break;
    }
    pbw_msg(attrs, 5, &b);
    pbw_free(&b);
    pbw_free(&t);
}

static void slice_of_voice(const char *shared, const char *dir) {
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/models/en_US-rand-medium.onnx", shared);
    vx_model *m;
    if (vx_model_load(path, &m, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    pbw g = {0}, n = {0}, attrs = {0}, out = {0};
    pbw_str(&g, 2, m->graph_name);
    for (int i = 0; i < 60 && i < m->n_nodes; i++) {
        const vx_node *nd = &m->nodes[i];
        pbw_clear(&n);
        for (int k = 0; k < nd->n_inputs; k++) pbw_str(&n, 1, nd->inputs[k]);
        for (int k = 0; k < nd->n_outputs; k++) pbw_str(&n, 2, nd->outputs[k]);
        pbw_str(&n, 3, nd->name);
        pbw_str(&n, 4, nd->op_type);
        for (int k = 0; k < nd->n_attrs; k++) attr_body(&n, &nd->attrs[k]);
        pbw_msg(&g, 1, &n);
    }
    int kept = 0;
    for (int i = 0; i < m->n_inits && kept < 4; i++) {
        if (vx_tensor_bytes(&m->inits[i]) > 512) continue;
        pbw t = {0};
        tensor_body(&t, m->init_names[i], &m->inits[i]);
        pbw_msg(&g, 5, &t);
        pbw_free(&t);
        kept++;
    }
    for (int i = 0; i < m->n_inputs; i++) {
        const vx_value_info *v = &m->inputs[i];
        onnx_value_info(&g, 11, v->name, v->dtype, v->ndim, v->dims);
    }
    onnx_value_info(&g, 12, m->outputs[0].name, m->outputs[0].dtype, m->outputs[0].ndim,
                    m->outputs[0].dims);
    onnx_model(&out, (int)m->opset, &g);
    save(dir, "voice_slice.onnx", &out);
    pbw_free(&g);
    pbw_free(&n);
    pbw_free(&attrs);
    pbw_free(&out);
    vx_model_free(m);
}

/* The flows' WaveNet gate as Piper exports it (engine/fuse_gate.c), and HiFi-GAN's mean of
 * its residual blocks (vx_graph_fuse_sum): both fuse on compile. */
static void fusion_patterns(const char *dir) {
    pbw g = {0}, m = {0};
    onnx_value_info(&g, 11, "x", 1, 3, (int64_t[]){1, 8, -1});
    onnx_init_i64(&g, "s0", 1, (int64_t[]){1}, (int64_t[]){0});
    onnx_init_i64(&g, "e0", 1, (int64_t[]){1}, (int64_t[]){4});
    onnx_init_i64(&g, "e1", 1, (int64_t[]){1}, (int64_t[]){8});
    onnx_init_i64(&g, "ax", 1, (int64_t[]){1}, (int64_t[]){1});
    onnx_node(&g, "Shape", "shape", "x", "sh", NULL);
    onnx_node(&g, "ConstantOfShape", "zeros", "sh", "z", NULL);
    onnx_node(&g, "Add", "add", "x,z", "a", NULL);
    onnx_node(&g, "Slice", "slice_t", "a,s0,e0,ax", "at", NULL);
    onnx_node(&g, "Tanh", "tanh", "at", "t", NULL);
    onnx_node(&g, "Slice", "slice_s", "a,e0,e1,ax", "as", NULL);
    onnx_node(&g, "Sigmoid", "sigmoid", "as", "s", NULL);
    onnx_node(&g, "Mul", "mul", "t,s", "y", NULL);
    onnx_value_info(&g, 12, "y", 1, 3, (int64_t[]){1, 4, -1});
    onnx_model(&m, 13, &g);
    save(dir, "gate.onnx", &m);
    pbw_clear(&g);
    pbw_clear(&m);
    onnx_value_info(&g, 11, "x", 1, 3, (int64_t[]){1, 4, -1});
    onnx_value_info(&g, 11, "y", 1, 3, (int64_t[]){1, 4, -1});
    onnx_value_info(&g, 11, "z", 1, 3, (int64_t[]){1, 4, -1});
    onnx_init_f32(&g, "three", 0, NULL, (float[]){3.0f});
    onnx_node(&g, "Add", "add1", "x,y", "p", NULL);
    onnx_node(&g, "Add", "add2", "p,z", "q", NULL);
    onnx_node(&g, "Div", "div", "q,three", "o", NULL);
    onnx_value_info(&g, 12, "o", 1, 3, (int64_t[]){1, 4, -1});
    onnx_model(&m, 13, &g);
    save(dir, "sum_div.onnx", &m);
    /* VITS's channel LayerNorm (fuse_norm.c), opset 18: ReduceMean takes its axes as an
     * input, here an int64 initializer at an odd file offset (deferred by the loader) */
    pbw_clear(&g);
    pbw_clear(&m);
    onnx_value_info(&g, 11, "x", 1, 3, (int64_t[]){1, 4, -1});
    onnx_init_i64(&g, "axes", 1, (int64_t[]){1}, (int64_t[]){-1});
    onnx_init_f32(&g, "two", 0, NULL, (float[]){2.0f});
    onnx_init_f32(&g, "eps", 0, NULL, (float[]){1e-5f});
    onnx_init_f32(&g, "gamma", 1, (int64_t[]){4}, (float[]){1.0f, 0.5f, 2.0f, 1.5f});
    onnx_init_f32(&g, "beta", 1, (int64_t[]){4}, (float[]){0.0f, 0.1f, -0.1f, 0.2f});
    pbw a = {0};
    onnx_attr_ints(&a, "perm", (int64_t[]){0, 2, 1}, 3);
    onnx_node(&g, "Transpose", "t0", "x", "xt", &a);
    onnx_node(&g, "ReduceMean", "mean", "xt,axes", "mu", NULL);
    onnx_node(&g, "Sub", "sub", "xt,mu", "d", NULL);
    onnx_node(&g, "Pow", "pow", "d,two", "d2", NULL);
    onnx_node(&g, "ReduceMean", "var", "d2,axes", "v", NULL);
    onnx_node(&g, "Add", "addeps", "v,eps", "ve", NULL);
    onnx_node(&g, "Sqrt", "sqrt", "ve", "sd", NULL);
    onnx_node(&g, "Div", "div", "d,sd", "n", NULL);
    onnx_node(&g, "Mul", "mul", "n,gamma", "ng", NULL);
    onnx_node(&g, "Add", "add", "ng,beta", "nb", NULL);
    onnx_attr_ints(&a, "perm", (int64_t[]){0, 2, 1}, 3);
    onnx_node(&g, "Transpose", "t1", "nb", "y", &a);
    onnx_value_info(&g, 12, "y", 1, 3, (int64_t[]){1, 4, -1});
    onnx_model(&m, 18, &g);
    save(dir, "norm.onnx", &m);
    pbw_free(&a);
    pbw_free(&g);
    pbw_free(&m);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: gen SHARED_DIR OUT_DIR\n");
        return 2;
    }
    pbw g = {0}, a = {0}, t = {0}, m = {0};
    /* 1: attributes of each kind, an initializer that is also an input, a Constant */
    onnx_value_info(&g, 11, "x", 1, 2, (int64_t[]){1, -1});
    onnx_value_info(&g, 11, "w", 1, 1, (int64_t[]){3});
    onnx_init_f32(&g, "w", 1, (int64_t[]){3}, (float[]){1.5f, -2.0f, 3.25f});
    onnx_attr_int(&a, "axis", -1);
    onnx_attr_float(&a, "alpha", 0.25f);
    onnx_attr_str(&a, "mode", "constant");
    onnx_attr_ints(&a, "pads", (int64_t[]){0, 1, -2, 300}, 4);
    onnx_attr_floats(&a, "scales", (float[]){1.0f, 2.5f}, 2);
    onnx_node(&g, "Mul", "mul0", "x,w", "y0", &a);
    onnx_tensor_raw(&t, "c", 7, 0, NULL, (int64_t[]){42}, 8);
    onnx_attr_tensor(&a, "value", &t);
    onnx_node(&g, "Constant", "const0", "", "c0", &a);
    onnx_node(&g, "Resize", "rs", "y0,,c0", "y", NULL);
    onnx_value_info(&g, 12, "y", 1, 2, (int64_t[]){1, -1});
    pbw_str(&a, 1, "key");
    pbw_str(&a, 2, "value");
    pbw_msg(&m, 14, &a);
    pbw_clear(&a);
    onnx_model(&m, 15, &g);
    save(argv[2], "attrs.onnx", &m);
    /* 2: typed tensor fields, packed and not */
    pbw_clear(&g);
    pbw_clear(&m);
    pbw_clear(&t);
    pbw_int(&t, 1, 2);
    pbw_int(&t, 1, 2);
    pbw_int(&t, 2, 1);
    pbw_str(&t, 8, "f");
    for (int i = 0; i < 4; i++) pbw_float(&t, 4, (float)i);
    pbw_msg(&g, 5, &t);
    pbw_clear(&t);
    pbw_packed_ints(&t, 1, (int64_t[]){3}, 1);
    pbw_int(&t, 2, 3);
    pbw_str(&t, 8, "i8");
    pbw_packed_ints(&t, 5, (int64_t[]){-1, 2, 127}, 3);
    pbw_msg(&g, 5, &t);
    pbw_clear(&t);
    pbw_int(&t, 1, 2);
    pbw_int(&t, 2, 7);
    pbw_str(&t, 8, "i64");
    pbw_int(&t, 7, -5);
    pbw_int(&t, 7, 1LL << 40);
    pbw_msg(&g, 5, &t);
    pbw_clear(&t);
    pbw_int(&t, 1, 1);
    pbw_int(&t, 2, 11);
    pbw_str(&t, 8, "d");
    pbw_double(&t, 10, 0.5);
    pbw_msg(&g, 5, &t);
    pbw_clear(&t);
    pbw_int(&t, 1, 1);
    pbw_int(&t, 2, 13);
    pbw_str(&t, 8, "u");
    pbw_int(&t, 11, 7);
    pbw_msg(&g, 5, &t);
    pbw_clear(&t);
    pbw_int(&t, 1, 2);
    pbw_int(&t, 2, 10);
    pbw_str(&t, 8, "h");
    pbw_packed_ints(&t, 5, (int64_t[]){0x3c00, 0}, 2);
    pbw_msg(&g, 5, &t);
    pbw_clear(&t);
    onnx_node(&g, "Add", "add", "f,f", "y", NULL);
    onnx_value_info(&g, 12, "y", 1, -1, NULL);
    onnx_model(&m, 15, &g);
    save(argv[2], "typed.onnx", &m);
    slice_of_voice(argv[1], argv[2]);
    fusion_patterns(argv[2]);
    pbw_free(&g);
    pbw_free(&a);
    pbw_free(&t);
    pbw_free(&m);
    return 0;
}
