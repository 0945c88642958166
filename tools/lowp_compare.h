/* Reduced precision against FP32 (vox infer --compare): signal measures and the per-layer
 * report. */
#ifndef VOX_LOWP_COMPARE_H
#define VOX_LOWP_COMPARE_H
#include "engine/graph.h"
#include <stdint.h>
#include <stdio.h>

/* SNR of out against ref in dB, ref's mean removed (+inf when identical). */
double lowp_snr_db(const float *ref, const float *out, int64_t n);
/* Mean log-mel spectral distance in dB (NaN when shorter than one 1024-sample frame). */
double lowp_logmel_db(const float *ref, const float *out, int64_t n, int rate);
/* Runs both graphs on in and prints, in execution order, the SNR of every reduced-precision
 * step's output in low against the same value in ref. Returns 0 or -1 (run failure). */
int lowp_compare_layers(const vx_graph *ref, const vx_graph *low, const vx_run_opts *base,
                        const vx_tensor *in, FILE *report);
#endif
