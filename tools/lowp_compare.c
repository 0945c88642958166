/* vox infer --compare: a reduced-precision graph against the FP32 graph of the same model
 * on the same inputs. End to end: sample counts, SNR (the shared README's definition:
 * 10 log10(sum (r - mean r)^2 / sum (o - r)^2)) and a log-mel spectral distance in dB;
 * per layer: the SNR of every reduced-precision step's output (cumulative: each layer
 * sees the upstream error too, so the layer where the SNR drops is the one that hurts).
 *
 * Log-mel distance: STFT (1024-point Hann window, hop 256), 80 triangular mel bands up
 * to rate/2, power in dB floored 80 dB below the reference's loudest band; the distance is
 * the RMS over bands of the dB difference, averaged over frames. */
#include "lowp_compare.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double lowp_snr_db(const float *ref, const float *out, int64_t n) {
    double mean = 0, num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) mean += ref[i];
    mean = n ? mean / (double)n : 0;
    for (int64_t i = 0; i < n; i++) {
        double r = ref[i] - mean, d = (double)out[i] - ref[i];
        num += r * r;
        den += d * d;
    }
    if (den == 0) return INFINITY;
    if (num == 0 || !(den == den)) return -INFINITY;
    return 10.0 * log10(num / den);
}

#define NFFT 1024
#define HOP  256
#define NMEL 80

/* In-place radix-2 complex FFT of NFFT points. */
static void fft(double *re, double *im) {
    for (int i = 1, j = 0; i < NFFT; i++) {
        int bit = NFFT >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i];
            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
    }
    for (int len = 2; len <= NFFT; len <<= 1) {
        double ang = -2 * M_PI / len;
        for (int i = 0; i < NFFT; i += len)
            for (int k = 0; k < len / 2; k++) {
                double wr = cos(ang * k), wi = sin(ang * k);
                double xr = re[i + k + len / 2], xi = im[i + k + len / 2];
                double tr = xr * wr - xi * wi, ti = xr * wi + xi * wr;
                re[i + k + len / 2] = re[i + k] - tr;
                im[i + k + len / 2] = im[i + k] - ti;
                re[i + k] += tr;
                im[i + k] += ti;
            }
    }
}

static double hz_to_mel(double f) { return 2595.0 * log10(1.0 + f / 700.0); }
static double mel_to_hz(double m) { return 700.0 * (pow(10.0, m / 2595.0) - 1.0); }

/* mel[f][b] power of frame f, band b; returns frames (0 on OOM or a short signal). */
static int64_t log_mel(const float *x, int64_t n, int rate, double **out) {
    int64_t frames = n >= NFFT ? (n - NFFT) / HOP + 1 : 0;
    *out = NULL;
    if (!frames) return 0;
    double *mel = malloc((size_t)(frames * NMEL) * sizeof *mel);
    double *re = malloc(NFFT * sizeof *re), *im = malloc(NFFT * sizeof *im);
    double edges[NMEL + 2];
    if (!mel || !re || !im) {
        free(mel);
        free(re);
        free(im);
        return 0;
    }
    for (int b = 0; b < NMEL + 2; b++)
        edges[b] = mel_to_hz(hz_to_mel(rate / 2.0) * b / (NMEL + 1)) * NFFT / rate; /* in bins */
    for (int64_t f = 0; f < frames; f++) {
        for (int i = 0; i < NFFT; i++) {
            re[i] = x[f * HOP + i] * (0.5 - 0.5 * cos(2 * M_PI * i / NFFT));
            im[i] = 0;
        }
        fft(re, im);
        for (int b = 0; b < NMEL; b++) {
            double s = 0;
            for (int k = (int)ceil(edges[b]); k <= (int)floor(edges[b + 2]) && k <= NFFT / 2; k++) {
                double w = k <= edges[b + 1]
                               ? (k - edges[b]) / (edges[b + 1] - edges[b] + 1e-12)
                               : (edges[b + 2] - k) / (edges[b + 2] - edges[b + 1] + 1e-12);
                if (w > 0) s += w * (re[k] * re[k] + im[k] * im[k]);
            }
            mel[f * NMEL + b] = s;
        }
    }
    free(re);
    free(im);
    *out = mel;
    return frames;
}

double lowp_logmel_db(const float *ref, const float *out, int64_t n, int rate) {
    double *mr, *mo;
    int64_t fr = log_mel(ref, n, rate, &mr), fo = log_mel(out, n, rate, &mo);
    double d = NAN;
    if (fr && fo == fr) {
        double peak = 0;
        for (int64_t i = 0; i < fr * NMEL; i++)
            if (mr[i] > peak) peak = mr[i];
        double floor_ = peak * 1e-8 + 1e-30, sum = 0;
        for (int64_t f = 0; f < fr; f++) {
            double e = 0;
            for (int b = 0; b < NMEL; b++) {
                double a = 10 * log10(fmax(mr[f * NMEL + b], floor_));
                double c = 10 * log10(fmax(mo[f * NMEL + b], floor_));
                e += (a - c) * (a - c);
            }
            sum += sqrt(e / NMEL);
        }
        d = sum / fr;
    }
    free(mr);
    free(mo);
    return d;
}

int lowp_compare_layers(const vx_graph *ref, const vx_graph *low, const vx_run_opts *base,
                        const vx_tensor *in, FILE *report) {
    int n = vx_graph_lowp_outputs(low, NULL, 0);
    if (n <= 0) {
        fprintf(report, "compare: no reduced-precision layers\n");
        return 0;
    }
    const char **names = calloc((size_t)n, sizeof *names);
    if (!names) return -1;
    vx_graph_lowp_outputs(low, names, n);
    int nin = vx_graph_n_inputs(ref), nout = vx_graph_n_outputs(ref), rc = 0;
    fprintf(report, "%-4s %-60s %9s %9s\n", "#", "layer output (reduced-precision step)", "SNR dB",
            "drop dB");
    double prev = INFINITY;
    for (int b0 = 0; b0 < n && !rc; b0 += VX_GRAPH_MAX_EXTRA_OUTPUTS) {
        int nb = n - b0 < VX_GRAPH_MAX_EXTRA_OUTPUTS ? n - b0 : VX_GRAPH_MAX_EXTRA_OUTPUTS;
        vx_tensor *o1 = calloc((size_t)(nout + nb), sizeof *o1),
                  *o2 = calloc((size_t)(nout + nb), sizeof *o2);
        vx_run_opts o = *base;
        o.extra_outputs = names + b0;
        o.n_extra_outputs = nb;
        o.profile = NULL;
        o.stats = NULL;
        if (!o1 || !o2 || vx_graph_run(ref, &o, in, nin, o1) || vx_graph_run(low, &o, in, nin, o2))
            rc = -1;
        for (int i = 0; !rc && i < nb; i++) {
            const vx_tensor *a = &o1[nout + i], *c = &o2[nout + i];
            double s = a->numel == c->numel && a->dtype == VX_FLOAT && c->dtype == VX_FLOAT
                           ? lowp_snr_db(a->data, c->data, a->numel)
                           : NAN;
            fprintf(report, "%-4d %-60.60s %9.2f %9.2f\n", b0 + i, names[b0 + i], s,
                    isfinite(prev) && isfinite(s) ? prev - s : 0.0);
            prev = s;
        }
        for (int i = 0; o1 && i < nout + nb; i++) vx_tensor_release(&o1[i]);
        for (int i = 0; o2 && i < nout + nb; i++) vx_tensor_release(&o2[i]);
        free(o1);
        free(o2);
    }
    free(names);
    return rc;
}
