#include "ops/op.h"
#include "vox.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const vx_op_def *const op_tables[] = {vx_ops_elementwise, vx_ops_shape, vx_ops_nn};

const vx_op_def *vx_op_find(const char *op_type) {
    for (size_t t = 0; t < sizeof op_tables / sizeof op_tables[0]; t++)
        for (const vx_op_def *d = op_tables[t]; d->op_type; d++)
            if (!strcmp(d->op_type, op_type)) return d;
    return NULL;
}

/* Whether an output of this shape is over ctx->max_bytes (then over_limit is set). */
static int over_limit(vx_op_ctx *ctx, int dtype, int ndim, const int64_t *dims) {
    if (!ctx || !ctx->max_bytes) return 0;
    size_t n = vx_dtype_size(dtype);
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0) return 0; /* the allocator refuses it */
        if (dims[i] && n > ctx->max_bytes / (size_t)dims[i])
            n = ctx->max_bytes + 1;
        else
            n *= (size_t)dims[i];
    }
    if (n <= ctx->max_bytes) return 0;
    ctx->over_limit = 1;
    return 1;
}

int vx_op_alloc(vx_op_ctx *ctx, vx_tensor *t, int dtype, int ndim, const int64_t *dims) {
    if (over_limit(ctx, dtype, ndim, dims)) return VOX_ERR_NOMEM;
    return vx_tensor_alloc(t, dtype, ndim, dims) ? VOX_ERR_NOMEM : 0;
}

int vx_op_alloc_raw(vx_op_ctx *ctx, vx_tensor *t, int dtype, int ndim, const int64_t *dims) {
    if (over_limit(ctx, dtype, ndim, dims)) return VOX_ERR_NOMEM;
    return vx_tensor_alloc_raw(t, dtype, ndim, dims) ? VOX_ERR_NOMEM : 0;
}

int vx_op_fail(vx_op_ctx *ctx, const vx_node *node, int code, const char *fmt, ...) {
    if (ctx && ctx->err && ctx->errlen) {
        int k = snprintf(ctx->err, ctx->errlen, "%s '%s': ", node ? node->op_type : "?",
                         node && node->name ? node->name : "");
        if (k < 0) k = 0;
        if ((size_t)k < ctx->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ctx->err + k, ctx->errlen - k, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

int64_t vx_attr_int(const vx_node *n, const char *name, int64_t def) {
    const vx_attr *a = vx_node_attr(n, name);
    return a && a->type == VX_ATTR_INT ? a->i : def;
}

float vx_attr_float(const vx_node *n, const char *name, float def) {
    const vx_attr *a = vx_node_attr(n, name);
    if (!a) return def;
    if (a->type == VX_ATTR_FLOAT) return a->f;
    if (a->type == VX_ATTR_INT) return (float)a->i;
    return def;
}

const char *vx_attr_str(const vx_node *n, const char *name, const char *def) {
    const vx_attr *a = vx_node_attr(n, name);
    return a && a->type == VX_ATTR_STRING ? a->s : def;
}

int64_t vx_attr_ints(const vx_node *n, const char *name, const int64_t **vals) {
    const vx_attr *a = vx_node_attr(n, name);
    if (!a || a->type != VX_ATTR_INTS) {
        *vals = NULL;
        return -1;
    }
    *vals = a->ints;
    return a->n;
}

/* xoshiro256** seeded through splitmix64: small, fast, and reproducible per run. */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void vx_rng_seed(vx_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t vx_rng_next(vx_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double vx_rng_uniform(vx_rng *r) { return (double)(vx_rng_next(r) >> 11) * 0x1.0p-53; }

double vx_rng_normal(vx_rng *r) {
    /* Box-Muller; one draw per call keeps the stream position simple. */
    double u1 = vx_rng_uniform(r), u2 = vx_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void vx_rng_normal2(vx_rng *r, double *a, double *b) {
    /* Both halves of one Box-Muller draw: the sine is independent of the cosine, so a
     * block of normals costs one log and one sincos per pair. A Piper sentence draws
     * 192 x frames of them (1.25M at 800 phoneme ids) before its first audio. */
    double u1 = vx_rng_uniform(r), u2 = vx_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    double m = sqrt(-2.0 * log(u1)), s, c;
    sincos(2.0 * M_PI * u2, &s, &c);
    *a = m * c;
    *b = m * s;
}
