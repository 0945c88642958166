/*
 * The graph executor: an ONNX model compiled once into a read-only plan, then run by
 * any number of threads at once.
 *
 * Load (vx_graph_load / vx_graph_from_model):
 *   - every value name gets a slot; every node is checked against the op registry
 *     (unknown op or non-default domain -> VOX_ERR_UNSUPPORTED naming the node);
 *   - nodes are sorted topologically (file order does not matter; a cycle or an input
 *     nobody produces -> VOX_ERR_MODEL naming the value);
 *   - constants are found (initializers, Constant nodes, and every deterministic node whose
 *     inputs are all constant) and folded by running their kernels once at load;
 *   - the last use of every value is computed so that the run frees each intermediate
 *     right after its last consumer.
 *
 * Run (vx_graph_run): the graph is never written; each run has its own value table and
 * RNG, so concurrent runs on one graph are safe.
 *
 * Tensor lifetime rule (what kernels may rely on and must respect):
 *   - Kernel inputs are read-only. Constants reach kernels as non-owned views of graph
 *     memory; graph inputs as non-owned views of the caller's tensors.
 *   - A kernel's outputs should be owned (allocated with vx_op_alloc). A kernel MAY instead
 *     return a non-owned view whose data pointer lies inside one of its inputs (Reshape,
 *     Squeeze, Identity...). The executor then keeps it safe: a view of a constant or of a
 *     caller input is kept as is; a view of a run-owned tensor whose data pointer equals
 *     that tensor's takes over its buffer when this node is the tensor's last use;
 *     anything else is copied. So a value in the table is always either owned by the run
 *     or a view of memory that outlives the run.
 *   - Outputs handed to the caller are always owned (copied if needed); the caller frees
 *     them with vx_tensor_release.
 */
#ifndef VX_GRAPH_H
#define VX_GRAPH_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "ops/op.h"
#include "tensor/tensor.h"
#include "onnx/model.h"

typedef struct vx_graph vx_graph;

/* Explicit executor limits. Compiling also folds constants only up to 64 MB per output and
 * 256 MB in all (graph.c VX_FOLD_MAX_BYTES / VX_FOLD_TOTAL_BYTES: a node over them runs
 * at run time instead), and refuses a node without outputs. */
#define VX_GRAPH_MAX_EXTRA_OUTPUTS 64
#define VX_GRAPH_MAX_NODE_IO       4096 /* inputs or outputs of one node */

/* Load an .onnx file (vx_model_load) and compile it. */
int vx_graph_load(const char *onnx_path, vx_graph **out, char *err, size_t errlen);
/* Compile an already loaded model. model_free (may be NULL) is called on m when the
 * graph is freed, and also when compilation fails; with NULL the caller keeps m and
 * must keep it alive until vx_graph_free. */
int vx_graph_from_model(vx_model *m, void (*model_free)(vx_model *), vx_graph **out, char *err,
                        size_t errlen);
/* The same with extra kernels (NULL-terminated table, searched before the registry):
 * custom ops, and tests that must not register anything globally. The table must
 * outlive the graph. */
int vx_graph_from_model_ops(vx_model *m, void (*model_free)(vx_model *), const vx_op_def *ops,
                            vx_graph **out, char *err, size_t errlen);
/* Compile options. precision: 0 FP32 (exactly onnxruntime's numerics), 1 bf16, 2 int8
 * (kernels/lowp.h vx_lowp_fmt), applied only to the Conv / ConvTranspose nodes of a Piper
 * model's frame-level half (node names under /dec/ and /flow/: decoder and flow); the text
 * encoder and duration predictor stay FP32, so durations and sample counts never change. */
typedef struct vx_graph_opts {
    int precision;
    /* directory of the packed-weight cache (engine/pack_cache.h: vx_pack_cache_dir
     * resolves the default); NULL = pack at every load */
    const char *pack_cache;
} vx_graph_opts;
int vx_graph_from_model_opts(vx_model *m, void (*model_free)(vx_model *), const vx_op_def *ops,
                             const vx_graph_opts *o, vx_graph **out, char *err, size_t errlen);
int vx_graph_load_opts(const char *onnx_path, const vx_graph_opts *o, vx_graph **out, char *err,
                       size_t errlen);
/* Steps running in reduced precision, and bytes of their packed weights. */
int vx_graph_lowp_steps(const vx_graph *g, size_t *packed_bytes);
/* Names of those steps' outputs in execution order (up to max into names, which may be
 * NULL); returns how many there are. */
int vx_graph_lowp_outputs(const vx_graph *g, const char **names, int max);
/* What the packed-weight cache did at load: "off" (no cache directory, no build-id,
 * nothing to pack), "hit" (mapped from the cache), "stored" (packed, then written to the
 * cache), "miss" (packed; the cache file could not be written). */
const char *vx_graph_pack_cache(const vx_graph *g);
/* Small values computed from this graph alone (e.g. a voice's calibration gain), kept with
 * its packed-weight cache file (engine/pack_cache.h: vx_pack_cache_aux_*), so a later load
 * of the same model by the same build need not compute them. 0, or -1: absent / no cache. */
int vx_graph_cache_aux_get(const vx_graph *g, const char *name, void *val, size_t n);
int vx_graph_cache_aux_put(const vx_graph *g, const char *name, const void *val, size_t n);
void vx_graph_free(vx_graph *g);

/* Query helpers. Declared dtype 0 / ndim -1 / dim -1 mean "unknown". */
int vx_graph_n_inputs(const vx_graph *g);
int vx_graph_n_outputs(const vx_graph *g);
const vx_value_info *vx_graph_input(const vx_graph *g, int i);
const vx_value_info *vx_graph_output(const vx_graph *g, int i);
int vx_graph_find_input(const vx_graph *g, const char *name); /* index or -1 */
/* Name of the first output of the first node (in execution order) of op_type, or NULL.
 * E.g. "Ceil" gives the Piper duration tensor. */
const char *vx_graph_first_output_of(const vx_graph *g, const char *op_type);

typedef struct vx_graph_stats {
    int n_nodes;  /* nodes in the model */
    int n_steps;  /* nodes left to run per run */
    int n_folded; /* nodes folded at load (Constant nodes included) */
    int n_values; /* named values (slots) */
    int n_consts; /* values that are constant (initializers + folded) */
} vx_graph_stats;
void vx_graph_get_stats(const vx_graph *g, vx_graph_stats *s);

/* Per-node timing accumulated over runs. Not thread-safe: one profile per thread. */
typedef struct vx_profile {
    int n_steps;
    double *step_ms; /* indexed by execution step */
    int64_t *step_calls;
    int64_t runs;
} vx_profile;
vx_profile *vx_profile_new(const vx_graph *g);
void vx_profile_free(vx_profile *p);
/* Time per op type (sorted, with share) and the top_nodes slowest nodes. */
void vx_profile_print(const vx_graph *g, const vx_profile *p, FILE *f, int top_nodes);

/* Run statistics filled by vx_graph_run when vx_run_opts.stats is set. */
typedef struct vx_run_stats {
    int steps_run;
    int peak_live;                /* most run-owned tensors alive at once */
    size_t peak_bytes;            /* most bytes in run-owned tensors at once */
    int live_at_end;              /* run-owned tensors alive after the last node (= kept values) */
    int64_t buf_hits, buf_misses; /* allocations served by the run's recycling pool / by malloc */
    size_t buf_peak_cached;       /* most bytes parked in that pool at once */
} vx_run_stats;

typedef struct vx_run_opts {
    int threads;                      /* threads kernels may use; <= 0 means 1 */
    vx_tpool *pool;                   /* thread pool for kernels (vx_op_ctx.pool), or NULL */
    uint64_t seed;                    /* RNG seed of this run (RandomNormalLike etc.) */
    const char *const *extra_outputs; /* names of intermediates to return too */
    int n_extra_outputs;
    volatile int *cancel; /* checked before every node; non-zero -> CANCELLED */
    vx_profile *profile;  /* accumulate per-node time, or NULL */
    vx_run_stats *stats;  /* or NULL */
    char *err;            /* message buffer, or NULL */
    size_t errlen;
} vx_run_opts;

void vx_run_opts_init(vx_run_opts *o);

/*
 * Run the graph. inputs[i] is graph input i (vx_graph_input order); n_inputs must equal
 * vx_graph_n_inputs. Inputs are checked against declared dtype, rank and fixed dims.
 * outputs must hold vx_graph_n_outputs + o->n_extra_outputs tensors: the graph outputs
 * in order, then the extra outputs in the order asked. Each must be zeroed or a valid
 * tensor (it is released first: never pass uninitialized memory). On success each is
 * owned by the caller; on error they are left empty. Returns 0 or a negative VOX_ERR_*; kernel failures are reported
 * as "node 'name' (OpType): message".
 */
int vx_graph_run(const vx_graph *g, const vx_run_opts *o, const vx_tensor *inputs, int n_inputs,
                 vx_tensor *outputs);

/* ---- The frame-level split (split.c) and windowed runs (stream.c) ----
 * vx_graph_split analyzes a compiled graph from two probe runs whose inputs differ only in
 * the number of frames the model makes (a Piper voice: the same ids at length scales 1
 * and 2): it finds the steps that are local along time (the frame-level part) and the
 * halo an output window needs. Call it once at load, before the graph is shared; 0 even
 * when no split was proven (info.ok = 0, info.note says which node stopped it). pool (or
 * NULL: one thread) runs the probes' kernels. */
typedef struct vx_split_info {
    int ok;                    /* 1: the frame-level part can run in windows */
    int n_front, n_frame;      /* steps run once per sentence / per window */
    int n_boundary;            /* values sliced per window */
    int out_rate;              /* output samples per frame */
    int halo_left, halo_right; /* frames of context each window needs */
    int n_cuts;                /* crops inside the part (split_cuts.c) */
    int cut_left, cut_right;   /* the context left after the last cut */
    char note[256];
} vx_split_info;
int vx_graph_split(vx_graph *g, const vx_tensor *probe_a, const vx_tensor *probe_b, int n_inputs,
                   vx_tpool *pool, char *err, size_t errlen);
void vx_graph_split_get(const vx_graph *g, vx_split_info *info);
/* The same with probes made for a Piper VITS export (inputs input, input_lengths, scales
 * and sid); 0 without a split for a model without those inputs. */
int vx_graph_split_piper(vx_graph *g, vx_tpool *pool, char *err, size_t errlen);

/* A windowed run: vx_stream_start runs the front (the extra outputs, o->extra_outputs,
 * come back in extra[] then: they must be front values, else the run is whole); each
 * vx_stream_next then computes the next `frames` frames of the first graph output
 * (sliced along its last axis) into out: 1 = a chunk, 0 = done, < 0 = error. With a pool
 * of two or more threads (o->threads > 1), a call asking for the same frames (>= 32) as
 * the one before also makes the window after it, each on one thread, handed out by the
 * next call if it asks for that window (stream.c says why; VOX_WINDOWS_AHEAD=0 turns it
 * off; the windows, and so the bytes, are the same). A window made after the one before
 * it reuses the context that one left at each cut (the carry), and the stages up to the
 * last frame-rate cut run ahead in larger spans (stream.c says why; VOX_WINDOW_CARRY=0,
 * VOX_WINDOW_SPAN=0). The chunks concatenated equal the whole run's output (same sample
 * count; the same bits with kernels that do not depend on the window: all but int8,
 * whose activation scales are per block of the times a step runs on, which the schedule
 * of frames asked for decides). Without a proven split (or VOX_WINDOWS=0)
 * the whole graph runs in vx_stream_start and the first chunk is all of it. The inputs
 * are copied; o's pool and cancel flag must outlive the stream. One thread at a time. */
typedef struct vx_stream vx_stream;
int vx_stream_start(const vx_graph *g, const vx_run_opts *o, const vx_tensor *inputs, int n_inputs,
                    vx_tensor *extra, vx_stream **out);
int64_t vx_stream_frames(const vx_stream *s); /* frames of the sentence (1 when whole) */
int vx_stream_windowed(const vx_stream *s);
int vx_stream_done(const vx_stream *s); /* 1 once the last chunk was handed out */
int vx_stream_next(vx_stream *s, int64_t frames, vx_tensor *out);
long vx_stream_pair_runs(void);     /* window pairs made so far (process-wide; for tests) */
long vx_stream_carried_parts(void); /* windows or spans that used a carry (the same) */
long vx_stream_span_parts(void);    /* spans run (the same) */
void vx_stream_free(vx_stream *s);
#endif
